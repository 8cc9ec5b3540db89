"""Private numba kernels of the propagation layer.

Plain contiguous arrays and scalars in, no defaults, no objects, never raise on data.
Units: distances and heights [m], frequency [MHz] (RMa converts to [GHz] inside),
losses [dB], gains [dBi], powers [dBm], angles [deg] unless a name says ``_rad``.
The public wrappers in :mod:`pathloss`, :mod:`terrain` and :mod:`antenna` validate
inputs and call these; the coverage layer calls them directly from its own kernels.

Model codes (``MODEL_*``) and environment codes (``ENV_*``) are the integer forms of
the public string names; diffraction method codes are ``DIFF_*``.
"""

from __future__ import annotations

import math
import types

import numpy as np
from numba import njit, prange

from siteplan.config import NJIT_OPTIONS, NJIT_PARALLEL_OPTIONS

__all__ = [
    "MODEL_FREE_SPACE",
    "MODEL_HATA",
    "MODEL_COST231",
    "MODEL_RMA",
    "ENV_URBAN_SMALL",
    "ENV_URBAN_LARGE",
    "ENV_SUBURBAN",
    "ENV_OPEN",
    "DIFF_NONE",
    "DIFF_BULLINGTON",
    "DIFF_DEYGOUT",
    "DIFF_EPSTEIN_PETERSON",
    "SPEED_OF_LIGHT",
    "FSPL_CONST_DB",
    "SERIAL_PAIRS_LIMIT",
    "serial_twin",
]

MODEL_FREE_SPACE = 0
MODEL_HATA = 1
MODEL_COST231 = 2
MODEL_RMA = 3

ENV_URBAN_SMALL = 0
ENV_URBAN_LARGE = 1
ENV_SUBURBAN = 2
ENV_OPEN = 3

DIFF_NONE = 0
DIFF_BULLINGTON = 1
DIFF_DEYGOUT = 2
DIFF_EPSTEIN_PETERSON = 3

#: Speed of light [m/s].
SPEED_OF_LIGHT = 299_792_458.0
#: 20 log10(4 pi 1e3 1e6 / c): free-space loss constant for d [km], f [MHz] (P.525: 32.4478).
FSPL_CONST_DB = 20.0 * math.log10(4.0 * math.pi * 1e9 / SPEED_OF_LIGHT)

#: Large-city a(h_m) switches from the 8.29 (f <= 200 MHz) to the 3.2 (f >= 400 MHz)
#: form at this frequency [MHz] (Hata gives no formula between 200 and 400 MHz).
LARGE_CITY_SWITCH_MHZ = 300.0


# --------------------------------------------------------------------------------------
# empirical path-loss models (scalar, inlined into loops)
# --------------------------------------------------------------------------------------


@njit(inline="always", **NJIT_OPTIONS)
def _fspl_scalar(d_m, f_mhz):
    return FSPL_CONST_DB + 20.0 * math.log10(f_mhz) + 20.0 * math.log10(d_m * 1e-3)


@njit(inline="always", **NJIT_OPTIONS)
def _a_hm_small(f_mhz, hm):
    lf = math.log10(f_mhz)
    return (1.1 * lf - 0.7) * hm - (1.56 * lf - 0.8)


@njit(inline="always", **NJIT_OPTIONS)
def _a_hm_large(f_mhz, hm):
    if f_mhz <= LARGE_CITY_SWITCH_MHZ:
        t = math.log10(1.54 * hm)
        return 8.29 * t * t - 1.1
    t = math.log10(11.75 * hm)
    return 3.2 * t * t - 4.97


@njit(inline="always", **NJIT_OPTIONS)
def _hata_scalar(d_m, f_mhz, hb, hm, env):
    lf = math.log10(f_mhz)
    lhb = math.log10(hb)
    if env == ENV_URBAN_LARGE:
        a = _a_hm_large(f_mhz, hm)
    else:
        a = _a_hm_small(f_mhz, hm)
    loss = 69.55 + 26.16 * lf - 13.82 * lhb - a + (44.9 - 6.55 * lhb) * math.log10(d_m * 1e-3)
    if env == ENV_SUBURBAN:
        t = math.log10(f_mhz / 28.0)
        loss = loss - 2.0 * t * t - 5.4
    elif env == ENV_OPEN:
        loss = loss - 4.78 * lf * lf + 18.33 * lf - 40.94
    return loss


@njit(inline="always", **NJIT_OPTIONS)
def _cost231_scalar(d_m, f_mhz, hb, hm, metropolitan):
    lf = math.log10(f_mhz)
    lhb = math.log10(hb)
    if metropolitan:
        a = _a_hm_large(f_mhz, hm)
        cm = 3.0
    else:
        a = _a_hm_small(f_mhz, hm)
        cm = 0.0
    return (46.3 + 33.9 * lf - 13.82 * lhb - a
            + (44.9 - 6.55 * lhb) * math.log10(d_m * 1e-3) + cm)


@njit(inline="always", **NJIT_OPTIONS)
def _rma_pl1(d3, fc_ghz, h):
    h172 = h ** 1.72
    return (20.0 * math.log10(40.0 * math.pi * d3 * fc_ghz / 3.0)
            + min(0.03 * h172, 10.0) * math.log10(d3)
            - min(0.044 * h172, 14.77)
            + 0.002 * math.log10(h) * d3)


