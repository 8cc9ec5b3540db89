"""Solver backends: the only modules of siteplan that import a MILP solver.

One entry point, :func:`solve_milp`, picks a backend by name from :data:`SOLVERS` and
returns a :class:`~siteplan.optimize.milp.MilpResult` whose status is normalised and
whose solution has been re-checked against the model (a backend's own status words are
never trusted alone).

========  =================================================================
name      backend
========  =================================================================
"highs"   HiGHS through ``highspy`` (in process; default)
"cbc"     COIN-OR CBC, the binary bundled with PuLP (separate process)
========  =================================================================
"""

from __future__ import annotations

import math
import time
from typing import Callable

import numpy as np

from siteplan.exceptions import ModelError, SolverError
from siteplan.optimize.milp import MilpResult, MilpSpec, SolveStatus, relative_gap

__all__ = ["SOLVERS", "solve_milp", "available_solvers", "check_result", "WATCHDOG_GRACE_S"]

#: A backend overrunning its time limit by more than this factor (plus grace) is stopped.
WATCHDOG_FACTOR = 1.10
#: Extra seconds granted beyond the time limit before the watchdog stops a solver [s].
WATCHDOG_GRACE_S = 5.0
#: accepted values of ``emphasis``
EMPHASES = ("balanced", "bound")
#: Largest row/bound/integrality violation accepted in a returned solution.
FEASIBILITY_TOL = 1e-6


def _highs(spec, **kw):
    from siteplan.optimize.backends.highs import solve_highs

    return solve_highs(spec, **kw)


def _cbc(spec, **kw):
    from siteplan.optimize.backends.cbc import solve_cbc

    return solve_cbc(spec, **kw)


#: Backend name -> adapter function (dispatch table).
SOLVERS: dict[str, Callable[..., MilpResult]] = {"highs": _highs, "cbc": _cbc}


def available_solvers() -> list[str]:
    """Names of the backends that can run here."""
    out = []
    try:
        import highspy  # noqa: F401

        out.append("highs")
    except ImportError:  # pragma: no cover - highspy is a dependency
        pass
    try:
        from siteplan.optimize.backends.cbc import cbc_path

        if cbc_path() is not None:
            out.append("cbc")
    except ImportError:  # pragma: no cover
        pass
    return out


def watchdog_seconds(time_limit: float | None) -> float | None:
    """Wall-clock seconds after which a solver run is stopped from outside [s]."""
    if time_limit is None or not math.isfinite(time_limit):
        return None
    return time_limit * WATCHDOG_FACTOR + WATCHDOG_GRACE_S


def check_result(spec: MilpSpec, x: np.ndarray | None, claimed: SolveStatus, bound: float,
                 seconds: float, solver: str, version: str, message: str,
                 gap_tol: float) -> MilpResult:
    """Build a :class:`MilpResult` after re-checking ``x`` against ``spec``.

    A claimed solution that violates the model becomes ``ERROR`` (or
    ``TIME_LIMIT_NO_SOLUTION`` when the claim was a time-limit stop); the objective is
    recomputed from ``x``; the bound is clipped so it never passes the objective; the
    status is ``OPTIMAL`` only when the gap is within ``gap_tol``.
    """
    maximise = spec.sense == "max"
    if x is not None and claimed.has_solution:
        x = np.asarray(x, dtype=np.float64).copy()
        x[spec.integrality] = np.round(x[spec.integrality])
        viol = spec.max_violation(x)
        if viol > FEASIBILITY_TOL:
            message = f"{message}; solver's solution violates the model by {viol:.3g}"
            x = None
            claimed = (SolveStatus.TIME_LIMIT_NO_SOLUTION if claimed == SolveStatus.FEASIBLE
                       else SolveStatus.ERROR)
    else:
        x = None
        if claimed.has_solution:
            claimed = SolveStatus.ERROR
            message = f"{message}; no solution returned"
    if x is None:
        return MilpResult(claimed, None, math.nan, bound, math.inf, seconds, solver, version, message)
    obj = spec.objective_value(x)
    if claimed == SolveStatus.OPTIMAL and not math.isfinite(bound):
        # proven within gap_tol: the bound is at least that far from the objective
        slack = gap_tol * abs(obj)
        bound = obj + slack if maximise else obj - slack
    # a bound can never be better than a feasible objective
    bound = max(bound, obj) if maximise else min(bound, obj)
    gap = relative_gap(obj, bound)
    status = claimed
    if status == SolveStatus.OPTIMAL and gap > max(gap_tol, 1e-9) + 1e-12:
        status = SolveStatus.FEASIBLE
    elif status == SolveStatus.FEASIBLE and gap <= 1e-9:
        status = SolveStatus.OPTIMAL
    return MilpResult(status, x, obj, bound, gap, seconds, solver, version, message)


def solve_milp(spec: MilpSpec, solver: str = "highs", *, time_limit: float | None = None,
               gap: float = 0.0, threads: int | None = None,
               warm_start: np.ndarray | None = None, seed: int = 0,
               verbose: bool = False, emphasis: str = "balanced") -> MilpResult:
    """Solve ``spec`` with the backend called ``solver``.

    Parameters
    ----------
    spec : the model.
    solver : a key of :data:`SOLVERS` ("highs" or "cbc").
    time_limit : wall-clock limit [s]; ``None`` for none. A watchdog stops a backend that
        overruns it by more than 10 % + 5 s.
    gap : relative optimality gap at which the search may stop (0 = prove optimality).
    threads : solver threads (``None`` = the solver's default).
    warm_start : a full-length vector of column values to start from (need not be
        feasible; backends ignore it when it is not).
    seed : random seed passed to the solver.
    verbose : print the solver's log.
    emphasis : "balanced" (solver defaults) or "bound" (primal heuristics off: use it when
        the warm start is already good and the time should go to proving the bound).
    """
    if solver not in SOLVERS:
        raise ModelError(f"unknown solver {solver!r}; choose one of {sorted(SOLVERS)}")
    if time_limit is not None and not (time_limit > 0):
        raise ModelError(f"time_limit must be > 0 seconds or None, got {time_limit!r}")
    if not (0.0 <= gap < 1.0):
        raise ModelError(f"gap must lie in [0, 1), got {gap!r}")
    if emphasis not in EMPHASES:
        raise ModelError(f"emphasis must be one of {EMPHASES}, got {emphasis!r}")
    if warm_start is not None:
        warm_start = np.asarray(warm_start, dtype=np.float64)
        if warm_start.shape != (spec.n_cols,):
            raise ModelError(f"warm_start must have length {spec.n_cols}, got {warm_start.shape}")
    t0 = time.perf_counter()
    try:
        return SOLVERS[solver](spec, time_limit=time_limit, gap=gap, threads=threads,
                               warm_start=warm_start, seed=seed, verbose=verbose, emphasis=emphasis)
    except SolverError:
        raise
    except Exception as exc:  # a crash inside a backend is reported, not propagated raw
        return MilpResult(SolveStatus.ERROR, None, math.nan, -math.inf if spec.sense == "min" else math.inf,
                          math.inf, time.perf_counter() - t0, solver, "", f"{type(exc).__name__}: {exc}")
