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
    FSPL_CONST_DB,
    MODEL_RMA,
    _loglin_coeffs,
    _rma_scalar,
    SPEED_OF_LIGHT,
    _bullington_final,
    _diffraction_dispatch,
    _fill_profile,
    _fspl_scalar,
    _j_scalar,
    _log10_rows,
    _los_profile,
    _model_loss_scalar,
    _n_samples,
    _site_gain_scalar,
    serial_twin,
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



# Branch-free arctangents for the raster's row passes (LLVM vectorises them; scalar libm
# atan/atan2 without SVML cost ~20-40 ns each). Cephes atan: reduction to
# |x| <= tan(pi/8) and the (4, 5) rational approximation of atan(x)/x there; error
# within a few ulp of libm (tested against math.atan/atan2).
_AT_P0 = -8.750608600031904122785e-1
_AT_P1 = -1.615753718733365076637e1
_AT_P2 = -7.500855792314704667340e1
_AT_P3 = -1.228866684490136173410e2
_AT_P4 = -6.485021904942025371773e1
_AT_Q0 = 2.485846490142306297962e1
_AT_Q1 = 1.650270098316988542046e2
_AT_Q2 = 4.328810604912902668951e2
_AT_Q3 = 4.853903996359136964868e2
_AT_Q4 = 1.945506571482613964425e2
_TAN_PI_8 = 0.41421356237309504880
_TAN_3PI_8 = 2.41421356237309504880
_PI_2 = 0.5 * math.pi
_PI_4 = 0.25 * math.pi


@njit(inline="always", **NJIT_OPTIONS)
def _atan_small(x):
    """atan(x) for |x| <= tan(pi/8) (Cephes rational approximation)."""
    z = x * x
    p = (((_AT_P0 * z + _AT_P1) * z + _AT_P2) * z + _AT_P3) * z + _AT_P4
    q = ((((z + _AT_Q0) * z + _AT_Q1) * z + _AT_Q2) * z + _AT_Q3) * z + _AT_Q4
    return x + x * z * p / q


@njit(inline="always", **NJIT_OPTIONS)
def _atan_fast(u):
    """atan(u) [rad] for any finite u, branch-free (selects only)."""
    au = abs(u)
    big = au > _TAN_3PI_8
    mid = au > _TAN_PI_8
    # one division for the three ranges (-1/au, (au - 1)/(au + 1), au/1: the same
    # quotients as three separate expressions; a vectorised select computes both sides)
    num = -1.0 if big else (au - 1.0 if mid else au)
    den = au if big else (au + 1.0 if mid else 1.0)
    x = num / den
    a = (_PI_2 if big else (_PI_4 if mid else 0.0)) + _atan_small(x)
    return -a if u < 0.0 else a


@njit(inline="always", **NJIT_OPTIONS)
def _atan2_fast(y, x):
    """atan2(y, x) [rad] in [-pi, pi] for finite y, x (atan2(0, 0) = 0), branch-free."""
    ay = abs(y)
    ax = abs(x)
    mx = ay if ay > ax else ax
    mn = ay if ay <= ax else ax
    t = mn / mx if mx > 0.0 else 0.0
    mid = t > _TAN_PI_8
    w = (t - 1.0) / (t + 1.0) if mid else t
    a = (_PI_4 if mid else 0.0) + _atan_small(w)
    a = _PI_2 - a if ay > ax else a
    a = math.pi - a if x < 0.0 else a
    return -a if y < 0.0 else a


@njit(**NJIT_OPTIONS)
def _atan_fast_kernel(u, out_atan, y, x, out_atan2):
    """Test hook for :func:`_atan_fast` and :func:`_atan2_fast`."""
    for p in range(u.shape[0]):
        out_atan[p] = _atan_fast(u[p])
    for p in range(y.shape[0]):
        out_atan2[p] = _atan2_fast(y[p], x[p])