@njit(inline="always", **NJIT_OPTIONS)
def _rma_scalar(d2_m, f_mhz, hb, hm, los, h, w):
    fc = f_mhz * 1e-3
    dz = hb - hm
    d3 = math.sqrt(d2_m * d2_m + dz * dz)
    d_bp = 2.0 * math.pi * hb * hm * fc * 1e9 / SPEED_OF_LIGHT
    if d2_m <= d_bp:
        pl_los = _rma_pl1(d3, fc, h)
    else:
        pl_los = _rma_pl1(d_bp, fc, h) + 40.0 * math.log10(d3 / d_bp)
    if los:
        return pl_los
    lhb = math.log10(hb)
    r = h / hb
    t = math.log10(11.75 * hm)
    pl_n = (161.04 - 7.1 * math.log10(w) + 7.5 * math.log10(h)
            - (24.37 - 3.7 * r * r) * lhb
            + (43.42 - 3.1 * lhb) * (math.log10(d3) - 3.0)
            + 20.0 * math.log10(fc) - (3.2 * t * t - 4.97))
    return max(pl_los, pl_n)


@njit(inline="always", **NJIT_OPTIONS)
def _model_loss_scalar(model, env, d_m, f_mhz, hb, hm, los, bh, sw):
    """Median path loss [dB] of ``model`` (MODEL_* code) at 2-D distance ``d_m`` [m]."""
    if model == MODEL_HATA:
        return _hata_scalar(d_m, f_mhz, hb, hm, env)
    if model == MODEL_COST231:
        return _cost231_scalar(d_m, f_mhz, hb, hm, env == ENV_URBAN_LARGE)
    if model == MODEL_RMA:
        return _rma_scalar(d_m, f_mhz, hb, hm, los, bh, sw)
    return _fspl_scalar(d_m, f_mhz)


# --- elementwise array kernels (public wrappers broadcast and ravel first) ------------


@njit(**NJIT_PARALLEL_OPTIONS)
def _free_space_kernel(d_m, f_mhz, out):
    for i in prange(d_m.shape[0]):
        out[i] = _fspl_scalar(d_m[i], f_mhz[i])


@njit(**NJIT_PARALLEL_OPTIONS)
def _hata_kernel(d_m, f_mhz, hb, hm, env, out):
    for i in prange(d_m.shape[0]):
        out[i] = _hata_scalar(d_m[i], f_mhz[i], hb[i], hm[i], env)


@njit(**NJIT_PARALLEL_OPTIONS)
def _cost231_kernel(d_m, f_mhz, hb, hm, metropolitan, out):
    for i in prange(d_m.shape[0]):
        out[i] = _cost231_scalar(d_m[i], f_mhz[i], hb[i], hm[i], metropolitan)


@njit(**NJIT_PARALLEL_OPTIONS)
def _rma_kernel(d_m, f_mhz, hb, hm, los, bh, sw, out):
    for i in prange(d_m.shape[0]):
        out[i] = _rma_scalar(d_m[i], f_mhz[i], hb[i], hm[i], los[i], bh[i], sw[i])


@njit(inline="always", **NJIT_OPTIONS)
def _loglin_coeffs(model, env, f_mhz, hb, hm):
    """(A, B) with L = A + B log10(d [m]) for free space, Hata and COST-231 (the models
    that are linear in log distance); (nan, nan) for other models."""
    if model == MODEL_FREE_SPACE:
        return FSPL_CONST_DB + 20.0 * math.log10(f_mhz) - 60.0, 20.0
    if model == MODEL_HATA or model == MODEL_COST231:
        lf = math.log10(f_mhz)
        lhb = math.log10(hb)
        b = 44.9 - 6.55 * lhb
        if model == MODEL_HATA:
            a = _a_hm_large(f_mhz, hm) if env == ENV_URBAN_LARGE else _a_hm_small(f_mhz, hm)
            c0 = 69.55 + 26.16 * lf - 13.82 * lhb - a
            if env == ENV_SUBURBAN:
                t = math.log10(f_mhz / 28.0)
                c0 = c0 - 2.0 * t * t - 5.4
            elif env == ENV_OPEN:
                c0 = c0 - 4.78 * lf * lf + 18.33 * lf - 40.94
        else:
            if env == ENV_URBAN_LARGE:
                c0 = 46.3 + 33.9 * lf - 13.82 * lhb - _a_hm_large(f_mhz, hm) + 3.0
            else:
                c0 = 46.3 + 33.9 * lf - 13.82 * lhb - _a_hm_small(f_mhz, hm)
        return c0 - 3.0 * b, b
    return np.nan, np.nan


_LOG10_2 = math.log10(2.0)
_INV_LN10 = 1.0 / math.log(10.0)
_SQRT2 = math.sqrt(2.0)


