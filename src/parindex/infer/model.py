"""The mixed-integer model of one set of claims: the sorted-table formulation the solver proves
bounds on (parindex.infer.inference describes the method)."""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import numpy as np

from .claims import Band, Claim, Cut, DOMAIN, TOL
from .cores import check_cancelled
from .milp import _csc, highs

# The model ------------------------------------------------------------------------------

class Table(NamedTuple):
    """A table a proven solve ended at: the values the model places, its unstated cut-offs, and
    its sorted values (None when one is off the grid)."""

    values: dict[int, float]
    cuts: dict[Cut, float]
    slots: tuple[float, ...] | None


class _Model:
    """A small MILP builder: integer value variables x_i (hundredths) and helper variables."""

    def __init__(self, n: int, lo: Sequence[float], hi: Sequence[float], integral: Sequence[bool]):
        self.n = n
        self.lb: list[float] = []
        self.ub: list[float] = []
        self.integ: list[int] = []
        self.r: list[int] = []
        self.c: list[int] = []
        self.v: list[float] = []
        self.rlo: list[float] = []
        self.rhi: list[float] = []
        self.infeasible = False
        self.outer = False  # a solve ended without a proof of optimality: its answer is an outer bound
        self.fixed_int = list(integral)
        for i in range(n):
            self.var(lo[i], hi[i], integer=integral[i] and lo[i] != hi[i])
        self._ge: dict[tuple[int, float], int | float] = {}
        self._cuts: set[tuple[int, int]] = set()
        self._cutvars: dict[Cut, int] = {}

    # variables and rows
    def var(self, lb: float, ub: float, integer: bool = True) -> int:
        self.lb.append(lb)
        self.ub.append(ub)
        self.integ.append(1 if integer else 0)
        return len(self.lb) - 1

    def binary(self) -> int:
        return self.var(0, 1, True)

    def on_grid(self, k: int) -> bool:
        return self.integ[k] == 1 or (self.lb[k] == self.ub[k] and float(self.lb[k]).is_integer())

    def row(self, coefs: dict[int, float], lo: float = -np.inf, hi: float = np.inf) -> None:
        if all(float(a).is_integer() and self.on_grid(j) for j, a in coefs.items()):
            # an integer combination of grid values is an integer: round the bounds inward
            lo = math.ceil(lo - TOL) if np.isfinite(lo) else lo
            hi = math.floor(hi + TOL) if np.isfinite(hi) else hi
        k = len(self.rlo)
        for j, a in coefs.items():
            if a:
                self.r.append(k)
                self.c.append(j)
                self.v.append(a)
        self.rlo.append(lo)
        self.rhi.append(hi)

    def eps(self, i: int, j: int) -> float:
        """Smallest step of x_i - x_j above 0: one grid step between grid values."""
        return 1.0 if self.on_grid(i) and self.on_grid(j) else 1e-3

    def cut_var(self, cut: Cut) -> int:
        """The variable of an unstated cut-off (on the grid: values are), ordered like the nominal values."""
        if cut not in self._cutvars:
            t = self.var(DOMAIN[0], DOMAIN[1] + 1, integer=True)
            for other, v in self._cutvars.items():
                if other.nominal < cut.nominal:
                    self.row({v: 1, t: -1}, hi=0)
                elif other.nominal > cut.nominal:
                    self.row({t: 1, v: -1}, hi=0)
            self._cutvars[cut] = t
        return self._cutvars[cut]

    def ge(self, i: int, t: float | Cut) -> int | float:
        """Indicator of x_i >= t (t in hundredths): a constant when the bounds decide it."""
        if isinstance(t, Cut):
            key = (i, t)
            if key not in self._ge:
                v = self.cut_var(t)
                step = 1.0 if self.on_grid(i) else 1e-3
                # big-Ms as small as the bounds of x and of the cut-off allow (a tight relaxation)
                m1 = max(self.ub[v] - self.lb[i], 0.0)
                m0 = max(self.ub[i] - self.lb[v] + step, 0.0)
                if m1 == 0:  # x >= t whatever the values
                    self._ge[key] = 1.0
                elif self.ub[i] - self.lb[v] <= -step:  # x < t whatever the values
                    self._ge[key] = 0.0
                else:
                    u = self.binary()
                    self.row({i: 1, v: -1, u: -m1}, lo=-m1)  # u = 1 -> x >= t
                    self.row({i: 1, v: -1, u: -m0}, hi=-step)  # u = 0 -> x < t
                    self._ge[key] = u
            return self._ge[key]
        if self.integ[i]:
            t = math.ceil(t - TOL)  # an integer value is >= t exactly when it is >= ceil(t)
        key = (i, t)
        if key in self._ge:
            return self._ge[key]
        lb, ub = self.lb[i], self.ub[i]
        if lb >= t - TOL:
            out: int | float = 1.0
        elif ub < t - TOL:
            out = 0.0
        else:
            u = self.binary()
            # u = 1 -> x >= t ; u = 0 -> x < t: x <= t - 1 on the grid, t - 0.001 off it
            step = 1.0 if self.integ[i] else 1e-3
            self.row({i: 1, u: -(t - lb)}, lo=lb)
            self.row({i: 1, u: -(ub - t + step)}, hi=t - step)
            out = u
        self._ge[key] = out
        return out

    def order_cuts(self) -> None:
        """The slots are sorted, so each threshold's indicators are too: u(y_s >= t) >= u(y_s+1 >= t).

        Valid for every table, and it makes the LP relaxation of a count nearly integral."""
        slot = {v: s for s, v in enumerate(getattr(self, "y", []))}
        by_t: dict[float, list[tuple[int, int]]] = {}
        for (i, t), u in self._ge.items():
            if not isinstance(u, float) and i in slot:
                by_t.setdefault(t, []).append((slot[i], u))
        for us in by_t.values():
            us.sort()
            for (_, u1), (_, u2) in zip(us, us[1:]):
                self._imply(u2, u1)
        self._nest_thresholds()

    def _imply(self, u_hi: int, u_lo: int) -> None:
        """The row u_lo >= u_hi, once."""
        if (u_lo, u_hi) not in self._cuts:
            self._cuts.add((u_lo, u_hi))
            self.row({u_lo: 1, u_hi: -1}, lo=0)

    def _nest_thresholds(self) -> None:
        """A value's indicators of two unstated cut-offs nest: x >= upper implies x >= lower.

        Valid for every table: each indicator is exact both ways and cut_var keeps the cut-offs
        in order. It keeps a band's indicator, u(x >= lower) - u(x >= upper), from going
        negative in the LP relaxation; without it a count between two unstated cut-offs
        relaxes far below zero (SIPAS 2020: -46 against the optimum 0) and the branch and
        bound has to close that gap. (Rows for stated thresholds too were tried: every
        answer the same, 2022 and 2023 slower.)
        """
        by_i: dict[int, list[tuple[Cut, int]]] = {}
        for (i, t), u in self._ge.items():
            if isinstance(t, Cut) and not isinstance(u, float):
                by_i.setdefault(i, []).append((t, u))
        for ts in by_i.values():
            for t1, u1 in ts:
                for t2, u2 in ts:
                    if t1.nominal < t2.nominal:
                        self._imply(u2, u1)

    def indicator(self, i: int, band: Band) -> dict[int, float] | float:
        """x_i in band, as a linear expression {var: coef} plus constant (key -1)."""
        a, b = band
        expr: dict[int, float] = {-1: 0.0}
        # in the band: at least a, and not above b (the next grid point, or just above b off it)
        above = None if b is None else b if isinstance(b, Cut) else (b + 1 if float(b).is_integer() else b + 1e-3)
        for t, sign in ((a, 1), (above, -1)):
            if t is None:
                if sign == 1:
                    expr[-1] += 1
                continue
            g = self.ge(i, t)
            if isinstance(g, float):
                expr[-1] += sign * g
            else:
                expr[g] = expr.get(g, 0) + sign
        return expr

    def add_expr(self, acc: dict[int, float], expr: dict[int, float], scale: float = 1) -> None:
        for k, a in expr.items():
            acc[k] = acc.get(k, 0) + scale * a

    def bound_row(self, expr: dict[int, float], lo: float, hi: float) -> None:
        const = expr.get(-1, 0.0)
        coefs = {k: a for k, a in expr.items() if k != -1}
        if not coefs:
            if not (lo - TOL <= const <= hi + TOL):
                self.infeasible = True
            return
        self.row(coefs, lo - const, hi - const)

    def tighten(self, i: int, lo: float | None = None, hi: float | None = None) -> None:
        if lo is not None and lo > self.lb[i]:
            self.lb[i] = lo if not self.integ[i] else math.ceil(lo - TOL)
        if hi is not None and hi < self.ub[i]:
            self.ub[i] = hi if not self.integ[i] else math.floor(hi + TOL)
        if self.lb[i] > self.ub[i] + TOL:
            self.infeasible = True

    # solving
    def solve(self, objective: dict[int, float] | None = None, maximize: bool = False,
              attained: Sequence[float] = ()) -> float | None:
        """Optimum of the objective (None when infeasible); feasibility when objective is None.
        ``attained``: values of the objective (without its constant) at tables known to hold the
        model's claims; one that meets the LP bound proves the optimum without a branch and bound."""
        check_cancelled()
        if self.infeasible:
            return None
        nv = len(self.lb)
        c = np.zeros(nv)
        const = 0.0
        for k, a in (objective or {}).items():
            if k == -1:
                const += a
            else:
                c[k] += -a if maximize else a
        A = _csc(self.r, self.c, self.v, len(self.rlo), nv) if self.rlo else None
        lb, ub = np.array(self.lb, dtype=float), np.array(self.ub, dtype=float)
        rlo, rhi = np.array(self.rlo, dtype=float), np.array(self.rhi, dtype=float)
        integ = np.array(self.integ)
        # The LP relaxation first: infeasible there means infeasible, and an optimum that is
        # already integral is the integer optimum. Most queries end here, at a quarter of the cost.
        res = highs(c, None, lb, ub, A, rlo, rhi, presolve=False)
        if res.status not in (0, 2):  # a numerical failure is not a proof of anything: try once more
            res = highs(c, None, lb, ub, A, rlo, rhi, presolve=True)
        if res.status == 2:
            return None
        if res.status != 0 or res.x is None:
            raise RuntimeError(f"the LP solver stopped without a proof (status {res.status}: {res.message})")
        if not np.all(np.abs(res.x[integ == 1] - np.round(res.x[integ == 1])) <= 1e-9):
            best = self._certify(res.x, c, res.fun, A, integ, [-v if maximize else v for v in attained])
            if best is not None:
                return (-best if maximize else best) + const
            lp_bound = float(res.fun)
            # mip_rel_gap 0: the optimum itself, not one within HiGHS's default 0.01 %.
            # Presolve stays off: HiGHS's MIP presolve (scipy 1.17's copy, and highspy 1.15) declares
            # some of these models infeasible although a checked solution exists (a test keeps the
            # SIPAS 2020 case), and once returned a feasible non-optimal point as "optimal".
            res = highs(c, integ, lb, ub, A, rlo, rhi, presolve=False, time_limit=60.0, mip_rel_gap=0.0)
            if res.status == 2:
                return None
            if res.status != 0 or res.x is None:
                # No proof of optimality (time limit, numerical trouble). A feasible point found is
                # not the optimum, and an error is not "infeasible": what is proven is the bound
                # below the optimum (HiGHS's dual bound, or the LP relaxation's). It is kept as an
                # outer bound, and the inference says which figures rest on one.
                dual = getattr(res, "mip_dual_bound", None)
                val = lp_bound if dual is None or not np.isfinite(dual) else max(float(dual), lp_bound)
                self.outer = True
                owner = getattr(self, "owner", None)
                if owner is not None:
                    owner.unproven += 1
                return (-val if maximize else val) + const
        if res.status != 0:
            raise RuntimeError(f"solver stopped without a proof (status {res.status}: {res.message})")
        self._ended_at(res.x)
        val = float(c @ res.x)
        return (-val if maximize else val) + const

    def _ended_at(self, x: np.ndarray) -> None:
        """A proven solve ended at table x: its owner (the Problem) may keep it as a witness."""
        owner = getattr(self, "owner", None)
        if owner is not None:
            owner.seen(self, x)

    @staticmethod
    def _integral(c: np.ndarray, integ: np.ndarray) -> bool:
        """Whether the objective takes integer values on integer points (integer coefficients on
        integer variables only): then ceil(LP bound) bounds the integer optimum too."""
        return not (np.any(c[integ != 1] != 0) or np.any(c != np.round(c)))

    def _certify(self, x: np.ndarray, c: np.ndarray, bound: float, A, integ: np.ndarray,
                 attained: Sequence[float] = ()) -> float | None:
        """An integer point whose objective meets the LP bound rounded up proves the integer optimum.

        The LP optimum bounds the integer optimum from below; when the objective takes integer
        values on integer points, ceil(bound) does too. A rounding of the LP point that is
        feasible and attains it is therefore optimal, and the branch and bound is not needed; so
        is a table known to hold the claims whose objective (``attained``, minimised) attains it.
        """
        if not self._integral(c, integ):
            return None
        isint = integ == 1
        target = math.ceil(bound - 1e-7)
        lb, ub = np.array(self.lb), np.array(self.ub)
        rlo, rhi = np.array(self.rlo), np.array(self.rhi)
        for rnd in (np.round, np.floor, np.ceil):
            z = x.copy()
            z[isint] = rnd(x[isint] + (1e-9 if rnd is np.floor else -1e-9 if rnd is np.ceil else 0))
            if np.any(z < lb - 1e-9) or np.any(z > ub + 1e-9):
                continue
            if A is not None:
                ax = A @ z
                if np.any(ax < rlo - 1e-7) or np.any(ax > rhi + 1e-7):
                    continue
            val = float(c @ z)
            if abs(val - target) <= 1e-7:
                self._ended_at(z)
                return val
        return float(target) if any(abs(v - target) <= 1e-7 for v in attained) else None


