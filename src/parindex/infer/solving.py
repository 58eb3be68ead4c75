"""One index-year's programme: its N unknown values and every claim about them, and the bounds,
feasibility and ranges HiGHS proves over it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from .claims import Band, Claim, Cut, DOMAIN, TOL, _signature, has_cut, in_band_at, places
from .model import Table, _SlotModel, _bound_cuts

@dataclass
class Problem:
    """The N unknown values of one index-year and every claim published about them."""

    n: int
    names: list[str]
    claims: list[Claim]
    _feasible: dict[frozenset, bool] = field(default_factory=dict)
    _values: dict[tuple, tuple[float, float] | None] = field(default_factory=dict)
    # tables proven solves ended at, by the claims they hold (``seen``): each shows a group every
    # province it places can be in, without another solve. Dropped before an inference is cached.
    _witness: dict[frozenset, list[Table]] = field(default_factory=dict)
    _proven: set[frozenset] = field(default_factory=set)  # claims with a table all on the grid: it holds their subsets too
    unproven: int = 0  # answers that are outer bounds (a solve ended without a proof of optimality)
    strict_ranks: bool = True  # convention: a province ranked below another has a lower published value

    def build(self, active: Iterable[Claim], restrict: dict[int, tuple[float | None, float | None]] | None = None,
              slots: dict[int, tuple[int, int]] | None = None, pull: Iterable[int] = (),
              regions: Iterable[frozenset] = (), within: dict[int, tuple[Band, bool]] | None = None) -> _SlotModel:
        """The model of ``active``; ``regions``: sets of provinces whose sum a query needs
        (``m.region_sum[S]``), modelled as a published regional mean's region is."""
        active = list(active)
        n = self.n
        m = _SlotModel(n)
        m.owner, m.claims_key = self, frozenset(c.key for c in active)
        m.narrowed = bool(restrict or slots or within)  # a query's own restriction: not every table of the claims
        own_lo = [float(DOMAIN[0])] * n
        own_hi = [float(DOMAIN[1])] * n
        window: dict[int, tuple[int, int]] = {}
        leader, last, rank, claimed = set(), set(), {}, set()
        cut_members: list[tuple[int, Band]] = []  # tier members bound by an unstated cut-off
        by_kind: dict[str, list[Claim]] = {}
        for c in active:
            by_kind.setdefault(c.kind, []).append(c)
            if c.kind in ("value", "change"):
                own_lo[c.province] = max(own_lo[c.province], c.lo)
                own_hi[c.province] = min(own_hi[c.province], c.hi)
                claimed.add(c.province)
            elif c.kind == "rank":
                if c.province in rank:
                    m.infeasible = True
                rank[c.province] = c.rank
            elif c.kind == "leader":
                leader.add(c.province)
                claimed.add(c.province)
            elif c.kind == "last":
                last.add(c.province)
                claimed.add(c.province)
            elif c.kind == "tier":
                for i in c.members:
                    claimed.add(i)
                    if c.slot_window is None:
                        (a, b), = c.bands
                        if has_cut((a, b)):
                            cut_members.append((i, (a, b)))
                            a = None if isinstance(a, Cut) else a
                            b = None if isinstance(b, Cut) else b
                        own_lo[i] = max(own_lo[i], a if a is not None else DOMAIN[0])
                        if b is not None:
                            fine = own_lo[i] == own_hi[i] and not float(own_lo[i]).is_integer()
                            own_hi[i] = min(own_hi[i], b + 1 - TOL if fine else b)
                    else:
                        w0, w1 = window.get(i, (1, n))
                        window[i] = (max(w0, c.slot_window[0]), min(w1, c.slot_window[1]))
        # A published list of the whole top (or bottom) band, with an announced count of that
        # band equal to the list's length: the list is the band, so its members hold the top
        # (bottom) places. Implied by the two claims; it spares the programme the places the
        # members cannot take.
        for c in by_kind.get("tier", []):
            if c.slot_window is not None or len(c.bands) != 1:
                continue
            (a, b), = c.bands
            k = len(c.members)
            if (a is None) == (b is None) or not any(
                    cc.bands == c.bands and cc.n[1] == k for cc in by_kind.get("count", [])):
                continue
            for i in c.members:
                w0, w1 = window.get(i, (1, n))
                window[i] = (max(w0, 1), min(w1, k)) if b is None else (max(w0, n - k + 1), min(w1, n))
        for i, (a, b) in (slots or {}).items():
            w0, w1 = window.get(i, (1, n))
            window[i] = (max(w0, a), min(w1, b))
        for i in range(n):
            if own_lo[i] > own_hi[i] + TOL:
                m.infeasible = True
        # slots of the ranked provinces
        by_rank: dict[int, list[int]] = {}
        for i, r in rank.items():
            by_rank.setdefault(r, []).append(i)
        slot_lo = [float(DOMAIN[0])] * n
        slot_hi = [float(DOMAIN[1])] * n
        fixed_frac = [False] * n
        for r, members in by_rank.items():
            for k, i in enumerate(sorted(members)):
                s = r - 1 + k
                if s >= n or s in m.slot_of.values():
                    m.infeasible = True
                    return m
                m.slot_of[i] = s
                slot_lo[s], slot_hi[s] = max(slot_lo[s], own_lo[i]), min(slot_hi[s], own_hi[i])
                if own_lo[i] == own_hi[i] and not float(own_lo[i]).is_integer():
                    fixed_frac[s] = True
                if i in window and not window[i][0] <= r <= window[i][1]:
                    m.infeasible = True
        ranked_slots = set(m.slot_of.values())
        m.open = [s for s in range(n) if s not in ranked_slots]
        # slots whose value is below the slot above (under the convention that ranks follow the
        # published values; ranked on unrounded scores, two rounded values may be equal)
        strict = sorted({r - 1 for r in by_rank if r > 1}) if self.strict_ranks else []
        # cheap sound propagation along the order (smaller big-M, fewer binaries)
        # (a whole grid step only between grid values; next to a value off the grid the strict
        # row itself does the work)
        for s in range(1, n):
            step = 1 if s in strict and not (fixed_frac[s] or fixed_frac[s - 1]) else 0
            slot_hi[s] = min(slot_hi[s], slot_hi[s - 1] - step)
        for s in range(n - 2, -1, -1):
            step = 1 if s + 1 in strict and not (fixed_frac[s] or fixed_frac[s + 1]) else 0
            slot_lo[s] = max(slot_lo[s], slot_lo[s + 1] + step)
        for c in by_kind.get("max", []):
            slot_hi = [min(h, c.hi) for h in slot_hi]
        for c in by_kind.get("min", []):
            slot_lo = [max(lo, c.lo) for lo in slot_lo]
        # An unranked value off the grid (a user's 85.456) must fit an open place exactly: the
        # open places then leave the grid. Bounds stay true, but may be looser than the grid's.
        off_grid = any(own_lo[i] == own_hi[i] and not float(own_lo[i]).is_integer()
                       for i in claimed if i not in m.slot_of)
        open_set = set(m.open)
        for s in range(n):
            if slot_lo[s] > slot_hi[s] + TOL:
                m.infeasible = True
                return m
            lo, hi = slot_lo[s], slot_hi[s]
            integer = not (lo == hi and not float(lo).is_integer()) and not (off_grid and s in open_set)
            if integer:
                lo, hi = math.ceil(lo - TOL), math.floor(hi + TOL)
            m.y.append(m.var(lo, hi, integer=integer and lo != hi))
        y = m.y
        for s in range(n - 1):
            m.row({y[s]: 1, y[s + 1]: -1}, lo=m.eps(y[s], y[s + 1]) if s + 1 in strict else 0)
        for r, members in by_rank.items():
            for k in range(1, len(members)):
                m.row({y[r - 1]: 1, y[r - 1 + k]: -1}, 0, 0)
        # Provinces without a rank but with claims of their own. Most only bound their own value
        # (a value, a rounded value, a band from a published list): they are counted, not placed.
        # Those that need a place of their own (a slot window, the leader or last place without
        # a rank, the province a query is about) are "singles" with a slot choice z and a value x.
        pulled = set(restrict or {}) | set(slots or {}) | set(pull) | set(within or {}) | {i for i, _ in cut_members}
        # Regions (a published regional mean, or a query on a region's sum): which province fills
        # an open place now matters for the sum of its region. Provinces of such a region with
        # nothing of their own are interchangeable within it: a binary w[S, s] says that open
        # place s holds one of them. Provinces with claims of their own are then all singles.
        region_sets = list(dict.fromkeys([frozenset(c.members) for c in by_kind.get("region_mean", [])]
                                         + [frozenset(r) for r in regions]))
        regional: dict[int, frozenset] = {i: S for S in region_sets for i in S}
        anon: dict[frozenset, int] = {}
        bands: dict[tuple[float, float], int] = {}
        singles: list[int] = []
        for i in range(n):
            if i in m.slot_of:
                continue
            if not (i in claimed or i in window or i in pulled):
                if i in regional:
                    anon[regional[i]] = anon.get(regional[i], 0) + 1
                continue
            # A known value on the grid is placed too (among the places the other values leave
            # it): counted, each distinct one cost an indicator at every open place, thousands for
            # a user's table. Off the grid the earlier model stays: its indicators' small step
            # against their big-M is within the solver's integrality tolerance.
            known = own_lo[i] == own_hi[i] and not off_grid
            if i in window or i in leader or i in last or i in pulled or region_sets or known:
                singles.append(i)
            else:
                bands[(own_lo[i], own_hi[i])] = bands.get((own_lo[i], own_hi[i]), 0) + 1
        if len(m.open) < len(singles) + sum(bands.values()) + sum(anon.values()):
            m.infeasible = True
            return m
        M = DOMAIN[1] - DOMAIN[0] + 1
        for i in singles:
            lo, hi = own_lo[i], own_hi[i]
            frac = lo == hi and not float(lo).is_integer()
            x = m.var(lo, hi, integer=not frac and lo != hi and not off_grid)
            m.x_of[i] = x
            zs: dict[int, int] = {}
            win = window.get(i)
            first, last_place = places(i, own_lo, own_hi) if not off_grid else (0, n - 1)
            for s in m.open:
                if (win is not None and not win[0] <= s + 1 <= win[1]) or not first <= s <= last_place:
                    continue
                if m.ub[y[s]] < lo - TOL or m.lb[y[s]] > hi + TOL:
                    continue
                z = m.binary()
                zs[s] = z
                # z = 1 -> x = y_s (big-Ms as small as the bounds allow)
                up, down = max(m.ub[x] - m.lb[y[s]], 0), max(m.ub[y[s]] - m.lb[x], 0)
                m.row({x: 1, y[s]: -1, z: up}, hi=up)
                m.row({x: 1, y[s]: -1, z: -down}, lo=-down)
                if i in leader and s > 0:
                    m.row({y[0]: 1, y[s]: -1, z: M}, hi=M)
                if i in last and s < n - 1:
                    m.row({y[s]: 1, y[n - 1]: -1, z: M}, hi=M)
            if not zs:
                m.infeasible = True
                return m
            m.row({z: 1 for z in zs.values()}, 1, 1)
            m.z_of[i] = zs
        # Singles with the same claims of their own (e.g. five members of a published tier with
        # an unstated cut-off and nothing else) are interchangeable: every table has a twin in
        # which they stand in the order of their index, so that order is imposed. This removes
        # the k! symmetric copies of each solution the branch and bound would otherwise prove
        # one by one; no bound changes. Provinces a query is about are never grouped.
        queried = set(restrict or {}) | set(slots or {}) | set(pull) | set(within or {})
        cut_bands: dict[int, list[Band]] = {}
        for i, band in cut_members:
            cut_bands.setdefault(i, []).append(band)
        twins: dict[tuple, list[int]] = {}
        for i in singles:
            if i not in queried:
                twins.setdefault((own_lo[i], own_hi[i], window.get(i), i in leader, i in last,
                                  repr(cut_bands.get(i)), regional.get(i)), []).append(i)
        for group in twins.values():
            for i, j in zip(group, group[1:]):
                row = {z: float(s) for s, z in m.z_of[i].items()}
                for s, z in m.z_of[j].items():
                    row[z] = row.get(z, 0.0) - s
                m.row(row, hi=-1)
        ws: dict[frozenset, dict[int, int]] = {}
        for S, k in anon.items():
            ws[S] = {s: m.binary() for s in m.open}
            m.row({w: 1 for w in ws[S].values()}, k, k)
        for s in m.open:
            zs = {m.z_of[i][s]: 1 for i in singles if s in m.z_of[i]}
            zs.update({w[s]: 1 for w in ws.values()})
            if len(zs) > 1:
                m.row(zs, hi=1)
        m.region_sum = {}
        for S in region_sets:
            expr: dict[int, float] = {-1: 0.0}
            for i in S:
                if i in m.slot_of:
                    expr[y[m.slot_of[i]]] = expr.get(y[m.slot_of[i]], 0) + 1
                elif i in m.x_of:
                    expr[m.x_of[i]] = 1.0
            for s, w in ws.get(S, {}).items():
                # v = y_s when place s holds one of the region's anonymous provinces, else 0
                lo_s, hi_s = m.lb[y[s]], m.ub[y[s]]
                v = m.var(min(0.0, lo_s), hi_s, integer=False)
                m.row({v: 1, w: -lo_s}, lo=0)
                m.row({v: 1, w: -hi_s}, hi=0)
                m.row({v: 1, y[s]: -1, w: -lo_s}, hi=-lo_s)  # v <= y_s - lo_s (1 - w)
                m.row({v: 1, y[s]: -1, w: -hi_s}, lo=-hi_s)  # v >= y_s - hi_s (1 - w)
                expr[v] = 1.0
            m.region_sum[S] = expr
        # Hall's condition for points on a line: the counted provinces fit into the open slots
        # exactly when every value window [a, b] holds at least as many open slots (not taken by
        # a single) as there are counted provinces whose own interval lies inside it.
        # Only windows that are the hull of the intervals inside them, and whose intervals
        # overlap into one piece, can bind: any other window's condition follows from those.
        lows = sorted({lo for lo, _ in bands})
        highs = sorted({hi for _, hi in bands})
        for a_ in lows:
            for b_ in highs:
                if b_ < a_:
                    continue
                inside = sorted((lo, hi) for lo, hi in bands if lo >= a_ - TOL and hi <= b_ + TOL)
                if not inside or inside[0][0] != a_ or max(hi for _, hi in inside) != b_:
                    continue
                reach, connected = inside[0][1], True
                for lo, hi in inside[1:]:
                    if lo > reach + 1 + TOL:
                        connected = False
                        break
                    reach = max(reach, hi)
                if not connected:
                    continue
                need = sum(bands[iv] for iv in inside)
                band = (None if a_ <= DOMAIN[0] else a_, None if b_ >= DOMAIN[1] else b_)
                acc: dict[int, float] = {-1: 0.0}
                for s in m.open:
                    m.add_expr(acc, m.indicator(y[s], band))
                for i in singles:
                    m.add_expr(acc, m.indicator(m.x_of[i], band), -1)
                m.bound_row(acc, need, np.inf)
        for i in leader & set(m.slot_of):
            m.row({y[0]: 1, y[m.slot_of[i]]: -1}, hi=0)
        for i in last & set(m.slot_of):
            m.row({y[m.slot_of[i]]: 1, y[n - 1]: -1}, hi=0)
        _bound_cuts(m, by_kind, cut_members)
        # symmetric facts
        for c in by_kind.get("max", []):
            m.tighten(y[0], c.lo, c.hi)
        for c in by_kind.get("min", []):
            m.tighten(y[n - 1], c.lo, c.hi)
        for c in by_kind.get("range", []):
            m.row({y[0]: 1, y[n - 1]: -1}, c.lo, c.hi)
        for c in by_kind.get("mean", []):
            m.row({v: 1 for v in y}, n * c.lo, n * c.hi)
        for c in by_kind.get("region_mean", []):
            S = frozenset(c.members)
            m.bound_row(m.region_sum[S], len(S) * c.lo, len(S) * c.hi)
        for c in by_kind.get("median", []):
            m.bound_row(m.median_expr(), c.lo, c.hi)
        for c in by_kind.get("count", []):
            m.bound_row(m.count_expr(c.bands), c.n[0], c.n[1])
        for c in by_kind.get("n_groups", []):
            m.row(m.nonempty_vars(c.bands), c.n[0], c.n[1])
        m.order_cuts()
        # a query's own restriction on one province
        for i, (a, b) in (restrict or {}).items():
            m.tighten(m.var_of(i), a, b)
        # members of a published tier whose cut-off is unstated: at or above it / below it
        for i, (a, b) in cut_members:
            v = m.var_of(i)
            if isinstance(a, Cut):
                m.row({v: 1, m.cut_var(a): -1}, lo=0)
            if isinstance(b, Cut):
                m.row({v: 1, m.cut_var(b): -1}, hi=-m.eps(v, v))
        for i, (band, inside) in (within or {}).items():
            v = m.var_of(i)
            m.bound_row(m.indicator(v, band), 1 if inside else 0, 1 if inside else 0)
        return m

    # queries
    def feasible(self, active: Iterable[Claim], **kw) -> bool:
        if kw:
            return self.build(active, **kw).solve() is not None
        key = frozenset(c.key for c in active)
        if key not in self._feasible:  # a table that satisfies these claims (and maybe more) is a proof
            self._feasible[key] = any(key <= k for k in list(self._proven)) or self.build(active).solve() is not None
        return self._feasible[key]

    def _range(self, m: _SlotModel, expr: dict[int, float], active: Sequence[Claim] | None = None) \
            -> tuple[float, float] | None:
        if not m.infeasible and all(m.lb[k] == m.ub[k] for k in expr if k != -1):
            # the build's propagation already fixed every variable of the objective
            if not (self.feasible(active) if active is not None else m.solve() is not None):
                return None
            v = expr.get(-1, 0.0) + sum(a * m.lb[k] for k, a in expr.items() if k != -1)
            return v, v
        # the objective at the tables solves of these claims ended at (often an end of its range):
        # one that meets the LP bound is the optimum. Only for a model of the claims alone (a
        # query's narrowing would exclude tables of the claims).
        attained = [v for t in list(self._witness.get(m.claims_key, ()))
                    if (v := m.value_at(t, expr)) is not None] if not m.narrowed else []
        lo = m.solve(expr, attained=attained)
        return None if lo is None else (lo, m.solve(expr, maximize=True, attained=attained))

    def value_range(self, active: Sequence[Claim], i: int) -> tuple[float, float] | None:
        # provinces with the same claims of their own are interchangeable: one answer serves all
        key = (frozenset(c.key for c in active), _signature(i, active))
        if key not in self._values:
            self._values[key] = self._value_range(active, i)
        return self._values[key]

    def _value_range(self, active: Sequence[Claim], i: int) -> tuple[float, float] | None:
        m = self.build(active)
        if m.infeasible:
            return None
        if i in m.slot_of and m.lb[m.y[m.slot_of[i]]] == m.ub[m.y[m.slot_of[i]]]:
            v = m.lb[m.y[m.slot_of[i]]]  # a published value: the range is the value, if the claims hold at all
            return (v, v) if self.feasible(active) else None
        if i not in m.slot_of:
            m = self.build(active, pull=[i])
            if m.infeasible:
                return None
        return self._range(m, {m.var_of(i): 1.0}, active)

    def seen(self, m: _SlotModel, x: np.ndarray) -> None:
        """A proven solve of a model of ``m.claims_key`` (narrowed or not by a query) ended at x."""
        self._witness.setdefault(m.claims_key, []).append(m.table(x))
        if all(m.on_grid(v) for v in m.y):  # a table of hundredths, which every subset of the claims admits
            self._proven.add(m.claims_key)

    def forget_tables(self) -> None:
        """Drop the solved tables (an inference's answers are cached without them)."""
        self._witness.clear()
        self._proven.clear()

    def count_range(self, active: Sequence[Claim], bands: Sequence[Band]) -> tuple[int, int] | None:
        m = self.build(active)
        if m.infeasible:
            return None
        r = self._range(m, m.count_expr(bands), active)
        return None if r is None else (round(r[0]), round(r[1]))

    def nonempty_range(self, active: Sequence[Claim], bands: Sequence[Band]) -> tuple[int, int] | None:
        m = self.build(active)
        if m.infeasible:
            return None
        r = self._range(m, {**m.nonempty_vars(bands), -1: 0.0})
        return None if r is None else (round(r[0]), round(r[1]))

    def sum_range(self, active: Sequence[Claim]) -> tuple[float, float] | None:
        m = self.build(active)
        if m.infeasible:
            return None
        return self._range(m, {v: 1.0 for v in m.y})

    def extreme_range(self, active: Sequence[Claim], which: str) -> tuple[float, float] | None:
        m = self.build(active)
        if m.infeasible:
            return None
        y0, yn = m.y[0], m.y[-1]
        expr = {y0: 1.0} if which == "max" else {yn: 1.0} if which == "min" else {y0: 1.0, yn: -1.0}
        return self._range(m, expr, active)

    def region_range(self, active: Sequence[Claim], members: Iterable[int]) -> tuple[float, float] | None:
        """Range of the sum of the values of ``members`` (a region)."""
        S = frozenset(members)
        m = self.build(active, regions=[S])
        return None if m.infeasible else self._range(m, m.region_sum[S], active)

    def cut_range(self, active: Sequence[Claim], cut: Cut) -> tuple[float, float] | None:
        """Range of an unstated cut-off over every table consistent with ``active``."""
        m = self.build(active)
        if m.infeasible:
            return None
        return self._range(m, {m.cut_var(cut): 1.0}, active)

    def in_band_possible(self, active: Sequence[Claim], i: int, band: Band, inside: bool = True) -> bool:
        """Whether province i can be inside (or outside) a band, whatever its cut-offs.

        A table an earlier solve proved consistent with ``active`` answers "yes" when it has the
        province there; "no" (and any band the tables seen do not show) takes a solve."""
        tables = self._witness.get(frozenset(c.key for c in active), [])
        if any(i in t.values and in_band_at(t.values[i], band, t.cuts) == inside for t in list(tables)):
            return True
        return self.feasible(active, within={i: (band, inside)})

    def kth_range(self, active: Sequence[Claim], k: int) -> tuple[float, float] | None:
        """Range of the k-th largest value (k = 1 is the maximum)."""
        m = self.build(active)
        return None if m.infeasible else self._range(m, {m.y[k - 1]: 1.0}, active)

    def median_range(self, active: Sequence[Claim]) -> tuple[float, float] | None:
        m = self.build(active)
        return None if m.infeasible else self._range(m, m.median_expr(), active)

    def lead_margin(self, active: Sequence[Claim], i: int, last: bool = False) -> tuple[float, float] | None:
        """Range of (best other value - x_i); for last place, of (x_i - lowest other value)."""
        n = self.n

        def margin(m: _SlotModel, s: int) -> dict[int, float]:
            y = m.y
            if not last:
                return {y[1]: 1.0, y[0]: -1.0} if s == 0 else {y[0]: 1.0, y[s]: -1.0}
            return {y[n - 1]: 1.0, y[n - 2]: -1.0} if s == n - 1 else {y[s]: 1.0, y[n - 1]: -1.0}

        out = []
        for maximize in (False, True):
            m = self.build(active, pull=[i])
            if m.infeasible:
                return None
            if i in m.slot_of:
                r = m.solve(margin(m, m.slot_of[i]), maximize=maximize)
            else:
                # t = the margin at the chosen slot; every bound and big-M as small as the slots'
                # own bounds allow (loose ones made HiGHS fail with a solve error)
                def span(e: dict[int, float]) -> tuple[float, float]:
                    lo = sum(a * (m.lb[k] if a > 0 else m.ub[k]) for k, a in e.items())
                    hi = sum(a * (m.ub[k] if a > 0 else m.lb[k]) for k, a in e.items())
                    return lo, hi

                spans = {s: span(margin(m, s)) for s in m.z_of[i]}
                t_lo, t_hi = min(a for a, _ in spans.values()), max(b for _, b in spans.values())
                t = m.var(t_lo, t_hi, False)
                for s, v in m.z_of[i].items():
                    e = {k: -a for k, a in margin(m, s).items()}
                    e[t] = 1.0
                    lo_s, hi_s = spans[s]
                    if maximize:  # z = 1 -> t <= margin_s
                        big = max(t_hi - lo_s, 0.0)
                        e[v] = big
                        m.row(e, hi=big)
                    else:  # z = 1 -> t >= margin_s
                        big = max(hi_s - t_lo, 0.0)
                        e[v] = -big
                        m.row(e, lo=-big)
                r = m.solve({t: 1.0}, maximize=maximize)
            if r is None:
                return None
            out.append(r)
        return out[0], out[1]
