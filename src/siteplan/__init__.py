"""siteplan: plan 4G base stations and fiber routes for every village of a region.

Data flows one way: scenario -> coverage -> optimisation -> plan -> reports.
"""

from siteplan.exceptions import SiteplanError

__version__ = "0.1.0"

__all__ = ["SiteplanError", "__version__"]
