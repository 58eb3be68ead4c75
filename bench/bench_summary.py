"""Benchmark: `parindex summary --year Y --json` for every bundled year, with the joint inference.

For each year: the wall time of the whole command (a new process, imports included), cold
(an empty inference cache, so every bound is solved) and warm (the cache from the cold run),
median of N runs each. Targets (issue 18): at most 2 s per year warm and 10 s cold, on 2 cores.

Usage: python bench/bench_summary.py [--runs N] [--years 2018,2020]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WARM, COLD = 2.0, 10.0  # seconds, each year


def _run(year: int, cache: str) -> float:
    env = dict(os.environ, PARINDEX_CACHE=cache)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "parindex.cli", "summary", "--year", str(year), "--json"], check=True,
                   stdout=subprocess.DEVNULL, env=env, cwd=ROOT)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--years", default="")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from parindex.infer.analysis import load_bundle

    years = [int(y) for y in args.years.split(",") if y] or load_bundle().years()
    print(f"{'year':>6} {'cold s':>8} {'warm s':>8}  targets: cold <= {COLD:g} s, warm <= {WARM:g} s")
    worst_cold = worst_warm = 0.0
    for y in years:
        cold, warm = [], []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as d:
                cold.append(_run(y, d))
                warm.append(_run(y, d))
        c, w = statistics.median(cold), statistics.median(warm)
        worst_cold, worst_warm = max(worst_cold, c), max(worst_warm, w)
        print(f"{y:>6} {c:>8.2f} {w:>8.2f}")
    print(f"worst: cold {worst_cold:.2f} s ({'met' if worst_cold <= COLD else 'not met'}), "
          f"warm {worst_warm:.2f} s ({'met' if worst_warm <= WARM else 'not met'})")


if __name__ == "__main__":
    main()