@njit(inline="always", **NJIT_OPTIONS)
def _bilinear_sel(dem, ny1, nx1, i_hi, j_hi, di1, dj1, fx, fy):
    """:func:`_bilinear_grid` with the clamps written as selects (same value for finite
    fx, fy); ``ny1``/``nx1`` = shape - 1, ``i_hi``/``j_hi`` the largest lower corner,
    ``di1``/``dj1`` the upper corner's offset (0 on a one-cell axis)."""
    fx = 0.0 if fx < 0.0 else fx
    fx = nx1 if fx > nx1 else fx
    fy = 0.0 if fy < 0.0 else fy
    fy = ny1 if fy > ny1 else fy
    j0 = int(fx)
    i0 = int(fy)
    j0 = j_hi if j0 > j_hi else j0
    i0 = i_hi if i0 > i_hi else i0
    tx = fx - j0
    ty = fy - i0
    z00 = float(dem[i0, j0])
    z01 = float(dem[i0, j0 + dj1])
    z10 = float(dem[i0 + di1, j0])
    z11 = float(dem[i0 + di1, j0 + dj1])
    return ((z00 * (1.0 - tx) + z01 * tx) * (1.0 - ty)
            + (z10 * (1.0 - tx) + z11 * tx) * ty)


#: Radials swept together by one thread: their samples at one distance are written as
#: one contiguous run of the step-major polar grid.
SWEEP_BLOCK = 16


@njit(inline="always", **NJIT_OPTIONS)
def _polar_stride(n_rad):
    """Row length of a step-major polar grid: n_rad rounded up to whole SWEEP_BLOCKs, so
    that each block's samples at one distance fill one 64-byte cache line of float32
    (grids and buffers aligned) and two threads never write the same line."""
    return (n_rad + SWEEP_BLOCK - 1) // SWEEP_BLOCK * SWEEP_BLOCK


#: Margin [cells] of the sweep's clipping to the raster (see _ray_last_step): a pixel
#: reads the polar sample nearest to it, at most sqrt(0.25 + 0.375) < 0.8 cell away
#: (half a step along the radial, half the radial spacing across), so 2 cells is safe.
SWEEP_CLIP_MARGIN = 2.0


@njit(inline="always", **NJIT_OPTIONS)
def _slab(f0, df, lo, hi, t_lo, t_hi):
    """One axis of a ray-box clip: narrow [t_lo, t_hi] to the t with f0 + t df in [lo, hi]
    [cells]; (t_lo, t_hi, False) when the ray is parallel to the axis and outside."""
    if df > 0.0:
        return max(t_lo, (lo - f0) / df), min(t_hi, (hi - f0) / df), True
    if df < 0.0:
        return max(t_lo, (hi - f0) / df), min(t_hi, (lo - f0) / df), True
    return t_lo, t_hi, lo <= f0 <= hi


@njit(inline="always", **NJIT_OPTIONS)
def _ray_last_step(fx0, fy0, dfx, dfy, nx1, ny1, margin, n_step):
    """Last step k in [0, n_step] at which the ray (fx0 + k dfx, fy0 + k dfy) (pixel-centre
    coordinates [cells]) is inside [-margin, nx1 + margin] x [-margin, ny1 + margin];
    0 when it is not at any step k in [1, n_step]. The box is convex, so beyond it the ray never comes
    back. ``margin`` = inf: n_step (no clipping)."""
    lo = -margin
    t_lo, t_hi, inside = _slab(fx0, dfx, lo, nx1 + margin, -np.inf, np.inf)
    if not inside:
        return 0
    t_lo, t_hi, inside = _slab(fy0, dfy, lo, ny1 + margin, t_lo, t_hi)
    if not inside:
        return 0
    if t_lo > t_hi or t_hi < 1.0 or t_lo > n_step:
        return 0
    k_hi = n_step if t_hi >= n_step else int(math.floor(t_hi))
    k_lo = int(math.ceil(t_lo)) if t_lo > 1.0 else 1
    return k_hi if k_lo <= k_hi else 0


