"""Fiber routing on the road graph.

Graph layer: minimum Steiner trees and forests from several
zero-cost roots, with exact reductions, heuristics with local search, a dual-ascent
lower bound and an exact flow-formulation MILP; every answer carries its cost, a proven
lower bound, the gap and a status. See :func:`steiner_tree`.

Scenario layer: :func:`plan_fiber` routes fiber to every required facility and new site,
phase by phase, assigns terminals to OLT ports and sizes the cables.
"""

from siteplan.fiber.planner import FiberPlan, check_bandwidth, plan_fiber
from siteplan.fiber.steiner import METHODS, SteinerResult, SteinerStatus, steiner_tree

__all__ = ["METHODS", "SteinerResult", "SteinerStatus", "steiner_tree", "FiberPlan", "plan_fiber", "check_bandwidth"]
