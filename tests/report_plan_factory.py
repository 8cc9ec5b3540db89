"""A hand-built plan dict for the unit scenario (tests/scenario_factory.py), written by
following docs/plan-format.md: 2 phases, 2 operators, existing and new sites and stations,
villages covered before / in p1 / in p2, fiber routes with and without coordinates."""

from __future__ import annotations

import copy

import numpy as np

from pyproj import Transformer

# the unit scenario's georeferenced data, repeated here on purpose (tests compare against it)
SITE_LONLAT = {"S1": (116.705, 23.402), "S2": (116.715, 23.405), "C1": (116.710, 23.395), "C2": (116.695, 23.385)}
NODE_LONLAT = {"N1": (116.690, 23.380), "N2": (116.700, 23.400), "N3": (116.720, 23.410)}


def make_plan() -> dict:
    """The plan: p1 builds C1 (A and B on it) and adds B on S1; p2 builds C2 with A on it."""
    plan = {
        "format": "siteplan-plan",
        "version": 1,
        "scenario": {"name": "unit", "digest": "ab" * 32, "crs": "EPSG:32650",
                     "synthetic": ["sites", "roads & <fiber>"]},
        "options": {"solver": "highs", "time_limit_s": None, "gap": 0.01, "seed": 0},
        "status": "feasible",
        "operators": ["A", "B"],
        "phases": [
            {"name": "p1", "start": "2016-04-01", "end": "2016-12-31",
             "quota_sites": [1, 1], "quota_stations": [3, 3],
             "new_sites": 1, "new_stations": 3, "new_stations_by_operator": {"A": 1, "B": 2},
             "villages_covered": 2, "poor_villages_covered": 1, "villages_newly_covered": 1,
             "cost_cny": {"sites": 300000.0, "stations": 750000.0, "colocation": 30000.0, "fiber": 121000.0,
                          "total": 1201000.0},
             "fiber_km": 2.2},
            {"name": "p2", "start": "2017-01-01", "end": "2017-12-31",
             "quota_sites": [0, 1], "quota_stations": [0, 2],
             "new_sites": 1, "new_stations": 1, "new_stations_by_operator": {"A": 1, "B": 0},
             "villages_covered": 3, "poor_villages_covered": 1, "villages_newly_covered": 1,
             "cost_cny": {"sites": 350000.0, "stations": 250000.0, "colocation": 0.0, "fiber": 0.0,
                          "total": 600000.0},
             "fiber_km": 2.5},
        ],
        "siting": {"objective": 1745000.5, "bound": 1700000.0, "gap": 0.0260745, "solver": "highs",
                   "solver_version": "1.16.0",
                   "model_size": {"columns": 40, "rows": 55, "nonzeros": 180, "integer_columns": 20}},
        "sites": [
            {"id": "C1", "kind": "candidate", "lon": 116.71, "lat": 23.395, "built_phase": "p1", "height_m": 30.0,
             "tenants_before": [], "tenants_after": ["A", "B"]},
            {"id": "C2", "kind": "candidate", "lon": 116.695, "lat": 23.385, "built_phase": "p2", "height_m": 30.0,
             "tenants_before": [], "tenants_after": ["A"]},
            {"id": "S1", "kind": "existing", "lon": 116.705, "lat": 23.402, "built_phase": None, "height_m": 40.0,
             "tenants_before": ["A"], "tenants_after": ["A", "B"]},
            {"id": "S2", "kind": "existing", "lon": 116.715, "lat": 23.405, "built_phase": None, "height_m": 35.0,
             "tenants_before": ["A", "B"], "tenants_after": ["A", "B"]},
        ],
        "stations": [
            {"site": "S1", "operator": "A", "phase": None, "new": False},
            {"site": "S2", "operator": "A", "phase": None, "new": False},
            {"site": "S2", "operator": "B", "phase": None, "new": False},
            {"site": "C1", "operator": "A", "phase": "p1", "new": True},
            {"site": "C1", "operator": "B", "phase": "p1", "new": True},
            {"site": "S1", "operator": "B", "phase": "p1", "new": True},
            {"site": "C2", "operator": "A", "phase": "p2", "new": True},
        ],
        "villages": [
            {"id": "V1", "name": "甲村", "district": "澄海区", "town": "莲下镇", "poor": True,
             "lon": 116.7, "lat": 23.4, "share_by_phase": [1.0, 1.0], "covered_by_phase": [True, True],
             "first_covered_phase": "p1", "best_rsrp_dbm": -92.5, "serving_sites": ["C1", "S1"]},
            {"id": "V2", "name": "乙村", "district": "澄海区", "town": "莲下镇", "poor": False,
             "lon": 116.72, "lat": 23.41, "share_by_phase": [0.0, 1.0], "covered_by_phase": [False, True],
             "first_covered_phase": "p2", "best_rsrp_dbm": -104.25, "serving_sites": ["S2"]},
            {"id": "V3", "name": "丙居委会", "district": "金平区", "town": "石炮台街道", "poor": False,
             "lon": 116.69, "lat": 23.38, "share_by_phase": [1.0, 1.0], "covered_by_phase": [True, True],
             "first_covered_phase": "existing", "best_rsrp_dbm": -80.0, "serving_sites": ["C2", "S2"]},
        ],
        "fiber": {
            "status": "optimal", "cost_cny": 121000.0, "lower_bound_cny": 121000.0, "gap": 0.0,
            "routes": [
                {"phase": "p1", "u": "N2", "v": "N3", "length_m": 2200.0, "cost_cny": 121000.0,
                 "road_class": "rural", "existing": "none", "fibers": 12,
                 "coordinates": [[116.7, 23.4], [116.71, 23.406], [116.72, 23.41]]},
                # no coordinates: the report takes the road nodes' positions
                {"phase": "p2", "u": "N1", "v": "N2", "length_m": 2500.0, "cost_cny": 0.0,
                 "road_class": "primary", "existing": "fiber", "fibers": 48},
            ],
            "terminals": [
                {"id": "F1", "kind": "village_committee", "phase": "p1", "node": "N2", "bandwidth_mbps": 50.0,
                 "pop": "N1", "port": 1, "drop_m": 10.0},
                {"id": "F2", "kind": "school", "phase": "p1", "node": "N2", "bandwidth_mbps": 100.0,
                 "pop": "N1", "port": 1, "drop_m": 150.0},
                {"id": "F3", "kind": "school", "phase": "p2", "node": "N1", "bandwidth_mbps": 100.0,
                 "pop": "N1", "port": 2, "drop_m": 111.3},
            ],
        },
        "findings": [{"kind": "quota_slack", "message": "phase p2 <uses> 1 of 2 stations & 1 of 1 sites",
                      "blocking": False, "details": {}}],
    }
    return copy.deepcopy(plan)