@njit(inline="always", **NJIT_OPTIONS)
def _sweep_block(dem, ny1, nx1, i_hi, j_hi, di1, dj1, fx0, fy0, step, ic, hts, hm, n_rad,
                 n_step, c, vscale, inv, isq, sq, r0, v_out, los_out, base, want_los,
                 clip_margin):
    """Sweep radials [r0, r0 + SWEEP_BLOCK) of one site outwards together; sample k of
    radial r goes to ``v_out[b, base + (k - 1) * stride + r]`` (step-major, stride =
    ``_polar_stride(n_rad)``) for every
    band b. The horizon search does not depend on the wavelength: v of band b is the
    same product times the band's ``vscale[b]``, evaluated last as in the per-band
    formula, so one sweep serves all bands with the same values.

    The block stops at the last distance at which one of its radials is still within
    ``clip_margin`` cells of the raster's pixel centres (:func:`_ray_last_step`): no
    pixel reads a sample beyond it, so those samples are left unwritten. ``los_out``
    is written only when ``want_los``."""
    stride = _polar_stride(n_rad)
    m = n_rad - r0
    if m > SWEEP_BLOCK:
        m = SWEEP_BLOCK
    dfx = np.empty(SWEEP_BLOCK)
    dfy = np.empty(SWEEP_BLOCK)
    qmax = np.full(SWEEP_BLOCK, -np.inf)
    ib = np.zeros(SWEEP_BLOCK, dtype=np.int64)
    gb = np.zeros(SWEEP_BLOCK)
    gk = np.empty(SWEEP_BLOCK)
    wk = np.empty(SWEEP_BLOCK)
    n_b = vscale.shape[0]
    k_end = 0
    for l in range(m):
        th = 2.0 * math.pi * (r0 + l) / n_rad
        dfx[l] = math.sin(th) * step * ic
        dfy[l] = -math.cos(th) * step * ic
        ke = _ray_last_step(fx0, fy0, dfx[l], dfy[l], nx1, ny1, clip_margin, n_step)
        k_end = ke if ke > k_end else k_end
    for l in range(m):
        for b in range(n_b):
            v_out[b, base + r0 + l] = -np.inf
        if want_los:
            los_out[base + r0 + l] = 1
    for k in range(1, k_end + 1):
        # elevations of the block's samples at distance k (gathers), then the
        # running-maximum update written with selects so that it vectorises
        for l in range(m):
            gk[l] = _bilinear_sel(dem, ny1, nx1, i_hi, j_hi, di1, dj1,
                                  fx0 + k * dfx[l], fy0 + k * dfy[l])
        ik = inv[k]
        ck = c * k
        sk = sq[k]
        row = base + (k - 1) * stride + r0
        if k >= 2:
            for l in range(m):
                g = gk[l]
                hrs = g + hm
                b = ib[l]
                h = gb[l] + c * b * (k - b) - (hts * (k - b) + hrs * b) * ik
                wk[l] = h * isq[b] * isq[k - b] * sk
            for b in range(n_b):
                vs = vscale[b]
                for l in range(m):
                    v_out[b, row + l] = wk[l] * vs
            if want_los:
                for l in range(m):
                    # S_tim < S_tr in units of 1/step: qmax + half d vs (hrs - hts)/d
                    hrs = gk[l] + hm
                    los_out[row + l] = 1 if (qmax[l] + ck) < (hrs - hts) * ik else 0
        for l in range(m):
            g = gk[l]
            q = (g - hts) * ik - ck
            up = q > qmax[l]
            qmax[l] = q if up else qmax[l]
            ib[l] = k if up else ib[l]
            gb[l] = g if up else gb[l]


