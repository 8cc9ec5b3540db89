"""Naive twins of the set-cover engine: brute-force enumeration, obviously right, slow.

Only for tiny instances (n <= ~14 columns).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

__all__ = ["brute_force_set_cover", "brute_force_max_cover", "random_instance", "all_covers", "coverage", "covers"]


def _rows_of(problem):
    return [set(problem.col_rows[problem.col_ptr[j]:problem.col_ptr[j + 1]].tolist())
            for j in range(problem.n_cols)]


def brute_force_set_cover(problem):
    """(optimal cost, one optimal column tuple) by enumerating every subset; (inf, None) if infeasible."""
    rows = _rows_of(problem)
    n = problem.n_cols
    free = [j for j in range(n) if not problem.fixed_in[j] and not problem.fixed_out[j]]
    base = [j for j in range(n) if problem.fixed_in[j]]
    best, arg = math.inf, None
    for k in range(len(free) + 1):
        for combo in itertools.combinations(free, k):
            chosen = base + list(combo)
            cost = sum(problem.costs[j] for j in chosen)
            if cost >= best:
                continue
            count = [0] * problem.n_rows
            for j in chosen:
                for i in rows[j]:
                    count[i] += 1
            if all(count[i] >= problem.demand[i] for i in range(problem.n_rows)):
                best, arg = cost, tuple(sorted(chosen))
    return best, arg


def all_covers(problem):
    """Every feasible selection of a SetCoverProblem as (cost, frozenset of columns)."""
    rows = _rows_of(problem)
    n = problem.n_cols
    out = []
    for k in range(n + 1):
        for combo in itertools.combinations(range(n), k):
            if any(problem.fixed_out[j] for j in combo) or any(problem.fixed_in[j] and j not in combo
                                                                for j in range(n)):
                continue
            count = [0] * problem.n_rows
            for j in combo:
                for i in rows[j]:
                    count[i] += 1
            if all(count[i] >= problem.demand[i] for i in range(problem.n_rows)):
                out.append((float(sum(problem.costs[j] for j in combo)), frozenset(combo)))
    return out


def brute_force_max_cover(problem):
    """Optimal covered weight of a MaxCoverProblem by enumeration; -inf if infeasible."""
    rows = _rows_of(problem)
    n = problem.n_cols
    best = -math.inf
    for k in range(n + 1):
        for combo in itertools.combinations(range(n), k):
            if any(problem.fixed_out[j] for j in combo):
                continue
            if any(problem.fixed_in[j] and j not in combo for j in range(n)):
                continue
            if problem.budget is not None and sum(problem.costs[j] for j in combo) > problem.budget + 1e-9:
                continue
            if problem.max_columns is not None and len(combo) > problem.max_columns:
                continue
            covered = set().union(*[rows[j] for j in combo]) if combo else set()
            best = max(best, sum(problem.weights[i] for i in covered))
    return best


def coverage(red, x) -> np.ndarray:
    """How many chosen columns (0/1 vector ``x``) cover each row of a (reduced) problem."""
    return np.bincount(red.col_rows, weights=np.repeat(np.asarray(x, float), np.diff(red.col_ptr)),
                       minlength=red.n_rows).astype(np.int64)


def covers(red, x) -> bool:
    """Whether ``x`` meets every row's demand ``red.need``."""
    return bool(np.all(coverage(red, x) >= red.need))


def random_instance(rng: np.random.Generator, m: int, n: int, density: float, max_cost: int = 9):
    """A random 0/1 matrix as a list of row lists per column, and integer costs."""
    cols = [np.flatnonzero(rng.random(m) < density).tolist() for _ in range(n)]
    costs = rng.integers(1, max_cost + 1, size=n).astype(float)
    return cols, costs


def brute_force_milp(c, a_dense, row_lower, row_upper, col_lower, col_upper, sense="min"):
    """Optimum of a pure-integer program with small integer boxes by enumeration; None if infeasible."""
    a = np.asarray(a_dense, dtype=float)
    ranges = [range(int(lo), int(up) + 1) for lo, up in zip(col_lower, col_upper)]
    best = None
    for x in itertools.product(*ranges):
        xv = np.asarray(x, dtype=float)
        ax = a @ xv if a.size else np.zeros(0)
        if np.all(ax >= np.asarray(row_lower) - 1e-9) and np.all(ax <= np.asarray(row_upper) + 1e-9):
            v = float(np.dot(c, xv))
            if best is None or (v < best if sense == "min" else v > best):
                best = v
    return best
