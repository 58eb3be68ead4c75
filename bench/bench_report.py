"""Benchmark: `parindex report` against the naive chain of separate commands.

Times, on this machine and in one run, the median wall time of
  A) parindex report --year 2020 --format html,pdf        (one process, Python APIs)
  B) papermill CLI, then `jupyter nbconvert --to html`, then `jupyter nbconvert --to parindex_pdf`
and the peak resident memory of each (the whole process tree, sampled every 20 ms).
Targets (issue 3): A under 8 s, A/B at most 0.5, peak under 500 MiB.
Then C) `parindex brief --province all --year 2020` (63 briefs, HTML and PDF); target under 90 s.

Usage: python bench/bench_report.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run_measured(cmds: list[list[str]], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB, summed over the process tree) of commands run in sequence."""
    peak = 0.0
    t0 = time.perf_counter()
    for cmd in cmds:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        p = psutil.Process(proc.pid)
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                try:
                    procs = [p, *p.children(recursive=True)]
                    rss = sum(x.memory_info().rss for x in procs if x.is_running())
                    peak = max(peak, rss / 2**20)
                except psutil.Error:
                    pass
                time.sleep(0.02)

        th = threading.Thread(target=sample, daemon=True)
        th.start()
        _, err = proc.communicate()
        stop.set()
        th.join()
        if proc.returncode != 0:
            raise SystemExit(f"benchmark command failed: {' '.join(cmd)}\n{err.decode()[-2000:]}")
    return time.perf_counter() - t0, peak


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    nb = ROOT / "notebooks" / "yearly_report.ipynb"
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        ours = [[str(BIN / "parindex"), "report", "--year", "2020", "--format", "html,pdf", "--out", str(t / "ours")]]
        executed = t / "naive" / "report.ipynb"
        executed.parent.mkdir()
        naive = [
            [str(BIN / "papermill"), str(nb), str(executed), "-p", "year", "2020", "-k", "python3",
             "--cwd", str(nb.parent), "--no-progress-bar"],
            [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(executed)],
            [str(BIN / "jupyter"), "nbconvert", "--to", "parindex_pdf", "--no-input", str(executed)],
        ]
        run_measured(ours, ROOT)  # warm caches (bytecode, font cache) for both chains
        a, b, pa, pb = [], [], [], []
        for _ in range(args.runs):
            s, m = run_measured(ours, ROOT)
            a.append(s)
            pa.append(m)
            s, m = run_measured(naive, ROOT)
            b.append(s)
            pb.append(m)
        briefs = [[str(BIN / "parindex"), "brief", "--province", "all", "--year", "2020", "--out", str(t / "briefs")]]
        c, pc = run_measured(briefs, ROOT)
        n_files = len(list((t / "briefs").glob("*.pdf")))
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"runs: {args.runs} each, machine: {psutil.cpu_count()} cores")
    print(f"parindex report (html+pdf): median {ma:.2f} s, peak {max(pa):.0f} MiB")
    print(f"naive chain (3 commands):   median {mb:.2f} s, peak {max(pb):.0f} MiB")
    print(f"ratio: {ma / mb:.2f}")
    print(f"63 province briefs (html+pdf, {n_files} PDFs): {c:.1f} s, peak {pc:.0f} MiB")


if __name__ == "__main__":
    main()