@njit(inline="always", **NJIT_OPTIONS)
def _log10_rows(x, bits, expo, out):
    """out[p] = log10(x[p]) for normal x >= 1 (|error| < 4e-15), written as two simple
    loops that LLVM vectorises (exponent/mantissa split through an int64 view, then
    2 atanh((m - 1)/(m + 1)) as an odd polynomial with m in [sqrt(1/2), sqrt(2)]);
    ~4x faster than scalar libm log10 without SVML."""
    n = x.shape[0]
    xi = x.view(np.int64)
    for p in range(n):
        b = xi[p]
        expo[p] = (b >> 52) - 1023
        bits[p] = (b & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000
    mf = bits.view(np.float64)
    for p in range(n):
        m = mf[p]
        e = float(expo[p])
        if m > _SQRT2:
            m = m * 0.5
            e = e + 1.0
        sv = (m - 1.0) / (m + 1.0)
        z = sv * sv
        q = 1.0 / 23.0
        q = q * z + 1.0 / 21.0
        q = q * z + 1.0 / 19.0
        q = q * z + 1.0 / 17.0
        q = q * z + 1.0 / 15.0
        q = q * z + 1.0 / 13.0
        q = q * z + 1.0 / 11.0
        q = q * z + 1.0 / 9.0
        q = q * z + 1.0 / 7.0
        q = q * z + 1.0 / 5.0
        q = q * z + 1.0 / 3.0
        q = q * z + 1.0
        out[p] = 2.0 * sv * q * _INV_LN10 + e * _LOG10_2


@njit(**NJIT_OPTIONS)
def _log10_rows_kernel(x, out):
    """Test hook for :func:`_log10_rows`."""
    bits = np.empty(x.shape[0], dtype=np.int64)
    expo = np.empty(x.shape[0], dtype=np.int64)
    _log10_rows(x, bits, expo, out)


_LOG10_2_F32 = np.float32(_LOG10_2)
_INV_LN10_F32 = np.float32(_INV_LN10)
_SQRT2_F32 = np.float32(_SQRT2)


@njit(inline="always", **NJIT_OPTIONS)
def _log10_rows_f32(x, bits, expo, out):
    """float32 twin of :func:`_log10_rows`: out[p] = log10(x[p]) for normal float32
    x >= 1, in float32 arithmetic (eight lanes per AVX2 instruction): exponent/mantissa
    split through an int32 view, then 2 atanh((m - 1)/(m + 1)) to the z^4 term (series
    remainder < 1e-9, below float32 rounding); |error| within a few float32 ulp."""
    n = x.shape[0]
    xi = x.view(np.int32)
    for p in range(n):
        b = xi[p]
        expo[p] = (b >> 23) - 127
        bits[p] = (b & 0x007FFFFF) | 0x3F800000
    mf = bits.view(np.float32)
    one = np.float32(1.0)
    for p in range(n):
        m = mf[p]
        e = np.float32(expo[p])
        big = m > _SQRT2_F32
        m = m * np.float32(0.5) if big else m
        e = e + one if big else e
        sv = (m - one) / (m + one)
        z = sv * sv
        q = np.float32(1.0 / 9.0)
        q = q * z + np.float32(1.0 / 7.0)
        q = q * z + np.float32(1.0 / 5.0)
        q = q * z + np.float32(1.0 / 3.0)
        q = q * z + one
        out[p] = np.float32(2.0) * sv * q * _INV_LN10_F32 + e * _LOG10_2_F32


@njit(**NJIT_OPTIONS)
def _log10_rows_f32_kernel(x, out):
    """Test hook for :func:`_log10_rows_f32`."""
    bits = np.empty(x.shape[0], dtype=np.int32)
    expo = np.empty(x.shape[0], dtype=np.int32)
    _log10_rows_f32(x, bits, expo, out)


@njit(**NJIT_PARALLEL_OPTIONS)
def _loss_matrix_f32_kernel(model, env, sx, sy, shb, px, py, hm, f_mhz, out):
    """float32 form of :func:`_loss_matrix_kernel` for the log-linear models (free space,
    Hata, COST-231): per-site coefficients in float64, then per pair the squared
    distance in float64 (rounded to float32, floored at 1 m^2), log10 and
    A + B/2 log10(d^2) in float32. |error| vs the float64 kernel < 2e-4 dB (tested)."""
    n_p = px.shape[0]
    for s in prange(sx.shape[0]):
        x0 = sx[s]
        y0 = sy[s]
        a, b = _loglin_coeffs(model, env, f_mhz, shb[s], hm)
        a32 = np.float32(a)
        hb32 = np.float32(0.5 * b)
        d2 = np.empty(n_p, dtype=np.float32)
        lg = np.empty(n_p, dtype=np.float32)
        bits = np.empty(n_p, dtype=np.int32)
        expo = np.empty(n_p, dtype=np.int32)
        for p in range(n_p):
            dx = px[p] - x0
            dy = py[p] - y0
            v = dx * dx + dy * dy
            d2[p] = np.float32(v if v > 1.0 else 1.0)
        _log10_rows_f32(d2, bits, expo, lg)
        row = out[s]
        for p in range(n_p):
            row[p] = a32 + hb32 * lg[p]


@njit(**NJIT_PARALLEL_OPTIONS)
def _loss_matrix_kernel(model, env, sx, sy, shb, px, py, hm, f_mhz, los, bh, sw, out):
    """Path loss [dB] for every (site, point) pair: ``out[s, p]`` (float64; or float32 for
    RMa, computed in float64 and rounded once on the store); distance floored at 1 m, computed
    here from the coordinates (log10 d = log10(dx^2 + dy^2) / 2, no square root).
    Log-linear models use per-site coefficients: one log10 per pair."""
    n_p = px.shape[0]
    for s in prange(sx.shape[0]):
        x0 = sx[s]
        y0 = sy[s]
        if model == MODEL_RMA:
            # 38.901 RMa is piecewise linear in log10(d_3D) (plus 0.002 log10(h) d_3D):
            # per-site constants, one vectorised log10 per pair.
            hb = shb[s]
            fc = f_mhz * 1e-3
            dz = hb - hm
            dz2 = dz * dz
            d_bp = 2.0 * math.pi * hb * hm * fc * 1e9 / SPEED_OF_LIGHT
            h172 = bh ** 1.72
            c1 = min(0.03 * h172, 10.0)
            c3 = 0.002 * math.log10(bh)
            k1 = 20.0 * math.log10(40.0 * math.pi * fc / 3.0) - min(0.044 * h172, 14.77)
            pl_bp = _rma_pl1(d_bp, fc, bh)
            k2 = pl_bp - 40.0 * math.log10(d_bp)
            lhb = math.log10(hb)
            r = bh / hb
            t = math.log10(11.75 * hm)
            b3 = 43.42 - 3.1 * lhb
            k3 = (161.04 - 7.1 * math.log10(sw) + 7.5 * math.log10(bh)
                  - (24.37 - 3.7 * r * r) * lhb - 3.0 * b3 + 20.0 * math.log10(fc)
                  - (3.2 * t * t - 4.97))
            dbp2 = d_bp * d_bp
            row = out[s]
            lg = np.empty(n_p)
            d3sq = np.empty(n_p)
            d2sq = np.empty(n_p)
            bits = np.empty(n_p, dtype=np.int64)
            expo = np.empty(n_p, dtype=np.int64)
            for p in range(n_p):
                dx = px[p] - x0
                dy = py[p] - y0
                v = dx * dx + dy * dy
                v = v if v > 1.0 else 1.0
                d2sq[p] = v
                d3sq[p] = v + dz2
            _log10_rows(d3sq, bits, expo, lg)
            for p in range(n_p):
                l3 = 0.5 * lg[p]
                if d2sq[p] <= dbp2:
                    pl = k1 + (20.0 + c1) * l3 + c3 * math.sqrt(d3sq[p])
                else:
                    pl = k2 + 40.0 * l3
                if not los:
                    pn = k3 + b3 * l3
                    if pn > pl:
                        pl = pn
                row[p] = pl
        else:
            a, b = _loglin_coeffs(model, env, f_mhz, shb[s], hm)
            hb_ = 0.5 * b
            row = out[s]
            d2 = np.empty(n_p)
            bits = np.empty(n_p, dtype=np.int64)
            expo = np.empty(n_p, dtype=np.int64)
            for p in range(n_p):
                dx = px[p] - x0
                dy = py[p] - y0
                v = dx * dx + dy * dy
                d2[p] = v if v > 1.0 else 1.0
            # (float32 output of these models goes through _loss_matrix_f32_kernel)
            _log10_rows(d2, bits, expo, row)
            for p in range(n_p):
                row[p] = a + hb_ * row[p]


def serial_twin(kernel, name):
    """A serial (``NJIT_OPTIONS``) compilation of a parallel kernel's source: a parallel
    launch costs a thread wake-up, which on an oversubscribed machine can take a whole
    scheduler time slice (tens of ms), so small inputs run serially instead. The twin
    gets its own qualified name so that numba's on-disk cache (keyed by name, not by
    compile flags) keeps the serial and parallel machine code apart."""
    py = getattr(kernel, "py_func", kernel)  # a plain function under NUMBA_DISABLE_JIT
    fn = types.FunctionType(py.__code__, py.__globals__, name)
    fn.__qualname__ = name
    fn.__doc__ = py.__doc__
    return njit(**NJIT_OPTIONS)(fn)


_loss_matrix_serial = serial_twin(_loss_matrix_kernel, "_loss_matrix_serial")
_loss_matrix_f32_serial = serial_twin(_loss_matrix_f32_kernel, "_loss_matrix_f32_serial")

#: Below this many (site, point) pairs :func:`_loss_matrix_serial` is used.
SERIAL_PAIRS_LIMIT = 100_000


# --------------------------------------------------------------------------------------
# knife edge and terrain-profile diffraction
# --------------------------------------------------------------------------------------


@njit(inline="always", **NJIT_OPTIONS)
def _j_scalar(v):
    """ITU-R P.526 J(v) [dB]; 0 for v <= -0.78."""
    if v <= -0.78:
        return 0.0
    t = v - 0.1
    return 6.9 + 20.0 * math.log10(math.sqrt(t * t + 1.0) + t)


@njit(**NJIT_PARALLEL_OPTIONS)
def _knife_edge_kernel(v, out):
    for i in prange(v.shape[0]):
        out[i] = _j_scalar(v[i])


@njit(inline="always", **NJIT_OPTIONS)
def _bullington_final(luc, d_m):
    """P.1812-6 eq. 21: L = L_uc + (1 - exp(-L_uc/6)) (10 + 0.02 d[km])."""
    return luc + (1.0 - math.exp(-luc / 6.0)) * (10.0 + 0.02 * d_m * 1e-3)


@njit(inline="always", **NJIT_OPTIONS)
def _bullington_equivalent_edge(stim, srim, hts, hrs, d, lam):
    """Trans-horizon case of P.1812-6 §4.3.1: J [dB] of the single equivalent edge where the
    Tx-side slope ``stim`` and the Rx-side slope ``srim`` meet (eqs. 18-20)."""
    den = stim + srim
    dbp = (hrs - hts + srim * d) / den if den > 0.0 else 0.0
    if den > 0.0 and 0.0 < dbp < d:
        vb = (hts + stim * dbp - (hts * (d - dbp) + hrs * dbp) / d) * math.sqrt(
            2.0 * d / (lam * dbp * (d - dbp)))
    else:
        # both horizon rays coincide with the direct ray (grazing): v = 0
        vb = 0.0
    return _j_scalar(vb)


@njit(**NJIT_OPTIONS)
def _bullington_profile(dist, elev, n, hts, hrs, lam, inv_ae):
    """Bullington loss [dB] (ITU-R P.1812-6 §4.3.1, eqs. 13-21) over one profile.

    dist, elev : first ``n`` entries used, dist[0] = 0 at the transmitter [m].
    hts, hrs : antenna heights above sea level [m]; lam : wavelength [m];
    inv_ae : 1 / effective earth radius [1/m] (0 = flat earth).
    """
    if n < 3:
        return 0.0
    d = dist[n - 1]
    if d <= 0.0:
        return 0.0
    half = 0.5 * inv_ae
    stim = -np.inf
    for i in range(1, n - 1):
        di = dist[i]
        s = (elev[i] + half * di * (d - di) - hts) / di
        if s > stim:
            stim = s
    str_ = (hrs - hts) / d
    if stim < str_:
        vmax = -np.inf
        for i in range(1, n - 1):
            di = dist[i]
            h = elev[i] + half * di * (d - di) - (hts * (d - di) + hrs * di) / d
            v = h * math.sqrt(2.0 * d / (lam * di * (d - di)))
            if v > vmax:
                vmax = v
        luc = _j_scalar(vmax)
    else:
        srim = -np.inf
        for i in range(1, n - 1):
            di = dist[i]
            s = (elev[i] + half * di * (d - di) - hrs) / (d - di)
            if s > srim:
                srim = s
        luc = _bullington_equivalent_edge(stim, srim, hts, hrs, d, lam)
    return _bullington_final(luc, d)


@njit(**NJIT_OPTIONS)
def _los_profile(dist, elev, n, hts, hrs, inv_ae):
    """True when no profile point (with earth bulge) rises above the direct ray."""
    if n < 3:
        return True
    d = dist[n - 1]
    half = 0.5 * inv_ae
    str_ = (hrs - hts) / d
    for i in range(1, n - 1):
        di = dist[i]
        if (elev[i] + half * di * (d - di) - hts) / di >= str_:
            return False
    return True


@njit(inline="always", **NJIT_OPTIONS)
def _edge_v(da, ya, db, yb, di, yi, lam):
    """Fresnel parameter of a point (di, yi) against the ray (da, ya)-(db, yb) [m]."""
    span = db - da
    line = ya + (yb - ya) * (di - da) / span
    return (yi - line) * math.sqrt(2.0 * span / (lam * (di - da) * (db - di)))


@njit(**NJIT_OPTIONS)
def _deygout_profile(dist, elev, n, hts, hrs, lam, inv_ae, max_depth):
    """Deygout loss [dB]: main edge (largest v), then recursively each side, sum of J.

    Earth bulge of the whole path is added to the terrain once; recursion stops on a
    sub-path without an edge of v > -0.78 or below ``max_depth`` levels (main = level 1).
    """
    if n < 3:
        return 0.0
    d = dist[n - 1]
    half = 0.5 * inv_ae
    y = np.empty(n)
    for i in range(n):
        y[i] = elev[i] + half * dist[i] * (d - dist[i])
    y[0] = hts
    y[n - 1] = hrs
    stack_a = np.empty(n, dtype=np.int64)
    stack_b = np.empty(n, dtype=np.int64)
    stack_l = np.empty(n, dtype=np.int64)
    top = 0
    stack_a[0] = 0
    stack_b[0] = n - 1
    stack_l[0] = 1
    top = 1
    total = 0.0
    while top > 0:
        top -= 1
        a = stack_a[top]
        b = stack_b[top]
        lev = stack_l[top]
        if b - a < 2:
            continue
        vbest = -np.inf
        ibest = -1
        for i in range(a + 1, b):
            v = _edge_v(dist[a], y[a], dist[b], y[b], dist[i], y[i], lam)
            if v > vbest:
                vbest = v
                ibest = i
        if vbest <= -0.78:
            continue
        total += _j_scalar(vbest)
        if lev < max_depth:
            stack_a[top] = a
            stack_b[top] = ibest
            stack_l[top] = lev + 1
            top += 1
            stack_a[top] = ibest
            stack_b[top] = b
            stack_l[top] = lev + 1
            top += 1
    return total


@njit(**NJIT_OPTIONS)
def _epstein_peterson_profile(dist, elev, n, hts, hrs, lam, inv_ae):
    """Epstein-Peterson loss [dB] over the edges of the taut string (upper hull).

    Edges are the interior vertices of the upper convex hull of the bulged profile
    between the two antenna tips; each edge's v is taken on the line joining its
    neighbouring edges (or antennas), and the J are summed. With no hull edge (line of
    sight) the single point of largest v is used, as in the first Deygout step.
    """
    if n < 3:
        return 0.0
    d = dist[n - 1]
    half = 0.5 * inv_ae
    y = np.empty(n)
    for i in range(n):
        y[i] = elev[i] + half * dist[i] * (d - dist[i])
    y[0] = hts
    y[n - 1] = hrs
    hull = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n):
        while m >= 2:
            i0 = hull[m - 2]
            i1 = hull[m - 1]
            # drop i1 if it lies on or below the chord i0 -> i, i.e. if the slope to i is
            # at least the slope to i1; slopes within 1e-12 (relative) count as equal, so a
            # grazing point that is collinear up to rounding is not an edge (a tie is
            # resolved towards the farther point, as the taut string would be)
            s1 = (y[i1] - y[i0]) / (dist[i1] - dist[i0])
            si = (y[i] - y[i0]) / (dist[i] - dist[i0])
            if si >= s1 - 1e-12 * max(1.0, abs(s1)):
                m -= 1
            else:
                break
        hull[m] = i
        m += 1
    if m <= 2:
        vbest = -np.inf
        for i in range(1, n - 1):
            v = _edge_v(dist[0], y[0], dist[n - 1], y[n - 1], dist[i], y[i], lam)
            if v > vbest:
                vbest = v
        return _j_scalar(vbest)
    total = 0.0
    for k in range(1, m - 1):
        ia = hull[k - 1]
        ib = hull[k + 1]
        ik = hull[k]
        total += _j_scalar(_edge_v(dist[ia], y[ia], dist[ib], y[ib], dist[ik], y[ik], lam))
    return total


