"""Row-weighting local search for (multi-)cover problems.

A cover found by the Lagrangian heuristics is improved by a local search in the style of
Gao, Yao, Weise & Li (2015, "An efficient local search heuristic with row weighting for
the unicost set covering problem", EJOR 246(3):750-761, "RWLS"), adapted to weighted
costs and demands b_i >= 1:

* the search keeps a column set x cheaper than the best cover found; it drops the
  selected column that loses the least row weight per unit cost until cost(x) < best,
  then adds, for a random row short of its demand, the column gaining the most row
  weight per unit cost;
* every row still short after a move has its weight raised by one, so rows that stay
  hard to cover pull the search towards them (the weights replace RWLS's unit scores);
* a column just added is not dropped at the next move, a column just dropped is not
  added for ``tenure`` iterations nor before a column sharing a row with it changed
  (configuration checking), ties go to the column unchanged for longest;
* the search runs in **episodes**: each starts from the best cover with fresh weights
  and the next tenure of :data:`TENURES`, and ends after :data:`EPISODE_PATIENCE`
  iterations without a better cover; the search ends after :data:`MAX_STALE_EPISODES`
  episodes in a row without one. The right tenure depends on the instance (measured
  on OR-Library NRG3: 15 reached best known in 3 of 3 runs, 25 in 0 of 3), so the
  episodes cycle through several.

Only columns marked alive may be added (the caller passes the columns that survive
reduced-cost fixing against the incumbent: every cover cheaper than the incumbent uses
only those); the search then runs on the matrix restricted to them, so every move walks
short row lists (on NRH1 1.7k of 4.9k columns survive: 63 is reached 3-7x sooner).
Reproducible for a seed unless the time limit cuts the search short.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from siteplan.optimize.setcover._local_kernels import (
    BEST,
    IMPROVED,
    ITER,
    RAN_OUT,
    RNG,
    STUCK,
    TARGET,
    _local_init_kernel,
    _local_search_kernel,
)
from siteplan.optimize.setcover.cft import core_problem

__all__ = ["LocalSearchOutcome", "row_weighting_search", "TENURES", "EPISODE_PATIENCE", "MAX_STALE_EPISODES"]

#: tabu tenures of the successive episodes (cycled)
TENURES = (5, 10, 15, 20)
#: an episode ends after this many iterations without a better cover
EPISODE_PATIENCE = 50_000
#: the search ends after this many episodes in a row without a better cover (measured on
#: OR-Library NRG3 from the Lagrangian cover, 6 seeds: 8 reached best known 166 in 2 of 4
#: runs, 30 in 6 of 6, the slowest after 13 episodes)
MAX_STALE_EPISODES = 30
#: iterations per kernel call are sized so that one call takes about this long [s]
SLICE_SECONDS = 0.05


@dataclass
class LocalSearchOutcome:
    """Best cover (0/1 over the problem's columns), its cost, and what the search did."""

    x: np.ndarray
    cost: float
    iterations: int
    episodes: int
    seconds: float
    reached_target: bool
    #: (seconds since the start, cost) of every better cover, in order
    trajectory: tuple = ()

    @property
    def improved(self) -> bool:
        """Whether the search found a cover cheaper than its start."""
        return bool(self.trajectory)


class _State:
    """The caller-owned search state of :mod:`._local_kernels`."""

    def __init__(self, n_rows: int, n_cols: int):
        self.x = np.zeros(n_cols, np.uint8)
        self.cov = np.zeros(n_rows, np.int64)
        self.w = np.ones(n_rows, np.float64)
        self.score = np.zeros(n_cols, np.float64)
        self.unc = np.zeros(n_rows, np.int64)
        self.unc_pos = np.zeros(n_rows, np.int64)
        self.sel = np.zeros(n_cols, np.int64)
        self.sel_pos = np.zeros(n_cols, np.int64)
        self.stamp = np.zeros(n_cols, np.int64)
        self.conf = np.ones(n_cols, np.uint8)
        self.ist = np.zeros(6, np.int64)
        self.fst = np.zeros(2, np.float64)

    def reset(self, red, x: np.ndarray, seed: int) -> None:
        self.x[:] = x
        _local_init_kernel(red.col_ptr, red.col_rows, red.costs, red.need, self.x, self.cov, self.w, self.score,
                           self.unc, self.unc_pos, self.sel, self.sel_pos, self.stamp, self.conf, self.ist, self.fst)
        # xorshift state: any non-zero 63-bit value, a function of the seed only
        self.ist[RNG] = (int(seed) * 0x9E3779B97F4A7C15 + 0x2545F4914F6CDD1D) % (2**63 - 1) + 1


def row_weighting_search(red, x_start: np.ndarray, *, alive: np.ndarray | None = None,
                         time_limit: float | None = None, seed: int = 0, target: float = -math.inf,
                         tenures=TENURES, patience: int = EPISODE_PATIENCE,
                         max_stale: int | None = MAX_STALE_EPISODES,
                         max_iterations: int | None = None) -> LocalSearchOutcome:
    """Improve the cover ``x_start`` of ``red`` (a reduced problem or anything with its
    arrays: ``col_ptr``, ``col_rows``, ``row_ptr``, ``row_cols``, ``costs``, ``need``).

    Stops at ``time_limit`` seconds, after ``max_stale`` episodes in a row without a
    better cover, after ``max_iterations`` iterations, or at a cover of cost <=
    ``target`` (e.g. the rounded-up lower bound: then it is optimal). ``x_start`` must be
    a cover; the result is the best cover met (``x_start`` itself when nothing better).
    """
    t0 = time.perf_counter()
    x_best = np.asarray(x_start).astype(np.uint8).copy()
    best = float(red.costs[x_best.astype(bool)].sum())
    cov = np.zeros(red.n_rows, np.int64)
    np.add.at(cov, red.col_rows[np.repeat(x_best.astype(bool), np.diff(red.col_ptr))], 1)
    if np.any(cov < red.need):
        raise ValueError("row_weighting_search needs a cover to start from")
    if best <= target or red.n_cols == 0:
        return LocalSearchOutcome(x_best, best, 0, 0, time.perf_counter() - t0, best <= target)
    if alive is not None:
        # the search runs on the columns it may use (the start's and the alive ones): the
        # row lists it walks at every move then hold only those
        cols = np.flatnonzero(np.asarray(alive).astype(bool) | x_best.astype(bool))
        out = row_weighting_search(core_problem(red, cols), x_best[cols], time_limit=time_limit, seed=seed,
                                   target=target, tenures=tenures, patience=patience, max_stale=max_stale,
                                   max_iterations=max_iterations)
        x = np.zeros(red.n_cols, np.uint8)
        x[cols] = out.x
        out.x = x
        out.seconds = time.perf_counter() - t0
        return out
    costs = red.costs
    integral = bool(np.all(costs == np.round(costs)))
    # a better cover must be cheaper by a whole unit with integral costs; otherwise by a
    # relative 1e-9 (float noise)
    eps = (1.0 - 1e-6) if integral else 1e-9 * max(1.0, abs(best))
    state = _State(red.n_rows, red.n_cols)
    slice_iters = 256
    iterations = episodes = stale = 0
    trajectory = []
    reached = False
    while True:
        if time_limit is not None and time.perf_counter() - t0 >= time_limit:
            break
        if max_stale is not None and stale >= max_stale:
            break
        if max_iterations is not None and iterations >= max_iterations:
            break
        state.reset(red, x_best, seed * 1_000_003 + episodes)
        tenure = int(tenures[episodes % len(tenures)])
        episodes += 1
        bx = x_best.copy()
        improved = False
        code = RAN_OUT
        while code in (RAN_OUT, IMPROVED):
            n_iter = slice_iters
            if max_iterations is not None:
                n_iter = min(n_iter, max_iterations - iterations)
                if n_iter <= 0:
                    break
            ts = time.perf_counter()
            before = int(state.ist[ITER])
            code = _local_search_kernel(red.col_ptr, red.col_rows, red.row_ptr, red.row_cols, costs, red.need,
                                        state.x, bx, state.cov, state.w, state.score, state.unc,
                                        state.unc_pos, state.sel, state.sel_pos, state.stamp, state.conf, state.ist,
                                        state.fst, n_iter, float(target), tenure, patience, eps)
            done = int(state.ist[ITER]) - before
            iterations += done
            dt = time.perf_counter() - ts
            if code == RAN_OUT and done and dt > 0:
                slice_iters = int(min(max(done * SLICE_SECONDS / dt, 64), 1 << 22))
            if code in (IMPROVED, TARGET):
                improved = True
                trajectory.append((round(time.perf_counter() - t0, 4), float(state.fst[BEST])))
            if time_limit is not None and time.perf_counter() - t0 >= time_limit:
                break
        if improved:
            best = float(state.fst[BEST])
            x_best = bx
            stale = 0
        else:
            stale += 1
        if code == TARGET:
            reached = True
            break
        if code == STUCK:
            break
    # the kernel's running cost sums are exact for integers; recompute for the record
    best = float(costs[x_best.astype(bool)].sum())
    return LocalSearchOutcome(x_best, best, iterations, episodes, time.perf_counter() - t0, reached or best <= target,
                              tuple(trajectory))
