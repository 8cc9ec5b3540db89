"""The only module of :mod:`siteplan.fiber` that imports a solver (highspy).

It solves a MILP given as plain arrays (costs, bounds, integrality, CSR rows with row
bounds), the same shape the shared solver adapter ``siteplan.optimize`` takes, so the
fiber models can move onto that adapter without change.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from dataclasses import dataclass

import numpy as np

from siteplan.exceptions import SolverError

__all__ = ["MilpArrays", "MilpResult", "solve_milp"]


@dataclass(frozen=True)
class MilpArrays:
    """min c.x  s.t.  row_lo <= A x <= row_hi,  col_lo <= x <= col_hi,  x_j integer where integral[j].

    ``A`` is given by CSR arrays ``a_start`` (num_row + 1), ``a_index``, ``a_value``."""

    c: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    integral: np.ndarray
    a_start: np.ndarray
    a_index: np.ndarray
    a_value: np.ndarray
    row_lo: np.ndarray
    row_hi: np.ndarray

    @property
    def num_col(self) -> int:
        return int(self.c.shape[0])

    @property
    def num_row(self) -> int:
        return int(self.row_lo.shape[0])


@dataclass(frozen=True)
class MilpResult:
    """Normalised outcome. ``status``: 'optimal', 'feasible' (time limit with an incumbent),
    'infeasible', 'no_solution' (time limit without one). ``bound`` is a valid lower bound
    (-inf when none)."""

    status: str
    x: np.ndarray | None
    objective: float
    bound: float


@contextlib.contextmanager
def _quiet_stdout():
    """HiGHS prints a banner from C++ when the first instance is created; keep stdout clean
    (the CLI prints JSON there)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
            try:
                yield
            finally:
                os.dup2(saved, fd)
    finally:
        os.close(saved)


def solve_milp(
    model: MilpArrays,
    time_limit: float | None = None,
    mip_abs_gap: float = 0.0,
    start: np.ndarray | None = None,
    threads: int = 1,
) -> MilpResult:
    """Solve ``model`` with HiGHS; ``start`` is an optional feasible point (a warm start)."""
    try:
        import highspy
    except ImportError as exc:  # pragma: no cover - dependency is declared
        raise SolverError(f"highspy is not available: {exc}") from None
    with _quiet_stdout():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", float(mip_abs_gap))
    if time_limit is not None:
        h.setOptionValue("time_limit", max(0.8 * float(time_limit), 0.01))
    lp = highspy.HighsLp()
    lp.num_col_ = model.num_col
    lp.num_row_ = model.num_row
    lp.col_cost_ = np.ascontiguousarray(model.c, dtype=np.float64)
    lp.col_lower_ = np.ascontiguousarray(model.col_lo, dtype=np.float64)
    lp.col_upper_ = np.ascontiguousarray(model.col_hi, dtype=np.float64)
    lp.row_lower_ = np.ascontiguousarray(model.row_lo, dtype=np.float64)
    lp.row_upper_ = np.ascontiguousarray(model.row_hi, dtype=np.float64)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = model.num_col
    lp.a_matrix_.num_row_ = model.num_row
    lp.a_matrix_.start_ = np.ascontiguousarray(model.a_start, dtype=np.int32)
    lp.a_matrix_.index_ = np.ascontiguousarray(model.a_index, dtype=np.int32)
    lp.a_matrix_.value_ = np.ascontiguousarray(model.a_value, dtype=np.float64)
    if np.any(model.integral):
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous for flag in model.integral
        ]
    status = h.passModel(lp)
    if status == highspy.HighsStatus.kError:
        raise SolverError("HiGHS refused the model (passModel returned an error)")
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = [float(v) for v in start]
        sol.value_valid = True
        h.setSolution(sol)
    if time_limit is None:
        h.run()
    else:
        # HiGHS can overrun its own time limit: a watchdog cancels the solve
        h.HandleUserInterrupt = True
        h.startSolve()
        finished, _ = h.wait(timeout=float(time_limit))
        if not finished:
            h.cancelSolve()
            h.wait()
    ms = h.getModelStatus()
    info = h.getInfo()
    has_sol = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value, dtype=np.float64) if has_sol else None
    obj = float(info.objective_function_value) if has_sol else math.inf
    bound = float(info.mip_dual_bound) if np.any(model.integral) else obj
    if not math.isfinite(bound):
        bound = -math.inf
    M = highspy.HighsModelStatus
    if ms == M.kOptimal:
        return MilpResult("optimal", x, obj, bound)
    if ms == M.kInfeasible:
        return MilpResult("infeasible", None, math.inf, math.inf)
    if ms in (M.kTimeLimit, M.kIterationLimit, M.kSolutionLimit, M.kInterrupt, M.kHighsInterrupt, M.kObjectiveBound, M.kUnknown):
        return MilpResult("feasible" if x is not None else "no_solution", x, obj, bound)
    raise SolverError(f"HiGHS ended with model status {h.modelStatusToString(ms)}")
