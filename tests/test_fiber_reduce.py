"""Building blocks of the Steiner solver against brute force (tests/naive_fiber.py):
reductions keep the optimum, dual ascent is a lower bound, heuristics and local search
return valid trees whose cost adds up, the flow MILP is exact."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from naive_fiber import brute_force_steiner, check_tree, random_graph
from siteplan.fiber.bounds import dual_ascent, elimination_mask
from siteplan.fiber.exact import solve_flow, tree_from_solution
from siteplan.fiber.heuristics import local_search, mehlhorn, sph, tree_cost
from siteplan.fiber.reduce import Reducer

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _case(seed, zero_frac=0.0):
    rng = random.Random(seed)
    n = rng.randint(4, 11)
    edges = random_graph(rng, n, rng.choice([0.15, 0.3, 0.5]), zero_frac=zero_frac)
    terms = rng.sample(range(n), rng.randint(2, min(n, 6)))
    eu = np.array([u for u, _, _ in edges], np.int64)
    ev = np.array([v for _, v, _ in edges], np.int64)
    ew = np.array([w for *_, w in edges], np.float64)
    return n, edges, terms, eu, ev, ew


def _reduced_edges(red, g):
    return [(int(a), int(b), float(w)) for a, b, w in zip(g.eu, g.ev, g.ew)]


@SETTINGS
@given(seed=st.integers(0, 10**9), zeros=st.sampled_from([0.0, 0.2]))
def test_reductions_keep_the_optimum(seed, zeros):
    n, edges, terms, eu, ev, ew = _case(seed, zeros)
    opt = brute_force_steiner(n, edges, terms)
    red = Reducer(n, eu, ev, ew, np.array(terms))
    red.reduce()
    if red.n_term <= 1:
        assert math.isclose(red.fixed_cost, opt, abs_tol=1e-9)
        # the fixed edges alone connect the terminals
        check_tree(n, edges, terms, [(int(eu[e]), int(ev[e])) for e in set(red.fixed)])
        return
    g = red.compact()
    opt_red = brute_force_steiner(g.n, _reduced_edges(red, g), g.terminals)
    assert math.isclose(red.fixed_cost + opt_red, opt, abs_tol=1e-9)


@SETTINGS
@given(seed=st.integers(0, 10**9))
def test_undoing_reductions_gives_a_valid_tree_of_the_same_cost(seed):
    n, edges, terms, eu, ev, ew = _case(seed)
    red = Reducer(n, eu, ev, ew, np.array(terms))
    red.reduce()
    if red.n_term <= 1:
        return
    g = red.compact()
    res = sph(g, int(g.terminals[0]))
    assert res is not None
    tree, cost = res
    orig = red.original_edges(g, tree)
    assert len(orig) == len(set(orig))
    total = check_tree(n, edges, terms, [(int(eu[e]), int(ev[e])) for e in orig])
    assert math.isclose(total, red.fixed_cost + cost, abs_tol=1e-9)


@SETTINGS
@given(seed=st.integers(0, 10**9))
def test_dual_ascent_is_a_lower_bound_and_elimination_keeps_cheaper_trees(seed):
    n, edges, terms, eu, ev, ew = _case(seed)
    opt = brute_force_steiner(n, edges, terms)
    red = Reducer(n, eu, ev, ew, np.array(terms))
    g = red.compact()
    for root in g.terminals[:3]:
        lb, rc = dual_ascent(g, int(root))
        assert lb <= opt + 1e-9
        assert np.all(rc >= 0)
        # cutoff just above the optimum: the optimum must survive elimination
        kill = elimination_mask(g, lb, rc, int(root), opt + 0.5)
        kept = [(int(a), int(b), float(w)) for a, b, w, k in zip(g.eu, g.ev, g.ew, kill) if not k]
        assert brute_force_steiner(g.n, kept, g.terminals) == opt


@SETTINGS
@given(seed=st.integers(0, 10**9))
def test_heuristics_and_local_search_give_valid_trees(seed):
    n, edges, terms, eu, ev, ew = _case(seed)
    opt = brute_force_steiner(n, edges, terms)
    g = Reducer(n, eu, ev, ew, np.array(terms)).compact()
    trees = [mehlhorn(g)]
    for t in g.terminals:
        trees.append(sph(g, int(t)))
    for tree, cost in trees:
        pairs = [(int(g.node_ids[g.eu[e]]), int(g.node_ids[g.ev[e]])) for e in np.flatnonzero(tree)]
        assert math.isclose(check_tree(n, edges, terms, pairs), cost, abs_tol=1e-9)
        assert cost >= opt - 1e-9
        t2, c2 = local_search(g, tree)
        pairs = [(int(g.node_ids[g.eu[e]]), int(g.node_ids[g.ev[e]])) for e in np.flatnonzero(t2)]
        assert math.isclose(check_tree(n, edges, terms, pairs), c2, abs_tol=1e-9)
        assert math.isclose(tree_cost(g, t2), c2, abs_tol=1e-9)
        assert c2 <= cost + 1e-9
        assert c2 >= opt - 1e-9


@pytest.mark.parametrize("seed", range(12))
def test_flow_milp_is_exact(seed):
    n, edges, terms, eu, ev, ew = _case(seed)
    opt = brute_force_steiner(n, edges, terms)
    g = Reducer(n, eu, ev, ew, np.array(terms)).compact()
    res = solve_flow(g, int(g.terminals[0]), time_limit=30, integral_costs=True)
    assert res.status == "optimal"
    tree = tree_from_solution(g, res.x)
    assert math.isclose(tree_cost(g, tree), opt, abs_tol=1e-6)
    assert res.bound <= opt + 1e-6
    # with a cap below the optimum there is no tree
    capped = solve_flow(g, int(g.terminals[0]), time_limit=30, integral_costs=True, cost_cap=opt - 1 + 1e-6)
    assert capped.status == "infeasible"


@SETTINGS
@given(seed=st.integers(0, 10**9), zeros=st.sampled_from([0.0, 0.2]))
def test_each_deletion_test_alone_keeps_the_optimum(seed, zeros):
    import siteplan.fiber.reduce as R

    n, edges, terms, eu, ev, ew = _case(seed, zeros)
    opt = brute_force_steiner(n, edges, terms)
    for test in ("sd", "long_apsp", "long_bounded"):
        red = Reducer(n, eu, ev, ew, np.array(terms))
        if test == "sd":
            red.sd_test(k=3)
        else:
            old = R.LONG_EDGE_APSP_MIN_DENSITY
            R.LONG_EDGE_APSP_MIN_DENSITY = 0 if test == "long_apsp" else 10**9
            try:
                red.long_edge_test()
            finally:
                R.LONG_EDGE_APSP_MIN_DENSITY = old
        g = red.compact()
        kept = [(int(g.node_ids[a]), int(g.node_ids[b]), float(w)) for a, b, w in zip(g.eu, g.ev, g.ew)]
        assert brute_force_steiner(n, kept, terms) == pytest.approx(opt, abs=1e-9), test


def test_special_distance_deletes_an_edge_it_must():
    # path 0 -(1)- 1 -(1)- 2 with terminal 1 in the middle, and a direct edge 0-2 of cost 1.5:
    # max(d(0,1), d(2,1)) = 1 < 1.5, so {0, 2} is in no optimal tree (terminals 0, 1, 2 and
    # also any other terminal set containing 1)
    eu, ev, ew = np.array([0, 1, 0]), np.array([1, 2, 2]), np.array([1.0, 1.0, 1.5])
    red = Reducer(3, eu, ev, ew, np.array([1, 0]))
    assert red.sd_test() == 1
    assert not red.alive[2] and red.alive[0] and red.alive[1]
