"""``build_coverage(scenario, ...)``: the scenario-level entry point of the coverage layer.

It gathers arrays from the scenario (sites, demand points, terrain, operators, radio)
and forwards them to :func:`siteplan.coverage.core.coverage_csr`, once per operator.

Per operator: the antenna height of a station is ``min(operator.antenna_height_m,
site.height_m)`` [m]; the RS EIRP already includes the antenna gain (pattern relative
gain only, G_max = 0 dBi); the loss at a demand point is ``radio.penetration_db`` plus
the manifest's ``terrain.clutter_loss_db`` of the land-cover class of the point's DEM
cell (when a clutter raster is given); the RSRP of a pair is that of the operator's
best band.
"""

from __future__ import annotations

import time

import numpy as np

from siteplan.coverage.core import BandParams, LinkParams, TerrainGrid, coverage_csr
from siteplan.coverage.matrix import CoverageMatrix
from siteplan.exceptions import InputError, Problem

__all__ = ["build_coverage", "operator_link_params", "demand_point_loss", "row_ids"]


def operator_link_params(scenario, operator, model=None, terrain=True, threshold_dbm=None,
                         diffraction=None) -> LinkParams:
    """:class:`LinkParams` of one operator of ``scenario`` (see module docstring)."""
    radio = scenario.radio
    model = model or radio.model
    diff = diffraction or radio.diffraction
    if not terrain or scenario.terrain is None:
        diff = "none"
    bands = tuple(BandParams(float(b.frequency_mhz), float(b.rs_eirp_dbm), model, b.name)
                  for b in operator.bands)
    return LinkParams(
        bands=bands,
        threshold_dbm=float(operator.threshold_dbm if threshold_dbm is None else threshold_dbm),
        environment=radio.environment,
        mobile_height_m=float(radio.mobile_height_m),
        shadow_margin_db=float(radio.shadow_margin_db),
        azimuths_deg=tuple(float(a) for a in operator.azimuths_deg),
        h_beamwidth_deg=float(operator.h_beamwidth_deg),
        v_beamwidth_deg=float(operator.v_beamwidth_deg),
        downtilt_deg=float(operator.downtilt_deg),
        front_to_back_db=float(operator.front_to_back_db),
        gain_dbi=0.0,
        diffraction=diff,
        k_factor=float(radio.k_factor),
        max_range_m=float(radio.max_range_m),
    )


def demand_point_loss(scenario) -> np.ndarray:
    """Penetration + clutter loss [dB] at each demand point."""
    d = scenario.demand
    loss = np.full(len(d), float(scenario.radio.penetration_db))
    t = scenario.terrain
    spec = scenario.manifest.terrain
    if t is not None and t.clutter is not None and spec is not None and spec.clutter_loss_db:
        j = np.clip(((np.asarray(d.x_m) - t.x_min) / t.cell_m).astype(np.int64), 0, t.nx - 1)
        i = np.clip(((t.y_max - np.asarray(d.y_m)) / t.cell_m).astype(np.int64), 0, t.ny - 1)
        cls = np.asarray(t.clutter)[i, j]
        table = {int(k): float(v) for k, v in spec.clutter_loss_db.items()}
        loss += np.array([table.get(int(c), 0.0) for c in cls])
    return loss


def row_ids(scenario) -> np.ndarray:
    """Demand-point ids ``"<village id>#<k>"`` (k-th point of its village, 0-based)."""
    vill = np.asarray(scenario.demand.village, dtype=np.int64)
    order = np.argsort(vill, kind="stable")
    k = np.empty(len(vill), dtype=np.int64)
    sv = vill[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sv)) + 1] if len(sv) else np.zeros(0, np.int64)
    run_start = np.zeros(len(sv), dtype=np.int64)
    if len(sv):
        run_start[starts] = starts
        run_start = np.maximum.accumulate(run_start)
    k[order] = np.arange(len(sv)) - run_start
    vid = np.asarray(scenario.villages.id, dtype=object)
    return np.array([f"{vid[v]}#{kk}" for v, kk in zip(vill, k)], dtype=object)


