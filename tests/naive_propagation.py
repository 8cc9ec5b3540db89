"""Naive pure-numpy twins of the propagation and coverage kernels (slow, obviously right).

Written straight from the formulas in ../shared/reference/propagation.md, one path or one
pair at a time, with different algorithms where the fast code is clever (gift wrapping
instead of a monotone chain, recursion instead of an explicit stack, scipy's grid
interpolator instead of hand-written bilinear sampling, an O(n) prefix scan per radial
sample instead of the running maximum).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.interpolate import RegularGridInterpolator

C = 299_792_458.0


def fspl(d_m, f_mhz):
    return 20 * np.log10(4 * np.pi * np.asarray(d_m) * np.asarray(f_mhz) * 1e6 / C)


def a_small(f, hm):
    return (1.1 * np.log10(f) - 0.7) * hm - (1.56 * np.log10(f) - 0.8)


def a_large(f, hm):
    return np.where(f <= 300.0, 8.29 * np.log10(1.54 * hm) ** 2 - 1.1,
                    3.2 * np.log10(11.75 * hm) ** 2 - 4.97)


def hata(d_m, f, hb, hm, env):
    d_km = np.asarray(d_m) / 1000.0
    a = a_large(f, hm) if env == "urban_large" else a_small(f, hm)
    lu = (69.55 + 26.16 * np.log10(f) - 13.82 * np.log10(hb) - a
          + (44.9 - 6.55 * np.log10(hb)) * np.log10(d_km))
    if env == "suburban":
        return lu - 2 * np.log10(f / 28.0) ** 2 - 5.4
    if env == "open":
        return lu - 4.78 * np.log10(f) ** 2 + 18.33 * np.log10(f) - 40.94
    return lu


def cost231(d_m, f, hb, hm, metropolitan):
    d_km = np.asarray(d_m) / 1000.0
    a = a_large(f, hm) if metropolitan else a_small(f, hm)
    cm = 3.0 if metropolitan else 0.0
    return (46.3 + 33.9 * np.log10(f) - 13.82 * np.log10(hb) - a
            + (44.9 - 6.55 * np.log10(hb)) * np.log10(d_km) + cm)


def rma(d2, f_mhz, hb, hm, los, h=5.0, w=20.0):
    fc = f_mhz / 1000.0
    d3 = math.hypot(d2, hb - hm)
    dbp = 2 * math.pi * hb * hm * fc * 1e9 / C

    def pl1(d):
        return (20 * math.log10(40 * math.pi * d * fc / 3) + min(0.03 * h ** 1.72, 10) * math.log10(d)
                - min(0.044 * h ** 1.72, 14.77) + 0.002 * math.log10(h) * d)

    pl_los = pl1(d3) if d2 <= dbp else pl1(dbp) + 40 * math.log10(d3 / dbp)
    if los:
        return pl_los
    pl_n = (161.04 - 7.1 * math.log10(w) + 7.5 * math.log10(h)
            - (24.37 - 3.7 * (h / hb) ** 2) * math.log10(hb)
            + (43.42 - 3.1 * math.log10(hb)) * (math.log10(d3) - 3) + 20 * math.log10(fc)
            - (3.2 * math.log10(11.75 * hm) ** 2 - 4.97))
    return max(pl_los, pl_n)


def J(v):
    if v <= -0.78:
        return 0.0
    return 6.9 + 20 * math.log10(math.sqrt((v - 0.1) ** 2 + 1) + v - 0.1)


def _bulged(dist, elev, hts, hrs, ae):
    d = dist[-1]
    y = np.array(elev, dtype=float) + (0.0 if np.isinf(ae) else dist * (d - dist) / (2 * ae))
    y[0], y[-1] = hts, hrs
    return y


def _v(da, ya, db, yb, di, yi, lam):
    line = ya + (yb - ya) * (di - da) / (db - da)
    return (yi - line) * math.sqrt(2 * (db - da) / (lam * (di - da) * (db - di)))


def bullington(dist, elev, hts, hrs, f_mhz, ae):
    """P.1812-6 eqs. 13-21, written in km as in the Recommendation."""
    dist = np.asarray(dist, float)
    if len(dist) < 3:
        return 0.0
    dk = dist / 1000.0
    d = dk[-1]
    ce = 0.0 if np.isinf(ae) else 1000.0 / ae  # 1/km
    lam = C / (f_mhz * 1e6)
    g = np.asarray(elev, float)[1:-1]
    di = dk[1:-1]
    stim = np.max((g + 500 * ce * di * (d - di) - hts) / di)
    s_tr = (hrs - hts) / d
    if stim < s_tr:
        v = ((g + 500 * ce * di * (d - di) - (hts * (d - di) + hrs * di) / d)
             * np.sqrt(0.002 * d / (lam * di * (d - di))))
        luc = J(float(np.max(v)))
    else:
        srim = np.max((g + 500 * ce * di * (d - di) - hrs) / (d - di))
        if stim + srim > 0 and 0 < (hrs - hts + srim * d) / (stim + srim) < d:
            dbp = (hrs - hts + srim * d) / (stim + srim)
            vb = ((hts + stim * dbp - (hts * (d - dbp) + hrs * dbp) / d)
                  * math.sqrt(0.002 * d / (lam * dbp * (d - dbp))))
        else:  # grazing: both horizon rays are the direct ray
            vb = 0.0
        luc = J(vb)
    return luc + (1 - math.exp(-luc / 6)) * (10 + 0.02 * d)


def deygout(dist, elev, hts, hrs, f_mhz, ae, max_depth):
    dist = np.asarray(dist, float)
    if len(dist) < 3:
        return 0.0
    lam = C / (f_mhz * 1e6)
    y = _bulged(dist, elev, hts, hrs, ae)

    def rec(a, b, level):
        if b - a < 2:
            return 0.0
        vs = [_v(dist[a], y[a], dist[b], y[b], dist[i], y[i], lam) for i in range(a + 1, b)]
        k = int(np.argmax(vs))
        if vs[k] <= -0.78:
            return 0.0
        i = a + 1 + k
        total = J(vs[k])
        if level < max_depth:
            total += rec(a, i, level + 1) + rec(i, b, level + 1)
        return total

    return rec(0, len(dist) - 1, 1)


def epstein_peterson(dist, elev, hts, hrs, f_mhz, ae):
    dist = np.asarray(dist, float)
    n = len(dist)
    if n < 3:
        return 0.0
    lam = C / (f_mhz * 1e6)
    y = _bulged(dist, elev, hts, hrs, ae)
    # gift wrapping: from the current vertex, the next is the point of largest slope
    # (the farthest one on ties)
    hull = [0]
    cur = 0
    while cur != n - 1:
        slopes = [(y[j] - y[cur]) / (dist[j] - dist[cur]) for j in range(cur + 1, n)]
        best = max(slopes)
        cand = [cur + 1 + k for k, s in enumerate(slopes) if s >= best - 1e-12 * max(1.0, abs(best))]
        cur = max(cand)
        hull.append(cur)
    if len(hull) == 2:
        vs = [_v(dist[0], y[0], dist[-1], y[-1], dist[i], y[i], lam) for i in range(1, n - 1)]
        return J(max(vs))
    return sum(J(_v(dist[hull[k - 1]], y[hull[k - 1]], dist[hull[k + 1]], y[hull[k + 1]],
                    dist[hull[k]], y[hull[k]], lam)) for k in range(1, len(hull) - 1))


def bilinear(dem, x_min, y_max, cell, x, y):
    ny, nx = dem.shape
    rows = np.arange(ny, dtype=float)
    cols = np.arange(nx, dtype=float)
    interp = RegularGridInterpolator((rows, cols), dem.astype(float), method="linear")
    fy = np.clip((y_max - np.asarray(y, float)) / cell - 0.5, 0, ny - 1)
    fx = np.clip((np.asarray(x, float) - x_min) / cell - 0.5, 0, nx - 1)
    return interp(np.stack([np.atleast_1d(fy), np.atleast_1d(fx)], axis=-1))


def profile(dem, x_min, y_max, cell, x0, y0, x1, y1, n):
    t = np.linspace(0.0, 1.0, n)
    xs = x0 + t * (x1 - x0)
    ys = y0 + t * (y1 - y0)
    return t * math.hypot(x1 - x0, y1 - y0), bilinear(dem, x_min, y_max, cell, xs, ys)


def sector_gain(bearing, depression, az, tilt, hbw, vbw, am, slav, gain):
    phi = ((bearing - az) + 180.0) % 360.0 - 180.0
    ah = -min(12 * (phi / hbw) ** 2, am)
    av = -min(12 * ((depression - tilt) / vbw) ** 2, slav)
    return gain - min(-(ah + av), am)


# --- coverage: one pair at a time --------------------------------------------------------

def n_samples(d, step, max_n):
    return int(min(max_n, max(3, math.ceil(d / step) + 1)))


def model_loss(model, env, d, f, hb, hm, los, bh=5.0, w=20.0):
    if model == "hata":
        return float(hata(d, f, hb, hm, env))
    if model == "cost231":
        return float(cost231(d, f, hb, hm, env == "urban_large"))
    if model == "rma":
        return rma(d, f, hb, hm, los, bh, w)
    return float(fspl(d, f))


def pair_rsrp(sx, sy, sh, px, py, ploss, bands, env, hm, shadow, azimuths, tilt, hbw, vbw, am,
              slav, gain, terrain, method, ae, step, max_n, rma_los="nlos", depth=2):
    """RSRP [dBm] of one (site, point) pair: best band of EIRP + G - max(PL, FSPL) - L_d
    - point loss - shadow margin. ``bands``: list of (f_mhz, eirp_dbm, model name);
    ``terrain``: (dem, x_min, y_max, cell) or None."""
    d2 = math.hypot(px - sx, py - sy)
    d = max(d2, 1.0)
    if terrain is not None:
        dem, x_min, y_max, cell = terrain
        sg = float(bilinear(dem, x_min, y_max, cell, [sx], [sy])[0])
        pg = float(bilinear(dem, x_min, y_max, cell, [px], [py])[0])
    else:
        sg = pg = 0.0
    hts, hrs = sg + sh, pg + hm
    bearing = math.degrees(math.atan2(px - sx, py - sy))
    dep = math.degrees(math.atan2(hts - hrs, d))
    g = max(sector_gain(bearing, dep, a, tilt, hbw, vbw, am, slav, gain) for a in azimuths)
    use_terrain = terrain is not None and method != "none" and d2 > 1.0
    los = rma_los == "los"
    if use_terrain:
        n = n_samples(d2, step, max_n)
        dist, elev = profile(dem, x_min, y_max, cell, sx, sy, px, py, n)
        if rma_los == "terrain":
            y = elev + (dist * (dist[-1] - dist) / (2 * ae))
            sl = (y[1:-1] - hts) / dist[1:-1]
            los = bool(np.all(sl < (hrs - hts) / dist[-1]))
    best = -math.inf
    for f, eirp, model in bands:
        pl = max(model_loss(model, env, d, f, sh, hm, los), float(fspl(d, f)))
        ld = 0.0
        if use_terrain:
            if method == "bullington":
                ld = bullington(dist, elev, hts, hrs, f, ae)
            elif method == "deygout":
                ld = deygout(dist, elev, hts, hrs, f, ae, depth)
            else:
                ld = epstein_peterson(dist, elev, hts, hrs, f, ae)
        best = max(best, eirp + g - pl - ld - ploss - shadow)
    return best


def radial_polar(dem, x_min, y_max, cell, sx, sy, hts, hm, n_rad, n_step, f_mhz, ae):
    """Polar grid of the raster's diffraction (Bullington on the Tx-horizon edge) by an
    O(n) scan of each sample's prefix; also the LOS flags."""
    lam = C / (f_mhz * 1e6)
    loss = np.zeros((n_rad, n_step))
    los = np.ones((n_rad, n_step), dtype=bool)
    for r in range(n_rad):
        th = 2 * math.pi * r / n_rad
        d = cell * np.arange(1, n_step + 1)
        g = bilinear(dem, x_min, y_max, cell, sx + d * math.sin(th), sy + d * math.cos(th))
        for k in range(2, n_step + 1):
            dk = d[k - 1]
            di = d[: k - 1]
            gi = g[: k - 1]
            yi = gi + di * (dk - di) / (2 * ae)
            slopes = (yi - hts) / di
            i = int(np.argmax(slopes))
            hrs = g[k - 1] + hm
            h = yi[i] - (hts * (dk - di[i]) + hrs * di[i]) / dk
            v = h * math.sqrt(2 * dk / (lam * di[i] * (dk - di[i])))
            luc = J(v)
            loss[r, k - 1] = luc + (1 - math.exp(-luc / 6)) * (10 + 0.02 * dk / 1000)
            los[r, k - 1] = slopes[i] < (hrs - hts) / dk
    return loss, los
