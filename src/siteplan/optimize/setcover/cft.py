"""Core-based three-phase heuristic for set cover (Caprara, Fischetti & Toth 1999).

Caprara, A., Fischetti, M. & Toth, P. (1999). "A heuristic method for the set covering
problem", Operations Research 47(5):730-743 ("CFT"). What this module does, on a
reduced problem (:class:`~siteplan.optimize.setcover.reduce.Reduction`):

1. **bound**: subgradient optimisation on the whole reduced problem (valid lower bound,
   multipliers u*);
2. **core pricing**: the core is, for every row, the :data:`CORE_PER_ROW` columns of
   least Lagrangian reduced cost under u*, plus every column of negative reduced cost
   (up to a cap) and the incumbent's columns; it is priced again against all columns
   before every refinement round (the whole problem's L(u) there is a valid bound too);
3. **three phases on the core**: on the residual problem left by the fixed columns,
   subgradient steps with CFT's step control, a Lagrangian greedy (score
   sigma_j of CFT) from *every* multiplier vector met, redundant columns dropped and
   1-for-1 swaps applied; then the first columns the greedy picks under the best
   residual multipliers are fixed (a share :data:`FIX_SHARE` of its picks, at least one)
   and the residual problem is solved again, until it is empty or its bound shows no
   better cover can follow;
4. **refinement**: the incumbent's columns are ranked by CFT's delta_j (reduced cost
   plus the multipliers of the rows they over-cover, shared among their covers); the
   best-ranked are fixed until they cover a fraction pi of the rows, and the three
   phases run again; pi starts at :data:`PI_START` and grows by :data:`PI_GROWTH` each
   round (back to the start after a better cover or past :data:`PI_MAX`).

Beyond CFT: every cover offered is improved by 1-for-1 swaps and 2-for-1 exchanges
(:func:`two_for_one`); rounds after the first start from the multipliers times a seeded
factor in [1 - :data:`U_NOISE`, 1 + :data:`U_NOISE`] and perturb the greedy's scores by
a seeded factor in [1, 1 + :data:`NOISE`] (diversity); the :data:`POOL_SIZE` cheapest
distinct covers are returned for a merge step (``solve_set_cover``'s core MILP adds
their columns to its core).

Reproducible for a ``seed`` unless the time limit cuts the search short. The lower
bound reported is the best L(u) of the whole reduced problem, never a core's.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from siteplan.model.covering import transpose_pattern
from siteplan.optimize.setcover._kernels import (
    _cft_heuristic_kernel,
    _greedy_picks_kernel,
    _subgradient_kernel,
    _two_for_one_kernel,
)
from siteplan.optimize.setcover.lagrangian import (
    LagrangianOutcome,
    greedy_cover,
    improve_cover,
    initial_multipliers,
    lagrangian_bound,
)

__all__ = ["CoreProblem", "core_problem", "price_core", "cft_search", "cft_probe_kernels", "CORE_PER_ROW", "FIX_SHARE",
           "PI_START", "PI_GROWTH", "PI_MAX", "HEURISTIC_ITERATIONS", "NOISE", "POOL_SIZE", "two_for_one"]

#: core: least-reduced-cost columns kept per row (CFT use 5; 10 measured better on NRH1)
CORE_PER_ROW = 10
#: columns of negative reduced cost added to the core: at most this many per row
CORE_NEGATIVE_CAP = 10
#: subgradient + greedy iterations per residual problem of the three-phase scheme
HEURISTIC_ITERATIONS = 100
#: share of the greedy's picks fixed per fixing step (at least one column)
FIX_SHARE = 0.05
#: refinement: share of the rows the fixed incumbent columns cover, its growth and cap
PI_START = 0.3
PI_GROWTH = 1.1
PI_MAX = 0.9
#: rounds after the first start from the multipliers times a seeded factor in
#: [1 - U_NOISE, 1 + U_NOISE] (more diverse covers)
U_NOISE = 0.1
#: apply 2-for-1 exchanges to every cover offered
TWO_FOR_ONE = True
#: distinct covers kept (cheapest) for the caller's merge step
POOL_SIZE = 30
#: greedy score perturbation of the rounds after the first (multiplicative, uniform)
NOISE = 0.02


@dataclass(frozen=True, eq=False)
class CoreProblem:
    """A column subset ``cols`` (indices of the reduced problem) with its own matrix.

    Has the attributes of a :class:`~siteplan.optimize.setcover.reduce.Reduction` that the
    Lagrangian routines read, so they run on it unchanged.
    """

    cols: np.ndarray
    col_ptr: np.ndarray
    col_rows: np.ndarray
    row_ptr: np.ndarray
    row_cols: np.ndarray
    costs: np.ndarray
    need: np.ndarray

    @property
    def n_rows(self) -> int:
        return int(self.need.size)

    @property
    def n_cols(self) -> int:
        return int(self.cols.size)

    @property
    def integral_costs(self) -> bool:
        return bool(np.all(self.costs == np.round(self.costs)))


def core_problem(red, cols: np.ndarray) -> CoreProblem:
    """The problem ``red`` restricted to columns ``cols`` (sorted reduced indices)."""
    cols = np.asarray(cols, dtype=np.int64)
    lens = np.diff(red.col_ptr)[cols]
    ptr = np.zeros(cols.size + 1, np.int64)
    np.cumsum(lens, out=ptr[1:])
    # positions of the chosen columns' entries in red.col_rows
    starts = np.repeat(red.col_ptr[:-1][cols] - ptr[:-1], lens)
    rows = red.col_rows[np.arange(ptr[-1], dtype=np.int64) + starts]
    rp, rc = transpose_pattern(red.n_rows, ptr, rows)
    return CoreProblem(cols, ptr, np.ascontiguousarray(rows, dtype=np.int64), rp, rc,
                       np.ascontiguousarray(red.costs[cols]), red.need.copy())


def price_core(red, rc: np.ndarray, per_row: int, x: np.ndarray | None = None) -> np.ndarray:
    """Core columns under reduced costs ``rc``: the ``per_row`` least of every row, the
    negative ones (at most :data:`CORE_NEGATIVE_CAP` per row, least first) and the columns
    of cover ``x``. Sorted reduced indices."""
    core = np.zeros(red.n_cols, bool) if x is None else x.astype(bool).copy()
    lens = np.diff(red.row_ptr)
    rows_of = np.repeat(np.arange(red.n_rows), lens)
    vals = rc[red.row_cols]
    order = np.lexsort((red.row_cols, vals, rows_of))
    rank = np.arange(order.size) - np.repeat(red.row_ptr[:-1], lens)
    cols_sorted = red.row_cols[order]
    core[cols_sorted[rank < per_row]] = True
    core[cols_sorted[(rank < CORE_NEGATIVE_CAP) & (vals[order] < 0)]] = True
    return np.flatnonzero(core).astype(np.int64)


def two_for_one(red, x: np.ndarray, max_pass: int = 5) -> np.ndarray:
    """Local improvement of a cover: 2-for-1 exchanges (two chosen columns out, one
    cheaper unchosen column in, coverage kept), redundant columns dropped, then
    :func:`~siteplan.optimize.setcover.lagrangian.improve_cover` (1-for-1 swaps) when
    something changed."""
    y = np.ascontiguousarray(x, dtype=np.uint8).copy()
    k = _two_for_one_kernel(red.col_ptr, red.col_rows, red.row_ptr, red.row_cols, red.costs, red.need, y, max_pass)
    return improve_cover(red, y) if k > 0 else y


class _State:
    def __init__(self, red, seed: int, deadline: float, incumbent):
        self.red = red
        self.rng = np.random.default_rng(seed)
        self.deadline = deadline
        self.integral = red.integral_costs
        self.t0 = time.perf_counter()
        self.best_x: np.ndarray | None = None
        self.best_cost = math.inf
        self.best_lb = -math.inf
        self.best_u = initial_multipliers(red)
        self.iterations = 0
        self.trajectory: list[tuple[float, float]] = []
        self.pool: dict[bytes, tuple[float, np.ndarray]] = {}
        if incumbent is not None:
            self.offer(incumbent)

    def out_of_time(self) -> bool:
        return time.perf_counter() >= self.deadline

    def round_lb(self, lb: float) -> float:
        return math.ceil(lb - 1e-6) if self.integral else lb

    def closed(self) -> bool:
        return self.best_x is not None and \
            self.best_cost <= self.round_lb(self.best_lb) + 1e-9 * max(1.0, abs(self.best_cost))

    def offer(self, x: np.ndarray | None) -> None:
        if x is None:
            return
        x = improve_cover(self.red, x)
        if TWO_FOR_ONE:
            x = two_for_one(self.red, x)
        c = float(self.red.costs[x.astype(bool)].sum())
        self._pool_add(c, x)
        if c < self.best_cost - 1e-9:
            self.best_cost, self.best_x = c, x
            self.trajectory.append((round(time.perf_counter() - self.t0, 4), c))

    def _pool_add(self, c: float, x: np.ndarray) -> None:
        key = np.packbits(x).tobytes()
        if key in self.pool:
            return
        if len(self.pool) >= POOL_SIZE:
            worst = max(self.pool, key=lambda k: self.pool[k][0])
            if self.pool[worst][0] <= c:
                return
            del self.pool[worst]
        self.pool[key] = (c, x)

    def pool_covers(self) -> tuple:
        """The pool's covers, cheapest first."""
        return tuple(x for _, x in sorted(self.pool.values(), key=lambda t: t[0]))

    def bound_at(self, u: np.ndarray) -> np.ndarray:
        """Whole-problem L(u) (kept when better) and reduced costs."""
        lb, rc = lagrangian_bound(self.red, u)
        if lb > self.best_lb:
            self.best_lb, self.best_u = lb, np.maximum(u, 0.0)
        return rc


