"""siteplan: plan 4G base stations and fiber routes for every village of a region.

Data flows one way: scenario -> coverage -> optimisation -> plan -> reports.

The top level gathers the public entry points; the heavier layers (coverage, siting,
fiber, pipeline) are imported on first use so that ``import siteplan`` stays quick and
layers that never compute coverage (reports, CLI help) do not load numba.
"""

import importlib

from siteplan.exceptions import SiteplanError
from siteplan.io.scenario import read_scenario
from siteplan.model.scenario import Scenario

__version__ = "0.1.0"

_LAZY = {
    "build_coverage": ("siteplan.coverage", "build_coverage"),
    "CoverageMatrix": ("siteplan.coverage", "CoverageMatrix"),
    "plan": ("siteplan.pipeline", "plan"),
    "write_plan": ("siteplan.pipeline", "write_plan"),
    "Plan": ("siteplan.pipeline", "Plan"),
    "check_plan": ("siteplan.check", "check_plan"),
    "plan_sites": ("siteplan.siting", "plan_sites"),
    "plan_fiber": ("siteplan.fiber", "plan_fiber"),
}
_SUBPACKAGES = ("batch", "check", "coverage", "fiber", "generate", "io", "model", "optimize", "pipeline",
                "propagation", "report", "siting")

__all__ = ["SiteplanError", "Scenario", "read_scenario", "build_coverage", "CoverageMatrix", "plan",
           "write_plan", "Plan", "check_plan", "plan_sites", "plan_fiber", "__version__"]


def __getattr__(name):
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    if name in _SUBPACKAGES:
        return importlib.import_module(f"siteplan.{name}")
    raise AttributeError(f"module 'siteplan' has no attribute {name!r}")
