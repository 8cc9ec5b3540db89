"""GeoTIFF read/write with tifffile, honouring the GeoTIFF 1.0 georeference tags.

Only north-up rasters (no rotation) are supported; that is what DEMs and coverage
rasters are. The CRS is carried as an EPSG code (projected or geographic).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from siteplan.config import MAX_RASTER_CELLS
from siteplan.exceptions import Problem, TerrainError
from siteplan.io.atomic import atomic_path

__all__ = ["GeoRaster", "read_geotiff", "write_geotiff"]

_TAG_PIXEL_SCALE = 33550
_TAG_TIEPOINT = 33922
_TAG_TRANSFORMATION = 34264
_TAG_GEOKEYS = 34735
_TAG_GDAL_NODATA = 42113

_KEY_MODEL_TYPE = 1024      # 1 projected, 2 geographic
_KEY_RASTER_TYPE = 1025     # 1 PixelIsArea, 2 PixelIsPoint
_KEY_GEOGRAPHIC = 2048
_KEY_PROJECTED = 3072


@dataclass(frozen=True)
class GeoRaster:
    """A north-up raster: ``data[i, j]`` covers the cell whose north-west corner is
    ``(x_min + j * cell_x, y_max - i * cell_y)`` in ``crs`` units."""

    data: np.ndarray
    x_min: float
    y_max: float
    cell_x: float
    cell_y: float
    crs: str            # "EPSG:n"
    nodata: float | None = None


def write_geotiff(path: str | os.PathLike, data: np.ndarray, *, x_min: float, y_max: float,
                  cell_size: float | tuple[float, float], crs: str, nodata: float | None = None,
                  compress: bool = True) -> Path:
    """Write a single-band north-up GeoTIFF atomically.

    Parameters
    ----------
    data : 2-D array (ny, nx), row 0 north.
    x_min, y_max : outer corner of the north-west cell [CRS units, m or deg].
    cell_size : cell width (and height) [CRS units].
    crs : ``"EPSG:<code>"``; geographic when the code is 4326 or another lon/lat CRS.
    nodata : value written to the GDAL_NODATA tag, or ``None``.
    """
    import tifffile

    data = np.ascontiguousarray(data)
    if data.ndim != 2:
        raise ValueError("write_geotiff needs a 2-D array")
    cx, cy = (cell_size, cell_size) if np.isscalar(cell_size) else cell_size
    epsg = _epsg_code(crs)
    geographic = _is_geographic(epsg)
    keys = [
        (_KEY_MODEL_TYPE, 0, 1, 2 if geographic else 1),
        (_KEY_RASTER_TYPE, 0, 1, 1),
        ((_KEY_GEOGRAPHIC if geographic else _KEY_PROJECTED), 0, 1, epsg),
    ]
    geokeys = [1, 1, 0, len(keys)]
    for k in keys:
        geokeys.extend(k)
    extratags = [
        (_TAG_PIXEL_SCALE, "d", 3, (float(cx), float(cy), 0.0), True),
        (_TAG_TIEPOINT, "d", 6, (0.0, 0.0, 0.0, float(x_min), float(y_max), 0.0), True),
        (_TAG_GEOKEYS, "H", len(geokeys), tuple(int(g) for g in geokeys), True),
    ]
    if nodata is not None:
        extratags.append((_TAG_GDAL_NODATA, "s", 0, _nodata_text(nodata), True))
    target = Path(path)
    with atomic_path(target) as tmp:
        tile = (256, 256) if min(data.shape) >= 256 else None
        tifffile.imwrite(tmp, data, photometric="minisblack", extratags=extratags,
                         compression=("zlib" if compress else None), tile=tile,
                         metadata=None)
    return target


def read_geotiff(path: str | os.PathLike) -> GeoRaster:
    """Read a single-band north-up GeoTIFF with its georeference.

    Raises :class:`TerrainError` naming the file when it is not a TIFF, has no
    georeference, is rotated, has several bands, or exceeds the raster size limit.
    """
    import tifffile

    path = Path(path)
    fname = str(path)
    if not path.is_file():
        raise TerrainError(Problem(fname, None, None, "file not found"))
    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            shape = page.shape
            if len(shape) != 2:
                raise TerrainError(Problem(fname, None, "bands", "must be a single-band 2-D raster", f"shape {shape}"))
            if shape[0] * shape[1] > MAX_RASTER_CELLS:
                raise TerrainError(Problem(fname, None, "size", f"raster larger than {MAX_RASTER_CELLS} cells",
                                           f"{shape[0]}x{shape[1]}"))
            tags = {t.code: t.value for t in page.tags.values()}
            data = page.asarray()
    except TerrainError:
        raise
    except Exception as exc:  # tifffile raises many kinds on garbage
        raise TerrainError(Problem(fname, None, None, "not a readable TIFF file", f"{type(exc).__name__}: {exc}")) from None

    geokeys = tags.get(_TAG_GEOKEYS)
    if geokeys is None or (_TAG_TIEPOINT not in tags and _TAG_TRANSFORMATION not in tags):
        raise TerrainError(Problem(fname, None, "georeference",
                                   "GeoTIFF needs GeoKeyDirectory and ModelTiepoint+ModelPixelScale (or ModelTransformation)",
                                   "missing"))
    keys = _parse_geokeys(geokeys)
    if _KEY_PROJECTED in keys and keys[_KEY_PROJECTED] not in (0, 32767):
        crs = f"EPSG:{keys[_KEY_PROJECTED]}"
    elif _KEY_GEOGRAPHIC in keys and keys[_KEY_GEOGRAPHIC] not in (0, 32767):
        crs = f"EPSG:{keys[_KEY_GEOGRAPHIC]}"
    else:
        raise TerrainError(Problem(fname, None, "crs", "GeoKeys must give an EPSG code (ProjectedCSType or GeographicType)",
                                   keys))
    pixel_is_point = keys.get(_KEY_RASTER_TYPE, 1) == 2
    if _TAG_TRANSFORMATION in tags:
        m = np.asarray(tags[_TAG_TRANSFORMATION], dtype=float).reshape(4, 4)
        if abs(m[0, 1]) > 1e-12 or abs(m[1, 0]) > 1e-12:
            raise TerrainError(Problem(fname, None, "ModelTransformation", "rotated rasters are not supported", m[:2, :2].tolist()))
        cx, cy = m[0, 0], -m[1, 1]
        x0, y0 = m[0, 3], m[1, 3]
    else:
        if _TAG_PIXEL_SCALE not in tags:
            raise TerrainError(Problem(fname, None, "ModelPixelScale", "missing with ModelTiepoint", None))
        sx, sy = tags[_TAG_PIXEL_SCALE][:2]
        tp = tags[_TAG_TIEPOINT]
        i, j, x, y = tp[0], tp[1], tp[3], tp[4]
        cx, cy = float(sx), float(sy)
        x0, y0 = x - i * cx, y + j * cy
    if not (cx > 0 and cy > 0):
        raise TerrainError(Problem(fname, None, "ModelPixelScale", "cell size must be > 0", (cx, cy)))
    if pixel_is_point:
        x0 -= cx / 2
        y0 += cy / 2
    nodata = None
    if _TAG_GDAL_NODATA in tags:
        try:
            nodata = float(str(tags[_TAG_GDAL_NODATA]).strip("\x00 "))
        except ValueError:
            nodata = None
    return GeoRaster(data=data, x_min=float(x0), y_max=float(y0), cell_x=float(cx), cell_y=float(cy),
                     crs=crs, nodata=nodata)


def _parse_geokeys(directory) -> dict[int, int]:
    d = [int(v) for v in directory]
    n = d[3] if len(d) >= 4 else 0
    out = {}
    for k in range(n):
        key, loc, _count, value = d[4 + 4 * k: 8 + 4 * k]
        if loc == 0:
            out[key] = value
    return out


def _epsg_code(crs: str) -> int:
    text = str(crs).upper()
    if text in ("WGS84", "EPSG:4326"):
        return 4326
    if text.startswith("EPSG:") and text[5:].isdigit():
        return int(text[5:])
    raise ValueError(f"CRS must be 'EPSG:<code>', got {crs!r}")


def _is_geographic(epsg: int) -> bool:
    from pyproj import CRS

    return CRS.from_epsg(epsg).is_geographic


def _nodata_text(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))
