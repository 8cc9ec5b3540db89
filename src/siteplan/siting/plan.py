"""``plan_sites``: scenario + coverage -> which sites are built and which stations go where,
phase by phase, at least cost; or a diagnosis of why it cannot be done."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

from siteplan.model.scenario import Scenario
from siteplan.optimize import SolveStatus, solve_milp
from siteplan.optimize.backends import check_result, with_fallback
from siteplan.optimize.milp import MilpResult, relative_gap
from siteplan.siting.diagnose import Finding, elastic_diagnosis, structural_checks, uncoverable_findings
from siteplan.siting.inputs import SitingInputs, SitingWeights, siting_inputs
from siteplan.siting.model import build_siting_model
from siteplan.siting.improve import area_search
from siteplan.siting.lagrange import lagrangian_bound
from siteplan.siting.warmstart import complete_start, start_plan

#: Models with more non-zeros than this, when the solve is time-limited, are solved by
#: the area search and bounded by the Lagrangian relaxation instead of one MILP (HiGHS's
#: root LP alone outlasts a five-minute limit on them).
LAGRANGIAN_MIN_NNZ = 1_000_000
#: Share of the time limit given to the area search on those models [-]; the Lagrangian
#: search gets the rest.
AREA_SHARE = 0.6
#: Share of the time left that HiGHS leaves for building the fallback start after it [-],
#: and the most it leaves [s].
START_RESERVE_SHARE = 0.10
START_RESERVE_MAX_S = 30.0
#: Sites per area of the area search (k x k areas, k = round(sqrt(sites / this))) [-].
SITES_PER_AREA = 400

__all__ = ["SitingPlan", "plan_sites", "solve_siting", "served_share", "village_share_rule"]


@dataclass(frozen=True, eq=False)
class SitingPlan:
    """A siting plan (or the diagnosis of an infeasible scenario).

    site_phase : int per site: phase index in which a candidate is built, -1 if not built
        (existing sites are -1 too: they are not *new*).
    station_site, station_op, station_phase : the new stations (site index, operator
        index, phase index), sorted by phase, site, operator.
    village_share : (n_villages, n_ops + 1, n_phases) served share of each village's demand
        weight [-] per operator and, in the last slot, by any operator.
    village_covered : (n_villages, n_phases) bool: the village meets its coverage share
        (any operator, the scenario's share; 1.0 by default).
    cost : per phase dict of ``sites``, ``stations``, ``colocation``, ``total`` [CNY]
        (undiscounted).
    objective, bound, gap : the solver's objective (discounted cost plus penalties) [CNY],
        its proven bound and relative gap.
    status : "optimal" | "feasible" | "infeasible" | "time_limit_no_solution" | "error".
    findings : the diagnosis when infeasible (and warnings otherwise).
    """

    phase_names: tuple[str, ...]
    operator_names: tuple[str, ...]
    site_phase: np.ndarray
    station_site: np.ndarray
    station_op: np.ndarray
    station_phase: np.ndarray
    village_share: np.ndarray
    village_covered: np.ndarray
    cost: tuple[dict, ...]
    objective: float
    bound: float
    gap: float
    status: str
    seconds: float
    solver: str
    solver_version: str
    findings: tuple[Finding, ...] = ()
    model_size: dict = field(default_factory=dict)

    @property
    def feasible(self) -> bool:
        return self.status in ("optimal", "feasible")

    def new_sites(self, phase: int) -> np.ndarray:
        """Indices of the sites built in ``phase``."""
        return np.flatnonzero(self.site_phase == phase)

    def new_stations(self, phase: int) -> np.ndarray:
        """Row numbers (into station_*) of the stations added in ``phase``."""
        return np.flatnonzero(self.station_phase == phase)


def served_share(inp: SitingInputs, station_by_phase: np.ndarray) -> np.ndarray:
    """Served share per village, operator (+ any) and phase.

    ``station_by_phase[s, k, p]`` is True when operator k has a station at site s by the end
    of phase p (existing ones included).
    """
    V, K, P = inp.n_villages, inp.n_ops, inp.n_phases
    out = np.zeros((V, K + 1, P))
    for p in range(P):
        any_served = np.zeros(inp.n_points, dtype=bool)
        for k in range(K):
            srv = np.asarray(inp.cover[k].astype(np.float64) @ station_by_phase[:, k, p].astype(np.float64) > 0).ravel()
            any_served |= srv
            out[:, k, p] = np.bincount(inp.point_village, weights=inp.point_weight * srv, minlength=V)
        out[:, K, p] = np.bincount(inp.point_village, weights=inp.point_weight * any_served, minlength=V)
    return out


def village_share_rule(inp: SitingInputs) -> np.ndarray:
    """Share each village must reach to count as covered: the largest share of any target
    that selects it (1.0 when none does)."""
    share = np.ones(inp.n_villages)
    seen = np.zeros(inp.n_villages, dtype=bool)
    for t in inp.targets:
        cur = np.where(seen[t.villages], np.maximum(share[t.villages], t.share), t.share)
        share[t.villages] = cur
        seen[t.villages] = True
    return share


def solve_siting(inp: SitingInputs, *, solver: str = "highs", time_limit: float | None = None, gap: float = 0.01,
                 threads: int | None = None, seed: int = 0, best_rsrp=None,
                 lagrangian_min_nnz: int = LAGRANGIAN_MIN_NNZ, t_start: float | None = None) -> SitingPlan:
    """Solve the siting MILP for plain-array inputs (see :func:`plan_sites`).

    ``time_limit`` counts from ``t_start`` (a ``time.perf_counter()`` value; default: the
    call), so that the checks and the model build are inside it too.

    The greedy start, completed by an LP over its continuous columns, is a feasible plan.
    On the MILP path it is the *fallback incumbent*, never a MIP start (it would switch off
    HiGHS's root rounding heuristics; Shantou-2016 and its x2 copy then took 2-3x longer to
    the same gap or missed it): HiGHS runs first, and the start is built only when HiGHS
    ends without proving the gap; the plan is then the better of the two, with HiGHS's
    proven bound (``model_size["plan_is_start"]`` is 1 when it is the start). When the
    limit is spent before the MILP starts, the plan is the start with no bound. On models
    with more than ``lagrangian_min_nnz`` non-zeros and a time limit, the
    start is improved area by area (:mod:`siteplan.siting.improve`) for a share of the limit
    and the rest goes to a Lagrangian bound (:mod:`siteplan.siting.lagrange`) instead of
    one MILP over the whole model; the plan is the improved start, with that bound.
    """
    t0 = time.perf_counter()
    unc = uncoverable_findings(inp, best_rsrp)
    findings = structural_checks(inp, best_rsrp, uncoverable=unc)
    if inp.uncoverable == "exclude":
        masks = unc[1]
        inp = replace(inp, targets=tuple(replace(t, exclude=m) for t, m in zip(inp.targets, masks)))
    P = inp.n_phases
    empty_plan = dict(site_phase=np.full(inp.n_sites, -1, dtype=np.int64), station_site=np.zeros(0, np.int64),
                      station_op=np.zeros(0, np.int64), station_phase=np.zeros(0, np.int64))
    if any(f.blocking for f in findings):
        return _plan(inp, status="infeasible", findings=findings, result=None, t0=t0, **empty_plan)
    model = build_siting_model(inp)
    spec = model.spec
    # the time limit covers everything from t_start: checks, model build, warm start, bound, MILP
    t_solve = t0 if t_start is None else t_start
    size = {"columns": spec.n_cols, "rows": spec.n_rows, "nonzeros": spec.nnz,
            "integer_columns": int(spec.integrality.sum())}
    lag = None
    large = time_limit is not None and spec.nnz > lagrangian_min_nnz
    start = _start(inp, model, size, t_solve, time_limit, solver, threads) if large else None
    if start is not None:
        size["warm_start_objective"] = spec.objective_value(start)
        k = max(1, int(round(np.sqrt(inp.n_sites / SITES_PER_AREA))))
        t = time.perf_counter()
        start, n_better = area_search(inp, model, start, time_limit=AREA_SHARE * time_limit, k=k, solver=solver,
                                      threads=threads, seed=seed)
        size.update(area_search_areas=k * k, area_search_improved=n_better,
                    area_search_seconds=time.perf_counter() - t, area_search_objective=spec.objective_value(start))
        upper = spec.objective_value(start)
        free = inp.max_tenants - inp.tenants.sum(axis=1)
        left = time_limit - (time.perf_counter() - t_solve)
        lag = lagrangian_bound(model, free, upper=upper, time_limit=max(1.0, left), target_gap=gap)
        size.update(lagrangian_bound=lag.bound, lagrangian_iterations=lag.iterations, lagrangian_seconds=lag.seconds)
        left = time_limit - (time.perf_counter() - t_solve)
        if left > 10.0 and relative_gap(spec.objective_value(start), lag.bound) > gap:
            # the bound search stopped early: the time left goes to a second pass
            start, more = area_search(inp, model, start, time_limit=left, k=k, solver=solver, threads=threads,
                                      seed=seed + 1)
            size.update(area_search_improved=n_better + more, area_search_objective=spec.objective_value(start))
        # the plan is the area search's; its bound the Lagrangian one (re-checked like any result)
        res = check_result(spec, start, SolveStatus.FEASIBLE, -math.inf, time.perf_counter() - t_solve, solver,
                           "", "area search + Lagrangian bound", gap)
    else:
        # (a large model without a start: the greedy already failed, it is not built again)
        res = _milp_with_fallback(inp, model, size, t_solve, time_limit, gap, solver, threads, seed,
                                  build_start=not large)
    if lag is not None and res.status.has_solution and lag.bound > res.bound:
        # the better of the two proven bounds (both are lower bounds of the same model)
        b = min(lag.bound, res.objective)
        g = relative_gap(res.objective, b)
        status = SolveStatus.OPTIMAL if g <= max(gap, 1e-9) + 1e-12 else res.status
        res = replace(res, bound=b, gap=g, status=status,
                      message=f"{res.message}; bound from the Lagrangian relaxation ({lag.iterations} iterations)")
    if not res.status.has_solution:
        if res.status == SolveStatus.INFEASIBLE:
            findings = tuple(findings) + tuple(elastic_diagnosis(inp, solver=solver, time_limit=time_limit))
        return _plan(inp, status=res.status.value, findings=findings, result=res, t0=t0, size=size, **empty_plan)
    xsol = np.round(res.x).astype(np.int64)
    bblk = model.spec.block("b")
    xblk = model.spec.block("x")
    bval = xsol[bblk.start:bblk.stop].reshape(-1, P)
    xval = xsol[xblk.start:xblk.stop].reshape(-1, P)
    site_phase = np.full(inp.n_sites, -1, dtype=np.int64)
    cb, pb = np.nonzero(bval)
    site_phase[model.candidates[cb]] = pb
    qs, ps = np.nonzero(xval)
    order = np.lexsort((model.slot_op[qs], model.slot_site[qs], ps))
    return _plan(inp, status=res.status.value, findings=findings, result=res, t0=t0, size=size,
                 site_phase=site_phase, station_site=model.slot_site[qs][order],
                 station_op=model.slot_op[qs][order], station_phase=ps[order].astype(np.int64))


def _start(inp: SitingInputs, model, size: dict, t_solve: float, time_limit, solver, threads) -> np.ndarray | None:
    """The completed greedy start, or None; records when it was there (seconds from
    ``t_solve``) and its objective in ``size``."""
    spec = model.spec
    raw = start_plan(inp, model)
    if raw is None:
        return None
    x = complete_start(model, raw, solver=solver, threads=threads,
                       time_limit=None if time_limit is None else max(1.0, 0.1 * time_limit))
    if spec.max_violation(x) > 1e-6:
        return None
    size.update(start_seconds=time.perf_counter() - t_solve, start_objective=spec.objective_value(x))
    return x


def _milp_with_fallback(inp: SitingInputs, model, size: dict, t_solve: float, time_limit, gap, solver, threads,
                        seed, build_start: bool = True):
    """The MILP over the whole model, with the completed greedy start as its fallback
    incumbent (never as a MIP start: it would switch off HiGHS's root rounding).

    HiGHS runs first, right after the model build; the start is built after it, and only
    when HiGHS did not prove the gap (or found no plan), so a solve that reaches the gap
    costs exactly the MILP. HiGHS's limit keeps a reserve of what is left for building the
    start (10 %, at least 2 s, at most 30 s). Building the start while HiGHS ran in a
    worker thread was measured slower in wall time (likely the GIL: the greedy's Python
    holds it while HiGHS's interrupt callbacks, the watchdog's, wait for it)."""
    spec = model.spec
    left = None if time_limit is None else time_limit - (time.perf_counter() - t_solve)
    if left is not None and left <= 0.0:
        # the limit is spent before the MILP: the plan is the start, with no proven bound
        res = MilpResult(SolveStatus.TIME_LIMIT_NO_SOLUTION, None, math.nan, -math.inf, math.inf, 0.0, solver, "",
                         "time limit spent before the MILP")
    else:
        reserve = 0.0 if left is None or not build_start else min(START_RESERVE_MAX_S,
                                                                 max(2.0, START_RESERVE_SHARE * left))
        # without a start to fall back on HiGHS gets at least a second to find a plan
        limit = None if left is None else max(1.0, left - reserve)
        res = solve_milp(spec, solver=solver, time_limit=limit, gap=gap, threads=threads, seed=seed)
    start = None
    if build_start and res.status != SolveStatus.OPTIMAL:
        start = _start(inp, model, size, t_solve, time_limit, solver, threads)
    if start is not None:
        res = with_fallback(spec, res, start, gap)
    # 1 when the plan is the start (the MILP found nothing better), else 0
    size["plan_is_start"] = int(res.extra.get("solution_source") == "fallback")
    return res


def _plan(inp: SitingInputs, *, status, findings, result, t0, site_phase, station_site, station_op, station_phase,
          size=None) -> SitingPlan:
    P, K = inp.n_phases, inp.n_ops
    have = np.repeat(inp.tenants[:, :, None], P, axis=2).copy()
    for s, k, p in zip(station_site, station_op, station_phase):
        have[s, k, p:] = True
    share = served_share(inp, have)
    rule = village_share_rule(inp)
    covered = share[:, K, :] >= rule[:, None] - 1e-9
    costs = []
    for p in range(P):
        built = site_phase == p
        new = station_phase == p
        colo = new & inp.existing[station_site]
        c_sites = float(inp.build_cost[built].sum())
        c_st = float(inp.station_cost[station_op[new]].sum())
        c_colo = float(inp.colocation_cost * colo.sum())
        costs.append({"sites": c_sites, "stations": c_st, "colocation": c_colo, "total": c_sites + c_st + c_colo,
                      "new_sites": int(built.sum()), "new_stations": int(new.sum())})
    obj = result.objective if result is not None else float("nan")
    bound = result.bound if result is not None else float("nan")
    gap = result.gap if result is not None else float("nan")
    return SitingPlan(
        phase_names=inp.phase_names, operator_names=inp.operator_names, site_phase=site_phase,
        station_site=station_site, station_op=station_op, station_phase=station_phase, village_share=share,
        village_covered=covered, cost=tuple(costs), objective=float(obj), bound=float(bound), gap=float(gap),
        status=status, seconds=time.perf_counter() - t0, solver=(result.solver if result else ""),
        solver_version=(result.solver_version if result else ""), findings=tuple(findings), model_size=size or {})


def plan_sites(scenario: Scenario, coverage, solver: str = "highs", time_limit: float | None = None,
               gap: float = 0.01, *, weights: SitingWeights | None = None, threads: int | None = None,
               seed: int = 0) -> SitingPlan:
    """Plan new sites and stations for every phase of ``scenario``.

    Parameters
    ----------
    scenario : the scenario (:func:`siteplan.read_scenario`).
    coverage : its coverage matrices (:func:`siteplan.build_coverage`) or a mapping
        operator name -> CSR points x sites RSRP [dBm].
    solver : MILP backend ("highs", "cbc").
    time_limit : wall-clock limit of this call [s] (inputs, checks, model build, warm start,
        area search, bound, MILP; a diagnosis of an infeasible model comes on top); None for
        none (the MILP alone, run to the gap).
    gap : relative optimality gap at which to stop [-].
    weights : objective weights (penalties, rewards); documented defaults.

    Returns a :class:`SitingPlan`; ``status == "infeasible"`` with ``findings`` when a
    target or quota cannot be met.
    """
    t_start = time.perf_counter()
    inp = siting_inputs(scenario, coverage, weights)
    return solve_siting(inp, solver=solver, time_limit=time_limit, gap=gap, threads=threads, seed=seed,
                        best_rsrp=_best_rsrp_below_threshold(scenario), t_start=t_start)


def _best_rsrp_below_threshold(scenario: Scenario):
    """For diagnoses: the best RSRP [dBm] any site gives each point, however weak, and that site."""

    def best(points, ops):
        from siteplan.coverage.build import coverage_subset

        points = np.asarray(points, dtype=np.int64)
        val = np.full(points.size, -np.inf)
        site = np.full(points.size, -1, dtype=np.int64)
        if points.size == 0:
            return val, site
        all_sites = np.arange(len(scenario.sites))
        for k in ops:
            m = coverage_subset(scenario, scenario.operators[k], all_sites, points, threshold_dbm=-250.0).tocsr()
            for r in range(points.size):
                lo, hi = m.indptr[r], m.indptr[r + 1]
                if hi > lo:
                    j = lo + int(np.argmax(m.data[lo:hi]))
                    if m.data[j] > val[r]:
                        val[r], site[r] = float(m.data[j]), int(m.indices[j])
        return val, site

    return best
