"""Siting MILP against brute-force enumeration and an independent checker (tests/naive_siting.py)."""

import numpy as np
import pytest
import scipy.sparse as sp

from naive_siting import brute_force, check_plan, plan_cost
from siteplan.siting import SitingInputs, SitingWeights, Target, solve_siting


def random_inputs(seed, *, n_exist=1, n_cand=2, n_ops=2, n_phases=2, n_villages=3, poor_weight=0.0):
    rng = np.random.default_rng(seed)
    S = n_exist + n_cand
    pts_per_v = rng.integers(1, 3, n_villages)
    pv = np.repeat(np.arange(n_villages), pts_per_v)
    D = pv.size
    cover, rsrp = [], []
    for _ in range(n_ops):
        mask = rng.random((D, S)) < 0.5
        vals = np.where(mask, rng.uniform(-110, -70, (D, S)), 0.0)
        r, c = np.nonzero(mask)
        m = sp.csr_matrix((vals[r, c], (r, c)), shape=(D, S))
        rsrp.append(m)
        cover.append(sp.csr_matrix(m, dtype=bool))
    tenants = np.zeros((S, n_ops), dtype=bool)
    tenants[:n_exist, 0] = True
    w = rng.random(D) + 0.5
    w = w / np.bincount(pv, weights=w)[pv]
    poor = rng.random(n_villages) < 0.5
    targets = (Target(n_phases - 1, np.arange(n_villages), 1.0, None, "all"),)
    if poor.any() and n_phases > 1:
        targets = (Target(0, np.flatnonzero(poor), 1.0, None, "poor"),) + targets
    q_st = np.array([[int(rng.integers(0, 3)), -1]] + [[0, -1]] * (n_phases - 1))
    q_si = np.array([[1, 1]] + [[0, 1]] * (n_phases - 1))
    return SitingInputs(
        n_sites=S, n_ops=n_ops, n_phases=n_phases, n_points=D, cover=tuple(cover), rsrp=tuple(rsrp),
        existing=np.arange(S) < n_exist, tenants=tenants, max_tenants=np.full(S, 2),
        build_cost=np.where(np.arange(S) < n_exist, 0.0, rng.integers(50, 150, S).astype(float)),
        station_cost=rng.integers(5, 20, n_ops).astype(float), colocation_cost=3.0,
        point_village=pv, point_weight=w, traffic=np.ones((D, n_ops)), capacity=np.full(n_ops, 1.0),
        village_population=rng.integers(10, 100, n_villages).astype(float), village_poor=poor,
        quotas_sites=q_si, quotas_stations=q_st, budgets=np.full(n_phases, np.inf),
        discount=1.0 / 1.05 ** np.arange(n_phases), targets=targets,
        weights=SitingWeights(unserved_cny_per_mbps=0.0, poor_early_cny_per_person=poor_weight),
        phase_names=tuple(f"p{i}" for i in range(n_phases)), operator_names=tuple(f"op{k}" for k in range(n_ops)))


def _plan_tuple(plan):
    return (plan.site_phase.tolist(), plan.station_site.tolist(), plan.station_op.tolist(),
            plan.station_phase.tolist())


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("poor_weight", [0.0, 0.5])
def test_same_optimum_as_brute_force(seed, poor_weight):
    inp = random_inputs(seed, poor_weight=poor_weight)
    best = brute_force(inp)
    plan = solve_siting(inp, gap=0.0)
    if best is None:
        assert plan.status == "infeasible"
        assert plan.findings, "an infeasible plan must say why"
        return
    assert plan.status == "optimal", plan.findings
    sp_, ss, kk, pp = _plan_tuple(plan)
    assert check_plan(inp, sp_, ss, kk, pp) == []
    assert plan_cost(inp, sp_, ss, kk, pp) == pytest.approx(best[0], abs=1e-6)


