"""What the record proves about each province and each published fact: groups, positions,
counts, cut-offs and the check of every fact against the rest."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from .claims import (CONSISTENT, CONTRADICTED, GRID, OUTSIDE, REPRODUCED, TOL, Band, Claim, Cut, _signature, has_cut,
                     in_band, own_region)
from .cores import pmap
from .solving import Problem

@dataclass
class FactCheck:
    """One published fact checked against all the others."""

    claim: Claim
    status: str
    range: tuple[float, float] | None = None  # what the rest of the record allows (percent or count)
    conflict: list[Claim] = field(default_factory=list)  # the others in its smallest conflicting set
    set_aside: bool = False
    members_forced: int | None = None  # tiers: members the rest of the record already places there
    others_possible: int | None = None  # tiers: non-members that could still be in the tier
    members_open: list[int] = field(default_factory=list)  # tiers: members the rest does not place there




def _meets(band: Band, lo: float, hi: float) -> bool:
    a, b = band
    return (a is None or hi >= a - TOL) and (b is None or lo < b + 1 - TOL)


def _inside(band: Band, lo: float, hi: float) -> bool:
    return in_band(lo, band) and in_band(hi, band)




def _province_answers(p: Problem, active: list[Claim], rs, bands: dict[str, Band],
                      cuts: dict[Cut, tuple[float, float]] | None = None) -> list[dict]:
    """Bounds and possible groups for every province, one solve per distinct situation.

    ``cuts``: the range of each unstated cut-off over ``joint(active)`` (hundredths), which
    settles most group questions without a solve."""
    position = rs is not None and not rs.is_band
    reps: dict[tuple, int] = {}
    for i in range(p.n):
        reps.setdefault(_signature(i, active), i)

    def answer(i: int) -> dict:
        active_i = own_region(active, i)
        return _answer(p, active_i, i, rs, bands, position, cuts or {})

    by_sig = dict(zip(reps, pmap(answer, list(reps.values()))))
    return [by_sig[_signature(i, active)] for i in range(p.n)]




def _cut_side(band: Band, lo: float, hi: float, cuts: dict[Cut, tuple[float, float]]) -> bool | None:
    """Whether a value in [lo, hi] is surely in (True) or surely out of (False) a band with an
    unstated cut-off, given the cut-offs' ranges; None when only a solve can tell."""
    a, b = band
    surely_in = True
    for end, lower in ((a, True), (b, False)):
        if end is None:
            continue
        if isinstance(end, Cut):
            if end not in cuts:
                return None
            t_lo, t_hi = cuts[end]
            if lower:  # x >= t
                if hi < t_lo - TOL:
                    return False
                surely_in &= lo >= t_hi - TOL
            else:  # x < t
                if lo > t_hi - 1 + TOL:
                    return False
                surely_in &= hi <= t_lo - 1 + TOL
        else:
            if lower and hi < end - TOL or not lower and lo > end + TOL:
                return False
            surely_in &= (lo >= end - TOL) if lower else (hi <= end + TOL)
    return True if surely_in else None


