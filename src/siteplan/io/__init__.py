"""Readers and writers. All unit and CRS conversion of input data happens here."""

from siteplan.io.atomic import atomic_directory, atomic_path, atomic_write_bytes, atomic_write_text
from siteplan.io.geotiff import GeoRaster, read_geotiff, write_geotiff
from siteplan.io.manifest import read_manifest
from siteplan.io.orlib import read_orlib_scp
from siteplan.io.scenario import read_scenario
from siteplan.io.steinlib import read_steinlib
from siteplan.io.summary import scenario_summary

__all__ = [
    "atomic_directory",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "GeoRaster",
    "read_geotiff",
    "write_geotiff",
    "read_manifest",
    "read_orlib_scp",
    "read_scenario",
    "read_steinlib",
    "scenario_summary",
]
