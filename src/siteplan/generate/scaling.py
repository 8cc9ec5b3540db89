"""Scale an existing scenario folder by an integer factor (synthetic, for scale curves).

``scaled(scenario_dir, factor, seed, out_dir)`` writes a copy of a scenario in which every
village, every candidate site and every facility appears ``factor`` times: copy ``j``
(``j = 1 .. factor-1``) of an item is the original moved by a seeded random offset of
``[min_offset_m, max_offset_m]`` [m] in a random direction, clipped to the bounding box of
the original villages and sites (so it stays inside the terrain). Existing towers are not
copied. Each copied village gets a road node at its new location linked by a ``rural`` road
to the nearest original road node (length = straight distance x 1.3 [m]), so fiber routing
still reaches it. Phase quotas (``new_stations``, ``new_sites``, exact or bands) and
budgets are multiplied by ``factor``; existing infrastructure is not. The manifest is
renamed ``<name>-x<factor>`` and lists what is synthetic.

This is what the benchmark suite uses for the x2 and x4 points of its scale curves; the
result is a synthetic instance, not a real region.
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import tomllib
from pathlib import Path

import numpy as np
import tomli_w

from siteplan.exceptions import Problem, ScenarioError
from siteplan.io.atomic import atomic_directory, atomic_write_text

__all__ = ["scaled"]

_M_PER_DEG = 111_320.0       # metres per degree of latitude (and of longitude at the equator) [m]
_ROAD_DETOUR = 1.3           # road length over straight distance of a new village link [-]


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rd = csv.DictReader(fh)
        rows = list(rd)
        return list(rd.fieldnames or []), rows


def _write(path: Path, fields: list[str], rows: list[dict[str, str]]) -> None:
    import io

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    atomic_write_text(path, buf.getvalue())


def _offsets(rng: np.random.Generator, n: int, lat: np.ndarray, r0: float, r1: float) -> tuple[np.ndarray, np.ndarray]:
    """Random offsets [deg] (dlon, dlat) of length in [r0, r1] [m]."""
    r = np.sqrt(rng.uniform(r0 * r0, r1 * r1, n))
    a = rng.uniform(0.0, 2.0 * math.pi, n)
    dlat = r * np.sin(a) / _M_PER_DEG
    dlon = r * np.cos(a) / (_M_PER_DEG * np.cos(np.radians(lat)))
    return dlon, dlat


def _scale_quota(value, factor: int):
    if isinstance(value, list):
        return [int(v) * factor for v in value]
    return int(value) * factor


def _cap_station_quotas(manifest: dict, sites: list[dict[str, str]], factor: int) -> str:
    """Existing towers are not copied, so x``factor`` station quotas can exceed the free
    tenancy. Then scale every phase's station quota down by one common ratio so that the
    programme's minimum total uses at most 90 % of the free tenancy; return a note."""
    default_max = int(manifest.get("sharing", {}).get("max_tenants", 3))
    free_existing = 0
    cand_max = []
    for r in sites:
        mt = int(r["max_tenants"]) if r.get("max_tenants", "").strip() else default_max
        if r["kind"].strip().lower() == "existing":
            ten = [t for t in r.get("tenants", "").split(";") if t.strip()]
            free_existing += max(mt - len(ten), 0)
        else:
            cand_max.append(mt)
    phases = manifest.get("phases", [])

    def lo(v):
        return int(v[0]) if isinstance(v, list) else int(v)

    def hi(v):
        return int(v[-1]) if isinstance(v, list) else int(v)

    new_sites = sum(hi(ph["new_sites"]) for ph in phases if "new_sites" in ph)
    free = free_existing + new_sites * (min(cand_max) if cand_max else 0)
    need = sum(lo(ph["new_stations"]) for ph in phases if "new_stations" in ph)
    if factor == 1 or need <= 0.9 * free:
        return ""
    ratio = 0.9 * free / need
    for ph in phases:
        if "new_stations" in ph:
            v = ph["new_stations"]
            ph["new_stations"] = [int(x * ratio) for x in v] if isinstance(v, list) else int(v * ratio)
    return (f"; station quotas then x{ratio:.3f} so that they fit 90 % of the free tenancy ({free}), "
            f"as existing towers are not copied")


