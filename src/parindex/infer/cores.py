"""Independent programmes on the machine's cores."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

_WORKERS = max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


def pmap(fn, items: Sequence) -> list:
    """Map over independent queries on the machine's cores.

    Each query builds and solves its own HiGHS model, and HiGHS releases the GIL while it
    solves, so threads run them in parallel (results are identical to a serial run; a test
    compares them). No process is forked, so this is safe inside a Jupyter kernel."""
    items = list(items)
    workers = min(_WORKERS, len(items))
    if workers <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(workers) as ex:
        return list(ex.map(fn, items))