@njit(**NJIT_PARALLEL_OPTIONS)
def _sweep_batch_kernel(dem, x_min, y_max, cell, sx, sy, hts, n_rad, n_step, offset,
                        blk_site, blk_r0, hm, step, lam, inv_ae, want_los, clip_margin,
                        v_out, los_out):
    """Fresnel parameter v of the Tx-horizon edge on the polar grids of a batch of sites.

    Site s has ``n_rad[s]`` radials (bearing 360 r / n_rad deg) of ``n_step[s]`` samples
    at distances (k + 1) * step [m]; its grid is step-major in ``v_out[b, offset[s]:]``
    (``v_out[b, offset[s] + k * _polar_stride(n_rad[s]) + r]``, one row per band b of wavelength
    ``lam[b]`` [m]) and ``los_out[offset[s]:]``. The raster's diffraction loss is
    Bullington's final formula (P.1812-6 eqs. 17 and 21) applied to v.

    The Tx-horizon edge is the profile point of largest elevation angle seen from the
    transmitter. By the identity (g_i + d_i (d - d_i)/(2 a_e) - h_ts)/d_i =
    [(g_i - h_ts)/d_i - d_i/(2 a_e)] + d/(2 a_e) it is a running maximum along the
    radial, so each point costs O(1). Its v never exceeds the v of Bullington's
    equivalent edge (the Tx-horizon edge lies on the Tx ray before the rays'
    intersection), so the loss is a lower bound of the full Bullington loss on the same
    profile. ``los_out`` is 1 where the point sees the transmitter (S_tim < S_tr);
    written only when ``want_los`` (the raster reads it only for RMa with terrain LOS).
    Samples farther than ``clip_margin`` cells outside the DEM's pixel centres, which no
    raster pixel reads, are not computed (see :func:`_sweep_block`; inf: all).
    Divisions and square roots come from 1/k, 1/sqrt(k) and sqrt(k) tables.

    Work items are blocks of SWEEP_BLOCK adjacent radials of one site, listed in
    ``blk_site``/``blk_r0``; each writes its own cells, so the result does not depend
    on the thread count. A block's samples at one distance are contiguous, so that the
    raster's lookups (neighbouring pixels = neighbouring radials at about the same
    distance) stay within a few cache lines.
    """
    half = 0.5 * inv_ae
    c = half * step * step
    n_max = 1
    for s in range(n_step.shape[0]):
        if n_step[s] > n_max:
            n_max = n_step[s]
    inv = np.zeros(n_max + 1)
    isq = np.zeros(n_max + 1)
    sq = np.zeros(n_max + 1)
    for k in range(1, n_max + 1):
        inv[k] = 1.0 / k
        isq[k] = 1.0 / math.sqrt(k)
        sq[k] = math.sqrt(k)
    ic = 1.0 / cell
    ny1 = float(dem.shape[0] - 1)
    nx1 = float(dem.shape[1] - 1)
    i_hi = dem.shape[0] - 2 if dem.shape[0] >= 2 else 0
    j_hi = dem.shape[1] - 2 if dem.shape[1] >= 2 else 0
    di1 = 1 if dem.shape[0] >= 2 else 0
    dj1 = 1 if dem.shape[1] >= 2 else 0
    vscale = np.empty(lam.shape[0])
    for b in range(lam.shape[0]):
        vscale[b] = math.sqrt(2.0 / (lam[b] * step))
    for t in prange(blk_site.shape[0]):
        s = blk_site[t]
        fx0 = (sx[s] - x_min) * ic - 0.5
        fy0 = (y_max - sy[s]) * ic - 0.5
        _sweep_block(dem, ny1, nx1, i_hi, j_hi, di1, dj1, fx0, fy0, step, ic, hts[s], hm,
                     n_rad[s], n_step[s], c, vscale, inv, isq, sq, blk_r0[t], v_out,
                     los_out, offset[s], want_los, clip_margin)


#: Pixels of a raster row processed per pass (scratch rows of this length stay in L1).
ROW_CHUNK = 256
#: Scratch rows of the raster passes: float64 and int64 rows of ROW_CHUNK items.
N_SCRATCH_F = 11
N_SCRATCH_I = 3


@njit(**NJIT_OPTIONS)
def _raster_row(i, dem, x_min, y_max, cell, sx, sy, hts, sh, r2max, j0, j1, polar_v,
                polar_los, base, n_rad, n_step, step, use_polar, b_model, b_f, b_eirp,
                coef_a, coef_b, coef_f, hm, bh, sw, rma_mode, point_loss, shadow, az, tilt,
                ihbw, ivbw, am, slav, gain_dbi, ftab, gtab, best, best_site, site_index,
                sf, si):
    """Best-server update of raster row i by one site (see _raster_batch_kernel): the
    row's exact in-disc interval, in chunks of ROW_CHUNK pixels (:func:`_raster_chunk`).
    ``sf``/``si``: the calling thread's scratch rows (N_SCRATCH_F x ROW_CHUNK float64,
    N_SCRATCH_I x ROW_CHUNK int64)."""
    y = y_max - (i + 0.5) * cell
    dy = y - sy
    dy2 = dy * dy
    if dy2 > r2max:
        return
    # the row's pixels inside the disc form one interval: bracket it, then shrink
    # it with the exact test (same expression as a per-pixel test)
    w = math.sqrt(r2max - dy2)
    ja = int(math.floor((sx - w - x_min) / cell - 0.5)) - 1
    jb = int(math.ceil((sx + w - x_min) / cell - 0.5)) + 1
    if ja < j0:
        ja = j0
    if jb > j1 - 1:
        jb = j1 - 1
    while ja <= jb:
        dx = x_min + (ja + 0.5) * cell - sx
        if dx * dx + dy * dy <= r2max:
            break
        ja += 1
    while jb >= ja:
        dx = x_min + (jb + 0.5) * cell - sx
        if dx * dx + dy * dy <= r2max:
            break
        jb -= 1
    for c0 in range(ja, jb + 1, ROW_CHUNK):
        nc = jb + 1 - c0
        nc = ROW_CHUNK if nc > ROW_CHUNK else nc
        _raster_chunk(i, c0, nc, dem, x_min, cell, sx, dy, hts, sh, polar_v, polar_los,
                      base, n_rad, n_step, step, use_polar, b_model, b_f, b_eirp, coef_a,
                      coef_b, coef_f, hm, bh, sw, rma_mode, point_loss, shadow, az, tilt,
                      ihbw, ivbw, am, slav, gain_dbi, ftab, gtab, best[i], best_site[i],
                      site_index, sf, si)


