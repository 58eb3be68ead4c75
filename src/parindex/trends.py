"""Year-by-year national series from the published facts; a year without a figure is a gap."""

from __future__ import annotations

import pandas as pd

from .analysis import Bundle
from .tables import decimals, most_precise

SERIES = ("mean_63", "max", "min", "leader", "last_place")


def _pick(rows: pd.DataFrame) -> tuple[str | None, str, bool]:
    """Most precise published value, its sources, and whether sources disagree."""
    best, sources = most_precise(rows)
    if best is None:
        return None, "", False
    vals = list(dict.fromkeys(rows["value"]))
    try:
        nums = [float(v) for v in vals]
        conflict = max(nums) - min(nums) > 0.5 * 10 ** -min(decimals(v) or 0 for v in vals) + 1e-9
    except ValueError:
        conflict = len(vals) > 1
    return best, sources, conflict


def trend(bundle: Bundle, index: str, through: int | None = None) -> pd.DataFrame:
    """One row per year from the first to the last year with any data (or ``through``); missing
    figures are NA. ``units`` is the number of units each year was assessed on: the series runs
    on across the 2025 reorganisation, and the change is marked, not hidden."""
    f = bundle.national_facts[bundle.national_facts["index"] == index]
    years = bundle.years(index)
    if not years:
        return pd.DataFrame()
    rows = []
    for y in range(min(years), max(max(years), through or 0) + 1):
        row: dict[str, object] = {"year": y, "units": len(bundle.units(y))}
        for fact in SERIES:
            v, src, conflict = _pick(f[(f["year"] == y) & (f["fact"] == fact)])
            row[fact] = v
            row[f"{fact}_sources"] = src
            row[f"{fact}_conflict"] = conflict
        rows.append(row)
    out = pd.DataFrame(rows)
    for fact in ("mean_63", "max", "min"):
        out[f"{fact}_num"] = pd.to_numeric(out[fact], errors="coerce")
    return out
