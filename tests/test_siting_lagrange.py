"""Lagrangian bound and warm start of the siting MILP: the per-site subproblem against
enumeration (tests/naive_siting.py), the bound against brute-force optima, and the plans
returned with it against the independent checker."""

import numpy as np
import pytest

from naive_siting import brute_force, check_plan, plan_cost, site_subproblem_min
from siteplan.exceptions import ModelError
from siteplan.optimize import solve_milp
from siteplan.siting import SitingWeights, solve_siting
from siteplan.siting.lagrange import _sites_kernel, lagrangian_bound, lagrangian_value, site_structure
from siteplan.siting.model import build_siting_model
from siteplan.siting.warmstart import complete_start, greedy_start
from test_siting_model import random_inputs


def _free(inp):
    return inp.max_tenants - inp.tenants.sum(axis=1)


@pytest.mark.parametrize("seed", range(40))
def test_site_kernel_matches_enumeration(seed):
    rng = np.random.default_rng(seed)
    P = int(rng.integers(1, 4))
    n = int(rng.integers(0, 4))
    free = int(rng.integers(0, 4))
    existing = bool(rng.random() < 0.3)
    r_b = None if existing else rng.normal(0, 3, P)
    r_x = rng.normal(-1, 3, (n, P))
    # one site; columns laid out as in the model: b at 0..P-1, x after
    r = np.concatenate([np.zeros(P) if r_b is None else r_b, r_x.ravel()])
    xs = np.zeros(r.size)
    val = _sites_kernel(r, np.array([0, n], dtype=np.int64), np.arange(n, dtype=np.int64),
                        np.array([-1 if existing else 0], dtype=np.int64), np.array([free], dtype=np.int64),
                        0, P, P, xs)
    expect = site_subproblem_min(None if existing else list(r_b), r_x.tolist(), free)
    assert val == pytest.approx(expect, abs=1e-12)
    # the minimiser written back has that value and keeps the site's rules
    assert float(r @ xs) == pytest.approx(val, abs=1e-12)
    xb, xx = xs[:P], xs[P:].reshape(n, P)
    assert xx.sum() <= free and (xx.sum(axis=1) <= 1).all()
    if not existing:
        assert xb.sum() <= 1
        if xb.sum():
            pb = int(np.argmax(xb))
            assert xx[:, :pb].sum() == 0 and xx[:, pb].sum() >= 1
        else:
            assert xx.sum() == 0


def _random_multipliers(rng, st, scale):
    return rng.normal(0, scale, st.relaxed.shape[0])


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("poor_weight", [0.0, 0.5])
def test_lagrangian_value_never_exceeds_the_brute_force_optimum(seed, poor_weight):
    inp = random_inputs(seed, poor_weight=poor_weight)
    best = brute_force(inp)
    if best is None:
        return
    model = build_siting_model(inp)
    optimum = best[0] + model.cost_offset      # the model's objective carries the constant offset
    st = site_structure(model, _free(inp))
    rng = np.random.default_rng(seed)
    for scale in (0.0, 1.0, 30.0, 300.0):
        val, _ = lagrangian_value(model, st, _random_multipliers(rng, st, scale))
        assert val <= optimum + 1e-7
    res = lagrangian_bound(model, _free(inp), upper=optimum + 50.0, time_limit=5.0, max_iterations=300)
    assert res.bound <= optimum + 1e-7
    zero, _ = lagrangian_value(model, st, np.zeros(st.relaxed.shape[0]))
    assert res.bound >= zero - 1e-9


def _with_capacity(inp):
    from dataclasses import replace

    return replace(inp, weights=SitingWeights(unserved_cny_per_mbps=40.0, poor_early_cny_per_person=0.5,
                                              server_candidates=2))


@pytest.mark.parametrize("seed", range(6))
def test_lagrangian_bound_with_capacity_below_the_proven_optimum(seed):
    inp = _with_capacity(random_inputs(seed, n_cand=3, n_villages=4))
    model = build_siting_model(inp)
    exact = solve_milp(model.spec, gap=0.0)
    if not exact.status.has_solution:
        return
    assert exact.status.value == "optimal"
    st = site_structure(model, _free(inp))
    rng = np.random.default_rng(seed)
    for scale in (1.0, 40.0):
        assert lagrangian_value(model, st, _random_multipliers(rng, st, scale))[0] <= exact.objective + 1e-7
    res = lagrangian_bound(model, _free(inp), upper=exact.objective * 1.1 + 1.0, time_limit=5.0, max_iterations=400)
    assert res.bound <= exact.objective + 1e-7


def test_structure_refuses_the_elastic_model():
    inp = random_inputs(0)
    model = build_siting_model(inp, elastic=True)
    with pytest.raises(ModelError):
        site_structure(model, _free(inp))


