"""Lagrangian lower bounds and the Lagrangian-guided primal heuristic.

Works on a reduced problem (:class:`~siteplan.optimize.setcover.reduce.Reduction`).
The scheme follows Beasley (1990, "A Lagrangian heuristic for set-covering problems",
Naval Research Logistics 37) and Caprara, Fischetti & Toth (1999, "A heuristic method
for the set covering problem", Operations Research 47):

1. subgradient optimisation of the Lagrangian dual of the covering rows gives the lower
   bound and multipliers u;
2. a greedy on Lagrangian scores builds covers from many multiplier vectors met along
   the way (during the bound phase, then from fixed-step moves around the best
   multipliers); redundant columns are dropped and 1-for-1 swaps applied (local
   improvement);
3. column fixing ("three-phase"): the columns of the residual cover with the most
   negative reduced costs are fixed to 1, the residual problem is re-optimised, and so
   on until nothing is left; then a refinement fixes a growing fraction of the best
   cover's columns and starts again (randomised with the seed).

The bound is valid whatever happens: it is the best L(u) met on the full reduced
problem.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from siteplan.optimize.setcover._kernels import (
    _greedy_kernel,
    _improve_kernel,
    _lagrangian_value_kernel,
    _subgradient_kernel,
)

__all__ = ["LagrangianOutcome", "lagrangian_search", "initial_multipliers", "lagrangian_bound",
           "greedy_cover", "improve_cover", "reduced_cost_fixing"]


@dataclass
class LagrangianOutcome:
    """Best cover (reduced 0/1 vector), its cost, the best bound and multipliers."""

    x: np.ndarray | None
    cost: float
    lower_bound: float
    u: np.ndarray
    iterations: int
    rounds: int
    seconds: float
    proven: bool
    trajectory: tuple = ()
    #: distinct good covers met (reduced 0/1 vectors, cheapest first), for a merge step
    pool: tuple = ()


def _ones(k: int) -> np.ndarray:
    return np.ones(k, dtype=np.uint8)


def initial_multipliers(red) -> np.ndarray:
    """u_i = min over columns j covering i of c_j / |rows(j)| (Beasley 1990)."""
    sizes = np.diff(red.col_ptr).astype(np.float64)
    ratio = np.where(sizes > 0, red.costs / np.maximum(sizes, 1), np.inf)
    per_entry = np.repeat(ratio, np.diff(red.col_ptr))
    u = np.full(red.n_rows, np.inf)
    np.minimum.at(u, red.col_rows, per_entry)
    u[~np.isfinite(u)] = 0.0
    return u


def lagrangian_bound(red, u: np.ndarray) -> tuple[float, np.ndarray]:
    """(L(u), reduced costs) on the whole reduced problem; ``u`` is clipped at 0."""
    u = np.maximum(np.asarray(u, dtype=np.float64), 0.0)
    rc = np.empty(red.n_cols)
    x = np.empty(red.n_cols, np.uint8)
    val = _lagrangian_value_kernel(red.col_ptr, red.col_rows, red.costs, red.need, _ones(red.n_rows),
                                   _ones(red.n_cols), u, rc, x)
    return float(val), rc


def reduced_cost_fixing(red, u: np.ndarray, incumbent: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Reduced-cost fixing against a known cover (Beasley 1990, section 3).

    With L(u) = sum_i u_i b_i + sum_j min(0, rc_j) and ub the incumbent's cost, a column
    j outside the incumbent with L(u) + rc_j > ub - slack cannot be in any cover cheaper
    than ub - slack (using it raises the bound by rc_j); a column of the incumbent with
    L(u) - rc_j > ub - slack must be in every such cover. slack is just under 1 when all
    costs are integers (only strictly better covers, by a whole unit, are wanted) and a
    relative 1e-7 otherwise. The incumbent's columns are always kept, so the restricted
    problem still holds the incumbent: its optimum is the optimum of the whole problem.

    Returns (keep, fix_one, L(u)): boolean masks over the reduced columns.
    """
    inc = np.asarray(incumbent).astype(bool)
    ub = float(red.costs[inc].sum())
    lval, rc = lagrangian_bound(red, u)
    slack = (1.0 - 1e-6) if red.integral_costs else 1e-7 * max(1.0, abs(ub))
    limit = ub - slack + 1e-9
    keep = ~((lval + rc > limit) & ~inc)
    fix_one = (lval - rc > limit) & inc
    return keep, fix_one, lval


def greedy_cover(red, u, row_alive=None, col_alive=None, x0=None, noise=None) -> np.ndarray | None:
    """Greedy cover on Lagrangian scores; ``None`` when some row cannot be covered."""
    x = np.zeros(red.n_cols, np.uint8) if x0 is None else x0.astype(np.uint8).copy()
    ok = _greedy_kernel(red.col_ptr, red.col_rows, red.row_ptr, red.row_cols, red.costs, red.need,
                        _ones(red.n_rows) if row_alive is None else row_alive,
                        _ones(red.n_cols) if col_alive is None else col_alive,
                        np.ascontiguousarray(u, dtype=np.float64),
                        np.ones(red.n_cols) if noise is None else noise, x)
    return x if ok else None


