"""What the published record proves: exact bounds over every table consistent with it.

Everything published for one index and year becomes a *claim*: a province's value or rank,
the leader, the last place, the maximum, minimum, range, mean or median, a published tier
list, an announced count. The unknown table is the vector of the N provincial values, and
the claims are linear constraints on it, some of them with binary variables (which open
rank slot a province fills, which province attains the maximum, whether a value is at or
above a cut-off). Every figure this module returns is the optimum of a mixed-integer
programme solved by HiGHS (through ``scipy.optimize.milp``): a true minimum or maximum over
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

import math
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from ..data.collate import vsorted
from ..data.tables import decimals

GRID = 100  # hundredths: the ministry publishes values with two decimals
PUBLISHED_DECIMALS = 2
DOMAIN = (0, 100 * GRID)  # a percentage
TOL = 1e-6
_WORKERS = max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))

# Claim kinds, in the order a conflict gives them up (weakest first).
_SET_ASIDE_ORDER = {"count": 0, "n_groups": 0, "change": 0, "region_mean": 1, "median": 1, "range": 1, "mean": 1, "max": 2, "min": 2,
                    "leader": 3, "last": 3, "tier": 4, "rank": 5, "value": 6}
_STATUS_WEAKNESS = {"secondary": 0, "inferred": 0, "conflict": 0, "derived": 1, "stated": 2, "official": 3,
                    "user": 3}

# The kinds of published fact a user can leave out (``without``) to see what the rest proves.
FAMILIES = ("counts", "regions", "changes", "secondary")
_FAMILY = {"count": "counts", "n_groups": "counts", "region_mean": "regions", "change": "changes"}
OUTSIDE = "none"  # a value below (or above) every band of the year's rules: in no group

@dataclass(frozen=True)
class Cut:
    """A cut-off no source states: a variable of the programme, within what the record allows.

    As a band's lower end it means "at or above the cut-off", as its upper end "below it"."""

    nominal: float  # the inferred value, in hundredths (for its name and its order)

    def __str__(self) -> str:
        return f"{self.nominal / GRID:g}"


Band = tuple  # (a, b): a: inclusive lower end in hundredths or a Cut; b: inclusive upper end or a Cut; None = open


def text_interval(text: object, exact: bool = False, rounded: bool = False) -> tuple[float, float]:
    """[lo, hi] in hundredths that a published figure stands for (see module docstring).

    ``rounded``: the figure is a rounding whatever its decimals (a mean is not on the grid).
    """
    s = str(text).strip()
    q = Fraction(s)
    k = decimals(s) or 0
    if exact or (k >= PUBLISHED_DECIMALS and not rounded):
        v = float(q * GRID)
        return v, v
    half = Fraction(1, 2) * Fraction(1, 10 ** k)
    return float((q - half) * GRID), float((q + half) * GRID)


def band_of(lower: float | None, lower_inclusive: bool, upper: float | None, upper_inclusive: bool) -> Band:
    """A rule's band as an inclusive interval on the grid of integers (hundredths)."""
    a = None if lower is None else (math.ceil(lower * GRID - TOL) if lower_inclusive
                                    else math.floor(lower * GRID + TOL) + 1)
    b = None if upper is None else (math.floor(upper * GRID + TOL) if upper_inclusive
                                    else math.ceil(upper * GRID - TOL) - 1)
    return a, b


def has_cut(band: Band) -> bool:
    return any(isinstance(e, Cut) for e in band)


def in_band(v: float, band: Band) -> bool:
    """For a fixed value (possibly off the grid): inside the band's real interval."""
    a, b = band
    if has_cut(band):
        raise TypeError("a band with an unstated cut-off has no fixed interval")
    return (a is None or v >= a - TOL) and (b is None or v < b + 1 - TOL)


