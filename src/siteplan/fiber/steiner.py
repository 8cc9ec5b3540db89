"""Steiner trees and Steiner forests (several zero-cost roots) on undirected weighted graphs.

Public entry point: :func:`steiner_tree`. The pipeline, on plain arrays:

1. input converted to edge arrays (parallel edges keep the cheapest, self-loops dropped),
   restricted to the connected component of the terminals; with ``roots`` a super-root
   joined to every root by a zero-cost edge is added and made a terminal;
2. exact reductions (:mod:`siteplan.fiber.reduce`);
3. heuristic upper bound: Mehlhorn + shortest-path heuristic from several terminals,
   local search (:mod:`siteplan.fiber.heuristics`);
4. lower bound by dual ascent from a few roots, a dual-ascent guided tree, reduced-cost
   elimination of edges that cannot lie in a better tree, reductions again
   (:mod:`siteplan.fiber.bounds`), repeated while the graph shrinks;
5. for ``method="exact"`` (or ``"auto"`` on small reduced graphs) the flow formulation
   solved with HiGHS on the reduced graph (:mod:`siteplan.fiber.exact`);
6. the answer mapped back to the input's edges, cleaned (MST of its nodes + pruning),
   checked (connected, spans every terminal) and costed from the input weights.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Hashable, Iterable, Sequence

import numpy as np

from siteplan.exceptions import InfeasibleError, InputError, ModelError, Problem, SolverError
from siteplan.fiber._kernels import _build_csr_kernel, _mst_prune_kernel
from siteplan.fiber.bounds import dual_ascent, elimination_mask, saturated_edges
from siteplan.fiber.exact import flow_size, solve_flow, tree_from_solution
from siteplan.fiber.heuristics import construct, improve_by_mst, local_search, perturbed_search, sph
from siteplan.fiber.reduce import CompactGraph, Reducer

__all__ = ["SteinerStatus", "SteinerResult", "steiner_tree", "METHODS", "AUTO_EXACT_MAX_FLOW_VARS"]

#: ``method="auto"`` runs the exact flow formulation when the reduced instance has at most
#: this many flow variables (|T| - 1) * 2|E|; larger ones keep the heuristic answer with its bound.
AUTO_EXACT_MAX_FLOW_VARS = 50_000
#: Without a time limit, ``method="auto"`` gives the MILP at most this long [s].
AUTO_EXACT_DEFAULT_SECONDS = 60.0
#: Without a time limit, rounds of perturbed multi-start search when not yet optimal.
DEFAULT_PERTURBATION_ROUNDS = 32
#: Perturbed starts between two recombinations; elite pool size; seconds per recombination.
PERTURBATIONS_PER_ROUND = 4
ELITE_SIZE = 5
RECOMBINE_SECONDS = 2.0


class SteinerStatus(str, Enum):
    """``optimal``: lower bound meets the cost; ``feasible``: a valid tree with a gap."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"


@dataclass(frozen=True)
class SteinerResult:
    """A Steiner tree (or forest hanging from the roots) and its quality certificate.

    Attributes
    ----------
    cost : total cost of ``edges`` [cost units of the weights].
    edges : list of ``(u, v)`` node pairs of the input graph forming the tree/forest.
    lower_bound : a proven lower bound on the optimal cost [cost units].
    gap : ``(cost - lower_bound) / cost`` [-] (0 when cost is 0).
    status : :class:`SteinerStatus` value (``"optimal"`` or ``"feasible"``).
    seconds : wall time of the solve [s].
    method : the method that ran (``"heuristic"`` or ``"exact"``; ``"auto"`` resolves).
    stats : sizes before/after reductions, what each reduction removed, bound history.
    """

    cost: float
    edges: list[tuple[Any, Any]]
    lower_bound: float
    gap: float
    status: str
    seconds: float
    method: str
    stats: dict = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict:
        """JSON-ready summary (edges as lists of node ids)."""
        return {
            "cost": self.cost,
            "edges": [[_jsonable(u), _jsonable(v)] for u, v in self.edges],
            "lower_bound": self.lower_bound,
            "gap": self.gap,
            "status": str(self.status),
            "seconds": self.seconds,
            "method": self.method,
        }