@njit(inline="always", **NJIT_OPTIONS)
def _diffraction_dispatch(method, dist, elev, n, hts, hrs, lam, inv_ae, max_depth):
    if method == DIFF_BULLINGTON:
        return _bullington_profile(dist, elev, n, hts, hrs, lam, inv_ae)
    if method == DIFF_DEYGOUT:
        return _deygout_profile(dist, elev, n, hts, hrs, lam, inv_ae, max_depth)
    if method == DIFF_EPSTEIN_PETERSON:
        return _epstein_peterson_profile(dist, elev, n, hts, hrs, lam, inv_ae)
    return 0.0


@njit(**NJIT_PARALLEL_OPTIONS)
def _diffraction_batch_kernel(method, dist, elev, n_samples, hts, hrs, lam, inv_ae,
                              max_depth, out):
    """Loss [dB] of many profiles: row k uses the first n_samples[k] columns."""
    for k in prange(dist.shape[0]):
        out[k] = _diffraction_dispatch(method, dist[k], elev[k], n_samples[k], hts[k],
                                       hrs[k], lam[k], inv_ae, max_depth)


# --------------------------------------------------------------------------------------
# DEM sampling and profile extraction
# --------------------------------------------------------------------------------------


@njit(**NJIT_PARALLEL_OPTIONS)
def _bilinear_kernel(dem, x_min, y_max, cell, x, y, out):
    for i in prange(x.shape[0]):
        out[i] = _bilinear(dem, x_min, y_max, cell, x[i], y[i])


