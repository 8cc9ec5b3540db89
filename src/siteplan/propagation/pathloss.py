"""Empirical path-loss models, vectorised over numpy arrays (broadcasting).

Canonical units: distance [m], frequency [MHz], heights above ground [m], loss [dB].
Formulas and validity ranges: ITU-R P.525 (free space), Hata 1980 / COST 231 final
report eq. 4.4.1 (Okumura-Hata), eq. 4.4.3 (COST-231 Hata), 3GPP TR 38.901 Table
7.4.1-1 (RMa). Outside a validity range the formula is extrapolated with a warning
issued once per process, or :class:`ValidityRangeError` is raised with ``strict=True``
(see :mod:`siteplan.propagation._validate`).
"""

from __future__ import annotations

import numpy as np

from siteplan.propagation import _kernels as K
from siteplan.propagation._validate import (
    PropagationInputError,
    as_float_array,
    check_range,
    require_positive,
)
from siteplan.exceptions import Problem

__all__ = [
    "free_space_loss",
    "hata_loss",
    "cost231_loss",
    "rma_loss",
    "path_loss_matrix",
    "HATA_ENVIRONMENTS",
    "MODELS",
    "VALIDITY",
]

#: Hata environment name -> kernel code.
HATA_ENVIRONMENTS: dict[str, int] = {
    "urban_small": K.ENV_URBAN_SMALL,
    "urban_large": K.ENV_URBAN_LARGE,
    "suburban": K.ENV_SUBURBAN,
    "open": K.ENV_OPEN,
}

#: Model name -> kernel code (used by the coverage layer).
MODELS: dict[str, int] = {
    "free_space": K.MODEL_FREE_SPACE,
    "hata": K.MODEL_HATA,
    "cost231": K.MODEL_COST231,
    "rma": K.MODEL_RMA,
}

#: Published validity ranges: model -> quantity -> (low, high, unit).
VALIDITY: dict[str, dict[str, tuple[float, float, str]]] = {
    "hata": {
        "frequency_mhz": (150.0, 1500.0, "MHz"),
        "base_height_m": (30.0, 200.0, "m"),
        "mobile_height_m": (1.0, 10.0, "m"),
        "distance_m": (1000.0, 20000.0, "m"),
    },
    "cost231": {
        "frequency_mhz": (1500.0, 2000.0, "MHz"),
        "base_height_m": (30.0, 200.0, "m"),
        "mobile_height_m": (1.0, 10.0, "m"),
        "distance_m": (1000.0, 20000.0, "m"),
    },
    "rma": {
        "frequency_mhz": (500.0, 30000.0, "MHz"),
        "base_height_m": (10.0, 150.0, "m"),
        "mobile_height_m": (1.0, 10.0, "m"),
        "distance_m_los": (10.0, 10000.0, "m"),
        "distance_m_nlos": (10.0, 5000.0, "m"),
        "building_height_m": (5.0, 50.0, "m"),
        "street_width_m": (5.0, 50.0, "m"),
    },
}


def _broadcast(*arrays):
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    flat = [np.ascontiguousarray(np.broadcast_to(a, shape)).ravel() for a in arrays]
    return shape, flat


def _finish(out: np.ndarray, shape):
    out = out.reshape(shape)
    return out[()] if out.ndim == 0 else out


def free_space_loss(distance_m, frequency_mhz):
    """Free-space basic transmission loss [dB] (ITU-R P.525).

    L = 32.4478 + 20 log f[MHz] + 20 log d[km].

    Parameters
    ----------
    distance_m : array_like, path length [m], > 0.
    frequency_mhz : array_like, carrier frequency [MHz], > 0.
    """
    model = "free_space"
    d = as_float_array("distance_m", distance_m, model)
    f = as_float_array("frequency_mhz", frequency_mhz, model)
    require_positive("distance_m", d, model, "m")
    require_positive("frequency_mhz", f, model, "MHz")
    shape, (d1, f1) = _broadcast(d, f)
    out = np.empty(d1.shape[0])
    K._free_space_kernel(d1, f1, out)
    return _finish(out, shape)


def _check_hata_family(model, d, f, hb, hm, strict):
    require_positive("distance_m", d, model, "m")
    require_positive("frequency_mhz", f, model, "MHz")
    require_positive("base_height_m", hb, model, "m")
    require_positive("mobile_height_m", hm, model, "m")
    v = VALIDITY[model]
    check_range(model, "frequency_mhz", f, *v["frequency_mhz"], strict)
    check_range(model, "base_height_m", hb, *v["base_height_m"], strict)
    check_range(model, "mobile_height_m", hm, *v["mobile_height_m"], strict)
    check_range(model, "distance_m", d, *v["distance_m"], strict)


