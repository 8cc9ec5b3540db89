"""Fiber routing on the road graph.

Graph layer (this package today): minimum Steiner trees and forests from several
zero-cost roots, with exact reductions, heuristics with local search, a dual-ascent
lower bound and an exact flow-formulation MILP; every answer carries its cost, a proven
lower bound, the gap and a status. See :func:`steiner_tree`.
"""

from siteplan.fiber.steiner import METHODS, SteinerResult, SteinerStatus, steiner_tree

__all__ = ["METHODS", "SteinerResult", "SteinerStatus", "steiner_tree"]
