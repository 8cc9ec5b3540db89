"""Terrain diffraction: knife edge (ITU-R P.526), Bullington (ITU-R P.1812-6 §4.3.1),
Deygout and Epstein-Peterson over terrain profiles, and profile extraction from a DEM.

Units: distances and heights [m], frequency [MHz], losses [dB]. Heights passed as
``tx_height_m`` / ``rx_height_m`` are antenna heights **above ground**; the profile's
first and last elevations are the ground under each antenna. The earth's curvature
enters through the effective radius a_e (bulge x (d - x) / (2 a_e) [m]);
``effective_earth_radius_m=numpy.inf`` is a flat earth.
"""

from __future__ import annotations

import numpy as np

from siteplan.exceptions import Problem
from siteplan.propagation import _kernels as K
from siteplan.propagation._validate import (
    PropagationInputError,
    as_float_array,
    require_positive,
)
from siteplan.units import EFFECTIVE_EARTH_RADIUS_M, SPEED_OF_LIGHT_M_S

__all__ = [
    "knife_edge_loss",
    "diffraction_loss",
    "terrain_profile",
    "sample_elevation",
    "diffraction_loss_dem",
    "DIFFRACTION_METHODS",
    "DEFAULT_DEYGOUT_DEPTH",
]

#: Method name -> kernel code.
DIFFRACTION_METHODS: dict[str, int] = {
    "bullington": K.DIFF_BULLINGTON,
    "deygout": K.DIFF_DEYGOUT,
    "epstein_peterson": K.DIFF_EPSTEIN_PETERSON,
}

#: Deygout recursion depth: main edge plus one subsidiary edge on each side (the
#: three-edge construction of ITU-R P.526); pass ``max_depth`` for deeper recursion.
DEFAULT_DEYGOUT_DEPTH = 2


def knife_edge_loss(v):
    """Single knife-edge diffraction loss J(v) [dB] (ITU-R P.526 eq. 31).

    J(v) = 6.9 + 20 log(sqrt((v - 0.1)^2 + 1) + v - 0.1) for v > -0.78, else 0.
    ``v`` is the dimensionless Fresnel-Kirchhoff parameter.
    """
    arr = as_float_array("v", v, "knife_edge")
    flat = np.ascontiguousarray(arr).ravel()
    out = np.empty(flat.shape[0])
    K._knife_edge_kernel(flat, out)
    out = out.reshape(arr.shape)
    return out[()] if out.ndim == 0 else out


def _inv_ae(effective_earth_radius_m) -> float:
    ae = float(effective_earth_radius_m)
    if np.isnan(ae) or ae <= 0.0:
        raise PropagationInputError(Problem(
            None, None, "effective_earth_radius_m", "must be > 0 (numpy.inf = flat earth)", ae))
    return 0.0 if np.isinf(ae) else 1.0 / ae


def _method_code(method: str) -> int:
    if method not in DIFFRACTION_METHODS:
        raise PropagationInputError(Problem(
            None, None, "method", f"must be one of {sorted(DIFFRACTION_METHODS)}", method))
    return DIFFRACTION_METHODS[method]


