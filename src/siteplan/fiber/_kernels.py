"""Private numba kernels for Steiner trees on undirected weighted graphs.

All kernels take plain contiguous arrays: ``n`` nodes ``0..n-1``; edge ``e`` joins
``eu[e]`` and ``ev[e]`` with cost ``ew[e]`` [cost units]; the CSR adjacency
``indptr`` (n+1), ``adj_v`` (2m, neighbour) and ``adj_e`` (2m, edge id) lists every
edge from both ends. ``edge_ok`` / ``node_ok`` masks switch edges / nodes off without
rebuilding the arrays. A tree is a boolean edge mask. For the directed views used by
dual ascent, arc ``2e`` runs ``eu[e] -> ev[e]`` and arc ``2e+1`` runs ``ev[e] -> eu[e]``.
Kernels never raise on data; the wrappers in the other modules validate.
"""

from __future__ import annotations

import heapq

import numpy as np
from numba import njit

from siteplan.config import NJIT_OPTIONS

__all__: list[str] = []

_INF = np.inf


@njit(**NJIT_OPTIONS)
def _build_csr_kernel(n, eu, ev):
    m = eu.shape[0]
    deg = np.zeros(n + 1, np.int64)
    for e in range(m):
        deg[eu[e] + 1] += 1
        deg[ev[e] + 1] += 1
    indptr = np.cumsum(deg)
    fill = indptr[:-1].copy()
    adj_v = np.empty(2 * m, np.int64)
    adj_e = np.empty(2 * m, np.int64)
    for e in range(m):
        a = eu[e]
        b = ev[e]
        adj_v[fill[a]] = b
        adj_e[fill[a]] = e
        fill[a] += 1
        adj_v[fill[b]] = a
        adj_e[fill[b]] = e
        fill[b] += 1
    return indptr, adj_v, adj_e


@njit(**NJIT_OPTIONS)
def _voronoi_kernel(n, indptr, adj_v, adj_e, ew, edge_ok, node_ok, sources, limit):
    """Multi-source Dijkstra. Returns (dist, pred_edge, base) where base is the index
    into ``sources`` of the nearest source; labels above ``limit`` are not expanded."""
    dist = np.full(n, _INF)
    pred = np.full(n, -1, np.int64)
    base = np.full(n, -1, np.int64)
    heap = [(0.0, np.int64(0))]
    heap.pop()
    for i in range(sources.shape[0]):
        s = sources[i]
        if dist[s] > 0.0:
            dist[s] = 0.0
            base[s] = i
            heapq.heappush(heap, (0.0, s))
    while len(heap) > 0:
        d, x = heapq.heappop(heap)
        if d > dist[x]:
            continue
        if d > limit:
            break
        for k in range(indptr[x], indptr[x + 1]):
            e = adj_e[k]
            if not edge_ok[e]:
                continue
            y = adj_v[k]
            if not node_ok[y]:
                continue
            nd = d + ew[e]
            if nd < dist[y]:
                dist[y] = nd
                pred[y] = e
                base[y] = base[x]
                heapq.heappush(heap, (nd, y))
    return dist, pred, base


@njit(**NJIT_OPTIONS)
def _sph_kernel(n, indptr, adj_v, adj_e, eu, ev, ew, edge_ok, starts, is_term, n_term):
    """Shortest-path heuristic (Takahashi-Matsuyama) grown from the nodes ``starts``.

    Returns (tree edge mask, number of terminals reached)."""
    m = eu.shape[0]
    in_tree = np.zeros(n, np.bool_)
    tree = np.zeros(m, np.bool_)
    dist = np.full(n, _INF)
    pred = np.full(n, -1, np.int64)
    heap = [(0.0, np.int64(0))]
    heap.pop()
    reached = 0
    for i in range(starts.shape[0]):
        s = starts[i]
        if not in_tree[s]:
            in_tree[s] = True
            if is_term[s]:
                reached += 1
        dist[s] = 0.0
        heapq.heappush(heap, (0.0, s))
    while len(heap) > 0 and reached < n_term:
        d, x = heapq.heappop(heap)
        if d > dist[x]:
            continue
        if is_term[x] and not in_tree[x]:
            # nearest terminal not yet connected: add its path
            y = x
            while not in_tree[y]:
                in_tree[y] = True
                dist[y] = 0.0
                heapq.heappush(heap, (0.0, y))
                e = pred[y]
                tree[e] = True
                y = eu[e] + ev[e] - y
            reached += 1
            continue
        for k in range(indptr[x], indptr[x + 1]):
            e = adj_e[k]
            if not edge_ok[e]:
                continue
            y = adj_v[k]
            nd = d + ew[e]
            if nd < dist[y]:
                dist[y] = nd
                pred[y] = e
                heapq.heappush(heap, (nd, y))
    return tree, reached


