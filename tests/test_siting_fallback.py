"""The greedy start as the siting MILP's fallback incumbent (not a MIP start): when the
solver ends without a plan at least as good, the plan is the validated start, with the
solver's proven bound and an honest gap. Plans are checked with the independent checker
and costed independently (tests/naive_siting.py); optima come from brute-force enumeration."""

import math
from dataclasses import replace

import numpy as np
import pytest

from naive_siting import brute_force, check_plan, plan_cost
from siteplan.optimize import SolveStatus, solve_milp
from siteplan.optimize import backends
from siteplan.optimize.milp import MilpResult
from siteplan.siting import solve_siting
from siteplan.siting.model import build_siting_model
from siteplan.siting.warmstart import complete_start, greedy_start, start_plan
from test_siting_model import random_inputs

def _cases(want=5):
    """(inputs, brute-force optimum, model, completed start) of the first ``want`` random
    instances that are feasible and have a greedy start."""
    out = []
    for seed in range(30):
        if len(out) == want:
            break
        inp = random_inputs(seed, poor_weight=0.5)
        best = brute_force(inp)
        if best is None:
            continue
        model = build_siting_model(inp)
        x = start_plan(inp, model)
        if x is None:
            continue
        out.append((inp, best[0], model, complete_start(model, x)))
    return out


@pytest.fixture(scope="module")
def cases():
    c = _cases()
    assert len(c) == 5, "too few feasible instances with a start to test the fallback"
    return c


def _plan_of(plan):
    return plan.site_phase, plan.station_site, plan.station_op, plan.station_phase


def _assert_honest(plan, inp, best, model):
    """The plan passes the checker, its objective is its independent cost, and its bound
    and gap never claim more than the brute-force optimum allows."""
    assert check_plan(inp, *_plan_of(plan)) == []
    assert plan.objective == pytest.approx(plan_cost(inp, *_plan_of(plan)) + model.cost_offset, abs=1e-6)
    assert plan.objective >= best + model.cost_offset - 1e-6
    assert plan.bound <= best + model.cost_offset + 1e-6
    if math.isfinite(plan.bound):
        assert plan.gap == pytest.approx(abs(plan.objective - plan.bound) / abs(plan.objective), abs=1e-9)
    else:
        assert plan.gap == math.inf


def test_spent_time_limit_returns_the_validated_start(cases):
    # the limit is used up before the MILP starts: the plan is the start, no bound claimed
    for inp, best, model, x in cases:
        plan = solve_siting(inp, time_limit=1e-9, gap=0.01)
        assert plan.status == "feasible"
        assert plan.model_size["plan_is_start"] == 1
        assert plan.objective == pytest.approx(model.spec.objective_value(x), abs=1e-6)
        assert plan.model_size["start_objective"] == pytest.approx(plan.objective, abs=1e-6)
        _assert_honest(plan, inp, best, model)
        assert plan.gap == math.inf


def test_adapter_returns_the_fallback_when_highs_finds_nothing(cases):
    # a real HiGHS run stopped by its limit before any solution, and a full one
    for inp, best, model, x in cases:
        spec = model.spec
        r = solve_milp(spec, time_limit=1e-9, gap=0.0, fallback=x)
        assert r.status == SolveStatus.FEASIBLE and r.extra["solution_source"] == "fallback"
        np.testing.assert_array_equal(r.x, x)
        assert r.objective == pytest.approx(spec.objective_value(x)) and r.bound == -math.inf
        full = solve_milp(spec, gap=0.0, fallback=x)
        assert full.status == SolveStatus.OPTIMAL
        assert full.objective == pytest.approx(best + model.cost_offset, abs=1e-6)
        # the solver's plan is kept unless the start is strictly better
        assert full.extra["solution_source"] == ("solver" if full.objective <= spec.objective_value(x) else "fallback")


