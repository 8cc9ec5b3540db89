"""steiner_tree against brute-force enumeration (tests/naive_fiber.py) on small graphs."""

from __future__ import annotations

import math
import random

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from naive_fiber import brute_force_steiner, check_tree, random_graph
from siteplan.exceptions import InfeasibleError, InputError, ModelError
from siteplan.fiber import METHODS, steiner_tree

ALL_METHODS = sorted(METHODS)
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _instance(seed, n_lo=4, n_hi=11, integral=True, zero_frac=0.0):
    rng = random.Random(seed)
    n = rng.randint(n_lo, n_hi)
    edges = random_graph(rng, n, rng.choice([0.15, 0.3, 0.5]), integral=integral, zero_frac=zero_frac)
    k = rng.randint(2, min(n, 6))
    terms = rng.sample(range(n), k)
    return n, edges, terms, rng


def _solve(n, edges, terms, method, roots=None):
    arr = (n, np.array([(u, v) for u, v, _ in edges]), np.array([w for _, _, w in edges]))
    return steiner_tree(arr, terms, roots=roots, method=method)


def _assert_result(res, n, edges, terms, opt, roots=None):
    cost = check_tree(n, edges, terms, res.edges, roots=roots)
    assert math.isclose(cost, res.cost, rel_tol=1e-9, abs_tol=1e-9)
    assert res.lower_bound <= opt + 1e-7, (res.lower_bound, opt)
    assert res.cost >= opt - 1e-7
    assert 0.0 <= res.gap <= 1.0
    if res.status == "optimal":
        assert math.isclose(res.cost, opt, rel_tol=1e-9, abs_tol=1e-7)
    assert res.seconds >= 0


@pytest.mark.parametrize("method", ALL_METHODS)
@SETTINGS
@given(seed=st.integers(0, 10**9))
def test_matches_brute_force_integral(method, seed):
    n, edges, terms, _ = _instance(seed)
    opt = brute_force_steiner(n, edges, terms)
    res = _solve(n, edges, terms, method)
    _assert_result(res, n, edges, terms, opt)
    # tiny instances: the exact method and auto must prove optimality
    if method in ("exact", "auto"):
        assert res.status == "optimal"
        assert res.cost == opt


@pytest.mark.parametrize("method", ALL_METHODS)
@SETTINGS
@given(seed=st.integers(0, 10**9))
def test_matches_brute_force_real_weights_and_zeros(method, seed):
    n, edges, terms, _ = _instance(seed, integral=False, zero_frac=0.15)
    opt = brute_force_steiner(n, edges, terms)
    res = _solve(n, edges, terms, method)
    _assert_result(res, n, edges, terms, opt)
    if method == "exact":
        assert res.status == "optimal"
        assert math.isclose(res.cost, opt, rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize("method", ALL_METHODS)
@SETTINGS
@given(seed=st.integers(0, 10**9))
def test_forest_with_roots_matches_brute_force(method, seed):
    n, edges, terms, rng = _instance(seed, n_lo=5)
    others = [v for v in range(n) if v not in terms] or list(range(n))
    roots = rng.sample(others, min(len(others), rng.randint(1, 3)))
    opt = brute_force_steiner(n, edges, terms, roots=roots)
    res = _solve(n, edges, terms, method, roots=roots)
    _assert_result(res, n, edges, terms, opt, roots=roots)
    if method == "exact":
        assert res.status == "optimal"
        assert math.isclose(res.cost, opt, abs_tol=1e-9)


def test_input_forms_agree():
    rng = random.Random(7)
    n = 10
    edges = random_graph(rng, n, 0.4)
    terms = [0, 3, 7, 9]
    opt = brute_force_steiner(n, edges, terms)
    G = nx.Graph()
    for u, v, w in edges:
        G.add_edge(f"n{u}", f"n{v}", weight=w)
    r_nx = steiner_tree(G, [f"n{t}" for t in terms])
    assert r_nx.cost == opt
    assert all(isinstance(u, str) for e in r_nx.edges for u in e)
    rows = [u for u, _, _ in edges]
    cols = [v for _, v, _ in edges]
    A = sp.csr_array(([w for *_, w in edges], (rows, cols)), shape=(n, n))
    r_sp = steiner_tree(A, terms)
    assert r_sp.cost == opt
    check_tree(n, edges, terms, r_sp.edges)


def test_parallel_edges_and_self_loops_keep_cheapest():
    # two parallel edges 0-1 (cost 5 and 2) and a self-loop; terminals 0, 1
    arr = (3, np.array([[0, 1], [1, 0], [1, 1], [1, 2]]), np.array([5.0, 2.0, 0.0, 1.0]))
    res = steiner_tree(arr, [0, 1])
    assert res.cost == 2.0 and res.status == "optimal"


def test_single_terminal_and_terminal_roots():
    arr = (3, np.array([[0, 1], [1, 2]]), np.array([1.0, 1.0]))
    res = steiner_tree(arr, [2])
    assert res.cost == 0.0 and res.edges == [] and res.status == "optimal"
    # the terminal is itself a root: nothing to build
    res = steiner_tree(arr, [2], roots=[2])
    assert res.cost == 0.0 and res.edges == []
    # two roots, each terminal takes the nearer one
    res = steiner_tree((5, np.array([[0, 1], [1, 2], [2, 3], [3, 4]]), np.array([1.0, 5.0, 5.0, 1.0])),
                       [1, 3], roots=[0, 4])
    assert res.cost == 2.0 and sorted(map(sorted, res.edges)) == [[0, 1], [3, 4]]


def test_disconnected_terminal_is_infeasible():
    G = nx.Graph()
    G.add_edge("a", "b", weight=1)
    G.add_edge("c", "d", weight=1)
    with pytest.raises(InfeasibleError, match="cannot be connected"):
        steiner_tree(G, ["a", "c"])


def test_bad_arguments():
    G = nx.Graph()
    G.add_edge("a", "b", weight=1)
    with pytest.raises(InputError, match="must be a node"):
        steiner_tree(G, ["a", "zz"])
    with pytest.raises(ModelError, match="unknown method"):
        steiner_tree(G, ["a", "b"], method="magic")
    with pytest.raises(ModelError, match="time_limit"):
        steiner_tree(G, ["a", "b"], time_limit=0)
    G.add_edge("b", "c", weight=-1)
    with pytest.raises(InputError, match=">= 0"):
        steiner_tree(G, ["a", "c"])
    H = nx.Graph()
    H.add_edge(1, 2)
    with pytest.raises(InputError, match="weight"):
        steiner_tree(H, [1, 2])
    with pytest.raises(ModelError, match="undirected"):
        steiner_tree(nx.DiGraph([(1, 2)]), [1, 2])