@njit(**NJIT_OPTIONS)
def _mst_prune_kernel(n, indptr, adj_v, adj_e, eu, ev, ew, edge_ok, node_in, is_term):
    """Minimum spanning tree (Prim) of the subgraph induced by ``node_in``, then
    repeated removal of non-terminal leaves. Returns (tree edge mask, cost)."""
    m = eu.shape[0]
    tree = np.zeros(m, np.bool_)
    start = -1
    for v in range(n):
        if node_in[v]:
            start = v
            if is_term[v]:
                break
    if start < 0:
        return tree, 0.0
    done = np.zeros(n, np.bool_)
    key = np.full(n, _INF)
    pe = np.full(n, -1, np.int64)
    heap = [(0.0, np.int64(start))]
    key[start] = 0.0
    while len(heap) > 0:
        d, x = heapq.heappop(heap)
        if done[x] or d > key[x]:
            continue
        done[x] = True
        if pe[x] >= 0:
            tree[pe[x]] = True
        for k in range(indptr[x], indptr[x + 1]):
            e = adj_e[k]
            if not edge_ok[e]:
                continue
            y = adj_v[k]
            if not node_in[y] or done[y]:
                continue
            if ew[e] < key[y]:
                key[y] = ew[e]
                pe[y] = e
                heapq.heappush(heap, (ew[e], y))
    _prune_leaves(n, indptr, adj_v, adj_e, tree, is_term)
    cost = 0.0
    for e in range(m):
        if tree[e]:
            cost += ew[e]
    return tree, cost


@njit(**NJIT_OPTIONS)
def _prune_leaves(n, indptr, adj_v, adj_e, tree, is_term):
    deg = np.zeros(n, np.int64)
    for x in range(n):
        for k in range(indptr[x], indptr[x + 1]):
            if tree[adj_e[k]]:
                deg[x] += 1
    stack = np.empty(n, np.int64)
    top = 0
    for x in range(n):
        if deg[x] == 1 and not is_term[x]:
            stack[top] = x
            top += 1
    while top > 0:
        top -= 1
        x = stack[top]
        if deg[x] != 1:
            continue
        for k in range(indptr[x], indptr[x + 1]):
            e = adj_e[k]
            if tree[e]:
                tree[e] = False
                deg[x] -= 1
                y = adj_v[k]
                deg[y] -= 1
                if deg[y] == 1 and not is_term[y]:
                    stack[top] = y
                    top += 1
                break


@njit(**NJIT_OPTIONS)
def _tree_nodes(n, eu, ev, tree, is_term):
    node_in = np.zeros(n, np.bool_)
    for e in range(eu.shape[0]):
        if tree[e]:
            node_in[eu[e]] = True
            node_in[ev[e]] = True
    for v in range(n):
        if is_term[v]:
            node_in[v] = True
    return node_in


@njit(**NJIT_OPTIONS)
def _find(parent, x):
    r = x
    while parent[r] != r:
        r = parent[r]
    while parent[x] != r:
        nx_ = parent[x]
        parent[x] = r
        x = nx_
    return r


@njit(**NJIT_OPTIONS)
def _mehlhorn_kernel(n, indptr, adj_v, adj_e, eu, ev, ew, edge_ok, node_ok, terms, is_term):
    """Mehlhorn's 2-approximation: Voronoi regions of the terminals, MST of the
    boundary-edge distance graph, paths expanded, then MST + pruning."""
    m = eu.shape[0]
    dist, pred, base = _voronoi_kernel(n, indptr, adj_v, adj_e, ew, edge_ok, node_ok, terms, _INF)
    cand_cost = np.empty(m)
    cand_e = np.empty(m, np.int64)
    nc = 0
    for e in range(m):
        if not edge_ok[e]:
            continue
        a = eu[e]
        b = ev[e]
        if base[a] < 0 or base[b] < 0 or base[a] == base[b]:
            continue
        cand_cost[nc] = dist[a] + ew[e] + dist[b]
        cand_e[nc] = e
        nc += 1
    order = np.argsort(cand_cost[:nc], kind="mergesort")
    k = terms.shape[0]
    parent = np.arange(k)
    chosen = np.zeros(m, np.bool_)
    used = 0
    for i in range(nc):
        e = cand_e[order[i]]
        ra = _find(parent, base[eu[e]])
        rb = _find(parent, base[ev[e]])
        if ra == rb:
            continue
        parent[ra] = rb
        used += 1
        chosen[e] = True
        for endpoint in (eu[e], ev[e]):
            y = endpoint
            while pred[y] >= 0:
                pe = pred[y]
                chosen[pe] = True
                y = eu[pe] + ev[pe] - y
        if used == k - 1:
            break
    node_in = _tree_nodes(n, eu, ev, chosen, is_term)
    return _mst_prune_kernel(n, indptr, adj_v, adj_e, eu, ev, ew, edge_ok, node_in, is_term)