def _jsonable(x):
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    return x


# ---------------------------------------------------------------------------------------
# input conversion
# ---------------------------------------------------------------------------------------


@dataclass
class _Arrays:
    n: int
    eu: np.ndarray
    ev: np.ndarray
    ew: np.ndarray
    labels: list  # node label of index i
    terminals: np.ndarray
    roots: np.ndarray


def _from_networkx(graph, weight: str) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, list]:
    if graph.is_directed():
        raise ModelError("steiner_tree needs an undirected graph (got a directed networkx graph)")
    labels = list(graph.nodes())
    index = {v: i for i, v in enumerate(labels)}
    eu, ev, ew, problems = [], [], [], []
    for u, v, data in graph.edges(data=True):
        w = data.get(weight)
        if w is None:
            problems.append(Problem(None, None, weight, "every edge needs this attribute", (u, v)))
            continue
        try:
            w = float(w)
        except (TypeError, ValueError):
            problems.append(Problem(None, None, weight, "must be a number", (u, v, w)))
            continue
        if not math.isfinite(w) or w < 0:
            problems.append(Problem(None, None, weight, "must be finite and >= 0", (u, v, w)))
            continue
        eu.append(index[u])
        ev.append(index[v])
        ew.append(w)
    InputError.collect(problems)
    return len(labels), np.asarray(eu, np.int64), np.asarray(ev, np.int64), np.asarray(ew, np.float64), labels


def _from_sparse(graph) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, list]:
    import scipy.sparse as sp

    if graph.shape[0] != graph.shape[1]:
        raise ModelError(f"adjacency matrix must be square (got shape {graph.shape})")
    coo = sp.coo_array(graph)
    w = np.asarray(coo.data, dtype=np.float64)
    if w.size and (not np.all(np.isfinite(w)) or np.any(w < 0)):
        raise InputError(Problem(None, None, "weight", "matrix entries must be finite and >= 0"))
    n = int(graph.shape[0])
    return n, coo.row.astype(np.int64), coo.col.astype(np.int64), w, list(range(n))


def _from_edge_arrays(graph) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, list]:
    n, edges, weights = graph
    n = int(n)
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape[0] != edges.shape[0]:
        raise ModelError(f"edges ({edges.shape[0]}) and weights ({w.shape[0]}) differ in length")
    if edges.size and (edges.min() < 0 or edges.max() >= n):
        raise ModelError(f"edge end points must be node indices 0..{n - 1}")
    if w.size and (not np.all(np.isfinite(w)) or np.any(w < 0)):
        raise InputError(Problem(None, None, "weight", "edge weights must be finite and >= 0"))
    return n, edges[:, 0].copy(), edges[:, 1].copy(), w, list(range(n))


def _dedupe(n: int, eu: np.ndarray, ev: np.ndarray, ew: np.ndarray):
    """Drop self-loops; of parallel edges keep the cheapest (first on ties)."""
    keep = eu != ev
    a = np.minimum(eu, ev)[keep]
    b = np.maximum(eu, ev)[keep]
    w = ew[keep]
    key = a * n + b
    order = np.lexsort((w, key))
    key_s = key[order]
    first = np.ones(key_s.shape[0], np.bool_)
    first[1:] = key_s[1:] != key_s[:-1]
    sel = order[first]
    sel.sort()
    return a[sel], b[sel], w[sel]


