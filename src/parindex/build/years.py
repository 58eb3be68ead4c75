"""Several years at once: one process per year, a few at a time, unchanged years skipped."""

from __future__ import annotations

from concurrent.futures import as_completed
from pathlib import Path
from typing import Callable

from ..errors import ParindexError
from ..proc.lifecycle import WorkerPool, remove_stale, runtime_parent
from ..data.paths import reports_dir
from .report import FORMATS, BuildResult, build


def _build_one(kwargs: dict) -> BuildResult | ParindexError:
    try:
        return build(**kwargs)
    except ParindexError as e:  # returned, not raised: the other years go on
        return e


def build_all(years: list[int], lang: str = "vi", formats: tuple[str, ...] = FORMATS, out: Path | None = None,
              notebook: str = "yearly_report", workers: int = 2,
              on_done: Callable[[int, BuildResult | ParindexError], None] | None = None,
              without: str = "") -> dict[int, BuildResult | ParindexError]:
    """Build several years, ``workers`` at a time (separate processes), skipping unchanged ones."""
    # Years already run side by side, so each renders its PDF in its own process (no extra workers).
    jobs = {y: dict(year=y, lang=lang, formats=formats, notebook=notebook, skip_unchanged=True, pdf_workers=0,
                    out=(Path(out) / str(y)) if out else None, without=without) for y in years}
    results: dict[int, BuildResult | ParindexError] = {}
    pool = WorkerPool(workers)
    try:
        futures = {pool.submit(_build_one, kw): y for y, kw in jobs.items()}
        for fut in as_completed(futures):
            y = futures[fut]
            results[y] = fut.result()
            if on_done:
                on_done(y, results[y])
    except BaseException:
        # Stopped (or a worker lost): the workers end now, not after the year they are on, and
        # what they left (build folders, kernel folders) goes with them.
        pool.shutdown(abort=True)
        _clean_after_workers([Path(kw["out"]) if kw["out"] else reports_dir() / str(y) for y, kw in jobs.items()])
        raise
    pool.shutdown()
    return dict(sorted(results.items()))


def _clean_after_workers(dests: list[Path]) -> None:
    from .publish import recover

    for d in dests:
        try:
            recover(d)
        except OSError:
            pass
    try:
        remove_stale(runtime_parent(), "pk")
    except (OSError, ParindexError):
        pass
