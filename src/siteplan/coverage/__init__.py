"""Coverage: sparse RSRP matrices (demand points x sites) per operator, best-server
rasters, and their files. Units: [m], [dBm], [dB]."""

from siteplan.coverage.core import (
    BandParams,
    LinkParams,
    TerrainGrid,
    coverage_csr,
    max_useful_distance,
    resolve_model,
)

__all__ = [
    "BandParams",
    "LinkParams",
    "TerrainGrid",
    "coverage_csr",
    "max_useful_distance",
    "resolve_model",
]
