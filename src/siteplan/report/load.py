"""Read a written plan back for re-reporting: ``plan.json`` and ``coverage.tif``.

Both are data from a folder that may have been edited by hand: the JSON must be a
siteplan plan object (no NaN/Infinity, at most :data:`MAX_PLAN_BYTES`), the raster a
georeferenced single-band GeoTIFF (size-limited by :func:`siteplan.io.geotiff.read_geotiff`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from siteplan.exceptions import InputError, Problem
from siteplan.io.geotiff import GeoRaster, read_geotiff

__all__ = ["MAX_PLAN_BYTES", "load_plan_json", "load_raster"]

#: plan.json files beyond this size are refused before reading [bytes]
MAX_PLAN_BYTES = int(os.environ.get("SITEPLAN_MAX_PLAN_BYTES", 1 << 30))


def _no_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def load_plan_json(path: str | os.PathLike) -> dict:
    """The plan dict of ``path`` (raises InputError naming the file and the rule)."""
    path = Path(path)
    fname = str(path)
    if not path.is_file():
        raise InputError(Problem(fname, None, None, "file not found"))
    size = path.stat().st_size
    if size > MAX_PLAN_BYTES:
        raise InputError(Problem(fname, None, "size", f"larger than {MAX_PLAN_BYTES} bytes "
                                                      "(SITEPLAN_MAX_PLAN_BYTES)", size))
    try:
        plan = json.loads(path.read_bytes().decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError as exc:
        raise InputError(Problem(fname, None, None, "must be UTF-8", str(exc))) from None
    except (json.JSONDecodeError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        raise InputError(Problem(fname, line, None, "must be valid JSON", str(exc))) from None
    if not isinstance(plan, dict) or plan.get("format") != "siteplan-plan":
        raise InputError(Problem(fname, None, "format", "must be a siteplan plan object (format 'siteplan-plan')",
                                 plan.get("format") if isinstance(plan, dict) else type(plan).__name__))
    return plan


def load_raster(path: str | os.PathLike) -> GeoRaster:
    """The best-server RSRP raster [dBm] of ``path`` (see :func:`siteplan.io.geotiff.read_geotiff`)."""
    return read_geotiff(path)