def _full_subgradient(S: _State) -> None:
    red = S.red
    ones_r = np.ones(red.n_rows, np.uint8)
    ones_c = np.ones(red.n_cols, np.uint8)
    u = S.best_u.copy()
    lam = 1.0
    stall = 0
    for _ in range(40):
        target = 1.05 * S.best_cost if math.isfinite(S.best_cost) else 2 * abs(S.best_lb) + 1
        bu = u.copy()
        lb, lam, it = _subgradient_kernel(red.col_ptr, red.col_rows, red.costs, red.need, ones_r, ones_c, u,
                                          target, lam, 100, bu, S.best_lb, 1e-9, 50, 0.5)
        S.iterations += int(it)
        if lb > S.best_lb + 1e-9 * max(1.0, abs(lb)):
            S.best_lb, S.best_u = lb, bu
            stall = 0
        else:
            stall += 1
        S.offer(greedy_cover(red, u))
        if S.closed() or S.out_of_time() or lam < 1e-4 or stall >= 4:
            break


def _delta(red, u: np.ndarray, x: np.ndarray, rc: np.ndarray) -> np.ndarray:
    """CFT's delta_j for the chosen columns of ``x``: max(rc_j, 0) plus, for every row it
    covers, u_i (k_i - 1) / k_i with k_i the number of chosen columns covering row i."""
    chosen = np.flatnonzero(x)
    lens = np.diff(red.col_ptr)
    k = np.bincount(red.col_rows, weights=np.repeat(x.astype(np.float64), lens), minlength=red.n_rows)
    share = np.where(k > 0, u * (k - 1) / np.maximum(k, 1), 0.0)
    per_col = np.add.reduceat(share[red.col_rows], red.col_ptr[:-1]) if red.col_rows.size else np.zeros(red.n_cols)
    per_col = np.where(lens > 0, per_col, 0.0)
    return chosen, np.maximum(rc[chosen], 0.0) + per_col[chosen]


