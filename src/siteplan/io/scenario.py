"""Read a scenario folder into a validated :class:`~siteplan.model.Scenario`.

The folder's manifest names its tables and rasters (see ``docs/scenario-format.md``).
Reading converts coordinates (GCJ-02 -> WGS84 when declared, then WGS84 -> the local UTM
CRS), fills documented defaults, and checks every rule; all problems of a table are
reported together in one :class:`~siteplan.exceptions.ScenarioError`.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from siteplan.exceptions import MAX_REPORTED_PROBLEMS, Problem, ScenarioError, TerrainError, UnsafePathError
from siteplan.io.crs import Projector, gcj02_to_wgs84, utm_crs_for
from siteplan.io.manifest import find_manifest, read_manifest
from siteplan.io.tables import Column, Table, check_reference, check_unique, read_table
from siteplan.io.terrain import raster_contains, read_dem, to_local_terrain
from siteplan.model.params import Manifest
from siteplan.model.scenario import Scenario
from siteplan.model.tables import (
    EXISTING_KINDS,
    FACILITY_KINDS,
    ROAD_CLASSES,
    UR_CODES,
    DemandPoints,
    Facilities,
    RoadNetwork,
    Sites,
    Villages,
)

__all__ = [
    "read_scenario",
    "resolve_inside",
    "default_demand_points",
    "VILLAGE_COLUMNS",
    "DEMAND_COLUMNS",
    "SITE_COLUMNS",
    "FACILITY_COLUMNS",
    "ROAD_NODE_COLUMNS",
    "ROAD_EDGE_COLUMNS",
]

_LON = dict(kind="float", min=-180.0, max=180.0, unit="deg")
_LAT = dict(kind="float", min=-90.0, max=90.0, unit="deg")

VILLAGE_COLUMNS = (
    Column("id", nonempty=True),
    Column("name"),
    Column("district"),
    Column("town"),
    Column("lon", **_LON),
    Column("lat", **_LAT),
    Column("population", kind="int", min=0, unit="persons"),
    Column("households", kind="int", required=False, min=0, unit="households"),
    Column("poor", kind="bool", required=False, default=False),
    Column("ur_code", kind="int", required=False, default=220),
    Column("synthetic", kind="bool", required=False, default=False),
)
DEMAND_COLUMNS = (
    Column("village_id"),
    Column("lon", **_LON),
    Column("lat", **_LAT),
    Column("weight", kind="float", required=False, default=1.0, gt=0.0),
)
SITE_COLUMNS = (
    Column("id"),
    Column("lon", **_LON),
    Column("lat", **_LAT),
    Column("kind", kind="enum", choices=("existing", "candidate")),
    Column("height_m", kind="float", gt=0.0, max=300.0, unit="m"),
    Column("build_cost", kind="float", required=False, min=0.0, unit="CNY"),
    Column("max_tenants", kind="int", required=False, min=1, max=10),
    Column("tenants", required=False, default=""),
)
FACILITY_COLUMNS = (
    Column("id"),
    Column("kind", kind="enum", choices=FACILITY_KINDS),
    Column("village_id"),
    Column("lon", **_LON),
    Column("lat", **_LAT),
    Column("bandwidth_mbps", kind="float", required=False, gt=0.0, unit="Mbit/s"),
)
ROAD_NODE_COLUMNS = (
    Column("id"),
    Column("lon", **_LON),
    Column("lat", **_LAT),
    Column("pop", kind="bool", required=False, default=False),
)
ROAD_EDGE_COLUMNS = (
    Column("from"),
    Column("to"),
    Column("length_m", kind="float", gt=0.0, unit="m"),
    Column("road_class", kind="enum", choices=ROAD_CLASSES),
    Column("existing", kind="enum", required=False, default="none", choices=EXISTING_KINDS),
)


def resolve_inside(folder: Path, rel: str, key: str, manifest_name: str) -> Path:
    """Resolve a manifest path inside ``folder``; refuse absolute paths, ``..`` and links out."""
    p = Path(rel)
    if p.is_absolute() or rel.startswith(("/", "\\")) or (len(rel) > 1 and rel[1] == ":"):
        raise UnsafePathError(Problem(manifest_name, None, key, "path must be relative to the scenario folder", rel))
    if ".." in p.parts:
        raise UnsafePathError(Problem(manifest_name, None, key, "path must not leave the scenario folder ('..')", rel))
    base = folder.resolve()
    full = (folder / p).resolve()
    try:
        full.relative_to(base)
    except ValueError:
        raise UnsafePathError(Problem(manifest_name, None, key, "path leaves the scenario folder through a link", rel)) from None
    return folder / p


def default_demand_points(village_lon, village_lat, population, proj: Projector, ids) -> tuple:
    """Demand points generated around each village when no table is given.

    The village point itself plus a ring of ``k = min(6, population // 1000)`` points at
    radius ``r = clip(250 + 4 sqrt(population), 300, 1500)`` [m]; the ring is rotated by an
    angle derived from the village id, so the layout is deterministic. The centre carries
    half the weight, the ring shares the other half.
    Returns ``(village_index, x_m, y_m, weight)``.
    """
    vx, vy = proj.to_local(village_lon, village_lat)
    vidx, xs, ys, ws = [], [], [], []
    for i in range(len(vx)):
        pop = int(population[i])
        k = int(min(6, pop // 1000))
        vidx.append(i)
        xs.append(vx[i])
        ys.append(vy[i])
        ws.append(1.0 if k == 0 else 0.5)
        if k:
            r = float(np.clip(250.0 + 4.0 * np.sqrt(pop), 300.0, 1500.0))
            rot = (int(hashlib.sha256(str(ids[i]).encode()).hexdigest()[:8], 16) % 360) * np.pi / 180.0
            ang = rot + 2 * np.pi * np.arange(k) / k
            vidx.extend([i] * k)
            xs.extend(vx[i] + r * np.sin(ang))
            ys.extend(vy[i] + r * np.cos(ang))
            ws.extend([0.5 / k] * k)
    return (np.asarray(vidx, dtype=np.int32), np.asarray(xs), np.asarray(ys), np.asarray(ws, dtype=float))


def _to_wgs84(manifest: Manifest, lon, lat):
    if manifest.input_crs == "GCJ-02":
        return gcj02_to_wgs84(lon, lat)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def read_scenario(path: str | os.PathLike) -> Scenario:
    """Read and validate a scenario folder (or its ``scenario.toml``).

    Returns a frozen :class:`~siteplan.model.Scenario` whose arrays are read-only and
    whose coordinates are in a local UTM CRS [m]. Raises
    :class:`~siteplan.exceptions.ScenarioError` (or :class:`TerrainError`,
    :class:`UnsafePathError`) naming file, row, field, rule and value of every problem.
    """
    mpath = find_manifest(path)
    folder = mpath.parent
    mname = str(mpath)
    manifest = read_manifest(mpath)
    t = manifest.tables

    def table(key: str, rel: str | None, cols) -> Table | None:
        if rel is None:
            return None
        return read_table(resolve_inside(folder, rel, f"tables.{key}", mname), cols)

    vt = table("villages", t.villages, VILLAGE_COLUMNS)
    st = table("sites", t.sites, SITE_COLUMNS)
    dt = table("demand_points", t.demand_points, DEMAND_COLUMNS)
    ft = table("facilities", t.facilities, FACILITY_COLUMNS)
    nt = table("road_nodes", t.road_nodes, ROAD_NODE_COLUMNS)
    et = table("road_edges", t.road_edges, ROAD_EDGE_COLUMNS)

    problems: list[Problem] = []
    # --- villages -------------------------------------------------------------------
    check_unique(vt, "id", problems)
    bad_ur = ~np.isin(vt["ur_code"], list(UR_CODES))
    for i in np.flatnonzero(bad_ur)[:MAX_REPORTED_PROBLEMS]:
        problems.append(Problem(vt.path, int(vt["__row__"][i]), "ur_code",
                                f"must be an NBS urban-rural code ({', '.join(map(str, UR_CODES))})", int(vt["ur_code"][i])))
    vindex = {v: i for i, v in enumerate(vt["id"])}
    vlon, vlat = _to_wgs84(manifest, vt["lon"], vt["lat"])
    local = manifest.local_crs if manifest.local_crs != "auto" else utm_crs_for(float(np.mean(vlon)), float(np.mean(vlat)))
    proj = Projector(local)
    vx, vy = proj.to_local(vlon, vlat)
    households = vt["households"] if "households" in vt.present else np.round(vt["population"] / 3.2).astype(np.int64)

    # --- sites -----------------------------------------------------------------------
    op_names = [o.name for o in manifest.operators]
    check_unique(st, "id", problems)
    existing = st["kind"] == "existing"
    max_ten = st["max_tenants"] if "max_tenants" in st.present else np.full(st.n_rows, manifest.sharing.max_tenants)
    if "max_tenants" in st.present:  # empty cells read as 0: the manifest's default applies
        max_ten = np.where(max_ten == 0, manifest.sharing.max_tenants, max_ten)
    tenants = np.zeros((st.n_rows, len(op_names)), dtype=bool)
    for i, cell in enumerate(st["tenants"]):
        if not cell:
            continue
        names = [s.strip() for s in str(cell).split(";") if s.strip()]
        row = int(st["__row__"][i])
        for nm in names:
            if nm not in op_names:
                problems.append(Problem(st.path, row, "tenants", f"unknown operator (known: {', '.join(op_names)})", nm))
            else:
                k = op_names.index(nm)
                if tenants[i, k]:
                    problems.append(Problem(st.path, row, "tenants", "operator listed twice", nm))
                tenants[i, k] = True
        if names and not existing[i]:
            problems.append(Problem(st.path, row, "tenants", "only existing sites can have current tenants", cell))
        if len(names) > max_ten[i]:
            problems.append(Problem(st.path, row, "tenants", f"more tenants than max_tenants={int(max_ten[i])}", cell))
    build_cost = st["build_cost"].copy()
    missing_cost = ~np.isfinite(build_cost)
    build_cost[missing_cost & ~existing] = manifest.costs.site_build_cny
    build_cost[missing_cost & existing] = 0.0
    slon, slat = _to_wgs84(manifest, st["lon"], st["lat"])
    sx, sy = proj.to_local(slon, slat)

    # --- demand points -------------------------------------------------------------------
    if dt is not None:
        dv = check_reference(dt, "village_id", vindex, "village id", problems)
        dlon, dlat = _to_wgs84(manifest, dt["lon"], dt["lat"])
        dx, dy = proj.to_local(dlon, dlat)
        w = dt["weight"].astype(float)
        ok = dv >= 0
        sums = np.bincount(dv[ok], weights=w[ok], minlength=len(vt["id"]))
        lacking = np.flatnonzero(sums <= 0)
        for i in lacking[:MAX_REPORTED_PROBLEMS]:
            problems.append(Problem(dt.path, None, "village_id", "every village needs at least one demand point",
                                    vt["id"][i]))
        weight = np.where(ok, w / np.where(sums[np.maximum(dv, 0)] > 0, sums[np.maximum(dv, 0)], 1.0), 0.0)
        generated = False
    else:
        dv, dx, dy, weight = default_demand_points(vlon, vlat, vt["population"], proj, vt["id"])
        dlon, dlat = proj.to_wgs84(dx, dy)
        generated = True

    # --- facilities ----------------------------------------------------------------------
    if ft is not None:
        check_unique(ft, "id", problems)
        fv = check_reference(ft, "village_id", vindex, "village id", problems)
        flon, flat = _to_wgs84(manifest, ft["lon"], ft["lat"])
        fx, fy = proj.to_local(flon, flat)
        bw = ft["bandwidth_mbps"].copy()
        need = np.array([manifest.bandwidth_mbps[k] if k in manifest.bandwidth_mbps else np.nan for k in ft["kind"]])
        bw = np.where(np.isfinite(bw), bw, need)
        facilities = Facilities(id=ft["id"], kind=ft["kind"], village=fv, lon=flon, lat=flat, x_m=fx, y_m=fy,
                                bandwidth_mbps=bw)
    else:
        facilities = Facilities.empty()

    # --- roads ---------------------------------------------------------------------------
    if nt is not None:
        check_unique(nt, "id", problems)
        nindex = {v: i for i, v in enumerate(nt["id"])}
        eu = check_reference(et, "from", nindex, "road node id", problems)
        ev = check_reference(et, "to", nindex, "road node id", problems)
        loops = (eu == ev) & (eu >= 0)
        for i in np.flatnonzero(loops)[:MAX_REPORTED_PROBLEMS]:
            problems.append(Problem(et.path, int(et["__row__"][i]), "to", "edge must join two different nodes",
                                    et["to"][i]))
        nlon, nlat = _to_wgs84(manifest, nt["lon"], nt["lat"])
        nx_, ny_ = proj.to_local(nlon, nlat)
        roads = RoadNetwork(node_id=nt["id"], lon=nlon, lat=nlat, x_m=nx_, y_m=ny_, pop=nt["pop"],
                            edge_u=eu, edge_v=ev, length_m=et["length_m"], road_class=et["road_class"],
                            existing=et["existing"])
    else:
        roads = RoadNetwork.empty()

    ScenarioError.collect(problems)

    # --- terrain -------------------------------------------------------------------------
    terrain = None
    if manifest.terrain is not None:
        dem_path = resolve_inside(folder, manifest.terrain.dem, "terrain.dem", mname)
        dem = read_dem(dem_path)
        clutter = None
        if manifest.terrain.clutter:
            clutter = read_dem(resolve_inside(folder, manifest.terrain.clutter, "terrain.clutter", mname))
        _check_inside(dem, dem_path, proj, [
            (vt, vlon, vlat), (st, slon, slat),
            *([(dt, dlon, dlat)] if dt is not None else []),
            *([(ft, facilities.lon, facilities.lat)] if ft is not None else []),
        ])
        terrain = to_local_terrain(dem, local, source=str(dem_path), clutter=clutter)

    # --- programme feasibility checks that need the tables -------------------------------------
    _check_quotas(manifest, mname, existing, max_ten, tenants, problems)
    ScenarioError.collect(problems)

    villages = Villages(id=vt["id"], name=vt["name"], district=vt["district"], town=vt["town"], lon=vlon, lat=vlat,
                        x_m=vx, y_m=vy, population=vt["population"], households=households, poor=vt["poor"],
                        ur_code=vt["ur_code"].astype(np.int16), synthetic=vt["synthetic"])
    demand = DemandPoints(village=np.asarray(dv, dtype=np.int32), lon=np.asarray(dlon), lat=np.asarray(dlat),
                          x_m=dx, y_m=dy, weight=weight, generated=generated)
    sites = Sites(id=st["id"], lon=slon, lat=slat, x_m=sx, y_m=sy, existing=existing, height_m=st["height_m"],
                  build_cost=build_cost, max_tenants=max_ten.astype(np.int16), tenants=tenants)
    encodings = {name: tb.encoding for name, tb in
                 (("villages", vt), ("sites", st), ("demand_points", dt), ("facilities", ft),
                  ("road_nodes", nt), ("road_edges", et)) if tb is not None}
    return Scenario(name=manifest.name, crs=local, manifest=manifest, villages=villages, demand=demand, sites=sites,
                    facilities=facilities, roads=roads, terrain=terrain, source=str(folder), encodings=encodings,
                    digest=_digest(folder, mpath, manifest))


def _check_inside(dem, dem_path, proj: Projector, groups) -> None:
    from pyproj import Transformer

    problems = []
    tr = None if dem.crs.upper() == "EPSG:4326" else Transformer.from_crs("EPSG:4326", dem.crs, always_xy=True)
    for tb, lon, lat in groups:
        if tr is None:
            x, y = lon, lat
        else:
            x, y = tr.transform(np.asarray(lon), np.asarray(lat))
        inside = raster_contains(dem, x, y)
        for i in np.flatnonzero(~inside)[:MAX_REPORTED_PROBLEMS]:
            problems.append(Problem(tb.path, int(tb["__row__"][i]), "lon/lat",
                                    f"point lies outside the terrain raster {dem_path.name}",
                                    f"{tb['lon'][i]:.6f}, {tb['lat'][i]:.6f}"))
    TerrainError.collect(problems)


def _check_quotas(manifest: Manifest, mname: str, existing, max_ten, tenants, problems) -> None:
    n_candidates = int((~existing).sum())
    min_sites = sum(p.new_sites.min for p in manifest.phases if p.new_sites is not None)
    if min_sites > n_candidates:
        problems.append(Problem(mname, None, "phases.new_sites",
                                f"the phases need at least {min_sites} new sites but the pool has only "
                                f"{n_candidates} candidate sites", min_sites))
    n_ops = tenants.shape[1]
    free = np.minimum(max_ten, n_ops) - tenants.sum(axis=1)
    free_existing = int(np.clip(free[existing], 0, None).sum())
    # new sites can host at most min(max_tenants, n_operators) stations each
    cand_caps = np.sort(np.minimum(max_ten[~existing], n_ops))[::-1]
    max_sites = sum(p.new_sites.max for p in manifest.phases if p.new_sites is not None) if all(
        p.new_sites is not None for p in manifest.phases) else len(cand_caps)
    free_new = int(cand_caps[: min(max_sites, len(cand_caps))].sum())
    min_stations = sum(p.new_stations.min for p in manifest.phases if p.new_stations is not None)
    if min_stations > free_existing + free_new:
        problems.append(Problem(mname, None, "phases.new_stations",
                                f"the phases need at least {min_stations} new stations but the free tenancy is only "
                                f"{free_existing + free_new} ({free_existing} on existing sites + {free_new} on the "
                                f"new sites the quotas allow)", min_stations))


def _digest(folder: Path, mpath: Path, manifest: Manifest) -> str:
    h = hashlib.sha256()
    files = [mpath]
    t = manifest.tables
    for rel in (t.villages, t.sites, t.demand_points, t.facilities, t.road_nodes, t.road_edges):
        if rel:
            files.append(folder / rel)
    if manifest.terrain is not None:
        files.append(folder / manifest.terrain.dem)
        if manifest.terrain.clutter:
            files.append(folder / manifest.terrain.clutter)
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()