@njit(**NJIT_OPTIONS)
def _tree_degree(n, indptr, adj_e, tree):
    deg = np.zeros(n, np.int64)
    for x in range(n):
        for k in range(indptr[x], indptr[x + 1]):
            if tree[adj_e[k]]:
                deg[x] += 1
    return deg


@njit(**NJIT_OPTIONS)
def _label_components(n, indptr, adj_v, adj_e, tree, node_in_tree, comp, seeds):
    """Label the tree nodes reachable from each seed (over ``tree`` edges) with the
    seed's index; nodes not reached keep ``comp == -1``."""
    stack = np.empty(n, np.int64)
    for i in range(seeds.shape[0]):
        s = seeds[i]
        if comp[s] >= 0:
            continue
        comp[s] = i
        top = 1
        stack[0] = s
        while top > 0:
            top -= 1
            x = stack[top]
            for k in range(indptr[x], indptr[x + 1]):
                e = adj_e[k]
                if not tree[e]:
                    continue
                y = adj_v[k]
                if comp[y] < 0 and node_in_tree[y]:
                    comp[y] = i
                    stack[top] = y
                    top += 1


@njit(**NJIT_OPTIONS)
def _reconnect(n, indptr, adj_v, adj_e, eu, ev, ew, edge_ok, comp, n_comp, limit):
    """Connect ``n_comp`` labelled components (``comp[v] >= 0``) through free nodes
    (``comp[v] == -1``) by Mehlhorn's construction: Voronoi regions of the components,
    then Kruskal over boundary edges. Returns (added cost, added edge ids); the cost is
    inf when it would exceed ``limit`` or cannot connect."""
    chosen = [np.int64(0)]
    chosen.pop()
    dist = np.full(n, _INF)
    pred = np.full(n, -1, np.int64)
    base = np.full(n, -1, np.int64)
    heap = [(0.0, np.int64(0))]
    heap.pop()
    for v in range(n):
        if comp[v] >= 0:
            dist[v] = 0.0
            base[v] = comp[v]
            heapq.heappush(heap, (0.0, np.int64(v)))
    touched = [np.int64(0)]
    touched.pop()
    for v in range(n):
        if comp[v] >= 0:
            touched.append(np.int64(v))
    while len(heap) > 0:
        d, x = heapq.heappop(heap)
        if d > dist[x]:
            continue
        if d > limit:
            break
        for k in range(indptr[x], indptr[x + 1]):
            e = adj_e[k]
            if not edge_ok[e]:
                continue
            y = adj_v[k]
            if comp[y] >= 0:
                continue
            nd = d + ew[e]
            if nd < dist[y]:
                if base[y] < 0:
                    touched.append(np.int64(y))
                dist[y] = nd
                pred[y] = e
                base[y] = base[x]
                heapq.heappush(heap, (nd, y))
    # boundary edges: both ends labelled, labels differ
    cand_list_c = [0.0]
    cand_list_e = [np.int64(0)]
    cand_list_c.pop()
    cand_list_e.pop()
    for x in touched:
        for k in range(indptr[x], indptr[x + 1]):
            e = adj_e[k]
            if not edge_ok[e]:
                continue
            y = adj_v[k]
            if y < x and base[y] >= 0:
                continue  # seen from y already (y touched too)
            if base[y] >= 0 and base[y] != base[x]:
                c = dist[x] + ew[e] + dist[y]
                if c < limit:
                    cand_list_c.append(c)
                    cand_list_e.append(e)
    nc = len(cand_list_c)
    cand_cost = np.empty(nc)
    cand_e = np.empty(nc, np.int64)
    for i in range(nc):
        cand_cost[i] = cand_list_c[i]
        cand_e[i] = cand_list_e[i]
    order = np.argsort(cand_cost, kind="mergesort")
    parent = np.arange(n_comp)
    used = 0
    total = 0.0
    for i in range(nc):
        e = cand_e[order[i]]
        a = eu[e]
        b = ev[e]
        if base[a] < 0 or base[b] < 0:
            continue
        ra = _find(parent, base[a])
        rb = _find(parent, base[b])
        if ra == rb:
            continue
        parent[ra] = rb
        used += 1
        total += dist[a] + ew[e] + dist[b]
        if total >= limit:
            return _INF, np.zeros(0, np.int64)
        chosen.append(e)
        for endpoint in (a, b):
            y = endpoint
            while comp[y] < 0 and pred[y] >= 0:
                pe = pred[y]
                chosen.append(pe)
                y = eu[pe] + ev[pe] - y
        if used == n_comp - 1:
            break
    if used < n_comp - 1:
        return _INF, np.zeros(0, np.int64)
    out = np.empty(len(chosen), np.int64)
    for i in range(len(chosen)):
        out[i] = chosen[i]
    return total, out