@njit(inline="always", **NJIT_OPTIONS)
def _edge_loss_rows(vv, dk, ftab, gtab, out):
    """out[p] = :func:`_edge_loss_tab` (vv[p], dk[p]) (same values), branch-free over the
    table's range so that the loop vectorises (table gathers); v beyond the table
    (rare) is fixed up afterwards with the exact formula."""
    n = vv.shape[0]
    vmax_tab = J_TABLE_VMAX
    for p in range(n):
        v = vv[p]
        inside = (v > -0.78) & (v < vmax_tab)
        x = (v + 0.78) * J_TABLE_SCALE
        x = x if inside else 0.0
        j = int(x)
        t = x - j
        f = ftab[j] + t * (ftab[j + 1] - ftab[j])
        g = gtab[j] + t * (gtab[j + 1] - gtab[j])
        r = f + g * (dk[p] * 1e-3)
        out[p] = r if inside else 0.0
    for p in range(n):
        if vv[p] >= vmax_tab:
            out[p] = _bullington_final(_j_scalar(vv[p]), dk[p])


@njit(**NJIT_OPTIONS)
def _raster_chunk(i, ja, n, dem, x_min, cell, sx, dy, hts, sh, polar_v, polar_los, base,
                  n_rad, n_step, step, use_polar, b_model, b_f, b_eirp, coef_a, coef_b,
                  coef_f, hm, bh, sw, rma_mode, point_loss, shadow, az, tilt, ihbw, ivbw, am,
                  slav, gain_dbi, ftab, gtab, best_row, site_row, site_index, sf, si):
    """Pixels [ja, ja + n) (n <= ROW_CHUNK) of raster row i, in passes that vectorise:
    geometry, log10 and the vertical pattern; the sector pattern per azimuth; the polar
    grid's cell per pixel; per band the path loss, the gathered v and its tabulated edge
    loss, and the band maximum; then the best-server update (``best_row``,
    ``site_row``: row i of the raster and of the server index)."""
    n_b = b_f.shape[0]
    n_az = az.shape[0]
    two_pi = 2.0 * math.pi
    rad2deg = 180.0 / math.pi
    dsq = sf[0, :n]
    l10 = sf[1, :n]
    dd = sf[2]
    tha = sf[3]
    gain = sf[4]
    ava = sf[5]
    dkv = sf[6, :n]
    vv = sf[7, :n]
    ldv = sf[8, :n]
    acc = sf[9]
    plv = sf[10]
    bits = si[0, :n]
    expo = si[1, :n]
    ci = si[2]
    # pass 1: distance, log10(max(d, 1)) = log10(max(d^2, 1)) / 2, bearing, and the
    # vertical pattern
    for p in range(n):
        dx = x_min + (ja + p + 0.5) * cell - sx
        q_ = dx * dx + dy * dy
        dsq[p] = q_ if q_ > 1.0 else 1.0
        d2 = math.sqrt(q_)
        dd[p] = d2
        d = d2 if d2 > MIN_DISTANCE_M else MIN_DISTANCE_M
        hrs = float(dem[i, ja + p]) + hm
        tha[p] = _atan2_fast(dx, dy)
        depression = _atan_fast((hts - hrs) / d) * rad2deg
        q = (depression - tilt) * ivbw
        av = 12.0 * q * q
        ava[p] = slav if av > slav else av
        gain[p] = -np.inf
    _log10_rows(dsq, bits, expo, l10)
    # pass 2: the sector pattern, best of the site's azimuths
    for a in range(n_az):
        aza = az[a]
        for p in range(n):
            phi = tha[p] * rad2deg - aza
            phi = phi + 360.0 if phi < -180.0 else phi
            phi = phi + 360.0 if phi < -180.0 else phi
            phi = phi - 360.0 if phi > 180.0 else phi
            rr = phi * ihbw
            tot = 12.0 * rr * rr
            tot = am if tot > am else tot
            tot += ava[p]
            tot = am if tot > am else tot
            g_ = gain_dbi - tot
            gain[p] = g_ if g_ > gain[p] else gain[p]
    # pass 3: the nearest polar sample (ci = -1: none, k < 1 or no terrain) and its
    # distance dk = k step
    stride = _polar_stride(n_rad)
    for p in range(n):
        d2 = dd[p]
        k = int(d2 / step + 0.5)
        k = n_step if k > n_step else k
        th = tha[p]
        th = th + two_pi if th < 0.0 else th
        r = int(th / two_pi * n_rad + 0.5)
        r = r - n_rad if r >= n_rad else r
        ok = use_polar & (k >= 1)
        ci[p] = base + (k - 1) * stride + r if ok else -1
        dkv[p] = k * step if ok else 0.0
        acc[p] = -np.inf
    # pass 4, per band: path loss (floored at free space), diffraction, RSRP; the best
    # band per pixel in acc
    for b in range(n_b):
        ca = coef_a[b]
        cb = coef_b[b]
        cf = coef_f[b]
        if b_model[b] == MODEL_RMA:
            for p in range(n):
                d2 = dd[p]
                d = d2 if d2 > MIN_DISTANCE_M else MIN_DISTANCE_M
                los = rma_mode == RMA_LOS
                if rma_mode == RMA_TERRAIN and ci[p] >= 0:
                    los = polar_los[ci[p]] == 1
                pl = _rma_scalar(d, b_f[b], sh, hm, los, bh, sw)
                fs = cf + 20.0 * (0.5 * l10[p])
                plv[p] = fs if fs > pl else pl
        else:
            for p in range(n):
                lg = 0.5 * l10[p]
                pl = ca + cb * lg
                fs = cf + 20.0 * lg
                plv[p] = fs if fs > pl else pl
        row_v = polar_v[b]
        for p in range(n):
            c = ci[p]
            c0 = c if c >= 0 else 0
            x = float(row_v[c0])
            vv[p] = x if c >= 0 else -np.inf
        _edge_loss_rows(vv, dkv, ftab, gtab, ldv)
        eb = b_eirp[b]
        for p in range(n):
            v = eb + gain[p] - plv[p] - ldv[p] - point_loss - shadow
            acc[p] = v if v > acc[p] else acc[p]
    # best-server update, compared at the raster's float32 precision: a later site
    # must be strictly better than the stored value, so ties go to the lowest index
    for p in range(n):
        b32 = np.float32(acc[p])
        if b32 > best_row[ja + p]:
            best_row[ja + p] = b32
            site_row[ja + p] = site_index


