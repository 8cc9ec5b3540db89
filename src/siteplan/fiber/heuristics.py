"""Constructive heuristics and local search for Steiner trees on a :class:`CompactGraph`.

* shortest-path heuristic (Takahashi and Matsuyama 1980) grown from several start
  terminals, each followed by MST of the spanned nodes and leaf pruning;
* Mehlhorn's (1988) Voronoi-based 2-approximation;
* local search: key-path exchange and key-vertex elimination (Uchoa and Werneck 2010;
  Polzin's thesis 2003), reconnecting the pieces by shortest paths / Mehlhorn's
  construction over the free vertices, alternated with Steiner vertex insertion
  (Minoux 1990), repeated until no move improves.

Trees are boolean edge masks over the compact graph's edges.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from siteplan.fiber._kernels import (
    _local_search_kernel,
    _mehlhorn_kernel,
    _mst_prune_kernel,
    _sph_kernel,
    _tree_nodes,
    _vertex_insertion_kernel,
)
from siteplan.fiber.reduce import CompactGraph

__all__ = ["sph", "mehlhorn", "local_search", "tree_cost", "improve_by_mst", "construct", "perturbed_search"]


def tree_cost(g: CompactGraph, tree: np.ndarray) -> float:
    """Sum of the costs of the edges in ``tree`` [cost units]."""
    return float(g.ew[tree].sum())


def improve_by_mst(g: CompactGraph, tree: np.ndarray, edge_ok: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """MST of the subgraph induced by the tree's nodes, then non-terminal leaves pruned."""
    ok = np.ones(g.m, np.bool_) if edge_ok is None else edge_ok
    node_in = _tree_nodes(g.n, g.eu, g.ev, tree, g.is_term)
    return _mst_prune_kernel(g.n, g.indptr, g.adj_v, g.adj_e, g.eu, g.ev, g.ew, ok, node_in, g.is_term)


def sph(g: CompactGraph, start: int, edge_ok: np.ndarray | None = None) -> tuple[np.ndarray, float] | None:
    """Shortest-path heuristic from node ``start``; ``None`` when a terminal is unreachable
    over ``edge_ok``."""
    ok = np.ones(g.m, np.bool_) if edge_ok is None else edge_ok
    starts = np.asarray([start], dtype=np.int64)
    tree, reached = _sph_kernel(g.n, g.indptr, g.adj_v, g.adj_e, g.eu, g.ev, g.ew, ok, starts, g.is_term,
                                int(g.terminals.shape[0]))
    if reached < g.terminals.shape[0]:
        return None
    return improve_by_mst(g, tree)


def mehlhorn(g: CompactGraph) -> tuple[np.ndarray, float]:
    """Mehlhorn's heuristic (Voronoi regions of the terminals)."""
    ok = np.ones(g.m, np.bool_)
    node_ok = np.ones(g.n, np.bool_)
    return _mehlhorn_kernel(g.n, g.indptr, g.adj_v, g.adj_e, g.eu, g.ev, g.ew, ok, node_ok, g.terminals, g.is_term)


def local_search(g: CompactGraph, tree: np.ndarray, max_rounds: int = 50) -> tuple[np.ndarray, float]:
    """Key-path exchange + key-vertex elimination until no improving move remains."""
    t = tree.copy()
    ok = np.ones(g.m, np.bool_)
    cost = _local_search_kernel(g.n, g.indptr, g.adj_v, g.adj_e, g.eu, g.ev, g.ew, ok, g.is_term, t, max_rounds)
    for _ in range(max_rounds):
        c2 = _vertex_insertion_kernel(g.n, g.indptr, g.adj_v, g.adj_e, g.eu, g.ev, g.ew, ok, g.is_term, t)
        if c2 >= cost - 1e-9:
            break
        cost = _local_search_kernel(g.n, g.indptr, g.adj_v, g.adj_e, g.eu, g.ev, g.ew, ok, g.is_term, t, max_rounds)
    return t, float(cost)


def _start_terminals(g: CompactGraph, k: int, rng: np.random.Generator) -> np.ndarray:
    terms = g.terminals
    if terms.shape[0] <= k:
        return terms
    # spread: highest-degree terminal first, then a random sample
    deg = np.diff(g.indptr)[terms]
    first = terms[np.argmax(deg)]
    rest = rng.choice(terms[terms != first], size=k - 1, replace=False)
    return np.concatenate([[first], rest])


def construct(
    g: CompactGraph,
    deadline: float,
    n_starts: int = 40,
    n_improve: int = 6,
    seed: int = 0,
) -> tuple[np.ndarray, float]:
    """Best tree from Mehlhorn + SPH from several starts, the best few improved by local search.

    Stops starting new constructions after ``deadline`` (``time.perf_counter()`` value)."""
    rng = np.random.default_rng(seed)
    pool: list[tuple[float, bytes, np.ndarray]] = []
    seen: set[bytes] = set()

    def add(tree: np.ndarray, cost: float) -> None:
        key = np.packbits(tree).tobytes()
        if key in seen:
            return
        seen.add(key)
        pool.append((cost, key, tree))

    tree, cost = mehlhorn(g)
    add(tree, cost)
    for s in _start_terminals(g, n_starts, rng):
        if time.perf_counter() > deadline and pool:
            break
        res = sph(g, int(s))
        if res is not None:
            add(*res)
    pool.sort(key=lambda item: item[0])
    best_tree, best_cost = pool[0][2], pool[0][0]
    for cost, _key, tree in pool[:n_improve]:
        if time.perf_counter() > deadline and best_cost < np.inf:
            break
        t2, c2 = local_search(g, tree)
        if c2 < best_cost - 1e-9:
            best_tree, best_cost = t2, c2
    return best_tree, float(tree_cost(g, best_tree))


def perturbed_search(
    g: CompactGraph,
    deadline: float,
    max_iter: int,
    seed: int = 1,
) -> tuple[np.ndarray, float]:
    """Multi-start with random cost perturbation (Ribeiro, Uchoa and Werneck 2002 style):
    shortest-path heuristic on costs multiplied by factors in ``[1, 1 + delta]`` from a
    random terminal, then local search on the true costs. Returns the best tree found."""
    rng = np.random.default_rng(seed)
    best_tree, best_cost = None, np.inf
    deltas = (0.05, 0.1, 0.2, 0.4)
    terms = g.terminals
    slowest = 0.0
    for it in range(max_iter):
        start = time.perf_counter()
        if start + slowest > deadline:
            break  # the next start would likely end after the deadline
        delta = deltas[it % len(deltas)]
        gp = dataclasses.replace(g, ew=g.ew * (1.0 + delta * rng.random(g.m)))
        res = sph(gp, int(terms[rng.integers(terms.shape[0])]))
        if res is None:
            continue
        tree, _ = improve_by_mst(g, res[0])
        tree, cost = local_search(g, tree)
        if cost < best_cost - 1e-9:
            best_tree, best_cost = tree, cost
        slowest = max(slowest, time.perf_counter() - start)
    if best_tree is None:
        return construct(g, deadline, n_starts=1, n_improve=1)
    return best_tree, best_cost