@njit(**NJIT_OPTIONS)
def _reconnect_two(indptr, adj_v, adj_e, eu, ev, ew, edge_ok, comp, sources, limit, dist, pred):
    """Cheapest path from the component of ``sources`` (all labelled ``comp[s]``) to the
    other labelled component through free nodes (``comp == -1``), if shorter than
    ``limit``. ``dist`` (inf) and ``pred`` (-1) are work arrays of size n, restored on
    exit. Returns (cost, edge ids); cost is inf when no such path exists."""
    src = comp[sources[0]]
    heap = [(0.0, np.int64(0))]
    heap.pop()
    touched = [np.int64(0)]
    touched.pop()
    for i in range(sources.shape[0]):
        s = sources[i]
        dist[s] = 0.0
        touched.append(s)
        heapq.heappush(heap, (0.0, s))
    best = limit
    best_e = -1
    best_x = -1
    while len(heap) > 0:
        d, x = heapq.heappop(heap)
        if d > dist[x]:
            continue
        if d >= best:
            break
        for k in range(indptr[x], indptr[x + 1]):
            e = adj_e[k]
            if not edge_ok[e]:
                continue
            y = adj_v[k]
            cy = comp[y]
            if cy == src:
                continue
            nd = d + ew[e]
            if nd >= best:
                continue
            if cy >= 0:
                best = nd
                best_e = e
                best_x = x
                continue
            if nd < dist[y]:
                if dist[y] == _INF:
                    touched.append(y)
                dist[y] = nd
                pred[y] = e
                heapq.heappush(heap, (nd, y))
    n_out = 0
    if best_e >= 0:
        n_out = 1
        y = best_x
        while comp[y] != src:
            n_out += 1
            pe = pred[y]
            y = eu[pe] + ev[pe] - y
    out = np.empty(n_out, np.int64)
    if best_e >= 0:
        out[0] = best_e
        i = 1
        y = best_x
        while comp[y] != src:
            pe = pred[y]
            out[i] = pe
            i += 1
            y = eu[pe] + ev[pe] - y
    for v in touched:
        dist[v] = _INF
        pred[v] = -1
    if best_e < 0:
        return _INF, out
    return best, out


@njit(**NJIT_OPTIONS)
def _key_paths(n, indptr, adj_v, adj_e, eu, ev, tree, is_term, deg):
    """Decompose a tree into key paths. Returns (path_ptr, path_edges, path_end_a,
    path_end_b): path p has edges path_edges[path_ptr[p]:path_ptr[p+1]]."""
    m = eu.shape[0]
    seen = np.zeros(m, np.bool_)
    ptr = [np.int64(0)]
    edges = [np.int64(0)]
    edges.pop()
    ends_a = [np.int64(0)]
    ends_b = [np.int64(0)]
    ends_a.pop()
    ends_b.pop()
    for x in range(n):
        if deg[x] == 0:
            continue
        if not (is_term[x] or deg[x] >= 3 or deg[x] == 1):
            continue
        for k in range(indptr[x], indptr[x + 1]):
            e = adj_e[k]
            if not tree[e] or seen[e]:
                continue
            y = adj_v[k]
            seen[e] = True
            edges.append(e)
            cur = y
            while not (is_term[cur] or deg[cur] != 2):
                # walk on through the other tree edge of cur
                nxt_e = -1
                for kk in range(indptr[cur], indptr[cur + 1]):
                    ee = adj_e[kk]
                    if tree[ee] and not seen[ee]:
                        nxt_e = ee
                        break
                if nxt_e < 0:
                    break
                seen[nxt_e] = True
                edges.append(nxt_e)
                cur = eu[nxt_e] + ev[nxt_e] - cur
            ptr.append(np.int64(len(edges)))
            ends_a.append(np.int64(x))
            ends_b.append(np.int64(cur))
    p = len(ptr)
    path_ptr = np.empty(p, np.int64)
    for i in range(p):
        path_ptr[i] = ptr[i]
    q = len(edges)
    path_edges = np.empty(q, np.int64)
    for i in range(q):
        path_edges[i] = edges[i]
    na = np.empty(p - 1, np.int64)
    nb = np.empty(p - 1, np.int64)
    for i in range(p - 1):
        na[i] = ends_a[i]
        nb[i] = ends_b[i]
    return path_ptr, path_edges, na, nb


