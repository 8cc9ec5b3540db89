"""Optimisation layer: backend-neutral MILP models, solver adapters, set-cover engine.

* :mod:`siteplan.optimize.milp` — :class:`MilpSpec` / :class:`MilpBuilder` (plain arrays,
  rows added by family in CSR form), :class:`SolveStatus`, :class:`MilpResult`.
* :mod:`siteplan.optimize.backends` — :func:`solve_milp` with ``solver="highs"`` (highspy)
  or ``"cbc"`` (PuLP's CBC); the only modules that import a solver.
* :mod:`siteplan.optimize.setcover` — weighted set cover, multi-cover and maximal
  covering: reductions, Lagrangian bounds, a Lagrangian heuristic and exact solves,
  through :func:`solve_set_cover`.
"""

from siteplan.optimize.backends import SOLVERS, available_solvers, solve_milp
from siteplan.optimize.milp import MilpBuilder, MilpResult, MilpSpec, RowBlock, SolveStatus, VarBlock
from siteplan.optimize.setcover import (
    METHODS,
    MaxCoverProblem,
    SetCoverProblem,
    SetCoverResult,
    solve_set_cover,
)

__all__ = [
    "MilpBuilder",
    "MilpResult",
    "MilpSpec",
    "RowBlock",
    "VarBlock",
    "SolveStatus",
    "SOLVERS",
    "available_solvers",
    "solve_milp",
    "METHODS",
    "SetCoverProblem",
    "MaxCoverProblem",
    "SetCoverResult",
    "solve_set_cover",
]
