"""siteplan: plan 4G base stations and fiber routes for every village of a region.

Data flows one way: scenario -> coverage -> optimisation -> plan -> reports.
"""

from siteplan.exceptions import SiteplanError
from siteplan.io.scenario import read_scenario
from siteplan.model.scenario import Scenario

__version__ = "0.1.0"

__all__ = ["SiteplanError", "Scenario", "read_scenario", "build_coverage", "CoverageMatrix",
           "__version__"]


_LAZY = {"build_coverage": "siteplan.coverage", "CoverageMatrix": "siteplan.coverage"}


def __getattr__(name):
    """Lazy public names: ``siteplan.build_coverage`` imports numba only when used, so
    layers that never compute coverage (reports, CLI help) stay light."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'siteplan' has no attribute {name!r}")