@njit(**NJIT_OPTIONS)
def _local_search_kernel(n, indptr, adj_v, adj_e, eu, ev, ew, edge_ok, is_term, tree, max_rounds):
    """Key-path exchange and key-vertex elimination until no move improves.

    ``tree`` (edge mask of a Steiner tree whose leaves are terminals) is improved in
    place. Returns the final cost."""
    eps = 1e-9
    m = eu.shape[0]
    comp = np.full(n, -1, np.int64)
    work_dist = np.full(n, _INF)
    work_pred = np.full(n, -1, np.int64)
    for _round in range(max_rounds):
        improved = False
        # ---- key-path exchange ----
        deg = _tree_degree(n, indptr, adj_e, tree)
        path_ptr, path_edges, pa, pb = _key_paths(n, indptr, adj_v, adj_e, eu, ev, tree, is_term, deg)
        n_paths = pa.shape[0]
        for p in range(n_paths):
            valid = True
            cost = 0.0
            for i in range(path_ptr[p], path_ptr[p + 1]):
                e = path_edges[i]
                if not tree[e]:
                    valid = False
                    break
                cost += ew[e]
            if not valid:
                continue
            # internal nodes must still be degree-2 Steiner nodes
            for i in range(path_ptr[p], path_ptr[p + 1] - 1):
                e = path_edges[i]
                e2 = path_edges[i + 1]
                # shared node of e and e2
                s = eu[e] if (eu[e] == eu[e2] or eu[e] == ev[e2]) else ev[e]
                if deg[s] != 2 or is_term[s]:
                    valid = False
                    break
            if not valid:
                continue
            deg2 = deg.copy()
            for i in range(path_ptr[p], path_ptr[p + 1]):
                e = path_edges[i]
                tree[e] = False
                deg2[eu[e]] -= 1
                deg2[ev[e]] -= 1
            node_in = (deg2 > 0) | is_term
            # internal nodes of the path are free again
            for i in range(path_ptr[p], path_ptr[p + 1] - 1):
                e = path_edges[i]
                e2 = path_edges[i + 1]
                s = eu[e] if (eu[e] == eu[e2] or eu[e] == ev[e2]) else ev[e]
                node_in[s] = False
            node_in[pa[p]] = True
            node_in[pb[p]] = True
            comp[:] = -1
            seeds = np.empty(2, np.int64)
            seeds[0] = pa[p]
            seeds[1] = pb[p]
            _label_components(n, indptr, adj_v, adj_e, tree, node_in, comp, seeds)
            # search from the smaller side
            n0 = 0
            n1 = 0
            for v in range(n):
                if comp[v] == 0:
                    n0 += 1
                elif comp[v] == 1:
                    n1 += 1
            side = 0 if n0 <= n1 else 1
            srcs = np.empty(min(n0, n1), np.int64)
            j = 0
            for v in range(n):
                if comp[v] == side:
                    srcs[j] = v
                    j += 1
            add, chosen = _reconnect_two(indptr, adj_v, adj_e, eu, ev, ew, edge_ok, comp, srcs, cost - eps,
                                         work_dist, work_pred)
            if add < cost - eps:
                for e in chosen:
                    tree[e] = True
                _prune_leaves(n, indptr, adj_v, adj_e, tree, is_term)
                improved = True
                deg = _tree_degree(n, indptr, adj_e, tree)
            else:
                for i in range(path_ptr[p], path_ptr[p + 1]):
                    tree[path_edges[i]] = True
        # ---- key-vertex elimination ----
        deg = _tree_degree(n, indptr, adj_e, tree)
        for v in range(n):
            if is_term[v] or deg[v] < 3:
                continue
            # collect the key paths leaving v
            removed = [np.int64(0)]
            removed.pop()
            ends = [np.int64(0)]
            ends.pop()
            cost = 0.0
            for k in range(indptr[v], indptr[v + 1]):
                e = adj_e[k]
                if not tree[e]:
                    continue
                cur = adj_v[k]
                removed.append(e)
                cost += ew[e]
                prev_e = e
                while (not is_term[cur]) and deg[cur] == 2:
                    nxt_e = -1
                    for kk in range(indptr[cur], indptr[cur + 1]):
                        ee = adj_e[kk]
                        if tree[ee] and ee != prev_e:
                            nxt_e = ee
                            break
                    if nxt_e < 0:
                        break
                    removed.append(nxt_e)
                    cost += ew[nxt_e]
                    prev_e = nxt_e
                    cur = eu[nxt_e] + ev[nxt_e] - cur
                ends.append(np.int64(cur))
            deg2 = deg.copy()
            for e in removed:
                tree[e] = False
                deg2[eu[e]] -= 1
                deg2[ev[e]] -= 1
            node_in = (deg2 > 0) | is_term
            for e in removed:
                node_in[eu[e]] = False
                node_in[ev[e]] = False
            n_end = len(ends)
            seeds = np.empty(n_end, np.int64)
            for i in range(n_end):
                seeds[i] = ends[i]
                node_in[ends[i]] = True
            comp[:] = -1
            _label_components(n, indptr, adj_v, adj_e, tree, node_in, comp, seeds)
            # seeds in the same component (impossible in a tree) would share a label
            add, chosen = _reconnect(n, indptr, adj_v, adj_e, eu, ev, ew, edge_ok, comp, n_end, cost - eps)
            if add < cost - eps:
                for e in chosen:
                    tree[e] = True
                node_in2 = _tree_nodes(n, eu, ev, tree, is_term)
                new_tree, new_cost = _mst_prune_kernel(n, indptr, adj_v, adj_e, eu, ev, ew, edge_ok, node_in2, is_term)
                tree[:] = new_tree
                improved = True
                deg = _tree_degree(n, indptr, adj_e, tree)
            else:
                for e in removed:
                    tree[e] = True
        if not improved:
            break
    total = 0.0
    for e in range(m):
        if tree[e]:
            total += ew[e]
    return total


