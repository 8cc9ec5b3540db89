"""Private numba kernels of the Lagrangian branch-and-bound (:mod:`.branch`).

Plain contiguous arrays and scalars only; the public wrapper validates and packages.
Column states: 0 free, 1 chosen (fixed to 1), 2 removed (fixed to 0).
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit, objmode

from siteplan.config import NJIT_OPTIONS

__all__: list[str] = []

_FREE = 0
_IN = 1
_OUT = 2


@njit(**NJIT_OPTIONS)
def _now_kernel():
    """time.perf_counter() [s], read through object mode (re-acquires the GIL; the tree
    calls it every 64 nodes only)."""
    with objmode(t="float64"):
        t = time.perf_counter()
    return t


@njit(**NJIT_OPTIONS)
def _set_col_kernel(j, value, col_ptr, col_rows, state, cover, nfree, u, trail, n_trail):
    """Fix free column ``j`` to ``value`` (1 or 2), push it on the trail; returns the new
    trail length. A chosen column covers its rows (their multipliers drop to 0)."""
    state[j] = value
    for p in range(col_ptr[j], col_ptr[j + 1]):
        i = col_rows[p]
        nfree[i] -= 1
        if value == _IN:
            cover[i] += 1
            u[i] = 0.0
    trail[n_trail] = j
    return n_trail + 1


@njit(**NJIT_OPTIONS)
def _undo_kernel(target, col_ptr, col_rows, state, cover, nfree, trail, n_trail):
    """Undo the trail back to length ``target``; returns the new trail length."""
    while n_trail > target:
        n_trail -= 1
        j = trail[n_trail]
        was_in = state[j] == _IN
        state[j] = _FREE
        for p in range(col_ptr[j], col_ptr[j + 1]):
            i = col_rows[p]
            nfree[i] += 1
            if was_in:
                cover[i] -= 1
    return n_trail


@njit(**NJIT_OPTIONS)
def _propagate_kernel(row_ptr, row_cols, col_ptr, col_rows, state, cover, nfree, u, trail, n_trail, costs,
                      in_cost):
    """Rows with exactly one free column left force it in, repeated to a fixed point; an
    uncovered row with no free column makes the node infeasible. Returns (trail length,
    chosen cost, feasible)."""
    m = row_ptr.size - 1
    changed = True
    while changed:
        changed = False
        for i in range(m):
            if cover[i] > 0:
                continue
            if nfree[i] == 0:
                return n_trail, in_cost, False
            if nfree[i] == 1:
                for p in range(row_ptr[i], row_ptr[i + 1]):
                    j = row_cols[p]
                    if state[j] == _FREE:
                        n_trail = _set_col_kernel(j, _IN, col_ptr, col_rows, state, cover, nfree, u, trail,
                                                  n_trail)
                        in_cost += costs[j]
                        changed = True
                        break
    return n_trail, in_cost, True


@njit(**NJIT_OPTIONS)
def _node_value_kernel(col_ptr, col_rows, costs, state, cover, u, rc, in_cost):
    """L(u) of the node: chosen cost + sum of u over uncovered rows + sum over free
    columns of min(0, rc_j); fills ``rc`` (inf for fixed columns)."""
    n = col_ptr.size - 1
    m = cover.size
    val = in_cost
    for i in range(m):
        if cover[i] == 0:
            val += u[i]
    for j in range(n):
        if state[j] != _FREE:
            rc[j] = np.inf
            continue
        r = costs[j]
        for p in range(col_ptr[j], col_ptr[j + 1]):
            r -= u[col_rows[p]]
        rc[j] = r
        if r < 0.0:
            val += r
    return val


@njit(**NJIT_OPTIONS)
def _node_subgradient_kernel(col_ptr, col_rows, costs, state, cover, u, best_u, rc, best_rc, s, in_cost, cutoff,
                             target, lam, n_iter, patience):
    """Subgradient optimisation of the node's Lagrangian dual (u of covered rows stays 0).
    Stops early once L(u) > cutoff (the node can be pruned). Keeps the best multipliers
    in ``best_u`` and their reduced costs in ``best_rc``; returns (best L, iterations)."""
    n = col_ptr.size - 1
    m = cover.size
    best = -np.inf
    since = 0
    it = 0
    for it in range(n_iter):
        lb = _node_value_kernel(col_ptr, col_rows, costs, state, cover, u, rc, in_cost)
        if lb > best + 1e-9:
            best = lb
            since = 0
            for i in range(m):
                best_u[i] = u[i]
            for j in range(n):
                best_rc[j] = rc[j]
        else:
            since += 1
            if since >= patience:
                lam *= 0.5
                since = 0
        if best > cutoff:
            return best, it + 1
        for i in range(m):
            s[i] = 1.0 if cover[i] == 0 else 0.0
        for j in range(n):
            if state[j] == _FREE and rc[j] < 0.0:
                for p in range(col_ptr[j], col_ptr[j + 1]):
                    s[col_rows[p]] -= 1.0
        norm = 0.0
        for i in range(m):
            if cover[i] > 0 or (u[i] <= 0.0 and s[i] < 0.0):
                s[i] = 0.0
            norm += s[i] * s[i]
        if norm == 0.0:
            break  # the Lagrangian solution covers every row exactly: L(u) is the node's optimum
        gap = target - lb
        if gap < 1e-6:
            gap = 1e-6
        step = lam * gap / norm
        for i in range(m):
            if s[i] != 0.0:
                v = u[i] + step * s[i]
                u[i] = v if v > 0.0 else 0.0
    return best, it + 1


@njit(**NJIT_OPTIONS)
def _least_rc_free_col(i, row_ptr, row_cols, state, rc):
    """The free column of row ``i`` with the least reduced cost (first on ties); -1 if none."""
    best_j = -1
    best_r = np.inf
    for p in range(row_ptr[i], row_ptr[i + 1]):
        j = row_cols[p]
        if state[j] == _FREE and rc[j] < best_r:
            best_r = rc[j]
            best_j = j
    return best_j


@njit(**NJIT_OPTIONS)
def _node_primal_kernel(col_ptr, col_rows, row_ptr, row_cols, costs, order, state, cover, rc, work_cover, x):
    """Cover of the node from reduced costs ``rc``: the chosen columns, the free columns
    with rc < 0, then for every row still uncovered its free column of least rc; then
    redundant columns dropped, costliest first (``order``: columns by decreasing cost).
    Fills ``x`` (0/1); returns its cost (inf when some row cannot be covered)."""
    n = col_ptr.size - 1
    m = row_ptr.size - 1
    for i in range(m):
        work_cover[i] = 0
    for j in range(n):
        x[j] = 1 if (state[j] == _IN or (state[j] == _FREE and rc[j] < 0.0)) else 0
        if x[j]:
            for p in range(col_ptr[j], col_ptr[j + 1]):
                work_cover[col_rows[p]] += 1
    for i in range(m):
        if work_cover[i] > 0:
            continue
        best_j = _least_rc_free_col(i, row_ptr, row_cols, state, rc)
        if best_j < 0:
            return np.inf
        x[best_j] = 1
        for p in range(col_ptr[best_j], col_ptr[best_j + 1]):
            work_cover[col_rows[p]] += 1
    # drop redundant columns, costliest first (fixed-in columns stay)
    total = 0.0
    for k in range(n):
        j = order[k]
        if not x[j]:
            continue
        if state[j] != _IN:
            redundant = True
            for p in range(col_ptr[j], col_ptr[j + 1]):
                if work_cover[col_rows[p]] < 2:
                    redundant = False
                    break
            if redundant:
                x[j] = 0
                for p in range(col_ptr[j], col_ptr[j + 1]):
                    work_cover[col_rows[p]] -= 1
                continue
        total += costs[j]
    return total


@njit(**NJIT_OPTIONS)
def _branch_and_bound_kernel(col_ptr, col_rows, row_ptr, row_cols, costs, state0, u0, x_best, ub_in, slack,
                             root_iter, node_iter, node_patience, node_lam, node_rounds, primal_period, max_nodes,
                             deadline, out):
    """Depth-first Lagrangian branch-and-bound for  min c.x, A x >= 1, x in {0,1}.

    Every node: forced columns (rows with one free column), a subgradient bound warm-started
    from the parent's multipliers (``root_iter`` / ``node_iter`` steps, step factor 1 at
    the root and ``node_lam`` elsewhere, halved after ``node_patience`` steps without
    progress), pruning when L > ub - slack, a Lagrangian primal cover (below depth 8 and
    every ``primal_period``-th node), reduced-cost fixing of the free columns against
    ub - slack (``node_rounds`` bound/fixing rounds), then a binary branch on the free
    column of least reduced cost in the uncovered row with the largest multiplier
    (x_j = 1 first). ``x_best``/``ub_in``: the incumbent (updated in place). ``deadline``:
    ``time.perf_counter()`` value after which the search stops; ``max_nodes``: node cap.

    ``out`` (float64[4]) receives: [0] best cost, [1] 1.0 when the tree was exhausted
    (the incumbent is optimal: no cover cheaper than ub - slack exists), [2] nodes, [3]
    the root bound.
    """
    n = col_ptr.size - 1
    m = row_ptr.size - 1
    state = state0.copy()
    cover = np.zeros(m, np.int64)
    nfree = np.zeros(m, np.int64)
    for j in range(n):
        for p in range(col_ptr[j], col_ptr[j + 1]):
            i = col_rows[p]
            if state[j] == _FREE:
                nfree[i] += 1
            elif state[j] == _IN:
                cover[i] += 1
    trail = np.empty(n + 1, np.int64)
    n_trail = 0
    ub = ub_in
    in_cost = 0.0
    for j in range(n):
        if state[j] == _IN:
            in_cost += costs[j]
    max_depth = n + 2
    frame_trail = np.zeros(max_depth, np.int64)
    frame_col = np.zeros(max_depth, np.int64)
    frame_stage = np.zeros(max_depth, np.int64)
    frame_cost = np.zeros(max_depth)
    us = np.zeros((max_depth, m))
    u = np.empty(m)
    best_u = np.empty(m)
    rc = np.empty(n)
    work_rc = np.empty(n)
    s = np.empty(m)
    work_cover = np.zeros(m, np.int64)
    xh = np.zeros(n, np.uint8)
    order = np.argsort(-costs, kind="mergesort")
    for i in range(m):
        us[0, i] = u0[i] if cover[i] == 0 else 0.0
    nodes = 0
    depth = 0
    root_bound = -np.inf
    exhausted = False
    entering = True  # evaluate the node at ``depth`` (else: backtrack)
    while True:
        if entering:
            nodes += 1
            if nodes > max_nodes or ((nodes & 63) == 1 and _now_kernel() > deadline):
                break
            prune = False
            n_trail, in_cost, feasible = _propagate_kernel(row_ptr, row_cols, col_ptr, col_rows, state, cover,
                                                           nfree, us[depth], trail, n_trail, costs, in_cost)
            if not feasible:
                prune = True
            if not prune:
                for i in range(m):
                    u[i] = us[depth, i] if cover[i] == 0 else 0.0
                cutoff = ub - slack
                lb = -np.inf
                for rnd in range(node_rounds):
                    if in_cost > cutoff:
                        lb = in_cost
                        break
                    iters = root_iter if depth == 0 and rnd == 0 else node_iter
                    lam = 1.0 if depth == 0 and rnd == 0 else node_lam
                    lb, _ = _node_subgradient_kernel(col_ptr, col_rows, costs, state, cover, u, best_u, work_rc, rc,
                                                     s, in_cost, cutoff, ub, lam, iters, node_patience)
                    if lb > cutoff:
                        break
                    for i in range(m):
                        u[i] = best_u[i]
                    # primal cover from the node's reduced costs
                    hc = np.inf
                    if depth < 8 or nodes % primal_period == 0:
                        hc = _node_primal_kernel(col_ptr, col_rows, row_ptr, row_cols, costs, order, state, cover,
                                                 rc, work_cover, xh)
                    if hc < ub - 1e-9:
                        ub = hc
                        cutoff = ub - slack
                        for j in range(n):
                            x_best[j] = xh[j]
                        if lb > cutoff:
                            break
                    # reduced-cost fixing against the cutoff
                    fixed = 0
                    for j in range(n):
                        if state[j] != _FREE:
                            continue
                        if lb + rc[j] > cutoff:
                            n_trail = _set_col_kernel(j, _OUT, col_ptr, col_rows, state, cover, nfree, u, trail,
                                                      n_trail)
                            fixed += 1
                        elif rc[j] < 0.0 and lb - rc[j] > cutoff:
                            n_trail = _set_col_kernel(j, _IN, col_ptr, col_rows, state, cover, nfree, u, trail,
                                                      n_trail)
                            in_cost += costs[j]
                            fixed += 1
                    if fixed == 0:
                        break
                    n_trail, in_cost, feasible = _propagate_kernel(row_ptr, row_cols, col_ptr, col_rows, state,
                                                                   cover, nfree, u, trail, n_trail, costs, in_cost)
                    if not feasible:
                        prune = True
                        break
                if depth == 0:
                    root_bound = np.inf if prune and lb <= cutoff else lb
                if lb > cutoff:
                    prune = True
            if not prune:
                bi = -1
                # the uncovered row with the largest multiplier (ties: the first), then its
                # free column of least reduced cost
                best_ui = -1.0
                for i in range(m):
                    if cover[i] == 0 and u[i] > best_ui:
                        best_ui = u[i]
                        bi = i
                if bi < 0:
                    # every row covered by chosen columns: a leaf
                    if in_cost < ub - 1e-9:
                        ub = in_cost
                        for j in range(n):
                            x_best[j] = 1 if state[j] == _IN else 0
                    prune = True
                else:
                    bj = _least_rc_free_col(bi, row_ptr, row_cols, state, rc)
                    # branch: child x_bj = 1 first
                    for i in range(m):
                        us[depth, i] = u[i]
                    frame_trail[depth] = n_trail
                    frame_col[depth] = bj
                    frame_stage[depth] = 0
                    frame_cost[depth] = in_cost
                    n_trail = _set_col_kernel(bj, _IN, col_ptr, col_rows, state, cover, nfree, us[depth + 1],
                                              trail, n_trail)
                    in_cost += costs[bj]
                    for i in range(m):
                        us[depth + 1, i] = u[i] if cover[i] == 0 else 0.0
                    depth += 1
                    entering = True
                    continue
            entering = False
        # backtrack: undo the current node, move to the parent's next child
        if depth == 0:
            exhausted = True
            break
        depth -= 1
        n_trail = _undo_kernel(frame_trail[depth], col_ptr, col_rows, state, cover, nfree, trail, n_trail)
        in_cost = frame_cost[depth]
        if frame_stage[depth] == 0:
            frame_stage[depth] = 1
            j = frame_col[depth]
            n_trail = _set_col_kernel(j, _OUT, col_ptr, col_rows, state, cover, nfree, us[depth + 1], trail,
                                      n_trail)
            for i in range(m):
                us[depth + 1, i] = us[depth, i]
            depth += 1
            entering = True
    out[0] = ub
    out[1] = 1.0 if exhausted else 0.0
    out[2] = nodes
    out[3] = root_bound
