"""Write a :class:`Generated` scenario as a folder: TOML manifest, CSV tables, GeoTIFF DEM.

Output is byte-for-byte deterministic: fixed column order, fixed float formats
(lon/lat ``%.6f`` [deg], lengths ``%.1f`` [m], costs ``%.0f`` [CNY]), ``\\n`` line ends,
UTF-8 without BOM, and a GeoTIFF without time stamps.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np
import tomli_w

from siteplan.generate._manifest import DEM_FILE, TABLE_FILES
from siteplan.generate._pipeline import OPERATORS, Generated
from siteplan.io.atomic import atomic_directory, atomic_write_text
from siteplan.io.geotiff import write_geotiff

__all__ = ["write_generated"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _b(v) -> str:
    return "true" if v else "false"


def _f6(v) -> str:
    return f"{float(v):.6f}"


def _csv(path: Path, header: list[str], columns: list[list[str]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(zip(*columns))
    atomic_write_text(path, buf.getvalue())


def write_generated(g: Generated, out_dir: str | os.PathLike) -> Path:
    """Write ``g`` into ``out_dir`` (replaced atomically as a whole); return the folder."""
    out = Path(out_dir)
    with atomic_directory(out) as stage:
        os.chmod(stage, 0o777 & ~_umask())     # mkdtemp makes 0700; a scenario folder is shared data
        atomic_write_text(stage / "scenario.toml", tomli_w.dumps(g.manifest))
        v = g.villages
        _csv(stage / TABLE_FILES["villages"],
             ["id", "name", "district", "town", "lon", "lat", "population", "households", "poor", "ur_code",
              "synthetic"],
             [list(v["id"]), list(v["name"]), list(v["district"]), list(v["town"]),
              [_f6(x) for x in v["lon"]], [_f6(x) for x in v["lat"]],
              [str(int(x)) for x in v["population"]], [str(int(x)) for x in v["households"]],
              [_b(x) for x in v["poor"]], [str(int(x)) for x in v["ur_code"]], [_b(x) for x in v["synthetic"]]])
        s = g.sites
        names = [o["name"] for o in OPERATORS]
        tenants = [";".join(n for n, t in zip(names, row) if t) for row in s["tenants"]]
        _csv(stage / TABLE_FILES["sites"],
             ["id", "lon", "lat", "kind", "height_m", "build_cost", "max_tenants", "tenants"],
             [list(s["id"]), [_f6(x) for x in s["lon"]], [_f6(x) for x in s["lat"]], list(s["kind"]),
              [f"{x:.1f}" for x in s["height_m"]], [f"{x:.0f}" for x in s["build_cost"]],
              [str(int(x)) for x in s["max_tenants"]], tenants])
        f = g.facilities
        vid = g.villages["id"]
        _csv(stage / TABLE_FILES["facilities"],
             ["id", "kind", "village_id", "lon", "lat", "bandwidth_mbps"],
             [list(f["id"]), list(f["kind"]), [vid[i] for i in f["village"]],
              [_f6(x) for x in f["lon"]], [_f6(x) for x in f["lat"]], [f"{x:.1f}" for x in f["bandwidth_mbps"]]])
        n = g.road_nodes
        _csv(stage / TABLE_FILES["road_nodes"], ["id", "lon", "lat", "pop"],
             [list(n["id"]), [_f6(x) for x in n["lon"]], [_f6(x) for x in n["lat"]], [_b(x) for x in n["pop"]]])
        e = g.road_edges
        _csv(stage / TABLE_FILES["road_edges"], ["from", "to", "length_m", "road_class", "existing"],
             [list(e["from"]), list(e["to"]), [f"{x:.1f}" for x in e["length_m"]], list(e["road_class"]),
              list(e["existing"])])
        write_geotiff(stage / DEM_FILE, np.ascontiguousarray(g.dem, dtype=np.int16), x_min=g.grid.x_min,
                      y_max=g.grid.y_max, cell_size=g.grid.cell, crs=g.crs, compress=True)
    return out
