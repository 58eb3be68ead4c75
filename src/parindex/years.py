"""Several years at once: one process per year, a few at a time, unchanged years skipped."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Callable

from .errors import ParindexError
from .lifecycle import die_with_parent
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
    with ProcessPoolExecutor(max_workers=workers, initializer=die_with_parent) as pool:
        futures = {pool.submit(_build_one, kw): y for y, kw in jobs.items()}
        for fut in as_completed(futures):
            y = futures[fut]
            results[y] = fut.result()
            if on_done:
                on_done(y, results[y])
    return dict(sorted(results.items()))