@njit(**NJIT_OPTIONS)
def _long_edge_kernel(n, indptr, adj_v, adj_e, eu, ev, ew, edge_ok, max_settled):
    """Delete every edge {u, v} for which another u-v path is no longer than it
    (edges are tested one after another on the current graph, so ties are safe).
    Each search settles at most ``max_settled`` nodes (a weaker but still exact test:
    an edge is only deleted when such a path was found). Updates ``edge_ok`` in place;
    returns the number deleted."""
    m = eu.shape[0]
    dist = np.full(n, _INF)
    touched = np.empty(n, np.int64)
    deleted = 0
    for e in range(m):
        if not edge_ok[e]:
            continue
        u = eu[e]
        v = ev[e]
        w = ew[e]
        nt = 0
        heap = [(0.0, np.int64(u))]
        dist[u] = 0.0
        touched[nt] = u
        nt += 1
        found = False
        settled = 0
        while len(heap) > 0:
            d, x = heapq.heappop(heap)
            if d > dist[x]:
                continue
            if d > w:
                break
            if x == v:
                found = True
                break
            settled += 1
            if settled > max_settled:
                break
            for k in range(indptr[x], indptr[x + 1]):
                f = adj_e[k]
                if f == e or not edge_ok[f]:
                    continue
                y = adj_v[k]
                nd = d + ew[f]
                if nd <= w and nd < dist[y]:
                    if dist[y] == _INF:
                        touched[nt] = y
                        nt += 1
                    dist[y] = nd
                    heapq.heappush(heap, (nd, y))
        for i in range(nt):
            dist[touched[i]] = _INF
        if found:
            edge_ok[e] = False
            deleted += 1
    return deleted


