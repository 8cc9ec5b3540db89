"""Covering problems as frozen struct-of-arrays dataclasses (plain data, no solver).

Lives in the model layer so that readers (``siteplan.io.read_orlib_scp``) and solvers
(``siteplan.optimize.setcover``) both depend on it, never on each other; the solver
package re-exports the names.

Both problems store the 0/1 matrix A (rows = demand points, columns = candidates)
column-wise: ``col_ptr`` (n+1) and ``col_rows`` (0-based row indices, sorted and unique
within a column). The row-wise view is derived on demand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Sequence

import numpy as np

from siteplan.exceptions import ModelError

__all__ = ["SetCoverProblem", "MaxCoverProblem", "csc_from_columns", "transpose_pattern"]


def csc_from_columns(n_rows: int, columns: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """(col_ptr, col_rows) from a list of row-index lists (0-based); duplicates removed, sorted."""
    ptr = [0]
    rows: list[np.ndarray] = []
    for j, col in enumerate(columns):
        arr = np.unique(np.asarray(col, dtype=np.int64))
        if arr.size and (arr[0] < 0 or arr[-1] >= n_rows):
            raise ModelError(f"column {j}: row index outside 0..{n_rows - 1}")
        rows.append(arr)
        ptr.append(ptr[-1] + arr.size)
    col_rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    return np.asarray(ptr, dtype=np.int64), col_rows.astype(np.int64)


def transpose_pattern(n_rows: int, col_ptr: np.ndarray, col_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise view (row_ptr, row_cols) of a column-wise 0/1 pattern (columns sorted per row)."""
    n = col_ptr.size - 1
    cols = np.repeat(np.arange(n, dtype=np.int64), np.diff(col_ptr))
    order = np.lexsort((cols, col_rows))
    row_cols = cols[order]
    row_ptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(col_rows, minlength=n_rows), out=row_ptr[1:])
    return row_ptr, row_cols


def _mask(value, n: int, name: str) -> np.ndarray:
    if value is None:
        return np.zeros(n, dtype=bool)
    arr = np.asarray(value)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise ModelError(f"{name}: boolean mask must have length {n}, got {arr.shape}")
        return arr.copy()
    idx = arr.astype(np.int64).ravel()
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise ModelError(f"{name}: column index outside 0..{n - 1}")
    out = np.zeros(n, dtype=bool)
    out[idx] = True
    return out


def _check_pattern(n_rows: int, col_ptr, col_rows) -> tuple[np.ndarray, np.ndarray]:
    col_ptr = np.ascontiguousarray(col_ptr, dtype=np.int64)
    col_rows = np.ascontiguousarray(col_rows, dtype=np.int64)
    if col_ptr.ndim != 1 or col_ptr.size < 1 or col_ptr[0] != 0 or col_ptr[-1] != col_rows.size \
            or np.any(np.diff(col_ptr) < 0):
        raise ModelError("col_ptr must start at 0, be non-decreasing and end at len(col_rows)")
    if col_rows.size and (col_rows.min() < 0 or col_rows.max() >= n_rows):
        raise ModelError(f"col_rows must lie in 0..{n_rows - 1}")
    # sorted and unique within each column
    if col_rows.size > 1:
        d = np.diff(col_rows)
        same_col = np.ones(col_rows.size - 1, dtype=bool)
        same_col[col_ptr[1:-1][(col_ptr[1:-1] > 0) & (col_ptr[1:-1] < col_rows.size)] - 1] = False
        if np.any(d[same_col] <= 0):
            raise ModelError("rows must be sorted and unique within each column (use csc_from_columns)")
    return col_ptr, col_rows


