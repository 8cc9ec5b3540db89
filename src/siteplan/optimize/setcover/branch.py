"""Exact Lagrangian branch-and-bound for set cover with unit demands (A x >= 1).

The exact phase of :func:`~siteplan.optimize.setcover.solve.solve_set_cover` on the
model left after reduced-cost fixing. In the spirit of Beasley (1987, "An algorithm for
set covering problem", European Journal of Operational Research 31: a tree search on
Lagrangian bounds) and Balas & Carrera (1996, "A dynamic subgradient-based
branch-and-bound procedure for set covering", Operations Research 44), with the
reduced-cost fixing of Beasley (1990, Naval Research Logistics 37) at every node:
depth-first search; at every node

1. rows left with a single free column force it in (an uncovered row with none: the
   node is infeasible);
2. a subgradient bound L(u) warm-started from the parent's multipliers; the node is
   pruned when L(u) > ub - slack (slack just under 1 with integral costs: only covers
   cheaper by a whole unit are looked for);
3. a cover built from the node's reduced costs (may improve the incumbent; below depth 8
   and at every 16th node);
4. reduced-cost fixing of the free columns against ub - slack;
5. a binary branch on the free column of least reduced cost in the uncovered row with
   the largest multiplier, x_j = 1 first.

The incumbent is proven optimal only when the whole tree has been explored; under a
time or node limit the search stops and says so (``exhausted`` False) and its bound is
the root's.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass

import numpy as np
from numba.core.errors import NumbaWarning

from siteplan.exceptions import ModelError
from siteplan.optimize.setcover._branch_kernels import _branch_and_bound_kernel

__all__ = ["BranchOutcome", "branch_and_bound", "BB_ROOT_ITER", "BB_NODE_ITER"]

#: subgradient iterations at the root and at every other node
BB_ROOT_ITER = 300
BB_NODE_ITER = 20
#: a node's step factor halves after this many iterations without a better bound
BB_NODE_PATIENCE = 3
#: step factor lambda a node starts with (its multipliers come from the parent)
BB_NODE_LAMBDA = 3.0
#: bound / fixing rounds per node (a round follows only when the last one fixed columns)
BB_NODE_ROUNDS = 1
#: below depth 8, and at every BB_PRIMAL_PERIOD-th node, a cover is built from the node's reduced costs
BB_PRIMAL_PERIOD = 16


@dataclass(frozen=True)
class BranchOutcome:
    """Result of :func:`branch_and_bound` over the reduced problem's columns.

    x : best cover found (0/1 over the reduced columns), never worse than the start.
    cost : its cost (reduced problem, forced columns excluded).
    exhausted : the tree was explored completely: no cover cheaper than ``cost - slack``
        exists, so ``x`` is optimal.
    root_bound : Lagrangian bound of the root node (after fixing) [cost units].
    nodes : nodes evaluated.
    seconds : wall time [s].
    """

    x: np.ndarray
    cost: float
    exhausted: bool
    root_bound: float
    nodes: int
    seconds: float


def _compact(red, keep: np.ndarray):
    """CSC and CSR of the reduced problem restricted to the columns ``keep``."""
    idx = np.flatnonzero(keep)
    lens = np.diff(red.col_ptr)[idx]
    col_ptr = np.zeros(idx.size + 1, np.int64)
    np.cumsum(lens, out=col_ptr[1:])
    starts = red.col_ptr[idx]
    pos = np.repeat(starts - col_ptr[:-1], lens) + np.arange(col_ptr[-1])
    col_rows = red.col_rows[pos].astype(np.int64)
    cols_of_entry = np.repeat(np.arange(idx.size, dtype=np.int64), lens)
    order = np.lexsort((cols_of_entry, col_rows))
    row_cols = cols_of_entry[order]
    row_ptr = np.zeros(red.n_rows + 1, np.int64)
    np.cumsum(np.bincount(col_rows, minlength=red.n_rows), out=row_ptr[1:])
    return idx, col_ptr, col_rows, row_ptr, row_cols


def branch_and_bound(red, u: np.ndarray, incumbent: np.ndarray, *, keep: np.ndarray | None = None,
                     fix_one: np.ndarray | None = None, time_limit: float | None = None,
                     max_nodes: int = 10**9) -> BranchOutcome:
    """Prove (or improve) ``incumbent`` on the reduced problem ``red`` (all demands 1).

    Parameters
    ----------
    red : :class:`~siteplan.optimize.setcover.reduce.Reduction` with every ``need`` = 1.
    u : multipliers to start the root from (e.g. the Lagrangian phase's best).
    incumbent : 0/1 cover of ``red`` (its cost is the starting upper bound).
    keep, fix_one : columns left by reduced-cost fixing against ``incumbent`` and those
        forced in; they must keep every cover cheaper than the incumbent (as
        :func:`~siteplan.optimize.setcover.lagrangian.reduced_cost_fixing` guarantees).
    time_limit : wall-clock budget [s]; ``None`` for none.
    max_nodes : node budget.
    """
    t0 = time.perf_counter()
    if np.any(red.need != 1):
        raise ModelError("branch_and_bound handles demands of 1 only (a multi-cover goes to the MILP)")
    x_in = np.asarray(incumbent).astype(bool)
    if x_in.shape != (red.n_cols,):
        raise ModelError(f"incumbent must have {red.n_cols} entries, got shape {x_in.shape}")
    keep = np.ones(red.n_cols, bool) if keep is None else np.asarray(keep, bool)
    fix_one = np.zeros(red.n_cols, bool) if fix_one is None else np.asarray(fix_one, bool)
    if np.any(x_in & ~keep):
        raise ModelError("the incumbent uses a column that is not kept")
    ub = float(red.costs[x_in].sum())
    slack = (1.0 - 1e-6) if red.integral_costs else 1e-7 * max(1.0, abs(ub))
    idx, col_ptr, col_rows, row_ptr, row_cols = _compact(red, keep)
    state0 = np.where(fix_one[idx], 1, 0).astype(np.int8)
    x_best = x_in[idx].astype(np.uint8)
    costs = np.ascontiguousarray(red.costs[idx], dtype=np.float64)
    u0 = np.maximum(np.ascontiguousarray(u, dtype=np.float64), 0.0)
    deadline = math.inf if time_limit is None else t0 + max(float(time_limit), 0.0)
    out = np.zeros(4)
    with warnings.catch_warnings():
        # numba notes, when it compiles, that the clock read in object mode takes the GIL
        warnings.simplefilter("ignore", NumbaWarning)
        _branch_and_bound_kernel(col_ptr, col_rows, row_ptr, row_cols, costs, state0, u0, x_best, ub, slack,
                                 BB_ROOT_ITER, BB_NODE_ITER, BB_NODE_PATIENCE, BB_NODE_LAMBDA, BB_NODE_ROUNDS,
                                 BB_PRIMAL_PERIOD, int(max_nodes), float(deadline), out)
    x = np.zeros(red.n_cols, np.uint8)
    x[idx[x_best.astype(bool)]] = 1
    cost = float(red.costs[x.astype(bool)].sum())
    exhausted = bool(out[1] > 0.5)
    root = float(out[3])
    return BranchOutcome(x=x, cost=cost, exhausted=exhausted, root_bound=root, nodes=int(out[2]),
                         seconds=time.perf_counter() - t0)