def test_capacity_sends_extra_stations_where_people_are():
    # two villages, each covered by its own candidate site; the coverage target is met by
    # existing station 0 covering both; the quota forces one new station: it must go to the
    # village with more traffic (penalty on unserved busy-hour traffic).
    D, S = 2, 3
    m = sp.csr_matrix(np.array([[-80.0, -75.0, 0.0], [-85.0, 0.0, -75.0]]))
    m.eliminate_zeros()
    inp = SitingInputs(
        n_sites=S, n_ops=1, n_phases=1, n_points=D, cover=(sp.csr_matrix(m, dtype=bool),), rsrp=(m,),
        existing=np.array([True, False, False]), tenants=np.array([[True], [False], [False]]),
        max_tenants=np.full(S, 3), build_cost=np.array([0.0, 100.0, 100.0]), station_cost=np.array([10.0]),
        colocation_cost=0.0, point_village=np.arange(D), point_weight=np.ones(D),
        traffic=np.array([[5.0], [50.0]]), capacity=np.array([20.0]),
        village_population=np.array([100.0, 1000.0]), village_poor=np.zeros(D, bool),
        quotas_sites=np.array([[1, 1]]), quotas_stations=np.array([[1, 1]]), budgets=np.array([np.inf]),
        discount=np.array([1.0]), targets=(Target(0, np.arange(D), 1.0, None, "all"),),
        weights=SitingWeights(unserved_cny_per_mbps=10.0, poor_early_cny_per_person=0.0, server_candidates=2))
    plan = solve_siting(inp, gap=0.0)
    assert plan.status == "optimal"
    assert plan.site_phase.tolist() == [-1, -1, 0]
    assert plan.station_site.tolist() == [2]
    # objective = cost 110 + penalty on unserved: village 1 gets 20 (new) + up to 20 shared from site 0
    # minus what village 0 needs (5): served = 5 + 35 = 40 of 55 -> 15 Mbit/s unserved * 10
    assert plan.objective == pytest.approx(110.0 + 150.0, abs=1e-6)


def test_infeasible_quota_is_diagnosed():
    inp = random_inputs(3)
    inp = SitingInputs(**{**inp.__dict__, "quotas_sites": np.array([[3, 3], [0, 1]])})
    plan = solve_siting(inp)
    assert plan.status == "infeasible"
    kinds = [f.kind for f in plan.findings]
    assert "site_quota" in kinds
    msg = next(f.message for f in plan.findings if f.kind == "site_quota")
    assert "need 3 candidate sites" in msg and "pool has 2" in msg


def test_uncoverable_village_is_listed_with_best_rsrp():
    inp = random_inputs(5, n_villages=2)
    # village 0's points: nobody covers them at threshold; record an RSRP below threshold
    cover = []
    for c in inp.cover:
        a = c.toarray()
        a[inp.point_village == 0, :] = False
        cover.append(sp.csr_matrix(a))
    rsrp = []
    for r in inp.rsrp:
        a = r.toarray()
        a[inp.point_village == 0, :] = 0.0
        a[np.flatnonzero(inp.point_village == 0)[0], 1] = -121.5
        m = sp.csr_matrix(a)
        m.eliminate_zeros()
        rsrp.append(m)
    inp = SitingInputs(**{**inp.__dict__, "cover": tuple(cover), "rsrp": tuple(rsrp)})
    plan = solve_siting(inp)
    assert plan.status == "infeasible"
    f = next(f for f in plan.findings if f.kind == "uncoverable_village")
    item = f.details["villages"][0]
    assert item["village"] == 0 and item["best_rsrp_dbm"] == pytest.approx(-121.5) and item["best_site"] == 1


def test_budget_below_cheapest_plan_is_diagnosed():
    inp = random_inputs(2)
    inp = SitingInputs(**{**inp.__dict__, "budgets": np.array([1.0, np.inf])})
    plan = solve_siting(inp)
    assert plan.status == "infeasible"
    f = next(f for f in plan.findings if f.kind == "budget")
    assert "budget 1 CNY is below the cheapest way" in f.message