@pytest.mark.parametrize("seed", range(6))
def test_plans_with_the_lagrangian_bound_are_checked_and_honest(seed):
    inp = random_inputs(seed, poor_weight=0.5)
    best = brute_force(inp)
    plan = solve_siting(_with_xy(inp, seed), gap=0.0, time_limit=20.0, lagrangian_min_nnz=0)
    if best is None:
        assert plan.status == "infeasible"
        return
    assert plan.feasible
    sp_, ss, kk, pp = (plan.site_phase, plan.station_site, plan.station_op, plan.station_phase)
    assert check_plan(inp, sp_, ss, kk, pp) == []
    offset = build_siting_model(inp).cost_offset
    assert plan.objective == pytest.approx(plan_cost(inp, sp_, ss, kk, pp) + offset, abs=1e-6)
    # the reported bound is a true lower bound: never above the brute-force optimum
    assert plan.bound <= best[0] + offset + 1e-6
    assert plan.gap == pytest.approx(abs(plan.objective - plan.bound) / abs(plan.objective), abs=1e-9)


@pytest.mark.parametrize("seed", range(12))
def test_traffic_aware_greedy_and_completion_are_feasible(seed):
    inp = _with_capacity(random_inputs(seed, n_cand=3, n_villages=4, poor_weight=0.5))
    model = build_siting_model(inp)
    x = greedy_start(inp, model)
    if x is None:
        return
    spec = model.spec
    assert spec.max_violation(x) <= 1e-9
    full = complete_start(model, x)
    assert spec.max_violation(full) <= 1e-6
    ints = spec.integrality
    assert np.array_equal(full[ints], x[ints])
    assert spec.objective_value(full) <= spec.objective_value(x) + 1e-9
    P = inp.n_phases
    b, xs = spec.block("b"), spec.block("x")
    site_phase = np.full(inp.n_sites, -1)
    for c, p in zip(*np.nonzero(full[b.start:b.stop].reshape(-1, P))):
        site_phase[model.candidates[c]] = p
    q, p = np.nonzero(full[xs.start:xs.stop].reshape(-1, P))
    assert check_plan(inp, site_phase, model.slot_site[q], model.slot_op[q], p) == []


def _with_xy(inp, seed):
    from dataclasses import replace

    return replace(inp, site_xy=np.random.default_rng(seed + 100).uniform(0, 5000, (inp.n_sites, 2)))


def test_site_areas_have_equal_counts():
    from siteplan.siting.improve import site_areas

    xy = np.random.default_rng(1).uniform(0, 1e4, (103, 2))
    for k in (1, 2, 3, 5):
        counts = np.bincount(site_areas(xy, k), minlength=k * k)
        assert counts.size == k * k and counts.sum() == 103
        assert counts.max() - counts.min() <= 2


@pytest.mark.parametrize("seed", range(6))
def test_restricted_model_agrees_with_the_full_one(seed):
    from siteplan.siting.improve import _restrict
    import scipy.sparse as sp

    inp = _with_capacity(random_inputs(seed, n_cand=3, n_villages=4, poor_weight=0.5))
    model = build_siting_model(inp)
    x = greedy_start(inp, model)
    if x is None:
        return
    spec = model.spec
    x = complete_start(model, x)
    free = np.random.default_rng(seed).random(spec.n_cols) < 0.5
    A = sp.csr_matrix((spec.data, spec.indices, spec.indptr), shape=(spec.n_rows, spec.n_cols)).tocsc()
    sub, cols = _restrict(spec, A, free, x)
    assert np.array_equal(cols, np.flatnonzero(free))
    assert sub.objective_value(x[cols]) == pytest.approx(spec.objective_value(x), rel=1e-12, abs=1e-9)
    assert sub.max_violation(x[cols]) <= 1e-9
    # and any solution of the restricted model, put back, is feasible for the full one
    res = solve_milp(sub, gap=0.0)
    assert res.status.has_solution
    y = x.copy()
    y[cols] = res.x
    assert spec.max_violation(y) <= 1e-6
    assert spec.objective_value(y) == pytest.approx(res.objective, rel=1e-9, abs=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_area_search_keeps_plans_feasible_and_one_area_finds_the_optimum(seed):
    from siteplan.siting.improve import area_search

    inp = _with_xy(random_inputs(seed, poor_weight=0.5), seed)
    best = brute_force(inp)
    if best is None:
        return
    model = build_siting_model(inp)
    spec = model.spec
    x = greedy_start(inp, model)
    if x is None:
        return
    for k in (2, 1):
        y, _ = area_search(inp, model, x, time_limit=20.0, k=k)
        assert spec.max_violation(y) <= 1e-6
        assert spec.objective_value(y) <= spec.objective_value(x) + 1e-9
        P = inp.n_phases
        b, xs = spec.block("b"), spec.block("x")
        site_phase = np.full(inp.n_sites, -1)
        for c, p in zip(*np.nonzero(np.round(y[b.start:b.stop]).reshape(-1, P))):
            site_phase[model.candidates[c]] = p
        q, p = np.nonzero(np.round(y[xs.start:xs.stop]).reshape(-1, P))
        assert check_plan(inp, site_phase, model.slot_site[q], model.slot_op[q], p) == []
    # one area frees everything: the area MILP is the whole model
    assert spec.objective_value(y) == pytest.approx(best[0] + model.cost_offset, abs=1e-6)
