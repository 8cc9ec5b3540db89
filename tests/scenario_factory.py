"""Builds small valid scenario folders for tests, which then break them on purpose."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

MANIFEST = """\
format_version = 1
name = "unit"
input_crs = "WGS84"
local_crs = "auto"

[tables]
villages = "villages.csv"
sites = "sites.csv"
demand_points = "demand_points.csv"
facilities = "facilities.csv"
road_nodes = "road_nodes.csv"
road_edges = "road_edges.csv"

[terrain]
dem = "dem.npy"

[[operators]]
name = "A"
threshold_dbm = -110.0
  [[operators.bands]]
  name = "B3"
  frequency_mhz = 1800.0
  rs_eirp_dbm = 32.0

[[operators]]
name = "B"
  [[operators.bands]]
  name = "B8"
  frequency_mhz = 900.0
  rs_eirp_dbm = 32.0

[[phases]]
name = "p1"
start = 2016-04-01
end = 2016-12-31
new_stations = 3
new_sites = 1
  [[phases.targets]]
  kind = "coverage"
  villages = "poor"

[[phases]]
name = "p2"
start = 2017-01-01
end = 2017-12-31
new_stations = [0, 2]
new_sites = [0, 1]
  [[phases.targets]]
  kind = "coverage"
  villages = "all"
  [[phases.targets]]
  kind = "fiber"
  villages = "all"
  facilities = ["village_committee", "school"]
"""

VILLAGES = """\
id,name,district,town,lon,lat,population,households,poor,ur_code,synthetic
V1,甲村,澄海区,莲下镇,116.700,23.400,1200,380,true,220,false
V2,乙村,澄海区,莲下镇,116.720,23.410,800,250,false,220,true
V3,丙居委会,金平区,石炮台街道,116.690,23.380,5000,1500,false,111,false
"""

DEMAND = """\
village_id,lon,lat,weight
V1,116.700,23.400,2
V1,116.702,23.401,1
V2,116.720,23.410,1
V3,116.690,23.380,1
"""

SITES = """\
id,lon,lat,kind,height_m,build_cost,max_tenants,tenants
S1,116.705,23.402,existing,40,,3,A
S2,116.715,23.405,existing,35,,3,A;B
C1,116.710,23.395,candidate,30,300000,3,
C2,116.695,23.385,candidate,30,,,
"""

FACILITIES = """\
id,kind,village_id,lon,lat,bandwidth_mbps
F1,village_committee,V1,116.700,23.400,
F2,school,V1,116.701,23.401,100
F3,school,V3,116.690,23.381,
"""

ROAD_NODES = """\
id,lon,lat,pop
N1,116.690,23.380,true
N2,116.700,23.400,false
N3,116.720,23.410,false
"""

ROAD_EDGES = """\
from,to,length_m,road_class,existing
N1,N2,2500,primary,fiber
N2,N3,2200,rural,none
"""

FILES = {
    "scenario.toml": MANIFEST,
    "villages.csv": VILLAGES,
    "demand_points.csv": DEMAND,
    "sites.csv": SITES,
    "facilities.csv": FACILITIES,
    "road_nodes.csv": ROAD_NODES,
    "road_edges.csv": ROAD_EDGES,
}


def write_dem(folder: Path, *, shape=(40, 40), meta=None) -> None:
    """A WGS84 DEM covering lon 116.6-116.8, lat 23.3-23.5 (0.005 deg cells)."""
    rng = np.random.default_rng(0)
    z = (rng.random(shape) * 50).astype(np.float32)
    np.save(folder / "dem.npy", z)
    m = {"crs": "EPSG:4326", "x_min": 116.6, "y_max": 23.5, "cell_size": 0.2 / shape[1]}
    if meta is not None:
        m = meta
    (folder / "dem.json").write_text(json.dumps(m))


def make_scenario(folder: Path, **replace: str) -> Path:
    """Write the unit scenario into ``folder``; ``replace`` maps file names to new text."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in FILES.items():
        text = replace.get(name, text)
        if text is not None:
            (folder / name).write_text(text, encoding="utf-8")
    write_dem(folder)
    return folder
