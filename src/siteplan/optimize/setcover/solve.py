"""``solve_set_cover``: reductions, Lagrangian heuristic and bounds, exact MILP, dispatched by method.

Methods (dispatch table :data:`METHODS`):

==============  ===========================================================================
"auto"          reductions, then the Lagrangian heuristic (:mod:`.lagrangian`); if the gap
                is not closed and the model left after reduced-cost fixing is large
                (> CORE_SKIP_NNZ non-zeros): the row-weighting local search of
                :mod:`.local` on the columns that survive reduced-cost fixing
                (:data:`LOCAL_SEARCH`), the core-based three-phase heuristic of
                :mod:`.cft` (HEURISTIC "cft", default), the local search again, then a
                MILP on a core (least reduced costs plus the columns of the heuristic's
                best covers); then, if the model left after reduced-cost
                fixing is small enough, the exact phase: the Lagrangian branch-and-bound
                (:mod:`.branch`, models of at most :data:`BRANCH_MAX_NNZ` non-zeros,
                demands 1, gap 0) for :data:`BRANCH_SHARE` of the time left, then, when
                its tree is not exhausted, the exact MILP with the best cover as warm
                start; otherwise the best cover with the best Lagrangian bound.
"exact"         reductions, a greedy cover as warm start, the exact MILP on the reduced
                model (no Lagrangian phase).
"lagrangian"    reductions, the core-based heuristic of :mod:`.cft`, then the local
                search of :mod:`.local` (HEURISTIC "core-milp": :mod:`.lagrangian`'s
                heuristic alone); bound = best L(u).
==============  ===========================================================================

For a :class:`~siteplan.optimize.setcover.problem.MaxCoverProblem`, "auto" and "exact"
solve the MILP with a greedy warm start; "greedy" returns the greedy selection with the
LP-relaxation bound; "lagrangian" is not available.

The reported bound is always valid: the best of the Lagrangian bound and the MILP's
proven bound, plus the cost of the columns forced by the reductions.

Time limits: the whole run counts, reductions and kernel loading included. The numba
kernels compile on a process's first solve (10-30 s with a cold cache, ~1 s to load from
numba's disk cache); :func:`warm_up` does it ahead of time. When they are neither
compiled nor cached and "auto" runs under a limit below :data:`COLD_COMPILE_MIN_LIMIT_S`,
the unreduced MILP goes straight to the solver instead (``stats["cold_start"]``), so a
short limit is never spent compiling.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from siteplan.exceptions import ModelError
from siteplan.model.covering import MaxCoverProblem, SetCoverProblem, csc_from_columns, transpose_pattern
from siteplan.optimize.backends import SOLVERS, solve_milp
from siteplan.optimize.milp import MilpBuilder, SolveStatus, relative_gap
from siteplan.optimize.setcover import _branch_kernels, _kernels, _local_kernels
from siteplan.optimize.setcover.cft import cft_probe_kernels, cft_search
from siteplan.optimize.setcover.lagrangian import (
    greedy_cover,
    improve_cover,
    initial_multipliers,
    lagrangian_bound,
    lagrangian_search,
    reduced_cost_fixing,
)
from siteplan.optimize.setcover.branch import branch_and_bound
from siteplan.optimize.setcover.local import MAX_STALE_EPISODES, row_weighting_search
from siteplan.optimize.setcover.reduce import Reduction, reduce_problem

__all__ = ["SetCoverResult", "solve_set_cover", "warm_up", "kernels_ready", "kernels_cached", "METHODS",
           "MAXCOVER_METHODS", "EXACT_MAX_NNZ", "BRANCH_MAX_NNZ"]

#: "auto" hands the (reduced-cost fixed) model to the MILP solver only below this many
#: non-zeros; larger models keep the heuristic's answer and bound.
EXACT_MAX_NNZ = 400_000
#: share of the remaining time "auto" gives the Lagrangian heuristic, then the core MILP
AUTO_LAGRANGIAN_SHARE = 0.3
AUTO_CORE_SHARE = 0.4
#: the core MILP runs only when the model left after reduced-cost fixing exceeds this
CORE_SKIP_NNZ = 30_000
#: refinement rounds of the Lagrangian heuristic when an exact phase follows
AUTO_ROUNDS = 10
#: improvement heuristic of "auto" on models too large to prove soon (more than
#: CORE_SKIP_NNZ non-zeros left after reduced-cost fixing) and of "lagrangian": "cft" = the
#: core-based three-phase heuristic of :mod:`.cft` (Caprara, Fischetti & Toth 1999);
#: "core-milp" = the MILP on a core of CORE_PER_ROW columns per row ("auto" only; the
#: heuristic of "lagrangian" is then :func:`.lagrangian.lagrangian_search` alone)
HEURISTIC = "cft"
#: with HEURISTIC "cft": share of the time left that "auto" gives the first (whole-problem)
#: Lagrangian heuristic, then the core-based heuristic on large models (the core MILP
#: follows, with the columns of the heuristic's best covers added to its core)
AUTO_FIRST_SHARE_CFT = 0.1
AUTO_CFT_SHARE = 0.3
#: with HEURISTIC "cft": run the row-weighting local search of :mod:`.local` ("auto": on
#: models left large after reduced-cost fixing, before the core-based heuristic with
#: AUTO_LOCAL_FIRST_SHARE of the time left and after it with AUTO_LOCAL_SHARE;
#: "lagrangian": after the core-based heuristic, LAGRANGIAN_LOCAL_SHARE of its time).
#: Without a time limit it stops after :data:`.local.MAX_STALE_EPISODES` episodes
#: without a better cover.
LOCAL_SEARCH = True
AUTO_LOCAL_FIRST_SHARE = 0.4
AUTO_LOCAL_SHARE = 0.5
#: "auto": the first local search stops after this many stale episodes (the second one
#: too when the first found nothing: on rail507 it never helps and would take ~30 s of
#: 60 from the core-based heuristic and the MILPs); else :data:`.local.MAX_STALE_EPISODES`
AUTO_LOCAL_FIRST_STALE = 8
LAGRANGIAN_LOCAL_SHARE = 0.4
#: with HEURISTIC "cft" and no time limit: "auto" stops the core-based heuristic after this
#: many refinement rounds without a better cover
AUTO_PATIENCE = 15
#: core size: least-reduced-cost columns kept per row
CORE_PER_ROW = 20
#: without a time limit, "auto" caps its exact phase at AUTO_EXACT_CAP_S when the model left
#: after reduced-cost fixing has more non-zeros than this (smaller models are solved to proof)
UNCAPPED_EXACT_MAX_NNZ = 50_000
AUTO_EXACT_CAP_S = 120.0
#: the exact phase asks the MILP solver for a proof-oriented search (emphasis="bound")
#: only on models left after reduced-cost fixing with at most this many non-zeros
BOUND_EMPHASIS_MAX_NNZ = 12_000
#: core MILP limit when no overall time limit is given [s]
CORE_TIME_CAP_S = 20.0
#: the exact phase first runs the Lagrangian branch-and-bound (:mod:`.branch`) on models
#: left after reduced-cost fixing with at most this many non-zeros (all demands 1, gap 0),
#: for BRANCH_SHARE of the time left (BRANCH_CAP_S without a limit); the MILP solver gets
#: the rest when the tree is not exhausted by then
BRANCH_MAX_NNZ = 12_000
BRANCH_SHARE = 0.6
BRANCH_CAP_S = 60.0


@dataclass(frozen=True)
class SetCoverResult:
    """Answer of :func:`solve_set_cover`.

    Attributes
    ----------
    columns : chosen columns, 0-based indices of the original problem, sorted.
    cost : total cost c.x of ``columns``.
    objective : the objective optimised (= cost for set cover; covered weight for
        maximal covering).
    bound : proven bound on the optimum (lower bound when minimising, upper bound when
        maximising).
    gap : relative gap |objective - bound| / |objective| (0 = proven optimal).
    status : normalised :class:`SolveStatus`.
    seconds : wall-clock time [s].
    solver : "<backend> <version>" of the MILP solver used, or "lagrangian" when none ran.
    method : the method that ran.
    stats : reductions, iterations and phase timings.
    """

    columns: np.ndarray
    cost: float
    objective: float
    bound: float
    gap: float
    status: SolveStatus
    seconds: float
    solver: str
    method: str
    stats: dict = field(default_factory=dict)

    @property
    def lower_bound(self) -> float:
        """The proven lower bound (set cover); for maximal covering, the upper bound."""
        return self.bound

    def to_json(self, one_based: bool = True) -> dict:
        """The result as JSON-ready values (columns 1-based by default)."""
        return {
            "cost": self.cost,
            "objective": self.objective,
            "columns": [int(c) + (1 if one_based else 0) for c in self.columns],
            "lower_bound": self.bound if math.isfinite(self.bound) else None,
            "gap": self.gap if math.isfinite(self.gap) else None,
            "status": self.status.value,
            "seconds": round(self.seconds, 4),
            "solver": self.solver,
            "method": self.method,
        }


def kernels_ready() -> bool:
    """Whether every numba kernel of the set-cover engine is compiled (or loaded from the
    on-disk cache) in this process."""
    # with NUMBA_DISABLE_JIT=1 the kernels are plain Python functions: nothing to compile
    return all(getattr(getattr(module, name), "signatures", True) for module, name in _all_kernels())


def _all_kernels():
    return ([(_kernels, name) for name in _KERNEL_NAMES] + [(_branch_kernels, "_branch_and_bound_kernel")]
            + [(_local_kernels, "_local_init_kernel"), (_local_kernels, "_local_search_kernel")])


_KERNEL_NAMES = ("_row_dominance_kernel", "_col_dominance_kernel", "_lagrangian_value_kernel",
                 "_subgradient_kernel", "_greedy_kernel", "_improve_kernel", "_greedy_picks_kernel",
                 "_cft_heuristic_kernel", "_two_for_one_kernel")


def warm_up() -> float:
    """Compile (or load from numba's on-disk cache) every set-cover kernel by solving a
    tiny built-in instance without a MILP; returns the seconds it took [s].

    The first solve of a process otherwise pays this inside its own time budget: with a
    cold cache, 10-30 s on a loaded 2-core machine, more than a short ``time_limit``.
    :func:`solve_set_cover` calls it itself (and reports ``stats["warmup_seconds"]``) when
    the kernels are not ready; benchmarks call it before their timed region.
    """
    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    m, n = 12, 16
    cols = [sorted(set(rng.choice(m, size=int(rng.integers(1, 5)), replace=False).tolist())) for _ in range(n)]
    cols.append(list(range(m)))  # one covering column: the problem is always feasible
    ptr, rows = csc_from_columns(m, cols)
    costs = rng.integers(1, 9, size=n + 1).astype(np.float64)
    costs[-1] = 60.0
    problem = SetCoverProblem(m, ptr, rows, costs)
    red = reduce_problem(problem, dominance=True)
    if red.n_rows:
        lagrangian_search(red, time_limit=None, seed=0, max_rounds=1)
        cft_search(red, time_limit=None, seed=0, max_rounds=2)
        x = greedy_cover(red, initial_multipliers(red))
        if x is not None:
            improve_cover(red, x)
            row_weighting_search(red, x, seed=0, max_iterations=200)
    # kernels a tiny instance may leave untouched (reductions can solve it outright)
    if not kernels_ready():
        _probe_all_kernels()
    return time.perf_counter() - t0


def _probe_all_kernels() -> None:
    """Call every kernel once on a 2x3 instance that no reduction can shrink."""
    # rows {0,1}, columns {0},{1},{0,1}: costs chosen so no column dominates
    ptr, rows = csc_from_columns(2, [[0], [1], [0, 1]])
    problem = SetCoverProblem(2, ptr, rows, np.array([1.0, 1.0, 1.5]))
    red = reduce_problem(problem, dominance=False)
    u = initial_multipliers(red)
    lagrangian_bound(red, u)
    lagrangian_search(red, time_limit=None, seed=0, max_rounds=1)
    cft_probe_kernels(red)
    x = greedy_cover(red, u)
    if x is not None:
        improve_cover(red, x)
        branch_and_bound(red, u, x, time_limit=None)
        row_weighting_search(red, x, seed=0, max_iterations=20)
    reduce_problem(problem, dominance=True)


def kernels_cached() -> bool:
    """Whether numba's on-disk cache holds every set-cover kernel for the current source
    (loading them then takes about a second instead of compiling for 10-30 s)."""
    try:
        return all(len(getattr(module, name)._cache._cache_file._load_index()) > 0 for module, name in _all_kernels())
    except Exception:  # numba internals changed or caching is off: assume a compile is needed
        return False


#: with cold kernels (not in memory, not in numba's disk cache), "auto" under a time
#: limit shorter than this solves the unreduced MILP instead of compiling first [s]
COLD_COMPILE_MIN_LIMIT_S = 60.0


def _plain_exact(problem: SetCoverProblem, t0, time_limit, gap, solver, seed, threads, stats) -> SetCoverResult:
    """The whole MILP (fixings as bounds) handed to the solver, no numba kernel involved."""
    b = MilpBuilder("min")
    x = b.add_columns("x", problem.n_cols, cost=problem.costs, lower=problem.fixed_in.astype(np.float64),
                      upper=(~problem.fixed_out).astype(np.float64), integer=True)
    rp, rc = problem.row_view
    b.add_rows("cover", rp, x.index(rc), np.ones(rc.size), lower=problem.demand.astype(np.float64))
    left = None if time_limit is None else max(time_limit - (time.perf_counter() - t0), 0.05)
    res = solve_milp(b.build(), solver, time_limit=left, gap=gap, threads=threads, seed=seed)
    stats.update(milp_status=res.status.value, milp_seconds=round(res.seconds, 4))
    label = _solver_label(res)
    seconds = time.perf_counter() - t0
    if not res.status.has_solution:
        return SetCoverResult(np.zeros(0, np.int64), math.nan, math.nan,
                              math.nan if res.status == SolveStatus.INFEASIBLE else res.bound, math.inf,
                              res.status, seconds, label, "auto", stats)
    cols = np.flatnonzero(res.x > 0.5).astype(np.int64)
    cost = problem.cost_of(cols)
    bound = min(res.bound, cost) if math.isfinite(res.bound) else res.bound
    if np.all(problem.costs == np.round(problem.costs)) and math.isfinite(bound):
        bound = min(math.ceil(bound - 1e-6), cost)
    g = relative_gap(cost, bound)
    status = SolveStatus.OPTIMAL if (res.status == SolveStatus.OPTIMAL or g <= 1e-9) else SolveStatus.FEASIBLE
    return SetCoverResult(cols, cost, cost, float(bound), g, status, seconds, label, "auto", stats)


def _solver_label(res) -> str:
    return f"{res.solver} {res.solver_version}".strip()


def _finish(problem: SetCoverProblem, red: Reduction, x_red, lb_red: float, t0: float, solver: str,
            method: str, stats: dict, proven: bool, gap_tol: float) -> SetCoverResult:
    seconds = time.perf_counter() - t0
    if red.infeasible is not None or x_red is None:
        return SetCoverResult(np.zeros(0, np.int64), math.nan, math.nan, math.nan if red.infeasible else
                              red.forced_cost + lb_red, math.inf,
                              SolveStatus.INFEASIBLE if red.infeasible else SolveStatus.TIME_LIMIT_NO_SOLUTION,
                              seconds, solver, method, {**stats, "reason": red.infeasible})
    cols = red.expand(x_red)
    cost = problem.cost_of(cols)
    if not problem.is_feasible(cols):  # pragma: no cover - a bug guard, never expected
        raise ModelError("internal error: the set-cover answer is not feasible")
    bound = red.forced_cost + lb_red
    if red.integral_costs and np.all(problem.costs == np.round(problem.costs)):
        bound = math.ceil(bound - 1e-6)
    bound = cost if proven else min(bound, cost)
    gap = relative_gap(cost, bound)
    if proven or gap <= 1e-9:
        status = SolveStatus.OPTIMAL
    else:
        status = SolveStatus.OPTIMAL if gap <= gap_tol else SolveStatus.FEASIBLE
    return SetCoverResult(cols, cost, cost, float(bound), gap, status, seconds, solver, method, stats)


def _cover_spec(red: Reduction, keep: np.ndarray, fix_one: np.ndarray):
    """MILP of the reduced problem restricted to columns ``keep`` (bool), ``fix_one`` forced to 1."""
    idx = np.flatnonzero(keep)
    new = np.full(red.n_cols, -1, np.int64)
    new[idx] = np.arange(idx.size)
    b = MilpBuilder("min")
    lower = fix_one[idx].astype(np.float64)
    b.add_columns("x", idx.size, cost=red.costs[idx], lower=lower, upper=1.0, integer=True)
    ent = new[red.row_cols]
    ok = ent >= 0
    rows = np.repeat(np.arange(red.n_rows), np.diff(red.row_ptr))[ok]
    ptr = np.zeros(red.n_rows + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=red.n_rows), out=ptr[1:])
    b.add_rows("cover", ptr, ent[ok], np.ones(ok.sum()), lower=red.need.astype(np.float64))
    return b.build(), idx


def _run_exact(red: Reduction, x_start, lb: float, u, time_left, gap, solver, seed, threads, stats,
               fixing: bool):
    """Exact MILP (after reduced-cost fixing when a bound and incumbent exist).

    Returns (x_red, bound_red, proven, solver_label)."""
    keep = np.ones(red.n_cols, bool)
    fix_one = np.zeros(red.n_cols, bool)
    ub = float(red.costs[x_start.astype(bool)].sum()) if x_start is not None else math.inf
    if fixing and x_start is not None and u is not None and math.isfinite(lb):
        keep, fix_one, _ = reduced_cost_fixing(red, u, x_start)
        stats["rc_fixed_out"] = int((~keep).sum())
        stats["rc_fixed_in"] = int(fix_one.sum())
        nnz = int(np.diff(red.col_ptr)[keep].sum())
        if gap <= 0 and np.all(red.need == 1) and nnz <= BRANCH_MAX_NNZ:
            t_bb = time.perf_counter()
            if time_left is None:
                bb_time = BRANCH_CAP_S
            else:
                bb_time = time_left * BRANCH_SHARE
            bb = branch_and_bound(red, u, x_start, keep=keep, fix_one=fix_one, time_limit=bb_time)
            stats.update(bb_nodes=bb.nodes, bb_seconds=round(bb.seconds, 4), bb_exhausted=bb.exhausted,
                         bb_root_bound=bb.root_bound + red.forced_cost)
            if bb.exhausted:
                return bb.x, bb.cost, True, "branch-and-bound"
            if math.isfinite(bb.root_bound):
                lb = max(lb, min(bb.root_bound, bb.cost))
            if bb.cost < ub - 1e-9:
                x_start, ub = bb.x, bb.cost
                keep, fix_one, _ = reduced_cost_fixing(red, u, x_start)
            if time_left is not None:
                time_left = max(time_left - (time.perf_counter() - t_bb), 0.05)
    spec, idx = _cover_spec(red, keep, fix_one)
    stats["milp_cols"] = int(spec.n_cols)
    stats["milp_nnz"] = int(spec.nnz)
    warm = None if x_start is None else x_start[idx].astype(np.float64)
    # a small model is there to be proven: the solver's primal heuristics off (the warm start
    # is good); a large one will rarely be proven in time, and its heuristics may still
    # improve the cover
    emphasis = "bound" if fixing and spec.nnz <= BOUND_EMPHASIS_MAX_NNZ else "balanced"
    stats["milp_emphasis"] = emphasis
    res = solve_milp(spec, solver, time_limit=time_left, gap=gap, threads=threads, warm_start=warm, seed=seed,
                     emphasis=emphasis)
    stats["milp_status"] = res.status.value
    stats["milp_seconds"] = round(res.seconds, 4)
    label = _solver_label(res)
    x_best = x_start
    if res.status.has_solution:
        x = np.zeros(red.n_cols, np.uint8)
        x[idx[res.x > 0.5]] = 1
        if x_start is None or float(red.costs[x.astype(bool)].sum()) < ub - 1e-9:
            x_best = x
    bound = lb
    if res.status.has_solution or res.status == SolveStatus.TIME_LIMIT_NO_SOLUTION:
        if math.isfinite(res.bound):
            bound = max(bound, res.bound)
    proven = res.status == SolveStatus.OPTIMAL and gap <= 0
    if res.status == SolveStatus.INFEASIBLE and x_start is not None:
        # restricted model only holds covers no worse than the incumbent: incumbent optimal
        # only if the incumbent itself was in it, which it always is; keep it, claim nothing
        stats["milp_note"] = "restricted model reported infeasible"
    return x_best, bound, proven, label


def _method_exact(problem, red, t0, time_limit, gap, solver, seed, threads, stats):
    if red.n_rows == 0:
        return _finish(problem, red, np.zeros(red.n_cols, np.uint8), 0.0, t0, "reductions", "exact", stats, True, gap)
    x0 = greedy_cover(red, initial_multipliers(red))
    if x0 is not None:
        x0 = improve_cover(red, x0)
    left = None if time_limit is None else max(time_limit - (time.perf_counter() - t0), 0.05)
    x, bound, proven, label = _run_exact(red, x0, -math.inf, None, left, gap, solver, seed, threads, stats,
                                         fixing=False)
    return _finish(problem, red, x, bound, t0, label, "exact", stats, proven, gap)


def _core_columns(red: Reduction, u: np.ndarray, x: np.ndarray, per_row: int) -> np.ndarray:
    """Core (Caprara, Fischetti & Toth 1999): for every row the ``per_row`` columns of least
    Lagrangian reduced cost, plus the columns of the incumbent ``x``."""
    _, rc = lagrangian_bound(red, u)
    core = x.astype(bool).copy()
    lens = np.diff(red.row_ptr)
    rows_of = np.repeat(np.arange(red.n_rows), lens)
    # sort entries by (row, reduced cost); keep the first per_row of every row
    order = np.lexsort((rc[red.row_cols], rows_of))
    rank = np.arange(order.size) - np.repeat(red.row_ptr[:-1], lens)
    core[red.row_cols[order[rank < per_row]]] = True
    return core


def _core_phase(red, x_best, u, time_left, solver, seed, threads, stats, pool=()):
    """Improve the incumbent by solving the MILP restricted to the core (a heuristic: its
    bound is not a bound of the whole problem and is not reported); the columns of the
    covers in ``pool`` join the core."""
    core = _core_columns(red, u, x_best, CORE_PER_ROW)
    for x in pool:
        core |= np.asarray(x).astype(bool)
    stats["core_cols"] = int(core.sum())
    if core.sum() >= 0.8 * red.n_cols:
        return x_best
    spec, idx = _cover_spec(red, core, np.zeros(red.n_cols, bool))
    res = solve_milp(spec, solver, time_limit=time_left, threads=threads, warm_start=x_best[idx].astype(float),
                     seed=seed)
    stats["core_status"] = res.status.value
    stats["core_seconds"] = round(res.seconds, 4)
    if res.status.has_solution:
        x = np.zeros(red.n_cols, np.uint8)
        x[idx[res.x > 0.5]] = 1
        x = improve_cover(red, x)
        if red.costs[x.astype(bool)].sum() < red.costs[x_best.astype(bool)].sum() - 1e-9:
            stats["core_cost"] = float(red.costs[x.astype(bool)].sum() + red.forced_cost)
            return x
    return x_best


def _local_phase(red: Reduction, x_best: np.ndarray, u: np.ndarray, lower_bound: float, time_left, share: float,
                 seed: int, stats: dict, max_stale: int = MAX_STALE_EPISODES):
    """Row-weighting local search (:mod:`.local`) from the cover ``x_best`` on the
    columns that survive reduced-cost fixing against it, for ``share`` of ``time_left``
    or until ``max_stale`` episodes in a row found nothing better; it stops early at a
    cover meeting the rounded-up bound."""
    keep, _, _ = reduced_cost_fixing(red, u, x_best)
    target = math.ceil(lower_bound - 1e-6) if red.integral_costs else lower_bound * (1.0 + 1e-9)
    ls = row_weighting_search(red, x_best, alive=keep, seed=seed, target=target, max_stale=max_stale,
                              time_limit=None if time_left is None else max(time_left * share, 0.05))
    # accumulated over the local phases of one solve
    stats["local_seconds"] = round(stats.get("local_seconds", 0.0) + ls.seconds, 4)
    stats["local_iterations"] = stats.get("local_iterations", 0) + ls.iterations
    stats["local_episodes"] = stats.get("local_episodes", 0) + ls.episodes
    stats["local_columns"] = int(keep.sum())
    return ls


def _method_lagrangian(problem, red, t0, time_limit, gap, solver, seed, threads, stats, *, exact_after=False):
    method = "auto" if exact_after else "lagrangian"
    if red.n_rows == 0:
        return _finish(problem, red, np.zeros(red.n_cols, np.uint8), 0.0, t0, "reductions", method, stats, True, gap)

    def left():
        return None if time_limit is None else time_limit - (time.perf_counter() - t0)

    budget = None
    share = (AUTO_FIRST_SHARE_CFT if HEURISTIC == "cft" else AUTO_LAGRANGIAN_SHARE) if exact_after else 1.0
    if time_limit is not None:
        budget = max(left() * share, 0.05)
    t_h0 = time.perf_counter()  # trajectories: seconds since the heuristics began
    if exact_after or HEURISTIC != "cft":
        out = lagrangian_search(red, time_limit=budget, seed=seed,
                                max_rounds=AUTO_ROUNDS if exact_after else None)
    else:
        cft_budget = budget if budget is None or not LOCAL_SEARCH else budget * (1.0 - LAGRANGIAN_LOCAL_SHARE)
        out = cft_search(red, time_limit=cft_budget, seed=seed,
                         patience=AUTO_PATIENCE if time_limit is None else None)
        if LOCAL_SEARCH and out.x is not None and not out.proven:
            t_ls = time.perf_counter() - t_h0
            ls = _local_phase(red, out.x, out.u, out.lower_bound, left(), 1.0, seed, stats)
            if ls.cost < out.cost - 1e-9:
                out.trajectory = tuple(out.trajectory) + tuple((round(t + t_ls, 4), c) for t, c in ls.trajectory)
                out.x, out.cost = ls.x, ls.cost
            out.proven = ls.reached_target
    stats.update(lagrangian_iterations=out.iterations, lagrangian_rounds=out.rounds,
                 lagrangian_seconds=round(out.seconds, 4), lagrangian_lb=out.lower_bound + red.forced_cost,
                 heuristic_cost=out.cost + red.forced_cost,
                 heuristic_trajectory=[(t, c + red.forced_cost) for t, c in out.trajectory])
    if out.proven or not exact_after or out.x is None:
        return _finish(problem, red, out.x, out.lower_bound, t0, "lagrangian", method, stats, out.proven, gap)

    def closed(x):
        ub = float(red.costs[x.astype(bool)].sum())
        lbc = math.ceil(out.lower_bound - 1e-6) if red.integral_costs else out.lower_bound
        return relative_gap(ub, lbc) <= gap

    x_best = out.x
    label = "lagrangian"
    if closed(x_best) or (left() is not None and left() < 0.05):
        return _finish(problem, red, x_best, out.lower_bound, t0, label, method, stats, False, gap)

    def surviving_nnz(x):
        # size of the model left after reduced-cost fixing against the cover x
        survive, _, _ = reduced_cost_fixing(red, out.u, x)
        return int(np.diff(red.col_ptr)[survive].sum())

    nnz = surviving_nnz(x_best)
    pool = ()
    local_done = False  # a local search met the rounded-up bound: nothing cheaper exists
    local_helped = False  # the first local search found a better cover

    def local_phase(x, lab, share, max_stale):
        nonlocal local_done, local_helped
        t_ls = time.perf_counter() - t_h0
        ls = _local_phase(red, x, out.u, out.lower_bound, left(), share, seed, stats, max_stale)
        local_done = ls.reached_target
        if ls.cost < float(red.costs[x.astype(bool)].sum()) - 1e-9:
            local_helped = True
            stats["heuristic_cost"] = ls.cost + red.forced_cost
            stats["heuristic_trajectory"] += [(round(t + t_ls, 4), c + red.forced_cost) for t, c in ls.trajectory]
            return ls.x, lab if lab.endswith("+local") else lab + "+local"
        return x, lab

    def stop(x):
        return local_done or closed(x) or (left() is not None and left() < 0.05)

    if nnz > CORE_SKIP_NNZ and HEURISTIC == "cft":
        # a model too large to prove soon: the local search, the core-based heuristic and
        # the local search again (from the core-based heuristic's cover) improve the cover,
        # and with it reduced-cost fixing
        if LOCAL_SEARCH:
            x_best, label = local_phase(x_best, label, AUTO_LOCAL_FIRST_SHARE, AUTO_LOCAL_FIRST_STALE)
            nnz = surviving_nnz(x_best)
            if stop(x_best):
                return _finish(problem, red, x_best, out.lower_bound, t0, label, method, stats, False, gap)
    if nnz > CORE_SKIP_NNZ and HEURISTIC == "cft":
        t_cft = time.perf_counter() - t_h0
        more = cft_search(red, time_limit=None if time_limit is None else max(left() * AUTO_CFT_SHARE, 0.05),
                          seed=seed, incumbent=x_best, patience=AUTO_PATIENCE if time_limit is None else None)
        stats.update(cft_seconds=round(more.seconds, 4), cft_rounds=more.rounds,
                     cft_lb=more.lower_bound + red.forced_cost)
        pool = more.pool
        if more.x is not None and more.cost < float(red.costs[x_best.astype(bool)].sum()) - 1e-9:
            label += "+cft"
            x_best = more.x
            stats["heuristic_cost"] = more.cost + red.forced_cost
            stats["heuristic_trajectory"] += [(round(t + t_cft, 4), c + red.forced_cost)
                                              for t, c in more.trajectory]
        if more.lower_bound > out.lower_bound:
            out.lower_bound, out.u = more.lower_bound, more.u
        nnz = surviving_nnz(x_best)
        if stop(x_best):
            return _finish(problem, red, x_best, out.lower_bound, t0, label, method, stats, False, gap)
        if LOCAL_SEARCH:
            # a search that found nothing from the Lagrangian cover gets a short second try
            x_best, label = local_phase(x_best, label, AUTO_LOCAL_SHARE,
                                        MAX_STALE_EPISODES if local_helped else AUTO_LOCAL_FIRST_STALE)
            nnz = surviving_nnz(x_best)
            if stop(x_best):
                return _finish(problem, red, x_best, out.lower_bound, t0, label, method, stats, False, gap)
    if nnz > CORE_SKIP_NNZ:
        # core MILP: a better incumbent makes reduced-cost fixing stronger
        core_time = CORE_TIME_CAP_S if time_limit is None else max(left() * AUTO_CORE_SHARE, 0.05)
        x_core = _core_phase(red, x_best, out.u, core_time, solver, seed, threads, stats, pool)
        if x_core is not x_best:
            label += "+core"
            x_best = x_core
            nnz = surviving_nnz(x_best)
        if closed(x_best) or (left() is not None and left() < 0.05):
            return _finish(problem, red, x_best, out.lower_bound, t0, label, method, stats, False, gap)
    stats["rc_surviving_nnz"] = nnz
    if nnz > EXACT_MAX_NNZ:
        return _finish(problem, red, x_best, out.lower_bound, t0, label, method, stats, False, gap)
    exact_time = left()
    if exact_time is None and nnz > UNCAPPED_EXACT_MAX_NNZ:
        exact_time = AUTO_EXACT_CAP_S  # no limit given, large model: do not try to prove forever
        stats["exact_time_cap_s"] = exact_time
    x, bound, proven, milp_label = _run_exact(red, x_best, out.lower_bound, out.u, exact_time, gap, solver, seed,
                                              threads, stats, fixing=True)
    return _finish(problem, red, x, bound, t0, label + "+" + milp_label, method, stats, proven, gap)


def _method_auto(problem, red, t0, time_limit, gap, solver, seed, threads, stats):
    return _method_lagrangian(problem, red, t0, time_limit, gap, solver, seed, threads, stats, exact_after=True)


#: method name -> private solver for SetCoverProblem
METHODS = {"auto": _method_auto, "exact": _method_exact, "lagrangian": _method_lagrangian}


# -- maximal covering -------------------------------------------------------------------------


def _maxcover_spec(p: MaxCoverProblem):
    b = MilpBuilder("max")
    x = b.add_columns("x", p.n_cols, cost=0.0, lower=p.fixed_in.astype(float),
                      upper=(~p.fixed_out).astype(float), integer=True)
    y = b.add_columns("y", p.n_rows, cost=p.weights, lower=0.0, upper=1.0, integer=False)
    # y_i - sum_{j covers i} x_j <= 0
    rp, rc = transpose_pattern(
        p.n_rows, p.col_ptr, p.col_rows)
    lens = np.diff(rp)
    ptr = np.zeros(p.n_rows + 1, np.int64)
    np.cumsum(lens + 1, out=ptr[1:])
    idx = np.empty(ptr[-1], np.int64)
    val = np.empty(ptr[-1])
    first = ptr[:-1]
    idx[first] = y.start + np.arange(p.n_rows)
    val[first] = 1.0
    mask = np.ones(ptr[-1], bool)
    mask[first] = False
    idx[mask] = x.start + rc
    val[mask] = -1.0
    b.add_rows("link", ptr, idx, val, upper=0.0)
    if p.budget is not None:
        b.add_rows("budget", np.array([0, p.n_cols]), x.start + np.arange(p.n_cols), p.costs, upper=float(p.budget))
    if p.max_columns is not None:
        b.add_rows("count", np.array([0, p.n_cols]), x.start + np.arange(p.n_cols), np.ones(p.n_cols),
                   upper=float(p.max_columns))
    return b.build(), x, y


def _maxcover_greedy(p: MaxCoverProblem) -> np.ndarray | None:
    """Greedy by covered weight per unit cost within budget and count; None if fixings break them."""
    x = p.fixed_in.copy()
    spent = float(p.costs[x].sum())
    count = int(x.sum())
    if (p.budget is not None and spent > p.budget + 1e-9) or (p.max_columns is not None and count > p.max_columns):
        return None
    covered = p.covered(np.flatnonzero(x))
    entry_col = np.repeat(np.arange(p.n_cols), np.diff(p.col_ptr))
    while True:
        if p.max_columns is not None and count >= p.max_columns:
            break
        gain = np.bincount(entry_col, weights=p.weights[p.col_rows] * (~covered[p.col_rows]), minlength=p.n_cols)
        allowed = ~x & ~p.fixed_out & (gain > 0)
        if p.budget is not None:
            allowed &= p.costs <= p.budget - spent + 1e-9
        if not allowed.any():
            break
        score = np.where(allowed, gain / np.maximum(p.costs, 1e-12), -np.inf)
        j = int(np.argmax(score))
        x[j] = True
        spent += p.costs[j]
        count += 1
        covered[p.col_rows[p.col_ptr[j]:p.col_ptr[j + 1]]] = True
    return x


def _maxcover_result(p, x, bound, t0, label, method, stats, status_hint):
    cols = np.flatnonzero(x).astype(np.int64)
    val = p.value_of(cols)
    bound = max(bound, val) if math.isfinite(bound) else bound
    gap = relative_gap(val, bound)
    status = SolveStatus.OPTIMAL if (status_hint == SolveStatus.OPTIMAL or gap <= 1e-9) else SolveStatus.FEASIBLE
    return SetCoverResult(cols, float(p.costs[cols].sum()), val, float(bound), gap, status,
                          time.perf_counter() - t0, label, method, stats)


def _maxcover_exact(p, t0, time_limit, gap, solver, seed, threads, stats, method="exact"):
    spec, xb, yb = _maxcover_spec(p)
    xg = _maxcover_greedy(p)
    warm = None
    if xg is not None:
        warm = np.zeros(spec.n_cols)
        warm[xb.start:xb.stop] = xg
        warm[yb.start:yb.stop] = p.covered(np.flatnonzero(xg))
    left = None if time_limit is None else max(time_limit - (time.perf_counter() - t0), 0.05)
    res = solve_milp(spec, solver, time_limit=left, gap=gap, threads=threads, warm_start=warm, seed=seed)
    stats.update(milp_status=res.status.value, milp_seconds=round(res.seconds, 4))
    if res.status == SolveStatus.INFEASIBLE:
        return SetCoverResult(np.zeros(0, np.int64), math.nan, math.nan, math.nan, math.inf, SolveStatus.INFEASIBLE,
                              time.perf_counter() - t0, _solver_label(res), method,
                              {**stats, "reason": "fixed-in columns break the budget or the column count"})
    if res.status.has_solution:
        x = res.x[xb.start:xb.stop] > 0.5
        if xg is not None and p.value_of(np.flatnonzero(xg)) > p.value_of(np.flatnonzero(x)):
            x = xg
        hint = res.status if res.status == SolveStatus.OPTIMAL and gap <= 0 else SolveStatus.FEASIBLE
        return _maxcover_result(p, x, res.bound, t0, _solver_label(res), method, stats, hint)
    if xg is not None:
        return _maxcover_result(p, xg, res.bound if math.isfinite(res.bound) else math.inf, t0,
                                _solver_label(res), method, stats, SolveStatus.FEASIBLE)
    return SetCoverResult(np.zeros(0, np.int64), math.nan, math.nan, res.bound, math.inf, res.status,
                          time.perf_counter() - t0, _solver_label(res), method, stats)


def _maxcover_greedy_method(p, t0, time_limit, gap, solver, seed, threads, stats):
    xg = _maxcover_greedy(p)
    if xg is None:
        return SetCoverResult(np.zeros(0, np.int64), math.nan, math.nan, math.nan, math.inf, SolveStatus.INFEASIBLE,
                              time.perf_counter() - t0, "greedy", "greedy",
                              {**stats, "reason": "fixed-in columns break the budget or the column count"})
    spec, xb, yb = _maxcover_spec(p)
    relaxed = type(spec)(**{**{k: getattr(spec, k) for k in spec.__dataclass_fields__},
                            "integrality": np.zeros(spec.n_cols, bool)})
    left = None if time_limit is None else max(time_limit - (time.perf_counter() - t0), 0.05)
    res = solve_milp(relaxed, solver, time_limit=left, threads=threads, seed=seed)
    bound = res.objective if res.status == SolveStatus.OPTIMAL else math.inf
    return _maxcover_result(p, xg, bound, t0, "greedy+lp " + _solver_label(res), "greedy", stats,
                            SolveStatus.FEASIBLE)


#: method name -> private solver for MaxCoverProblem
MAXCOVER_METHODS = {
    "auto": lambda p, *a: _maxcover_exact(p, *a, method="auto"),
    "exact": _maxcover_exact,
    "greedy": _maxcover_greedy_method,
}


def solve_set_cover(problem, method: str = "auto", solver: str = "highs", time_limit: float | None = None,
                    gap: float = 0.0, seed: int = 0, *, threads: int | None = None,
                    reductions: bool = True) -> SetCoverResult:
    """Solve a weighted set cover / multi-cover (:class:`SetCoverProblem`) or a maximal
    covering problem (:class:`MaxCoverProblem`).

    Parameters
    ----------
    problem : the problem.
    method : a key of :data:`METHODS` (set cover) or :data:`MAXCOVER_METHODS`.
    solver : MILP backend, a key of :data:`siteplan.optimize.backends.SOLVERS`:
        "highs" (default), "cbc", or "highs+cbc" (both race on every MILP phase, the
        first proof wins; takes a second core).
    time_limit : wall-clock budget for the whole solve [s]; ``None`` for none: the
        Lagrangian phase then stops after its round budget, the core MILP after
        :data:`CORE_TIME_CAP_S`, and "auto" runs its exact phase to proof only when the
        model left after reduced-cost fixing has at most :data:`UNCAPPED_EXACT_MAX_NNZ`
        non-zeros (else for :data:`AUTO_EXACT_CAP_S`); "exact" has no cap.
    gap : relative gap at which the search may stop.
    seed : seed of the randomised parts (reproducible unless the time limit cuts in).
    threads : MILP solver threads.
    reductions : apply the reductions of :mod:`~siteplan.optimize.setcover.reduce`
        (dominance tests; fixings and essential columns always apply).
    """
    if solver not in SOLVERS:
        raise ModelError(f"unknown solver {solver!r}; choose one of {sorted(SOLVERS)}")
    if time_limit is not None and not (time_limit > 0):
        raise ModelError(f"time_limit must be > 0 seconds or None, got {time_limit!r}")
    if not (0.0 <= gap < 1.0):
        raise ModelError(f"gap must lie in [0, 1), got {gap!r}")
    t0 = time.perf_counter()
    stats: dict = {}
    if isinstance(problem, MaxCoverProblem):
        if method not in MAXCOVER_METHODS:
            raise ModelError(f"method {method!r} is not available for maximal covering; "
                             f"choose one of {sorted(MAXCOVER_METHODS)}")
        return MAXCOVER_METHODS[method](problem, t0, time_limit, gap, solver, seed, threads, stats)
    if not isinstance(problem, SetCoverProblem):
        raise ModelError(f"problem must be a SetCoverProblem or MaxCoverProblem, got {type(problem).__name__}")
    if method not in METHODS:
        raise ModelError(f"unknown method {method!r}; choose one of {sorted(METHODS)}")
    if not kernels_ready():
        if (method == "auto" and time_limit is not None and time_limit < COLD_COMPILE_MIN_LIMIT_S
                and not kernels_cached()):
            # compiling would eat a short budget (10-30 s): hand the whole model to the solver
            stats["cold_start"] = ("set-cover kernels not compiled: unreduced MILP solved instead; "
                                   "call siteplan.optimize.setcover.warm_up() once beforehand")
            return _plain_exact(problem, t0, time_limit, gap, solver, seed, threads, stats)
        # counted in the run's time (t0 is already set): the budget of the phases below shrinks
        stats["warmup_seconds"] = round(warm_up(), 4)
    red = reduce_problem(problem, dominance=reductions)
    stats["reductions"] = dict(red.stats)
    stats["reduced_rows"], stats["reduced_cols"] = red.n_rows, red.n_cols
    stats["reduce_seconds"] = round(time.perf_counter() - t0, 4)
    if red.infeasible is not None:
        return _finish(problem, red, None, math.nan, t0, "reductions", method, stats, False, gap)
    return METHODS[method](problem, red, t0, time_limit, gap, solver, seed, threads, stats)
