"""From a :class:`Region` and a :class:`Spec` to a complete scenario, in memory.

Stages, each with its own seeded generator (``numpy`` PCG64 seeded by ``(seed, crc32(stage))``,
so changing one stage never shifts the random numbers of another):

1. ``towns``      seats the data lack, sampled inside their district;
2. ``villages``   locations the data lack, near their town seat inside their district;
3. ``terrain``    the DEM (see :mod:`siteplan.generate.terrain`);
4. ``people``     population, households, poor flags;
5. ``facilities`` committees, schools, township governments, agricultural bases, e-commerce hubs;
6. ``sites``      existing towers with tenants, candidate sites;
7. ``roads``      road graph (Gabriel graph over towns, villages and junctions, sea crossings
                  removed, components joined by the shortest bridges), classes, existing fiber.

All geometry is done in the local metric CRS [m]; tables come out in WGS84 lon/lat [deg].
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import Delaunay, cKDTree

from siteplan.exceptions import Problem, ScenarioError
from siteplan.generate._geometry import Grid, PolygonSet
from siteplan.generate._region import Region, Spec
from siteplan.generate.terrain import bilinear_coarse, spectral_noise, synthesise_elevation
from siteplan.io.crs import Projector
from siteplan.model.tables import RURAL_CODES

__all__ = ["Generated", "build", "stage_rng", "OPERATORS", "FOOTPRINT_KM2", "MEDIAN_POPULATION"]

#: The three operators with their LTE bands (downlink centre frequencies [MHz] of their
#: 2013-2015 MIIT allocations) and a typical reference-signal EIRP per port [dBm].
OPERATORS = (
    {"name": "China Mobile", "bands": [("B39 F", 1890.0), ("B8", 942.5)], "share": 0.45},
    {"name": "China Unicom", "bands": [("B3", 1850.0), ("B1", 2140.0)], "share": 0.27},
    {"name": "China Telecom", "bands": [("B3", 1867.5), ("B5", 875.0)], "share": 0.28},
)
RS_EIRP_DBM = 32.0

#: Typical built-up footprint of one village-level unit by NBS urban-rural code [km^2].
FOOTPRINT_KM2 = {111: 0.5, 112: 1.0, 121: 0.8, 122: 1.5, 123: 2.0, 210: 1.5, 220: 2.0}
#: Median population of one village-level unit by urban-rural code [persons] (lognormal draw).
MEDIAN_POPULATION = {111: 9000, 112: 6500, 121: 6000, 122: 4000, 123: 1500, 210: 3000, 220: 2300}
POPULATION_SIGMA = 0.45
#: Persons per household, uniform range, urban and rural [persons].
HOUSEHOLD_SIZE = {"urban": (2.9, 3.6), "rural": (3.3, 4.3)}
#: Rural villages above this population get a primary school; urban ones above the second [persons].
SCHOOL_MIN_POP = {"rural": 1500, "urban": 5000}
#: Probability of an agricultural base / e-commerce hub in poor and in other rural villages [-].
AGRI_P = {"poor": 0.6, "rural": 0.08}
ECOM_P = {"poor": 0.3, "rural": 0.04}
#: Tenants on an existing tower: probabilities of 1, 2, 3 operators [-].
TENANT_P = (0.52, 0.40, 0.08)
MAX_TENANTS = 3
#: Longest road edge kept unless it is needed to connect the graph [m].
MAX_ROAD_EDGE_M = 6000.0
SITE_BUILD_CNY = 350_000.0


@dataclass(frozen=True, eq=False)
class Generated:
    """A generated scenario in memory: manifest dict, table columns, DEM."""

    manifest: dict
    villages: dict
    sites: dict
    facilities: dict
    road_nodes: dict
    road_edges: dict
    dem: np.ndarray          # int16 (ny, nx) [m]
    grid: Grid
    crs: str


def stage_rng(seed: int, stage: str) -> np.random.Generator:
    """Independent generator for one stage: PCG64 seeded with ``(seed, crc32(stage))``."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(stage.encode("utf-8"))])


def _is_urban(ur: np.ndarray) -> np.ndarray:
    return ~np.isin(ur, RURAL_CODES)


