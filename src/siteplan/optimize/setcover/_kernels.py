"""Private numba kernels of the set-cover engine (plain contiguous arrays, no defaults).

Conventions: the 0/1 matrix is given both column-wise (``col_ptr``, ``col_rows``) and
row-wise (``row_ptr``, ``row_cols``); ``row_alive`` / ``col_alive`` (uint8) mask the
rows and columns still in play; ``need`` (int64) is the residual demand of each row.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from siteplan.config import NJIT_OPTIONS

__all__: list[str] = []


@njit(**NJIT_OPTIONS)
def _row_dominance_kernel(row_ptr, row_cols, col_ptr, col_rows, need, row_alive, col_alive):
    """Kill rows i with a live row k such that cols(k) <= cols(i) and need[k] >= need[i].

    Covering k then covers i. Returns the number of rows killed (``row_alive`` updated).
    """
    m = row_ptr.size - 1
    n = col_ptr.size - 1
    rlen = np.zeros(m, np.int64)
    for i in range(m):
        if row_alive[i]:
            c = 0
            for p in range(row_ptr[i], row_ptr[i + 1]):
                if col_alive[row_cols[p]]:
                    c += 1
            rlen[i] = c
    clen = np.zeros(n, np.int64)
    for j in range(n):
        if col_alive[j]:
            c = 0
            for p in range(col_ptr[j], col_ptr[j + 1]):
                if row_alive[col_rows[p]]:
                    c += 1
            clen[j] = c
    order = np.argsort(rlen)
    mark = np.zeros(n, np.int64)  # mark[j] == stamp when j in cols(i)
    stamp = 0
    killed = 0
    for t in range(m):
        k = order[t]
        if not row_alive[k] or rlen[k] == 0:
            continue
        # the live column of k with the fewest live rows
        j0 = -1
        best = 1 << 62
        for p in range(row_ptr[k], row_ptr[k + 1]):
            j = row_cols[p]
            if col_alive[j] and clen[j] < best:
                best = clen[j]
                j0 = j
        for q in range(col_ptr[j0], col_ptr[j0 + 1]):
            i = col_rows[q]
            if i == k or not row_alive[i] or rlen[i] < rlen[k] or need[k] < need[i]:
                continue
            stamp += 1
            for p in range(row_ptr[i], row_ptr[i + 1]):
                mark[row_cols[p]] = stamp
            ok = True
            for p in range(row_ptr[k], row_ptr[k + 1]):
                j = row_cols[p]
                if col_alive[j] and mark[j] != stamp:
                    ok = False
                    break
            if ok:
                row_alive[i] = 0
                killed += 1
                for p in range(row_ptr[i], row_ptr[i + 1]):
                    j = row_cols[p]
                    if col_alive[j]:
                        clen[j] -= 1
    return killed


@njit(**NJIT_OPTIONS)
def _row_min2(i, row_ptr, row_cols, costs, col_alive, out_min1, out_arg1, out_min2):
    m1 = np.inf
    a1 = -1
    m2 = np.inf
    for p in range(row_ptr[i], row_ptr[i + 1]):
        j = row_cols[p]
        if col_alive[j]:
            c = costs[j]
            if c < m1:
                m2 = m1
                m1 = c
                a1 = j
            elif c < m2:
                m2 = c
    out_min1[i] = m1
    out_arg1[i] = a1
    out_min2[i] = m2


@njit(**NJIT_OPTIONS)
def _col_dominance_kernel(col_ptr, col_rows, row_ptr, row_cols, costs, need, row_alive, col_alive,
                          subset_test):
    """Kill live columns j (all of whose live rows have need 1) that are dominated:

    * by a sum of row minima: c_j >= sum over live rows i of j of min_{k != j live} c_k;
    * (``subset_test``) by one live column k with rows(j) <= rows(k) and c_k <= c_j.

    Columns are examined one at a time against the current live set, so a column is
    only ever replaced by columns that stay live. Returns the number killed.
    """
    m = row_ptr.size - 1
    n = col_ptr.size - 1
    min1 = np.empty(m)
    arg1 = np.empty(m, np.int64)
    min2 = np.empty(m)
    valid = np.zeros(m, np.uint8)
    order = np.argsort(-costs, kind="mergesort")
    killed = 0
    for t in range(n):
        j = order[t]
        if not col_alive[j]:
            continue
        nlive = 0
        allone = True
        for p in range(col_ptr[j], col_ptr[j + 1]):
            i = col_rows[p]
            if row_alive[i]:
                nlive += 1
                if need[i] != 1:
                    allone = False
                    break
        if not allone:
            continue
        if nlive == 0:
            col_alive[j] = 0
            killed += 1
            continue
        s = 0.0
        for p in range(col_ptr[j], col_ptr[j + 1]):
            i = col_rows[p]
            if not row_alive[i]:
                continue
            if not valid[i]:
                _row_min2(i, row_ptr, row_cols, costs, col_alive, min1, arg1, min2)
                valid[i] = 1
            s += min2[i] if arg1[i] == j else min1[i]
            if s > costs[j]:
                break
        dominated = s <= costs[j]
        if not dominated and subset_test:
            # rarest live row of j
            i0 = -1
            best = 1 << 62
            for p in range(col_ptr[j], col_ptr[j + 1]):
                i = col_rows[p]
                if row_alive[i] and row_ptr[i + 1] - row_ptr[i] < best:
                    best = row_ptr[i + 1] - row_ptr[i]
                    i0 = i
            for q in range(row_ptr[i0], row_ptr[i0 + 1]):
                k = row_cols[q]
                if k == j or not col_alive[k] or costs[k] > costs[j]:
                    continue
                # rows(j) live subset of rows(k)? sorted merge with early exit
                pk = col_ptr[k]
                ek = col_ptr[k + 1]
                ok = True
                for p in range(col_ptr[j], col_ptr[j + 1]):
                    i = col_rows[p]
                    if not row_alive[i]:
                        continue
                    while pk < ek and col_rows[pk] < i:
                        pk += 1
                    if pk == ek or col_rows[pk] != i:
                        ok = False
                        break
                if ok:
                    dominated = True
                    break
        if dominated:
            col_alive[j] = 0
            killed += 1
            for p in range(col_ptr[j], col_ptr[j + 1]):
                i = col_rows[p]
                # the row's two cheapest live costs change only if j was one of them
                if valid[i] and (arg1[i] == j or costs[j] <= min2[i]):
                    valid[i] = 0
    return killed


@njit(**NJIT_OPTIONS)
def _lagrangian_value_kernel(col_ptr, col_rows, costs, need, row_alive, col_alive, u, rc, x):
    """L(u) = sum_i need_i u_i + sum_j min(0, rc_j); fills reduced costs ``rc`` and the
    Lagrangian solution ``x`` (rc_j < 0). Dead rows/columns are ignored."""
    n = col_ptr.size - 1
    m = need.size
    val = 0.0
    for i in range(m):
        if row_alive[i]:
            val += need[i] * u[i]
    for j in range(n):
        if not col_alive[j]:
            rc[j] = np.inf
            x[j] = 0
            continue
        r = costs[j]
        for p in range(col_ptr[j], col_ptr[j + 1]):
            i = col_rows[p]
            if row_alive[i]:
                r -= u[i]
        rc[j] = r
        if r < 0.0:
            x[j] = 1
            val += r
        else:
            x[j] = 0
    return val


@njit(**NJIT_OPTIONS)
def _subgradient_kernel(col_ptr, col_rows, costs, need, row_alive, col_alive, u, target, lam,
                        n_iter, best_u, best_lb_in, min_lam, patience, deflect):
    """Subgradient optimisation of the Lagrangian dual of  min c.x, A x >= need, x in {0,1}.

    ``u`` is updated in place (u >= 0); step = lam (target - L(u)) / ||s||^2 with s the
    (projected) subgradient; lam is halved after ``patience`` iterations without a better bound
    (Beasley 1990; ``target`` is his 1.05 x upper bound when the caller passes it). Keeps
    the best bound in ``best_u``. The direction is deflected, d = s + deflect * d_prev
    (Camerini, Fratta & Maffioli 1975), which damps the zig-zag. Returns
    (best_lb, lam, iterations done).
    """
    n = col_ptr.size - 1
    m = need.size
    rc = np.empty(n)
    x = np.empty(n, np.uint8)
    s = np.empty(m)
    d = np.zeros(m)
    best = best_lb_in
    run_best = -np.inf
    since = 0
    it = 0
    for it in range(n_iter):
        lb = _lagrangian_value_kernel(col_ptr, col_rows, costs, need, row_alive, col_alive, u, rc, x)
        if lb > best:
            best = lb
            for i in range(m):
                best_u[i] = u[i]
        if lb > run_best + 1e-9 * max(1.0, abs(run_best)):
            run_best = lb
            since = 0
        else:
            since += 1
            if since >= patience:
                lam *= 0.5
                since = 0
        for i in range(m):
            s[i] = need[i] if row_alive[i] else 0.0
        for j in range(n):
            if x[j]:
                for p in range(col_ptr[j], col_ptr[j + 1]):
                    s[col_rows[p]] -= 1.0
        norm = 0.0
        snorm = 0.0
        for i in range(m):
            if not row_alive[i] or (u[i] <= 0.0 and s[i] < 0.0):
                s[i] = 0.0
            snorm += s[i] * s[i]
            d[i] = s[i] + deflect * d[i]
            if not row_alive[i] or (u[i] <= 0.0 and d[i] < 0.0):
                d[i] = 0.0
            norm += d[i] * d[i]
        if snorm == 0.0:
            # the Lagrangian solution is feasible and complementary: L(u) is the optimum
            break
        if target - lb <= 1e-9 * max(1.0, abs(target)) or lam < min_lam:
            break
        step = lam * (target - lb) / norm
        for i in range(m):
            if row_alive[i]:
                v = u[i] + step * d[i]
                u[i] = v if v > 0.0 else 0.0
    return best, lam, it + 1


@njit(**NJIT_OPTIONS)
def _greedy_kernel(col_ptr, col_rows, row_ptr, row_cols, costs, need_in, row_alive, col_alive, u,
                   noise, x):
    """Lagrangian greedy (Caprara, Fischetti & Toth 1999, score sigma_j):

    gamma_j = c_j - sum_{uncovered i in j} u_i, mu_j = #uncovered rows of j;
    score = gamma_j / mu_j if gamma_j > 0 else gamma_j * mu_j; pick the least score
    (times ``noise[j]``) until every live row's residual need is met. ``x`` (uint8) holds
    columns already chosen on entry and the result on exit. Returns False when some row
    cannot be covered.
    """
    picks = np.empty(col_ptr.size - 1, np.int64)
    return _greedy_picks_kernel(col_ptr, col_rows, row_ptr, row_cols, costs, need_in, row_alive, col_alive,
                                u, noise, x, picks) >= 0


@njit(**NJIT_OPTIONS)
def _improve_kernel(col_ptr, col_rows, row_ptr, row_cols, costs, need_in, row_alive, col_alive, x,
                    locked, order, max_pass):
    """Redundant-column removal and 1-for-1 swaps on a feasible ``x`` (in place).

    Chosen columns are visited in ``order`` (most expensive first): a column whose live
    rows all stay covered without it is dropped; otherwise, if one cheaper live column
    covers every row that would lose its cover, the two are swapped. ``locked`` columns
    never leave. Returns the number of changes.
    """
    n = col_ptr.size - 1
    m = row_ptr.size - 1
    cnt = np.zeros(m, np.int64)
    for j in range(n):
        if x[j]:
            for p in range(col_ptr[j], col_ptr[j + 1]):
                cnt[col_rows[p]] += 1
    crit = np.empty(m, np.int64)
    changes = 0
    for _ in range(max_pass):
        changed = False
        for t in range(order.size):
            j = order[t]
            if not x[j] or locked[j]:
                continue
            nc = 0
            for p in range(col_ptr[j], col_ptr[j + 1]):
                i = col_rows[p]
                if row_alive[i] and cnt[i] <= need_in[i]:
                    crit[nc] = i
                    nc += 1
            if nc == 0:
                x[j] = 0
                for p in range(col_ptr[j], col_ptr[j + 1]):
                    cnt[col_rows[p]] -= 1
                changes += 1
                changed = True
                continue
            # a cheaper unchosen column covering every critical row
            i0 = crit[0]
            kb = -1
            cb = costs[j]
            for q in range(row_ptr[i0], row_ptr[i0 + 1]):
                k = row_cols[q]
                if x[k] or not col_alive[k] or costs[k] >= cb:
                    continue
                pk = col_ptr[k]
                ek = col_ptr[k + 1]
                ok = True
                for r in range(nc):
                    i = crit[r]
                    while pk < ek and col_rows[pk] < i:
                        pk += 1
                    if pk == ek or col_rows[pk] != i:
                        ok = False
                        break
                if ok:
                    kb = k
                    cb = costs[k]
            if kb >= 0:
                x[j] = 0
                for p in range(col_ptr[j], col_ptr[j + 1]):
                    cnt[col_rows[p]] -= 1
                x[kb] = 1
                for p in range(col_ptr[kb], col_ptr[kb + 1]):
                    cnt[col_rows[p]] += 1
                changes += 1
                changed = True
        if not changed:
            break
    return changes


@njit(**NJIT_OPTIONS)
def _greedy_picks_kernel(col_ptr, col_rows, row_ptr, row_cols, costs, need_in, row_alive, col_alive, u,
                         noise, x, picks):
    """:func:`_greedy_kernel` that also records the columns it picks, in order, in
    ``picks`` (int64, length >= number of columns). Returns the number of picks, or -1
    when some row cannot be covered."""
    n = col_ptr.size - 1
    m = row_ptr.size - 1
    need = np.zeros(m, np.int64)
    for i in range(m):
        if row_alive[i]:
            need[i] = need_in[i]
    for j in range(n):
        if x[j]:
            for p in range(col_ptr[j], col_ptr[j + 1]):
                need[col_rows[p]] -= 1
    mu = np.zeros(n, np.int64)
    gamma = np.empty(n)
    remaining = 0
    for i in range(m):
        if need[i] > 0:
            remaining += 1
    for j in range(n):
        g = costs[j]
        c = 0
        if col_alive[j] and not x[j]:
            for p in range(col_ptr[j], col_ptr[j + 1]):
                i = col_rows[p]
                if need[i] > 0:
                    c += 1
                    g -= u[i]
        mu[j] = c
        gamma[j] = g
    k = 0
    while remaining > 0:
        jb = -1
        sb = np.inf
        for j in range(n):
            if mu[j] > 0 and col_alive[j] and not x[j]:
                g = gamma[j]
                sc = g / mu[j] if g > 0.0 else g * mu[j]
                sc = sc * noise[j] if sc > 0.0 else sc / noise[j]
                if sc < sb:
                    sb = sc
                    jb = j
        if jb < 0:
            return -1
        x[jb] = 1
        picks[k] = jb
        k += 1
        for p in range(col_ptr[jb], col_ptr[jb + 1]):
            i = col_rows[p]
            if need[i] > 0:
                need[i] -= 1
                if need[i] == 0:
                    remaining -= 1
                    for q in range(row_ptr[i], row_ptr[i + 1]):
                        kk = row_cols[q]
                        mu[kk] -= 1
                        gamma[kk] += u[i]
    return k


@njit(**NJIT_OPTIONS)
def _cft_heuristic_kernel(col_ptr, col_rows, row_ptr, row_cols, costs, need, need_res, row_alive, col_alive,
                          x_fixed, u, best_u, target, lam, n_iter, greedy_every, noise, best_x, best_cost):
    """Subgradient + heuristic phases of Caprara, Fischetti & Toth (1999) on a residual problem.

    Subgradient steps on the residual problem (demand ``need_res`` on ``row_alive`` rows,
    columns ``col_alive``), step lam (target - L(u)) / ||s||^2 with CFT's step control:
    every 20 iterations lam is halved when the bounds of the window spread by more than
    1 %, multiplied by 1.5 when by less than 0.1 %. Every ``greedy_every`` iterations a
    Lagrangian greedy (the columns ``x_fixed`` already chosen, the whole demand ``need``)
    builds a cover of the whole problem from the current u, redundant columns are
    dropped / 1-for-1 swaps applied, and the best cover is kept in ``best_x`` (its cost
    ``best_cost`` on entry is the incumbent's). ``u`` is updated in place; ``best_u``
    receives the multipliers of the best residual bound.

    Returns (best residual bound, best cover cost, lam).
    """
    n = col_ptr.size - 1
    m = need.size
    rc = np.empty(n)
    xl = np.empty(n, np.uint8)
    s = np.empty(m)
    x = np.empty(n, np.uint8)
    picks = np.empty(n, np.int64)
    all_rows = np.ones(m, np.uint8)
    all_cols = np.ones(n, np.uint8)
    locked = np.zeros(n, np.uint8)
    best = -np.inf
    wmin = np.inf
    wmax = -np.inf
    for it in range(n_iter):
        lb = _lagrangian_value_kernel(col_ptr, col_rows, costs, need_res, row_alive, col_alive, u, rc, xl)
        if lb > best:
            best = lb
            for i in range(m):
                best_u[i] = u[i]
        if lb < wmin:
            wmin = lb
        if lb > wmax:
            wmax = lb
        if (it + 1) % 20 == 0:
            spread = (wmax - wmin) / max(abs(wmax), 1e-9)
            if spread > 0.01:
                lam *= 0.5
            elif spread < 0.001:
                lam *= 1.5
            wmin = np.inf
            wmax = -np.inf
        if greedy_every > 0 and it % greedy_every == 0:
            for j in range(n):
                x[j] = x_fixed[j]
            k = _greedy_picks_kernel(col_ptr, col_rows, row_ptr, row_cols, costs, need, all_rows, col_alive, u,
                                     noise, x, picks)
            if k >= 0:
                nchosen = 0
                for j in range(n):
                    if x[j]:
                        picks[nchosen] = j
                        nchosen += 1
                sel = picks[:nchosen].copy()
                neg = np.empty(nchosen)
                for t in range(nchosen):
                    neg[t] = -costs[sel[t]]
                order = sel[np.argsort(neg, kind="mergesort")]
                _improve_kernel(col_ptr, col_rows, row_ptr, row_cols, costs, need, all_rows, all_cols, x, locked,
                                order, 3)
                c = 0.0
                for j in range(n):
                    if x[j]:
                        c += costs[j]
                if c < best_cost - 1e-9:
                    best_cost = c
                    for j in range(n):
                        best_x[j] = x[j]
        for i in range(m):
            s[i] = need_res[i] if row_alive[i] else 0.0
        for j in range(n):
            if xl[j]:
                for p in range(col_ptr[j], col_ptr[j + 1]):
                    s[col_rows[p]] -= 1.0
        norm = 0.0
        for i in range(m):
            if not row_alive[i] or (u[i] <= 0.0 and s[i] < 0.0):
                s[i] = 0.0
            norm += s[i] * s[i]
        if norm == 0.0:
            break
        gap = target - lb
        if gap < 1e-6 * max(1.0, abs(target)):
            gap = 1e-6 * max(1.0, abs(target))
        step = lam * gap / norm
        for i in range(m):
            if row_alive[i]:
                v = u[i] + step * s[i]
                u[i] = v if v > 0.0 else 0.0
    return best, best_cost, lam


@njit(**NJIT_OPTIONS)
def _two_for_one_kernel(col_ptr, col_rows, row_ptr, row_cols, costs, need, x, max_pass):
    """2-for-1 exchanges on a feasible cover ``x`` (in place): two chosen columns a, b are
    replaced by one unchosen column k with c_k < c_a + c_b that covers every row that
    would lose its cover without a and b (the cheapest such k); columns left redundant
    are then dropped. Returns the number of exchanges."""
    n = col_ptr.size - 1
    m = row_ptr.size - 1
    cnt = np.zeros(m, np.int64)
    for j in range(n):
        if x[j]:
            for p in range(col_ptr[j], col_ptr[j + 1]):
                cnt[col_rows[p]] += 1
    mark = np.zeros(m, np.int64)
    crit = np.empty(m, np.int64)
    hit = np.zeros(n, np.int64)
    stamp = np.zeros(n, np.int64)
    tick = 0
    changes = 0
    for _ in range(max_pass):
        chosen = np.flatnonzero(x)
        changed = False
        for ia in range(chosen.size):
            a = chosen[ia]
            if not x[a]:
                continue
            for ib in range(ia + 1, chosen.size):
                b = chosen[ib]
                if not x[b] or not x[a]:
                    continue
                # critical rows: covered only through a and/or b
                for p in range(col_ptr[a], col_ptr[a + 1]):
                    mark[col_rows[p]] += 1
                for p in range(col_ptr[b], col_ptr[b + 1]):
                    mark[col_rows[p]] += 1
                nc = 0
                for p in range(col_ptr[a], col_ptr[a + 1]):
                    i = col_rows[p]
                    if mark[i] > 0:
                        if cnt[i] - mark[i] < need[i]:
                            crit[nc] = i
                            nc += 1
                        mark[i] = -mark[i]
                for p in range(col_ptr[b], col_ptr[b + 1]):
                    i = col_rows[p]
                    if mark[i] > 0:
                        if cnt[i] - mark[i] < need[i]:
                            crit[nc] = i
                            nc += 1
                        mark[i] = -mark[i]
                for p in range(col_ptr[a], col_ptr[a + 1]):
                    mark[col_rows[p]] = 0
                for p in range(col_ptr[b], col_ptr[b + 1]):
                    mark[col_rows[p]] = 0
                budget = costs[a] + costs[b]
                kb = -1
                if nc == 0:
                    continue  # both redundant together: left to the redundancy pass
                # count, per candidate column, how many critical rows it covers
                tick += 1
                for r in range(nc):
                    i = crit[r]
                    for q in range(row_ptr[i], row_ptr[i + 1]):
                        k = row_cols[q]
                        if x[k] or costs[k] >= budget:
                            continue
                        if stamp[k] != tick:
                            stamp[k] = tick
                            hit[k] = 0
                        hit[k] += 1
                        if hit[k] == nc and (kb < 0 or costs[k] < costs[kb]):
                            kb = k
                if kb < 0:
                    continue
                # rows needing two more covers are not handled by one column: check demand
                ok = True
                for r in range(nc):
                    i = crit[r]
                    lost = 0
                    for p in range(col_ptr[a], col_ptr[a + 1]):
                        if col_rows[p] == i:
                            lost += 1
                    for p in range(col_ptr[b], col_ptr[b + 1]):
                        if col_rows[p] == i:
                            lost += 1
                    if cnt[i] - lost + 1 < need[i]:
                        ok = False
                        break
                if not ok:
                    continue
                x[a] = 0
                x[b] = 0
                x[kb] = 1
                for p in range(col_ptr[a], col_ptr[a + 1]):
                    cnt[col_rows[p]] -= 1
                for p in range(col_ptr[b], col_ptr[b + 1]):
                    cnt[col_rows[p]] -= 1
                for p in range(col_ptr[kb], col_ptr[kb + 1]):
                    cnt[col_rows[p]] += 1
                changes += 1
                changed = True
                break
        # drop redundant columns, most expensive first
        order = np.argsort(-costs[chosen])
        for t in range(order.size):
            j = chosen[order[t]]
            if not x[j]:
                continue
            red = True
            for p in range(col_ptr[j], col_ptr[j + 1]):
                if cnt[col_rows[p]] <= need[col_rows[p]]:
                    red = False
                    break
            if red:
                x[j] = 0
                for p in range(col_ptr[j], col_ptr[j + 1]):
                    cnt[col_rows[p]] -= 1
        if not changed:
            break
    return changes
