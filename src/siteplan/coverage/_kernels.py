"""Private numba kernels of the coverage layer (link budgets over site x point pairs and
best-server rasters). Units: [m], [MHz], [dB], [dBm], [deg].

Link budget of one (site, point) pair and band b::

    RSRP_b = EIRP_b + G(bearing, depression) - max(PL_b(d), FSPL_b(d)) - L_diff,b
             - point_loss - shadow_margin

The empirical loss is floored at free space (Hata-type fits fall below it at short
range) and evaluated at d = max(d_2D, 1 m). RSRP of the pair is the best band.
"""

from __future__ import annotations

import math
import types

import numpy as np
from numba import njit, prange

from siteplan.config import NJIT_OPTIONS, NJIT_PARALLEL_OPTIONS
from siteplan.propagation._kernels import (
    DIFF_NONE,
    FSPL_CONST_DB,
    MODEL_RMA,
    _bilinear_grid,
    _loglin_coeffs,
    _rma_scalar,
    SPEED_OF_LIGHT,
    _bilinear,
    _bullington_final,
    _diffraction_dispatch,
    _fill_profile,
    _fspl_scalar,
    _j_scalar,
    _los_profile,
    _model_loss_scalar,
    _n_samples,
    _site_gain_scalar,
)

__all__: list[str] = []

#: Evaluate empirical models no closer than this [m].
MIN_DISTANCE_M = 1.0

#: RMa line-of-sight modes: always NLOS, always LOS, geometric LOS from the terrain profile.
RMA_NLOS = 0
RMA_LOS = 1
RMA_TERRAIN = 2


@njit(inline="always", **NJIT_OPTIONS)
def _floored_loss(model, env, d, f, hb, hm, los, bh, sw):
    pl = _model_loss_scalar(model, env, d, f, hb, hm, los, bh, sw)
    fs = _fspl_scalar(d, f)
    return pl if pl > fs else fs


@njit(**NJIT_PARALLEL_OPTIONS)
def _max_distance_kernel(b_model, env, b_f, b_eirp, site_hb, hm, bh, sw, bound_los, gain_max,
                         min_point_loss, shadow, threshold, max_range, out):
    """Largest distance [m] at which any band of a site can still reach ``threshold``
    under the most favourable assumptions (boresight gain, no diffraction, least point
    loss, LOS when ``bound_los`` - the RMa LOS loss never exceeds the NLOS loss): the exact pruning radius, because every dropped term only lowers RSRP
    and the floored path loss grows with distance."""
    for s in prange(site_hb.shape[0]):
        best = 0.0
        for b in range(b_f.shape[0]):
            base = b_eirp[b] + gain_max - min_point_loss - shadow - threshold
            m_hi = base - _floored_loss(b_model[b], env, max_range, b_f[b], site_hb[s], hm,
                                        bound_los, bh, sw)
            if m_hi >= 0.0:
                r = max_range
            else:
                m_lo = base - _floored_loss(b_model[b], env, MIN_DISTANCE_M, b_f[b],
                                            site_hb[s], hm, bound_los, bh, sw)
                if m_lo < 0.0:
                    r = 0.0
                else:
                    lo = MIN_DISTANCE_M
                    hi = max_range
                    for _ in range(64):
                        mid = 0.5 * (lo + hi)
                        if base - _floored_loss(b_model[b], env, mid, b_f[b], site_hb[s], hm,
                                                bound_los, bh, sw) >= 0.0:
                            lo = mid
                        else:
                            hi = mid
                    r = hi
            if r > best:
                best = r
        out[s] = best


