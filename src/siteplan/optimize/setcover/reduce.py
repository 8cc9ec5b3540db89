"""Reductions of a set-cover / multi-cover problem, repeated to a fixed point.

* fixed columns: ``fixed_in`` columns are chosen (rows' demand lowered), ``fixed_out``
  columns removed; zero-cost columns are chosen (they never hurt);
* essential columns: a row with exactly as many live columns as its residual demand
  forces them all in (fewer: the problem is infeasible);
* dominated rows: if cols(k) <= cols(i) and demand_k >= demand_i, covering k covers i;
* dominated columns (rows of demand 1 only): c_j >= sum of the cheapest other column
  of each of its rows, or one cheaper-or-equal column covers all its rows;
* empty columns (no live row) are removed.

:class:`Reduction` keeps the maps to undo all of it: a solution of the reduced problem
plus the forced columns is a solution of the original of the same cost, and an optimal
one stays optimal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from siteplan.model.covering import SetCoverProblem, transpose_pattern
from siteplan.optimize.setcover._kernels import _col_dominance_kernel, _row_dominance_kernel

__all__ = ["Reduction", "reduce_problem"]


@dataclass(frozen=True, eq=False)
class Reduction:
    """A reduced problem and how to map its solutions back.

    Attributes
    ----------
    original : the problem reduced.
    forced : 0-based original columns chosen by the reductions (fixed_in, zero cost,
        essential).
    cols : original index of every reduced column.
    rows : original index of every reduced row.
    col_ptr, col_rows, row_ptr, row_cols : the reduced matrix (reduced indices).
    costs, need : reduced costs and residual demand.
    infeasible : a reason when a row can never be covered, else ``None``.
    stats : how many rows/columns each rule removed.
    """

    original: SetCoverProblem
    forced: np.ndarray
    cols: np.ndarray
    rows: np.ndarray
    col_ptr: np.ndarray
    col_rows: np.ndarray
    row_ptr: np.ndarray
    row_cols: np.ndarray
    costs: np.ndarray
    need: np.ndarray
    infeasible: str | None = None
    stats: dict = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return int(self.rows.size)

    @property
    def n_cols(self) -> int:
        return int(self.cols.size)

    @property
    def forced_cost(self) -> float:
        return float(self.original.costs[self.forced].sum())

    @property
    def integral_costs(self) -> bool:
        return bool(np.all(self.costs == np.round(self.costs)))

    def expand(self, x_reduced: np.ndarray) -> np.ndarray:
        """Sorted 0-based original columns of a reduced 0/1 solution plus the forced ones."""
        chosen = self.cols[np.flatnonzero(np.asarray(x_reduced) > 0.5)]
        return np.unique(np.concatenate([self.forced, chosen])).astype(np.int64)


def reduce_problem(problem: SetCoverProblem, *, max_rounds: int = 50,
                   dominance: bool = True) -> Reduction:
    """Apply the reductions of this module until nothing changes (or ``max_rounds``)."""
    m, n = problem.n_rows, problem.n_cols
    col_ptr, col_rows = problem.col_ptr, problem.col_rows
    row_ptr, row_cols = problem.row_view
    costs = problem.costs
    need = problem.demand.astype(np.int64).copy()
    col_alive = (~problem.fixed_out).astype(np.uint8)
    forced = np.zeros(n, dtype=bool)
    stats = {"fixed_in": int(problem.fixed_in.sum()), "fixed_out": int(problem.fixed_out.sum()),
             "zero_cost": 0, "essential": 0, "dominated_rows": 0, "dominated_cols": 0, "rounds": 0}
    row_alive = np.ones(m, dtype=np.uint8)
    col_of_entry = np.repeat(np.arange(n), np.diff(col_ptr))

    def force(cols: np.ndarray) -> None:
        cols = cols[col_alive[cols] == 1]
        if cols.size == 0:
            return
        forced[cols] = True
        col_alive[cols] = 0
        sel = np.zeros(n, dtype=np.int64)
        sel[cols] = 1
        hit = np.bincount(col_rows, weights=sel[col_of_entry], minlength=m).astype(np.int64)
        np.subtract(need, hit, out=need)

    def refresh_rows() -> None:
        done = (need <= 0) & (row_alive == 1)
        row_alive[done] = 0

    force(np.flatnonzero(problem.fixed_in))
    refresh_rows()
    # columns of zero cost covering a live row
    live_count = np.bincount(col_of_entry, weights=row_alive[col_rows], minlength=n)
    zero = np.flatnonzero((costs == 0) & (col_alive == 1) & (live_count > 0))
    stats["zero_cost"] = int(zero.size)
    force(zero)
    refresh_rows()
    infeasible = None
    for rnd in range(max_rounds):
        stats["rounds"] = rnd + 1
        changed = False
        # essential columns (repeat until stable: each forcing may create new ones)
        while True:
            avail = np.bincount(np.repeat(np.arange(m), np.diff(row_ptr)),
                                weights=col_alive[row_cols], minlength=m).astype(np.int64)
            short = (row_alive == 1) & (avail < need)
            if np.any(short):
                i = int(np.flatnonzero(short)[0])
                infeasible = (f"row {i + 1} needs {int(problem.demand[i])} covering column(s) "
                              f"but only {int(avail[i] + problem.demand[i] - need[i])} are allowed")
                break
            ess_rows = np.flatnonzero((row_alive == 1) & (avail == need))
            if ess_rows.size == 0:
                break
            ent = np.concatenate([row_cols[row_ptr[i]:row_ptr[i + 1]] for i in ess_rows])
            ent = np.unique(ent[col_alive[ent] == 1])
            stats["essential"] += int(ent.size)
            force(ent)
            refresh_rows()
            changed = True
        if infeasible is not None:
            break
        # empty columns
        live_count = np.bincount(col_of_entry, weights=row_alive[col_rows], minlength=n)
        empty = (col_alive == 1) & (live_count == 0)
        if np.any(empty):
            col_alive[empty] = 0
        if not dominance:
            if not changed:
                break
            continue
        k = _row_dominance_kernel(row_ptr, row_cols, col_ptr, col_rows, need, row_alive, col_alive)
        stats["dominated_rows"] += int(k)
        k2 = _col_dominance_kernel(col_ptr, col_rows, row_ptr, row_cols, costs, need, row_alive,
                                   col_alive, True)
        stats["dominated_cols"] += int(k2)
        if not (changed or k or k2):
            break
    rows = np.flatnonzero(row_alive == 1)
    live_count = np.bincount(col_of_entry, weights=row_alive[col_rows], minlength=n)
    cols = np.flatnonzero((col_alive == 1) & (live_count > 0))
    if infeasible is not None:
        rows = rows[:0]
        cols = cols[:0]
    # reduced matrix
    row_new = np.full(m, -1, dtype=np.int64)
    row_new[rows] = np.arange(rows.size)
    starts, stops = col_ptr[cols], col_ptr[cols + 1]
    if cols.size:
        ent = np.concatenate([col_rows[a:b] for a, b in zip(starts, stops)])
        lens = stops - starts
        ent_new = row_new[ent]
        keep = ent_new >= 0
        owner = np.repeat(np.arange(cols.size), lens)
        r_rows = ent_new[keep]
        r_ptr = np.zeros(cols.size + 1, dtype=np.int64)
        np.cumsum(np.bincount(owner[keep], minlength=cols.size), out=r_ptr[1:])
    else:
        r_rows = np.zeros(0, np.int64)
        r_ptr = np.zeros(1, np.int64)
    rp, rc = transpose_pattern(rows.size, r_ptr, r_rows)
    return Reduction(
        original=problem,
        forced=np.flatnonzero(forced).astype(np.int64),
        cols=cols.astype(np.int64),
        rows=rows.astype(np.int64),
        col_ptr=r_ptr, col_rows=np.ascontiguousarray(r_rows, dtype=np.int64),
        row_ptr=rp, row_cols=rc,
        costs=np.ascontiguousarray(costs[cols]),
        need=np.ascontiguousarray(need[rows]),
        infeasible=infeasible, stats=stats,
    )