def diffraction_loss(distances_m, elevations_m, tx_height_m, rx_height_m, frequency_mhz,
                     method="bullington", effective_earth_radius_m=EFFECTIVE_EARTH_RADIUS_M,
                     *, max_depth=DEFAULT_DEYGOUT_DEPTH):
    """Diffraction loss in excess of free space [dB] over terrain profiles.

    Parameters
    ----------
    distances_m : (n,) or (m, n) array, distance of each sample from the transmitter
        [m], strictly increasing, starting at 0. A 2-D array is the batch form: one
        profile per row, result of shape (m,).
    elevations_m : same shape, terrain elevation above sea level [m].
    tx_height_m, rx_height_m : antenna heights above ground [m] (scalar or (m,)).
    frequency_mhz : [MHz] (scalar or (m,)).
    method : ``"bullington"`` (ITU-R P.1812-6 §4.3.1 eqs. 13-21, with the final
        (1 - exp(-L_uc/6)) (10 + 0.02 d[km]) term), ``"deygout"`` (main edge then each
        side recursively, ``max_depth`` levels, sum of J) or ``"epstein_peterson"``
        (edges of the taut string, each v from its neighbouring edges, sum of J).
    effective_earth_radius_m : a_e [m], default 4/3 x 6371 km; ``numpy.inf`` = flat.
    """
    code = _method_code(method)
    inv_ae = _inv_ae(effective_earth_radius_m)
    dist = as_float_array("distances_m", distances_m, method)
    elev = as_float_array("elevations_m", elevations_m, method)
    if dist.shape != elev.shape or dist.ndim not in (1, 2):
        raise PropagationInputError(Problem(
            None, None, "elevations_m", "must have the shape of distances_m, 1-D or 2-D",
            f"{elev.shape} vs {dist.shape}"))
    single = dist.ndim == 1
    dist2 = np.ascontiguousarray(np.atleast_2d(dist))
    elev2 = np.ascontiguousarray(np.atleast_2d(elev))
    m, n = dist2.shape
    if n < 2:
        raise PropagationInputError(Problem(
            None, None, "distances_m", "a profile needs at least 2 samples", n))
    if np.any(dist2[:, 0] != 0.0) or np.any(np.diff(dist2, axis=1) <= 0.0):
        raise PropagationInputError(Problem(
            None, None, "distances_m", "must start at 0 and increase strictly", None))
    hts_g = as_float_array("tx_height_m", tx_height_m, method)
    hrs_g = as_float_array("rx_height_m", rx_height_m, method)
    f = as_float_array("frequency_mhz", frequency_mhz, method)
    require_positive("frequency_mhz", f, method, "MHz")
    if np.any(hts_g < 0) or np.any(hrs_g < 0):
        raise PropagationInputError(Problem(
            None, None, "tx_height_m/rx_height_m", "must be >= 0 m",
            float(min(np.min(hts_g), np.min(hrs_g)))))
    hts = np.ascontiguousarray(np.broadcast_to(hts_g, (m,))) + elev2[:, 0]
    hrs = np.ascontiguousarray(np.broadcast_to(hrs_g, (m,))) + elev2[:, n - 1]
    lam = SPEED_OF_LIGHT_M_S / (np.ascontiguousarray(np.broadcast_to(f, (m,))) * 1e6)
    n_samples = np.full(m, n, dtype=np.int64)
    out = np.empty(m)
    K._diffraction_batch_kernel(code, dist2, elev2, n_samples, np.ascontiguousarray(hts),
                                np.ascontiguousarray(hrs), np.ascontiguousarray(lam),
                                inv_ae, int(max_depth), out)
    return float(out[0]) if single else out


def _dem_args(elevation, x_min, y_max, cell_m):
    dem = np.asarray(elevation)
    if dem.ndim != 2 or dem.shape[0] < 1 or dem.shape[1] < 1:
        raise PropagationInputError(Problem(None, None, "elevation", "must be a 2-D grid",
                                            dem.shape))
    if dem.dtype not in (np.int16, np.float32, np.float64):
        dem = dem.astype(np.float32)
    dem = np.ascontiguousarray(dem)
    if not (np.isfinite(cell_m) and cell_m > 0):
        raise PropagationInputError(Problem(None, None, "cell_m", "must be > 0 m", cell_m))
    return dem, float(x_min), float(y_max), float(cell_m)


def sample_elevation(elevation, x_min, y_max, cell_m, x, y):
    """Bilinear elevation [m] at points (x, y) [m] of a north-up grid.

    ``elevation`` (ny, nx) int16/float32, row 0 north; ``x_min``, ``y_max`` the outer
    corner of cell [0, 0] [m]; ``cell_m`` square cell size [m]. Values are interpolated
    between cell centres and clamped to the grid's edge cells outside it.
    """
    dem, x0, y0, c = _dem_args(elevation, x_min, y_max, cell_m)
    xa = as_float_array("x", x, "dem")
    ya = as_float_array("y", y, "dem")
    shape = np.broadcast_shapes(xa.shape, ya.shape)
    xa = np.ascontiguousarray(np.broadcast_to(xa, shape)).ravel()
    ya = np.ascontiguousarray(np.broadcast_to(ya, shape)).ravel()
    out = np.empty(xa.shape[0])
    K._bilinear_kernel(dem, x0, y0, c, xa, ya, out)
    return out.reshape(shape)


