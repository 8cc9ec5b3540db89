"""The Shantou-2016 region from the real public data in ``shared/data/shantou/``.

Real: the NBS 2016 list of 7 districts, 69 towns and 1,074 villages (12-digit codes,
names, urban-rural codes), the Amap points of 66 town seats and 151 villages, the Amap
district outlines (all GCJ-02, converted here to WGS84 with
:func:`siteplan.io.crs.gcj02_to_wgs84`), and the coarse pvlib altitude grid (WGS84).
See ``instances/README.md`` for the sources and what is generated from them.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import os
from pathlib import Path

import numpy as np

from siteplan.exceptions import Problem, ScenarioError
from siteplan.generate._region import District, Region, Spec
from siteplan.io.crs import gcj02_to_wgs84

__all__ = ["shared_data_dir", "load_shantou_region", "shantou_spec", "DISTRICT_CODES", "VILLAGES_FILE",
           "ALTITUDE_FILE", "FENCES_DIR"]

VILLAGES_FILE = "nbs2016_shantou_adcode_vonng.csv"
ALTITUDE_FILE = "terrain_pvlib_altitude_5arcmin.csv"
FENCES_DIR = "fences_vonng"
#: The seven county-level districts of Shantou (NBS adcodes), in code order.
DISTRICT_CODES = ("440507", "440511", "440512", "440513", "440514", "440515", "440523")


def shared_data_dir() -> Path:
    """``$SITEPLAN_SHARED/data/shantou`` or ``<repo>/../shared/data/shantou``."""
    env = os.environ.get("SITEPLAN_SHARED")
    root = Path(env) if env else Path(__file__).resolve().parents[3] / ".." / "shared"
    return (root / "data" / "shantou").resolve()


def _need(path: Path) -> Path:
    if not path.is_file():
        raise ScenarioError(Problem(str(path), None, None,
                                    "Shantou source data not found (set SITEPLAN_SHARED or pass --data)"))
    return path


def _rings_from_geojson(geom: dict) -> list[np.ndarray]:
    if geom["type"] == "Polygon":
        polys = [geom["coordinates"]]
    elif geom["type"] == "MultiPolygon":
        polys = geom["coordinates"]
    else:
        raise ScenarioError(Problem(None, None, "type", "district outline must be a Polygon or MultiPolygon",
                                    geom["type"]))
    rings = []
    for poly in polys:
        for ring in poly:
            a = np.asarray(ring, dtype=float)
            lon, lat = gcj02_to_wgs84(a[:, 0], a[:, 1])
            rings.append(np.column_stack([lon, lat]))
    return rings


def load_shantou_region(data_dir: str | os.PathLike | None = None) -> Region:
    """Read the real Shantou data into a :class:`Region` (WGS84)."""
    d = Path(data_dir) if data_dir is not None else shared_data_dir()
    with open(_need(d / VILLAGES_FILE), encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    counties = {r["code"][:6]: r["name"] for r in rows if r["level"] == "county" and r["virtual"] != "t"}
    districts = []
    for code in DISTRICT_CODES:
        with open(_need(d / FENCES_DIR / f"{code}.json"), encoding="utf-8") as fh:
            geom = json.load(fh)
        districts.append(District(code=code, name=counties[code], rings=tuple(_rings_from_geojson(geom))))
    dindex = {c: k for k, c in enumerate(DISTRICT_CODES)}

    towns = [r for r in rows if r["level"] == "town"]
    towns.sort(key=lambda r: r["code"])
    tindex = {r["code"]: k for k, r in enumerate(towns)}
    tlon = np.array([float(r["longitude"]) if r["longitude"] else np.nan for r in towns])
    tlat = np.array([float(r["latitude"]) if r["latitude"] else np.nan for r in towns])
    known = np.isfinite(tlon)
    tlon[known], tlat[known] = gcj02_to_wgs84(tlon[known], tlat[known])

    vil = [r for r in rows if r["level"] == "village"]
    vil.sort(key=lambda r: r["code"])
    vlon = np.array([float(r["longitude"]) if r["longitude"] else np.nan for r in vil])
    vlat = np.array([float(r["latitude"]) if r["latitude"] else np.nan for r in vil])
    known = np.isfinite(vlon)
    vlon[known], vlat[known] = gcj02_to_wgs84(vlon[known], vlat[known])

    with open(_need(d / ALTITUDE_FILE), encoding="utf-8", newline="") as fh:
        alt_rows = list(csv.DictReader(fh))
    lats = np.array(sorted({float(r["lat"]) for r in alt_rows}))
    lons = np.array(sorted({float(r["lon"]) for r in alt_rows}))
    alt = np.full((len(lats), len(lons)), np.nan)
    li = {v: k for k, v in enumerate(lats)}
    lj = {v: k for k, v in enumerate(lons)}
    for r in alt_rows:
        if r["altitude_m"] != "":
            alt[li[float(r["lat"])], lj[float(r["lon"])]] = float(r["altitude_m"])

    return Region(
        name="Shantou",
        districts=tuple(districts),
        town_code=np.array([r["code"] for r in towns], dtype=object),
        town_name=np.array([r["name"] for r in towns], dtype=object),
        town_district=np.array([dindex[r["code"][:6]] for r in towns], dtype=np.int64),
        town_lon=tlon, town_lat=tlat,
        village_code=np.array([r["code"] for r in vil], dtype=object),
        village_name=np.array([r["name"] for r in vil], dtype=object),
        village_town=np.array([tindex[r["parent"]] for r in vil], dtype=np.int64),
        village_ur=np.array([int(r["ur_code"]) for r in vil], dtype=np.int64),
        village_lon=vlon, village_lat=vlat,
        coarse_lon=lons, coarse_lat=lats, coarse_alt=alt,
    )


def programme_phases(stations_2016: int = 3001, sites_2016: int = 813, stations_2017: int = 2158,
                     sites_2017: int = 200, stations_2018=(0, 200), sites_2018=(0, 50)) -> tuple[dict, ...]:
    """The programme's three phases with their quotas and targets (manifest form).

    2016 (Apr-Dec): 3,001 new stations on 813 new sites; 2017: 2,158 stations on 200 sites
    (both exact, from the programme text). 2018 is "consolidate, operate and maintain": the
    text gives no construction numbers, so a small band lets a plan close remaining gaps.
    Targets: every poor village covered by the end of 2017; every village covered, and the
    facilities of poor villages (township government, committee, schools, agricultural base,
    e-commerce hub) plus every school on fiber by the end of 2018.
    """
    def q(v):
        return list(v) if isinstance(v, (tuple, list)) else int(v)

    return (
        {"name": "2016", "start": _dt.date(2016, 4, 1), "end": _dt.date(2016, 12, 31),
         "new_stations": q(stations_2016), "new_sites": q(sites_2016), "targets": []},
        {"name": "2017", "start": _dt.date(2017, 1, 1), "end": _dt.date(2017, 12, 31),
         "new_stations": q(stations_2017), "new_sites": q(sites_2017),
         "targets": [{"kind": "coverage", "villages": "poor", "share": 1.0}]},
        {"name": "2018", "start": _dt.date(2018, 1, 1), "end": _dt.date(2018, 12, 31),
         "new_stations": q(stations_2018), "new_sites": q(sites_2018),
         "targets": [{"kind": "coverage", "villages": "all", "share": 1.0},
                     {"kind": "fiber", "villages": "poor",
                      "facilities": ["township_government", "village_committee", "school", "agri_base",
                                     "ecommerce_hub"]},
                     {"kind": "fiber", "villages": "all", "facilities": ["school"]}]},
    )


def shantou_spec(region: Region) -> Spec:
    """Sizes of the full Shantou-2016 instance (the labels count what ``region`` lacks)."""
    n_v = len(region.village_code)
    n_v_syn = int((~np.isfinite(region.village_lon)).sum())
    n_t = len(region.town_code)
    n_t_syn = int((~np.isfinite(region.town_lon)).sum())
    return Spec(
        name="shantou-2016",
        description=("Shantou (汕头市) 2016-2018 informatisation for targeted poverty alleviation: real "
                     "NBS 2016 villages, towns and districts; generated locations (flagged), terrain "
                     "detail, population, facilities, towers and roads. See instances/README.md."),
        local_crs="EPSG:32650",
        cell_m=90.0,
        margin_m=3000.0,
        n_existing=2600,
        n_candidates=3000,
        poor_share=0.08,
        phases=programme_phases(),
        population_total=5_500_000,
        synthetic=(f"village locations where synthetic=true ({n_v_syn} of {n_v})", f"{n_t_syn} of {n_t} town seats",
                   "population", "households", "poor flags", "facilities", "sites", "roads",
                   "terrain detail below 8 km"),
    )