def scaled(scenario_dir: str | os.PathLike, factor: int, seed: int, out_dir: str | os.PathLike, *,
           min_offset_m: float = 300.0, max_offset_m: float = 2000.0) -> Path:
    """Write ``scenario_dir`` scaled ``factor`` times in villages and candidates to ``out_dir``.

    Parameters
    ----------
    scenario_dir : a scenario folder (``docs/scenario-format.md``) with ``villages.csv`` and
        ``sites.csv``; facilities and roads are scaled when present.
    factor : integer >= 1 (1 writes a renamed copy).
    seed : seed of the offsets; the same inputs and seed give byte-identical files.
    out_dir : the folder to write (replaced atomically as a whole).
    min_offset_m, max_offset_m : range of the distance of a copy from its original [m].

    Returns the folder written.
    """
    src = Path(scenario_dir)
    if not isinstance(factor, int) or isinstance(factor, bool) or factor < 1:
        raise ScenarioError(Problem(None, None, "factor", "must be an integer >= 1", factor))
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise ScenarioError(Problem(None, None, "seed", "must be an integer in [0, 2^32)", seed))
    if not 0 <= min_offset_m <= max_offset_m:
        raise ScenarioError(Problem(None, None, "min_offset_m", "must satisfy 0 <= min <= max", min_offset_m))
    manifest_path = src / "scenario.toml"
    if not manifest_path.is_file():
        raise ScenarioError(Problem(str(manifest_path), None, None, "scenario manifest not found", None))
    with open(manifest_path, "rb") as fh:
        manifest = tomllib.load(fh)
    tables = {"villages": "villages.csv", "sites": "sites.csv", "facilities": "facilities.csv",
              "road_nodes": "road_nodes.csv", "road_edges": "road_edges.csv", **manifest.get("tables", {})}
    if "demand_points" in manifest.get("tables", {}):
        raise ScenarioError(Problem(str(manifest_path), None, "tables.demand_points",
                                    "explicit demand points are not scaled; remove them or scale by hand", None))
    rng = np.random.default_rng([seed, factor, 0x5CA1ED])

    vf, villages = _read(src / tables["villages"])
    sf, sites = _read(src / tables["sites"])
    lon_all = np.array([float(r["lon"]) for r in villages + sites])
    lat_all = np.array([float(r["lat"]) for r in villages + sites])
    box = (lon_all.min(), lon_all.max(), lat_all.min(), lat_all.max())

    def moved(rows):
        lon = np.array([float(r["lon"]) for r in rows])
        lat = np.array([float(r["lat"]) for r in rows])
        dlon, dlat = _offsets(rng, len(rows), lat, min_offset_m, max_offset_m)
        return np.clip(lon + dlon, box[0], box[1]), np.clip(lat + dlat, box[2], box[3])

    out_villages = list(villages)
    vshift: dict[tuple[str, int], tuple[float, float, str]] = {}
    for j in range(1, factor):
        lon, lat = moved(villages)
        for r, x, y in zip(villages, lon, lat):
            nid = f"{r['id']}-x{j}"
            row = dict(r, id=nid, name=f"{r['name']} (x{j})", lon=f"{x:.6f}", lat=f"{y:.6f}")
            if "synthetic" in row or "synthetic" in vf:
                row["synthetic"] = "true"
            out_villages.append(row)
            vshift[(r["id"], j)] = (x - float(r["lon"]), y - float(r["lat"]), nid)
    if "synthetic" not in vf:
        vf = vf + ["synthetic"]
        for row in out_villages:
            row.setdefault("synthetic", "false")

    out_sites = list(sites)
    cands = [r for r in sites if r["kind"].strip().lower() == "candidate"]
    for j in range(1, factor):
        lon, lat = moved(cands)
        for r, x, y in zip(cands, lon, lat):
            out_sites.append(dict(r, id=f"{r['id']}-x{j}", lon=f"{x:.6f}", lat=f"{y:.6f}"))

    fac_out = None
    if (src / tables["facilities"]).is_file():
        ff, facs = _read(src / tables["facilities"])
        fac_out = (ff, list(facs))
        for j in range(1, factor):
            for r in facs:
                dx, dy, nid = vshift[(r["village_id"], j)]
                fac_out[1].append(dict(r, id=f"{r['id']}-x{j}", village_id=nid,
                                       lon=f"{float(r['lon']) + dx:.6f}", lat=f"{float(r['lat']) + dy:.6f}"))

    roads_out = None
    if (src / tables["road_nodes"]).is_file() and (src / tables["road_edges"]).is_file():
        nf, nodes = _read(src / tables["road_nodes"])
        ef, edges = _read(src / tables["road_edges"])
        nlon = np.array([float(r["lon"]) for r in nodes])
        nlat = np.array([float(r["lat"]) for r in nodes])
        new_nodes, new_edges = list(nodes), list(edges)
        taken = {r["id"] for r in nodes}
        for row in out_villages[len(villages):]:
            x, y = float(row["lon"]), float(row["lat"])
            dx = (nlon - x) * _M_PER_DEG * math.cos(math.radians(y))
            dy = (nlat - y) * _M_PER_DEG
            d = np.hypot(dx, dy)
            k = int(np.argmin(d))
            nid = f"V{row['id']}"
            while nid in taken:
                nid += "_"
            taken.add(nid)
            node = {f: "" for f in nf}
            node.update(id=nid, lon=row["lon"], lat=row["lat"])
            if "pop" in nf:
                node["pop"] = "false"
            new_nodes.append(node)
            edge = {f: "" for f in ef}
            edge.update({"from": nodes[k]["id"], "to": nid, "length_m": f"{max(d[k] * _ROAD_DETOUR, 1.0):.1f}",
                         "road_class": "rural"})
            if "existing" in ef:
                edge["existing"] = "none"
            new_edges.append(edge)
        roads_out = (nf, new_nodes, ef, new_edges)

    phases = manifest.get("phases", [])
    for ph in phases:
        for key in ("new_stations", "new_sites"):
            if key in ph:
                ph[key] = _scale_quota(ph[key], factor)
        if "budget_cny" in ph:
            ph["budget_cny"] = float(ph["budget_cny"]) * factor
    station_note = _cap_station_quotas(manifest, out_sites, factor)
    manifest["name"] = f"{manifest.get('name', src.name)}-x{factor}"
    manifest["description"] = (f"{manifest.get('description', '')} SCALED x{factor} by siteplan.generate.scaled "
                               f"(seed {seed}): synthetic copies of villages, candidate sites, facilities and "
                               f"road links; quotas and budgets x{factor}{station_note}.").strip()
    synth = list(manifest.get("synthetic", []))
    if factor > 1:
        synth.append(f"scaled x{factor}: {len(out_villages) - len(villages)} village copies, "
                     f"{len(out_sites) - len(sites)} candidate-site copies, moved {min_offset_m:g}-{max_offset_m:g} m")
    manifest["synthetic"] = synth

    out = Path(out_dir)
    with atomic_directory(out) as stage:
        atomic_write_text(stage / "scenario.toml", tomli_w.dumps(manifest))
        _write(stage / tables["villages"], vf, out_villages)
        _write(stage / tables["sites"], sf, out_sites)
        if fac_out is not None:
            _write(stage / tables["facilities"], *fac_out)
        if roads_out is not None:
            _write(stage / tables["road_nodes"], roads_out[0], roads_out[1])
            _write(stage / tables["road_edges"], roads_out[2], roads_out[3])
        for key, name in manifest.get("terrain", {}).items():
            if isinstance(name, str) and (src / name).is_file():
                shutil.copyfile(src / name, stage / name)
    return out