def hata_loss(distance_m, frequency_mhz, base_height_m, mobile_height_m, environment,
              *, strict=False):
    """Okumura-Hata median path loss [dB] (Hata 1980; COST 231 eq. 4.4.1).

    Parameters
    ----------
    distance_m : array_like, 2-D distance [m] (valid 1-20 km).
    frequency_mhz : array_like, [MHz] (valid 150-1500 MHz).
    base_height_m : array_like, base-station antenna height [m] (valid 30-200 m).
    mobile_height_m : array_like, mobile antenna height [m] (valid 1-10 m).
    environment : ``"urban_small"`` (small/medium city a(h_m)), ``"urban_large"`` (large
        city a(h_m); the 8.29 form up to 300 MHz, the 3.2 form above), ``"suburban"`` and
        ``"open"`` (both with the small/medium-city a(h_m)).
    strict : raise :class:`ValidityRangeError` instead of warning once when an input
        leaves the validity range.
    """
    model = "hata"
    if environment not in HATA_ENVIRONMENTS:
        raise PropagationInputError(Problem(
            None, None, "environment", f"hata: must be one of {sorted(HATA_ENVIRONMENTS)}",
            environment))
    d = as_float_array("distance_m", distance_m, model)
    f = as_float_array("frequency_mhz", frequency_mhz, model)
    hb = as_float_array("base_height_m", base_height_m, model)
    hm = as_float_array("mobile_height_m", mobile_height_m, model)
    _check_hata_family(model, d, f, hb, hm, strict)
    shape, (d1, f1, hb1, hm1) = _broadcast(d, f, hb, hm)
    out = np.empty(d1.shape[0])
    K._hata_kernel(d1, f1, hb1, hm1, HATA_ENVIRONMENTS[environment], out)
    return _finish(out, shape)


def cost231_loss(distance_m, frequency_mhz, base_height_m, mobile_height_m,
                 metropolitan=False, *, strict=False):
    """COST-231 Hata median path loss [dB] (COST 231 final report eq. 4.4.3).

    ``metropolitan=True``: C_m = 3 dB and the large-city a(h_m) (3.2 form);
    otherwise C_m = 0 dB and the small/medium-city a(h_m). Valid 1500-2000 MHz,
    h_b 30-200 m, h_m 1-10 m, d 1-20 km. Units as :func:`hata_loss`.
    """
    model = "cost231"
    d = as_float_array("distance_m", distance_m, model)
    f = as_float_array("frequency_mhz", frequency_mhz, model)
    hb = as_float_array("base_height_m", base_height_m, model)
    hm = as_float_array("mobile_height_m", mobile_height_m, model)
    _check_hata_family(model, d, f, hb, hm, strict)
    shape, (d1, f1, hb1, hm1) = _broadcast(d, f, hb, hm)
    out = np.empty(d1.shape[0])
    K._cost231_kernel(d1, f1, hb1, hm1, bool(metropolitan), out)
    return _finish(out, shape)


def rma_loss(distance_m, frequency_mhz, base_height_m, mobile_height_m, los,
             building_height_m=5.0, street_width_m=20.0, *, strict=False):
    """3GPP TR 38.901 RMa path loss [dB] (Table 7.4.1-1), no shadow fading.

    Parameters
    ----------
    distance_m : array_like, 2-D distance d_2D [m]; d_3D uses base - mobile height.
        Valid 10 m - 10 km (LOS), 10 m - 5 km (NLOS).
    frequency_mhz : array_like, [MHz] (f_c = frequency_mhz / 1000 [GHz], valid 0.5-30 GHz).
    base_height_m, mobile_height_m : [m] (valid 10-150 m and 1-10 m).
    los : array_like of bool, line of sight.
    building_height_m, street_width_m : h and W [m] (defaults 5 m and 20 m, valid 5-50 m).
    """
    model = "rma"
    d = as_float_array("distance_m", distance_m, model)
    f = as_float_array("frequency_mhz", frequency_mhz, model)
    hb = as_float_array("base_height_m", base_height_m, model)
    hm = as_float_array("mobile_height_m", mobile_height_m, model)
    bh = as_float_array("building_height_m", building_height_m, model)
    sw = as_float_array("street_width_m", street_width_m, model)
    los_arr = np.asarray(los, dtype=bool)
    for name, arr, unit in (("distance_m", d, "m"), ("frequency_mhz", f, "MHz"),
                            ("base_height_m", hb, "m"), ("mobile_height_m", hm, "m"),
                            ("building_height_m", bh, "m"), ("street_width_m", sw, "m")):
        require_positive(name, arr, model, unit)
    v = VALIDITY[model]
    for name, arr in (("frequency_mhz", f), ("base_height_m", hb), ("mobile_height_m", hm),
                      ("building_height_m", bh), ("street_width_m", sw)):
        check_range(model, name, arr, *v[name], strict)
    shape, (d1, f1, hb1, hm1, los1, bh1, sw1) = _broadcast(d, f, hb, hm, los_arr, bh, sw)
    if np.any(hb1 <= hm1):
        raise PropagationInputError(Problem(
            None, None, "base_height_m", "rma: must exceed mobile_height_m",
            float(np.min(hb1 - hm1))))
    lo, hi, unit = v["distance_m_los"]
    check_range(model, "distance_m (LOS)", d1[los1], lo, hi, unit, strict)
    lo, hi, unit = v["distance_m_nlos"]
    check_range(model, "distance_m (NLOS)", d1[~los1], lo, hi, unit, strict)
    out = np.empty(d1.shape[0])
    K._rma_kernel(d1, f1, hb1, hm1, los1, bh1, sw1, out)
    return _finish(out, shape)


