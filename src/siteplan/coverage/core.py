"""Array-level coverage core: site and point coordinates, a DEM and band parameters in,
a sparse RSRP matrix (demand points x sites, float32 [dBm]) out.

Pipeline (every step deterministic, whatever the thread count):

1. ground heights under sites and points by bilinear DEM sampling;
2. one pruning radius per site: the link budget inverted under the most favourable
   assumptions (boresight gain, no diffraction, LOS, least point loss), by bisection
   on the distance-monotone floored path loss; pairs beyond it cannot reach the
   threshold and are never evaluated;
3. candidate pairs from a k-d tree over the points (scipy ``cKDTree``), sorted;
4. count pass (parallel over sites, each writing its own slice): RSRP of every
   candidate pair and the number at/above the threshold; prefix sum; fill pass.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from siteplan.exceptions import Problem
from siteplan.propagation import _kernels as PK
from siteplan.propagation._validate import PropagationInputError, check_range
from siteplan.propagation.antenna import SLA_V_DB
from siteplan.propagation.pathloss import HATA_ENVIRONMENTS, MODELS, VALIDITY
from siteplan.propagation.terrain import DEFAULT_DEYGOUT_DEPTH, DIFFRACTION_METHODS
from siteplan.units import EARTH_RADIUS_M
from siteplan.coverage import _kernels as CK

__all__ = [
    "BandParams",
    "LinkParams",
    "TerrainGrid",
    "resolve_model",
    "max_useful_distance",
    "coverage_csr",
    "MAX_PROFILE_SAMPLES",
]

#: RMa line-of-sight mode name -> kernel code.
RMA_LOS_MODES = {"nlos": CK.RMA_NLOS, "los": CK.RMA_LOS, "terrain": CK.RMA_TERRAIN}

#: Hard cap on samples per terrain profile (longer paths get a coarser step).
MAX_PROFILE_SAMPLES = 4097


def resolve_model(model: str, frequency_mhz: float) -> str:
    """``"auto"`` -> Hata below 1500 MHz, COST-231 1500-2000 MHz, 38.901 RMa above."""
    if model == "auto":
        if frequency_mhz < 1500.0:
            return "hata"
        if frequency_mhz <= 2000.0:
            return "cost231"
        return "rma"
    if model not in MODELS:
        raise PropagationInputError(Problem(None, None, "model",
                                            f"must be 'auto' or one of {sorted(MODELS)}", model))
    return model


@dataclass(frozen=True)
class BandParams:
    """One carrier: frequency [MHz], RS EIRP per port [dBm], path-loss model name."""

    frequency_mhz: float
    rs_eirp_dbm: float
    model: str = "auto"
    name: str = ""


@dataclass(frozen=True)
class LinkParams:
    """Everything except geometry that determines an operator's RSRP matrix.

    Units: dBm, dB, m, deg. ``environment`` is the Hata environment (COST-231 is
    metropolitan for ``"urban_large"``). ``diffraction`` is a method of
    :data:`siteplan.propagation.terrain.DIFFRACTION_METHODS` or ``"none"``.
    ``profile_step_m=None`` = the DEM cell size. ``rma_los`` is the 38.901 RMa
    line-of-sight state: ``"nlos"`` (default, conservative: 38.901's LOS probability in
    RMa is exp(-(d - 10)/1000), 5 % at 3 km, because trees and houses block what the
    terrain does not), ``"los"``, or ``"terrain"`` (geometric LOS over the DEM profile,
    which ignores clutter and overstates coverage).
    """

    bands: tuple[BandParams, ...]
    threshold_dbm: float = -110.0
    environment: str = "suburban"
    mobile_height_m: float = 1.5
    shadow_margin_db: float = 8.0
    azimuths_deg: tuple[float, ...] = (0.0, 120.0, 240.0)
    h_beamwidth_deg: float = 65.0
    v_beamwidth_deg: float = 10.0
    downtilt_deg: float = 4.0
    front_to_back_db: float = 25.0
    sla_v_db: float = SLA_V_DB
    gain_dbi: float = 0.0
    diffraction: str = "bullington"
    k_factor: float = 4.0 / 3.0
    profile_step_m: float | None = None
    max_range_m: float = 30_000.0
    building_height_m: float = 5.0
    street_width_m: float = 20.0
    rma_los: str = "nlos"
    deygout_max_depth: int = DEFAULT_DEYGOUT_DEPTH

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["bands"] = [dataclasses.asdict(b) for b in self.bands]
        d["azimuths_deg"] = list(self.azimuths_deg)
        return d


@dataclass(frozen=True)
class TerrainGrid:
    """North-up DEM: ``elevation_m`` (ny, nx) int16/float32 [m], row 0 north; ``x_min``,
    ``y_max`` outer corner of cell [0, 0] [m]; square ``cell_m`` [m]."""

    elevation_m: np.ndarray
    x_min: float
    y_max: float
    cell_m: float

    @classmethod
    def from_any(cls, obj) -> "TerrainGrid":
        if isinstance(obj, TerrainGrid):
            return obj
        return cls(np.asarray(obj.elevation_m), float(obj.x_min), float(obj.y_max),
                   float(obj.cell_m))

    def dem(self) -> np.ndarray:
        z = np.asarray(self.elevation_m)
        if z.dtype not in (np.int16, np.float32, np.float64):
            z = z.astype(np.float32)
        return np.ascontiguousarray(z)


def _f64(name, v, n=None):
    a = np.ascontiguousarray(np.asarray(v, dtype=np.float64)).ravel()
    if n is not None and a.size == 1 and n != 1:
        a = np.full(n, a[0])
    if not np.all(np.isfinite(a)):
        raise PropagationInputError(Problem(None, None, name, "must be finite", None))
    if n is not None and a.size != n:
        raise PropagationInputError(Problem(None, None, name, f"must have {n} entries", a.size))
    return a


def _check(params: LinkParams):
    probs = []
    if not params.bands:
        probs.append(Problem(None, None, "bands", "at least one band is needed", None))
    if params.environment not in HATA_ENVIRONMENTS:
        probs.append(Problem(None, None, "environment",
                             f"must be one of {sorted(HATA_ENVIRONMENTS)}", params.environment))
    if params.diffraction != "none" and params.diffraction not in DIFFRACTION_METHODS:
        probs.append(Problem(None, None, "diffraction",
                             f"must be 'none' or one of {sorted(DIFFRACTION_METHODS)}",
                             params.diffraction))
    for name in ("mobile_height_m", "h_beamwidth_deg", "v_beamwidth_deg", "max_range_m",
                 "k_factor", "building_height_m", "street_width_m"):
        val = getattr(params, name)
        if not (math.isfinite(val) and val > 0):
            probs.append(Problem(None, None, name, "must be > 0", val))
    for b in params.bands:
        if not (math.isfinite(b.frequency_mhz) and b.frequency_mhz > 0):
            probs.append(Problem(None, None, "frequency_mhz", "must be > 0", b.frequency_mhz))
        if not math.isfinite(b.rs_eirp_dbm):
            probs.append(Problem(None, None, "rs_eirp_dbm", "must be finite", b.rs_eirp_dbm))
    if params.rma_los not in RMA_LOS_MODES:
        probs.append(Problem(None, None, "rma_los", f"must be one of {sorted(RMA_LOS_MODES)}",
                             params.rma_los))
    if not params.azimuths_deg:
        probs.append(Problem(None, None, "azimuths_deg", "at least one sector", None))
    if probs:
        raise PropagationInputError(probs)


def _band_arrays(params: LinkParams):
    models = [resolve_model(b.model, b.frequency_mhz) for b in params.bands]
    return (np.array([MODELS[m] for m in models], dtype=np.int64),
            np.array([b.frequency_mhz for b in params.bands], dtype=np.float64),
            np.array([b.rs_eirp_dbm for b in params.bands], dtype=np.float64),
            models)


def _warn_validity(models, params: LinkParams, site_h: np.ndarray, radii: np.ndarray,
                   strict: bool):
    """Parameter-level validity checks, once per call (not per pair)."""
    for m, b in zip(models, params.bands):
        if m == "free_space":
            continue
        v = VALIDITY[m]
        check_range(m, "frequency_mhz", np.array([b.frequency_mhz]), *v["frequency_mhz"], strict)
        check_range(m, "base_height_m", site_h, *v["base_height_m"], strict)
        check_range(m, "mobile_height_m", np.array([params.mobile_height_m]),
                    *v["mobile_height_m"], strict)
        key = "distance_m" if m != "rma" else "distance_m_los"
        lo, hi, unit = v[key]
        # short distances are expected (floored at free space); flag long ones only
        check_range(m, "distance_m", radii[radii > hi], lo, hi, unit, strict)


def max_useful_distance(site_height_m, params: LinkParams, min_point_loss_db: float = 0.0):
    """Pruning radius [m] per site: beyond it no band can reach ``params.threshold_dbm``
    even at boresight, in line of sight, without diffraction and with the least point
    loss (and LOS unless ``rma_los="nlos"``). Capped at ``params.max_range_m``; 0 when
    the site reaches nothing."""
    _check(params)
    sh = _f64("site_height_m", site_height_m)
    b_model, b_f, b_eirp, _ = _band_arrays(params)
    out = np.empty(sh.size)
    CK._max_distance_kernel(b_model, HATA_ENVIRONMENTS[params.environment], b_f, b_eirp, sh,
                            float(params.mobile_height_m), float(params.building_height_m),
                            float(params.street_width_m), params.rma_los != "nlos",
                            float(params.gain_dbi),
                            float(min_point_loss_db), float(params.shadow_margin_db),
                            float(params.threshold_dbm), float(params.max_range_m), out)
    return out


def candidate_pairs(site_x, site_y, point_x, point_y, radii):
    """Sorted candidate pairs within each site's radius: (ptr (n_s + 1,), idx) int64."""
    n_s = len(site_x)
    ptr = np.zeros(n_s + 1, dtype=np.int64)
    if n_s == 0 or len(point_x) == 0:
        return ptr, np.zeros(0, dtype=np.int64)
    tree = cKDTree(np.column_stack([point_x, point_y]))
    lists = tree.query_ball_point(np.column_stack([site_x, site_y]), r=radii,
                                  return_sorted=True)
    counts = np.fromiter((len(v) for v in lists), dtype=np.int64, count=n_s)
    np.cumsum(counts, out=ptr[1:])
    idx = np.zeros(int(ptr[-1]), dtype=np.int64)
    for s, v in enumerate(lists):
        if v:
            idx[ptr[s]:ptr[s + 1]] = v
    return ptr, idx


