"""``coverage.tif``: the best-server RSRP raster [dBm] as a float32 GeoTIFF.

The array comes from the coverage module; this module only checks it against its
georeference and writes it through :func:`siteplan.io.geotiff.write_geotiff` (GeoKeys,
tie point at the north-west corner, pixel scale, ``GDAL_NODATA`` = :data:`NODATA`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from siteplan.exceptions import ModelError
from siteplan.io.geotiff import GeoRaster, write_geotiff
from siteplan.model.terrain import Terrain

__all__ = ["NODATA", "Georef", "CoverageRaster", "as_georef", "as_coverage_raster", "write_coverage_raster"]

#: value of cells without a signal (or outside the computed area) [dBm]
NODATA = -9999.0


@dataclass(frozen=True)
class Georef:
    """North-up grid: the north-west corner of cell [0, 0] is (x_min, y_max) [m]."""

    x_min: float
    y_max: float
    cell_x: float     # [m]
    cell_y: float     # [m]
    crs: str          # "EPSG:n"
    shape: tuple[int, int] | None = None   # (ny, nx) when known

    def extent(self, shape: tuple[int, int]) -> tuple[float, float, float, float]:
        """(x_min, x_max, y_min, y_max) [m] of a grid of ``shape`` (ny, nx)."""
        ny, nx = shape
        return self.x_min, self.x_min + nx * self.cell_x, self.y_max - ny * self.cell_y, self.y_max


@dataclass(frozen=True, eq=False)
class CoverageRaster:
    """A best-server RSRP grid [dBm] with its georeference; non-finite cells are no-data."""

    rsrp_dbm: np.ndarray   # float32 (ny, nx), NODATA where no signal
    georef: Georef


def as_georef(obj: Any) -> Georef:
    """A :class:`Georef` from a Terrain, a GeoRaster, a Georef, a mapping with ``x_min``,
    ``y_max``, ``cell_size`` (or ``cell_m``, or ``cell_x`` and ``cell_y``) and ``crs``, or any
    object with those attributes (and optionally ``shape``)."""
    if isinstance(obj, Georef):
        return obj
    if isinstance(obj, Terrain):
        return Georef(float(obj.x_min), float(obj.y_max), float(obj.cell_m), float(obj.cell_m), str(obj.crs),
                      (obj.ny, obj.nx))
    if isinstance(obj, GeoRaster):
        return Georef(float(obj.x_min), float(obj.y_max), float(obj.cell_x), float(obj.cell_y), str(obj.crs),
                      tuple(obj.data.shape))
    if isinstance(obj, Mapping):
        try:
            if "cell_x" in obj:
                cx, cy = float(obj["cell_x"]), float(obj.get("cell_y", obj["cell_x"]))
            else:
                cx = cy = float(obj["cell_size"] if "cell_size" in obj else obj["cell_m"])
            shape = tuple(int(n) for n in obj["shape"]) if obj.get("shape") is not None else None
            return Georef(float(obj["x_min"]), float(obj["y_max"]), cx, cy, str(obj["crs"]), shape)
        except KeyError as exc:
            raise ModelError(f"raster georeference lacks {exc.args[0]!r} (needs x_min, y_max, cell_size, crs)") from None
    if all(hasattr(obj, a) for a in ("x_min", "y_max", "crs")) and any(
            hasattr(obj, a) for a in ("cell_m", "cell_size", "cell_x")):
        cell = next(getattr(obj, a) for a in ("cell_m", "cell_size", "cell_x") if hasattr(obj, a))
        cy = getattr(obj, "cell_y", cell)
        shape = getattr(obj, "shape", None)
        return Georef(float(obj.x_min), float(obj.y_max), float(cell), float(cy), str(obj.crs),
                      tuple(int(n) for n in shape) if shape is not None else None)
    raise ModelError(f"cannot take a raster georeference from {type(obj).__name__}")


def _checked(array_dbm: Any, georef: Any) -> CoverageRaster:
    arr = np.asarray(array_dbm)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ModelError(f"coverage raster must be a non-empty 2-D array, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise ModelError(f"coverage raster must be real numbers [dBm], got dtype {arr.dtype}")
    g = as_georef(georef)
    if g.shape is not None and tuple(g.shape) != tuple(arr.shape):
        raise ModelError(f"coverage raster shape {arr.shape} differs from its georeference grid {g.shape}")
    if not (g.cell_x > 0 and g.cell_y > 0 and np.isfinite([g.x_min, g.y_max]).all()):
        raise ModelError(f"coverage raster georeference is invalid: {g}")
    out = arr.astype(np.float32)
    out[~np.isfinite(out)] = NODATA
    return CoverageRaster(out, Georef(g.x_min, g.y_max, g.cell_x, g.cell_y, g.crs, tuple(arr.shape)))


def as_coverage_raster(raster: Any) -> CoverageRaster | None:
    """Normalise the ``raster`` argument of :func:`~siteplan.report.write_outputs`: ``None``,
    a :class:`CoverageRaster`, a :class:`~siteplan.io.geotiff.GeoRaster` of RSRP [dBm], or a
    pair ``(array_dbm, georef)``."""
    if raster is None:
        return None
    if isinstance(raster, CoverageRaster):
        return _checked(raster.rsrp_dbm, raster.georef)
    if isinstance(raster, GeoRaster):
        data = np.asarray(raster.data, dtype=float)
        if raster.nodata is not None:
            data = np.where(data == raster.nodata, np.nan, data)
        return _checked(data, raster)
    if isinstance(raster, tuple) and len(raster) == 2:
        return _checked(*raster)
    raise ModelError(f"raster must be None, a CoverageRaster, a GeoRaster or (array_dbm, georef), "
                     f"got {type(raster).__name__}")


def write_coverage_raster(path: str | os.PathLike, array_dbm: Any, terrain_or_georef: Any) -> Path:
    """Write the best-server RSRP grid [dBm] as a float32 GeoTIFF, no-data :data:`NODATA`.

    ``array_dbm`` is (ny, nx), row 0 north; NaN/inf cells become no-data.
    ``terrain_or_georef`` is the Terrain it was computed on (shapes must match) or any
    georeference :func:`as_georef` takes.
    """
    r = _checked(array_dbm, terrain_or_georef)
    g = r.georef
    return write_geotiff(path, r.rsrp_dbm, x_min=g.x_min, y_max=g.y_max, cell_size=(g.cell_x, g.cell_y),
                         crs=g.crs, nodata=NODATA)
