"""Terrain readers: GeoTIFF, SRTM ``.hgt`` (1" and 3"), and ``.npy`` + JSON sidecar.

Every reader returns the raster in its own CRS (:class:`GeoRaster`);
:func:`to_local_terrain` puts it on a north-up grid in the scenario's local metric CRS
(as is when the CRS already matches, else by bilinear resampling at about the native
resolution) and returns a :class:`~siteplan.model.Terrain`.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import numpy as np

from siteplan.config import MAX_RASTER_CELLS
from siteplan.exceptions import Problem, TerrainError
from siteplan.io.geotiff import GeoRaster, read_geotiff
from siteplan.model.terrain import Terrain

__all__ = ["read_dem", "read_hgt", "read_npy_dem", "to_local_terrain", "raster_contains"]

_HGT_NAME = re.compile(r"^([NS])(\d{2})([EW])(\d{3})$", re.IGNORECASE)
_HGT_SIZES = {1201 * 1201 * 2: 1201, 3601 * 3601 * 2: 3601}


def read_dem(path: str | os.PathLike) -> GeoRaster:
    """Read a DEM by extension: ``.tif``/``.tiff``, ``.hgt``, ``.npy``."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext in (".tif", ".tiff"):
        r = read_geotiff(path)
    elif ext == ".hgt":
        r = read_hgt(path)
    elif ext == ".npy":
        r = read_npy_dem(path)
    else:
        raise TerrainError(Problem(str(path), None, "dem", "terrain must be .tif/.tiff, .hgt or .npy", path.suffix))
    data = np.asarray(r.data)
    if not np.issubdtype(data.dtype, np.number):
        raise TerrainError(Problem(str(path), None, "dtype", "elevations must be numbers", str(data.dtype)))
    return r


def read_hgt(path: str | os.PathLike) -> GeoRaster:
    """Read an SRTM ``.hgt`` tile (big-endian int16, 1201² = 3", 3601² = 1").

    The tile's south-west corner comes from the file name (``N23E116.hgt``); samples
    are cell centres (PixelIsPoint), so the raster's outer edge extends half a cell
    beyond the integer degrees. Voids (-32768) are set to 0 m.
    """
    path = Path(path)
    fname = str(path)
    if not path.is_file():
        raise TerrainError(Problem(fname, None, None, "file not found"))
    m = _HGT_NAME.match(path.stem)
    if not m:
        raise TerrainError(Problem(fname, None, "name", "SRTM tile name must look like N23E116.hgt", path.name))
    size = path.stat().st_size
    if size not in _HGT_SIZES:
        raise TerrainError(Problem(fname, None, "size", "SRTM .hgt must hold 1201x1201 (3\") or 3601x3601 (1\") int16 samples",
                                   f"{size} bytes"))
    n = _HGT_SIZES[size]
    data = np.fromfile(path, dtype=">i2").reshape(n, n).astype(np.float32)
    data[data == -32768] = 0.0
    lat0 = int(m.group(2)) * (1 if m.group(1).upper() == "N" else -1)
    lon0 = int(m.group(4)) * (1 if m.group(3).upper() == "E" else -1)
    step = 1.0 / (n - 1)
    return GeoRaster(data=data, x_min=lon0 - step / 2, y_max=lat0 + 1 + step / 2, cell_x=step, cell_y=step,
                     crs="EPSG:4326", nodata=None)