@dataclass(frozen=True)
class Claim:
    """One published statement. ``key`` names it in conflicts and audit rows."""

    key: str
    kind: str  # value rank leader last max min range mean median count tier n_groups
    text: str
    count: bool = False  # an announced count: an assumption for the bounds
    status: str = "stated"
    province: int | None = None  # position in the table
    lo: float | None = None  # hundredths (value, max, min, range, mean, median)
    hi: float | None = None
    rank: int | None = None
    bands: tuple[Band, ...] = ()  # count: values in any of these bands are counted
    n: tuple[int, int] | None = None  # count / n_groups: allowed number
    members: tuple[int, ...] = ()  # tier: provinces named in the list
    slot_window: tuple[int, int] | None = None  # tier of a top_n / bottom_n rule
    fact: str = ""  # the national fact (or list) this claim comes from
    published: str = ""
    sources: tuple[str, ...] = ()
    secondary: bool = False  # every source of it is a secondary one (aggregator, unverified copy)

    @property
    def weakness(self) -> tuple[int, int]:
        return (_SET_ASIDE_ORDER.get(self.kind, 0),
                _STATUS_WEAKNESS["secondary"] if self.secondary else _STATUS_WEAKNESS.get(self.status, 1))

    @property
    def family(self) -> str:
        """The kind of fact for ``without``: counts, regions, changes, or the record itself."""
        return _FAMILY.get(self.kind, "record")


# The model ------------------------------------------------------------------------------

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
                if (u1, u2) not in self._cuts:
                    self._cuts.add((u1, u2))
                    self.row({u1: 1, u2: -1}, lo=0)

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
    def solve(self, objective: dict[int, float] | None = None, maximize: bool = False) -> float | None:
        """Optimum of the objective (None when infeasible); feasibility when objective is None."""
        if self.infeasible:
            return None
        # imported here: a summary whose inference comes from the cache never loads scipy
        from scipy.optimize import Bounds, LinearConstraint, milp
        from scipy.sparse import coo_array

        nv = len(self.lb)
        c = np.zeros(nv)
        const = 0.0
        for k, a in (objective or {}).items():
            if k == -1:
                const += a
            else:
                c[k] += -a if maximize else a
        if self.rlo:
            A = coo_array((self.v, (self.r, self.c)), shape=(len(self.rlo), nv)).tocsr()
            cons = [LinearConstraint(A, np.array(self.rlo), np.array(self.rhi))]
        else:
            cons = []
        bounds = Bounds(np.array(self.lb), np.array(self.ub))
        integ = np.array(self.integ)
        # The LP relaxation first: infeasible there means infeasible, and an optimum that is
        # already integral is the integer optimum. Most queries end here, at a quarter of the cost.
        res = milp(c, integrality=np.zeros(nv), bounds=bounds, constraints=cons, options={"presolve": False})
        if res.status not in (0, 2):  # a numerical failure is not a proof of anything: try once more
            res = milp(c, integrality=np.zeros(nv), bounds=bounds, constraints=cons)
        if res.status == 2:
            return None
        if res.status != 0 or res.x is None:
            raise RuntimeError(f"the LP solver stopped without a proof (status {res.status}: {res.message})")
        if not np.all(np.abs(res.x[integ == 1] - np.round(res.x[integ == 1])) <= 1e-9):
            best = self._certify(res.x, c, res.fun, A if cons else None, integ)
            if best is not None:
                return (-best if maximize else best) + const
            lp_bound = float(res.fun)
            # mip_rel_gap 0: the optimum itself, not one within HiGHS's default 0.01 %.
            # Presolve stays off: HiGHS's MIP presolve (scipy 1.17's copy, and highspy 1.15) declares
            # some of these models infeasible although a checked solution exists (a test keeps the
            # SIPAS 2020 case), and once returned a feasible non-optimal point as "optimal".
            res = milp(c, integrality=integ, bounds=bounds, constraints=cons,
                       options={"presolve": False, "time_limit": 60, "mip_rel_gap": 0.0})
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
        val = float(c @ res.x)
        return (-val if maximize else val) + const

    def _holds(self, z: np.ndarray, A, integ: np.ndarray) -> bool:
        """Whether a point satisfies every bound, row and integrality of the model."""
        if np.any(z < np.array(self.lb) - 1e-6) or np.any(z > np.array(self.ub) + 1e-6):
            return False
        if np.any(np.abs(z[integ == 1] - np.round(z[integ == 1])) > 1e-6):
            return False
        if A is not None:
            ax = A @ z
            if np.any(ax < np.array(self.rlo) - 1e-6) or np.any(ax > np.array(self.rhi) + 1e-6):
                return False
        return True

    def _certify(self, x: np.ndarray, c: np.ndarray, bound: float, A, integ: np.ndarray) -> float | None:
        """An integer point whose objective meets the LP bound rounded up proves the integer optimum.

        The LP optimum bounds the integer optimum from below; when the objective takes integer
        values on integer points, ceil(bound) does too. A rounding of the LP point that is
        feasible and attains it is therefore optimal, and the branch and bound is not needed.
        """
        isint = integ == 1
        if np.any(c[~isint] != 0) or np.any(c != np.round(c)):
            return None
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
                return val
        return None


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

    def var_of(i: int) -> int:
        return y[m.slot_of[i]] if i in m.slot_of else m.x_of[i]

    for i, (a, b) in cut_members:
        if isinstance(a, Cut):
            at_most(a, m.ub[var_of(i)])
        if isinstance(b, Cut):
            above(b, m.lb[var_of(i)])
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


