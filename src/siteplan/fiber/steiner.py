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
from siteplan.fiber.heuristics import construct, improve_by_mst, local_search, sph
from siteplan.fiber.reduce import CompactGraph, Reducer

__all__ = ["SteinerStatus", "SteinerResult", "steiner_tree", "METHODS", "AUTO_EXACT_MAX_FLOW_VARS"]

#: ``method="auto"`` runs the exact flow formulation when the reduced instance has at most
#: this many flow variables (|T| - 1) * 2|E|; larger ones keep the heuristic answer with its bound.
AUTO_EXACT_MAX_FLOW_VARS = 400_000


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
    method: str, time_limit: float | None, t0: float,
) -> tuple[list[int], float, str, dict]:
    """Solve on the working arrays. Returns (original edge ids, lower bound, method run, stats)."""
    budget = math.inf if time_limit is None else float(time_limit)
    deadline = t0 + budget
    integral = _is_integral(ew)
    stats: dict = {"nodes": n, "edges": int(eu.shape[0]), "terminals": int(terms.shape[0])}

    red = Reducer(n, eu, ev, ew, terms)
    red.reduce()
    if red.n_term <= 1:
        stats["reductions"] = red.stats.as_dict()
        stats["solved_by"] = "reductions"
        return list(red.fixed), red.fixed_cost, "heuristic", stats
    g = red.compact()
    stats["reduced_nodes"], stats["reduced_edges"] = g.n, g.m

    inc = _Incumbent()
    # heuristic phase: a share of the budget (at most 40 %)
    h_deadline = time.perf_counter() + min(0.4 * max(deadline - time.perf_counter(), 0.0), 3600.0)
    tree, cost = construct(g, h_deadline)
    inc.offer(red.fixed_cost + cost, red.original_edges(g, tree))
    stats["heuristic_cost"] = inc.cost

    def proven(lb: float) -> bool:
        if integral:
            return math.ceil(lb - 1e-6) >= inc.cost - 1e-9
        return lb >= inc.cost - 1e-9 * max(1.0, abs(inc.cost))

    def cutoff_for(fixed: float) -> float:
        # graph-level cutoff: keep only trees strictly cheaper than the incumbent
        ub = inc.cost - fixed
        return ub - 1.0 + 1e-6 if integral else ub + 1e-9 * max(1.0, abs(ub))

    best_lb = 0.0
    rounds = 0
    exhausted = False  # the reduced graph holds no tree cheaper than the incumbent
    while True:
        rounds += 1
        round_lb = -math.inf
        best = None
        for r in _da_roots(g, 3 if rounds == 1 else 1):
            lb_r, rc_r = dual_ascent(g, r)
            if lb_r > round_lb:
                round_lb, best = lb_r, (r, rc_r)
            if time.perf_counter() > deadline:
                break
        root, rc = best
        # bound valid for the original problem: trees cheaper than the incumbent cost >= fixed + lb
        best_lb = max(best_lb, min(inc.cost, red.fixed_cost + round_lb))
        # dual-ascent guided tree: shortest paths over the saturated arcs
        res = sph(g, root, saturated_edges(g, rc))
        if res is not None:
            t2, _ = improve_by_mst(g, res[0])
            t3, c3 = local_search(g, t2)
            inc.offer(red.fixed_cost + c3, red.original_edges(g, t3))
        if proven(best_lb) or time.perf_counter() > deadline:
            break
        kill = elimination_mask(g, round_lb, rc, root, cutoff_for(red.fixed_cost))
        n_kill = int(kill.sum())
        if n_kill == 0:
            break
        red.delete_edges(g.edge_ids[kill])
        red.reduce(long_edges=False)
        if red.n_term <= 1:
            # the remaining problem is solved by the reductions: one candidate tree
            inc.offer(red.fixed_cost, list(red.fixed))
            exhausted = True
            break
        g_new = red.compact()
        if not _terms_connected(g_new):
            exhausted = True
            break
        g = g_new
        if n_kill < 0.01 * (g.m + n_kill) or rounds >= 6:
            # little progress: one more heuristic pass on the smaller graph, then stop
            tree, cost = construct(g, time.perf_counter() + 0.1 * max(deadline - time.perf_counter(), 0.0),
                                   n_starts=20, n_improve=3)
            inc.offer(red.fixed_cost + cost, red.original_edges(g, tree))
            break
        tree, cost = construct(g, time.perf_counter() + 0.1 * max(deadline - time.perf_counter(), 0.0),
                               n_starts=10, n_improve=2)
        inc.offer(red.fixed_cost + cost, red.original_edges(g, tree))
    stats["da_rounds"] = rounds
    stats["final_nodes"], stats["final_edges"] = (0, 0) if exhausted else (g.n, g.m)
    if exhausted:
        best_lb = inc.cost
    ran = "heuristic"
    if not exhausted and not proven(best_lb):
        size = flow_size(g)
        stats["flow_vars"] = size
        want_exact = method == "exact" or (method == "auto" and size <= AUTO_EXACT_MAX_FLOW_VARS)
        left = deadline - time.perf_counter()
        if want_exact and left > 0:
            ran = "exact"
            root = _da_roots(g, 1)[0]
            cap = inc.cost - red.fixed_cost
            cap = cap - 1.0 + 1e-6 if integral else cap
            res = solve_flow(g, root, None if math.isinf(left) else left, integral, cost_cap=cap)
            stats["milp_status"] = res.status
            if res.status == "infeasible":
                best_lb = inc.cost
            else:
                if res.x is not None:
                    tree = tree_from_solution(g, res.x)
                    tree, cost = improve_by_mst(g, tree)
                    inc.offer(red.fixed_cost + cost, red.original_edges(g, tree))
                if res.status == "optimal":
                    best_lb = inc.cost if res.x is None else max(best_lb, min(inc.cost, red.fixed_cost + res.bound))
                    if integral:
                        best_lb = max(best_lb, min(inc.cost, math.ceil(red.fixed_cost + res.bound - 1e-6)))
                elif math.isfinite(res.bound):
                    best_lb = max(best_lb, min(inc.cost, red.fixed_cost + res.bound))
    stats["reductions"] = red.stats.as_dict()
    if integral:
        best_lb = min(inc.cost, float(math.ceil(best_lb - 1e-6)))
    return inc.edges, best_lb, ran, stats


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