def terrain_profile(elevation, x_min, y_max, cell_m, x0, y0, x1, y1, n_samples):
    """Profile of ``n_samples`` equally spaced points from (x0, y0) to (x1, y1) [m].

    Returns ``(distances_m, elevations_m)``, each (n_samples,) or (m, n_samples) when the
    end points are arrays of length m; elevations by bilinear interpolation.
    """
    dem, xm, ym, c = _dem_args(elevation, x_min, y_max, cell_m)
    n = int(n_samples)
    if n < 2:
        raise PropagationInputError(Problem(None, None, "n_samples", "must be >= 2", n))
    ends = [np.atleast_1d(as_float_array(k, v, "profile")).astype(np.float64)
            for k, v in (("x0", x0), ("y0", y0), ("x1", x1), ("y1", y1))]
    single = all(np.ndim(v) == 0 for v in (x0, y0, x1, y1))
    shape = np.broadcast_shapes(*(e.shape for e in ends))
    ends = [np.ascontiguousarray(np.broadcast_to(e, shape)).ravel() for e in ends]
    m = ends[0].shape[0]
    dist = np.empty((m, n))
    elev = np.empty((m, n))
    K._profile_kernel(dem, xm, ym, c, *ends, n, dist, elev)
    if single:
        return dist[0], elev[0]
    return dist, elev


#: paths per call of the on-the-fly Bullington kernel (bounds its scratch to ~75 MB)
BULLINGTON_CHUNK_PATHS = 1 << 20


def diffraction_loss_dem(elevation, x_min, y_max, cell_m, tx_x, tx_y, tx_height_m, rx_x,
                         rx_y, rx_height_m, frequency_mhz, n_samples, method="bullington",
                         effective_earth_radius_m=EFFECTIVE_EARTH_RADIUS_M, *,
                         max_depth=DEFAULT_DEYGOUT_DEPTH):
    """Diffraction loss [dB] of many paths whose profiles (``n_samples`` points each) are
    extracted from the DEM inside the kernel (no profile array is materialised).

    Equal to :func:`diffraction_loss` on the profiles of :func:`terrain_profile` (to
    rounding: Bullington uses precomputed 1/i and 1/sqrt(i) tables for the equally
    spaced samples).
    """
    code = _method_code(method)
    inv_ae = _inv_ae(effective_earth_radius_m)
    dem, xm, ym, c = _dem_args(elevation, x_min, y_max, cell_m)
    n = int(n_samples)
    if n < 3:
        raise PropagationInputError(Problem(None, None, "n_samples", "must be >= 3", n))
    f = float(frequency_mhz)
    if not (np.isfinite(f) and f > 0):
        raise PropagationInputError(Problem(None, None, "frequency_mhz", "must be > 0", f))
    arrs = [np.atleast_1d(as_float_array(k, v, method)).astype(np.float64)
            for k, v in (("tx_x", tx_x), ("tx_y", tx_y), ("tx_height_m", tx_height_m),
                         ("rx_x", rx_x), ("rx_y", rx_y), ("rx_height_m", rx_height_m))]
    shape = np.broadcast_shapes(*(a.shape for a in arrs))
    arrs = [np.ascontiguousarray(np.broadcast_to(a, shape)).ravel() for a in arrs]
    out = np.empty(arrs[0].shape[0])
    lam = SPEED_OF_LIGHT_M_S / (f * 1e6)
    if code == K.DIFF_BULLINGTON:
        # the kernel keeps ~72 bytes of scratch per path: bound it by calling in chunks
        for lo in range(0, out.shape[0], BULLINGTON_CHUNK_PATHS):
            hi = min(lo + BULLINGTON_CHUNK_PATHS, out.shape[0])
            K._bullington_dem_kernel(dem, xm, ym, c, *(a[lo:hi] for a in arrs), n, lam,
                                     inv_ae, out[lo:hi])
    else:
        K._dem_diffraction_kernel(code, dem, xm, ym, c, *arrs, n, lam, inv_ae, int(max_depth),
                                  out)
    return out.reshape(shape)