@dataclass(frozen=True, eq=False)
class SetCoverProblem:
    """Weighted set cover / multi-cover: min c.x  s.t.  A x >= demand, x binary.

    Attributes
    ----------
    n_rows : number of rows (demand points).
    col_ptr, col_rows : A column-wise (see module docstring).
    costs : cost of every column, finite and >= 0.
    demand : how many distinct chosen columns must cover each row (default 1 = set cover).
    fixed_in : columns that must be chosen (existing infrastructure).
    fixed_out : columns that must not be chosen (exclusions).
    name : label for reports.
    """

    n_rows: int
    col_ptr: np.ndarray
    col_rows: np.ndarray
    costs: np.ndarray
    demand: np.ndarray | None = None
    fixed_in: np.ndarray | None = None
    fixed_out: np.ndarray | None = None
    name: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if int(self.n_rows) < 0:
            raise ModelError(f"n_rows must be >= 0, got {self.n_rows}")
        object.__setattr__(self, "n_rows", int(self.n_rows))
        col_ptr, col_rows = _check_pattern(self.n_rows, self.col_ptr, self.col_rows)
        object.__setattr__(self, "col_ptr", col_ptr)
        object.__setattr__(self, "col_rows", col_rows)
        n = col_ptr.size - 1
        costs = np.ascontiguousarray(self.costs, dtype=np.float64)
        if costs.shape != (n,):
            raise ModelError(f"costs must have length n_cols={n}, got {costs.shape}")
        if not np.all(np.isfinite(costs)) or np.any(costs < 0):
            raise ModelError("costs must be finite and >= 0")
        object.__setattr__(self, "costs", costs)
        if self.demand is None:
            demand = np.ones(self.n_rows, dtype=np.int64)
        else:
            raw = np.asarray(self.demand)
            demand = raw.astype(np.int64)
            if demand.shape != (self.n_rows,) or np.any(demand != raw) or np.any(demand < 0):
                raise ModelError(f"demand must be {self.n_rows} integers >= 0")
        object.__setattr__(self, "demand", np.ascontiguousarray(demand))
        fin = _mask(self.fixed_in, n, "fixed_in")
        fout = _mask(self.fixed_out, n, "fixed_out")
        if np.any(fin & fout):
            raise ModelError(f"columns {np.flatnonzero(fin & fout)[:10].tolist()} are both fixed in and fixed out")
        object.__setattr__(self, "fixed_in", fin)
        object.__setattr__(self, "fixed_out", fout)

    # -- constructors -----------------------------------------------------------------
    @classmethod
    def from_columns(cls, n_rows: int, columns: Sequence[Sequence[int]], costs, **kw) -> "SetCoverProblem":
        """From a list giving, for each column, the 0-based rows it covers."""
        ptr, rows = csc_from_columns(n_rows, columns)
        return cls(n_rows, ptr, rows, costs, **kw)

    @classmethod
    def from_dense(cls, a, costs, **kw) -> "SetCoverProblem":
        """From a dense 0/1 matrix (rows x columns)."""
        a = np.asarray(a) != 0
        return cls.from_columns(a.shape[0], [np.flatnonzero(a[:, j]) for j in range(a.shape[1])], costs, **kw)

    # -- views ------------------------------------------------------------------------
    @property
    def n_cols(self) -> int:
        return int(self.col_ptr.size - 1)

    @property
    def nnz(self) -> int:
        return int(self.col_rows.size)

    @cached_property
    def row_view(self) -> tuple[np.ndarray, np.ndarray]:
        """(row_ptr, row_cols): A row-wise."""
        return transpose_pattern(self.n_rows, self.col_ptr, self.col_rows)

    @property
    def is_multicover(self) -> bool:
        return bool(np.any(self.demand > 1))

    def coverage(self, x: np.ndarray) -> np.ndarray:
        """(A x)_i for a 0/1 (or boolean) selection vector ``x``."""
        x = np.asarray(x, dtype=np.int64)
        return np.bincount(self.col_rows, weights=np.repeat(x, np.diff(self.col_ptr)),
                           minlength=self.n_rows).astype(np.int64)

    def selection(self, columns) -> np.ndarray:
        """0/1 vector of the (0-based) ``columns``."""
        x = np.zeros(self.n_cols, dtype=np.int8)
        x[np.asarray(columns, dtype=np.int64)] = 1
        return x

    def is_feasible(self, columns) -> bool:
        """Whether the 0-based ``columns`` cover every row ``demand`` times and respect fixings."""
        x = self.selection(columns)
        return bool(np.all(self.coverage(x) >= self.demand) and np.all(x[self.fixed_in] == 1)
                    and np.all(x[self.fixed_out] == 0))

    def cost_of(self, columns) -> float:
        return float(self.costs[np.unique(np.asarray(columns, dtype=np.int64))].sum())