@njit(inline="always", **NJIT_OPTIONS)
def _bilinear_grid(dem, fx, fy):
    """Bilinear elevation at fractional cell-centre coordinates (fx col, fy row), clamped."""
    ny = dem.shape[0]
    nx = dem.shape[1]
    if fx < 0.0:
        fx = 0.0
    elif fx > nx - 1:
        fx = float(nx - 1)
    if fy < 0.0:
        fy = 0.0
    elif fy > ny - 1:
        fy = float(ny - 1)
    j0 = int(fx)
    i0 = int(fy)
    if j0 > nx - 2:
        j0 = nx - 2 if nx >= 2 else 0
    if i0 > ny - 2:
        i0 = ny - 2 if ny >= 2 else 0
    j1 = j0 + 1 if nx >= 2 else j0
    i1 = i0 + 1 if ny >= 2 else i0
    tx = fx - j0
    ty = fy - i0
    z00 = float(dem[i0, j0])
    z01 = float(dem[i0, j1])
    z10 = float(dem[i1, j0])
    z11 = float(dem[i1, j1])
    return ((z00 * (1.0 - tx) + z01 * tx) * (1.0 - ty)
            + (z10 * (1.0 - tx) + z11 * tx) * ty)


@njit(inline="always", **NJIT_OPTIONS)
def _bilinear(dem, x_min, y_max, cell, x, y):
    """Bilinear elevation [m] at (x, y) [m] from cell centres; clamped at the edges."""
    return _bilinear_grid(dem, (x - x_min) / cell - 0.5, (y_max - y) / cell - 0.5)


