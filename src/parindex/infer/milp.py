"""The MILP solver the model of one claim set calls: HiGHS through its own Python interface.

highspy is pinned in requirements.lock: the same solver scipy.optimize.milp wraps,
in a newer release that finds the first integer point of these models about twice as fast, with
every option at hand. The raw core class is used: it prints no banner (the summary's standard
output is JSON), and its run() releases the GIL, so the queries of cores.pmap solve in parallel.
The test suite's independent cross-check keeps scipy's own copy of HiGHS, so the two
formulations do not share a solver build either.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Result:
    """What a solve proved: status 0 optimal, 1 stopped (limit), 2 infeasible, 4 other."""

    status: int
    x: np.ndarray | None
    fun: float
    mip_dual_bound: float | None
    message: str


def _csc(r: list[int], c: list[int], v: list[float], nrows: int, ncols: int):
    from scipy.sparse import coo_array

    return coo_array((v, (r, c)), shape=(nrows, ncols)).tocsc()


def highs(c: np.ndarray, integ: np.ndarray | None, lb: np.ndarray, ub: np.ndarray, A, rlo: np.ndarray,
          rhi: np.ndarray, presolve: bool, time_limit: float | None = None,
          mip_rel_gap: float | None = None) -> Result:
    """Minimise c·x over the box, the rows rlo <= A x <= rhi and the integrality ``integ``."""
    # imported here: a summary whose inference comes from the cache never loads the solver
    from highspy import _core as hc

    h = hc._Highs()
    h.setOptionValue("output_flag", False)
    # HiGHS's own task threads: the analysis already solves on every core (cores.pmap), and the
    # extra threads, spinning while they wait for work, cost a quarter more CPU and made a cold
    # 2020 slower (4.5 -> 3.7 s; every bundled year's answers the same, byte for byte)
    h.setOptionValue("threads", 1)
    h.setOptionValue("presolve", "on" if presolve else "off")
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    if mip_rel_gap is not None:
        h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    lp = hc.HighsLp()
    n = len(c)
    lp.num_col_ = n
    lp.col_cost_ = np.asarray(c, dtype=float)
    lp.col_lower_ = lb
    lp.col_upper_ = ub
    if A is not None:
        lp.num_row_ = A.shape[0]
        lp.row_lower_ = np.where(np.isfinite(rlo), rlo, -hc.kHighsInf)
        lp.row_upper_ = np.where(np.isfinite(rhi), rhi, hc.kHighsInf)
        lp.a_matrix_.format_ = hc.MatrixFormat.kColwise
        lp.a_matrix_.start_ = A.indptr
        lp.a_matrix_.index_ = A.indices
        lp.a_matrix_.value_ = A.data
    if integ is not None and np.any(integ):
        lp.integrality_ = [hc.HighsVarType.kInteger if k else hc.HighsVarType.kContinuous for k in integ]
    h.passModel(lp)
    if h.run() == hc.HighsStatus.kError and h.getModelStatus() == hc.HighsModelStatus.kNotset:
        # HiGHS keeps one task scheduler per thread: after a solve with another thread count on
        # this thread (a researcher's own highspy in the kernel), it refuses threads=1
        h.setOptionValue("threads", 0)
        h.run()
    st = h.getModelStatus()
    M = hc.HighsModelStatus
    # every variable is bounded, so "unbounded or infeasible" can only be infeasible
    status = {M.kOptimal: 0, M.kInfeasible: 2, M.kUnboundedOrInfeasible: 2, M.kTimeLimit: 1,
              M.kIterationLimit: 1, M.kSolutionLimit: 1, M.kInterrupt: 1}.get(st, 4)
    info = h.getInfo()
    x = None
    if status == 0:
        x = np.array(h.getSolution().col_value, dtype=float)
    dual = getattr(info, "mip_dual_bound", None) if integ is not None and np.any(integ) else None
    return Result(status, x, float(info.objective_function_value), dual, h.modelStatusToString(st))