@njit(**NJIT_OPTIONS)
def _dual_ascent_kernel(n, indptr, adj_v, adj_e, eu, ev, ew, edge_ok, is_term, root):
    """Wong's dual ascent on the bidirected graph rooted at ``root``.

    Returns (lower bound, reduced arc costs (2m,)). Reduced costs of switched-off
    edges are +inf."""
    m = eu.shape[0]
    rc = np.empty(2 * m)
    for e in range(m):
        if edge_ok[e]:
            rc[2 * e] = ew[e]
            rc[2 * e + 1] = ew[e]
        else:
            rc[2 * e] = _INF
            rc[2 * e + 1] = _INF
    active = np.zeros(n, np.bool_)
    heap = [(np.int64(0), np.int64(0))]
    heap.pop()
    for v in range(n):
        if is_term[v] and v != root:
            active[v] = True
            heapq.heappush(heap, (np.int64(0), np.int64(v)))
    mark = np.zeros(n, np.int64)
    stamp = 0
    queue = np.empty(n, np.int64)
    lb = 0.0
    while len(heap) > 0:
        key, t = heapq.heappop(heap)
        if not active[t]:
            continue
        stamp += 1
        mark[t] = stamp
        queue[0] = t
        head = 0
        tail = 1
        connected = False
        merged = False
        while head < tail:
            y = queue[head]
            head += 1
            for k in range(indptr[y], indptr[y + 1]):
                e = adj_e[k]
                x = adj_v[k]
                a = 2 * e if ev[e] == y else 2 * e + 1  # arc x -> y
                if rc[a] != 0.0 or mark[x] == stamp:
                    continue
                mark[x] = stamp
                if x == root:
                    connected = True
                    break
                if active[x] and x < t:
                    merged = True
                    break
                queue[tail] = x
                tail += 1
            if connected or merged:
                break
        if connected or merged:
            active[t] = False
            continue
        # in-cut of W = marked nodes
        delta = _INF
        cut = 0
        for i in range(tail):
            y = queue[i]
            for k in range(indptr[y], indptr[y + 1]):
                x = adj_v[k]
                if mark[x] == stamp:
                    continue
                e = adj_e[k]
                a = 2 * e if ev[e] == y else 2 * e + 1
                if rc[a] == _INF:
                    continue
                cut += 1
                if rc[a] < delta:
                    delta = rc[a]
        if cut == 0:
            # cannot reach the root at all: the caller checks connectivity first
            active[t] = False
            continue
        if len(heap) > 0 and cut > heap[0][0]:
            heapq.heappush(heap, (np.int64(cut), t))
            continue
        lb += delta
        for i in range(tail):
            y = queue[i]
            for k in range(indptr[y], indptr[y + 1]):
                x = adj_v[k]
                if mark[x] == stamp:
                    continue
                e = adj_e[k]
                a = 2 * e if ev[e] == y else 2 * e + 1
                if rc[a] == _INF:
                    continue
                r = rc[a] - delta
                if r <= 1e-12 * (1.0 + ew[e]):
                    r = 0.0
                rc[a] = r
        heapq.heappush(heap, (np.int64(cut), t))
    return lb, rc


@njit(**NJIT_OPTIONS)
def _arc_dijkstra_kernel(n, indptr, adj_v, adj_e, ev, rc, sources, forward):
    """Shortest paths over arcs with costs ``rc`` from ``sources``: forward along
    arcs out of a node, or backward (distance *to* the nearest source) when
    ``forward`` is False."""
    dist = np.full(n, _INF)
    heap = [(0.0, np.int64(0))]
    heap.pop()
    for i in range(sources.shape[0]):
        s = sources[i]
        dist[s] = 0.0
        heapq.heappush(heap, (0.0, s))
    while len(heap) > 0:
        d, x = heapq.heappop(heap)
        if d > dist[x]:
            continue
        for k in range(indptr[x], indptr[x + 1]):
            e = adj_e[k]
            y = adj_v[k]
            if forward:
                a = 2 * e if ev[e] == y else 2 * e + 1  # x -> y
            else:
                a = 2 * e if ev[e] == x else 2 * e + 1  # y -> x
            c = rc[a]
            if c == _INF:
                continue
            nd = d + c
            if nd < dist[y]:
                dist[y] = nd
                heapq.heappush(heap, (nd, y))
    return dist


@njit(**NJIT_OPTIONS)
def _saturated_edges_kernel(m, rc):
    ok = np.zeros(m, np.bool_)
    for e in range(m):
        if rc[2 * e] == 0.0 or rc[2 * e + 1] == 0.0:
            ok[e] = True
    return ok