@njit(**NJIT_OPTIONS)
def _pair_rsrp(s, j, sx, sy, sg, sh, px, py, pg, ploss, b_model, b_f, b_eirp, env, hm, bh,
               sw, rma_mode, shadow, az, tilt, hbw, vbw, am, slav, gain_dbi, dem,
               x_min, y_max, cell, diff_method, inv_ae, step, max_n, max_depth, dist, elev):
    dx = px[j] - sx[s]
    dy = py[j] - sy[s]
    d2 = math.sqrt(dx * dx + dy * dy)
    d = d2 if d2 > MIN_DISTANCE_M else MIN_DISTANCE_M
    hts = sg[s] + sh[s]
    hrs = pg[j] + hm
    bearing = math.degrees(math.atan2(dx, dy))
    depression = math.degrees(math.atan2(hts - hrs, d))
    gain = _site_gain_scalar(bearing, depression, az, tilt, hbw, vbw, am, slav, gain_dbi)
    n = 0
    los = rma_mode == RMA_LOS
    if diff_method != DIFF_NONE and d2 > MIN_DISTANCE_M:
        n = _n_samples(d2, step, max_n)
        _fill_profile(dem, x_min, y_max, cell, sx[s], sy[s], px[j], py[j], n, dist, elev)
        if rma_mode == RMA_TERRAIN:
            los = _los_profile(dist, elev, n, hts, hrs, inv_ae)
    best = -np.inf
    for b in range(b_f.shape[0]):
        pl = _floored_loss(b_model[b], env, d, b_f[b], sh[s], hm, los, bh, sw)
        ld = 0.0
        if n > 0:
            lam = SPEED_OF_LIGHT / (b_f[b] * 1e6)
            ld = _diffraction_dispatch(diff_method, dist, elev, n, hts, hrs, lam, inv_ae,
                                       max_depth)
        r = b_eirp[b] + gain - pl - ld - ploss[j] - shadow
        if r > best:
            best = r
    return best


@njit(**NJIT_PARALLEL_OPTIONS)
def _coverage_eval_kernel(s_lo, s_hi, cand_ptr, cand_idx, sx, sy, sg, sh, px, py, pg, ploss,
                          b_model, b_f, b_eirp, env, hm, bh, sw, rma_mode, shadow, az,
                          tilt, hbw, vbw, am, slav, gain_dbi, dem, x_min, y_max, cell,
                          diff_method, inv_ae, step, max_n, max_depth, threshold, out_val,
                          keep_count):
    """Count pass: RSRP [dBm] of every candidate pair of sites [s_lo, s_hi) into its own
    slice of ``out_val`` and the number of pairs >= threshold per site."""
    for s in prange(s_lo, s_hi):
        dist = np.empty(max_n)
        elev = np.empty(max_n)
        cnt = 0
        for k in range(cand_ptr[s], cand_ptr[s + 1]):
            r = _pair_rsrp(s, cand_idx[k], sx, sy, sg, sh, px, py, pg, ploss, b_model, b_f,
                           b_eirp, env, hm, bh, sw, rma_mode, shadow, az, tilt, hbw,
                           vbw, am, slav, gain_dbi, dem, x_min, y_max, cell, diff_method,
                           inv_ae, step, max_n, max_depth, dist, elev)
            out_val[k] = r
            if r >= threshold:
                cnt += 1
        keep_count[s] = cnt


@njit(**NJIT_PARALLEL_OPTIONS)
def _coverage_fill_kernel(cand_ptr, cand_idx, val, threshold, out_ptr, out_idx, out_val):
    """Fill pass: copy the kept pairs of each site into its slice (after the prefix sum)."""
    for s in prange(cand_ptr.shape[0] - 1):
        o = out_ptr[s]
        for k in range(cand_ptr[s], cand_ptr[s + 1]):
            if val[k] >= threshold:
                out_idx[o] = cand_idx[k]
                out_val[o] = np.float32(val[k])
                o += 1


# --------------------------------------------------------------------------------------
# radial sweep (best-server raster)
# --------------------------------------------------------------------------------------


#: Tabulated Bullington loss of one edge, L(v, d) = F(v) + G(v) d[km] with
#: F = J + 10 (1 - e^(-J/6)), G = 0.02 (1 - e^(-J/6)), on v = -0.78 + k / J_TABLE_SCALE;
#: linear interpolation error < 1e-6 dB (J'' is small); exact formula beyond the table.
J_TABLE_SCALE = 1024.0
J_TABLE_VMAX = 40.0


def j_tables():
    """(F, G) tables of the raster's per-pixel diffraction loss (see J_TABLE_SCALE)."""
    v = -0.78 + np.arange(int((J_TABLE_VMAX + 0.78) * J_TABLE_SCALE) + 2) / J_TABLE_SCALE
    t = v - 0.1
    j = 6.9 + 20.0 * np.log10(np.sqrt(t * t + 1.0) + t)
    j[0] = 6.9 + 20.0 * math.log10(math.sqrt(0.88 * 0.88 + 1.0) - 0.88)
    e = 1.0 - np.exp(-j / 6.0)
    return np.ascontiguousarray(j + 10.0 * e), np.ascontiguousarray(0.02 * e)


