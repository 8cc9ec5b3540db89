"""Re-export of the covering problem types, which live in :mod:`siteplan.model.covering`
(the model layer, so that ``siteplan.io`` need not import the solver package)."""

from siteplan.model.covering import MaxCoverProblem, SetCoverProblem, csc_from_columns, transpose_pattern

__all__ = ["SetCoverProblem", "MaxCoverProblem", "csc_from_columns", "transpose_pattern"]
