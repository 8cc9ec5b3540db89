"""Private numba kernels of the row-weighting local search (:mod:`.local`).

Same conventions as :mod:`._kernels`: the 0/1 matrix column-wise (``col_ptr``,
``col_rows``) and row-wise (``row_ptr``, ``row_cols``), ``need`` (int64) the demand of
each row. Every column of the matrix may be added (the caller restricts the matrix).

The search state lives in caller-owned arrays so that the search can be run in slices
(the caller checks the clock between slices) and resumed exactly where it stopped:

* ``x`` (uint8) the current column set, ``cov`` (int64) how many of its columns cover
  each row, ``w`` (float64) the row weights;
* ``score`` (float64): for a column outside ``x`` the weight of the rows it would help
  (``cov < need``), for a column in ``x`` the weight of the rows that would fall short
  without it (``cov <= need``);
* ``unc``/``unc_pos``: the rows short of their demand (a list and each row's place in
  it, -1 when covered); ``sel``/``sel_pos`` the same for the columns of ``x``;
* ``stamp`` (int64) the iteration a column last changed, ``conf`` (uint8) configuration
  checking: 1 when a column sharing a row with it changed since it was dropped;
* ``ist`` (int64): [rows short, columns in x, iteration, iteration of the last better
  cover, tabu column (just added), xorshift state]; ``fst`` (float64): [cost of x, best
  cost found].
"""

from __future__ import annotations

import numpy as np
from numba import njit

from siteplan.config import NJIT_OPTIONS

__all__: list[str] = []

# indices into ``ist`` / ``fst``
N_UNC, N_SEL, ITER, ITER_BEST, TABU, RNG = 0, 1, 2, 3, 4, 5
COST, BEST = 0, 1

# return codes of _local_search_kernel
RAN_OUT, STALLED, TARGET, STUCK, IMPROVED = 0, 1, 2, 3, 4


@njit(**NJIT_OPTIONS)
def _xorshift(ist):
    """Next value of the xorshift64 generator kept in ``ist[RNG]`` (never 0), >= 0."""
    s = ist[RNG]
    s ^= s << 13
    s ^= (s >> 7) & 0x01FFFFFFFFFFFFFF
    s ^= s << 17
    ist[RNG] = s
    return s & 0x7FFFFFFFFFFFFFFF


@njit(**NJIT_OPTIONS)
def _local_init_kernel(col_ptr, col_rows, costs, need, x, cov, w, score, unc, unc_pos, sel, sel_pos, stamp, conf,
                       ist, fst):
    """Set every derived array from ``x`` with unit row weights."""
    n_rows = need.size
    n_cols = costs.size
    cov[:] = 0
    w[:] = 1.0
    stamp[:] = 0
    conf[:] = 1
    unc_pos[:] = -1
    sel_pos[:] = -1
    cost = 0.0
    n_sel = 0
    for j in range(n_cols):
        if x[j]:
            cost += costs[j]
            sel[n_sel] = j
            sel_pos[j] = n_sel
            n_sel += 1
            for p in range(col_ptr[j], col_ptr[j + 1]):
                cov[col_rows[p]] += 1
    n_unc = 0
    for i in range(n_rows):
        if cov[i] < need[i]:
            unc[n_unc] = i
            unc_pos[i] = n_unc
            n_unc += 1
    for j in range(n_cols):
        s = 0.0
        for p in range(col_ptr[j], col_ptr[j + 1]):
            i = col_rows[p]
            if (x[j] and cov[i] <= need[i]) or (not x[j] and cov[i] < need[i]):
                s += w[i]
        score[j] = s
    ist[N_UNC] = n_unc
    ist[N_SEL] = n_sel
    ist[ITER] = 0
    ist[ITER_BEST] = 0
    ist[TABU] = -1
    fst[COST] = cost
    fst[BEST] = cost if n_unc == 0 else np.inf


@njit(**NJIT_OPTIONS)
def _local_flip(j, add, col_ptr, col_rows, row_ptr, row_cols, need, x, cov, w, score, unc, unc_pos, sel, sel_pos,
                conf, ist):
    """Add column ``j`` to ``x`` (``add``) or drop it, keeping every derived array exact."""
    n_unc = ist[N_UNC]
    own = 0.0
    for p in range(col_ptr[j], col_ptr[j + 1]):
        i = col_rows[p]
        c = cov[i]
        b = need[i]
        wi = w[i]
        if add:
            if c < b:
                own += wi
                if c + 1 == b:
                    # row i reaches its demand: no other outside column helps it any more
                    for q in range(row_ptr[i], row_ptr[i + 1]):
                        k = row_cols[q]
                        if x[k] == 0 and k != j:
                            score[k] -= wi
                    pos = unc_pos[i]
                    last = unc[n_unc - 1]
                    unc[pos] = last
                    unc_pos[last] = pos
                    unc_pos[i] = -1
                    n_unc -= 1
            elif c == b:
                # row i gets a spare cover: none of its selected columns is critical for it
                for q in range(row_ptr[i], row_ptr[i + 1]):
                    k = row_cols[q]
                    if x[k] == 1 and k != j:
                        score[k] -= wi
            cov[i] = c + 1
        else:
            if c <= b:
                own += wi
                if c == b:
                    # row i falls short: every outside column would help it
                    for q in range(row_ptr[i], row_ptr[i + 1]):
                        k = row_cols[q]
                        if x[k] == 0 and k != j:
                            score[k] += wi
                    unc[n_unc] = i
                    unc_pos[i] = n_unc
                    n_unc += 1
            elif c == b + 1:
                # row i loses its spare cover: its other selected columns become critical
                for q in range(row_ptr[i], row_ptr[i + 1]):
                    k = row_cols[q]
                    if x[k] == 1 and k != j:
                        score[k] += wi
            cov[i] = c - 1
        for q in range(row_ptr[i], row_ptr[i + 1]):
            conf[row_cols[q]] = 1
    score[j] = own
    n_sel = ist[N_SEL]
    if add:
        x[j] = 1
        sel[n_sel] = j
        sel_pos[j] = n_sel
        ist[N_SEL] = n_sel + 1
    else:
        x[j] = 0
        conf[j] = 0
        pos = sel_pos[j]
        last = sel[n_sel - 1]
        sel[pos] = last
        sel_pos[last] = pos
        sel_pos[j] = -1
        ist[N_SEL] = n_sel - 1
    ist[N_UNC] = n_unc