@njit(inline="always", **NJIT_OPTIONS)
def _site_span(lo_m, hi_m, origin, cell, n, from_top):
    """[a, b) of the raster rows (``from_top``: origin = y_max) or columns covering the
    coordinates [lo_m, hi_m], clipped to [0, n)."""
    if from_top:
        a = int(math.floor((origin - hi_m) / cell))
        b = int(math.ceil((origin - lo_m) / cell))
    else:
        a = int(math.floor((lo_m - origin) / cell))
        b = int(math.ceil((hi_m - origin) / cell))
    a = 0 if a < 0 else a
    b = n if b > n else b
    return a, b


@njit(**NJIT_OPTIONS)
def _raster_rows_index(y_max, cell, sy, radii, ny):
    """CSR (row_ptr, row_site): for each raster row, the sites whose bounding square
    covers it, in increasing site order (count pass, prefix sum, fill pass)."""
    n_s = sy.shape[0]
    row_ptr = np.zeros(ny + 1, dtype=np.int64)
    for s in range(n_s):
        a, b = _site_span(sy[s] - radii[s], sy[s] + radii[s], y_max, cell, ny, True)
        for i in range(a, b):
            row_ptr[i + 1] += 1
    for i in range(ny):
        row_ptr[i + 1] += row_ptr[i]
    fill = row_ptr[:-1].copy()
    row_site = np.empty(row_ptr[ny], dtype=np.int64)
    for s in range(n_s):
        a, b = _site_span(sy[s] - radii[s], sy[s] + radii[s], y_max, cell, ny, True)
        for i in range(a, b):
            row_site[fill[i]] = s
            fill[i] += 1
    return row_ptr, row_site