@njit(inline="always", **NJIT_OPTIONS)
def _line_grid(dem, x_min, y_max, cell, x0, y0, x1, y1, n):
    """Grid position (fractional column, row) of the first of n equally spaced points
    from (x0, y0) to (x1, y1), the step between points, and whether the whole segment
    lies inside the grid's interpolation domain (convexity: both ends inside)."""
    ic = 1.0 / cell
    fx0 = (x0 - x_min) * ic - 0.5
    fy0 = (y_max - y0) * ic - 0.5
    dfx = (x1 - x0) * ic / (n - 1)
    dfy = (y0 - y1) * ic / (n - 1)
    fx1 = fx0 + (n - 1) * dfx
    fy1 = fy0 + (n - 1) * dfy
    lim_x = dem.shape[1] - 1.0
    lim_y = dem.shape[0] - 1.0
    inside = (0.0 <= fx0 < lim_x and 0.0 <= fx1 < lim_x and 0.0 <= fy0 < lim_y
              and 0.0 <= fy1 < lim_y)
    return fx0, fy0, dfx, dfy, inside


@njit(inline="always", **NJIT_OPTIONS)
def _sample_line(dem, x_min, y_max, cell, x0, y0, x1, y1, n, elev):
    """Elevations of n equally spaced points from (x0, y0) to (x1, y1), ends included."""
    fx0, fy0, dfx, dfy, inside = _line_grid(dem, x_min, y_max, cell, x0, y0, x1, y1, n)
    if inside:
        # the whole segment is inside the grid (convexity): no clamping needed
        for k in range(n):
            fx = fx0 + k * dfx
            fy = fy0 + k * dfy
            j0 = int(fx)
            i0 = int(fy)
            tx = fx - j0
            ty = fy - i0
            z00 = float(dem[i0, j0])
            z01 = float(dem[i0, j0 + 1])
            z10 = float(dem[i0 + 1, j0])
            z11 = float(dem[i0 + 1, j0 + 1])
            elev[k] = ((z00 * (1.0 - tx) + z01 * tx) * (1.0 - ty)
                       + (z10 * (1.0 - tx) + z11 * tx) * ty)
    else:
        for k in range(n):
            elev[k] = _bilinear_grid(dem, fx0 + k * dfx, fy0 + k * dfy)


@njit(inline="always", **NJIT_OPTIONS)
def _sample_line_split(dem, flat, x_min, y_max, cell, x0, y0, x1, y1, n, elev, fi, idx, wx,
                       wy):
    """:func:`_sample_line` (same values) with the in-grid case in two loops, so that
    both vectorise: sample positions, flat cell indices and weights, then the four
    loads from ``flat`` (``dem`` raveled) and the interpolation. ``fi[k] = k``; idx,
    wx, wy are scratch rows of n items."""
    fx0, fy0, dfx, dfy, inside = _line_grid(dem, x_min, y_max, cell, x0, y0, x1, y1, n)
    if inside:
        nx = dem.shape[1]
        for k in range(n):
            fx = fx0 + fi[k] * dfx
            fy = fy0 + fi[k] * dfy
            j0 = int(fx)
            i0 = int(fy)
            wx[k] = fx - j0
            wy[k] = fy - i0
            idx[k] = i0 * nx + j0
        for k in range(n):
            p = idx[k]
            tx = wx[k]
            ty = wy[k]
            z00 = float(flat[p])
            z01 = float(flat[p + 1])
            z10 = float(flat[p + nx])
            z11 = float(flat[p + nx + 1])
            elev[k] = ((z00 * (1.0 - tx) + z01 * tx) * (1.0 - ty)
                       + (z10 * (1.0 - tx) + z11 * tx) * ty)
    else:
        for k in range(n):
            elev[k] = _bilinear_grid(dem, fx0 + k * dfx, fy0 + k * dfy)


