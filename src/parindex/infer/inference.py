"""What the published record proves: exact bounds over every table consistent with it.

Everything published for one index and year becomes a *claim*: a province's value or rank,
the leader, the last place, the maximum, minimum, range, mean or median, a published tier
list, an announced count. The unknown table is the vector of the N provincial values, and
the claims are linear constraints on it, some of them with binary variables (which open
rank slot a province fills, which province attains the maximum, whether a value is at or
above a cut-off). Every figure this module returns is the optimum of a mixed-integer
programme solved by HiGHS (through ``highspy``): a true minimum or maximum over
*all* tables that satisfy the claims, not a bound computed province by province. The method
is set out in docs/method.md.

Conventions (each one keeps the set of admissible tables a superset of the real ones):

* Values live on the ministry's publication grid of 0.01 and are held in hundredths. A value
  published with two decimals is that grid point; with fewer decimals it is the interval its
  rounding allows, both ends included (the rounding rule is not published); a value typed with
  more decimals is kept as it is. A user's table is taken at face value.
* Published ranks follow the documented tie rule (ties share the best place): a province of
  rank r has exactly r - 1 provinces strictly above it. The provinces without a published rank
  therefore fill the open rank slots, as many between two published ranks as the gap leaves.
* The leader is at least every other value and the last place at most; a maximum, minimum,
  range, mean or median published with k decimals holds to that rounding.
* Every published fact is a claim the bounds use by default: announced counts and regional
  means too (``without`` leaves kinds out). A province's bounds use its own region's mean;
  national figures use every claim but the regional means (docs/method.md §4.3). Facts that
  link two years are checked in the audit, not used for bounds (§4.4).
* A cut-off no source states is a variable (``Cut``), within what the record allows (§7.1).
* Claims that cannot hold together are found by QuickXplain (the smallest set of claims that
  conflict); from each set the claims whose removal alone restores consistency are preferred,
  and among them the weakest goes (national facts before provincial figures, derived before
  stated, counts before values); the bounds rest on the rest (§5).
* An answer is accepted only with HiGHS's proof; otherwise the proven bound is returned as an
  outer bound and counted (``unproven``).
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field
from typing import Iterable

import pandas as pd

from . import answers, cache, claims, conflicts, cores, milp, model, solving
from .answers import (FactCheck, _count_ranges, _cut_ranges, _inside, _meets, _needs_counts, _own_groups, _percent,
                      _province_answers, _quantity_range, _status, _tier_check)
from .claims import (CONSISTENT, CONTRADICTED, GRID, Claim, _signature, claims_for, has_cut, joint, own_region,
                     rule_bands, used)
from .conflicts import Conflict, _region_conflicts, find_conflicts
from .cores import pmap
from .solving import Problem

@dataclass
class Inference:
    """Everything one index-year's record proves, under the stated assumptions."""

    problem: Problem
    codes: list[str]
    rs: object
    without: frozenset[str]
    claims: list[Claim]
    conflicts: list[Conflict]
    provinces: pd.DataFrame  # by code: lo, hi (percent), possible (list), group, group_basis
    count_ranges: dict[str, tuple[int, int]]
    checks: list[FactCheck]
    other: list[tuple] = field(default_factory=list)  # published facts that are not claims on the values
    unproven: int = 0  # answers that are outer bounds: a solve ended without a proof of optimality
    cut_ranges: dict[str, tuple[float, float]] = field(default_factory=dict)  # unstated cut-off -> allowed
    # the group counts the record allows without any announced count (what the counts add)
    count_ranges_without_counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    _slots: list[dict] | None = None

    @property
    def assume_announced(self) -> bool:
        """The announced counts are among the claims the bounds use (the default)."""
        return "counts" not in self.without

    @property
    def proven(self) -> bool:
        return self.unproven == 0

    @property
    def active(self) -> list[Claim]:
        aside = {k for c in self.conflicts for k in c.set_aside}
        return [c for c in self.claims if c.key not in aside and used(c, self.without)]

    @property
    def assumptions(self) -> list[str]:
        out = ["values_on_publication_grid", "ranks_ties_share_best_place"]
        if self.rs is not None:
            out.append("classification_rules")
        act = self.active
        for fam, name in (("counts", "announced_counts"), ("regions", "regional_means"),
                          ("changes", "change_extremes")):
            if any(c.family == fam for c in act):
                out.append(name)
        if any(c.secondary for c in act):
            out.append("secondary_sources")
        if self.conflicts:
            out.append("conflicting_claims_set_aside")
        return out

    def kth_ranges(self, ks: list[int]) -> dict[int, tuple[float, float] | None]:
        """For each k, the least and greatest k-th largest value (hundredths) over the national
        claims: solved in parallel once, then kept in the inference cache, each k for any later
        set of ks (a report asks for a few places, a review for every place; the Inference
        itself is cached without them)."""
        active = joint(self.active)
        key = cache.key("kth-ranges", self.problem.n, self.problem.strict_ranks, [repr(c) for c in active])
        return cache.cached_items(key, ks, lambda missing: pmap(lambda k: self.problem.kth_range(active, k), missing))

    def _place_can_hold(self, label: str, first: int, last: int) -> bool:
        """Whether some place first..last can be in group ``label``, by the group counts alone.

        Groups are bands of value and places are ranks of value, so the place-s unit is in the
        j-th band from the top only if fewer than s units are in the bands above it and at least
        s are in it or above. The sums of the count ranges bound those numbers, so a band that
        fails the test is impossible (a necessary condition: what passes may still be excluded
        by the solver). With an unstated cut-off this is what rules out "the top tier" at
        place 7 when six units are announced in it."""
        bands = rule_bands(self.rs)
        if not bands or len(bands) != len(getattr(self.rs, "rules", ())) or \
                any(lab not in self.count_ranges for lab in bands):
            return True  # rules other than bands, or a count unknown: no ordering to rest on

        def top(lab: str) -> float:
            low = bands[lab][0]
            return float("-inf") if low is None else float(getattr(low, "nominal", low))

        order = sorted(bands, key=top, reverse=True)
        j = order.index(label)
        min_above = sum(self.count_ranges[lab][0] for lab in order[:j])
        max_through = sum(self.count_ranges[lab][1] for lab in order[:j + 1])
        return last > min_above and first <= max_through

    def slot_ranges(self) -> list[dict]:
        """Open rank slots (no published rank) with the values and groups their occupants can have."""
        if self._slots is not None:
            return self._slots
        ranks = [c.rank for c in self.active if c.kind == "rank"]
        taken: set[int] = set()
        for r in set(ranks):  # provinces sharing rank r hold places r, r + 1, ...
            taken.update(range(r, r + ranks.count(r)))
        n = self.problem.n
        open_slots = [s for s in range(1, n + 1) if s not in taken]
        runs: list[list[int]] = []
        for s in open_slots:
            if runs and runs[-1][-1] == s - 1:
                runs[-1].append(s)
            else:
                runs.append([s])
        bands = rule_bands(self.rs)

        def forced(lo: float, hi: float) -> str | None:
            inside = [lab for lab, b in bands.items() if not has_cut(b) and _inside(b, lo, hi)]
            return inside[0] if inside else None

        out = []
        if ranks:
            kth = self.kth_ranges(sorted({s for run in runs for s in (run[0], run[-1])}))
            # a run whose places are not all in one group is split by place: in 2024 places 13
            # and 14 together could be "A or B", but 13 is A and 14 is B (A has 13 members)
            mixed = [run for run in runs if len(run) > 1 and kth[run[0]] and kth[run[-1]]
                     and forced(kth[run[-1]][0], kth[run[0]][1]) is None]
            if inner := sorted({s for run in mixed for s in run[1:-1]}):
                kth |= self.kth_ranges(inner)
            by_counts = {s: tuple(lab for lab in bands if self._place_can_hold(lab, s, s)) for s in open_slots}
            pieces: list[list[int]] = []
            for run in runs:
                parts = [run]
                if run in mixed and all(kth.get(s) for s in run):
                    parts = []
                    for s in run:  # consecutive places with the same forced group (or none) together
                        if parts and forced(*kth[s]) == forced(*kth[parts[-1][-1]]):
                            parts[-1].append(s)
                        else:
                            parts.append([s])
                for part in parts:  # and with the same groups the announced counts allow
                    pieces.append([part[0]])
                    for s in part[1:]:
                        if by_counts[s] == by_counts[pieces[-1][-1]]:
                            pieces[-1].append(s)
                        else:
                            pieces.append([s])
            if missing := sorted({s for piece in pieces for s in (piece[0], piece[-1])} - set(kth)):
                kth |= self.kth_ranges(missing)
            for part in pieces:
                top, bottom = kth[part[0]], kth[part[-1]]
                if top is None or bottom is None:
                    continue
                lo, hi = bottom[0], top[1]
                poss = [lab for lab, b in bands.items() if (has_cut(b) or _meets(b, lo, hi))
                        and self._place_can_hold(lab, part[0], part[-1])]
                group = forced(lo, hi) or (poss[0] if len(poss) == 1 else None)
                out.append({"first": part[0], "last": part[-1], "lo": lo / GRID, "hi": hi / GRID,
                            "possible": poss, "group": group})
        self._slots = out
        return out




