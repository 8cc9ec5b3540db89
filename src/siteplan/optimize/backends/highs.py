"""HiGHS backend through ``highspy`` (in process)."""

from __future__ import annotations

import math
import time

import numpy as np

from siteplan.optimize.milp import MilpResult, MilpSpec, SolveStatus

__all__ = ["solve_highs", "highs_version", "BOUND_EMPHASIS_OPTIONS"]

#: thread count the HiGHS global scheduler was last started with (0 = HiGHS default)
_THREADS = 0


_BANNER_SHOWN = False

#: HiGHS options added by ``emphasis="bound"`` (besides switching the primal heuristics off)
BOUND_EMPHASIS_OPTIONS = {
    "mip_pscost_minreliable": 0,
    "mip_allow_cut_separation_at_nodes": False,
    "mip_allow_restart": False,
}


def new_highs():
    """A ``highspy.Highs`` instance with console output off.

    HiGHS prints a copyright banner on the process's first instance, straight to file
    descriptor 1 (not through Python), which would corrupt ``--json`` output on stdout;
    the first construction therefore runs with fd 1 pointed at /dev/null.
    """
    import os
    import sys

    import highspy

    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        h = highspy.Highs()
    else:
        sys.stdout.flush()
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)
        _BANNER_SHOWN = True
    h.setOptionValue("output_flag", False)
    return h


def highs_version() -> str:
    h = new_highs()
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


def _build(h, spec: MilpSpec) -> None:
    import highspy

    lp = highspy.HighsLp()
    lp.num_col_ = spec.n_cols
    lp.num_row_ = spec.n_rows
    lp.col_cost_ = spec.c
    lp.col_lower_ = spec.col_lower
    lp.col_upper_ = spec.col_upper
    lp.row_lower_ = spec.row_lower
    lp.row_upper_ = spec.row_upper
    lp.offset_ = spec.offset
    lp.sense_ = highspy.ObjSense.kMaximize if spec.sense == "max" else highspy.ObjSense.kMinimize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = spec.n_cols
    lp.a_matrix_.num_row_ = spec.n_rows
    lp.a_matrix_.start_ = spec.indptr.astype(np.int32)
    lp.a_matrix_.index_ = spec.indices.astype(np.int32)
    lp.a_matrix_.value_ = spec.data
    if spec.integrality.any():
        lp.integrality_ = [highspy.HighsVarType.kInteger if v else highspy.HighsVarType.kContinuous
                           for v in spec.integrality]
    h.passModel(lp)


def solve_highs(spec: MilpSpec, *, time_limit, gap, threads, warm_start, seed, verbose,
                emphasis="balanced", cancel=None) -> MilpResult:
    """Solve ``spec`` with HiGHS; see :func:`siteplan.optimize.backends.solve_milp`.

    ``cancel`` (a ``threading.Event``): when set, the solve is interrupted and reports
    what it has (used by the "highs+cbc" race)."""
    import highspy

    from siteplan.optimize.backends import check_result, watchdog_seconds

    t0 = time.perf_counter()
    h = new_highs()
    h.setOptionValue("output_flag", bool(verbose))
    version = f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(gap))
    h.setOptionValue("random_seed", int(seed))
    if emphasis == "bound":
        # the incumbent is known: HiGHS otherwise spends its root node on sub-MIP heuristics
        h.setOptionValue("mip_heuristic_effort", 0.0)
        for name in ("mip_heuristic_run_rins", "mip_heuristic_run_rens", "mip_heuristic_run_root_reduced_cost",
                     "mip_heuristic_run_feasibility_jump"):
            h.setOptionValue(name, False)
        # proof-oriented search, measured on reduced-cost-fixed OR-Library covers (groups
        # 6, A-D, 2026-11-28; benchmarks/setcover/RESULTS.md): 2-4x faster proofs than with
        # the heuristics off alone. Pseudo-cost branching from the first node (no strong
        # branching), root cuts only, no root restart.
        for name, value in BOUND_EMPHASIS_OPTIONS.items():
            h.setOptionValue(name, value)
    global _THREADS
    want = 0 if threads is None else int(threads)
    if want != _THREADS:
        # HiGHS keeps one global thread pool; a different thread count needs a fresh one
        highspy.Highs.resetGlobalScheduler(True)
        _THREADS = want
    h.setOptionValue("threads", want)
    _build(h, spec)
    if warm_start is not None and spec.integrality.any():
        sol = highspy.HighsSolution()
        sol.col_value = list(np.asarray(warm_start, dtype=np.float64))
        sol.value_valid = True
        h.setSolution(sol)
    wd = watchdog_seconds(time_limit)
    fired = False
    if wd is None and cancel is None:
        h.run()
    else:
        # solve in highspy's worker thread; the interrupt callbacks poll cancelSolve's flag
        h.HandleUserInterrupt = True
        thread = h.startSolve()
        while True:
            done, _ = h.wait(0.05)
            if done:
                break
            if not fired and ((wd is not None and time.perf_counter() - t0 > wd)
                              or (cancel is not None and cancel.is_set())):
                fired = True
                h.cancelSolve()
        thread.join()
    seconds = time.perf_counter() - t0
    ms = h.getModelStatus()
    info = h.getInfo()
    stopped = " (cancelled)" if cancel is not None and cancel.is_set() else " (stopped by watchdog)"
    message = h.modelStatusToString(ms) + (stopped if fired else "")
    has_primal = int(info.primal_solution_status) == 2  # kSolutionStatusFeasible
    S = highspy.HighsModelStatus
    maximise = spec.sense == "max"
    if spec.integrality.any():
        bound = float(info.mip_dual_bound)
    else:
        bound = float(info.objective_function_value) if ms == S.kOptimal else math.nan
    if not math.isfinite(bound):
        bound = math.inf if maximise else -math.inf
    if ms == S.kOptimal:
        claimed = SolveStatus.OPTIMAL
    elif ms in (S.kInfeasible,):
        claimed = SolveStatus.INFEASIBLE
    elif ms in (S.kTimeLimit, S.kInterrupt, S.kHighsInterrupt, S.kIterationLimit, S.kSolutionLimit,
                S.kObjectiveBound, S.kObjectiveTarget, S.kMemoryLimit):
        claimed = SolveStatus.FEASIBLE if has_primal else SolveStatus.TIME_LIMIT_NO_SOLUTION
    elif ms == S.kModelEmpty:
        claimed = SolveStatus.OPTIMAL
    else:
        claimed = SolveStatus.ERROR
    x = None
    if claimed.has_solution:
        if ms == S.kModelEmpty:
            x = np.clip(np.zeros(spec.n_cols), spec.col_lower, spec.col_upper)
        elif has_primal:
            x = np.asarray(h.getSolution().col_value, dtype=np.float64)
    if claimed == SolveStatus.INFEASIBLE:
        bound = math.nan
    return check_result(spec, x, claimed, bound, seconds, "highs", version, message, gap)
