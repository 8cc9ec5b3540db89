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
"highs+cbc"  both at once, the first proof wins (:func:`_race`)
========  =================================================================
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Callable

import numpy as np

from siteplan.exceptions import ModelError, SolverError
from siteplan.optimize.milp import MilpResult, MilpSpec, SolveStatus, relative_gap

__all__ = ["SOLVERS", "solve_milp", "available_solvers", "check_result", "with_fallback", "WATCHDOG_GRACE_S"]

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


def _race(spec, *, time_limit, gap, threads, warm_start, seed, verbose, emphasis):
    """HiGHS (in process) and CBC (its own process, one thread) on the same model at the
    same time; the first to finish with a proof stops the other. Without a proof by the
    time limit: the better solution of the two, with the better of their bounds (both
    are valid bounds). Neither open solver dominates on covering models (measured on
    OR-Library groups A-D: each proves some instances several times faster than the
    other), so the race costs a core and takes the faster of the two."""
    import threading

    from siteplan.optimize.backends.cbc import solve_cbc
    from siteplan.optimize.backends.highs import solve_highs

    t0 = time.perf_counter()
    stop_highs, stop_cbc = threading.Event(), threading.Event()
    box: dict = {}
    decisive = (SolveStatus.OPTIMAL, SolveStatus.INFEASIBLE)

    def run_cbc():
        try:
            box["cbc"] = solve_cbc(spec, time_limit=time_limit, gap=gap, threads=1, warm_start=warm_start,
                                   seed=seed, verbose=verbose, emphasis=emphasis, cancel=stop_cbc)
        except Exception as exc:  # reported, the HiGHS half still answers
            box["cbc_error"] = f"{type(exc).__name__}: {exc}"
        finally:
            if box.get("cbc") is not None and box["cbc"].status in decisive:
                stop_highs.set()

    worker = threading.Thread(target=run_cbc, name="siteplan-cbc-race", daemon=True)
    worker.start()
    try:
        rh = solve_highs(spec, time_limit=time_limit, gap=gap, threads=threads, warm_start=warm_start, seed=seed,
                         verbose=verbose, emphasis=emphasis, cancel=stop_highs)
    finally:
        if not stop_highs.is_set():
            stop_cbc.set()  # HiGHS finished first (or failed): CBC's answer is not awaited
        worker.join()
    rc = box.get("cbc")
    seconds = time.perf_counter() - t0
    version = f"{rh.solver_version}/{rc.solver_version if rc is not None else ''}"
    # a finished (not cancelled) proof wins: CBC only when it stopped HiGHS
    if stop_highs.is_set() and rc is not None and rc.status in decisive:
        winner = rc
    elif rh.status in decisive:
        winner = rh
    else:
        winner = None
    if winner is not None:
        return MilpResult(winner.status, winner.x, winner.objective, winner.bound, winner.gap, seconds,
                          "highs+cbc", version, f"{winner.solver} first: {winner.message}")
    results = [r for r in (rh, rc) if r is not None]
    maximise = spec.sense == "max"
    bounds = [r.bound for r in results if not math.isnan(r.bound)]
    bound = (min(bounds) if maximise else max(bounds)) if bounds else (math.inf if maximise else -math.inf)
    with_x = [r for r in results if r.status.has_solution and r.x is not None]
    if not with_x:
        status = SolveStatus.ERROR if all(r.status == SolveStatus.ERROR for r in results) \
            else SolveStatus.TIME_LIMIT_NO_SOLUTION
        return MilpResult(status, None, math.nan, bound, math.inf, seconds, "highs+cbc", version,
                          "; ".join(f"{r.solver}: {r.message}" for r in results) + box.get("cbc_error", ""))
    best = max(with_x, key=lambda r: r.objective) if maximise else min(with_x, key=lambda r: r.objective)
    return check_result(spec, best.x, SolveStatus.FEASIBLE, bound, seconds, "highs+cbc", version,
                        f"best solution from {best.solver}; "
                        + "; ".join(f"{r.solver}: {r.message}" for r in results), gap)


#: Backend name -> adapter function (dispatch table).
SOLVERS: dict[str, Callable[..., MilpResult]] = {"highs": _highs, "cbc": _cbc, "highs+cbc": _race}


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
    if "highs" in out and "cbc" in out:
        out.append("highs+cbc")
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
               verbose: bool = False, emphasis: str = "balanced",
               fallback: np.ndarray | None = None) -> MilpResult:
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
    fallback : a full-length feasible vector that is *not* given to the solver but
        returned (re-checked, with the solver's proven bound and the gap from it) when the
        solver ends without a solution at least as good, e.g. at its time limit. Unlike
        ``warm_start`` it leaves the solver's own search unchanged (HiGHS runs its root
        rounding heuristics only while it has no incumbent); ignored when infeasible.
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
    if fallback is not None:
        fallback = np.asarray(fallback, dtype=np.float64)
        if fallback.shape != (spec.n_cols,):
            raise ModelError(f"fallback must have length {spec.n_cols}, got {fallback.shape}")
    t0 = time.perf_counter()
    try:
        res = SOLVERS[solver](spec, time_limit=time_limit, gap=gap, threads=threads,
                              warm_start=warm_start, seed=seed, verbose=verbose, emphasis=emphasis)
    except SolverError:
        raise
    except Exception as exc:  # a crash inside a backend is reported, not propagated raw
        res = MilpResult(SolveStatus.ERROR, None, math.nan, -math.inf if spec.sense == "min" else math.inf,
                         math.inf, time.perf_counter() - t0, solver, "", f"{type(exc).__name__}: {exc}")
    return res if fallback is None else with_fallback(spec, res, fallback, gap)


def with_fallback(spec: MilpSpec, res: MilpResult, fallback: np.ndarray, gap_tol: float) -> MilpResult:
    """``res``, or the feasible vector ``fallback`` when ``res`` has no solution at least as
    good: then with ``res``'s bound (when it has one; a solver that claimed infeasibility
    gives none) and the gap from it, status ``OPTIMAL`` when that gap is within
    ``gap_tol``, else ``FEASIBLE``. ``extra["solution_source"]`` says which one it is."""
    maximise = spec.sense == "max"
    x = np.asarray(fallback, dtype=np.float64).copy()
    x[spec.integrality] = np.round(x[spec.integrality])
    viol = spec.max_violation(x)
    if viol > FEASIBILITY_TOL:
        return replace(res, message=f"{res.message}; fallback ignored: it violates the model by {viol:.3g}",
                       extra={**res.extra, "solution_source": "solver"})
    fobj = spec.objective_value(x)
    if res.status.has_solution and res.x is not None and (res.objective >= fobj if maximise else res.objective <= fobj):
        return replace(res, extra={**res.extra, "solution_source": "solver"})
    bound = res.bound
    why = "the solver found no solution" if not res.status.has_solution else \
        f"the solver's best ({res.objective:.10g}) is worse"
    if res.status in (SolveStatus.INFEASIBLE, SolveStatus.ERROR) or math.isnan(bound):
        # a claim of infeasibility is refuted by the feasible fallback; an error proves nothing
        bound = math.inf if maximise else -math.inf
    out = check_result(spec, x, SolveStatus.FEASIBLE, bound, res.seconds, res.solver, res.solver_version,
                       f"{res.message}; returned the fallback start ({why})", gap_tol)
    if out.status == SolveStatus.FEASIBLE and out.gap <= max(gap_tol, 1e-9) + 1e-12:
        out = replace(out, status=SolveStatus.OPTIMAL)
    return replace(out, extra={**res.extra, "solution_source": "fallback"})
