"""Benchmark: `parindex report` against the naive chain of separate commands.

Times, on this machine and in one run, the median wall time of
  A) parindex report --year 2020 --format html,pdf        (one process, Python APIs)
  B) papermill CLI, then `jupyter nbconvert --to html`, then `jupyter nbconvert --to parindex_pdf`
and the peak resident memory of each (the whole process tree, sampled every 20 ms).
Targets (issue 3): A under 8 s, A/B at most 0.5, peak under 500 MiB.
Then C) `parindex brief --province all --year 2020` (63 briefs, HTML and PDF); target under 90 s.

Memory is sampled two ways: the sum of resident set sizes (RSS) over the process tree,
which counts pages shared between forked processes once per process, and the sum of
proportional set sizes (PSS), which splits each shared page among its sharers; PSS is
the memory the run actually occupies. Both are printed.

Usage: python bench/bench_report.py [--runs N] [--no-briefs]
"""

from __future__ import annotations

import argparse
import contextlib
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


def _tree(p: psutil.Process) -> list[psutil.Process]:
    return [p, *p.children(recursive=True)]


def _rss(procs: list[psutil.Process]) -> float:
    total = 0
    for x in procs:
        with contextlib.suppress(psutil.Error):
            total += x.memory_info().rss  # /proc/PID/statm: cheap
    return total / 2**20


def _pss(procs: list[psutil.Process]) -> float:
    total = 0
    for x in procs:
        with contextlib.suppress(psutil.Error):
            total += x.memory_full_info().pss  # /proc/PID/smaps_rollup: walks every mapping
    return total / 2**20


def run_measured(cmds: list[list[str]], cwd: Path) -> tuple[float, float, float]:
    """Wall seconds and peak RSS and PSS (MiB, summed over the process tree) of commands run in sequence."""
    peak = peak_pss = 0.0
    t0 = time.perf_counter()
    for cmd in cmds:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        p = psutil.Process(proc.pid)
        stop = threading.Event()

        def sample() -> None:
            # RSS every 20 ms; PSS, whose reading costs a millisecond or two per process,
            # every 200 ms so that measuring does not take CPU from the run being measured.
            nonlocal peak, peak_pss
            n = 0
            while not stop.is_set():
                try:
                    procs = _tree(p)
                    peak = max(peak, _rss(procs))
                    if n % 10 == 0:
                        peak_pss = max(peak_pss, _pss(procs))
                except psutil.Error:
                    pass
                n += 1
                time.sleep(0.02)

        th = threading.Thread(target=sample, daemon=True)
        th.start()
        _, err = proc.communicate()
        stop.set()
        th.join()
        if proc.returncode != 0:
            raise SystemExit(f"benchmark command failed: {' '.join(cmd)}\n{err.decode()[-2000:]}")
    return time.perf_counter() - t0, peak, peak_pss


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-briefs", action="store_true", help="skip the 63-brief run")
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
        a, b, ra, rb, qa, qb = [], [], [], [], [], []
        for _ in range(args.runs):  # alternate, so drifts in machine load hit both alike
            s, r, q = run_measured(ours, ROOT)
            a.append(s), ra.append(r), qa.append(q)
            s, r, q = run_measured(naive, ROOT)
            b.append(s), rb.append(r), qb.append(q)
        if not args.no_briefs:
            briefs = [[str(BIN / "parindex"), "brief", "--province", "all", "--year", "2020", "--out", str(t / "briefs")]]
            c, rc, qc = run_measured(briefs, ROOT)
            n_files = len(list((t / "briefs").glob("*.pdf")))
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"runs: {args.runs} each, machine: {psutil.cpu_count()} cores")
    print(f"parindex report (html+pdf): median {ma:.2f} s (min {min(a):.2f}, max {max(a):.2f}), "
          f"peak PSS {max(qa):.0f} MiB, peak RSS sum {max(ra):.0f} MiB")
    print(f"naive chain (3 commands):   median {mb:.2f} s (min {min(b):.2f}, max {max(b):.2f}), "
          f"peak PSS {max(qb):.0f} MiB, peak RSS sum {max(rb):.0f} MiB")
    print(f"ratio of medians: {ma / mb:.2f}")
    if not args.no_briefs:
        print(f"63 province briefs (html+pdf, {n_files} PDFs): {c:.1f} s, peak PSS {qc:.0f} MiB, RSS sum {rc:.0f} MiB")


if __name__ == "__main__":
    main()