def read_npy_dem(path: str | os.PathLike) -> GeoRaster:
    """Read ``name.npy`` with its sidecar ``name.json``:
    ``{"crs": "EPSG:32650", "x_min": .., "y_max": .., "cell_size": ..}``."""
    path = Path(path)
    fname = str(path)
    side = path.with_suffix(".json")
    if not path.is_file():
        raise TerrainError(Problem(fname, None, None, "file not found"))
    if not side.is_file():
        raise TerrainError(Problem(str(side), None, None, "sidecar with the georeference not found (no georeference)"))
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise TerrainError(Problem(str(side), None, None, "sidecar is not valid JSON", str(exc))) from None
    problems = []
    if not isinstance(meta, dict):
        raise TerrainError(Problem(str(side), None, None, "sidecar must be a JSON object", type(meta).__name__))
    for key in ("crs", "x_min", "y_max", "cell_size"):
        if key not in meta:
            problems.append(Problem(str(side), None, key, "required key is missing"))
    TerrainError.collect(problems)
    for key in ("x_min", "y_max", "cell_size"):
        v = meta[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            problems.append(Problem(str(side), None, key, "must be a finite number", v))
    if not problems and meta["cell_size"] <= 0:
        problems.append(Problem(str(side), None, "cell_size", "must be > 0", meta["cell_size"]))
    crs = str(meta["crs"])
    if not (crs.upper().startswith("EPSG:") and crs[5:].isdigit()):
        problems.append(Problem(str(side), None, "crs", "must be 'EPSG:<code>'", crs))
    TerrainError.collect(problems)
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as exc:  # numpy raises ValueError/OSError on garbage
        raise TerrainError(Problem(fname, None, None, "not a readable .npy array", str(exc))) from None
    if arr.ndim != 2:
        raise TerrainError(Problem(fname, None, "shape", "DEM must be a 2-D array", arr.shape))
    if arr.size > MAX_RASTER_CELLS:
        raise TerrainError(Problem(fname, None, "size", f"raster larger than {MAX_RASTER_CELLS} cells", arr.shape))
    if "shape" in meta and list(meta["shape"]) != list(arr.shape):
        raise TerrainError(Problem(str(side), None, "shape", f"sidecar shape differs from the array's {list(arr.shape)}",
                                   meta["shape"]))
    c = float(meta["cell_size"])
    return GeoRaster(data=np.array(arr, dtype=np.float32), x_min=float(meta["x_min"]), y_max=float(meta["y_max"]),
                     cell_x=c, cell_y=c, crs=crs.upper(), nodata=meta.get("nodata"))


def raster_contains(r: GeoRaster, x, y) -> np.ndarray:
    """True where points in the raster's CRS lie inside its outer edges."""
    ny, nx = r.data.shape
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    return ((x >= r.x_min) & (x <= r.x_min + nx * r.cell_x) & (y <= r.y_max) & (y >= r.y_max - ny * r.cell_y))


def _clean(r: GeoRaster) -> np.ndarray:
    z = np.asarray(r.data, dtype=np.float32).copy()
    bad = ~np.isfinite(z)
    if r.nodata is not None:
        bad |= z == np.float32(r.nodata)
    z[bad] = 0.0
    return z


def to_local_terrain(r: GeoRaster, local_crs: str, *, source: str = "", clutter: GeoRaster | None = None) -> Terrain:
    """Put a DEM (and optional clutter raster on the same grid) onto the local CRS grid."""
    z = _clean(r)
    clut = None
    if clutter is not None:
        if clutter.data.shape != r.data.shape:
            raise TerrainError(Problem(source or "clutter", None, "shape", "clutter raster must have the DEM's shape",
                                       clutter.data.shape))
        clut = np.asarray(clutter.data).astype(np.int16)
    if r.crs.upper() == local_crs.upper() and abs(r.cell_x - r.cell_y) < 1e-9 * max(r.cell_x, 1.0):
        return Terrain(elevation_m=z, x_min=r.x_min, y_max=r.y_max, cell_m=float(r.cell_x), crs=local_crs,
                       clutter=clut, source=source)
    from pyproj import CRS, Transformer

    src_crs = CRS.from_user_input(r.crs)
    fwd = Transformer.from_crs(src_crs, local_crs, always_xy=True)
    inv = Transformer.from_crs(local_crs, src_crs, always_xy=True)
    ny, nx = z.shape
    xs = r.x_min + np.array([0, nx / 2, nx]) * r.cell_x
    ys = r.y_max - np.array([0, ny / 2, ny]) * r.cell_y
    gx, gy = np.meshgrid(xs, ys)
    lx, ly = fwd.transform(gx.ravel(), gy.ravel())
    if src_crs.is_geographic:
        lat_c = r.y_max - ny * r.cell_y / 2
        cell = r.cell_y * 111_320.0 * max(math.cos(math.radians(lat_c)), 0.2)
        cell = min(cell, r.cell_y * 111_320.0)
    else:
        cell = min(r.cell_x, r.cell_y) * src_crs.axis_info[0].unit_conversion_factor
    cell = float(max(round(cell, 3), 1e-3))
    x0, x1 = float(np.min(lx)), float(np.max(lx))
    y0, y1 = float(np.min(ly)), float(np.max(ly))
    nxl = max(1, int(math.ceil((x1 - x0) / cell)))
    nyl = max(1, int(math.ceil((y1 - y0) / cell)))
    if nxl * nyl > MAX_RASTER_CELLS:
        raise TerrainError(Problem(source or "terrain", None, "size", "resampled raster exceeds the size limit",
                                   f"{nyl}x{nxl}"))
    out = np.zeros((nyl, nxl), dtype=np.float32)
    cl_out = None if clut is None else np.zeros((nyl, nxl), dtype=np.int16)
    cx = x0 + (np.arange(nxl) + 0.5) * cell
    for i0 in range(0, nyl, 256):                       # in blocks: bounded memory
        rows = np.arange(i0, min(nyl, i0 + 256))
        cy = y1 - (rows + 0.5) * cell
        gx, gy = np.meshgrid(cx, cy)
        sx, sy = inv.transform(gx.ravel(), gy.ravel())
        fj = (np.asarray(sx) - r.x_min) / r.cell_x - 0.5
        fi = (r.y_max - np.asarray(sy)) / r.cell_y - 0.5
        out[rows[0]:rows[-1] + 1] = _bilinear(z, fi, fj).reshape(len(rows), nxl)
        if cl_out is not None:
            ii = np.clip(np.round(fi).astype(np.int64), 0, ny - 1)
            jj = np.clip(np.round(fj).astype(np.int64), 0, nx - 1)
            cl_out[rows[0]:rows[-1] + 1] = clut[ii, jj].reshape(len(rows), nxl)
    note = f"{source} (resampled from {r.crs} to {local_crs} at {cell:g} m)"
    return Terrain(elevation_m=out, x_min=x0, y_max=y1, cell_m=cell, crs=local_crs, clutter=cl_out, source=note)


def _bilinear(z: np.ndarray, fi: np.ndarray, fj: np.ndarray) -> np.ndarray:
    ny, nx = z.shape
    outside = (fi < -0.5) | (fi > ny - 0.5) | (fj < -0.5) | (fj > nx - 0.5)
    fi = np.clip(fi, 0, ny - 1)
    fj = np.clip(fj, 0, nx - 1)
    i0 = np.minimum(np.floor(fi).astype(np.int64), max(ny - 2, 0))
    j0 = np.minimum(np.floor(fj).astype(np.int64), max(nx - 2, 0))
    i1 = np.minimum(i0 + 1, ny - 1)
    j1 = np.minimum(j0 + 1, nx - 1)
    ti = fi - i0
    tj = fj - j0
    v = (z[i0, j0] * (1 - tj) + z[i0, j1] * tj) * (1 - ti) + (z[i1, j0] * (1 - tj) + z[i1, j1] * tj) * ti
    v[outside] = 0.0
    return v.astype(np.float32)