def _three_phase(S: _State, core: CoreProblem, fixed0: np.ndarray, u0: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Three phases on ``core`` from the fixed columns ``fixed0`` (core 0/1); returns the
    best multipliers of the first residual problem."""
    red = S.red
    m, n = core.n_rows, core.n_cols
    fixed = fixed0.astype(np.uint8).copy()
    u = u0.copy()
    lam = 0.1
    best_x = np.zeros(n, np.uint8)
    picks = np.empty(n, np.int64)
    lens = np.diff(core.col_ptr)
    first_u = None
    while not S.out_of_time():
        cov = np.bincount(core.col_rows, weights=np.repeat(fixed, lens), minlength=m).astype(np.int64)
        need_res = np.maximum(core.need - cov, 0)
        row_alive = (need_res > 0).astype(np.uint8)
        if not row_alive.any():
            x = np.zeros(red.n_cols, np.uint8)
            x[core.cols[fixed.astype(bool)]] = 1
            S.offer(x)
            break
        col_alive = (1 - fixed).astype(np.uint8)
        fixed_cost = float(core.costs[fixed.astype(bool)].sum())
        target = S.best_cost - fixed_cost if math.isfinite(S.best_cost) else 2.0 * float(core.costs.sum())
        bu = u.copy()
        lb_res, cost, lam = _cft_heuristic_kernel(core.col_ptr, core.col_rows, core.row_ptr, core.row_cols,
                                                  core.costs, core.need, need_res, row_alive, col_alive, fixed, u,
                                                  bu, max(target, 1e-6), lam, HEURISTIC_ITERATIONS, 1, noise,
                                                  best_x, S.best_cost)
        S.iterations += HEURISTIC_ITERATIONS
        if first_u is None:
            first_u = bu.copy()
        lam = min(max(lam, 1e-3), 1.0)
        if cost < S.best_cost - 1e-9:
            x = np.zeros(red.n_cols, np.uint8)
            x[core.cols[best_x.astype(bool)]] = 1
            S.offer(x)
        if S.round_lb(fixed_cost + lb_res) >= S.best_cost - 1e-9:
            break
        # fix the first columns the greedy picks under the best residual multipliers
        x = fixed.copy()
        k = _greedy_picks_kernel(core.col_ptr, core.col_rows, core.row_ptr, core.row_cols, core.costs, core.need,
                                 np.ones(m, np.uint8), col_alive, bu, noise, x, picks)
        if k <= 0:
            break
        take = max(1, int(math.ceil(FIX_SHARE * k)))
        fixed[picks[:take]] = 1
        u = bu
    return u0 if first_u is None else first_u


def cft_search(red, *, time_limit: float | None = None, seed: int = 0, max_rounds: int | None = None,
               incumbent: np.ndarray | None = None, per_row: int = CORE_PER_ROW,
               patience: int | None = None) -> LagrangianOutcome:
    """Run the core-based three-phase heuristic on ``red`` (see the module docstring).

    Parameters
    ----------
    red : the reduced problem.
    time_limit : wall-clock budget [s] (``None``: stop after ``max_rounds``).
    seed : seed of the greedy's perturbation in rounds after the first.
    max_rounds : refinement rounds (default 60, 20 on models over 2M non-zeros).
    incumbent : a known cover of ``red`` to start from.
    per_row : least-reduced-cost columns per row in the core.
    patience : stop after this many rounds in a row without a better cover (``None``:
        no such stop).
    """
    t0 = time.perf_counter()
    deadline = t0 + (time_limit if time_limit is not None else 1e18)
    m, n = red.n_rows, red.n_cols
    if m == 0:
        return LagrangianOutcome(np.zeros(n, np.uint8), 0.0, 0.0, np.zeros(0), 0, 0, 0.0, True)
    if max_rounds is None:
        max_rounds = 60 if red.col_rows.size < 2_000_000 else 20
    S = _State(red, seed, deadline, incumbent)
    S.offer(greedy_cover(red, S.best_u))
    _full_subgradient(S)
    rounds = 0
    pi = PI_START
    u_core = S.best_u.copy()
    no_gain = 0
    while rounds < max_rounds and not (S.closed() or S.out_of_time()):
        if patience is not None and no_gain >= patience:
            break
        rounds += 1
        before = S.best_cost
        # pricing: reduced costs of every column under the multipliers met on the last core
        rc = S.bound_at(u_core)
        cols = price_core(red, rc, per_row, S.best_x)
        core = core_problem(red, cols)
        fixed = np.zeros(core.n_cols, np.uint8)
        if rounds > 1 and S.best_x is not None:
            _, rc_best = lagrangian_bound(red, S.best_u)
            chosen, delta = _delta(red, S.best_u, S.best_x, rc_best)
            order = chosen[np.argsort(delta, kind="stable")]
            covered = np.zeros(m, bool)
            pos = np.searchsorted(cols, order)
            for j, p in zip(order, pos):
                if covered.sum() >= pi * m:
                    break
                fixed[p] = 1
                covered[red.col_rows[red.col_ptr[j]:red.col_ptr[j + 1]]] = True
        level = 0.0 if rounds == 1 else NOISE
        noise = 1.0 + level * S.rng.random(core.n_cols) if level > 0 else np.ones(core.n_cols)
        # core multipliers in core row space = reduced row space (the core keeps every row)
        u_start = u_core
        if rounds > 1 and U_NOISE > 0:
            u_start = u_core * (1.0 + U_NOISE * (2.0 * S.rng.random(m) - 1.0))
        u_first = _three_phase(S, core, fixed, u_start, noise)
        # price the next core with the first residual problem's multipliers when nothing was
        # fixed (they belong to the whole problem's dual), else with the best known ones
        u_core = u_first if not fixed.any() else S.best_u.copy()
        if S.best_cost < before - 1e-9:
            pi = PI_START
            no_gain = 0
        else:
            no_gain += 1
            pi *= PI_GROWTH
            if pi > PI_MAX:
                pi = PI_START
    return LagrangianOutcome(S.best_x, S.best_cost, S.best_lb, S.best_u, S.iterations, rounds,
                             time.perf_counter() - t0, S.closed(), tuple(S.trajectory), S.pool_covers())


def cft_probe_kernels(red) -> None:
    """Call this module's kernels once on ``red`` (compiles them, or loads them from
    numba's disk cache); the answers are discarded."""
    m, n = red.n_rows, red.n_cols
    u = initial_multipliers(red)
    ones_r, ones_c = np.ones(m, np.uint8), np.ones(n, np.uint8)
    x = np.zeros(n, np.uint8)
    _greedy_picks_kernel(red.col_ptr, red.col_rows, red.row_ptr, red.row_cols, red.costs, red.need, ones_r, ones_c,
                         u, np.ones(n), x, np.empty(n, np.int64))
    two_for_one(red, np.ones(n, np.uint8))
    _cft_heuristic_kernel(red.col_ptr, red.col_rows, red.row_ptr, red.row_cols, red.costs, red.need, red.need.copy(),
                          ones_r, ones_c, np.zeros(n, np.uint8), u.copy(), u.copy(), 1.0, 0.1, 2, 1, np.ones(n),
                          np.zeros(n, np.uint8), math.inf)