def test_conflicting_targets_and_quotas_reported_by_relaxation():
    # every structural check passes, but station quota 0 in the only phase makes the
    # coverage target impossible: the elastic relaxation names the conflict.
    inp = random_inputs(1, n_phases=1)
    inp = SitingInputs(**{**inp.__dict__, "quotas_stations": np.array([[0, 0]]), "quotas_sites": np.array([[0, 0]])})
    from siteplan.siting.model import covered_now

    if covered_now(inp, None).all():
        pytest.skip("instance already covered by existing stations")
    plan = solve_siting(inp)
    assert plan.status == "infeasible"
    kinds = {f.kind for f in plan.findings}
    assert kinds & {"quota_violation", "target_violation"}


def test_exclude_policy_drops_unservable_points_and_lists_them():
    inp = random_inputs(5, n_villages=2)
    cover = []
    for c in inp.cover:
        a = c.toarray()
        a[np.flatnonzero(inp.point_village == 0)[0], :] = False   # one point of village 0: unservable
        cover.append(sp.csr_matrix(a))
    strict = SitingInputs(**{**inp.__dict__, "cover": tuple(cover)})
    lenient = SitingInputs(**{**strict.__dict__, "uncoverable": "exclude"})
    assert solve_siting(strict).status == "infeasible"
    plan = solve_siting(lenient, gap=0.0)
    best = brute_force(lenient)
    if best is None:
        assert plan.status == "infeasible"
        return
    assert plan.status == "optimal"
    f = next(f for f in plan.findings if f.kind == "uncoverable_village")
    assert not f.blocking and "excluded from the target" in f.message
    sp_, ss, kk, pp = _plan_tuple(plan)
    assert check_plan(lenient, sp_, ss, kk, pp) == []
    assert plan_cost(lenient, sp_, ss, kk, pp) == pytest.approx(best[0], abs=1e-6)
    # honest reporting: village 0 is not counted as fully covered
    assert not plan.village_covered[0, -1]


def test_station_quota_above_free_tenancy_is_diagnosed():
    inp = random_inputs(4)
    # 3 sites x 2 operators, 1 slot taken, max 2 tenants each: at most 5 new stations
    inp = SitingInputs(**{**inp.__dict__, "quotas_stations": np.array([[9, 9], [0, -1]])})
    plan = solve_siting(inp)
    assert plan.status == "infeasible"
    f = next(f for f in plan.findings if f.kind == "station_quota")
    assert "need 9 stations" in f.message and "tenant slots" in f.message
    assert f.details["needed"] == 9 and f.details["free_total"] < 9


@pytest.mark.parametrize("seed", range(12))
def test_greedy_warm_start_is_feasible_when_given(seed):
    from siteplan.siting.model import build_siting_model
    from siteplan.siting.warmstart import greedy_start

    inp = random_inputs(seed, poor_weight=0.5)
    model = build_siting_model(inp)
    x = greedy_start(inp, model)
    if x is None:
        return  # the greedy may give up; the solver then starts from scratch
    assert model.spec.max_violation(x) <= 1e-9
    # and the plan it encodes passes the independent checker
    P = inp.n_phases
    b = model.spec.block("b")
    xs = model.spec.block("x")
    bv = x[b.start:b.stop].reshape(-1, P)
    xv = x[xs.start:xs.stop].reshape(-1, P)
    site_phase = np.full(inp.n_sites, -1)
    for c, p in zip(*np.nonzero(bv)):
        site_phase[model.candidates[c]] = p
    q, p = np.nonzero(xv)
    assert check_plan(inp, site_phase, model.slot_site[q], model.slot_op[q], p) == []


def test_greedy_warm_start_exists_on_a_feasible_instance():
    from siteplan.siting.model import build_siting_model
    from siteplan.siting.warmstart import greedy_start

    found = 0
    for seed in range(12):
        inp = random_inputs(seed)
        if brute_force(inp) is None:
            continue
        found += greedy_start(inp, build_siting_model(inp)) is not None
    assert found >= 1