@njit(inline="always", **NJIT_OPTIONS)
def _edge_loss_tab(v, d_m, ftab, gtab):
    """Bullington's final loss of a single edge of parameter v at path length d [m]."""
    if v <= -0.78:
        return 0.0
    if v >= J_TABLE_VMAX:
        return _bullington_final(_j_scalar(v), d_m)
    x = (v + 0.78) * J_TABLE_SCALE
    i = int(x)
    t = x - i
    f = ftab[i] + t * (ftab[i + 1] - ftab[i])
    g = gtab[i] + t * (gtab[i + 1] - gtab[i])
    return f + g * (d_m * 1e-3)


@njit(**NJIT_PARALLEL_OPTIONS)
def _radial_sweep_kernel(dem, x_min, y_max, cell, sx, sy, hts, hm, n_rad, n_step, step, lam,
                         inv_ae, v_out, los_out):
    """Fresnel parameter v of the Tx-horizon edge on a polar grid around one site:
    ``v_out[k, r]`` for the point at distance (k + 1) * step [m] on radial r (bearing
    360 r / n_rad deg; ring-major so that neighbouring pixels read neighbouring memory); the raster's diffraction loss is Bullington's final formula
    (P.1812-6 eqs. 17 and 21) applied to it.

    The Tx-horizon edge is the profile point of largest elevation angle seen from the
    transmitter. By the identity (g_i + d_i (d - d_i)/(2 a_e) - h_ts)/d_i =
    [(g_i - h_ts)/d_i - d_i/(2 a_e)] + d/(2 a_e) it is a running maximum along the
    radial, so each point costs O(1). Its v never exceeds the v of Bullington's
    equivalent edge (the Tx-horizon edge lies on the Tx ray before the rays'
    intersection), so the loss is a lower bound of the full Bullington loss on the same
    profile. ``los_out[k, r]`` is 1 when the point sees the transmitter (S_tim < S_tr).
    Divisions and square roots come from 1/k, 1/sqrt(k) and sqrt(k) tables.
    """
    half = 0.5 * inv_ae
    c = half * step * step
    inv = np.zeros(n_step + 1)
    isq = np.zeros(n_step + 1)
    sq = np.zeros(n_step + 1)
    for k in range(1, n_step + 1):
        inv[k] = 1.0 / k
        isq[k] = 1.0 / math.sqrt(k)
        sq[k] = math.sqrt(k)
    vscale = math.sqrt(2.0 / (lam * step))
    ic = 1.0 / cell
    fx0 = (sx - x_min) * ic - 0.5
    fy0 = (y_max - sy) * ic - 0.5
    for r in prange(n_rad):
        th = 2.0 * math.pi * r / n_rad
        dfx = math.sin(th) * step * ic
        dfy = -math.cos(th) * step * ic
        qmax = -np.inf
        ib = 0
        gb = 0.0
        for k in range(1, n_step + 1):
            g = _bilinear_grid(dem, fx0 + k * dfx, fy0 + k * dfy)
            hrs = g + hm
            if k >= 2:
                h = gb + c * ib * (k - ib) - (hts * (k - ib) + hrs * ib) * inv[k]
                v_out[k - 1, r] = h * isq[ib] * isq[k - ib] * sq[k] * vscale
                # S_tim < S_tr in units of 1/step: qmax + half d vs (hrs - hts)/d
                los_out[k - 1, r] = 1 if (qmax + c * k) < (hrs - hts) * inv[k] else 0
            else:
                v_out[k - 1, r] = -np.inf
                los_out[k - 1, r] = 1
            q = (g - hts) * inv[k] - c * k
            if q > qmax:
                qmax = q
                ib = k
                gb = g