def _bound_only_backend(claim):
    """A HiGHS run to optimality that reports only its proven bound, as a solver stopped
    by its limit before finding a plan would (``claim``: the status it reports)."""
    real = backends.SOLVERS["highs"]

    def run(spec, **kw):
        if not spec.integrality.any():
            return real(spec, **kw)          # the start's completion LP runs as it is
        kw = dict(kw, gap=0.0, time_limit=None)
        r = real(spec, **kw)
        bound = r.bound if claim == SolveStatus.TIME_LIMIT_NO_SOLUTION else math.nan
        return MilpResult(claim, None, math.nan, bound, math.inf, r.seconds, "highs", r.solver_version,
                          f"stand-in: {claim.value}")

    return run


@pytest.mark.parametrize("gap", [0.0, 0.01, 0.5])
def test_fallback_carries_the_solvers_bound_with_an_honest_gap(cases, monkeypatch, gap):
    monkeypatch.setitem(backends.SOLVERS, "highs", _bound_only_backend(SolveStatus.TIME_LIMIT_NO_SOLUTION))
    for inp, best, model, x in cases:
        plan = solve_siting(inp, time_limit=30.0, gap=gap)
        assert plan.model_size["plan_is_start"] == 1
        assert plan.objective == pytest.approx(model.spec.objective_value(x), abs=1e-6)
        # the bound is the proven optimum (the stand-in solved to optimality)
        assert plan.bound == pytest.approx(best + model.cost_offset, abs=1e-6)
        _assert_honest(plan, inp, best, model)
        # "optimal" only when the start is within the requested gap of that bound
        assert plan.status == ("optimal" if plan.gap <= gap + 1e-12 else "feasible")


def test_a_refuted_infeasibility_claim_keeps_the_start_without_a_bound(cases, monkeypatch):
    monkeypatch.setitem(backends.SOLVERS, "highs", _bound_only_backend(SolveStatus.INFEASIBLE))
    for inp, best, model, x in cases:
        plan = solve_siting(inp, time_limit=30.0, gap=0.01)
        assert plan.status == "feasible" and plan.model_size["plan_is_start"] == 1
        assert plan.bound == -math.inf and plan.gap == math.inf
        _assert_honest(plan, inp, best, model)


def test_infeasible_fallback_is_ignored(cases):
    inp, best, model, x = cases[0]
    bad = np.zeros_like(x)
    assert model.spec.max_violation(bad) > 1e-6          # no stations: the targets fail
    r = solve_milp(model.spec, gap=0.0, fallback=bad)
    assert r.status == SolveStatus.OPTIMAL and r.extra["solution_source"] == "solver"
    assert "fallback ignored" in r.message
    assert r.objective == pytest.approx(best + model.cost_offset, abs=1e-6)


def test_greedy_covers_later_targets_ahead_when_a_later_band_is_closed():
    # no new site or station allowed in the last phase, which is when every village falls
    # due: the plain greedy cannot cover them then; covering them ahead of time can
    found = 0
    for seed in range(40):
        inp = random_inputs(seed)
        qs = np.array(inp.quotas_sites)
        qq = np.array(inp.quotas_stations)
        qs[-1] = [0, 0]
        qq[-1] = [0, 0]
        qs[0] = [0, inp.n_sites]
        inp = replace(inp, quotas_sites=qs, quotas_stations=qq)
        model = build_siting_model(inp)
        if greedy_start(inp, model) is not None:
            continue
        x = start_plan(inp, model)
        if x is None:
            continue
        found += 1
        assert model.spec.max_violation(x) <= 1e-9
        P = inp.n_phases
        b, xs = model.spec.block("b"), model.spec.block("x")
        site_phase = np.full(inp.n_sites, -1)
        for c, p in zip(*np.nonzero(x[b.start:b.stop].reshape(-1, P))):
            site_phase[model.candidates[c]] = p
        q, p = np.nonzero(x[xs.start:xs.stop].reshape(-1, P))
        assert check_plan(inp, site_phase, model.slot_site[q], model.slot_op[q], p) == []
        if found == 3:
            break
    assert found == 3