def make_raster(scenario) -> tuple[np.ndarray, dict]:
    """A synthetic best-server RSRP grid on the scenario's local CRS, with a no-data corner."""
    xs = np.concatenate([scenario.sites.x_m, scenario.villages.x_m])
    ys = np.concatenate([scenario.sites.y_m, scenario.villages.y_m])
    cell = 100.0
    x_min, y_max = float(np.floor(xs.min() / cell) * cell - 1000), float(np.ceil(ys.max() / cell) * cell + 1000)
    nx = int((xs.max() + 1000 - x_min) // cell) + 1
    ny = int((y_max - (ys.min() - 1000)) // cell) + 1
    cx = x_min + (np.arange(nx) + 0.5) * cell
    cy = y_max - (np.arange(ny) + 0.5) * cell
    X, Y = np.meshgrid(cx, cy)
    d = np.min(np.hypot(X[..., None] - scenario.sites.x_m, Y[..., None] - scenario.sites.y_m), axis=-1)
    rsrp = -60.0 - 35.0 * np.log10(np.maximum(d, 50.0) / 50.0)
    rsrp[:3, :4] = np.nan
    return rsrp, {"x_min": x_min, "y_max": y_max, "cell_size": cell, "crs": scenario.crs}


def local_xy(lon: float, lat: float, crs: str = "EPSG:32650") -> tuple[float, float]:
    """Independent projection of one point (pyproj directly, not siteplan's wrapper)."""
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    return float(x), float(y)