def _progress(total: int, desc: str, progress):
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="site", disable=False, leave=False)


def coverage_csr(site_x, site_y, site_height_m, point_x, point_y, params: LinkParams,
                 terrain=None, point_loss_db=0.0, *, prune=True, progress=None,
                 strict=False, chunk_sites=256):
    """RSRP [dBm] of every (demand point, site) pair at or above ``params.threshold_dbm``.

    Parameters
    ----------
    site_x, site_y, site_height_m : (n_s,) site coordinates [m] (local metric CRS) and
        antenna heights above ground [m].
    point_x, point_y : (n_p,) demand-point coordinates [m].
    params : :class:`LinkParams`.
    terrain : :class:`TerrainGrid` (or an object with ``elevation_m``, ``x_min``,
        ``y_max``, ``cell_m``) or ``None`` (flat ground at 0 m, no diffraction).
    point_loss_db : scalar or (n_p,) clutter/penetration loss at each point [dB].
    prune : skip pairs beyond each site's maximum useful distance (exact; set False only
        to check it).
    progress : tqdm bar over sites; default on only when stderr is a terminal.

    Returns
    -------
    (matrix, info): ``scipy.sparse.csr_matrix`` (n_p, n_s) float32 with sorted indices,
    and a dict with ``radius_m`` (n_s,), ``n_candidates``, ``n_pairs``.
    """
    _check(params)
    sx = _f64("site_x", site_x)
    n_s = sx.size
    sy = _f64("site_y", site_y, n_s)
    sh = _f64("site_height_m", site_height_m, n_s)
    px = _f64("point_x", point_x)
    n_p = px.size
    py = _f64("point_y", point_y, n_p)
    ploss = _f64("point_loss_db", point_loss_db, n_p) if n_p else np.zeros(0)
    if np.any(sh < 0):
        raise PropagationInputError(Problem(None, None, "site_height_m", "must be >= 0 m",
                                            float(sh.min())))
    b_model, b_f, b_eirp, models = _band_arrays(params)
    env = HATA_ENVIRONMENTS[params.environment]
    diff_method = PK.DIFF_NONE
    if terrain is not None:
        tg = TerrainGrid.from_any(terrain)
        dem = tg.dem()
        x_min, y_max, cell = tg.x_min, tg.y_max, tg.cell_m
        sg = np.empty(n_s)
        pg = np.empty(n_p)
        PK._bilinear_kernel(dem, x_min, y_max, cell, sx, sy, sg)
        PK._bilinear_kernel(dem, x_min, y_max, cell, px, py, pg)
        if params.diffraction != "none":
            diff_method = DIFFRACTION_METHODS[params.diffraction]
        step = float(params.profile_step_m or cell)
    else:
        dem = np.zeros((1, 1), dtype=np.float32)
        x_min = y_max = 0.0
        cell = step = 1.0
        sg = np.zeros(n_s)
        pg = np.zeros(n_p)
    if not (step > 0):
        raise PropagationInputError(Problem(None, None, "profile_step_m", "must be > 0", step))
    inv_ae = 1.0 / (params.k_factor * EARTH_RADIUS_M)
    max_n = int(min(MAX_PROFILE_SAMPLES, math.ceil(params.max_range_m / step) + 1))
    max_n = max(max_n, 3)
    min_ploss = float(ploss.min()) if n_p else 0.0
    if prune:
        radii = max_useful_distance(sh, params, min_ploss)
    else:
        radii = np.full(n_s, float(params.max_range_m))
    _warn_validity(models, params, sh, radii, strict)
    cand_ptr, cand_idx = candidate_pairs(sx, sy, px, py, radii)
    n_cand = int(cand_ptr[-1])
    val = np.empty(n_cand, dtype=np.float64)
    keep = np.zeros(n_s, dtype=np.int64)
    az = np.ascontiguousarray(np.asarray(params.azimuths_deg, dtype=np.float64))
    bar = _progress(n_s, "coverage", progress)
    thr = float(params.threshold_dbm)
    try:
        for s_lo in range(0, n_s, max(1, int(chunk_sites))):
            s_hi = min(n_s, s_lo + max(1, int(chunk_sites)))
            CK._coverage_eval_kernel(
                s_lo, s_hi, cand_ptr, cand_idx, sx, sy, sg, sh, px, py, pg, ploss, b_model,
                b_f, b_eirp, env, float(params.mobile_height_m), float(params.building_height_m),
                float(params.street_width_m), RMA_LOS_MODES[params.rma_los],
                float(params.shadow_margin_db), az, float(params.downtilt_deg),
                float(params.h_beamwidth_deg), float(params.v_beamwidth_deg),
                float(params.front_to_back_db), float(params.sla_v_db), float(params.gain_dbi),
                dem, float(x_min), float(y_max), float(cell), diff_method, inv_ae, step, max_n,
                int(params.deygout_max_depth), thr, val, keep)
            if bar is not None:
                bar.update(s_hi - s_lo)
    finally:
        if bar is not None:
            bar.close()
    out_ptr = np.zeros(n_s + 1, dtype=np.int64)
    np.cumsum(keep, out=out_ptr[1:])
    n_pairs = int(out_ptr[-1])
    out_idx = np.empty(n_pairs, dtype=np.int64)
    out_val = np.empty(n_pairs, dtype=np.float32)
    if n_s:
        CK._coverage_fill_kernel(cand_ptr, cand_idx, val, thr, out_ptr, out_idx, out_val)
    index_dtype = np.int32 if max(n_p, n_s, n_pairs) < 2**31 - 1 else np.int64
    csc = sp.csc_matrix((out_val, out_idx.astype(index_dtype), out_ptr.astype(index_dtype)),
                        shape=(n_p, n_s))
    mat = csc.tocsr()
    mat.sort_indices()
    info = {"radius_m": radii, "n_candidates": n_cand, "n_pairs": n_pairs,
            "site_ground_m": sg, "point_ground_m": pg}
    return mat, info
