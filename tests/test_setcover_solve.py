"""solve_set_cover against brute-force enumeration (tests/naive_setcover.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from naive_setcover import brute_force_max_cover, brute_force_set_cover, random_instance
from siteplan.exceptions import ModelError
from siteplan.optimize import METHODS, MaxCoverProblem, SetCoverProblem, SolveStatus, solve_set_cover
from siteplan.optimize.setcover import MAXCOVER_METHODS, reduce_problem

SOLVERS = ["highs", "cbc", "highs+cbc"]
HYP = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def instances(draw, multicover=False, fixings=False):
    seed = draw(st.integers(0, 2**32 - 1))
    m = draw(st.integers(1, 7))
    n = draw(st.integers(1, 10))
    density = draw(st.sampled_from([0.2, 0.35, 0.5]))
    rng = np.random.default_rng(seed)
    cols, costs = random_instance(rng, m, n, density)
    if draw(st.booleans()):
        costs = np.ones(n)  # unicost, many ties
    kw = {}
    if multicover:
        kw["demand"] = rng.integers(0, 3, size=m)
    if fixings:
        pick = rng.random(n)
        kw["fixed_in"] = pick < 0.15
        kw["fixed_out"] = pick > 0.85
    return SetCoverProblem.from_columns(m, cols, costs, **kw)


def _check(problem, res, method):
    opt, _ = brute_force_set_cover(problem)
    if math.isinf(opt):
        assert res.status == SolveStatus.INFEASIBLE
        assert res.columns.size == 0
        return
    assert res.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    assert problem.is_feasible(res.columns)
    assert res.cost == pytest.approx(problem.cost_of(res.columns))
    assert res.cost >= opt - 1e-9
    assert res.lower_bound <= opt + 1e-9
    assert 0.0 <= res.gap
    if res.status == SolveStatus.OPTIMAL:
        assert res.cost == pytest.approx(opt)
    if method in ("auto", "exact"):
        assert res.status == SolveStatus.OPTIMAL
        assert res.cost == pytest.approx(opt)


@pytest.mark.parametrize("method", sorted(METHODS))
@given(problem=instances())
@HYP
def test_set_cover_matches_brute_force(method, problem):
    _check(problem, solve_set_cover(problem, method=method), method)


@pytest.mark.parametrize("method", sorted(METHODS))
@given(problem=instances(multicover=True, fixings=True))
@HYP
def test_multicover_with_fixings_matches_brute_force(method, problem):
    res = solve_set_cover(problem, method=method)
    _check(problem, res, method)
    if res.status.has_solution:
        assert set(np.flatnonzero(problem.fixed_in)) <= set(res.columns.tolist())
        assert not set(np.flatnonzero(problem.fixed_out)) & set(res.columns.tolist())


@pytest.mark.parametrize("solver", SOLVERS)
@given(problem=instances(multicover=True))
@settings(max_examples=8, deadline=None)
def test_exact_with_each_backend(solver, problem):
    _check(problem, solve_set_cover(problem, method="exact", solver=solver), "exact")


@pytest.mark.parametrize("method", sorted(METHODS))
def test_without_dominance_reductions_same_optimum(method):
    rng = np.random.default_rng(5)
    for _ in range(5):
        cols, costs = random_instance(rng, 6, 9, 0.35)
        p = SetCoverProblem.from_columns(6, cols, costs)
        res = solve_set_cover(p, method=method, reductions=False)
        _check(p, res, method)


def test_lagrangian_is_reproducible_with_seed():
    rng = np.random.default_rng(11)
    cols, costs = random_instance(rng, 40, 120, 0.08)
    p = SetCoverProblem.from_columns(40, cols, costs)
    a = solve_set_cover(p, method="lagrangian", seed=3)
    b = solve_set_cover(p, method="lagrangian", seed=3)
    assert a.columns.tolist() == b.columns.tolist()
    assert a.bound == b.bound


def test_bad_arguments_raise_model_error():
    p = SetCoverProblem.from_columns(2, [[0], [1]], [1.0, 1.0])
    with pytest.raises(ModelError):
        solve_set_cover(p, method="nope")
    with pytest.raises(ModelError):
        solve_set_cover(p, solver="gurobi")
    with pytest.raises(ModelError):
        solve_set_cover(p, time_limit=0)
    with pytest.raises(ModelError):
        SetCoverProblem.from_columns(2, [[0], [5]], [1.0, 1.0])
    with pytest.raises(ModelError):
        SetCoverProblem.from_columns(2, [[0], [1]], [1.0, -1.0])
    with pytest.raises(ModelError):
        SetCoverProblem.from_columns(2, [[0], [1]], [1.0, 1.0], fixed_in=[0], fixed_out=[0])


def test_uncoverable_row_is_infeasible_with_reason():
    p = SetCoverProblem.from_columns(3, [[0], [1]], [1.0, 1.0])
    res = solve_set_cover(p)
    assert res.status == SolveStatus.INFEASIBLE
    assert "row 3" in res.stats["reason"]


# -- reductions ------------------------------------------------------------------------


def _reduced_as_problem(red):
    return SetCoverProblem(red.n_rows, red.col_ptr, red.col_rows, red.costs, demand=red.need)


@given(problem=instances(multicover=True, fixings=True))
@settings(max_examples=60, deadline=None)
def test_reductions_preserve_the_optimum(problem):
    opt, _ = brute_force_set_cover(problem)
    red = reduce_problem(problem)
    if red.infeasible is not None:
        assert math.isinf(opt)
        return
    assert not math.isinf(opt)
    sub_opt, sub_arg = brute_force_set_cover(_reduced_as_problem(red))
    assert red.forced_cost + sub_opt == pytest.approx(opt)
    x = np.zeros(red.n_cols, np.uint8)
    x[list(sub_arg)] = 1
    cols = red.expand(x)
    assert problem.is_feasible(cols)
    assert problem.cost_of(cols) == pytest.approx(opt)


def test_reductions_find_essential_and_dominated():
    # row 0 only covered by column 0 (essential); column 2 dominated by column 1
    p = SetCoverProblem.from_columns(3, [[0], [1, 2], [1], [2]], [5.0, 2.0, 3.0, 4.0])
    red = reduce_problem(p)
    assert 0 in red.forced.tolist()
    assert red.stats["essential"] >= 1
    assert red.stats["dominated_cols"] >= 1
    opt, _ = brute_force_set_cover(p)
    assert solve_set_cover(p).cost == opt == 7.0


# -- maximal covering --------------------------------------------------------------------


@st.composite
def max_instances(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    m = draw(st.integers(1, 8))
    n = draw(st.integers(1, 9))
    rng = np.random.default_rng(seed)
    cols, costs = random_instance(rng, m, n, 0.35)
    w = rng.integers(0, 20, size=m).astype(float)
    kind = draw(st.sampled_from(["budget", "count", "both"]))
    kw = {}
    if kind in ("budget", "both"):
        kw["budget"] = float(rng.integers(0, 15))
    if kind in ("count", "both"):
        kw["max_columns"] = int(rng.integers(0, 4))
    if draw(st.booleans()):
        pick = rng.random(n)
        kw["fixed_in"] = pick < 0.1
        kw["fixed_out"] = pick > 0.8
    return MaxCoverProblem.from_columns(m, cols, w, costs=costs, **kw)


@pytest.mark.parametrize("method", sorted(MAXCOVER_METHODS))
@given(problem=max_instances())
@HYP
def test_max_cover_matches_brute_force(method, problem):
    opt = brute_force_max_cover(problem)
    res = solve_set_cover(problem, method=method)
    if math.isinf(opt):
        assert res.status == SolveStatus.INFEASIBLE
        return
    assert problem.is_feasible(res.columns)
    assert res.objective == pytest.approx(problem.value_of(res.columns))
    assert res.objective <= opt + 1e-9
    assert res.bound >= opt - 1e-6
    if method in ("auto", "exact"):
        assert res.status == SolveStatus.OPTIMAL
        assert res.objective == pytest.approx(opt)


def test_lagrangian_not_offered_for_max_cover():
    p = MaxCoverProblem.from_columns(2, [[0], [1]], [1.0, 1.0], max_columns=1)
    with pytest.raises(ModelError):
        solve_set_cover(p, method="lagrangian")
