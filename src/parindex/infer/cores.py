"""Independent programmes on the machine's cores, and stopping them."""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Sequence

from ..proc.lifecycle import wait_result


def _threads() -> int:
    """How many solves run at once: PARINDEX_THREADS when set, else the cores this process may
    use (at most 4). Where other processes already fill every core (several builds side by side,
    the test suite's workers) 1 is right: threads on a busy machine only add switching, and the
    same solves cost a tenth more CPU than on one thread."""
    env = os.environ.get("PARINDEX_THREADS", "").strip()
    if env.isdecimal() and int(env) >= 1:  # isdigit would let "²" through to int()
        return int(env)
    return max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


_WORKERS = _threads()


class Cancelled(BaseException):
    """The analysis this work was for has been stopped. A BaseException, like KeyboardInterrupt:
    no ``except Exception`` on the way up may take it for a failed query."""


# The stop flag of the analysis a thread works for: set in the threads gather() starts (and in
# theirs), unset in a caller's own thread. One flag per outermost gather(), shared by all below it.
_scope = threading.local()


def check_cancelled() -> None:
    """Raise Cancelled in a worker whose analysis was stopped: called before every solve, so a
    stopped analysis ends its threads after the solve each is in, not after all of them."""
    flag = getattr(_scope, "flag", None)
    if flag is not None and flag.is_set():
        raise Cancelled()


def gather(calls: Sequence[Callable[[], object]], workers: int | None = None) -> list:
    """Run ``calls`` on up to ``workers`` threads and return their results in order.

    A stop (KeyboardInterrupt, SystemExit or Cancelled) while waiting does not wait for the
    threads: a HiGHS solve cannot be interrupted, and waiting for every queued solve kept a stopped
    build running for minutes. The threads' flag is set instead: each ends before its next solve.
    An ordinary error waits for the running calls, as ``with ThreadPoolExecutor()`` does."""
    flag = getattr(_scope, "flag", None) or threading.Event()

    def run(call: Callable[[], object]) -> object:
        _scope.flag = flag
        try:
            if flag.is_set():
                raise Cancelled()
            return call()
        finally:
            _scope.flag = None

    ex = ThreadPoolExecutor(max(1, min(workers or len(calls), len(calls))))
    try:
        futures: list[Future] = [ex.submit(run, c) for c in calls]
        # waited for with the stop checked in between: a stop whose KeyboardInterrupt was lost
        # (raised inside a callback Python ignores exceptions from) still ends the wait
        results = [wait_result(f) for f in futures]
    except (KeyboardInterrupt, SystemExit, Cancelled):
        flag.set()
        ex.shutdown(wait=False, cancel_futures=True)  # shutdown(wait=True) would join them all
        raise
    except BaseException:
        ex.shutdown(wait=True, cancel_futures=True)
        raise
    ex.shutdown(wait=True)
    return results


def pmap(fn, items: Sequence) -> list:
    """Map over independent queries on the machine's cores.

    Each query builds and solves its own HiGHS model, and HiGHS releases the GIL while it
    solves, so threads run them in parallel (results are identical to a serial run; a test
    compares them). No process is forked, so this is safe inside a Jupyter kernel."""
    items = list(items)
    workers = min(_WORKERS, len(items))
    if workers <= 1:
        return [fn(x) for x in items]  # a stop reaches the caller's own thread directly
    return gather([lambda x=x: fn(x) for x in items], workers)