@njit(**NJIT_PARALLEL_OPTIONS)
def _raster_site_kernel(dem, x_min, y_max, cell, sx, sy, sg, sh, radius, polar_v, polar_los,
                        n_rad, step, use_polar, b_model, b_f, b_eirp, env, hm, bh, sw,
                        rma_mode, point_loss, shadow, az, tilt, hbw, vbw, am, slav,
                        gain_dbi, ftab, gtab, best, best_site, site_index):
    """Best-server update for one site: every pixel within ``radius`` gets the site's
    RSRP (diffraction from the nearest polar sample, O(1)); keeps the maximum. Rows are
    processed in parallel; each pixel is written by one thread only. Log-linear models
    use per-site coefficients (one log10 per pixel for all bands)."""
    ny = best.shape[0]
    nx = best.shape[1]
    i0 = int(math.floor((y_max - (sy + radius)) / cell))
    i1 = int(math.ceil((y_max - (sy - radius)) / cell))
    j0 = int(math.floor((sx - radius - x_min) / cell))
    j1 = int(math.ceil((sx + radius - x_min) / cell))
    if i0 < 0:
        i0 = 0
    if j0 < 0:
        j0 = 0
    if i1 > ny:
        i1 = ny
    if j1 > nx:
        j1 = nx
    hts = sg + sh
    n_step = polar_v.shape[1]
    n_b = b_f.shape[0]
    coef_a = np.empty(n_b)
    coef_b = np.empty(n_b)
    coef_f = np.empty(n_b)
    for b in range(n_b):
        a_, b_ = _loglin_coeffs(b_model[b], env, b_f[b], sh, hm)
        coef_a[b] = a_
        coef_b[b] = b_
        coef_f[b] = FSPL_CONST_DB + 20.0 * math.log10(b_f[b]) - 60.0
    r2max = radius * radius
    ihbw = 1.0 / hbw
    ivbw = 1.0 / vbw
    n_az = az.shape[0]
    two_pi = 2.0 * math.pi
    rad2deg = 180.0 / math.pi
    for i in prange(i0, i1):
        y = y_max - (i + 0.5) * cell
        dy = y - sy
        for j in range(j0, j1):
            dx = x_min + (j + 0.5) * cell - sx
            d2sq = dx * dx + dy * dy
            if d2sq > r2max:
                continue
            d2 = math.sqrt(d2sq)
            d = d2 if d2 > MIN_DISTANCE_M else MIN_DISTANCE_M
            l10 = math.log10(d)
            hrs = float(dem[i, j]) + hm
            th = math.atan2(dx, dy)
            bearing = th * rad2deg
            depression = math.atan((hts - hrs) / d) * rad2deg
            q = (depression - tilt) * ivbw
            av = 12.0 * q * q
            if av > slav:
                av = slav
            gain = -np.inf
            for a in range(n_az):
                phi = bearing - az[a]
                if phi < -180.0:
                    phi += 360.0
                    if phi < -180.0:
                        phi += 360.0
                elif phi > 180.0:
                    phi -= 360.0
                rr = phi * ihbw
                tot = 12.0 * rr * rr
                if tot > am:
                    tot = am
                tot += av
                if tot > am:
                    tot = am
                g_ = gain_dbi - tot
                if g_ > gain:
                    gain = g_
            los = rma_mode == RMA_LOS
            ld_v = -np.inf
            dk = 0.0
            if use_polar:
                k = int(d2 / step + 0.5)
                if k >= 1:
                    if k > n_step:
                        k = n_step
                    if th < 0.0:
                        th += two_pi
                    r = int(th / two_pi * n_rad + 0.5) % n_rad
                    if rma_mode == RMA_TERRAIN:
                        los = polar_los[k - 1, r] == 1
                    dk = k * step
                    ld_v = polar_v[0, k - 1, r]
            bestv = -np.inf
            for b in range(n_b):
                if b_model[b] == MODEL_RMA:
                    pl = _rma_scalar(d, b_f[b], sh, hm, los, bh, sw)
                else:
                    pl = coef_a[b] + coef_b[b] * l10
                fs = coef_f[b] + 20.0 * l10
                if fs > pl:
                    pl = fs
                ld = 0.0
                if use_polar:
                    vb = polar_v[b, k - 1, r] if ld_v > -np.inf else -np.inf
                    ld = _edge_loss_tab(vb, dk, ftab, gtab)
                v = b_eirp[b] + gain - pl - ld - point_loss - shadow
                if v > bestv:
                    bestv = v
            if bestv > best[i, j]:
                best[i, j] = bestv
                best_site[i, j] = site_index


# Serial twins of the two raster kernels, compiled from the same source: a parallel
# launch costs a thread wake-up, which on an oversubscribed machine can take a whole
# scheduler time slice (tens of ms); small sites run serially instead.
# Each twin gets its own qualified name so that numba's on-disk cache (keyed by name,
# not by compile flags) keeps the serial and parallel machine code apart.


def _serial_twin(kernel, name):
    fn = types.FunctionType(kernel.py_func.__code__, kernel.py_func.__globals__, name)
    fn.__qualname__ = name
    fn.__doc__ = kernel.py_func.__doc__
    return njit(**NJIT_OPTIONS)(fn)


_radial_sweep_serial = _serial_twin(_radial_sweep_kernel, "_radial_sweep_serial")
_raster_site_serial = _serial_twin(_raster_site_kernel, "_raster_site_serial")

#: Below this many polar samples (or pixels) per site the serial twins are used.
SERIAL_WORK_LIMIT = 200_000