@njit(**NJIT_OPTIONS)
def _local_drop_choice(costs, score, stamp, sel, ist, tabu):
    """The selected column (not ``tabu``) losing the least weight per unit cost, oldest
    first on ties; -1 when there is none."""
    bj = -1
    bs = np.inf
    for t in range(ist[N_SEL]):
        j = sel[t]
        if j == tabu:
            continue
        s = score[j] / costs[j] if costs[j] > 0 else np.inf
        if bj < 0 or s < bs - 1e-12 * abs(bs) or (s <= bs + 1e-12 * abs(bs) and stamp[j] < stamp[bj]):
            bs = s
            bj = j
    return bj


@njit(**NJIT_OPTIONS)
def _local_search_kernel(col_ptr, col_rows, row_ptr, row_cols, costs, need, x, best_x, cov, w, score, unc,
                         unc_pos, sel, sel_pos, stamp, conf, ist, fst, n_iter, target, tenure, patience, eps):
    """Run up to ``n_iter`` iterations of the row-weighting local search; returns
    RAN_OUT, STALLED (``patience`` iterations without a better cover), TARGET (a cover of
    cost <= ``target`` found), STUCK (no column can be added) or IMPROVED (a better cover
    was just recorded in ``best_x``: the caller notes when; calling again resumes).

    One iteration: while ``x`` is a cover, record it when it beats the best and drop the
    column losing least weight per cost; drop columns until cost(x) < best - ``eps``;
    pick a random row short of its demand and add the column with the most weight gained
    per cost among those not changed in the last ``tenure`` iterations and whose
    configuration changed since they were dropped (oldest first on ties; when none
    qualifies, the best of all columns of the row); add 1 to the weight of every row
    still short.
    """
    it = ist[ITER]
    stop = it + n_iter
    while it < stop:
        it += 1
        ist[ITER] = it
        if it - ist[ITER_BEST] > patience:
            return STALLED
        if ist[N_UNC] == 0 and fst[COST] < fst[BEST] - eps:
            fst[BEST] = fst[COST]
            best_x[:] = x
            ist[ITER_BEST] = it
            if fst[BEST] <= target:
                return TARGET
            return IMPROVED
        first = ist[N_UNC] == 0
        while first or fst[COST] >= fst[BEST] - eps:
            first = False
            bj = _local_drop_choice(costs, score, stamp, sel, ist, ist[TABU])
            if bj < 0:
                # only the column just added is left: it goes too (x must stay cheaper
                # than the best cover, else the search stalls on it)
                bj = _local_drop_choice(costs, score, stamp, sel, ist, -1)
            if bj < 0:
                break
            _local_flip(bj, False, col_ptr, col_rows, row_ptr, row_cols, need, x, cov, w, score, unc, unc_pos, sel,
                        sel_pos, conf, ist)
            fst[COST] -= costs[bj]
            stamp[bj] = it
        n_unc = ist[N_UNC]
        if n_unc == 0:
            continue
        r = unc[_xorshift(ist) % n_unc]
        bj = -1
        bs = -np.inf
        for strict in range(2):
            for q in range(row_ptr[r], row_ptr[r + 1]):
                k = row_cols[q]
                if x[k]:
                    continue
                if strict == 0 and (conf[k] == 0 or stamp[k] > it - tenure):
                    continue
                s = score[k] / costs[k] if costs[k] > 0 else np.inf
                if bj < 0 or s > bs + 1e-12 * abs(bs) or (s >= bs - 1e-12 * abs(bs) and stamp[k] < stamp[bj]):
                    bs = s
                    bj = k
            if bj >= 0:
                break
        if bj < 0:
            return STUCK
        _local_flip(bj, True, col_ptr, col_rows, row_ptr, row_cols, need, x, cov, w, score, unc, unc_pos, sel,
                    sel_pos, conf, ist)
        fst[COST] += costs[bj]
        stamp[bj] = it
        ist[TABU] = bj
        for t in range(ist[N_UNC]):
            i = unc[t]
            w[i] += 1.0
            # a short row: every outside column would help it, every selected one is critical
            for q in range(row_ptr[i], row_ptr[i + 1]):
                score[row_cols[q]] += 1.0
    return RAN_OUT