@dataclass
class Problem:
    """The N unknown values of one index-year and every claim published about them."""

    n: int
    names: list[str]
    claims: list[Claim]
    _feasible: dict[frozenset, bool] = field(default_factory=dict)
    _values: dict[tuple, tuple[float, float] | None] = field(default_factory=dict)
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
        m.owner = self
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
            if i in window or i in leader or i in last or i in pulled or region_sets:
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
            for s in m.open:
                if win is not None and not win[0] <= s + 1 <= win[1]:
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
            m.bound_row(self.median_expr(m), c.lo, c.hi)
        for c in by_kind.get("count", []):
            m.bound_row(self.count_expr(m, c.bands), c.n[0], c.n[1])
        for c in by_kind.get("n_groups", []):
            m.row(self.nonempty_vars(m, c.bands), c.n[0], c.n[1])
        m.order_cuts()
        # a query's own restriction on one province
        for i, (a, b) in (restrict or {}).items():
            m.tighten(y[m.slot_of[i]] if i in m.slot_of else m.x_of[i], a, b)
        # members of a published tier whose cut-off is unstated: at or above it / below it
        for i, (a, b) in cut_members:
            v = y[m.slot_of[i]] if i in m.slot_of else m.x_of[i]
            if isinstance(a, Cut):
                m.row({v: 1, m.cut_var(a): -1}, lo=0)
            if isinstance(b, Cut):
                m.row({v: 1, m.cut_var(b): -1}, hi=-m.eps(v, v))
        for i, (band, inside) in (within or {}).items():
            v = y[m.slot_of[i]] if i in m.slot_of else m.x_of[i]
            m.bound_row(m.indicator(v, band), 1 if inside else 0, 1 if inside else 0)
        return m

    def median_expr(self, m: _SlotModel) -> dict[int, float]:
        n = self.n
        if n % 2:
            return {-1: 0.0, m.y[n // 2]: 1.0}
        return {-1: 0.0, m.y[n // 2 - 1]: 0.5, m.y[n // 2]: 0.5}

    def count_expr(self, m: _SlotModel, bands: Sequence[Band]) -> dict[int, float]:
        acc: dict[int, float] = {-1: 0.0}
        for s in range(self.n):
            for band in bands:
                m.add_expr(acc, m.indicator(m.y[s], band))
        m.order_cuts()
        return acc

    def nonempty_vars(self, m: _SlotModel, bands: Sequence[Band]) -> dict[int, float]:
        es: dict[int, float] = {}
        for band in bands:
            cnt = self.count_expr(m, (band,))
            e = m.binary()
            es[e] = 1
            m.bound_row({**cnt, e: cnt.get(e, 0) - 1}, 0, np.inf)  # count >= e
            m.bound_row({**cnt, e: cnt.get(e, 0) - self.n}, -np.inf, 0)  # count <= n e
        return es

    # queries
    def feasible(self, active: Iterable[Claim], **kw) -> bool:
        if kw:
            return self.build(active, **kw).solve() is not None
        key = frozenset(c.key for c in active)
        if key not in self._feasible:
            self._feasible[key] = self.build(active).solve() is not None
        return self._feasible[key]

    def _range(self, m: _SlotModel, expr: dict[int, float], active: Sequence[Claim] | None = None
               ) -> tuple[float, float] | None:
        if not m.infeasible and all(m.lb[k] == m.ub[k] for k in expr if k != -1):
            # the build's propagation already fixed every variable of the objective
            if not (self.feasible(active) if active is not None else m.solve() is not None):
                return None
            v = expr.get(-1, 0.0) + sum(a * m.lb[k] for k, a in expr.items() if k != -1)
            return v, v
        lo = m.solve(expr)
        return None if lo is None else (lo, m.solve(expr, maximize=True))

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
        if i in m.slot_of:
            v = m.y[m.slot_of[i]]
            if m.lb[v] == m.ub[v]:  # a published value: the range is the value, if the claims hold at all
                return (m.lb[v], m.ub[v]) if self.feasible(active) else None
            return self._range(m, {v: 1.0}, active)
        m = self.build(active, pull=[i])
        if m.infeasible:
            return None
        return self._range(m, {m.x_of[i]: 1.0}, active)

    def count_range(self, active: Sequence[Claim], bands: Sequence[Band]) -> tuple[int, int] | None:
        m = self.build(active)
        if m.infeasible:
            return None
        r = self._range(m, self.count_expr(m, bands), active)
        return None if r is None else (round(r[0]), round(r[1]))

    def nonempty_range(self, active: Sequence[Claim], bands: Sequence[Band]) -> tuple[int, int] | None:
        m = self.build(active)
        if m.infeasible:
            return None
        r = self._range(m, {**self.nonempty_vars(m, bands), -1: 0.0})
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
        """Whether province i can be inside (or outside) a band, whatever its cut-offs."""
        return self.feasible(active, within={i: (band, inside)})

    def kth_range(self, active: Sequence[Claim], k: int) -> tuple[float, float] | None:
        """Range of the k-th largest value (k = 1 is the maximum)."""
        m = self.build(active)
        return None if m.infeasible else self._range(m, {m.y[k - 1]: 1.0}, active)

    def median_range(self, active: Sequence[Claim]) -> tuple[float, float] | None:
        m = self.build(active)
        return None if m.infeasible else self._range(m, self.median_expr(m), active)

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


# Conflicts -------------------------------------------------------------------------------

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

COUNT_FACTS = re.compile(r"group_count_(?P<g>\w+)|n_(?P<t>\w+)_group|n_(?P<op>at_or_above|above|below)_(?P<x>[\d.]+)"
                         r"|band_count_(?P<a>[\d.]+)_to_(?P<b>[\d.]+)|band_count_above_(?P<c>[\d.]+)")
RULE_FACT = re.compile(r"group_\w+_(lower|upper)")
VALUE_FACTS = {"max": "max", "min": "min", "range": "range", "mean_63": "mean", "mean_17": "mean", "median": "median"}
# A published list of the n best or worst units ("top_5"): membership, not order.
LIST_TIER = re.compile(r"(?P<end>top|bottom)_(?P<n>\d+)")
PLACE_FACTS = {"leader": "leader", "last_place": "last"}


def rule_bands(rs) -> dict[str, Band]:
    """Label -> band on the grid, for the year's band rules."""
    if rs is None:
        return {}
    unstated = rs.unstated_cutoffs() if hasattr(rs, "unstated_cutoffs") else set()
    out: dict[str, Band] = {}
    for r in rs.rules:
        if r.kind != "band":
            continue
        a, b = band_of(r.lower, r.lower_inclusive, r.upper, r.upper_inclusive)
        # a cut-off no source states is not a number but a variable (docs/method.md §7.1)
        out[r.label] = (Cut(r.lower * GRID) if r.lower in unstated else a,
                        Cut(r.upper * GRID) if r.upper in unstated else b)
    return out


def _count_bands(m: re.Match, rs, labels_bands: dict[str, Band]) -> tuple[Band, ...] | None:
    if m["g"] or m["t"]:
        band = labels_bands.get(m["g"] or m["t"])
        return None if band is None else (band,)
    if m["op"]:
        x = float(m["x"])
        return ((band_of(x, True, None, False),) if m["op"] == "at_or_above"
                else (band_of(x, False, None, False),) if m["op"] == "above"
                else (band_of(None, True, x, False),))
    if m["a"]:
        return (band_of(float(m["a"]), True, float(m["b"]), False),)
    return (band_of(float(m["c"]), True, None, False),)


def _split(text: object) -> tuple[str, ...]:
    return () if text is None or pd.isna(text) else tuple(s for s in str(text).split(";") if s)


REGION_FACT = re.compile(r"regional_mean_(?P<region>\w+)")
def claims_for(data: pd.DataFrame, index: str, year: int, rs, facts: pd.DataFrame,
               tiers: pd.DataFrame | None, exact_values: bool = False,
               membership: dict[str, tuple[str, ...]] | None = None, previous: pd.DataFrame | None = None,
               secondary_sources: frozenset[str] = frozenset(), convention: str = "published",
               ) -> tuple[list[Claim], list[tuple]]:
    """Claims from a consolidated table (rows in registry order) and the year's facts.

    ``membership``: region key -> unit codes, where the year's regional facts are on a known
    membership; ``previous``: last year's table on the same units (for the change facts);
    ``convention``: "published" (figures with fewer decimals are roundings; a mean is within
    0.01 of the mean of the two-decimal values, whichever way the ministry averages),
    "mean_rounded" (a mean is the mean of the published two-decimal values, to its rounding),
    "truncated" (press figures with fewer decimals are cut, not rounded), "unrounded_ranks"
    (ranks follow unrounded scores: two provinces of different rank may share a published value).
    Returns the claims and the facts that are not claims: (fact, value, reason, sources).
    """
    claims, other = _claims_for(data, index, year, rs, facts, tiers, exact_values, membership, convention)
    if secondary_sources:
        claims = [replace(c, secondary=bool(c.sources) and all(s in secondary_sources for s in c.sources))
                  for c in claims]
    return claims, other


def _interval(text: object, convention: str, exact: bool = False, rounded: bool = False,
              mean: bool = False) -> tuple[float, float]:
    lo, hi = text_interval(text, exact=exact, rounded=rounded)
    if mean and convention != "mean_rounded":
        # The ministry may average the unrounded scores: the mean of the published two-decimal
        # values then lies within a further 0.005 of the mean it publishes (0.01 in all). The
        # tighter reading (the mean of the published values, +-0.005) is the alternative
        # convention "mean_rounded"; 2024's regional and national means contradict it.
        return lo - 0.5, hi + 0.5
    if exact or lo == hi:
        return lo, hi
    if convention == "truncated" and not rounded:
        # a press figure cut after k decimals: [v, v + 10^-k), on the grid up to the last point below
        k = decimals(str(text).strip()) or 0
        v = Fraction(str(text).strip())
        return float(v * GRID), float((v + Fraction(1, 10 ** k)) * GRID) - 1
    return lo, hi


def _claims_for(data: pd.DataFrame, index: str, year: int, rs, facts: pd.DataFrame,
                tiers: pd.DataFrame | None, exact_values: bool, membership, convention: str,
                ) -> tuple[list[Claim], list[tuple]]:
    pos = {code: i for i, code in enumerate(data.index)}
    by_name = {name: i for i, name in enumerate(data["province"])}
    claims: list[Claim] = []
    other: list[tuple] = []
    for code, r in data.iterrows():
        i = pos[code]
        if not pd.isna(r["value"]):
            text = r["value_text"] if not pd.isna(r.get("value_text", pd.NA)) else f"{float(r['value']):g}"
            status = "stated" if pd.isna(r.get("value_status", pd.NA)) else str(r["value_status"])
            lo, hi = _interval(text, convention, exact=exact_values or status == "user")
            claims.append(Claim(f"value:{code}", "value", f"{r['province']} = {text}", status=status, province=i,
                                lo=lo, hi=hi, published=str(text),
                                sources=_split(r.get("value_sources"))))
        elif "conflict_values" in r and not pd.isna(r["conflict_values"]):
            ivs = [text_interval(t) for t in str(r["conflict_values"]).split("|")]
            lo, hi = min(a for a, _ in ivs), max(b for _, b in ivs)
            claims.append(Claim(f"value:{code}", "value", f"{r['province']} between "
                                + " and ".join(str(r["conflict_values"]).split("|")), status="conflict",
                                province=i, lo=lo, hi=hi, published=str(r["conflict_values"])))
        if not pd.isna(r["rank"]):
            status = "stated" if pd.isna(r.get("rank_status", pd.NA)) else str(r["rank_status"])
            claims.append(Claim(f"rank:{code}", "rank", f"{r['province']} rank {int(r['rank'])}", status=status,
                                province=i, rank=int(r["rank"]), published=str(int(r["rank"])),
                                sources=_split(r.get("rank_sources"))))
    bands = rule_bands(rs)
    f = facts[(facts["index"] == index) & (facts["year"] == year)]
    for (fact, value), rows in f.groupby(["fact", "value"], sort=True):
        srcs = tuple(dict.fromkeys(rows["source_id"]))
        status = "stated" if (rows["status"] == "stated").any() else str(rows["status"].iloc[0])
        key = f"fact:{fact}={value}"
        if RULE_FACT.fullmatch(fact):
            continue  # a cut-off is a rule (classification_rules.csv), not something to audit
        if (rm := REGION_FACT.fullmatch(fact)) is not None:
            codes = (membership or {}).get(rm["region"])
            members = tuple(sorted(pos[c] for c in codes or () if c in pos))
            if not members:
                other.append((fact, value, "no_membership", srcs))
                continue
            lo, hi = _interval(value, convention, rounded=True, mean=True)
            claims.append(Claim(key, "region_mean", f"{fact} = {value}", status=status, lo=lo, hi=hi,
                                members=members, fact=fact, published=str(value), sources=srcs))
        elif fact in VALUE_FACTS:
            lo, hi = _interval(value, convention, rounded=VALUE_FACTS[fact] in ("mean", "median"),
                               mean=VALUE_FACTS[fact] == "mean")
            if fact == "range":
                lo, hi = max(lo, 0.0), hi
            claims.append(Claim(key, VALUE_FACTS[fact], f"{fact} = {value}", status=status, lo=lo, hi=hi,
                                fact=fact, published=str(value), sources=srcs))
        elif fact in PLACE_FACTS:
            if value not in by_name:
                other.append((fact, value, "province_not_in_registry", srcs))
                continue
            claims.append(Claim(key, PLACE_FACTS[fact], f"{fact} = {value}", status=status,
                                province=by_name[value], fact=fact, published=str(value), sources=srcs))
        elif fact == "n_groups":
            if rs is None or not rs.is_band:
                other.append((fact, value, "no_rule", srcs))
                continue
            n = int(float(value))
            claims.append(Claim(key, "n_groups", f"{fact} = {value}", count=True, status=status,
                                bands=tuple(bands.values()), n=(n, n), fact=fact, published=str(value),
                                sources=srcs))
        elif (m := COUNT_FACTS.fullmatch(fact)) is not None:
            cb = _count_bands(m, rs, bands)
            if cb is None:
                other.append((fact, value, "no_rule", srcs))
                continue
            n = int(float(value))
            claims.append(Claim(key, "count", f"{fact} = {value}", count=True, status=status, bands=cb,
                                n=(n, n), fact=fact, published=str(value), sources=srcs))
        else:
            other.append((fact, value, "not_from_values", srcs))
    if tiers is not None:
        t = tiers[(tiers["index"] == index) & (tiers["year"] == year)]
        rules = {r.label: r for r in rs.rules} if rs is not None else {}
        n = len(data)
        for tier, rows in t.groupby("tier", sort=True):
            members = tuple(sorted({pos[c] for c in rows["province_code"] if c in pos}))
            srcs = tuple(dict.fromkeys(rows["source_id"]))
            names = ", ".join(vsorted(set(rows["province"])))
            rule = rules.get(tier)
            key = f"tier:{tier}"
            if (lm := LIST_TIER.fullmatch(tier)) is not None:
                k = int(lm["n"])
                window = (1, k) if lm["end"] == "top" else (n - k + 1, n)
                claims.append(Claim(key, "tier", f"published {tier.replace('_', ' ')} list", members=members,
                                    slot_window=window, fact=f"published_tier_{tier}", published=names,
                                    sources=srcs))
            elif rule is None or rule.kind == "rest":
                other.append((f"published_tier_{tier}", names, "no_rule", srcs))
            elif rule.kind == "band":
                claims.append(Claim(key, "tier", f"published {tier} list", bands=(bands[tier],), members=members,
                                    fact=f"published_tier_{tier}", published=names, sources=srcs))
            else:
                window = (1, rule.n) if rule.kind == "top_n" else (n - rule.n + 1, n)
                claims.append(Claim(key, "tier", f"published {tier} list", members=members, slot_window=window,
                                    fact=f"published_tier_{tier}", published=names, sources=srcs))
    return claims, other


# Answers -----------------------------------------------------------------------------------

REPRODUCED, CONSISTENT, CONTRADICTED = "reproduced", "consistent", "contradicted"


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

    def slot_ranges(self) -> list[dict]:
        """Open rank slots (no published rank) with the values and groups their occupants can have."""
        if self._slots is not None:
            return self._slots
        ranks = [c.rank for c in self.active if c.kind == "rank"]
        active = joint(self.active)
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
        out = []
        if ranks:
            for run in runs:
                top = self.problem.kth_range(active, run[0])
                bottom = self.problem.kth_range(active, run[-1])
                if top is None or bottom is None:
                    continue
                lo, hi = bottom[0], top[1]
                poss = [lab for lab, b in bands.items() if has_cut(b) or _meets(b, lo, hi)]
                forced = [lab for lab, b in bands.items() if not has_cut(b) and _inside(b, lo, hi)]
                out.append({"first": run[0], "last": run[-1], "lo": lo / GRID, "hi": hi / GRID,
                            "possible": poss, "group": forced[0] if forced else None})
        self._slots = out
        return out


def _meets(band: Band, lo: float, hi: float) -> bool:
    a, b = band
    return (a is None or hi >= a - TOL) and (b is None or lo < b + 1 - TOL)


def _inside(band: Band, lo: float, hi: float) -> bool:
    return in_band(lo, band) and in_band(hi, band)


def _signature(i: int, claims: Sequence[Claim]) -> tuple:
    sig = []
    for c in claims:
        if c.province == i and c.kind in ("value", "rank", "leader", "last"):
            sig.append((c.kind, c.lo, c.hi, c.rank))
        elif c.kind == "change" and c.province == i:
            sig.append(("change", c.lo, c.hi))
        elif c.kind in ("tier", "region_mean") and i in c.members:
            sig.append((c.kind, c.key))
    return tuple(sorted(sig, key=repr))


def pmap(fn, items: Sequence) -> list:
    """Map over independent queries on the machine's cores.

    Each query builds and solves its own HiGHS model, and HiGHS releases the GIL while it
    solves, so threads run them in parallel (results are identical to a serial run; a test
    compares them). No process is forked, so this is safe inside a Jupyter kernel."""
    items = list(items)
    workers = min(_WORKERS, len(items))
    if workers <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(workers) as ex:
        return list(ex.map(fn, items))


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


def own_region(claims: Sequence[Claim], i: int) -> list[Claim]:
    """The claims a province's own bounds rest on: every claim but the means of other regions.

    (The six regional means together make the programme too slow to prove optimal within the
    time budget; each province's bounds are exact over the record with its own region's mean.)"""
    return [c for c in claims if c.kind != "region_mean" or i in c.members]


def joint(claims: Sequence[Claim]) -> list[Claim]:
    """The claims that national figures (count ranges, places) rest on: all but regional means."""
    return [c for c in claims if c.kind != "region_mean"]


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


def used(c: Claim, without: frozenset[str]) -> bool:
    """Whether the bounds use claim ``c`` when the kinds of fact in ``without`` are left out."""
    return c.family not in without and not (c.secondary and "secondary" in without)


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
        return Inference(p, list(data.index), rs, without, claims, conflicts, pd.DataFrame(),
                         _count_ranges(p, joint(active), rs, bands), checks, other, unproven=p.unproven,
                         cut_ranges=_percent(_cut_ranges(p, joint(active), bands)))
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
    return Inference(p, list(data.index), rs, without, claims, conflicts, provinces, counts, checks, other,
                     unproven=p.unproven, cut_ranges=_percent(cut_ranges), count_ranges_without_counts=plain_counts)


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