def _to_arrays(graph, terminals, roots, weight: str) -> _Arrays:
    import networkx as nx
    import scipy.sparse as sp

    if isinstance(graph, nx.Graph):
        if graph.is_multigraph():
            raise ModelError("steiner_tree needs a simple graph; collapse the multigraph first")
        n, eu, ev, ew, labels = _from_networkx(graph, weight)
    elif sp.issparse(graph):
        n, eu, ev, ew, labels = _from_sparse(graph)
    elif isinstance(graph, tuple) and len(graph) == 3:
        n, eu, ev, ew, labels = _from_edge_arrays(graph)
    else:
        raise ModelError(
            "graph must be a networkx.Graph with a weight attribute, a scipy.sparse adjacency "
            f"matrix, or a tuple (n_nodes, edges (m, 2), weights (m,)); got {type(graph).__name__}"
        )
    eu, ev, ew = _dedupe(n, eu, ev, ew)
    if isinstance(graph, nx.Graph):
        index = {v: i for i, v in enumerate(labels)}
    else:
        index = None

    def to_idx(items, what: str) -> np.ndarray:
        out, problems = [], []
        for x in items:
            if index is not None:
                i = index.get(x)
            else:
                try:
                    i = int(x)
                except (TypeError, ValueError):
                    i = None
                if i is not None and not 0 <= i < n:
                    i = None
            if i is None:
                problems.append(Problem(None, None, what, "must be a node of the graph", x))
            else:
                out.append(i)
        InputError.collect(problems)
        return np.unique(np.asarray(out, np.int64))

    if isinstance(terminals, (str, bytes)) or not isinstance(terminals, Iterable):
        raise ModelError("terminals must be a collection of nodes")
    term = to_idx(list(terminals), "terminals")
    rts = to_idx(list(roots), "roots") if roots is not None else np.zeros(0, np.int64)
    if term.shape[0] == 0:
        raise ModelError("at least one terminal is needed")
    return _Arrays(n, eu, ev, ew, labels, term, rts)


# ---------------------------------------------------------------------------------------
# the pipeline
# ---------------------------------------------------------------------------------------


def _is_integral(w: np.ndarray) -> bool:
    return bool(w.size == 0 or (np.all(w == np.round(w)) and np.all(np.abs(w) < 2.0**40)))


class _Incumbent:
    """Best tree so far, as original edge ids (of the working graph) with its cost."""

    def __init__(self):
        self.cost = math.inf
        self.edges: list[int] | None = None

    def offer(self, cost: float, edges: list[int]) -> bool:
        if cost < self.cost - 1e-9:
            self.cost, self.edges = cost, edges
            return True
        return False