# The problem -----------------------------------------------------------------------------
#
# The model works on the *sorted* table: y_1 >= y_2 >= ... >= y_N, the value in each rank slot.
# A province with published rank r holds slot r (tied ranks hold consecutive slots with equal
# values) and, by the tie rule, y_{r-1} > y_r. Provinces without a rank share the open slots.
# Those with nothing of their own (no value, no list, no place) are interchangeable, so they
# need no variables at all; provinces with their own claims but no rank are grouped by those
# claims, and a binary z[g, s] says that slot s holds a member of group g. Symmetric facts
# (maximum, mean, counts, median) are linear in y. This keeps the programme small and free of
# the symmetry that makes an assignment of 63 provinces to 63 places slow to prove optimal.

class _SlotModel(_Model):
    """The sorted-table model of one set of claims."""

    def __init__(self, n: int):
        super().__init__(0, [], [], [])
        self.n = n
        self.y: list[int] = []
        self.slot_of: dict[int, int] = {}  # ranked province -> slot (0-based)
        self.x_of: dict[int, int] = {}  # single -> its value variable
        self.z_of: dict[int, dict[int, int]] = {}  # single -> open slot -> binary
        self.open: list[int] = []
        self.narrowed = False  # set by Problem.build: a query restricts the claims' tables

    def var_of(self, i: int) -> int:
        """Province i's value: its place's if it is ranked, else its own variable."""
        return self.y[self.slot_of[i]] if i in self.slot_of else self.x_of[i]

    def table(self, x: np.ndarray) -> Table:
        """The table a solution x is: the value of each province the model places (ranked ones,
        singles), each unstated cut-off, and the sorted values (when all are on the grid).
        Values off the grid are left out: they do not compare exactly with a cut-off."""
        placed = {i: self.var_of(i) for i in [*self.slot_of, *self.x_of]}
        return Table({i: float(round(x[v])) for i, v in placed.items() if self.on_grid(v)},
                     {cut: float(round(x[t])) for cut, t in self._cutvars.items()},
                     tuple(float(round(x[v])) for v in self.y) if all(self.on_grid(v) for v in self.y) else None)

    def value_at(self, table: Table, expr: dict[int, float]) -> float | None:
        """``expr`` (without its constant) at a table of this model's claims, from the table's own
        values: the sorted values, the places' and singles' values, the unstated cut-offs and the
        indicators of "x >= t" (exact both ways, as ``ge`` makes them). None when a variable is
        none of these (an open place's binary, a region's sum): the table does not say."""
        slot = {v: s for s, v in enumerate(self.y)}
        cut_of = {v: cut for cut, v in self._cutvars.items()}
        own = {v: i for i, v in self.x_of.items()}
        ind = {u: key for key, u in self._ge.items() if not isinstance(u, float)}

        def val(v: int) -> float | None:
            if v in slot:
                return None if table.slots is None else table.slots[slot[v]]
            if v in cut_of:
                return table.cuts.get(cut_of[v])
            if v in own:
                return table.values.get(own[v])
            if v in ind:
                i, t = ind[v]
                x, bound = val(i), val(self._cutvars[t]) if isinstance(t, Cut) else t
                if x is None or bound is None or not self.on_grid(i):
                    return None
                return 1.0 if (x >= bound if isinstance(t, Cut) else x >= bound - TOL) else 0.0
            return None

        total = 0.0
        for v, a in expr.items():
            if v == -1 or not a:
                continue
            got = val(v)
            if got is None:
                return None
            total += a * got
        return total

    def median_expr(self) -> dict[int, float]:
        n = self.n
        if n % 2:
            return {-1: 0.0, self.y[n // 2]: 1.0}
        return {-1: 0.0, self.y[n // 2 - 1]: 0.5, self.y[n // 2]: 0.5}

    def count_expr(self, bands: Sequence[Band]) -> dict[int, float]:
        acc: dict[int, float] = {-1: 0.0}
        for s in range(self.n):
            for band in bands:
                self.add_expr(acc, self.indicator(self.y[s], band))
        self.order_cuts()
        return acc

    def nonempty_vars(self, bands: Sequence[Band]) -> dict[int, float]:
        es: dict[int, float] = {}
        for band in bands:
            cnt = self.count_expr((band,))
            e = self.binary()
            es[e] = 1
            self.bound_row({**cnt, e: cnt.get(e, 0) - 1}, 0, np.inf)  # count >= e
            self.bound_row({**cnt, e: cnt.get(e, 0) - self.n}, -np.inf, 0)  # count <= n e
        return es


def _bound_cuts(m: _SlotModel, by_kind: dict[str, list[Claim]], cut_members: list[tuple[int, Band]]) -> None:
    """Bounds on each unstated cut-off that the claims imply directly (before any row uses it).

    Every bound is implied by rows the model has anyway (a tier member is at or above its
    cut-off; a count of k values at or above one puts it between the k-th and the k+1-th
    largest value); they only make the big-Ms of the indicators small and the relaxation tight."""
    y, n = m.y, m.n
    cuts = [e for c in by_kind.get("count", []) + by_kind.get("n_groups", []) + by_kind.get("tier", [])
            for b in c.bands for e in b if isinstance(e, Cut)]
    if not cuts:
        return
    for cut in sorted(set(cuts), key=lambda c: c.nominal):
        m.cut_var(cut)

    def at_most(cut: Cut, v: float) -> None:  # the cut-off is on the grid
        t = m.cut_var(cut)
        m.ub[t] = min(m.ub[t], math.floor(v + TOL))

    def above(cut: Cut, v: float) -> None:  # a value v is below the cut-off
        t = m.cut_var(cut)
        m.lb[t] = max(m.lb[t], math.floor(v + TOL) + 1)

    for i, (a, b) in cut_members:
        if isinstance(a, Cut):
            at_most(a, m.ub[m.var_of(i)])
        if isinstance(b, Cut):
            above(b, m.lb[m.var_of(i)])
    for c in by_kind.get("count", []):
        if len(c.bands) != 1:
            continue
        (a, b), = c.bands
        n0, n1 = c.n
        if isinstance(a, Cut) and b is None:  # n0..n1 values at or above the cut-off
            if 1 <= n0 <= n:
                at_most(a, m.ub[y[n0 - 1]])
            if 0 <= n1 < n:
                above(a, m.lb[y[n1]])
        elif a is None and isinstance(b, Cut):  # n0..n1 values below it
            if 1 <= n0 <= n:
                above(b, m.lb[y[n - n0]])
            if 0 <= n1 < n:
                at_most(b, m.ub[y[n - n1 - 1]])
    # the cut-offs keep the order of their nominal values
    ordered = sorted(m._cutvars.items(), key=lambda kv: kv[0].nominal)
    for _ in range(2):
        for (_, t1), (_, t2) in zip(ordered, ordered[1:]):
            m.ub[t1] = min(m.ub[t1], m.ub[t2])
            m.lb[t2] = max(m.lb[t2], m.lb[t1])
    if any(m.lb[t] > m.ub[t] for t in m._cutvars.values()):
        m.infeasible = True
