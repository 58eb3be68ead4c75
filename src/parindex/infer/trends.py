"""Year-by-year national series from the published facts; a year without a figure is a gap."""

from __future__ import annotations

import pandas as pd

from .analysis import Bundle
from ..data.tables import at_rank, decimals, most_precise

SERIES = ("mean_63", "max", "min", "leader", "last_place")
# the national figure of each index: the mean of the provinces, or SIPAS's national satisfaction rate
HEADLINE = {"sipas": "national_rate"}


def _pick(rows: pd.DataFrame) -> tuple[str | None, str, bool]:
    """Most precise published value, its sources, and whether sources disagree."""
    best, sources = most_precise(rows)
    if best is None:
        return None, "", False
    return best, sources, _differ(*dict.fromkeys(rows["value"]))


# The first and the last unit of a year, and their values: a published rank 1 (or last rank) is
# the leader (last place), and that unit's published value is the maximum (minimum); the
# national facts say the same the other way round. Both give one answer, wherever it is shown.
_ENDS = (("leader", "max", "first"), ("last_place", "min", "last"))


def _ranked(bundle: Bundle, index: str, year: int, which: str) -> tuple[str | None, str, str | None, str]:
    """(name, sources, value as published, sources) of the unit published at the first or last rank."""
    obs = bundle.observations
    if not ((obs["index"] == index) & (obs["year"] == year)).any():
        return None, "", None, ""
    return at_rank(bundle.published(index, year), first=which == "first")


def ends(bundle: Bundle, index: str, year: int) -> dict[str, tuple[str | None, str, bool]]:
    """leader, max, last_place, min of a year: (figure, sources, sources disagree), from the
    national facts, else from the unit published at rank 1 (or last). Once per bundle: the series,
    the briefs and the report all ask."""
    memo = bundle.__dict__.setdefault("_ends", {})
    if (index, year) not in memo:
        memo[(index, year)] = _ends(bundle, index, year)
    return dict(memo[(index, year)])


def _ends(bundle: Bundle, index: str, year: int) -> dict[str, tuple[str | None, str, bool]]:
    f = bundle.national_facts[(bundle.national_facts["index"] == index) & (bundle.national_facts["year"] == year)]
    out = {fact: _pick(f[f["fact"] == fact]) for fact in ("leader", "max", "last_place", "min")}
    for who, fig, which in _ENDS:
        name, nsrc, value, vsrc = _ranked(bundle, index, year, which)
        if out[who][0] is None and name is not None:
            out[who] = (name, nsrc, False)
        if value is None or name != out[who][0]:
            continue
        if out[fig][0] is None:
            out[fig] = (value, vsrc, False)
        elif _differ(out[fig][0], value):
            # the leader's own published value and a national maximum disagree (SIPAS 2024: Hải
            # Phòng 90.59 at rank 1, a maximum of 91.10): the series shows the leader's value,
            # as the key findings do, and marks the year's sources as disagreeing
            out[fig] = (value, ", ".join(x for x in (vsrc, out[fig][1]) if x), True)
    return out


def _differ(*vals: str) -> bool:
    """Published figures that no rounding of one value explains (texts: any two that differ)."""
    try:
        nums = [float(v) for v in vals]
    except ValueError:
        return len(set(vals)) > 1
    return len(nums) > 1 and max(nums) - min(nums) > 0.5 * 10 ** -min(decimals(v) or 0 for v in vals) + 1e-9


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
        e = ends(bundle, index, y)
        for fact in SERIES:
            # SIPAS publishes a national satisfaction rate, not a mean of the provinces: that rate is
            # its national figure (the series' first column, labelled as what it is)
            names = (HEADLINE.get(index, fact),) if fact == "mean_63" else (fact,)
            v, src, conflict = e[fact] if fact in e else _pick(f[(f["year"] == y) & f["fact"].isin(names)])
            row[fact] = v
            row[f"{fact}_sources"] = src
            row[f"{fact}_conflict"] = conflict
        rows.append(row)
    out = pd.DataFrame(rows)
    for fact in ("mean_63", "max", "min"):
        out[f"{fact}_num"] = pd.to_numeric(out[fact], errors="coerce")
    return out


def headline_label(L, index: str, tr: pd.DataFrame) -> str:
    """What the series' first column is: SIPAS's national rate, or the mean of the year's units."""
    if index in HEADLINE:
        return L("kf.sipas_rate")
    return L("fact.mean") if "units" in tr and tr["units"].nunique() > 1 else L("fact.mean_63")