@njit(inline="always", **NJIT_OPTIONS)
def _fill_profile(dem, x_min, y_max, cell, x0, y0, x1, y1, n, dist, elev):
    """Sample n equally spaced points from (x0, y0) to (x1, y1), both ends included."""
    dx = x1 - x0
    dy = y1 - y0
    d = math.sqrt(dx * dx + dy * dy)
    for k in range(n):
        dist[k] = d * k / (n - 1)
    _sample_line(dem, x_min, y_max, cell, x0, y0, x1, y1, n, elev)


@njit(inline="always", **NJIT_OPTIONS)
def _n_samples(d, step, max_n):
    n = int(math.ceil(d / step)) + 1
    if n < 3:
        n = 3
    if n > max_n:
        n = max_n
    return n


@njit(**NJIT_PARALLEL_OPTIONS)
def _profile_kernel(dem, x_min, y_max, cell, x0, y0, x1, y1, n, dist, elev):
    for k in prange(x0.shape[0]):
        _fill_profile(dem, x_min, y_max, cell, x0[k], y0[k], x1[k], y1[k], n, dist[k], elev[k])


@njit(**NJIT_OPTIONS)
def _inverse_tables(n):
    """inv[i] = 1/i, isq[i] = 1/sqrt(i) for i = 1..n-1 (index 0 unused) and fi[i] = i as
    a float (exact: the same value as converting i inside the loops)."""
    inv = np.zeros(n)
    isq = np.zeros(n)
    fi = np.empty(n)
    for i in range(n):
        fi[i] = float(i)
    for i in range(1, n):
        inv[i] = 1.0 / i
        isq[i] = 1.0 / math.sqrt(i)
    return inv, isq, fi


#: Dependence distance of :func:`_running_max` (a multiple of the SIMD width).
RUNMAX_DISTANCE = 16


@njit(inline="always", **NJIT_OPTIONS)
def _running_max(tmp, n):
    """max(tmp[:n]) for n >= 1; tmp is overwritten. A scalar max reduction is one
    4-cycle dependency chain per element and does not vectorise (without fastmath);
    the running maximum at distance RUNMAX_DISTANCE (tmp[j] = max(tmp[j], tmp[j - R]))
    has a loop-carried dependence of distance R, which LLVM vectorises, and leaves the
    maximum in the last R entries. Exact (a maximum of the same values)."""
    for j in range(RUNMAX_DISTANCE, n):
        x = tmp[j]
        y = tmp[j - RUNMAX_DISTANCE]
        tmp[j] = y if y > x else x
    lo = n - RUNMAX_DISTANCE if n > RUNMAX_DISTANCE else 0
    r = tmp[lo]
    for j in range(lo + 1, n):
        r = tmp[j] if tmp[j] > r else r
    return r


@njit(inline="always", **NJIT_OPTIONS)
def _bullington_uniform(elev, n, step, hts, hrs, lam, inv_ae, inv, isq, fi, bt, tmp):
    """:func:`_bullington_profile` for equally spaced samples (d_i = i * step), with the
    divisions and square roots taken from precomputed tables (``_inverse_tables``);
    same formulas. ``bt`` and ``tmp`` are scratch rows of n floats: each pass writes
    its n - 2 terms with a loop that vectorises, then takes their maximum with
    :func:`_running_max` (the same value as the scalar running maximum)."""
    if n < 3:
        return 0.0
    m = n - 1
    d = m * step
    c = 0.5 * inv_ae * step * step           # bulge_i = c * i * (m - i)
    for i in range(1, m):
        t = elev[i] + c * fi[i] * fi[m - i]
        bt[i] = t
        tmp[i - 1] = (t - hts) * inv[i]
    stim = _running_max(tmp, m - 1) / step
    str_ = (hrs - hts) / d
    if stim < str_:
        inv_m = 1.0 / m
        for i in range(1, m):
            h = bt[i] - (hts * fi[m - i] + hrs * fi[i]) * inv_m
            tmp[i - 1] = h * isq[i] * isq[m - i]
        vmax = _running_max(tmp, m - 1)
        luc = _j_scalar(vmax * math.sqrt(2.0 * m / (lam * step)))
    else:
        for i in range(1, m):
            tmp[i - 1] = (bt[i] - hrs) * inv[m - i]
        srim = _running_max(tmp, m - 1) / step
        luc = _bullington_equivalent_edge(stim, srim, hts, hrs, d, lam)
    return _bullington_final(luc, d)


#: Paths are visited in the order of their transmitter's tile of this many DEM cells
#: (side), so that consecutive paths read the same part of the DEM (cache reuse).
LOCALITY_TILE_CELLS = 64


@njit(**NJIT_OPTIONS)
def _locality_order(ny, nx, x_min, y_max, cell, tx_x, tx_y):
    """Permutation of the paths grouping those whose transmitter lies in the same
    LOCALITY_TILE_CELLS tile (tiles in row-major order; stable counting sort, O(n)).
    Only the visiting order changes: every path is computed alone, so results do not
    depend on it."""
    side = LOCALITY_TILE_CELLS * cell
    nty = ny // LOCALITY_TILE_CELLS + 1
    ntx = nx // LOCALITY_TILE_CELLS + 1
    n = tx_x.shape[0]
    key = np.empty(n, dtype=np.int64)
    cnt = np.zeros(nty * ntx + 1, dtype=np.int64)
    for k in range(n):
        fj = (tx_x[k] - x_min) / side
        fi = (y_max - tx_y[k]) / side
        j = 0 if not fj > 0.0 else (ntx - 1 if fj >= ntx - 1 else int(fj))
        i = 0 if not fi > 0.0 else (nty - 1 if fi >= nty - 1 else int(fi))
        key[k] = i * ntx + j
        cnt[key[k] + 1] += 1
    for t in range(nty * ntx):
        cnt[t + 1] += cnt[t]
    order = np.empty(n, dtype=np.int64)
    for k in range(n):
        order[cnt[key[k]]] = k
        cnt[key[k]] += 1
    return order


