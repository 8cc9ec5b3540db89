"""Core-based three-phase heuristic (siteplan.optimize.setcover.cft) against naive twins.

References: brute-force enumeration (tests/naive_setcover.py) for optimum and bounds;
a plain-Python core definition and column restriction for the core helpers.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from naive_setcover import brute_force_set_cover, covers, random_instance
from siteplan.optimize import SetCoverProblem, solve_set_cover
from siteplan.optimize.setcover import cft, reduce_problem
from siteplan.optimize.setcover import solve as solve_mod
from siteplan.optimize.setcover.lagrangian import lagrangian_bound

HYP = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def small_problems(draw, multicover=False):
    seed = draw(st.integers(0, 2**32 - 1))
    m = draw(st.integers(2, 8))
    n = draw(st.integers(3, 12))
    rng = np.random.default_rng(seed)
    cols, costs = random_instance(rng, m, n, draw(st.sampled_from([0.25, 0.4, 0.6])))
    cols.append(list(range(m)))  # one column covers every row: always feasible (demand 1)
    costs = np.append(costs, 10.0 * m)
    if draw(st.booleans()):
        costs = np.ones(n + 1)
    kw = {}
    if multicover:
        cols.append(list(range(m)))  # a second full column: demand 2 stays feasible
        costs = np.append(costs, 10.0 * m)
        kw["demand"] = rng.integers(0, 3, size=m)
    return SetCoverProblem.from_columns(m, cols, costs, **kw)


@HYP
@given(small_problems(), st.integers(0, 3))
def test_cft_cover_feasible_and_not_below_optimum(problem, seed):
    # no dominance reductions: the heuristic must do the work itself
    red = reduce_problem(problem, dominance=False)
    opt, _ = brute_force_set_cover(problem)
    out = cft.cft_search(red, time_limit=None, seed=seed, max_rounds=4, per_row=2)
    assert out.x is not None and covers(red, out.x)
    cost = float(red.costs[out.x.astype(bool)].sum()) + red.forced_cost
    assert cost == pytest.approx(out.cost + red.forced_cost)
    assert cost >= opt - 1e-9
    # the bound is the whole reduced problem's L(u): never above the optimum
    assert out.lower_bound + red.forced_cost <= opt + 1e-6
    if out.proven:
        assert cost == pytest.approx(opt)
    for x in out.pool:
        assert covers(red, x)


@HYP
@given(small_problems(multicover=True), st.integers(0, 3))
def test_cft_multicover_feasible_and_not_below_optimum(problem, seed):
    red = reduce_problem(problem, dominance=False)
    opt, _ = brute_force_set_cover(problem)
    if red.infeasible is not None:
        assert opt == float("inf")
        return
    out = cft.cft_search(red, time_limit=None, seed=seed, max_rounds=4, per_row=2)
    assert out.x is not None and covers(red, out.x)
    assert out.cost + red.forced_cost >= opt - 1e-9
    assert out.lower_bound + red.forced_cost <= opt + 1e-6


def _medium(seed: int, m: int = 60, n: int = 400):
    rng = np.random.default_rng(seed)
    cols, costs = random_instance(rng, m, n, 0.06, max_cost=30)
    cols.append(list(range(m)))
    costs = np.append(costs, 1000.0)
    return SetCoverProblem.from_columns(m, cols, costs)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cft_deterministic_for_a_seed_and_feasible_on_medium_instances(seed):
    red = reduce_problem(_medium(seed), dominance=False)
    a = cft.cft_search(red, time_limit=None, seed=seed, max_rounds=6)
    b = cft.cft_search(red, time_limit=None, seed=seed, max_rounds=6)
    assert covers(red, a.x)
    assert np.array_equal(a.x, b.x) and a.cost == b.cost and a.lower_bound == b.lower_bound
    assert a.trajectory and [c for _, c in a.trajectory] == [c for _, c in b.trajectory]
    # costs strictly decrease along the trajectory; the last one is the answer
    costs = [c for _, c in a.trajectory]
    assert all(x > y for x, y in zip(costs, costs[1:])) and costs[-1] == a.cost
    assert a.lower_bound <= a.cost + 1e-9


def test_cft_never_worse_than_its_incumbent():
    red = reduce_problem(_medium(7), dominance=False)
    start = np.zeros(red.n_cols, np.uint8)
    start[-1] = 1  # the all-rows column (cost 1000) is a cover
    assert covers(red, start)
    out = cft.cft_search(red, time_limit=None, seed=0, max_rounds=3, incumbent=start)
    assert out.cost <= 1000.0 and covers(red, out.x)


def _naive_core(red, rc, per_row, x):
    keep = set(np.flatnonzero(x).tolist()) if x is not None else set()
    for i in range(red.n_rows):
        cols = [int(j) for j in range(red.n_cols)
                if i in red.col_rows[red.col_ptr[j]:red.col_ptr[j + 1]].tolist()]
        cols.sort(key=lambda j: (rc[j], j))
        keep.update(cols[:per_row])
        keep.update([j for j in cols[:cft.CORE_NEGATIVE_CAP] if rc[j] < 0])
    return sorted(keep)


@pytest.mark.parametrize("per_row", [1, 3, 10])
def test_price_core_matches_naive_definition(per_row):
    red = reduce_problem(_medium(3, m=25, n=120), dominance=False)
    rng = np.random.default_rng(per_row)
    u = rng.random(red.n_rows) * 3
    _, rc = lagrangian_bound(red, u)
    x = np.zeros(red.n_cols, np.uint8)
    x[rng.choice(red.n_cols, 5, replace=False)] = 1
    assert cft.price_core(red, rc, per_row, x).tolist() == _naive_core(red, rc, per_row, x)


def test_core_problem_is_the_column_restriction():
    red = reduce_problem(_medium(4, m=20, n=80), dominance=False)
    cols = np.array([0, 3, 4, 17, red.n_cols - 1])
    core = cft.core_problem(red, cols)
    assert core.n_rows == red.n_rows and core.n_cols == cols.size
    for k, j in enumerate(cols):
        assert core.col_rows[core.col_ptr[k]:core.col_ptr[k + 1]].tolist() == \
            red.col_rows[red.col_ptr[j]:red.col_ptr[j + 1]].tolist()
        assert core.costs[k] == red.costs[j]
    # the row view lists, for every row, the core columns that cover it
    for i in range(red.n_rows):
        want = [k for k in range(cols.size) if i in core.col_rows[core.col_ptr[k]:core.col_ptr[k + 1]].tolist()]
        assert sorted(core.row_cols[core.row_ptr[i]:core.row_ptr[i + 1]].tolist()) == want


@pytest.mark.parametrize("heuristic", ["cft", "core-milp"])
@pytest.mark.parametrize("method", ["auto", "lagrangian"])
def test_solve_with_each_heuristic_matches_brute_force(monkeypatch, heuristic, method):
    monkeypatch.setattr(solve_mod, "HEURISTIC", heuristic)
    # force the large-model branch of "auto" on a small instance
    monkeypatch.setattr(solve_mod, "CORE_SKIP_NNZ", 0)
    problem = _medium(5, m=12, n=14)
    opt, _ = brute_force_set_cover(problem)
    res = solve_set_cover(problem, method=method, seed=1)
    assert problem.is_feasible(res.columns)
    assert res.cost >= opt - 1e-9 and res.lower_bound <= opt + 1e-9
    if method == "auto":
        assert res.cost == pytest.approx(opt)


def test_two_for_one_exchanges_a_pair_for_one_cheaper_column():
    # rows 0,1,2; {0}, {1}, {2} cost 2 each, {0,1} cost 3, {1,2} cost 3.5: from the cover
    # {0},{1},{2} (cost 6), {0},{1} -> {0,1} saves 1 (and {1},{2} -> {1,2} saves 0.5)
    problem = SetCoverProblem.from_columns(3, [[0], [1], [2], [0, 1], [1, 2]], np.array([2., 2., 2., 3., 3.5]))
    red = reduce_problem(problem, dominance=False)
    assert red.n_cols == 5
    y = cft.two_for_one(red, np.array([1, 1, 1, 0, 0], np.uint8))
    assert covers(red, y)
    assert float(red.costs[y.astype(bool)].sum()) == 5.0


@HYP
@given(st.integers(0, 2**32 - 1), st.booleans())
def test_two_for_one_keeps_covers_feasible_and_never_dearer(seed, multicover):
    rng = np.random.default_rng(seed)
    m, n = int(rng.integers(3, 15)), int(rng.integers(5, 40))
    cols, costs = random_instance(rng, m, n, 0.3)
    cols += [list(range(m))] * 2
    costs = np.append(costs, [5.0 * m, 5.0 * m])
    demand = rng.integers(0, 3, size=m) if multicover else None
    problem = SetCoverProblem.from_columns(m, cols, costs, demand=demand)
    red = reduce_problem(problem, dominance=False)
    if red.n_rows == 0:
        return
    # a random feasible cover: random columns until every demand is met
    x = np.zeros(red.n_cols, np.uint8)
    for j in rng.permutation(red.n_cols):
        if covers(red, x):
            break
        x[j] = 1
    assert covers(red, x)
    y = cft.two_for_one(red, x)
    assert covers(red, y)
    assert float(red.costs[y.astype(bool)].sum()) <= float(red.costs[x.astype(bool)].sum()) + 1e-9