@njit(**NJIT_OPTIONS)
def _vertex_insertion_kernel(n, indptr, adj_v, adj_e, eu, ev, ew, edge_ok, is_term, tree):
    """Steiner vertex insertion (Minoux 1990): for each vertex outside the tree with at
    least two tree neighbours, the MST of the tree's vertices plus it, pruned, replaces the
    tree when cheaper. The tree is first made the MST of its own vertices; then (cycle
    property) the MST with one more vertex only needs the tree's edges plus the new
    vertex's edges into the tree. ``tree`` is updated in place; returns the final cost."""
    eps = 1e-9
    m = eu.shape[0]
    node_in = _tree_nodes(n, eu, ev, tree, is_term)
    t0, c0 = _mst_prune_kernel(n, indptr, adj_v, adj_e, eu, ev, ew, edge_ok, node_in, is_term)
    cost = 0.0
    for e in range(m):
        if tree[e]:
            cost += ew[e]
    if c0 <= cost + eps:
        tree[:] = t0
        cost = c0
        node_in = _tree_nodes(n, eu, ev, tree, is_term)
    parent = np.arange(n)
    deg = np.zeros(n, np.int64)
    te = [np.int64(0)]
    te.pop()
    for e in range(m):
        if tree[e]:
            te.append(np.int64(e))
    for v in range(n):
        if node_in[v]:
            continue
        ve = [np.int64(0)]
        ve.pop()
        for k in range(indptr[v], indptr[v + 1]):
            if edge_ok[adj_e[k]] and node_in[adj_v[k]]:
                ve.append(adj_e[k])
        if len(ve) < 2:
            continue
        # the new vertex's edges first: on equal costs they win (stable sort), which
        # lets pruning profit from ties
        nt = len(te)
        nv = len(ve)
        cand = np.empty(nt + nv, np.int64)
        for i in range(nv):
            cand[i] = ve[i]
        for i in range(nt):
            cand[nv + i] = te[i]
        w = np.empty(cand.shape[0])
        for i in range(cand.shape[0]):
            w[i] = ew[cand[i]]
        order = np.argsort(w, kind="mergesort")
        chosen = [np.int64(0)]
        chosen.pop()
        c2 = 0.0
        for i in range(order.shape[0]):
            e = cand[order[i]]
            ra = _find(parent, eu[e])
            rb = _find(parent, ev[e])
            if ra != rb:
                parent[ra] = rb
                chosen.append(e)
                c2 += ew[e]
        # reset union-find on the nodes touched
        for i in range(cand.shape[0]):
            e = cand[i]
            parent[eu[e]] = eu[e]
            parent[ev[e]] = ev[e]
        # prune non-terminal leaves
        alive = np.ones(len(chosen), np.bool_)
        for i in range(len(chosen)):
            e = chosen[i]
            deg[eu[e]] += 1
            deg[ev[e]] += 1
        changed = True
        while changed:
            changed = False
            for i in range(len(chosen)):
                if not alive[i]:
                    continue
                e = chosen[i]
                a = eu[e]
                b = ev[e]
                if (deg[a] == 1 and not is_term[a]) or (deg[b] == 1 and not is_term[b]):
                    alive[i] = False
                    deg[a] -= 1
                    deg[b] -= 1
                    c2 -= ew[e]
                    changed = True
        for i in range(len(chosen)):
            e = chosen[i]
            deg[eu[e]] = 0
            deg[ev[e]] = 0
        if c2 < cost - eps:
            for i in range(len(te)):
                tree[te[i]] = False
            te.clear()
            for i in range(len(chosen)):
                if alive[i]:
                    tree[chosen[i]] = True
                    te.append(chosen[i])
            cost = c2
            node_in = _tree_nodes(n, eu, ev, tree, is_term)
    return cost


@njit(**NJIT_OPTIONS)
def _sd_terminal_kernel(n, indptr, adj_v, adj_e, eu, ev, ew, terms, k):
    """Special-distance test through terminals (Duin and Volgenant 1989).

    For every node the ``k`` nearest terminals and their distances are found by a
    multi-label Dijkstra. An edge {u, v} whose cost exceeds max(d(u, z), d(v, z)) for a
    terminal z near both ends is in no optimal tree (removing it and adding the part of
    the u-z or v-z path that joins the two halves is strictly cheaper), so all such edges
    can be deleted at once. Returns the boolean mask of edges to delete."""
    m = eu.shape[0]
    lab_t = np.full(n * k, -1, np.int64)
    lab_d = np.full(n * k, _INF)
    cnt = np.zeros(n, np.int64)
    heap = [(0.0, np.int64(0), np.int64(0))]
    heap.pop()
    for i in range(terms.shape[0]):
        heapq.heappush(heap, (0.0, terms[i], terms[i]))
    while len(heap) > 0:
        d, x, z = heapq.heappop(heap)
        if cnt[x] >= k:
            continue
        dup = False
        for j in range(cnt[x]):
            if lab_t[x * k + j] == z:
                dup = True
                break
        if dup:
            continue
        lab_t[x * k + cnt[x]] = z
        lab_d[x * k + cnt[x]] = d
        cnt[x] += 1
        for kk in range(indptr[x], indptr[x + 1]):
            y = adj_v[kk]
            if cnt[y] >= k:
                continue
            heapq.heappush(heap, (d + ew[adj_e[kk]], y, z))
    kill = np.zeros(m, np.bool_)
    for e in range(m):
        u = eu[e]
        v = ev[e]
        w = ew[e]
        for i in range(cnt[u]):
            z = lab_t[u * k + i]
            du = lab_d[u * k + i]
            if du >= w:
                break
            for j in range(cnt[v]):
                if lab_t[v * k + j] == z:
                    if w > max(du, lab_d[v * k + j]) + 1e-12 * (1.0 + w):
                        kill[e] = True
                    break
            if kill[e]:
                break
    return kill