def build_coverage(scenario, operators=None, model=None, terrain=True, threshold_dbm=None, *,
                   diffraction=None, progress=None, strict=False) -> CoverageMatrix:
    """RSRP coverage matrices of ``scenario``, one per operator.

    Parameters
    ----------
    scenario : :class:`siteplan.model.Scenario`.
    operators : operator names (default all, in scenario order).
    model : path-loss model name (``"auto"``, ``"hata"``, ``"cost231"``, ``"rma"``,
        ``"free_space"``); default ``scenario.radio.model``.
    terrain : use the scenario's DEM (ground heights and diffraction); ``False`` = flat.
    threshold_dbm : overrides every operator's ``threshold_dbm`` [dBm].
    diffraction : overrides ``scenario.radio.diffraction``.
    progress : progress bar over sites (default: only when stderr is a terminal).
    strict : raise instead of warning when a model leaves its validity range.
    """
    names = scenario.operator_names
    if operators is None:
        chosen = list(scenario.operators)
    else:
        if isinstance(operators, str):
            operators = [operators]
        unknown = [o for o in operators if o not in names]
        if unknown:
            raise InputError(Problem(None, None, "operators",
                                     f"unknown operator; known: {', '.join(names)}", unknown[0]))
        chosen = [o for o in scenario.operators if o.name in set(operators)]
    tgrid = None
    if terrain and scenario.terrain is not None:
        t = scenario.terrain
        tgrid = TerrainGrid(np.asarray(t.elevation_m), float(t.x_min), float(t.y_max),
                            float(t.cell_m))
    sites = scenario.sites
    dem_pts = scenario.demand
    ploss = demand_point_loss(scenario)
    mats = {}
    op_params = {}
    info = {}
    for op in chosen:
        lp = operator_link_params(scenario, op, model, terrain, threshold_dbm, diffraction)
        heights = np.minimum(float(op.antenna_height_m), np.asarray(sites.height_m, dtype=float))
        t0 = time.perf_counter()
        mat, inf = coverage_csr(sites.x_m, sites.y_m, heights, dem_pts.x_m, dem_pts.y_m, lp,
                                tgrid, ploss, progress=progress, strict=strict)
        mats[op.name] = mat
        d = lp.to_dict()
        d["antenna_height_m"] = float(op.antenna_height_m)
        op_params[op.name] = d
        info[op.name] = {"seconds": time.perf_counter() - t0,
                         "n_candidates": inf["n_candidates"], "n_pairs": inf["n_pairs"],
                         "radius_m_max": float(np.max(inf["radius_m"])) if len(sites) else 0.0}
    params = {
        "scenario": scenario.name,
        "scenario_digest": scenario.digest,
        "crs": scenario.crs,
        "terrain": None if tgrid is None else {
            "shape": list(tgrid.elevation_m.shape), "x_min": tgrid.x_min, "y_max": tgrid.y_max,
            "cell_m": tgrid.cell_m, "source": scenario.terrain.source},
        "penetration_db": float(scenario.radio.penetration_db),
        "clutter_loss_db": ({str(k): float(v) for k, v in scenario.manifest.terrain.clutter_loss_db.items()}
                            if scenario.manifest.terrain is not None else {}),
        "operators": op_params,
        "rsrp": "best band; EIRP + pattern - max(PL, FSPL) - diffraction - point loss - shadow margin",
    }
    return CoverageMatrix(
        operators=tuple(op.name for op in chosen), matrices=mats, row_ids=row_ids(scenario),
        row_village=np.asarray(dem_pts.village, dtype=np.int32),
        village_ids=np.asarray(scenario.villages.id, dtype=object),
        col_ids=np.asarray(sites.id, dtype=object), params=params, info=info)


def coverage_subset(scenario, operator, site_index, point_index, *, threshold_dbm=None, terrain=True):
    """RSRP [dBm] CSR matrix (chosen points x chosen sites) for one operator of ``scenario``,
    with exactly the antenna heights, losses and link parameters of :func:`build_coverage`.

    Used to recheck a plan's stations (``siteplan check``) and to find the best signal a
    point can get below the threshold (``threshold_dbm`` override) for diagnoses.
    """
    op = operator if not isinstance(operator, str) else next(o for o in scenario.operators if o.name == operator)
    site_index = np.asarray(site_index, dtype=np.int64)
    point_index = np.asarray(point_index, dtype=np.int64)
    tgrid = None
    if terrain and scenario.terrain is not None:
        t = scenario.terrain
        tgrid = TerrainGrid(np.asarray(t.elevation_m), float(t.x_min), float(t.y_max), float(t.cell_m))
    sites = scenario.sites
    pts = scenario.demand
    lp = operator_link_params(scenario, op, None, terrain, threshold_dbm, None)
    heights = np.minimum(float(op.antenna_height_m), np.asarray(sites.height_m, dtype=float)[site_index])
    ploss = demand_point_loss(scenario)[point_index]
    mat, _ = coverage_csr(np.asarray(sites.x_m)[site_index], np.asarray(sites.y_m)[site_index], heights,
                          np.asarray(pts.x_m)[point_index], np.asarray(pts.y_m)[point_index], lp, tgrid, ploss,
                          progress=False)
    return mat