@njit(**NJIT_PARALLEL_OPTIONS)
def _bullington_dem_kernel(dem, x_min, y_max, cell, tx_x, tx_y, tx_h, rx_x, rx_y, rx_h, n,
                           lam, inv_ae, out):
    """Bullington loss [dB] of many paths, ``n`` samples each, profiles sampled from the
    DEM inside the kernel into a per-thread buffer (fast path of
    :func:`_dem_diffraction_kernel` for ``method == DIFF_BULLINGTON``). Paths are
    visited grouped by the transmitter's DEM tile (:func:`_locality_order`; their
    end points copied into that order first, so the loop reads them sequentially)."""
    n_paths = tx_x.shape[0]
    n_chunks = min(n_paths, 256)
    inv, isq, fi = _inverse_tables(n)
    order = _locality_order(dem.shape[0], dem.shape[1], x_min, y_max, cell, tx_x, tx_y)
    ends = np.empty((6, n_paths))
    for q in range(n_paths):
        k = order[q]
        ends[0, q] = tx_x[k]
        ends[1, q] = tx_y[k]
        ends[2, q] = tx_h[k]
        ends[3, q] = rx_x[k]
        ends[4, q] = rx_y[k]
        ends[5, q] = rx_h[k]
    res = np.empty(n_paths)
    flat = dem.ravel()
    for ch in prange(n_chunks):
        elev = np.empty(n)
        bt = np.empty(n)
        tmp = np.empty(n)
        idx = np.empty(n, dtype=np.int64)
        wx = np.empty(n)
        wy = np.empty(n)
        lo = ch * n_paths // n_chunks
        hi = (ch + 1) * n_paths // n_chunks
        for q in range(lo, hi):
            x0 = ends[0, q]
            y0 = ends[1, q]
            x1 = ends[3, q]
            y1 = ends[4, q]
            dx = x1 - x0
            dy = y1 - y0
            _sample_line_split(dem, flat, x_min, y_max, cell, x0, y0, x1, y1, n, elev, fi,
                               idx, wx, wy)
            d = math.sqrt(dx * dx + dy * dy)
            hts = elev[0] + ends[2, q]
            hrs = elev[n - 1] + ends[5, q]
            if d <= 0.0:
                res[q] = 0.0
            else:
                res[q] = _bullington_uniform(elev, n, d / (n - 1), hts, hrs, lam, inv_ae,
                                             inv, isq, fi, bt, tmp)
    for q in range(n_paths):
        out[order[q]] = res[q]


@njit(**NJIT_PARALLEL_OPTIONS)
def _dem_diffraction_kernel(method, dem, x_min, y_max, cell, tx_x, tx_y, tx_h, rx_x, rx_y,
                            rx_h, n, lam, inv_ae, max_depth, out):
    """Diffraction loss [dB] of many paths, profiles of ``n`` samples taken from the DEM
    inside the kernel; tx_h, rx_h are antenna heights above ground [m]."""
    n_paths = tx_x.shape[0]
    n_chunks = min(n_paths, 64)
    for c in prange(n_chunks):
        dist = np.empty(n)
        elev = np.empty(n)
        lo = c * n_paths // n_chunks
        hi = (c + 1) * n_paths // n_chunks
        for k in range(lo, hi):
            _fill_profile(dem, x_min, y_max, cell, tx_x[k], tx_y[k], rx_x[k], rx_y[k], n,
                          dist, elev)
            hts = elev[0] + tx_h[k]
            hrs = elev[n - 1] + rx_h[k]
            out[k] = _diffraction_dispatch(method, dist, elev, n, hts, hrs, lam, inv_ae,
                                           max_depth)


# --------------------------------------------------------------------------------------
# sector antenna (3GPP TR 36.814 Table A.2.1.1-2)
# --------------------------------------------------------------------------------------


@njit(inline="always", **NJIT_OPTIONS)
def _sector_gain_scalar(bearing, depression, az, tilt, hbw, vbw, a_m, sla_v, gain):
    """Gain [dBi] of one sector toward ``bearing`` [deg from north, clockwise] and
    ``depression`` [deg below horizontal]: G + -min(-(A_H + A_V), A_m)."""
    phi = (bearing - az + 180.0) % 360.0 - 180.0
    r = phi / hbw
    ah = min(12.0 * r * r, a_m)
    q = (depression - tilt) / vbw
    av = min(12.0 * q * q, sla_v)
    return gain - min(ah + av, a_m)


@njit(inline="always", **NJIT_OPTIONS)
def _site_gain_scalar(bearing, depression, azimuths, tilt, hbw, vbw, a_m, sla_v, gain):
    best = -np.inf
    for k in range(azimuths.shape[0]):
        g = _sector_gain_scalar(bearing, depression, azimuths[k], tilt, hbw, vbw, a_m,
                                sla_v, gain)
        if g > best:
            best = g
    return best


@njit(**NJIT_PARALLEL_OPTIONS)
def _sector_gain_kernel(bearing, depression, az, tilt, hbw, vbw, a_m, sla_v, gain, out):
    for i in prange(bearing.shape[0]):
        out[i] = _sector_gain_scalar(bearing[i], depression[i], az[i], tilt[i], hbw[i],
                                     vbw[i], a_m[i], sla_v[i], gain[i])
