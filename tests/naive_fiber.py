"""Naive, obviously-right twins of the fiber graph algorithms (pure Python, tiny graphs).

* :func:`brute_force_steiner` enumerates every set of Steiner vertices S and takes the
  minimum spanning tree of the subgraph induced by terminals + S (Kruskal); a minimum
  Steiner tree is the MST of the subgraph induced by its own vertex set, so the minimum
  over all S is the optimum.
* the forest form merges all roots into one node first (a different construction from
  the solver's zero-cost super-root).
* :func:`check_tree` verifies an answer independently: edges exist, no cycle, every
  terminal connected (to a root, in the forest form), cost adds up.
"""

from __future__ import annotations

import itertools
import math

__all__ = ["brute_force_steiner", "check_tree", "random_graph"]


def _kruskal(nodes, edges):
    """edges: list of (w, u, v). Returns MST cost or inf when ``nodes`` are not connected."""
    parent = {v: v for v in nodes}

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    total, used = 0.0, 0
    for w, u, v in sorted(edges):
        if u not in parent or v not in parent:
            continue
        a, b = find(u), find(v)
        if a != b:
            parent[a] = b
            total += w
            used += 1
    return total if used == len(nodes) - 1 else math.inf


def brute_force_steiner(n, edges, terminals, roots=None):
    """Optimal cost of a Steiner tree (or root forest) on nodes ``0..n-1``.

    ``edges``: iterable of (u, v, w). Returns ``math.inf`` when infeasible."""
    edges = [(int(u), int(v), float(w)) for u, v, w in edges if u != v]
    terminals = set(int(t) for t in terminals)
    if roots:
        roots = set(int(r) for r in roots)
        merged = -1

        def mp(x):
            return merged if x in roots else x

        edges = [(mp(u), mp(v), w) for u, v, w in edges if mp(u) != mp(v)]
        terminals = {mp(t) for t in terminals} | {merged}
        nodes_all = {mp(x) for x in range(n)}
    else:
        nodes_all = set(range(n))
    if len(terminals) <= 1:
        return 0.0
    others = sorted(nodes_all - terminals)
    best = math.inf
    for k in range(len(others) + 1):
        for extra in itertools.combinations(others, k):
            nodes = terminals | set(extra)
            sub = [(w, u, v) for u, v, w in edges if u in nodes and v in nodes]
            best = min(best, _kruskal(nodes, sub))
    return best


def check_tree(n, edges, terminals, answer_edges, roots=None):
    """Check an answer; return its cost. Raises AssertionError on any violation."""
    weight = {}
    for u, v, w in edges:
        key = (min(u, v), max(u, v))
        weight[key] = min(weight.get(key, math.inf), float(w))
    parent = list(range(n))

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    cost = 0.0
    seen = set()
    for u, v in answer_edges:
        key = (min(u, v), max(u, v))
        assert key in weight, f"edge {key} is not in the graph"
        assert key not in seen, f"edge {key} listed twice"
        seen.add(key)
        cost += weight[key]
        a, b = find(u), find(v)
        assert a != b, f"edge {key} closes a cycle"
        parent[a] = b
    terminals = list(terminals)
    if roots:
        root_sets = {find(r) for r in roots}
        for t in terminals:
            assert find(t) in root_sets, f"terminal {t} is not connected to any root"
    else:
        r0 = find(terminals[0])
        for t in terminals:
            assert find(t) == r0, f"terminal {t} is not connected"
    return cost


def random_graph(rng, n, p, wmax=10, integral=True, zero_frac=0.0):
    """Connected random graph: a random spanning tree plus each other pair with prob. p."""
    edges = {}
    order = list(range(n))
    rng.shuffle(order)
    for i in range(1, n):
        a, b = order[i], order[rng.randrange(i)]
        edges[(min(a, b), max(a, b))] = None
    for a in range(n):
        for b in range(a + 1, n):
            if rng.random() < p:
                edges[(a, b)] = None
    out = []
    for a, b in edges:
        if zero_frac and rng.random() < zero_frac:
            w = 0.0
        elif integral:
            w = float(rng.randint(1, wmax))
        else:
            w = round(rng.uniform(0.1, wmax), 3)
        out.append((a, b, w))
    return out