@dataclass(frozen=True, eq=False)
class MaxCoverProblem:
    """Maximal covering: max w.y  s.t.  y_i <= (A x)_i, y_i <= 1, c.x <= budget,
    sum x <= max_columns, x binary, with columns fixed in / out.

    Attributes
    ----------
    n_rows, col_ptr, col_rows : A column-wise.
    weights : value of covering each row (>= 0), e.g. population.
    costs : cost of every column (>= 0; default 1).
    budget : upper bound on c.x (``None`` for none), in the units of ``costs``.
    max_columns : upper bound on the number of chosen columns (``None`` for none).
    fixed_in, fixed_out : columns that must / must not be chosen.
    """

    n_rows: int
    col_ptr: np.ndarray
    col_rows: np.ndarray
    weights: np.ndarray
    costs: np.ndarray | None = None
    budget: float | None = None
    max_columns: int | None = None
    fixed_in: np.ndarray | None = None
    fixed_out: np.ndarray | None = None
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_rows", int(self.n_rows))
        col_ptr, col_rows = _check_pattern(self.n_rows, self.col_ptr, self.col_rows)
        object.__setattr__(self, "col_ptr", col_ptr)
        object.__setattr__(self, "col_rows", col_rows)
        n = col_ptr.size - 1
        w = np.ascontiguousarray(self.weights, dtype=np.float64)
        if w.shape != (self.n_rows,) or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ModelError(f"weights must be {self.n_rows} finite values >= 0")
        object.__setattr__(self, "weights", w)
        c = np.ones(n) if self.costs is None else np.ascontiguousarray(self.costs, dtype=np.float64)
        if c.shape != (n,) or not np.all(np.isfinite(c)) or np.any(c < 0):
            raise ModelError(f"costs must be {n} finite values >= 0")
        object.__setattr__(self, "costs", c)
        if self.budget is not None and not (np.isfinite(self.budget) and self.budget >= 0):
            raise ModelError(f"budget must be finite and >= 0, got {self.budget}")
        if self.max_columns is not None and int(self.max_columns) < 0:
            raise ModelError(f"max_columns must be >= 0, got {self.max_columns}")
        fin = _mask(self.fixed_in, n, "fixed_in")
        fout = _mask(self.fixed_out, n, "fixed_out")
        if np.any(fin & fout):
            raise ModelError("a column is both fixed in and fixed out")
        object.__setattr__(self, "fixed_in", fin)
        object.__setattr__(self, "fixed_out", fout)

    @classmethod
    def from_columns(cls, n_rows: int, columns, weights, **kw) -> "MaxCoverProblem":
        ptr, rows = csc_from_columns(n_rows, columns)
        return cls(n_rows, ptr, rows, weights, **kw)

    @property
    def n_cols(self) -> int:
        return int(self.col_ptr.size - 1)

    def covered(self, columns) -> np.ndarray:
        """Boolean per row: covered by at least one of the 0-based ``columns``."""
        x = np.zeros(self.n_cols, dtype=np.int64)
        x[np.asarray(columns, dtype=np.int64)] = 1
        cov = np.bincount(self.col_rows, weights=np.repeat(x, np.diff(self.col_ptr)), minlength=self.n_rows)
        return cov > 0

    def value_of(self, columns) -> float:
        return float(self.weights[self.covered(columns)].sum())

    def is_feasible(self, columns) -> bool:
        cols = np.unique(np.asarray(columns, dtype=np.int64))
        x = np.zeros(self.n_cols, dtype=bool)
        x[cols] = True
        if np.any(x & self.fixed_out) or np.any(self.fixed_in & ~x):
            return False
        if self.budget is not None and self.costs[cols].sum() > self.budget * (1 + 1e-9) + 1e-9:
            return False
        if self.max_columns is not None and cols.size > self.max_columns:
            return False
        return True