#: Rows are dealt to threads in blocks of this many consecutive rows (neighbouring rows
#: share their polar samples in cache); the caller hands blocks out dynamically
#: (parallel chunk size 1), so that work is balanced wherever the sites are.
RASTER_ROW_BLOCK = 8


@njit(**NJIT_PARALLEL_OPTIONS)
def _raster_batch_kernel(dem, x_min, y_max, cell, sx, sy, sg, sh, radii, row_ptr, row_site,
                         polar_v, polar_los, offset, n_rad, n_step, step, use_polar, b_model,
                         b_f, b_eirp, env, hm, bh, sw, rma_mode, point_loss, shadow, az,
                         tilt, hbw, vbw, am, slav, gain_dbi, ftab, gtab, best, best_site,
                         site_ids):
    """Best-server update by a batch of sites: every pixel within ``radii[s]`` of site s
    gets the site's RSRP [dBm] (diffraction from the nearest sample of its polar grid,
    O(1); ``polar_v`` (n_band, total) and ``polar_los`` (total,) as
    :func:`_sweep_batch_kernel` writes them); the raster keeps the maximum and the
    index ``site_ids[s]`` of the site that reached it first.

    Threads own whole blocks of rows and apply the sites covering a row in
    increasing order (``row_ptr``/``row_site``), so every pixel sees exactly the
    sequence of updates of a site-by-site loop: the output is identical to it and
    independent of the thread count. Log-linear models use per-site coefficients (one
    log10 per pixel for all bands)."""
    ny = best.shape[0]
    nx = best.shape[1]
    n_s = sx.shape[0]
    n_b = b_f.shape[0]
    coef = np.empty((n_s, 3, n_b))
    for s in range(n_s):
        for b in range(n_b):
            a_, b_ = _loglin_coeffs(b_model[b], env, b_f[b], sh[s], hm)
            coef[s, 0, b] = a_
            coef[s, 1, b] = b_
            coef[s, 2, b] = FSPL_CONST_DB + 20.0 * math.log10(b_f[b]) - 60.0
    ihbw = 1.0 / hbw
    ivbw = 1.0 / vbw
    n_blk = (ny + RASTER_ROW_BLOCK - 1) // RASTER_ROW_BLOCK
    for t in prange(n_blk):
        sf = np.empty((N_SCRATCH_F, ROW_CHUNK))
        si = np.empty((N_SCRATCH_I, ROW_CHUNK), dtype=np.int64)
        i_end = t * RASTER_ROW_BLOCK + RASTER_ROW_BLOCK
        i_end = ny if i_end > ny else i_end
        for i in range(t * RASTER_ROW_BLOCK, i_end):
            for q in range(row_ptr[i], row_ptr[i + 1]):
                s = row_site[q]
                r = radii[s]
                j0, j1 = _site_span(sx[s] - r, sx[s] + r, x_min, cell, nx, False)
                _raster_row(i, dem, x_min, y_max, cell, sx[s], sy[s], sg[s] + sh[s], sh[s],
                            r * r, j0, j1, polar_v, polar_los, offset[s], n_rad[s],
                            n_step[s], step, use_polar, b_model, b_f, b_eirp, coef[s, 0],
                            coef[s, 1], coef[s, 2], hm, bh, sw, rma_mode, point_loss, shadow,
                            az, tilt, ihbw, ivbw, am, slav, gain_dbi, ftab, gtab, best,
                            best_site, site_ids[s], sf, si)


# Serial twins of the two raster kernels (see serial_twin): small batches run serially.
_sweep_batch_serial = serial_twin(_sweep_batch_kernel, "_sweep_batch_serial")
_raster_batch_serial = serial_twin(_raster_batch_kernel, "_raster_batch_serial")

#: Below this many polar samples (or pixels) per batch the serial twins are used.
SERIAL_WORK_LIMIT = 200_000
