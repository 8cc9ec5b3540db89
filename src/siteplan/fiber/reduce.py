"""Reductions of the Steiner tree problem in graphs, undone in the answer.

Every test below keeps at least one optimal Steiner tree (they are exact reductions):

* degree-0/1 non-terminal: the vertex and its edge cannot be in a minimal tree;
* degree-1 terminal ``t`` with edge ``{t, v}``: the edge is in every solution (while
  another terminal exists); it is fixed and ``v`` becomes a terminal;
* zero-cost edge at a terminal: contracted into the terminal (the super-root of the
  forest form is joined to every root by such edges, so the roots collapse into it);
* degree-2 non-terminal ``v`` on edges ``{a, v}``, ``{v, b}``: replaced by one edge
  ``{a, b}`` of the summed cost that remembers both original edges (a parallel edge
  keeps the cheaper one);
* long edge: an edge for which another path between its ends is no longer is deleted
  (tested one edge at a time on the current graph, so ties cannot delete both routes);
* special distance through terminals (Duin and Volgenant 1989): an edge {u, v} longer
  than max(d(u, z), d(v, z)) for a terminal z (among the few nearest to u and to v) is in
  no optimal tree and is deleted;
* reduced-cost elimination (bound-based, see :mod:`siteplan.fiber.bounds`): edges every
  tree through which costs at least the incumbent are deleted through
  :meth:`Reducer.delete_edges`.

:class:`Reducer` keeps, for each edge of the reduced graph, the tuple of original edge
ids it stands for, plus the original edges fixed into the solution and their cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from siteplan.fiber._kernels import _build_csr_kernel, _long_edge_kernel, _sd_terminal_kernel

__all__ = ["Reducer", "CompactGraph", "ReductionStats", "LONG_EDGE_MAX_SETTLED"]

#: Nodes settled per long-edge search at most (bounds the test's cost on dense graphs).
LONG_EDGE_MAX_SETTLED = 200
#: Graphs up to this many nodes get the all-pairs long-edge pass (n^2 distances in memory).
LONG_EDGE_APSP_MAX_NODES = 3000
#: ... and at least this many edges per node (on sparse graphs the bounded searches suffice).
LONG_EDGE_APSP_MIN_DENSITY = 8
#: Nearest terminals kept per node by the special-distance test.
SD_NEAREST_TERMINALS = 4
#: Budget of edge relaxations for one long-edge pass (keeps dense graphs fast).
LONG_EDGE_WORK = 5.0e7


@dataclass
class ReductionStats:
    """Counts of what each test removed."""

    degree1: int = 0
    degree1_terminal: int = 0
    degree2: int = 0
    zero_contracted: int = 0
    long_edge: int = 0
    special_distance: int = 0
    bound: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class CompactGraph:
    """The reduced graph renumbered ``0..n-1`` with its CSR adjacency.

    ``edge_ids[i]`` is the :class:`Reducer` edge id of compact edge ``i``; ``node_ids[v]``
    the original node of compact node ``v``; ``terminals`` compact terminal ids."""

    n: int
    eu: np.ndarray
    ev: np.ndarray
    ew: np.ndarray
    indptr: np.ndarray
    adj_v: np.ndarray
    adj_e: np.ndarray
    is_term: np.ndarray
    terminals: np.ndarray
    edge_ids: np.ndarray
    node_ids: np.ndarray

    @property
    def m(self) -> int:
        return int(self.eu.shape[0])


class Reducer:
    """Mutable reduced copy of a graph (original nodes ``0..n-1``, edges ``0..m-1``
    without parallel edges or self-loops)."""

    def __init__(self, n: int, eu: np.ndarray, ev: np.ndarray, ew: np.ndarray, terminals: np.ndarray):
        self.n = int(n)
        self.eu: list[int] = [int(x) for x in eu]
        self.ev: list[int] = [int(x) for x in ev]
        self.ew: list[float] = [float(x) for x in ew]
        self.orig: list[tuple[int, ...]] = [(i,) for i in range(len(self.eu))]
        self.alive: list[bool] = [True] * len(self.eu)
        self.adj: list[dict[int, int]] = [dict() for _ in range(self.n)]
        for e, (a, b) in enumerate(zip(self.eu, self.ev)):
            self.adj[a][b] = e
            self.adj[b][a] = e
        self.node_alive = [True] * self.n
        self.is_term = [False] * self.n
        for t in terminals:
            self.is_term[int(t)] = True
        self.n_term = int(sum(self.is_term))
        self.fixed: list[int] = []
        self.fixed_cost = 0.0
        self.stats = ReductionStats()

    # -- primitive edits -------------------------------------------------------------
    def _kill_edge(self, e: int) -> None:
        if not self.alive[e]:
            return
        self.alive[e] = False
        a, b = self.eu[e], self.ev[e]
        if self.adj[a].get(b) == e:
            del self.adj[a][b]
        if self.adj[b].get(a) == e:
            del self.adj[b][a]

    def _add_edge(self, a: int, b: int, w: float, orig: tuple[int, ...]) -> int | None:
        """Add edge {a, b}; keeps the cheaper of parallel edges. Returns the new id or None."""
        old = self.adj[a].get(b)
        if old is not None:
            if self.ew[old] <= w:
                return None
            self._kill_edge(old)
        e = len(self.eu)
        self.eu.append(a)
        self.ev.append(b)
        self.ew.append(w)
        self.orig.append(orig)
        self.alive.append(True)
        self.adj[a][b] = e
        self.adj[b][a] = e
        return e

    def _kill_node(self, v: int) -> None:
        for e in list(self.adj[v].values()):
            self._kill_edge(e)
        self.node_alive[v] = False
        if self.is_term[v]:
            self.is_term[v] = False
            self.n_term -= 1

    def _merge_into(self, t: int, v: int, e: int) -> None:
        """Contract edge e = {t, v} into terminal t; the edge is fixed in the answer."""
        self.fixed.extend(self.orig[e])
        self.fixed_cost += self.ew[e]
        self._kill_edge(e)
        for x, f in list(self.adj[v].items()):
            w, orig = self.ew[f], self.orig[f]
            self._kill_edge(f)
            if x != t:
                self._add_edge(t, x, w, orig)
        if self.is_term[v]:
            self.is_term[v] = False
            self.n_term -= 1
        self.node_alive[v] = False

    # -- tests -----------------------------------------------------------------------
    def degree_tests(self) -> int:
        """Apply the degree-0/1/2 and zero-edge tests to a fixed point; return the number of changes."""
        changes = 0
        queue = [v for v in range(self.n) if self.node_alive[v]]
        in_queue = [False] * self.n
        for v in queue:
            in_queue[v] = True
        while queue and self.n_term > 1:
            v = queue.pop()
            in_queue[v] = False
            if not self.node_alive[v]:
                continue
            deg = len(self.adj[v])
            touched: list[int] = []
            if self.is_term[v]:
                zero = [(x, f) for x, f in self.adj[v].items() if self.ew[f] == 0.0]
                if zero:
                    x, f = zero[0]
                    touched = list(self.adj[x].keys()) + [v]
                    self._merge_into(v, x, f)
                    self.stats.zero_contracted += 1
                elif deg == 1:
                    (x, f), = self.adj[v].items()
                    self.fixed.extend(self.orig[f])
                    self.fixed_cost += self.ew[f]
                    self._kill_node(v)
                    if not self.is_term[x]:
                        self.is_term[x] = True
                        self.n_term += 1
                    touched = [x]
                    self.stats.degree1_terminal += 1
            else:
                if deg <= 1:
                    touched = list(self.adj[v].keys())
                    self._kill_node(v)
                    self.stats.degree1 += 1
                elif deg == 2:
                    (a, e1), (b, e2) = self.adj[v].items()
                    w = self.ew[e1] + self.ew[e2]
                    orig = self.orig[e1] + self.orig[e2]
                    self._kill_node(v)
                    self._add_edge(a, b, w, orig)
                    touched = [a, b]
                    self.stats.degree2 += 1
            if touched:
                changes += 1
                for x in touched:
                    if self.node_alive[x] and not in_queue[x]:
                        in_queue[x] = True
                        queue.append(x)
        return changes

    def long_edge_test(self) -> int:
        """Delete edges that have an alternative path no longer than themselves.

        Small graphs first get an all-pairs pass (every edge with a strictly shorter
        path is in no optimal tree, so those go at once); then a sequential bounded
        search per edge also removes ties."""
        g = self.compact()
        k_apsp = 0
        if 0 < g.n <= LONG_EDGE_APSP_MAX_NODES and g.m >= LONG_EDGE_APSP_MIN_DENSITY * g.n:
            from scipy.sparse import csr_array
            from scipy.sparse.csgraph import dijkstra

            A = csr_array((g.ew, (g.eu, g.ev)), shape=(g.n, g.n))
            D = dijkstra(A, directed=False)
            kill = D[g.eu, g.ev] < g.ew * (1.0 - 1e-12) - 1e-12
            for e in g.edge_ids[kill]:
                self._kill_edge(int(e))
            k_apsp = int(kill.sum())
            self.stats.long_edge += k_apsp
            if k_apsp:
                g = self.compact()
        ok = np.ones(g.m, dtype=np.bool_)
        # bound the work on dense graphs: about LONG_EDGE_WORK relaxations in all
        avg_deg = 2.0 * g.m / max(g.n, 1)
        settled = int(min(LONG_EDGE_MAX_SETTLED, max(8, LONG_EDGE_WORK / max(g.m * avg_deg, 1.0))))
        k = int(_long_edge_kernel(g.n, g.indptr, g.adj_v, g.adj_e, g.eu, g.ev, g.ew, ok, settled))
        if k:
            for i in np.flatnonzero(~ok):
                self._kill_edge(int(g.edge_ids[i]))
        self.stats.long_edge += k
        return k + k_apsp

    def sd_test(self, k: int = SD_NEAREST_TERMINALS) -> int:
        """Delete edges longer than the special distance through a nearby terminal."""
        g = self.compact()
        if g.terminals.shape[0] < 2 or g.m == 0:
            return 0
        kill = _sd_terminal_kernel(g.n, g.indptr, g.adj_v, g.adj_e, g.eu, g.ev, g.ew, g.terminals, int(k))
        ids = g.edge_ids[kill]
        for e in ids:
            self._kill_edge(int(e))
        self.stats.special_distance += int(ids.shape[0])
        return int(ids.shape[0])

    def delete_edges(self, edge_ids) -> int:
        """Delete the given reducer edges (e.g. by a bound test)."""
        k = 0
        for e in edge_ids:
            if self.alive[int(e)]:
                self._kill_edge(int(e))
                k += 1
        self.stats.bound += k
        return k

    def reduce(self, long_edges: bool = True, max_rounds: int = 4) -> None:
        """Alternate degree tests and long-edge test to a fixed point (a few rounds)."""
        self.degree_tests()
        if not long_edges:
            return
        for _ in range(max_rounds):
            if self.n_term <= 1:
                break
            k = self.sd_test()
            self.degree_tests()
            if self.n_term <= 1:
                break
            k += self.long_edge_test()
            if k == 0:
                break
            self.degree_tests()

    # -- views -----------------------------------------------------------------------
    def compact(self) -> CompactGraph:
        """The current graph renumbered (nodes alive and touched by an edge, or terminals)."""
        alive = [e for e in range(len(self.eu)) if self.alive[e]]
        edge_ids = np.asarray(alive, dtype=np.int64)
        eu = np.asarray([self.eu[e] for e in alive], dtype=np.int64)
        ev = np.asarray([self.ev[e] for e in alive], dtype=np.int64)
        ew = np.asarray([self.ew[e] for e in alive], dtype=np.float64)
        keep = np.zeros(self.n, dtype=np.bool_)
        keep[eu] = True
        keep[ev] = True
        terms = np.asarray([v for v in range(self.n) if self.is_term[v] and self.node_alive[v]], dtype=np.int64)
        keep[terms] = True
        node_ids = np.flatnonzero(keep).astype(np.int64)
        new_id = np.full(self.n, -1, dtype=np.int64)
        new_id[node_ids] = np.arange(node_ids.shape[0])
        eu_c = new_id[eu]
        ev_c = new_id[ev]
        n = int(node_ids.shape[0])
        indptr, adj_v, adj_e = _build_csr_kernel(n, eu_c, ev_c)
        is_term = np.zeros(n, dtype=np.bool_)
        is_term[new_id[terms]] = True
        return CompactGraph(n, eu_c, ev_c, ew, indptr, adj_v, adj_e, is_term, new_id[terms], edge_ids, node_ids)

    def original_edges(self, g: CompactGraph, tree: np.ndarray) -> list[int]:
        """Original edge ids of a compact-graph tree plus the fixed edges."""
        out = list(self.fixed)
        for i in np.flatnonzero(tree):
            out.extend(self.orig[int(g.edge_ids[i])])
        return out
