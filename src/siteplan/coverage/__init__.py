"""Coverage: sparse RSRP matrices (demand points x sites) per operator, best-server
rasters, and their files. Units: [m], [dBm], [dB]."""

from siteplan.coverage.build import build_coverage, operator_link_params
from siteplan.coverage.core import (
    BandParams,
    LinkParams,
    TerrainGrid,
    coverage_csr,
    max_useful_distance,
    resolve_model,
)
from siteplan.coverage.matrix import CoverageMatrix
from siteplan.coverage.raster import best_server_raster, radial_sweep, write_raster_geotiff

__all__ = [
    "build_coverage",
    "operator_link_params",
    "CoverageMatrix",
    "best_server_raster",
    "radial_sweep",
    "write_raster_geotiff",
    "BandParams",
    "LinkParams",
    "TerrainGrid",
    "coverage_csr",
    "max_useful_distance",
    "resolve_model",
]