def path_loss_matrix(model, site_x, site_y, base_height_m, point_x, point_y, mobile_height_m,
                     frequency_mhz, environment="suburban", los=False,
                     building_height_m=5.0, street_width_m=20.0, dtype=np.float64):
    """Path loss [dB] of ``model`` for every (site, point) pair: array (n_sites, n_points).

    Distances are 2-D from the coordinates [m], floored at 1 m; ``base_height_m`` per
    site [m]; other parameters scalars. ``dtype`` is float64 or float32 (half the
    memory): for RMa the float32 matrix is the float64 one rounded once; free space,
    Hata and COST-231 then run the log10 and the log-linear formula in float32
    arithmetic (twice the SIMD width), within 2e-4 dB of float64. ``environment`` is the
    Hata environment (COST-231 is metropolitan for ``"urban_large"``). Validity ranges are not checked here (it is
    the bulk form used by planners' scripts and benchmarks); use the per-model functions
    for checked evaluation.
    """
    if model not in MODELS:
        raise PropagationInputError(Problem(None, None, "model",
                                            f"must be one of {sorted(MODELS)}", model))
    if environment not in HATA_ENVIRONMENTS:
        raise PropagationInputError(Problem(None, None, "environment",
                                            f"must be one of {sorted(HATA_ENVIRONMENTS)}",
                                            environment))
    sx = np.ascontiguousarray(as_float_array("site_x", site_x, model).ravel())
    sy = np.ascontiguousarray(as_float_array("site_y", site_y, model).ravel())
    hb = as_float_array("base_height_m", base_height_m, model).ravel()
    hb = np.ascontiguousarray(np.broadcast_to(hb, sx.shape))
    px = np.ascontiguousarray(as_float_array("point_x", point_x, model).ravel())
    py = np.ascontiguousarray(as_float_array("point_y", point_y, model).ravel())
    if sy.shape != sx.shape or py.shape != px.shape:
        raise PropagationInputError(Problem(None, None, "site_y/point_y",
                                            "must match site_x/point_x in length", None))
    for name, v in (("base_height_m", hb), ("mobile_height_m", np.array([mobile_height_m])),
                    ("frequency_mhz", np.array([frequency_mhz], dtype=float))):
        require_positive(name, np.asarray(v, dtype=float), model, "")
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise PropagationInputError(Problem(None, None, "dtype", "must be float64 or float32",
                                            str(dtype)))
    out = np.empty((sx.size, px.size), dtype=dt)
    small = sx.size * px.size < K.SERIAL_PAIRS_LIMIT
    if dt == np.float32 and model != "rma":
        kernel = K._loss_matrix_f32_serial if small else K._loss_matrix_f32_kernel
        kernel(MODELS[model], HATA_ENVIRONMENTS[environment], sx, sy, hb, px, py,
               float(mobile_height_m), float(frequency_mhz), out)
        return out
    kernel = K._loss_matrix_serial if small else K._loss_matrix_kernel
    kernel(MODELS[model], HATA_ENVIRONMENTS[environment], sx, sy, hb, px, py,
                          float(mobile_height_m), float(frequency_mhz), bool(los),
                          float(building_height_m), float(street_width_m), out)
    return out
