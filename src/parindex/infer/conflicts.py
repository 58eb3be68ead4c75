"""Claims that cannot hold together: the smallest conflicting sets (QuickXplain) and which
claim of each is set aside."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .claims import Claim, TOL, joint
from .cores import pmap
from .solving import Problem

@dataclass
class Conflict:
    claims: list[str]  # keys of a smallest set of claims that cannot all hold
    set_aside: list[str]  # the keys dropped so that the bounds rest on the rest


def _quickxplain(p: Problem, background: list[Claim], cands: list[Claim]) -> list[Claim]:
    """A minimal subset D of cands with background + D infeasible (Junker's QuickXplain).

    Assumes background + cands is infeasible; O(k log n) feasibility checks for a core of k.
    """
    def qx(bg: list[Claim], delta: bool, cs: list[Claim]) -> list[Claim]:
        if delta and not p.feasible(bg):
            return []
        if len(cs) == 1:
            return cs
        half = len(cs) // 2
        c1, c2 = cs[:half], cs[half:]
        d2 = qx(bg + c1, True, c2)
        d1 = qx(bg + d2, bool(d2), c1)
        return d1 + d2

    return qx(background, False, cands) if cands else []


def find_conflicts(p: Problem, claims: Sequence[Claim], max_sets: int = 8,
                   background: Sequence[Claim] = ()) -> list[Conflict]:
    """Smallest sets of claims that cannot all hold, and what is set aside to go on.

    1. Smallest conflicting sets are found one after another (QuickXplain), each among the
       claims not yet in a set, until the rest holds together.
    2. Each set in turn, against the rest and the sets already settled: the claims whose
       removal alone lets the set's other members hold together with all of those are
       preferred; among them the weakest kind and status go, and claims equally weak are set
       aside together (no tie is broken by an arbitrary order). Only when no single removal
       restores consistency does the weakest of the whole set go.
    3. Whatever the settled sets still conflict on is searched again the same way.
    Every further smallest set that a set-aside claim forms with the rest is listed too, so
    the audit names all of its partners. ``background`` claims (a complete table's values) are
    taken as given: sets are searched among the others.
    """
    fixed = list(background)
    keys = {c.key for c in fixed}
    current = sorted((c for c in claims if c.key not in keys), key=lambda c: c.weakness, reverse=True)
    out: list[Conflict] = []
    aside: list[Claim] = []
    if not p.feasible(fixed):
        return out  # the given table contradicts itself: nothing to choose among
    kept = list(current)
    while len(out) < max_sets and not p.feasible(fixed + kept):
        cores: list[list[Claim]] = []
        pool = list(kept)
        while len(out) + len(cores) < max_sets and not p.feasible(fixed + pool):
            core = _quickxplain(p, fixed, pool)
            if not core:
                break
            cores.append(core)
            pool = [c for c in pool if c not in core]
        if not cores:
            break
        settled = pool
        for core in cores:
            ok = pmap(lambda c: p.feasible(fixed + settled + [x for x in core if x is not c]), core)
            restoring = [c for c, good in zip(core, ok) if good]
            cands = restoring or core
            weakest = min(c.weakness for c in cands)
            drop = [c for c in cands if c.weakness == weakest]
            out.append(Conflict([c.key for c in core], [c.key for c in drop]))
            aside += drop
            settled = settled + [c for c in core if c not in drop]
        kept = settled
    def partner_sets(c: Claim) -> list[list[Claim]]:
        bg, found = list(kept), []
        if not p.feasible(fixed + [c]):
            return found  # it conflicts with the given table alone: no partners to name
        for _ in range(3):
            if p.feasible(fixed + bg + [c]):
                break
            partners = _quickxplain(p, fixed + [c], bg)
            found.append(partners)
            bg = [x for x in bg if x not in partners]
        return found

    # each set-aside claim's partners are independent searches: on the cores, then in order
    seen = {frozenset(cf.claims) for cf in out}
    for c, sets in zip(aside, pmap(partner_sets, aside)):
        for partners in sets:
            key = frozenset([c.key] + [x.key for x in partners])
            if key not in seen:
                seen.add(key)
                out.append(Conflict([c.key] + [x.key for x in partners], [c.key]))
    return out


# From the bundled record to claims ---------------------------------------------------------


def _region_conflicts(p: Problem, claims: list[Claim], found: list[Conflict],
                      background: list[Claim]) -> list[Conflict]:
    """Regional means against the rest of the record, one region at a time, and together with
    the national mean where the regions cover every unit (their weighted sum is the total)."""
    regions = [c for c in claims if c.kind == "region_mean"]
    if not regions:
        return []
    aside = {k for cf in found for k in cf.set_aside}
    kept = [c for c in joint(claims) if c.key not in aside]
    out = []
    for c in regions:
        if not p.feasible(background + kept + [c]):
            partners = _quickxplain(p, background + [c], kept)
            out.append(Conflict([c.key] + [x.key for x in partners], [c.key]))
    covered = set().union(*(set(c.members) for c in regions))
    by_members = {}
    for c in regions:
        by_members.setdefault(frozenset(c.members), []).append(c)
    for mean in (c for c in kept if c.kind == "mean"):
        if covered != set(range(p.n)) or any(len(v) > 1 for v in by_members.values()):
            continue
        lo = sum(len(c.members) * c.lo for c in regions)
        hi = sum(len(c.members) * c.hi for c in regions)
        if hi < p.n * mean.lo - TOL or lo > p.n * mean.hi + TOL:
            out.append(Conflict([mean.key] + [c.key for c in regions], [c.key for c in regions]))
    return out
