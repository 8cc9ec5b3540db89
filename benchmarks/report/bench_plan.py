"""A random but valid plan dict of docs/plan-format.md for any scenario (report benchmarks
need plan-sized inputs without running a solver): candidates built to the phases' site
quotas, stations on existing and new sites, villages covered in random phases, and fiber
routes on road edges."""

from __future__ import annotations

import numpy as np


def random_plan(sc, seed: int = 0, max_routes: int = 3000) -> dict:
    rng = np.random.default_rng(seed)
    ops = list(sc.operator_names)
    K = len(ops)
    pn = [p.name for p in sc.phases]
    P = len(pn)
    s = sc.sites
    perm = rng.permutation(np.flatnonzero(~s.existing))
    built, k0 = {}, 0
    for p, ph in enumerate(sc.phases):
        q = min(ph.new_sites.min if ph.new_sites else 0, len(perm) - k0)
        for i in perm[k0:k0 + q]:
            built[int(i)] = p
        k0 += q
    sites, stations = [], []
    for i in range(len(s)):
        if not (s.existing[i] or i in built):
            continue
        before = [ops[k] for k in range(K) if s.tenants[i, k]]
        after = list(before)
        for k in range(K):
            if s.tenants[i, k]:
                stations.append({"site": str(s.id[i]), "operator": ops[k], "phase": None, "new": False})
            elif rng.random() < (0.9 if i in built else 0.5):
                p = built.get(i, int(rng.integers(P)))
                stations.append({"site": str(s.id[i]), "operator": ops[k], "phase": pn[p], "new": True})
                after.append(ops[k])
        sites.append({"id": str(s.id[i]), "kind": "existing" if s.existing[i] else "candidate",
                      "lon": round(float(s.lon[i]), 6), "lat": round(float(s.lat[i]), 6),
                      "built_phase": pn[built[i]] if i in built else None, "height_m": float(s.height_m[i]),
                      "tenants_before": before, "tenants_after": after})
    v = sc.villages
    villages = []
    for j in range(len(v)):
        first = int(rng.integers(-1, P + 1))
        cov = [p >= first for p in range(P)]
        villages.append({"id": str(v.id[j]), "name": str(v.name[j]), "district": str(v.district[j]),
                         "town": str(v.town[j]), "poor": bool(v.poor[j]), "lon": round(float(v.lon[j]), 6),
                         "lat": round(float(v.lat[j]), 6), "share_by_phase": [float(c) for c in cov],
                         "covered_by_phase": cov,
                         "first_covered_phase": "existing" if first < 0 else (pn[first] if first < P else None),
                         "best_rsrp_dbm": round(float(rng.uniform(-115, -60)), 2),
                         "serving_sites": sorted(str(x) for x in rng.choice(s.id, 2))})
    r = sc.roads
    routes = []
    for e in rng.choice(r.n_edges, min(max_routes, r.n_edges), replace=False) if r.n_edges else []:
        u, w = int(r.edge_u[e]), int(r.edge_v[e])
        routes.append({"phase": pn[int(rng.integers(P))], "u": str(r.node_id[u]), "v": str(r.node_id[w]),
                       "length_m": float(r.length_m[e]), "cost_cny": 1000.0, "road_class": str(r.road_class[e]),
                       "existing": str(r.existing[e]), "fibers": 12,
                       "coordinates": [[round(float(r.lon[u]), 6), round(float(r.lat[u]), 6)],
                                       [round(float(r.lon[w]), 6), round(float(r.lat[w]), 6)]]})
    phases = [{"name": ph.name, "start": str(ph.start), "end": str(ph.end),
               "quota_sites": None if ph.new_sites is None else [ph.new_sites.min, ph.new_sites.max],
               "quota_stations": None if ph.new_stations is None else [ph.new_stations.min, ph.new_stations.max],
               "cost_cny": {"sites": 1e8, "stations": 5e8, "colocation": 1e7, "fiber": 2e7, "total": 6.3e8},
               "fiber_km": 100.0} for ph in sc.phases]
    return {"format": "siteplan-plan", "version": 1,
            "scenario": {"name": sc.name, "digest": sc.digest, "crs": sc.crs, "synthetic": list(sc.manifest.synthetic)},
            "options": {"solver": "highs"}, "status": "feasible", "operators": ops, "phases": phases,
            "siting": {"objective": 1.0, "bound": 0.9, "gap": 0.1}, "sites": sites, "stations": stations,
            "villages": villages, "fiber": {"status": "feasible", "routes": routes, "terminals": []},
            "findings": []}


def rsrp_raster(sc):
    """A best-server-RSRP-like grid on the scenario's terrain (or None without terrain)."""
    t = sc.terrain
    if t is None:
        return None
    z = np.asarray(t.elevation_m, dtype=float)
    return (np.where(z > 150, np.nan, -75.0 - z / 8.0), t)
