"""Reports of a plan: CSV tables, GeoJSON/KML, the RSRP GeoTIFF, the HTML page, PNG figures.

Input is the plan dict of ``docs/plan-format.md`` plus its :class:`~siteplan.Scenario`;
this package imports no solver and no propagation code. :func:`write_outputs` writes
everything into one folder (the caller wraps it in
:func:`siteplan.io.atomic.atomic_directory` so the folder appears complete or not at all).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from siteplan.model.scenario import Scenario
from siteplan.report._view import PlanView, plan_view
from siteplan.report.figures import figure_names, write_figures
from siteplan.report.geo import geojson_dict, kml_text, write_geojson, write_kml
from siteplan.report.html import report_html, write_report_html
from siteplan.report.raster import NODATA, CoverageRaster, Georef, as_coverage_raster, write_coverage_raster
from siteplan.report.tables import COLUMNS, PHASE_COLUMNS, tables_text, write_tables

__all__ = [
    "write_outputs", "output_names", "write_tables", "tables_text", "COLUMNS", "PHASE_COLUMNS",
    "write_geojson", "geojson_dict", "write_kml", "kml_text", "write_coverage_raster", "CoverageRaster",
    "Georef", "NODATA", "write_report_html", "report_html", "write_figures", "figure_names", "PlanView",
    "plan_view",
]


def output_names(plan: dict, *, raster: bool = False) -> list[str]:
    """Relative paths :func:`write_outputs` writes (plan.json is the caller's)."""
    names = ["stations.csv", "sites.csv", "villages.csv", "fiber.csv", "plan.geojson", "plan.kml"]
    if raster:
        names.append("coverage.tif")
    names.append("report.html")
    return names + figure_names(plan, raster=raster)


def write_outputs(plan: dict, scenario: Scenario, out_dir: str | os.PathLike, *, raster: Any = None) -> list[Path]:
    """Write every report output of ``plan`` into ``out_dir`` and return their paths.

    ``raster``: the best-server RSRP grid [dBm] as ``(array_dbm, georef)``, a
    :class:`CoverageRaster` or a :class:`~siteplan.io.geotiff.GeoRaster`; ``None`` writes no
    ``coverage.tif`` (and no RSRP map). The plan is checked once, up front, so a malformed
    plan raises :class:`~siteplan.exceptions.OutputError` before anything is written.
    """
    view = plan_view(plan, scenario)
    cov = as_coverage_raster(raster)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = write_tables(view, None, out)
    paths.append(write_geojson(view, None, out / "plan.geojson"))
    paths.append(write_kml(view, None, out / "plan.kml"))
    if cov is not None:
        paths.append(write_coverage_raster(out / "coverage.tif", cov.rsrp_dbm, cov.georef))
    paths.append(write_report_html(view, None, out / "report.html", raster=cov))
    paths += write_figures(view, None, out, raster=cov)
    return paths