def _da_roots(g: CompactGraph, k: int) -> list[int]:
    terms = g.terminals
    if terms.shape[0] <= k:
        return [int(t) for t in terms]
    deg = np.diff(g.indptr)[terms]
    order = np.argsort(-deg, kind="stable")
    return [int(terms[order[i * len(order) // k]]) for i in range(k)]


def _pipeline(
    n: int, eu: np.ndarray, ev: np.ndarray, ew: np.ndarray, terms: np.ndarray,
    method: str, time_limit: float | None, t0: float, recombine: bool = True,
) -> tuple[list[int], float, str, dict]:
    """Solve on the working arrays. Returns (original edge ids, lower bound, method run, stats)."""
    # keep a small margin for undoing the reductions and checking the answer
    budget = math.inf if time_limit is None else 0.97 * float(time_limit)
    deadline = t0 + budget
    integral = _is_integral(ew)
    stats: dict = {"nodes": n, "edges": int(eu.shape[0]), "terminals": int(terms.shape[0])}

    def left() -> float:
        return deadline - time.perf_counter()

    red = Reducer(n, eu, ev, ew, terms)
    red.reduce()
    stats["t_reduce"] = time.perf_counter() - t0
    if red.n_term <= 1:
        stats["reductions"] = red.stats.as_dict()
        stats["solved_by"] = "reductions"
        return list(red.fixed), red.fixed_cost, "heuristic", stats
    g = red.compact()
    stats["reduced_nodes"], stats["reduced_edges"] = g.n, g.m

    inc = _Incumbent()
    # constructive phase: at most 30 % of the budget
    tree, cost = construct(g, time.perf_counter() + min(0.3 * max(left(), 0.0), 3600.0))
    inc.offer(red.fixed_cost + cost, red.original_edges(g, tree))
    stats["heuristic_cost"] = inc.cost
    stats["t_construct"] = time.perf_counter() - t0

    def proven(lb: float) -> bool:
        if integral:
            return math.ceil(lb - 1e-6) >= inc.cost - 1e-9
        return lb >= inc.cost - 1e-9 * max(1.0, abs(inc.cost))

    def cutoff_for(fixed: float) -> float:
        # graph-level cutoff: keep only trees strictly cheaper than the incumbent
        ub = inc.cost - fixed
        return ub - 1.0 + 1e-6 if integral else ub + 1e-9 * max(1.0, abs(ub))

    state = {"g": g, "lb": 0.0, "exhausted": False, "rounds": 0}

    def bound_and_eliminate(n_roots: int) -> int:
        """Dual ascent on the current graph, DA-guided trees, reduced-cost elimination.
        Returns the number of edges eliminated (0 when proven, exhausted or out of time)."""
        g = state["g"]
        state["rounds"] += 1
        round_lb, best = -math.inf, None
        for r in _da_roots(g, n_roots):
            lb_r, rc_r = dual_ascent(g, r)
            if lb_r > round_lb:
                round_lb, best = lb_r, (r, rc_r)
            # dual-ascent guided tree: shortest paths over the saturated arcs
            res = sph(g, r, saturated_edges(g, rc_r))
            if res is not None:
                t3, c3 = local_search(g, res[0])
                inc.offer(red.fixed_cost + c3, red.original_edges(g, t3))
            if left() <= 0:
                break
        root, rc = best
        # valid for the original problem: every tree cheaper than the incumbent is in g
        state["lb"] = max(state["lb"], min(inc.cost, red.fixed_cost + round_lb))
        if proven(state["lb"]) or left() <= 0:
            return 0
        kill = elimination_mask(g, round_lb, rc, root, cutoff_for(red.fixed_cost))
        n_kill = int(kill.sum())
        if n_kill == 0:
            return 0
        red.delete_edges(g.edge_ids[kill])
        red.reduce(long_edges=False)
        if red.n_term <= 1:
            # what is left is solved by the reductions: one candidate tree
            inc.offer(red.fixed_cost, list(red.fixed))
            state["exhausted"] = True
            return 0
        g_new = red.compact()
        if not _terms_connected(g_new):
            state["exhausted"] = True
            return 0
        state["g"] = g_new
        return n_kill

    # bound / eliminate rounds while the graph shrinks
    n_roots = 3
    while state["rounds"] < 8:
        m_before = state["g"].m
        k = bound_and_eliminate(n_roots)
        n_roots = 1
        if k == 0 or state["exhausted"]:
            break
        g = state["g"]
        tree, cost = construct(g, time.perf_counter() + 0.1 * max(left(), 0.0), n_starts=10, n_improve=2)
        inc.offer(red.fixed_cost + cost, red.original_edges(g, tree))
        if k < 0.02 * m_before:
            break

    g = state["g"]
    stats["t_bound"] = time.perf_counter() - t0
    stats["bound_cost"] = inc.cost
    size = flow_size(g)
    want_exact = method == "exact" or (method == "auto" and size <= AUTO_EXACT_MAX_FLOW_VARS)
    # improvement phase: perturbed multi-start + local search on the reduced graph
    if not state["exhausted"] and not proven(state["lb"]) and left() > 0:
        if time_limit is None:
            imp_deadline, max_iter = math.inf, DEFAULT_PERTURBATION_ROUNDS
        else:
            share = 0.15 if want_exact else 0.95
            imp_deadline, max_iter = time.perf_counter() + share * left(), 10**9
        if want_exact or not recombine:
            # the MILP (or the caller) finishes the job: a short improvement only
            max_iter = min(max_iter, PERTURBATIONS_PER_ROUND)
        before = inc.cost
        elite: list[tuple[float, bytes, np.ndarray]] = []

        def add_elite(tree: np.ndarray, cost: float) -> None:
            inc.offer(red.fixed_cost + cost, red.original_edges(g, tree))
            key = np.packbits(tree).tobytes()
            if any(k == key for _, k, _ in elite):
                return
            elite.append((cost, key, tree))
            elite.sort(key=lambda item: item[0])
            del elite[ELITE_SIZE:]

        it = 0
        stats["perturbation_rounds"] = 0
        per_start = 0.0  # slowest single perturbed start so far [s]
        while it < max_iter and time.perf_counter() + per_start < imp_deadline:
            started = time.perf_counter()
            tree, cost = perturbed_search(g, imp_deadline, PERTURBATIONS_PER_ROUND, seed=it + 1)
            per_start = max(per_start, (time.perf_counter() - started) / PERTURBATIONS_PER_ROUND)
            it += PERTURBATIONS_PER_ROUND
            stats["perturbation_rounds"] += 1
            add_elite(tree, cost)
            if recombine and len(elite) >= 2 and time.perf_counter() + RECOMBINE_SECONDS < imp_deadline:
                sub_budget = min(max(imp_deadline - time.perf_counter(), 0.05), RECOMBINE_SECONDS)
                res = _recombine(g, [t for _, _, t in elite], sub_budget)
                if res is not None:
                    add_elite(*res)
        if inc.cost < before and left() > 0.1 * budget:
            # a better incumbent eliminates more
            while bound_and_eliminate(1) > 0 and state["rounds"] < 12:
                pass
            g = state["g"]
            size = flow_size(g)
    stats["da_rounds"] = state["rounds"]
    stats["t_improve"] = time.perf_counter() - t0
    if state["exhausted"]:
        state["lb"] = inc.cost
        stats["final_nodes"], stats["final_edges"] = 0, 0
    else:
        stats["final_nodes"], stats["final_edges"] = g.n, g.m
    best_lb = state["lb"]
    ran = "heuristic"
    if not state["exhausted"] and not proven(best_lb):
        stats["flow_vars"] = size
        want_exact = method == "exact" or (method == "auto" and size <= AUTO_EXACT_MAX_FLOW_VARS)
        budget_left = left()
        if method == "auto" and time_limit is None:
            budget_left = AUTO_EXACT_DEFAULT_SECONDS
        if want_exact and budget_left > 0:
            ran = "exact"
            root = _da_roots(g, 1)[0]
            cap = inc.cost - red.fixed_cost
            cap = cap - 1.0 + 1e-6 if integral else cap
            res = solve_flow(g, root, None if math.isinf(budget_left) else budget_left, integral, cost_cap=cap)
            stats["milp_status"] = res.status
            if res.status == "infeasible":
                best_lb = inc.cost
            else:
                if res.x is not None:
                    tree = tree_from_solution(g, res.x)
                    tree, cost = improve_by_mst(g, tree)
                    inc.offer(red.fixed_cost + cost, red.original_edges(g, tree))
                if math.isfinite(res.bound):
                    bound = red.fixed_cost + res.bound
                    if integral:
                        bound = math.ceil(bound - 1e-6)
                    best_lb = max(best_lb, min(inc.cost, bound))
    stats["reductions"] = red.stats.as_dict()
    if integral:
        best_lb = min(inc.cost, float(math.ceil(best_lb - 1e-6)))
    return inc.edges, best_lb, ran, stats


def _recombine(g: CompactGraph, trees: list[np.ndarray], seconds: float):
    """Solve the instance restricted to the union of good trees (a small graph) with the
    whole pipeline, then polish the answer by local search on ``g``."""
    union = np.zeros(g.m, np.bool_)
    for t in trees:
        union |= t
    ids = np.flatnonzero(union)
    nodes = np.unique(np.concatenate([g.eu[ids], g.ev[ids], g.terminals]))
    new_id = np.full(g.n, -1, np.int64)
    new_id[nodes] = np.arange(nodes.shape[0])
    t0 = time.perf_counter()
    edge_ids, _lb, _ran, _stats = _pipeline(
        int(nodes.shape[0]), new_id[g.eu[ids]], new_id[g.ev[ids]], g.ew[ids], new_id[g.terminals],
        "auto", seconds, t0, recombine=False,
    )
    tree = np.zeros(g.m, np.bool_)
    tree[ids[np.asarray(edge_ids, np.int64)]] = True
    tree, _ = improve_by_mst(g, tree)
    return local_search(g, tree)


def _terms_connected(g: CompactGraph) -> bool:
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    if g.terminals.shape[0] <= 1:
        return True
    adj = coo_array((np.ones(g.m), (g.eu, g.ev)), shape=(g.n, g.n))
    _, lab = connected_components(adj, directed=False)
    return bool(np.all(lab[g.terminals] == lab[g.terminals[0]]))


def _finish(n, eu, ev, ew, is_term, edge_ids: list[int]) -> np.ndarray:
    """Clean a union of original edges into a tree: MST of its nodes + leaf pruning."""
    m = eu.shape[0]
    indptr, adj_v, adj_e = _build_csr_kernel(n, eu, ev)
    node_in = np.zeros(n, np.bool_)
    ids = np.asarray(edge_ids, np.int64)
    node_in[eu[ids]] = True
    node_in[ev[ids]] = True
    node_in[is_term] = True
    tree, _ = _mst_prune_kernel(n, indptr, adj_v, adj_e, eu, ev, ew, np.ones(m, np.bool_), node_in, is_term)
    return tree


def _check_tree(n, eu, ev, tree, terms) -> None:
    """Internal guard: the answer must connect every terminal without cycles."""
    parent = np.arange(n)

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for e in np.flatnonzero(tree):
        a, b = find(eu[e]), find(ev[e])
        if a == b:
            raise SolverError("internal error: the Steiner answer contains a cycle")
        parent[a] = b
    r = find(terms[0])
    if any(find(t) != r for t in terms):
        raise SolverError("internal error: the Steiner answer does not connect every terminal")


def _solve_heuristic(arr, time_limit, t0):
    return _solve(arr, "heuristic", time_limit, t0)


def _solve_exact(arr, time_limit, t0):
    return _solve(arr, "exact", time_limit, t0)


def _solve_auto(arr, time_limit, t0):
    return _solve(arr, "auto", time_limit, t0)


#: ``method`` name -> private solver.
METHODS = {"auto": _solve_auto, "heuristic": _solve_heuristic, "exact": _solve_exact}


def _solve(arr: _Arrays, method: str, time_limit, t0):
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    n, eu, ev, ew = arr.n, arr.eu, arr.ev, arr.ew
    m_real = int(eu.shape[0])
    terms = arr.terminals
    if arr.roots.shape[0]:
        s = n
        n = n + 1
        eu = np.concatenate([eu, np.full(arr.roots.shape[0], s, np.int64)])
        ev = np.concatenate([ev, arr.roots])
        ew = np.concatenate([ew, np.zeros(arr.roots.shape[0])])
        terms = np.unique(np.concatenate([terms, [s]]))
    # connectivity: all terminals in one component
    adj = coo_array((np.ones(eu.shape[0]), (eu, ev)), shape=(n, n))
    _, lab = connected_components(adj, directed=False)
    comp = lab[terms[0]]
    bad = [t for t in terms if lab[t] != comp]
    if bad:
        names = [arr.labels[t] if t < len(arr.labels) else "<super-root>" for t in bad[:10]]
        what = "the roots" if arr.roots.shape[0] else f"terminal {arr.labels[terms[0]]!r}"
        raise InfeasibleError(
            f"{len(bad)} terminal(s) cannot be connected to {what}: {names}"
            + (" ..." if len(bad) > 10 else ""),
            diagnosis={"unreachable": names},
        )
    # restrict to the terminals' component
    keep = lab[eu] == comp
    idx_map = np.flatnonzero(keep)
    w_eu, w_ev, w_ew = eu[keep], ev[keep], ew[keep]
    is_term = np.zeros(n, np.bool_)
    is_term[terms] = True
    if terms.shape[0] <= 1:
        tree = np.zeros(w_eu.shape[0], np.bool_)
        lb, ran, stats = 0.0, "heuristic", {"solved_by": "trivial"}
    else:
        edge_ids, lb, ran, stats = _pipeline(n, w_eu, w_ev, w_ew, terms, method, time_limit, t0)
        tree = _finish(n, w_eu, w_ev, w_ew, is_term, edge_ids)
        _check_tree(n, w_eu, w_ev, tree, terms)
    sel = idx_map[np.flatnonzero(tree)]
    real = sel[sel < m_real]
    cost = float(arr.ew[real].sum()) if real.size else 0.0
    lb = min(lb, cost)
    if lb < 0:
        lb = 0.0
    gap = 0.0 if cost <= 0 else (cost - lb) / cost
    optimal = gap <= 1e-9 or (cost - lb) <= 1e-9 * max(1.0, cost)
    edges = [(arr.labels[arr.eu[e]], arr.labels[arr.ev[e]]) for e in real]
    return cost, edges, lb, gap, SteinerStatus.OPTIMAL if optimal else SteinerStatus.FEASIBLE, ran, stats


def steiner_tree(
    graph,
    terminals: Sequence[Hashable],
    roots: Sequence[Hashable] | None = None,
    method: str = "auto",
    time_limit: float | None = None,
    weight: str = "weight",
) -> SteinerResult:
    """Minimum Steiner tree connecting ``terminals``, or with ``roots`` the cheapest forest
    in which every terminal hangs from some root (roots cost nothing to reach: they are
    joined to one zero-cost super-root).

    Parameters
    ----------
    graph : the undirected graph, one of

        * ``networkx.Graph`` with edge attribute ``weight`` (finite, >= 0) [cost units];
          nodes are any hashable labels;
        * ``scipy.sparse`` adjacency matrix (CSR or any format): entry ``(i, j)`` is an edge
          ``{i, j}`` of that cost; nodes are ``0..n-1``; explicit zeros are zero-cost edges;
        * tuple ``(n_nodes, edges, weights)``: ``edges`` an ``(m, 2)`` integer array of node
          indices ``0..n_nodes-1``, ``weights`` ``(m,)``.

        Parallel edges keep the cheapest; self-loops are ignored.
    terminals : nodes to connect.
    roots : optional nodes of the existing network (points of presence); when given,
        the answer is a forest in which every component contains a root.
    method : ``"auto"`` (reductions, heuristics, dual-ascent bound, and the exact flow
        formulation when the reduced instance is small enough, see
        :data:`AUTO_EXACT_MAX_FLOW_VARS`), ``"heuristic"`` (no MILP) or ``"exact"`` (always
        finish with the MILP until ``time_limit``).
    time_limit : wall-clock budget [s]; ``None`` = no limit.
    weight : edge attribute holding the cost (networkx input only).

    Returns
    -------
    SteinerResult with cost, edges, lower bound, gap, status and seconds.

    Raises
    ------
    ModelError : bad argument types or method name.
    InputError : unknown terminal/root, negative or non-finite weights.
    InfeasibleError : a terminal cannot be connected (different component).
    """
    t0 = time.perf_counter()
    if method not in METHODS:
        raise ModelError(f"unknown method {method!r}; choose one of {sorted(METHODS)}")
    if time_limit is not None and not (time_limit > 0):
        raise ModelError(f"time_limit must be > 0 seconds or None (got {time_limit!r})")
    arr = _to_arrays(graph, terminals, roots, weight)
    cost, edges, lb, gap, status, ran, stats = METHODS[method](arr, time_limit, t0)
    return SteinerResult(
        cost=cost, edges=edges, lower_bound=lb, gap=gap, status=status.value,
        seconds=time.perf_counter() - t0, method=ran, stats=stats,
    )