def improve_cover(red, x: np.ndarray, max_pass: int = 5) -> np.ndarray:
    """Drop redundant columns and apply cheaper 1-for-1 swaps until none applies."""
    x = x.astype(np.uint8).copy()
    locked = np.zeros(red.n_cols, np.uint8)
    for _ in range(max_pass):
        chosen = np.flatnonzero(x)
        sizes = np.diff(red.col_ptr)[chosen]
        order = chosen[np.lexsort((sizes, -red.costs[chosen]))].astype(np.int64)
        k = _improve_kernel(red.col_ptr, red.col_rows, red.row_ptr, red.row_cols, red.costs, red.need,
                            _ones(red.n_rows), _ones(red.n_cols), x, locked, order, 3)
        if k == 0:
            break
    return x


#: greedy runs of phase 1b (fixed-step subgradient moves around the best multipliers)
HEURISTIC_STEPS = 300
#: phase 1b stops after this many greedy runs without a better cover
HEURISTIC_PATIENCE = 100


class _Search:
    def __init__(self, red, seed: int, deadline: float, integral: bool):
        self.red = red
        self.rng = np.random.default_rng(seed)
        self.deadline = deadline
        self.integral = integral
        self.best_x: np.ndarray | None = None
        self.best_cost = math.inf
        self.best_lb = -math.inf
        self.best_u = initial_multipliers(red)
        self.iterations = 0
        self.t0 = time.perf_counter()
        self.trajectory: list[tuple[float, float]] = []  # (seconds, cost) of each better cover

    def out_of_time(self) -> bool:
        return time.perf_counter() >= self.deadline

    def closed(self) -> bool:
        if self.best_x is None:
            return False
        lb = self.best_lb
        if self.integral:
            lb = math.ceil(lb - 1e-6)
        return self.best_cost <= lb + 1e-9 * max(1.0, abs(self.best_cost))

    def offer(self, x: np.ndarray | None) -> None:
        if x is None:
            return
        x = improve_cover(self.red, x)
        c = float(self.red.costs[x.astype(bool)].sum())
        if c < self.best_cost - 1e-9:
            self.best_cost = c
            self.best_x = x
            self.trajectory.append((round(time.perf_counter() - self.t0, 4), c))

    def noise(self, level: float) -> np.ndarray:
        if level <= 0:
            return np.ones(self.red.n_cols)
        return 1.0 + level * self.rng.random(self.red.n_cols)

    def subgradient(self, need, u, row_alive, col_alive, target, lam, n_iter, best_lb_in, patience=50,
                    deflect=0.5):
        red = self.red
        best_u = u.copy()
        lb, lam, it = _subgradient_kernel(red.col_ptr, red.col_rows, red.costs, need,
                                          row_alive, col_alive, u, target, lam, n_iter,
                                          best_u, best_lb_in, 1e-9, patience, deflect)
        self.iterations += int(it)
        return lb, best_u, lam


