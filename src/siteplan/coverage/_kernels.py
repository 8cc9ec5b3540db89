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

import numpy as np
from numba import njit, prange

from siteplan.config import NJIT_OPTIONS, NJIT_PARALLEL_OPTIONS
from siteplan.propagation._kernels import (
    DIFF_NONE,
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


@njit(inline="always", **NJIT_OPTIONS)
def _floored_loss(model, env, d, f, hb, hm, los, bh, sw):
    pl = _model_loss_scalar(model, env, d, f, hb, hm, los, bh, sw)
    fs = _fspl_scalar(d, f)
    return pl if pl > fs else fs


@njit(**NJIT_PARALLEL_OPTIONS)
def _max_distance_kernel(b_model, env, b_f, b_eirp, site_hb, hm, bh, sw, gain_max,
                         min_point_loss, shadow, threshold, max_range, out):
    """Largest distance [m] at which any band of a site can still reach ``threshold``
    under the most favourable assumptions (boresight gain, no diffraction, LOS, least
    point loss): the exact pruning radius, because every dropped term only lowers RSRP
    and the floored path loss grows with distance."""
    for s in prange(site_hb.shape[0]):
        best = 0.0
        for b in range(b_f.shape[0]):
            base = b_eirp[b] + gain_max - min_point_loss - shadow - threshold
            m_hi = base - _floored_loss(b_model[b], env, max_range, b_f[b], site_hb[s], hm,
                                        True, bh, sw)
            if m_hi >= 0.0:
                r = max_range
            else:
                m_lo = base - _floored_loss(b_model[b], env, MIN_DISTANCE_M, b_f[b],
                                            site_hb[s], hm, True, bh, sw)
                if m_lo < 0.0:
                    r = 0.0
                else:
                    lo = MIN_DISTANCE_M
                    hi = max_range
                    for _ in range(64):
                        mid = 0.5 * (lo + hi)
                        if base - _floored_loss(b_model[b], env, mid, b_f[b], site_hb[s], hm,
                                                True, bh, sw) >= 0.0:
                            lo = mid
                        else:
                            hi = mid
                    r = hi
            if r > best:
                best = r
        out[s] = best


@njit(**NJIT_OPTIONS)
def _pair_rsrp(s, j, sx, sy, sg, sh, px, py, pg, ploss, b_model, b_f, b_eirp, env, hm, bh,
               sw, rma_los_default, shadow, az, tilt, hbw, vbw, am, slav, gain_dbi, dem,
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
    los = rma_los_default
    if diff_method != DIFF_NONE and d2 > MIN_DISTANCE_M:
        n = _n_samples(d2, step, max_n)
        _fill_profile(dem, x_min, y_max, cell, sx[s], sy[s], px[j], py[j], n, dist, elev)
        # ends from the same DEM sampling as the antennas' ground heights
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
                          b_model, b_f, b_eirp, env, hm, bh, sw, rma_los_default, shadow, az,
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
                           b_eirp, env, hm, bh, sw, rma_los_default, shadow, az, tilt, hbw,
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


@njit(**NJIT_PARALLEL_OPTIONS)
def _radial_sweep_kernel(dem, x_min, y_max, cell, sx, sy, hts, hm, n_rad, n_step, step, lam,
                         inv_ae, out, los_out):
    """Diffraction loss [dB] on a polar grid around one site: ``out[r, k]`` for the point
    at distance (k + 1) * step [m] on radial r (bearing 360 r / n_rad deg).

    The loss is Bullington's construction (P.1812-6 eqs. 16-21) on the single Tx-horizon
    edge: the profile point of largest elevation angle seen from the transmitter. By the
    identity (g_i + d_i (d - d_i)/(2 a_e) - h_ts)/d_i = [(g_i - h_ts)/d_i - d_i/(2 a_e)]
    + d/(2 a_e), that edge is a running maximum along the radial, so each point costs
    O(1). Its v never exceeds the v of Bullington's equivalent edge (the Tx-horizon edge
    lies on the Tx ray before the rays' intersection), so this loss is a lower bound of
    the full Bullington loss on the same profile. ``los_out[r, k]`` is 1 when the
    point sees the transmitter (S_tim < S_tr, also O(1) from the running maximum).
    """
    half = 0.5 * inv_ae
    for r in prange(n_rad):
        th = 2.0 * math.pi * r / n_rad
        ux = math.sin(th)
        uy = math.cos(th)
        qmax = -np.inf
        di_best = 0.0
        gi_best = 0.0
        for k in range(1, n_step + 1):
            d = k * step
            g = _bilinear(dem, x_min, y_max, cell, sx + d * ux, sy + d * uy)
            hrs = g + hm
            if k >= 2:
                di = di_best
                yi = gi_best + half * di * (d - di)
                h = yi - (hts * (d - di) + hrs * di) / d
                v = h * math.sqrt(2.0 * d / (lam * di * (d - di)))
                out[r, k - 1] = _bullington_final(_j_scalar(v), d)
                los_out[r, k - 1] = 1 if qmax + half * d < (hrs - hts) / d else 0
            else:
                out[r, k - 1] = 0.0
                los_out[r, k - 1] = 1
            q = (g - hts) / d - half * d
            if q > qmax:
                qmax = q
                di_best = d
                gi_best = g


@njit(**NJIT_PARALLEL_OPTIONS)
def _raster_site_kernel(dem, x_min, y_max, cell, sx, sy, sg, sh, radius, polar, polar_los,
                        n_rad, step, use_polar, b_model, b_f, b_eirp, env, hm, bh, sw, los_default,
                        point_loss, shadow, az, tilt, hbw, vbw, am, slav, gain_dbi, best,
                        best_site, site_index):
    """Best-server update for one site: every pixel within ``radius`` gets the site's
    RSRP (diffraction looked up on the polar grid, O(1)); keeps the maximum. Rows are
    processed in parallel; each pixel is written by one thread only."""
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
    n_step = polar.shape[2]
    for i in prange(i0, i1):
        y = y_max - (i + 0.5) * cell
        for j in range(j0, j1):
            x = x_min + (j + 0.5) * cell
            dx = x - sx
            dy = y - sy
            d2 = math.sqrt(dx * dx + dy * dy)
            if d2 > radius:
                continue
            d = d2 if d2 > MIN_DISTANCE_M else MIN_DISTANCE_M
            hrs = float(dem[i, j]) + hm
            bearing = math.degrees(math.atan2(dx, dy))
            depression = math.degrees(math.atan2(hts - hrs, d))
            gain = _site_gain_scalar(bearing, depression, az, tilt, hbw, vbw, am, slav,
                                     gain_dbi)
            r = -1
            k = 0
            if use_polar:
                k = int(d2 / step + 0.5)
                if k >= 1:
                    if k > n_step:
                        k = n_step
                    th = math.atan2(dx, dy)
                    if th < 0.0:
                        th += 2.0 * math.pi
                    r = int(th / (2.0 * math.pi) * n_rad + 0.5) % n_rad
            los = los_default
            if r >= 0:
                los = polar_los[r, k - 1] == 1
            bestv = -np.inf
            for b in range(b_f.shape[0]):
                ld = polar[b, r, k - 1] if r >= 0 else 0.0
                pl = _floored_loss(b_model[b], env, d, b_f[b], sh, hm, los, bh, sw)
                v = b_eirp[b] + gain - pl - ld - point_loss - shadow
                if v > bestv:
                    bestv = v
            if bestv > best[i, j]:
                best[i, j] = bestv
                best_site[i, j] = site_index
