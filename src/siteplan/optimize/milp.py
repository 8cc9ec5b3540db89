"""Backend-neutral mixed-integer linear programs.

A :class:`MilpSpec` is plain arrays::

    minimise (or maximise)  c . x + offset
    subject to              row_lower <= A x <= row_upper     (A in CSR form)
                            col_lower <= x   <= col_upper
                            x_j integer where integrality[j]

Models are assembled with :class:`MilpBuilder`, one *family* of variables or rows at a
time, straight from CSR arrays (never a Python loop over matrix entries)::

    b = MilpBuilder(sense="min")
    x = b.add_columns("open", n_sites, cost=site_cost, upper=1.0, integer=True)
    b.add_rows("cover", indptr, x.start + site_index, np.ones(nnz), lower=1.0)
    spec = b.build()
    result = siteplan.optimize.solve_milp(spec, solver="highs", time_limit=60, gap=1e-4)

The solve result (:class:`MilpResult`) carries a normalised :class:`SolveStatus`, the
objective, the best proven bound, the relative gap, wall-clock seconds and the solver's
name and version, whatever backend ran. This module imports no solver.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from siteplan.exceptions import ModelError

__all__ = [
    "SolveStatus",
    "MilpSpec",
    "MilpResult",
    "MilpBuilder",
    "VarBlock",
    "RowBlock",
    "relative_gap",
]

INF = math.inf


class SolveStatus(str, enum.Enum):
    """Normalised outcome of a solve, the same for every backend."""

    #: a solution proven optimal (within the requested relative gap)
    OPTIMAL = "optimal"
    #: a feasible solution whose optimality is not proven; see ``gap``
    FEASIBLE = "feasible"
    #: the model has no feasible solution (proven)
    INFEASIBLE = "infeasible"
    #: the time limit was reached before any feasible solution was found
    TIME_LIMIT_NO_SOLUTION = "time_limit_no_solution"
    #: the solver failed (crash, unbounded, numerical trouble, unusable output)
    ERROR = "error"

    @property
    def has_solution(self) -> bool:
        return self in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)


def relative_gap(objective: float, bound: float) -> float:
    """|objective - bound| / max(|objective|, 1e-10); 0 when equal, inf when either is not finite."""
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return INF
    diff = abs(objective - bound)
    if diff <= 1e-9 * max(1.0, abs(objective)):
        return 0.0
    return diff / max(abs(objective), 1e-10)


@dataclass(frozen=True)
class VarBlock:
    """A family of consecutive columns: indices ``start .. start + size - 1``."""

    name: str
    start: int
    size: int

    @property
    def stop(self) -> int:
        return self.start + self.size

    def index(self, local) -> np.ndarray:
        """Global column indices of local indices ``local`` (0-based within the block)."""
        return np.asarray(local, dtype=np.int64) + self.start


@dataclass(frozen=True)
class RowBlock:
    """A family of consecutive rows: indices ``start .. start + size - 1``."""

    name: str
    start: int
    size: int

    @property
    def stop(self) -> int:
        return self.start + self.size


@dataclass(frozen=True, eq=False)
class MilpSpec:
    """A mixed-integer linear program as plain arrays (see the module docstring).

    Attributes
    ----------
    c : objective coefficients, float64, length n.
    sense : "min" or "max".
    col_lower, col_upper : bounds of every column (``-inf`` / ``inf`` allowed).
    integrality : bool per column; True means integer.
    indptr, indices, data : the constraint matrix A (m x n) in CSR form.
    row_lower, row_upper : bounds of every row (``-inf`` / ``inf`` allowed).
    offset : constant added to the objective.
    col_blocks, row_blocks : the named families the model was assembled from.
    """

    c: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    sense: str = "min"
    offset: float = 0.0
    col_blocks: tuple[VarBlock, ...] = ()
    row_blocks: tuple[RowBlock, ...] = ()

    def __post_init__(self) -> None:
        n = self.c.shape[0]
        m = self.row_lower.shape[0]
        problems = []
        if self.sense not in ("min", "max"):
            problems.append(f"sense must be 'min' or 'max', got {self.sense!r}")
        for name in ("col_lower", "col_upper", "integrality"):
            if getattr(self, name).shape != (n,):
                problems.append(f"{name} must have length n={n}, got shape {getattr(self, name).shape}")
        if self.row_upper.shape != (m,):
            problems.append(f"row_upper must have length m={m}, got {self.row_upper.shape}")
        if self.indptr.shape != (m + 1,):
            problems.append(f"indptr must have length m+1={m + 1}, got {self.indptr.shape}")
        elif self.indptr[0] != 0 or self.indptr[-1] != self.indices.shape[0] or np.any(np.diff(self.indptr) < 0):
            problems.append("indptr must start at 0, be non-decreasing and end at len(indices)")
        if self.indices.shape != self.data.shape:
            problems.append("indices and data must have the same length")
        if self.indices.size and (self.indices.min() < 0 or self.indices.max() >= n):
            problems.append(f"column indices must lie in 0..{n - 1}")
        if np.any(self.col_lower > self.col_upper):
            problems.append("col_lower must be <= col_upper for every column")
        if np.any(self.row_lower > self.row_upper):
            problems.append("row_lower must be <= row_upper for every row")
        for name in ("c", "data"):
            if not np.all(np.isfinite(getattr(self, name))):
                problems.append(f"{name} must be finite")
        if problems:
            raise ModelError("invalid MilpSpec: " + "; ".join(problems))

    @property
    def n_cols(self) -> int:
        return int(self.c.shape[0])

    @property
    def n_rows(self) -> int:
        return int(self.row_lower.shape[0])

    @property
    def nnz(self) -> int:
        return int(self.indices.shape[0])

    def block(self, name: str) -> VarBlock:
        """The column family called ``name``."""
        for blk in self.col_blocks:
            if blk.name == name:
                return blk
        raise ModelError(f"no column family named {name!r}")

    def objective_value(self, x: np.ndarray) -> float:
        """c . x + offset."""
        return float(np.dot(self.c, x) + self.offset)

    def max_violation(self, x: np.ndarray) -> float:
        """Largest violation of a row, bound or integrality by ``x`` (0.0 when feasible)."""
        x = np.asarray(x, dtype=np.float64)
        ax = np.zeros(self.n_rows)
        if self.nnz:
            rows = np.repeat(np.arange(self.n_rows), np.diff(self.indptr))
            np.add.at(ax, rows, self.data * x[self.indices])
        viol = [0.0]
        viol.append(float(np.max(self.row_lower - ax, initial=0.0)))
        viol.append(float(np.max(ax - self.row_upper, initial=0.0)))
        viol.append(float(np.max(self.col_lower - x, initial=0.0)))
        viol.append(float(np.max(x - self.col_upper, initial=0.0)))
        xi = x[self.integrality]
        viol.append(float(np.max(np.abs(xi - np.round(xi)), initial=0.0)))
        return max(viol)


@dataclass(frozen=True)
class MilpResult:
    """What a backend returns, normalised.

    Attributes
    ----------
    status : normalised :class:`SolveStatus`.
    x : the solution (length n) when ``status.has_solution``, else ``None``.
    objective : c . x + offset of ``x`` (nan without a solution).
    bound : best proven bound on the optimum (a lower bound when minimising, an upper
        bound when maximising); ``-inf``/``inf`` when none is known.
    gap : relative gap between ``objective`` and ``bound`` (0 when proven optimal,
        ``inf`` when unknown).
    seconds : wall-clock time of the solve [s].
    solver : backend name ("highs", "cbc").
    solver_version : version string of the solver.
    message : the solver's own status words, for the log.
    """

    status: SolveStatus
    x: np.ndarray | None
    objective: float
    bound: float
    gap: float
    seconds: float
    solver: str
    solver_version: str
    message: str = ""
    extra: Mapping[str, object] = field(default_factory=dict)


def _as_bounds(value, size: int, name: str, default: float) -> np.ndarray:
    if value is None:
        return np.full(size, default, dtype=np.float64)
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return np.full(size, float(arr), dtype=np.float64)
    if arr.shape != (size,):
        raise ModelError(f"{name} must be a scalar or have length {size}, got shape {arr.shape}")
    return arr.copy()


class MilpBuilder:
    """Assemble a :class:`MilpSpec` family by family (columns first, then CSR row blocks)."""

    def __init__(self, sense: str = "min") -> None:
        if sense not in ("min", "max"):
            raise ModelError(f"sense must be 'min' or 'max', got {sense!r}")
        self.sense = sense
        self.offset = 0.0
        self._c: list[np.ndarray] = []
        self._lo: list[np.ndarray] = []
        self._up: list[np.ndarray] = []
        self._int: list[np.ndarray] = []
        self._col_blocks: list[VarBlock] = []
        self._n = 0
        self._indptr: list[np.ndarray] = []
        self._indices: list[np.ndarray] = []
        self._data: list[np.ndarray] = []
        self._rlo: list[np.ndarray] = []
        self._rup: list[np.ndarray] = []
        self._row_blocks: list[RowBlock] = []
        self._m = 0
        self._nnz = 0

    @property
    def n_cols(self) -> int:
        return self._n

    @property
    def n_rows(self) -> int:
        return self._m

    def add_columns(self, name: str, size: int, *, cost=0.0, lower=0.0, upper=INF,
                    integer: bool | np.ndarray = False) -> VarBlock:
        """Add ``size`` columns called ``name``; scalars broadcast, arrays give one value per column."""
        if any(b.name == name for b in self._col_blocks):
            raise ModelError(f"column family {name!r} added twice")
        size = int(size)
        if size < 0:
            raise ModelError(f"column family {name!r}: size must be >= 0, got {size}")
        self._c.append(_as_bounds(cost, size, f"{name}.cost", 0.0))
        self._lo.append(_as_bounds(lower, size, f"{name}.lower", 0.0))
        self._up.append(_as_bounds(upper, size, f"{name}.upper", INF))
        integ = np.asarray(integer, dtype=bool)
        self._int.append(np.full(size, bool(integ)) if integ.ndim == 0 else integ.copy())
        if self._int[-1].shape != (size,):
            raise ModelError(f"{name}.integer must be a bool or have length {size}")
        blk = VarBlock(name, self._n, size)
        self._col_blocks.append(blk)
        self._n += size
        return blk

    def add_rows(self, name: str, indptr, indices, data, *, lower=-INF, upper=INF) -> RowBlock:
        """Add a family of rows given in CSR form over the *global* column indices.

        ``lower <= A_block x <= upper``; scalars broadcast over the block's rows.
        """
        indptr = np.asarray(indptr, dtype=np.int64)
        if indptr.ndim != 1 or indptr.size < 1 or indptr[0] != 0:
            raise ModelError(f"row family {name!r}: indptr must be 1-D and start at 0")
        size = indptr.size - 1
        indices = np.asarray(indices, dtype=np.int64)
        data = np.asarray(data, dtype=np.float64)
        if indices.shape != data.shape or indptr[-1] != indices.size:
            raise ModelError(f"row family {name!r}: indptr[-1] must equal len(indices) == len(data)")
        if indices.size and (indices.min() < 0 or indices.max() >= self._n):
            raise ModelError(f"row family {name!r}: column index outside 0..{self._n - 1}")
        self._indptr.append(indptr[1:] + self._nnz)
        self._indices.append(indices)
        self._data.append(data)
        self._rlo.append(_as_bounds(lower, size, f"{name}.lower", -INF))
        self._rup.append(_as_bounds(upper, size, f"{name}.upper", INF))
        blk = RowBlock(name, self._m, size)
        self._row_blocks.append(blk)
        self._m += size
        self._nnz += int(indices.size)
        return blk

    def build(self) -> MilpSpec:
        cat = lambda parts, dt: np.concatenate(parts).astype(dt) if parts else np.zeros(0, dt)  # noqa: E731
        return MilpSpec(
            c=cat(self._c, np.float64),
            col_lower=cat(self._lo, np.float64),
            col_upper=cat(self._up, np.float64),
            integrality=cat(self._int, bool),
            indptr=np.concatenate([[0], *self._indptr]).astype(np.int64),
            indices=cat(self._indices, np.int64),
            data=cat(self._data, np.float64),
            row_lower=cat(self._rlo, np.float64),
            row_upper=cat(self._rup, np.float64),
            sense=self.sense,
            offset=float(self.offset),
            col_blocks=tuple(self._col_blocks),
            row_blocks=tuple(self._row_blocks),
        )