def infer(data: pd.DataFrame, index: str, year: int, rs, facts: pd.DataFrame, tiers: pd.DataFrame | None,
          without: Iterable[str] = (), exact_values: bool = False,
          membership: dict[str, tuple[str, ...]] | None = None, previous: pd.DataFrame | None = None,
          secondary_sources: frozenset[str] = frozenset(), convention: str = "published",
          strict_ranks: bool = True, headline: bool = False) -> Inference:
    """Joint bounds, groups, count ranges and fact checks for one index-year.

    Every published fact is a claim the bounds use, unless its kind is in ``without``
    (counts, regions, changes, secondary): then the bounds show what the rest proves alone.
    ``headline``: only the conflicts, the group count ranges and the cut-offs (no province bounds,
    no fact checks), for the convention sensitivity.
    """
    without = frozenset(without)
    claims, other = claims_for(data, index, year, rs, facts, tiers, exact_values, membership=membership,
                               previous=previous, secondary_sources=secondary_sources, convention=convention)
    p = Problem(len(data), list(data["province"]), claims, strict_ranks=strict_ranks)
    complete = bool(data["value"].notna().all())
    # a complete table is the data: conflicts are sought among the published facts
    background = [c for c in claims if complete and c.kind in ("value", "rank")]
    conflicts = find_conflicts(p, joint(claims), background=background)
    conflicts += _region_conflicts(p, claims, conflicts, background)
    aside = {k for c in conflicts for k in c.set_aside}
    base = [c for c in claims if c.key not in aside]
    active = [c for c in base if used(c, without)]
    bands = rule_bands(rs)
    if headline:
        mean = next((c for c in joint(active) if c.kind == "mean"), None)
        checks = [] if mean is None else [FactCheck(mean, CONSISTENT, _quantity_range(p, [c for c in joint(active)
                                                                                              if c.key != mean.key], mean))]
        out = Inference(p, list(data.index), rs, without, claims, conflicts, pd.DataFrame(),
                        _count_ranges(p, joint(active), rs, bands), checks, other, unproven=p.unproven,
                        cut_ranges=_percent(_cut_ranges(p, joint(active), bands)))
        p.forget_tables()
        return out
    cut_ranges = _cut_ranges(p, joint(active), bands)
    answers = _province_answers(p, active, rs, bands, cut_ranges)
    own = _own_groups(claims, p.n, bands) if rs is not None and rs.is_band else [None] * p.n
    # which groups the counts decide: one question per distinct situation, on the cores
    ask = {}
    for i in range(p.n):
        if answers[i]["group"] is not None and own[i] != answers[i]["group"]:
            ask.setdefault((_signature(i, active), answers[i]["group"]), i)
    needs = dict(zip(ask, pmap(lambda k: _needs_counts(p, own_region(active, ask[k]), ask[k], k[1], bands),
                               list(ask))))
    rows = []
    for i, code in enumerate(data.index):
        a = answers[i]
        if a["group"] is None:
            basis = "unknown"
        elif own[i] == a["group"]:
            basis = "value"
        elif not needs[(_signature(i, active), a["group"])]:
            basis = "record"
        else:
            basis = "announced_counts"
        rows.append({"code": code, "lo": None if a["lo"] is None else a["lo"] / GRID,
                     "hi": None if a["hi"] is None else a["hi"] / GRID, "possible": list(a["possible"]),
                     "group": a["group"], "group_basis": basis})
    provinces = pd.DataFrame(rows).set_index("code")
    counts = _count_ranges(p, joint(active), rs, bands)
    no_counts = [c for c in joint(active) if c.family != "counts"]
    plain_counts = counts if len(no_counts) == len(joint(active)) else _count_ranges(p, no_counts, rs, bands)

    by_key = {c.key: c for c in claims}
    in_conflict: dict[str, list[Conflict]] = {}
    for cf in conflicts:
        for k in cf.claims:
            in_conflict.setdefault(k, []).append(cf)

    def check(c: Claim) -> FactCheck:
        # leave one out: each fact against all the others the bounds use (regional means one
        # region at a time: see own_region)
        ref = [x for x in joint(active) if x.key != c.key]
        if c.key in in_conflict:
            others = [by_key[k] for cf in in_conflict[c.key] for k in cf.claims if k != c.key]
            rng = None if c.kind == "tier" else _quantity_range(p, ref, c)
            return FactCheck(c, CONTRADICTED, rng, conflict=list(dict.fromkeys(others)), set_aside=c.key in aside)
        if c.kind == "tier":
            return _tier_check(p, ref, c)
        rng = _quantity_range(p, ref, c)
        return FactCheck(c, CONTRADICTED if rng is None else _status(c, rng), rng)

    checks = pmap(check, [c for c in claims if c.kind not in ("value", "rank", "change")])
    p.forget_tables()
    return Inference(p, list(data.index), rs, without, claims, conflicts, provinces, counts, checks, other,
                     unproven=p.unproven, cut_ranges=_percent(cut_ranges), count_ranges_without_counts=plain_counts)


# The facade ------------------------------------------------------------------------------------
# This module was the whole inference before it was split by job; every name it had is still
# here, so ``from parindex.infer.inference import Claim`` and ``inf._Model`` keep working.
PARTS = (claims, cores, milp, model, solving, conflicts, answers)
for _part in PARTS:
    for _name, _value in vars(_part).items():
        if not _name.startswith("__") and not isinstance(_value, types.ModuleType):
            globals().setdefault(_name, _value)
del _part, _name, _value


class _Facade(types.ModuleType):
    """Setting a name here sets it where the code reads it too: a test's
    ``monkeypatch.setattr("parindex.infer.inference._WORKERS", 1)`` reaches ``pmap`` in
    cores.py, as it did when pmap lived here. Every part holding the same object under that
    name is updated (a name imported from claims into model is one binding in each)."""

    def __setattr__(self, name: str, value: object) -> None:
        if not name.startswith("__"):
            old = self.__dict__.get(name, _MISSING)
            for part in PARTS:
                if old is not _MISSING and part.__dict__.get(name, _MISSING) is old:
                    setattr(part, name, value)
        super().__setattr__(name, value)


_MISSING = object()
sys.modules[__name__].__class__ = _Facade
