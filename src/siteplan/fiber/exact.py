"""Exact solve of the directed multi-commodity flow formulation (Wong 1984).

On the bidirected graph rooted at terminal ``r``: binary ``x_a`` per arc and, for every
other terminal ``k``, a flow ``f^k`` of one unit from ``r`` to ``k`` that may only use
arcs with ``x_a = 1``::

    min  sum_a c_a x_a
    s.t. sum_{a in d-(v)} f^k_a - sum_{a in d+(v)} f^k_a = [v = k] - [v = r]   (all k, v)
         f^k_a <= x_a                                                          (all k, a)
         x_(u,v) + x_(v,u) <= 1                                                (all edges)
         x(d-(v)) = 1 for terminals v != r,  <= 1 for the others,  x(d-(r)) = 0
         x_(v,w) <= x(d-(v))                              (non-terminal v, arcs out of v)
         0 <= f <= 1,  x binary

Its LP relaxation equals that of the directed cut formulation. The model is built as
CSR arrays (:class:`siteplan.fiber._highs.MilpArrays`), vectorised per constraint family.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from siteplan.fiber._highs import MilpArrays, MilpResult, solve_milp
from siteplan.fiber.reduce import CompactGraph

__all__ = ["flow_model", "flow_size", "solve_flow", "tree_from_solution"]


def flow_size(g: CompactGraph) -> int:
    """Number of flow variables of the formulation (its dominant size)."""
    return max(int(g.terminals.shape[0]) - 1, 0) * 2 * g.m


def flow_model(g: CompactGraph, root: int, cost_cap: float | None = None) -> MilpArrays:
    """Build the flow formulation rooted at terminal ``root``. With ``cost_cap`` a row
    ``sum c x <= cost_cap`` is added (search only for trees at most that expensive)."""
    m, n = g.m, g.n
    na = 2 * m
    tail = np.empty(na, np.int64)
    head = np.empty(na, np.int64)
    tail[0::2], head[0::2] = g.eu, g.ev
    tail[1::2], head[1::2] = g.ev, g.eu
    commodities = g.terminals[g.terminals != root]
    K = int(commodities.shape[0])
    n_col = na + K * na
    c = np.zeros(n_col)
    c[0:na:2] = g.ew
    c[1:na:2] = g.ew
    col_lo = np.zeros(n_col)
    col_hi = np.ones(n_col)
    col_hi[:na][head == root] = 0.0
    integral = np.zeros(n_col, np.bool_)
    integral[:na] = True

    rows, cols, vals, lo, hi = [], [], [], [], []
    r0 = 0
    arc = np.arange(na)
    # flow conservation, one block of n rows per commodity
    for k_idx, k in enumerate(commodities):
        off = na + k_idx * na
        rows.append(r0 + head)
        cols.append(off + arc)
        vals.append(np.ones(na))
        rows.append(r0 + tail)
        cols.append(off + arc)
        vals.append(-np.ones(na))
        b = np.zeros(n)
        b[k] = 1.0
        b[root] = -1.0
        lo.append(b)
        hi.append(b)
        r0 += n
    # linking f^k_a - x_a <= 0
    if K:
        kk = np.repeat(np.arange(K), na)
        aa = np.tile(arc, K)
        link_rows = r0 + np.arange(K * na)
        rows += [link_rows, link_rows]
        cols += [na + kk * na + aa, aa]
        vals += [np.ones(K * na), -np.ones(K * na)]
        lo.append(np.full(K * na, -np.inf))
        hi.append(np.zeros(K * na))
        r0 += K * na
    # one direction per edge
    e_rows = r0 + np.arange(m)
    rows += [e_rows, e_rows]
    cols += [arc[0::2], arc[1::2]]
    vals += [np.ones(m), np.ones(m)]
    lo.append(np.full(m, -np.inf))
    hi.append(np.ones(m))
    r0 += m
    # in-degree
    rows.append(r0 + head)
    cols.append(arc)
    vals.append(np.ones(na))
    indeg_lo = np.where(g.is_term, 1.0, 0.0)
    indeg_hi = np.ones(n)
    indeg_lo[root] = 0.0
    indeg_hi[root] = 0.0
    lo.append(indeg_lo)
    hi.append(indeg_hi)
    r0 += n
    # x_(v,w) <= x(d-(v)) for non-terminal tails
    out_arcs = np.flatnonzero(~g.is_term[tail])
    if out_arcs.shape[0]:
        # for each such arc a = (v, w): x_a - sum_{b: head(b) = v} x_b <= 0
        order = np.argsort(head, kind="stable")
        starts = np.searchsorted(head[order], np.arange(n + 1))
        counts = np.diff(starts)
        v_of = tail[out_arcs]
        row_ids = r0 + np.arange(out_arcs.shape[0])
        rows.append(row_ids)
        cols.append(out_arcs)
        vals.append(np.ones(out_arcs.shape[0]))
        rep = counts[v_of]
        rr = np.repeat(row_ids, rep)
        # gather incoming arcs of every v_of
        idx = np.concatenate([order[starts[v]:starts[v + 1]] for v in v_of]) if rep.sum() else np.zeros(0, np.int64)
        rows.append(rr)
        cols.append(idx)
        vals.append(-np.ones(rr.shape[0]))
        lo.append(np.full(out_arcs.shape[0], -np.inf))
        hi.append(np.zeros(out_arcs.shape[0]))
        r0 += out_arcs.shape[0]
    if cost_cap is not None:
        rows.append(np.full(na, r0))
        cols.append(arc)
        vals.append(c[:na])
        lo.append(np.array([-np.inf]))
        hi.append(np.array([cost_cap]))
        r0 += 1
    A = sp.csr_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r0, n_col)
    )
    A.sum_duplicates()
    A.sort_indices()
    return MilpArrays(
        c=c, col_lo=col_lo, col_hi=col_hi, integral=integral,
        a_start=A.indptr.astype(np.int64), a_index=A.indices.astype(np.int64), a_value=A.data.astype(np.float64),
        row_lo=np.concatenate(lo), row_hi=np.concatenate(hi),
    )


def tree_from_solution(g: CompactGraph, x: np.ndarray) -> np.ndarray:
    """Edge mask of the arcs set to one."""
    xa = x[: 2 * g.m]
    return (xa[0::2] > 0.5) | (xa[1::2] > 0.5)


def solve_flow(
    g: CompactGraph, root: int, time_limit: float | None, integral_costs: bool, cost_cap: float | None = None
) -> MilpResult:
    """Solve the flow formulation with HiGHS (optimality proven up to < 1 when costs are integers)."""
    model = flow_model(g, root, cost_cap)
    return solve_milp(model, time_limit=time_limit, mip_abs_gap=0.999 if integral_costs else 1e-9)
