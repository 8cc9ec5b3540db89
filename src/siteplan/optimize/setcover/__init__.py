"""Set-cover engine: weighted set cover, multi-cover and maximal covering.

Reductions (:mod:`.reduce`), Lagrangian bounds and heuristic (:mod:`.lagrangian`), exact
solves through the MILP adapter, all behind :func:`solve_set_cover` (:mod:`.solve`).
"""

from siteplan.model.covering import MaxCoverProblem, SetCoverProblem
from siteplan.optimize.setcover.reduce import Reduction, reduce_problem
from siteplan.optimize.setcover.solve import (
    MAXCOVER_METHODS,
    METHODS,
    SetCoverResult,
    kernels_ready,
    solve_set_cover,
    warm_up,
)

__all__ = [
    "SetCoverProblem",
    "MaxCoverProblem",
    "Reduction",
    "reduce_problem",
    "SetCoverResult",
    "solve_set_cover",
    "METHODS",
    "MAXCOVER_METHODS",
    "warm_up",
    "kernels_ready",
]