def lagrangian_search(red, *, time_limit: float | None = None, seed: int = 0, max_rounds: int | None = None,
                      incumbent: np.ndarray | None = None) -> LagrangianOutcome:
    """Run the Lagrangian heuristic on reduction ``red`` (see the module docstring).

    Parameters
    ----------
    red : the reduced problem.
    time_limit : wall-clock budget [s] (``None``: stop after ``max_rounds``).
    seed : seed of the randomised tie-breaking; the result is reproducible for a seed
        unless the time limit cuts the search short.
    max_rounds : refinement rounds (default scales with the problem size).
    incumbent : a known cover of the reduced problem to start from.
    """
    t0 = time.perf_counter()
    deadline = t0 + (time_limit if time_limit is not None else 1e18)
    m, n = red.n_rows, red.n_cols
    if m == 0:
        return LagrangianOutcome(np.zeros(n, np.uint8), 0.0, 0.0, np.zeros(0), 0, 0, 0.0, True)
    if max_rounds is None:
        max_rounds = 30 if red.col_rows.size < 2_000_000 else 10
    S = _Search(red, seed, deadline, red.integral_costs)
    all_rows = _ones(m)
    all_cols = _ones(n)
    if incumbent is not None:
        S.offer(incumbent)
    S.offer(greedy_cover(red, S.best_u))
    # -- phase 1: subgradient on the full problem, heuristic along the way ------------------
    u = S.best_u.copy()
    lam = 1.0
    chunk = 100
    stall = 0
    for _ in range(40):
        target = 1.05 * S.best_cost if math.isfinite(S.best_cost) else 2 * abs(S.best_lb) + 1
        lb, bu, lam = S.subgradient(red.need, u, all_rows, all_cols, target, lam, chunk, S.best_lb)
        if lb > S.best_lb + 1e-9 * max(1.0, abs(lb)):
            S.best_lb, S.best_u = lb, bu
            stall = 0
        else:
            stall += 1
        S.offer(greedy_cover(red, u))
        if S.closed() or S.out_of_time() or lam < 1e-4 or stall >= 4:
            break
    # -- phase 1b: near the dual optimum, short fixed-step moves; a greedy after each -------
    # (the multipliers wander around the optimum and give the greedy many good price vectors)
    u = S.best_u.copy()
    since = 0
    for _ in range(HEURISTIC_STEPS):
        if S.closed() or S.out_of_time() or since >= HEURISTIC_PATIENCE:
            break
        lb, bu, _ = S.subgradient(red.need, u, all_rows, all_cols, 1.05 * S.best_cost, 0.1, 2, S.best_lb,
                                  1 << 40, 0.0)
        if lb > S.best_lb:
            S.best_lb, S.best_u = lb, bu
        before = S.best_cost
        S.offer(greedy_cover(red, u))
        since = 0 if S.best_cost < before else since + 1
    rounds = 0
    # -- phase 2: column fixing + refinement ----------------------------------------------------
    pi = 0.0
    no_gain = 0
    while not (S.closed() or S.out_of_time()) and rounds < max_rounds:
        rounds += 1
        before = S.best_cost
        x_fix = np.zeros(n, np.uint8)
        if pi > 0 and S.best_x is not None:
            # refinement: keep a fraction pi of the best cover, cheapest reduced costs first
            _, rc = lagrangian_bound(red, S.best_u)
            chosen = np.flatnonzero(S.best_x)
            key = rc[chosen] + 1e-6 * S.rng.random(chosen.size) * (1 + np.abs(rc[chosen]))
            keep = chosen[np.argsort(key)][: int(math.floor(pi * chosen.size))]
            x_fix[keep] = 1
        _three_phase(S, x_fix, noise_level=0.0 if rounds == 1 else 0.02)
        if S.best_cost < before - 1e-9:
            no_gain = 0
            pi = max(0.0, pi - 0.1) if pi > 0.3 else pi
        else:
            no_gain += 1
        pi = min(0.9, 0.3 if pi == 0 else pi * 1.15)
        if no_gain >= 8:
            pi = 0.3
            no_gain = 0
    proven = S.closed()
    return LagrangianOutcome(S.best_x, S.best_cost, S.best_lb, S.best_u, S.iterations, rounds,
                             time.perf_counter() - t0, proven, tuple(S.trajectory))


def _three_phase(S: _Search, x_fix: np.ndarray, noise_level: float) -> None:
    """Fix columns progressively and re-optimise the residual problem until it is empty."""
    red = S.red
    m, n = red.n_rows, red.n_cols
    fixed = x_fix.copy()
    u = S.best_u.copy()
    lam = 0.5
    while not S.out_of_time():
        cov = np.bincount(red.col_rows, weights=np.repeat(fixed, np.diff(red.col_ptr)), minlength=m)
        need_res = np.maximum(red.need - cov.astype(np.int64), 0)
        row_alive = (need_res > 0).astype(np.uint8)
        if not row_alive.any():
            S.offer(fixed)
            return
        col_alive = (1 - fixed).astype(np.uint8)
        fixed_cost = float(red.costs[fixed.astype(bool)].sum())
        target = S.best_cost - fixed_cost
        lb_res, bu, lam = S.subgradient(need_res, u, row_alive, col_alive, max(1.05 * target, 1e-9), lam,
                                        150, -math.inf, 20)
        lam = max(lam, 0.05)
        bound = fixed_cost + lb_res
        if S.integral:
            bound = math.ceil(bound - 1e-6)
        if bound >= S.best_cost - 1e-9:
            return
        # heuristic from a few multiplier vectors
        x_res_best = None
        c_best = math.inf
        for uu in (bu, u):
            x = greedy_cover(red, uu, row_alive, col_alive, x0=fixed,
                             noise=S.noise(noise_level))
            if x is None:
                continue
            S.offer(x)
            c = float(red.costs[x.astype(bool)].sum())
            if c < c_best:
                c_best, x_res_best = c, x
        if x_res_best is None:
            return
        # fix the residual cover's columns with the most negative reduced costs
        rc = np.empty(n)
        xl = np.empty(n, np.uint8)
        _lagrangian_value_kernel(red.col_ptr, red.col_rows, red.costs, need_res, row_alive, col_alive,
                                 np.ascontiguousarray(bu), rc, xl)
        cand = np.flatnonzero((x_res_best == 1) & (fixed == 0))
        if cand.size == 0:
            return
        k = max(1, int(math.ceil(0.3 * cand.size)))
        pick = cand[np.argsort(rc[cand], kind="stable")[:k]]
        fixed[pick] = 1
        u = bu.copy()
