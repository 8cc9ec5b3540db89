"""siteplan: plan 4G base stations and fiber routes for every village of a region.

Data flows one way: scenario -> coverage -> optimisation -> plan -> reports.
"""

from siteplan.coverage import CoverageMatrix, build_coverage
from siteplan.exceptions import SiteplanError
from siteplan.io.scenario import read_scenario
from siteplan.model.scenario import Scenario

__version__ = "0.1.0"

__all__ = ["SiteplanError", "Scenario", "read_scenario", "build_coverage", "CoverageMatrix",
           "__version__"]