def _answer(p: Problem, active: list[Claim], i: int, rs, bands: dict[str, Band], position: bool,
            cuts: dict[Cut, tuple[float, float]] | None = None) -> dict:
    cuts = cuts or {}
    rng = p.value_range(active, i)
    if rng is None:
        return {"lo": None, "hi": None, "possible": [], "group": None}
    lo, hi = rng
    if position:
        poss = _position_possible(p, active, i, rs)
        return {"lo": lo, "hi": hi, "possible": poss, "group": poss[0] if len(poss) == 1 else None}
    poss = []
    for lab, b in bands.items():
        if has_cut(b):
            side = _cut_side(b, lo, hi, cuts)
            if side or (side is None and p.in_band_possible(active, i, b)):
                poss.append(lab)
            continue
        if not _meets(b, lo, hi):
            continue
        a_, b_ = b
        # a band strictly inside (lo, hi) may still be a hole in the feasible set
        if (a_ is None or lo >= a_ - TOL) or (b_ is None or hi < b_ + 1 - TOL) or \
                p.feasible(active, restrict={i: (a_, b_)}):
            poss.append(lab)
    forced = [lab for lab, b in bands.items() if not has_cut(b) and _inside(b, lo, hi)]
    if len(poss) == 1 and has_cut(bands[poss[0]]) and (
            _cut_side(bands[poss[0]], lo, hi, cuts) or not p.in_band_possible(active, i, bands[poss[0]], False)):
        forced = poss[:]
    # below (or above) every band: the year's rules put such a value in no group. lo and hi
    # are attained, so a table with the value outside exists whenever one of them is.
    if bands and not any(has_cut(b) for b in bands.values()) and (not any(in_band(lo, b) for b in bands.values())
                  or not any(in_band(hi, b) for b in bands.values())):
        poss.append(OUTSIDE)
        if not poss[:-1]:
            forced = [OUTSIDE]
    return {"lo": lo, "hi": hi, "possible": poss, "group": forced[0] if forced else None}


def _position_possible(p: Problem, active: list[Claim], i: int, rs) -> list[str]:
    n = p.n
    windows = {}
    tops = [r for r in rs.rules if r.kind == "top_n"]
    bottoms = [r for r in rs.rules if r.kind == "bottom_n"]
    t = tops[0].n if tops else 0
    b = bottoms[0].n if bottoms else 0
    for r in rs.rules:
        windows[r.label] = ((1, r.n) if r.kind == "top_n" else (n - r.n + 1, n) if r.kind == "bottom_n"
                            else (t + 1, n - b))
    rank = next((c.rank for c in active if c.kind == "rank" and c.province == i), None)
    out = []
    for r in sorted(rs.rules, key=lambda r: r.order):
        lo, hi = windows[r.label]
        if lo > hi:
            continue
        if rank is not None:
            if lo <= rank <= hi:
                out.append(r.label)
        elif p.feasible(active, slots={i: (lo, hi)}):
            out.append(r.label)
    return out


def _count_ranges(p: Problem, active: list[Claim], rs, bands: dict[str, Band]) -> dict[str, tuple[int, int]]:
    if rs is None:
        return {}
    if rs.is_band:
        ranges = pmap(lambda lab: p.count_range(active, (bands[lab],)), rs.labels)
        return {lab: r for lab, r in zip(rs.labels, ranges) if r is not None}
    n = p.n
    fixed = {r.label: r.n for r in rs.rules if r.kind in ("top_n", "bottom_n")}
    return {lab: (fixed[lab], fixed[lab]) if lab in fixed else (n - sum(fixed.values()),) * 2 for lab in rs.labels}


def _quantity_range(p: Problem, ref: list[Claim], c: Claim) -> tuple[float, float] | None:
    if c.kind == "mean":
        r = p.sum_range(ref)
        return None if r is None else (r[0] / p.n / GRID, r[1] / p.n / GRID)
    if c.kind in ("max", "min", "range"):
        r = p.extreme_range(ref, c.kind)
        return None if r is None else (r[0] / GRID, r[1] / GRID)
    if c.kind == "median":
        r = p.median_range(ref)
        return None if r is None else (r[0] / GRID, r[1] / GRID)
    if c.kind == "region_mean":
        r = p.region_range(ref, c.members)
        return None if r is None else (r[0] / len(c.members) / GRID, r[1] / len(c.members) / GRID)
    if c.kind == "change":
        r = p.value_range(ref, c.province)
        return None if r is None else (r[0] / GRID, r[1] / GRID)
    if c.kind == "count":
        return p.count_range(ref, c.bands)
    if c.kind == "n_groups":
        return p.nonempty_range(ref, c.bands)
    if c.kind in ("leader", "last"):
        r = p.lead_margin(ref, c.province, last=c.kind == "last")
        return None if r is None else (r[0] / GRID, r[1] / GRID)
    return None