class _SpacingIndex:
    """Points on a hash grid of cell ``cell`` [m]: is a new point at least ``d <= cell`` from all?"""

    def __init__(self, cell: float, points: np.ndarray | None = None):
        self.cell = float(cell)
        self.buckets: dict[tuple[int, int], list[tuple[float, float]]] = {}
        if points is not None:
            for x, y in points:
                self.add(float(x), float(y))

    def add(self, x: float, y: float) -> None:
        self.buckets.setdefault((int(np.floor(x / self.cell)), int(np.floor(y / self.cell))), []).append((x, y))

    def clear_of(self, x: float, y: float, d: float) -> bool:
        i, j = int(np.floor(x / self.cell)), int(np.floor(y / self.cell))
        d2 = d * d
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                for px, py in self.buckets.get((i + di, j + dj), ()):
                    if (px - x) ** 2 + (py - y) ** 2 < d2:
                        return False
        return True


class _Placer:
    """Seeded placement of points inside a polygon set with optional spacing."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def near(self, polys: PolygonSet, x0: float, y0: float, r0: float, r1: float,
             others: _SpacingIndex | None = None, spacing: float = 0.0, batches: int = 10) -> tuple[float, float]:
        """A point at distance in [r0, r1] of (x0, y0) [m], inside ``polys``, at least ``spacing``
        (<= the index cell) from the points of ``others``; the ring widens and the spacing
        relaxes when nothing fits."""
        rng = self.rng
        grow = 1.0
        sp = spacing
        for b in range(batches * 3):
            n = 8 if b == 0 else 48
            rr = np.sqrt(rng.uniform((r0 * grow) ** 2, (r1 * grow) ** 2, n))
            aa = rng.uniform(0.0, 2 * np.pi, n)
            px = x0 + rr * np.cos(aa)
            py = y0 + rr * np.sin(aa)
            for k in np.flatnonzero(polys.contains(px, py)):
                x, y = float(px[k]), float(py[k])
                if others is None or sp <= 0 or others.clear_of(x, y, sp):
                    return x, y
            if b >= batches:
                sp *= 0.7
            grow *= 1.15
        raise ScenarioError(Problem(None, None, "placement", "could not place a point inside its polygon",
                                    (round(x0), round(y0))))


def _land_grid(land: PolygonSet, spec: Spec) -> tuple[Grid, np.ndarray]:
    x0, y0, x1, y1 = land.bounds
    c = spec.cell_m
    gx0 = np.floor((x0 - spec.margin_m) / c) * c
    gy1 = np.ceil((y1 + spec.margin_m) / c) * c
    nx = int(np.ceil((x1 + spec.margin_m - gx0) / c))
    ny = int(np.ceil((gy1 - (y0 - spec.margin_m)) / c))
    grid = Grid(gx0, gy1, c, ny, nx)
    xs, ys = grid.centres()
    X, Y = np.meshgrid(xs, ys)
    mask = land.contains(X, Y)
    return grid, mask


def _place_towns(region: Region, dpolys: list[PolygonSet], proj: Projector, rng: np.random.Generator):
    tx, ty = proj.to_local(region.town_lon, region.town_lat)
    tx, ty = np.array(tx, dtype=float), np.array(ty, dtype=float)
    known = np.isfinite(region.town_lon)
    synthetic = ~known
    urban_town = np.zeros(len(tx), dtype=bool)
    for t in range(len(tx)):
        urs = region.village_ur[region.village_town == t]
        urban_town[t] = urs.size > 0 and np.mean(_is_urban(urs)) > 0.5
    kx, ky = tx[known], ty[known]
    if kx.size >= 2:
        d, _ = cKDTree(np.column_stack([kx, ky])).query(np.column_stack([kx, ky]), k=2)
        spacing = 0.5 * float(np.median(d[:, 1]))
    else:
        spacing = 2000.0
    for t in np.flatnonzero(~known):
        dist = region.town_district[t]
        poly = dpolys[dist]
        xs0, ys0, xs1, ys1 = poly.bounds
        # candidates: inside the district, away from every other seat
        cand = []
        for _ in range(200):
            if len(cand) >= 32:
                break
            px = rng.uniform(xs0, xs1, 128)
            py = rng.uniform(ys0, ys1, 128)
            ok = poly.contains(px, py)
            cand.extend(zip(px[ok], py[ok]))
        if not cand:
            raise ScenarioError(Problem(None, None, "district", "outline too small to place a town seat in",
                                        region.districts[dist].name))
        cand = np.asarray(cand[:32])
        have = np.isfinite(tx)
        others = np.column_stack([tx[have], ty[have]])
        dmin = np.min(np.hypot(cand[:, None, 0] - others[None, :, 0], cand[:, None, 1] - others[None, :, 1]), axis=1) \
            if len(others) else np.full(len(cand), np.inf)
        same = have & (region.town_district == dist)
        if urban_town[t] and same.any():
            # an urban subdistrict sits in its district's core: nearest to the other seats' centre
            cx, cy = tx[same].mean(), ty[same].mean()
            score = -np.hypot(cand[:, 0] - cx, cand[:, 1] - cy)
            score[dmin < spacing] -= 1e12
        else:
            score = dmin     # a rural town: best candidate, farthest from the others
        k = int(np.argmax(score))
        tx[t], ty[t] = cand[k]
    return tx, ty, synthetic


def _place_villages(region: Region, dpolys: list[PolygonSet], tx, ty, proj: Projector, rng: np.random.Generator):
    vx, vy = proj.to_local(region.village_lon, region.village_lat)
    vx, vy = np.array(vx, dtype=float), np.array(vy, dtype=float)
    known = np.isfinite(region.village_lon)
    area = np.array([FOOTPRINT_KM2[int(u)] for u in region.village_ur]) * 1e6
    town_area = np.bincount(region.village_town, weights=area, minlength=len(tx))
    town_r = np.sqrt(town_area / np.pi)
    placer = _Placer(rng)
    placed = _SpacingIndex(0.55 * np.sqrt(max(FOOTPRINT_KM2.values()) * 1e6), np.column_stack([vx[known], vy[known]]))
    for i in np.flatnonzero(~known):
        t = region.village_town[i]
        poly = dpolys[region.town_district[t]]
        urban = _is_urban(region.village_ur[i:i + 1])[0]
        rmax = town_r[t] * (0.7 if urban else 1.0)
        spacing = 0.55 * np.sqrt(area[i])
        x, y = placer.near(poly, tx[t], ty[t], 0.0, max(rmax, 600.0), placed, spacing)
        vx[i], vy[i] = x, y
        placed.add(x, y)
    return vx, vy, ~known


def _people(region: Region, spec: Spec, elev_v: np.ndarray, rng: np.random.Generator):
    ur = region.village_ur
    med = np.array([MEDIAN_POPULATION[int(u)] for u in ur], dtype=float)
    raw = med * np.exp(POPULATION_SIGMA * rng.standard_normal(len(ur)))
    if spec.population_total is not None:
        raw *= spec.population_total / raw.sum()
        pop = np.floor(raw).astype(np.int64)
        rest = int(spec.population_total - pop.sum())
        order = np.argsort(-(raw - pop), kind="stable")
        pop[order[:rest]] += 1
    else:
        pop = np.round(raw).astype(np.int64)
    urban = _is_urban(ur)
    size = np.where(urban, rng.uniform(*HOUSEHOLD_SIZE["urban"], len(ur)), rng.uniform(*HOUSEHOLD_SIZE["rural"], len(ur)))
    households = np.maximum(np.round(pop / size), 1).astype(np.int64)
    rural = np.flatnonzero(~urban)
    poor = np.zeros(len(ur), dtype=bool)
    if rural.size:
        n_poor = max(1, int(round(spec.poor_share * rural.size)))
        w = (1.0 + np.maximum(elev_v[rural], 0.0) / 40.0) * np.sqrt(1500.0 / np.maximum(pop[rural], 300))
        pick = rng.choice(rural, size=n_poor, replace=False, p=w / w.sum())
        poor[pick] = True
    return pop, households, poor


def _facilities(region: Region, vx, vy, tx, ty, pop, poor, land: PolygonSet, bandwidth: dict,
                rng: np.random.Generator):
    placer = _Placer(rng)
    urban = _is_urban(region.village_ur)
    rows = []   # (id, kind, village index, x, y)
    n_school = n_agri = n_ecom = 0
    for i in range(len(vx)):
        code = region.village_code[i]
        x, y = placer.near(land, vx[i], vy[i], 0.0, 150.0)
        rows.append((f"VC{code}", "village_committee", i, x, y))
        if pop[i] >= SCHOOL_MIN_POP["urban" if urban[i] else "rural"]:
            n_school += 1
            x, y = placer.near(land, vx[i], vy[i], 200.0, 600.0)
            rows.append((f"SCH{n_school:05d}", "school", i, x, y))
        if not urban[i]:
            key = "poor" if poor[i] else "rural"
            if rng.random() < AGRI_P[key]:
                n_agri += 1
                x, y = placer.near(land, vx[i], vy[i], 500.0, 1500.0)
                rows.append((f"AB{n_agri:05d}", "agri_base", i, x, y))
            if rng.random() < ECOM_P[key]:
                n_ecom += 1
                x, y = placer.near(land, vx[i], vy[i], 100.0, 500.0)
                rows.append((f"EC{n_ecom:05d}", "ecommerce_hub", i, x, y))
    for t in range(len(tx)):
        members = np.flatnonzero(region.village_town == t)
        if not members.size:
            continue
        host = members[int(np.argmin(np.hypot(vx[members] - tx[t], vy[members] - ty[t])))]
        x, y = placer.near(land, tx[t], ty[t], 0.0, 100.0)
        rows.append((f"TG{region.town_code[t][:9]}", "township_government", host, x, y))
        # a middle school at every town seat
        n_school += 1
        x, y = placer.near(land, tx[t], ty[t], 150.0, 500.0)
        rows.append((f"SCH{n_school:05d}", "school", host, x, y))
    rows.sort(key=lambda r: (r[1] != "township_government", r[1] != "village_committee", r[1] != "school",
                             r[1] != "agri_base", r[0]))
    kinds = np.array([r[1] for r in rows], dtype=object)
    return {
        "id": np.array([r[0] for r in rows], dtype=object),
        "kind": kinds,
        "village": np.array([r[2] for r in rows], dtype=np.int64),
        "x": np.array([r[3] for r in rows]), "y": np.array([r[4] for r in rows]),
        "bandwidth_mbps": np.array([bandwidth[k] for k in kinds], dtype=float),
    }


def _sites(region: Region, spec: Spec, vx, vy, pop, elev_at, land: PolygonSet, rng: np.random.Generator):
    placer = _Placer(rng)
    ur = region.village_ur
    urban = _is_urban(ur)
    radius = np.sqrt(np.array([FOOTPRINT_KM2[int(u)] for u in ur]) * 1e6 / np.pi)
    n_ops = len(OPERATORS)
    op_p = np.array([o["share"] for o in OPERATORS])
    op_p = op_p / op_p.sum()
    xs, ys, kind, height, cost, tenants = [], [], [], [], [], []
    # existing towers: where people are, denser in towns
    w = pop * np.where(urban, 1.6, 0.5)
    hosts = rng.choice(len(vx), size=spec.n_existing, replace=True, p=w / w.sum())
    for h in hosts:
        x, y = placer.near(land, vx[h], vy[h], 0.0, 1.3 * radius[h])
        n_t = int(rng.choice(3, p=TENANT_P)) + 1
        ops = np.sort(rng.choice(n_ops, size=n_t, replace=False, p=op_p))
        t = np.zeros(n_ops, dtype=bool)
        t[ops] = True
        xs.append(x)
        ys.append(y)
        kind.append("existing")
        height.append(float(np.round(25.0 + 15.0 * rng.random()) if urban[h] else np.round(30.0 + 15.0 * rng.random())))
        cost.append(0.0)
        tenants.append(t)
    # candidates: first one near every village, then a spread weighted to rural hills
    if spec.n_candidates < len(vx):
        raise ScenarioError(Problem(None, None, "n_candidates", "needs at least one candidate per village",
                                    spec.n_candidates))
    reach = spec.candidate_reach_m
    cand_host = list(range(len(vx)))
    cand_ring = [(min(150.0, 0.1 * reach), 0.6 * reach)] * len(vx)
    ev = elev_at(vx, vy)
    w = np.where(urban, 0.7, 2.0) * (1.0 + np.maximum(ev, 0.0) / 100.0)
    extra = rng.choice(len(vx), size=spec.n_candidates - len(vx), replace=True, p=w / w.sum())
    cand_host += list(extra)
    cand_ring += [(300.0, 2000.0)] * len(extra)
    others = _SpacingIndex(300.0, np.column_stack([xs, ys]) if xs else None)
    for h, (r0, r1) in zip(cand_host, cand_ring):
        x, y = placer.near(land, vx[h], vy[h], r0, r1, others, 300.0, batches=4)
        if np.hypot(x - vx[h], y - vy[h]) > r1 * 1.0001:     # the ring had to widen: keep within reach
            x, y = placer.near(land, vx[h], vy[h], 0.0, r1)
        others.add(x, y)
        e = float(elev_at(np.array([x]), np.array([y]))[0])
        hill = e > 80.0
        hgt = np.round((25.0 + 10.0 * rng.random()) if hill else (30.0 + 15.0 * rng.random()))
        f = 0.85 if urban[h] else (1.3 if hill else 1.0)
        c = np.round(SITE_BUILD_CNY * f * np.exp(0.1 * rng.standard_normal()) / 1000.0) * 1000.0
        xs.append(x)
        ys.append(y)
        kind.append("candidate")
        height.append(float(hgt))
        cost.append(float(c))
        tenants.append(np.zeros(n_ops, dtype=bool))
    n_e = spec.n_existing
    ids = [f"E{k + 1:05d}" for k in range(n_e)] + [f"C{k + 1:05d}" for k in range(len(xs) - n_e)]
    return {
        "id": np.array(ids, dtype=object), "x": np.array(xs), "y": np.array(ys),
        "kind": np.array(kind, dtype=object), "height_m": np.array(height), "build_cost": np.array(cost),
        "max_tenants": np.full(len(xs), MAX_TENANTS, dtype=np.int64), "tenants": np.array(tenants, dtype=bool),
    }


def _junctions(n: int, base: np.ndarray, land: PolygonSet, rng: np.random.Generator) -> np.ndarray:
    """Road junctions where people are: 0.8-3 km from a random town seat or village,
    on land, at least 250 m from every other node."""
    if n <= 0:
        return np.zeros((0, 2))
    placer = _Placer(rng)
    index = _SpacingIndex(250.0, base)
    out = []
    for h in rng.integers(0, len(base), size=n):
        x, y = placer.near(land, base[h, 0], base[h, 1], 800.0, 3000.0, index, 250.0, batches=3)
        if index.clear_of(x, y, 250.0):
            index.add(x, y)
            out.append((x, y))
    return np.asarray(out).reshape(-1, 2)


def _path_edges(pred: np.ndarray, src_row: int, target: int, eindex: dict) -> list[int]:
    out = []
    v = target
    while True:
        u = pred[src_row, v]
        if u < 0:
            break
        out.append(eindex[(min(u, v), max(u, v))])
        v = u
    return out


def _roads(region: Region, tx, ty, vx, vy, grid: Grid, landmask: np.ndarray, land: PolygonSet, elev: np.ndarray,
           spec: Spec, rng: np.random.Generator):
    nt, nv = len(tx), len(vx)
    base = np.vstack([np.column_stack([tx, ty]), np.column_stack([vx, vy])])
    junc = _junctions(int(round(spec.extra_road_nodes * nv)), base, land, rng)
    pts = np.vstack([base, junc])
    n = len(pts)
    ids = ([f"T{c[:9]}" for c in region.town_code] + [f"V{c}" for c in region.village_code]
           + [f"J{k + 1:05d}" for k in range(len(junc))])
    tri = Delaunay(pts)
    s = tri.simplices
    e = np.vstack([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]])
    # points Delaunay leaves out (duplicates, e.g. a village surveyed at its town seat) hang on
    # their nearest node
    loose = np.setdiff1d(np.arange(n), np.unique(s))
    if loose.size:
        _, nn2 = cKDTree(pts).query(pts[loose], k=2)
        near = np.where(nn2[:, 0] == loose, nn2[:, 1], nn2[:, 0])
        e = np.vstack([e, np.column_stack([loose, near])])
    e = np.unique(np.sort(e, axis=1), axis=0)
    a, b = pts[e[:, 0]], pts[e[:, 1]]
    dlen = np.hypot(*(a - b).T)
    # Gabriel graph: no other node strictly inside the circle with the edge as diameter
    mid = (a + b) / 2
    k = min(4, n)
    dd, nn = cKDTree(pts).query(mid, k=k)
    r = dlen / 2
    blocked = np.zeros(len(e), dtype=bool)
    for col in range(k):
        other = (nn[:, col] != e[:, 0]) & (nn[:, col] != e[:, 1])
        blocked |= other & (dd[:, col] < r * (1 - 1e-9))
    gabriel = ~blocked | np.isin(e, loose).any(axis=1)
    # sea crossings: sample along the edge at the grid spacing
    nseg = np.maximum(2, np.ceil(dlen / grid.cell).astype(np.int64) + 1)
    seg_id = np.repeat(np.arange(len(e)), nseg)
    tpos = np.concatenate([np.linspace(0.0, 1.0, m) for m in nseg])
    sx = a[seg_id, 0] + tpos * (b[seg_id, 0] - a[seg_id, 0])
    sy = a[seg_id, 1] + tpos * (b[seg_id, 1] - a[seg_id, 1])
    sea = ~grid.lookup(landmask, sx, sy)
    n_sea = np.bincount(seg_id, weights=sea, minlength=len(e))
    on_land = (n_sea <= 2) | (n_sea / nseg <= 0.1)
    keep = gabriel & on_land & (dlen <= MAX_ROAD_EDGE_M)
    # join components with the shortest Delaunay edges (bridges, causeways)
    bridge = np.zeros(len(e), dtype=bool)
    g = coo_matrix((np.ones(int(keep.sum())), (e[keep, 0], e[keep, 1])), shape=(n, n))
    ncomp, comp = connected_components(g, directed=False)
    if ncomp > 1:
        parent = np.arange(ncomp)

        def find(c):
            while parent[c] != c:
                parent[c] = parent[parent[c]]
                c = parent[c]
            return c

        for ei in np.argsort(dlen, kind="stable"):
            if keep[ei]:
                continue
            ca, cb = find(comp[e[ei, 0]]), find(comp[e[ei, 1]])
            if ca != cb:
                parent[ca] = cb
                keep[ei] = True
                bridge[ei] = True
    e, dlen, bridge = e[keep], dlen[keep], bridge[keep]
    ev = grid.lookup(elev, pts[:, 0], pts[:, 1]).astype(float)
    tort = 1.1 + 0.2 * rng.random(len(e)) + np.minimum(0.4, (ev[e[:, 0]] + ev[e[:, 1]]) / 600.0)
    tort = np.where(bridge, 1.02, tort)
    length = np.maximum(np.round(dlen * tort, 1), 1.0)
    # hierarchy by shortest paths from the town seats
    eindex = {(int(u), int(v)): kk for kk, (u, v) in enumerate(e)}
    w = coo_matrix((length, (e[:, 0], e[:, 1])), shape=(n, n)).tocsr()
    _, pred = dijkstra(w, directed=False, indices=np.arange(nt), return_predecessors=True)
    rank = np.full(len(e), 4)      # 0 highway, 1 primary, 2 secondary, 3 rural, 4 track
    touches = (e < nt + nv).any(axis=1)
    rank[touches] = 3
    for v in range(nv):           # county roads: every village to its own town seat
        for kk in _path_edges(pred, region.village_town[v], nt + v, eindex):
            rank[kk] = min(rank[kk], 2)
    if nt >= 2:                    # town-town roads between neighbouring seats
        tp = np.column_stack([tx, ty])
        if nt >= 3:
            ts = Delaunay(tp).simplices
            pairs = np.unique(np.sort(np.vstack([ts[:, [0, 1]], ts[:, [1, 2]], ts[:, [0, 2]]]), axis=1), axis=0)
        else:
            pairs = np.array([[0, 1]])
        for p, q in pairs:
            for kk in _path_edges(pred, p, q, eindex):
                rank[kk] = min(rank[kk], 1)
    # highways: a spanning tree (Prim, straight-line) over the district seats
    seats = []
    for d in range(len(region.districts)):
        members = np.flatnonzero(region.town_district == d)
        if members.size:
            seats.append(int(members[0]))
    if len(seats) >= 2:
        inside = [seats[0]]
        rest = seats[1:]
        while rest:
            best = min(((np.hypot(tx[p] - tx[q], ty[p] - ty[q]), p, q) for p in inside for q in rest))
            _, p, q = best
            for kk in _path_edges(pred, p, q, eindex):
                rank[kk] = 0
            inside.append(q)
            rest.remove(q)
    rank = np.where(bridge, np.minimum(rank, 1), rank)
    classes = np.array(["highway", "primary", "secondary", "rural", "track"], dtype=object)[rank]
    u = rng.random(len(e))
    existing = np.full(len(e), "none", dtype=object)
    existing[(rank == 2) & (u < 0.2)] = "duct"
    existing[rank == 1] = np.where(u[rank == 1] < 0.7, "fiber", "duct")
    existing[rank == 0] = "fiber"
    order = np.lexsort((e[:, 1], e[:, 0]))
    pop_flag = np.zeros(n, dtype=bool)
    pop_flag[:nt] = True
    return (
        {"id": np.array(ids, dtype=object), "x": pts[:, 0], "y": pts[:, 1], "pop": pop_flag},
        {"from": np.array(ids, dtype=object)[e[order, 0]], "to": np.array(ids, dtype=object)[e[order, 1]],
         "length_m": length[order], "road_class": classes[order], "existing": existing[order],
         "u": e[order, 0], "v": e[order, 1], "bridge": bridge[order], "long": (dlen[order] > MAX_ROAD_EDGE_M)},
    )


def _manifest(spec: Spec, seed: int, preset: str) -> dict:
    from siteplan.generate._manifest import manifest_dict

    return manifest_dict(spec, seed, preset)


def build(region: Region, spec: Spec, seed: int, preset: str) -> Generated:
    """Generate the whole scenario for ``region`` with ``spec`` and ``seed``."""
    proj = Projector(spec.local_crs)

    def xy(ring):
        x, y = proj.to_local(ring[:, 0], ring[:, 1])
        return np.column_stack([x, y])

    dpolys = [PolygonSet([xy(r) for r in d.rings]) for d in region.districts]
    land = PolygonSet([xy(r) for d in region.districts for r in d.rings])
    grid, landmask = _land_grid(land, spec)

    tx, ty, town_syn = _place_towns(region, dpolys, proj, stage_rng(seed, "towns"))
    vx, vy, vil_syn = _place_villages(region, dpolys, tx, ty, proj, stage_rng(seed, "villages"))

    # terrain
    xs, ys = grid.centres()
    X, Y = np.meshgrid(xs, ys)
    lon, lat = proj.to_wgs84(X.ravel(), Y.ravel())
    basem = bilinear_coarse(region.coarse_lon, region.coarse_lat, region.coarse_alt, lon, lat).reshape(X.shape)
    noise = spectral_noise(stage_rng(seed, "terrain"), grid.ny, grid.nx, grid.cell, lowcut_m=spec.detail_lowcut_m)
    dist = ndimage.distance_transform_edt(landmask) * grid.cell
    elev = synthesise_elevation(basem, landmask, dist, noise)
    dem = np.round(elev).astype(np.int16)

    def elev_at(x, y):
        return grid.lookup(dem, x, y).astype(float)

    pop, households, poor = _people(region, spec, elev_at(vx, vy), stage_rng(seed, "people"))
    manifest = _manifest(spec, seed, preset)
    fac = _facilities(region, vx, vy, tx, ty, pop, poor, land, manifest["bandwidth_mbps"],
                      stage_rng(seed, "facilities"))
    sites = _sites(region, spec, vx, vy, pop, elev_at, land, stage_rng(seed, "sites"))
    nodes, edges = _roads(region, tx, ty, vx, vy, grid, landmask, land, dem, spec, stage_rng(seed, "roads"))

    def ll(d):
        lo, la = proj.to_wgs84(d["x"], d["y"])
        d["lon"], d["lat"] = lo, la
        return d

    villages = ll({
        "id": region.village_code, "name": region.village_name,
        "district": np.array([region.districts[region.town_district[t]].name for t in region.village_town],
                             dtype=object),
        "town": region.town_name[region.village_town], "x": vx, "y": vy,
        "population": pop, "households": households, "poor": poor, "ur_code": region.village_ur,
        "synthetic": vil_syn, "town_index": region.village_town, "town_seat_synthetic": town_syn,
    })
    return Generated(manifest=manifest, villages=villages, sites=ll(sites), facilities=ll(fac),
                     road_nodes=ll(nodes), road_edges=edges, dem=dem, grid=grid, crs=spec.local_crs)
