"""Each unit's place in its socio-economic region, as far as the national record decides it.

A unit's place in its region is 1 + the members of the region with a strictly higher value
(ties share the best place, as the national ranks do). The record decides, for two units m and
p, that m is above p, that it is not, or neither:

* both have an active published rank (strict-rank convention): the better rank is above, an
  equal rank is a tie (not above);
* otherwise by their joint bounds: m is above when its least value exceeds p's greatest, and
  not above when its greatest is at most p's least (an exact value is its own bounds, a rounded
  one its rounding's interval);
* p with an active published rank r has exactly r − 1 units above it in the whole country (ties
  share the best place, and places below a published rank hold strictly lower values). When
  the units known to be above already number r − 1, no other unit is; when the undecided ones
  are all needed, every one of them is. Between the two, the region gets at least what the
  undecided units outside it cannot take and at most what is left to take;
* a region's published highest (lowest) value above p's greatest (below p's least): someone of
  the region is above (below) p.

The result is a range [place_min, place_max] that every table consistent with the record
keeps (an outer bound, exact when the two meet); it is not a solver optimum and is never
printed as one. A published place in a region (data/region_ranks.csv) is checked against it.
"""

from __future__ import annotations

import pandas as pd

from .analysis import IndexResult, YearAnalysis, membership
from .claims import GRID, _interval


def _above(res: IndexResult) -> tuple[list[str], dict[str, dict[str, bool | None]], dict[str, int]]:
    """Codes, the pairwise decision above[m][p] (True, False or None = undecided) and the
    active published ranks by code."""
    c = res.classified
    codes = list(c.index)
    inf = res.inference
    strict = bool(getattr(inf.problem, "strict_ranks", False))
    pos_code = list(res.table.data.index)
    ranks: dict[str, int] = {}
    if strict:
        for cl in inf.active:
            if cl.kind == "rank" and cl.province is not None and cl.rank is not None:
                ranks[pos_code[cl.province]] = int(cl.rank)
    lo = {k: (None if pd.isna(v) else float(v)) for k, v in c["lo"].items()}
    hi = {k: (None if pd.isna(v) else float(v)) for k, v in c["hi"].items()}
    # (a published value is already its own bounds where it is exact; a rounded one, "86.5", keeps
    # the interval its rounding allows: taking it as exact decided pairs the record leaves open)

    def decide(m: str, p: str) -> bool | None:
        if m in ranks and p in ranks:
            return ranks[m] < ranks[p]
        if lo[m] is None or lo[p] is None:
            return None  # a unit the record contradicts itself on: nothing is decided for it
        if lo[m] > hi[p]:
            return True
        if hi[m] <= lo[p]:
            return False
        return None

    above = {m: {p: (decide(m, p) if m != p else False) for p in codes} for m in codes}
    return codes, above, ranks


def _regional_extremes(a: YearAnalysis, res: IndexResult, index: str,
                       members: dict[str, tuple[str, ...]]) -> dict[tuple[str, str], tuple[float, float]]:
    """(region, "max" | "min") -> the published figure's interval in hundredths, for the regions'
    highest and lowest values (2024 SIPAS: the Mekong Delta's 86.58 and 80.21). Only a figure the
    bounds agree with is used: no unit of the region certainly above a published highest (below
    a lowest), and one that can reach it."""
    nf = a.bundle.national_facts
    nf = nf[(nf["index"] == res.table.index) & (nf["year"] == a.year) & (nf["status"] != "conflict")
            & nf["fact"].str.match(r"regional_(max|min)_")]
    c = res.classified
    out: dict[tuple[str, str], tuple[float, float]] = {}
    for fact, rows in nf.groupby("fact"):
        if rows["value"].nunique() != 1:
            continue  # sources disagree: the audit's to settle, not used here
        kind, region = fact.split("_", 2)[1], fact.split("_", 2)[2]
        codes = [k for k in members.get(region, ()) if k in c.index]
        if not codes:
            continue
        lo, hi = _interval(rows["value"].iloc[0], "published")
        los = (c.loc[codes, "lo"].astype(float) * GRID).round(6)
        his = (c.loc[codes, "hi"].astype(float) * GRID).round(6)
        if los.isna().any():
            continue
        ok = (los.max() <= hi and his.max() >= lo) if kind == "max" else (his.min() >= lo and los.min() <= hi)
        if ok:
            out[(region, kind)] = (lo, hi)
    return out


def above_in_region(known_in: int, open_in: int, known: int, open_all: int, rank: int | None) -> tuple[int, int]:
    """Least and greatest number of a region's units above a unit: ``known_in`` of its ``known``
    units known to be above are in the region, ``open_in`` of the ``open_all`` undecided ones.
    With a published ``rank``, exactly rank − 1 units are above it in the country."""
    lo, hi = known_in, known_in + open_in
    if rank is not None:
        need = rank - 1 - known
        if 0 <= need <= open_all:  # (outside, the record contradicts itself: the pairwise range stays)
            lo = known_in + max(0, need - (open_all - open_in))
            hi = known_in + min(open_in, need)
    return lo, hi


def region_places(a: YearAnalysis, index: str, members: dict[str, tuple[str, ...]] | None = None) -> pd.DataFrame:
    """Per unit of a region the year's membership is recorded for: region, its size and the
    least and greatest place in it the record allows. Empty where no membership is recorded.
    ``members``: region -> unit codes, instead of the membership data/regions.csv records."""
    res = getattr(a, index)
    cols = ["code", "province", "region", "n_region", "place_min", "place_max"]
    if res is None:
        return pd.DataFrame(columns=cols)
    if members is None:
        members = membership(a.bundle, res.table.index, a.year, a.bundle.units(a.year))
    if not members:
        return pd.DataFrame(columns=cols)
    codes, above, ranks = _above(res)
    region_of = {k: r for r, ks in members.items() for k in ks}
    extremes = _regional_extremes(a, res, index, members)
    rows = []
    for p in codes:
        region = region_of.get(p)
        if region is None:
            continue
        known = [m for m in codes if above[m][p] is True]
        open_ = [m for m in codes if above[m][p] is None]
        lo_n, hi_n = above_in_region(sum(region_of.get(m) == region for m in known),
                                     sum(region_of.get(m) == region for m in open_), len(known), len(open_),
                                     ranks.get(p))
        top, bottom = extremes.get((region, "max")), extremes.get((region, "min"))
        p_lo, p_hi = res.classified.at[p, "lo"], res.classified.at[p, "hi"]
        # compared in hundredths rounded off float noise (82.71 * 100 is 8271.000000000001)
        if top is not None and not pd.isna(p_hi) and round(float(p_hi) * GRID, 6) < top[0]:
            lo_n = max(lo_n, 1)  # the region's highest is above it: someone of the region is
        if bottom is not None and not pd.isna(p_lo) and round(float(p_lo) * GRID, 6) > bottom[1]:
            hi_n = min(hi_n, len(members[region]) - 2)  # and someone of the region is below it
        hi_n = max(hi_n, lo_n)
        rows.append({"code": p, "province": res.classified.at[p, "province"], "region": region,
                     "n_region": len(members[region]), "place_min": lo_n + 1, "place_max": hi_n + 1})
    return pd.DataFrame(rows, columns=cols).set_index("code", drop=False)