def _status(c: Claim, rng: tuple[float, float]) -> str:
    lo, hi = rng
    if c.kind in ("leader", "last"):  # range of the margin to the best other province
        return REPRODUCED if hi <= TOL else CONSISTENT if lo <= TOL else CONTRADICTED
    if c.kind in ("count", "n_groups"):
        a, b = c.n
    else:
        a, b = c.lo / GRID, c.hi / GRID
    if a - TOL <= lo and hi <= b + TOL:
        return REPRODUCED
    if hi < a - TOL or lo > b + TOL:
        return CONTRADICTED
    return CONSISTENT




def _cut_ranges(p: Problem, active: list[Claim], bands: dict[str, Band]) -> dict[Cut, tuple[float, float]]:
    """Each unstated cut-off's range over every table consistent with ``active`` (hundredths)."""
    cuts = list(dict.fromkeys(e for b in bands.values() for e in b if isinstance(e, Cut)))
    return {cut: r for cut, r in zip(cuts, pmap(lambda c: p.cut_range(active, c), cuts)) if r is not None}


def _percent(cuts: dict[Cut, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    return {str(c): (lo / GRID, hi / GRID) for c, (lo, hi) in cuts.items()}


def _needs_counts(p: Problem, active: list[Claim], i: int, group: str, bands: dict[str, Band]) -> bool:
    """Whether the announced counts are needed to put province i in ``group`` (its basis)."""
    rest = [c for c in active if c.family != "counts"]
    if len(rest) == len(active):
        return False
    if group == OUTSIDE:
        lo_hi = p.value_range(rest, i)
        return lo_hi is None or any(_meets(b, *lo_hi) for b in bands.values())
    if has_cut(bands[group]):
        return p.in_band_possible(rest, i, bands[group], inside=False)
    a_, b_ = bands[group]
    below = None if a_ is None else (None, a_ - 1)
    above = None if b_ is None else (b_ + 1, None)
    return any(r is not None and p.feasible(rest, restrict={i: r}) for r in (below, above))




def _own_groups(claims: Sequence[Claim], n: int, bands: dict[str, Band]) -> list[str | None]:
    """The group a province's own published value decides, if it does."""
    out: list[str | None] = [None] * n
    for c in claims:
        if c.kind == "value":
            inside = [lab for lab, b in bands.items() if not has_cut(b) and _inside(b, c.lo, c.hi)]
            out[c.province] = inside[0] if inside else None
    return out


def _tier_check(p: Problem, ref: list[Claim], c: Claim) -> FactCheck:
    """Members the rest of the record already places in the tier, and the tier's possible size."""
    forced, open_ = 0, []
    for i in c.members:
        if c.slot_window is None:
            if has_cut(c.bands[0]):
                ok = not p.in_band_possible(ref, i, c.bands[0], inside=False)
            else:
                r = p.value_range(ref, i)
                ok = r is not None and _inside(c.bands[0], r[0], r[1])
        else:
            lo_s, hi_s = c.slot_window
            ok = not p.feasible(ref, slots={i: _complement(lo_s, hi_s, p.n)})
        forced += ok
        if not ok:
            open_.append(i)
    if c.slot_window is None:
        size = p.count_range(ref, c.bands)
    else:
        size = (c.slot_window[1] - c.slot_window[0] + 1,) * 2
    if size is None:
        return FactCheck(c, CONTRADICTED)
    status = REPRODUCED if forced == len(c.members) and size[1] == len(c.members) else CONSISTENT
    return FactCheck(c, status, size, members_forced=forced, others_possible=size[1] - forced, members_open=open_)


def _complement(lo: int, hi: int, n: int) -> tuple[int, int]:
    return (hi + 1, n) if lo == 1 else (1, lo - 1)
