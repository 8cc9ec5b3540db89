"""Terrain synthesis: a metric DEM that honours a coarse real altitude grid.

The elevation of a land cell is the bilinear interpolation of the coarse grid (sea and
no-data cells of the coarse grid count as 0 m) plus seeded fractal detail: a Gaussian
random field synthesised in the Fourier domain with a power-law spectrum
``P(f) ~ f^-beta`` (fBm-like relief), high-passed below ``1 / lowcut_m`` so that the
long wavelengths stay those of the real grid. The detail amplitude grows with the
coarse elevation (plains stay flat, hills get rugged) and fades towards the coast.
Cells outside the land polygons are sea at 0 m; land is at least 1 m.
"""

from __future__ import annotations

import numpy as np

__all__ = ["bilinear_coarse", "spectral_noise", "synthesise_elevation", "SPECTRAL_BETA"]

#: Spectral exponent of the detail field [-] (beta = 2 H + 2 with Hurst H = 0.3:
#: rough relief typical of weathered granite hills).
SPECTRAL_BETA = 2.6
#: Detail standard deviation on a flat plain [m] and its growth with elevation [-].
DETAIL_BASE_M = 2.0
DETAIL_PER_M = 0.45
#: Distance from the sea over which the detail fades in [m].
COAST_TAPER_M = 1500.0


def bilinear_coarse(coarse_lon: np.ndarray, coarse_lat: np.ndarray, coarse_alt: np.ndarray,
                    lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of a coarse lon/lat grid at points [deg] -> [m].

    NaN cells (sea / no data) count as 0 m; points beyond the outer cell centres take
    the value of the nearest edge (clamped), so the result is always finite.
    """
    alt = np.where(np.isfinite(coarse_alt), coarse_alt, 0.0).astype(float)
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)

    def _frac(c, v):
        n = len(c)
        if n == 1:
            return np.zeros(v.shape, dtype=np.int64), np.zeros(v.shape)
        f = np.clip((v - c[0]) / (c[-1] - c[0]) * (n - 1), 0.0, n - 1)
        i0 = np.minimum(np.floor(f).astype(np.int64), n - 2)
        return i0, f - i0

    j0, tx = _frac(np.asarray(coarse_lon, dtype=float), lon)
    i0, ty = _frac(np.asarray(coarse_lat, dtype=float), lat)
    j1 = np.minimum(j0 + 1, alt.shape[1] - 1)
    i1 = np.minimum(i0 + 1, alt.shape[0] - 1)
    a = alt[i0, j0] * (1 - tx) + alt[i0, j1] * tx
    b = alt[i1, j0] * (1 - tx) + alt[i1, j1] * tx
    return a * (1 - ty) + b * ty


def spectral_noise(rng: np.random.Generator, ny: int, nx: int, cell_m: float,
                   beta: float = SPECTRAL_BETA, lowcut_m: float = 8000.0) -> np.ndarray:
    """Zero-mean, unit-variance fractal field (ny, nx) with spectrum ``f^-beta`` above ``1/lowcut_m``.

    Parameters
    ----------
    cell_m : grid spacing [m].
    lowcut_m : wavelengths longer than this are suppressed (smooth Gaussian high-pass) [m].
    """
    white = rng.standard_normal((ny, nx))
    spec = np.fft.rfft2(white)
    fy = np.fft.fftfreq(ny, d=cell_m)[:, None]
    fx = np.fft.rfftfreq(nx, d=cell_m)[None, :]
    f = np.hypot(fy, fx)
    f0 = 1.0 / lowcut_m
    with np.errstate(divide="ignore"):
        amp = np.where(f > 0, np.maximum(f, f0) ** (-beta / 2.0), 0.0)
    amp *= 1.0 - np.exp(-((f / f0) ** 2))
    field = np.fft.irfft2(spec * amp, s=(ny, nx))
    field -= field.mean()
    sd = field.std()
    return field / sd if sd > 0 else field


def synthesise_elevation(base_m: np.ndarray, land: np.ndarray, dist_to_sea_m: np.ndarray,
                         noise: np.ndarray) -> np.ndarray:
    """Combine the interpolated coarse elevation, the land mask and the detail field [m].

    ``elev = base + (DETAIL_BASE_M + DETAIL_PER_M * base) * taper * noise`` on land
    (at least 1 m), 0 m at sea; ``taper`` rises linearly from 0.2 at the coast to 1 at
    ``COAST_TAPER_M`` inland. Returns float32.
    """
    base = np.maximum(base_m, 0.0)
    taper = np.clip(dist_to_sea_m / COAST_TAPER_M, 0.2, 1.0)
    elev = base + (DETAIL_BASE_M + DETAIL_PER_M * base) * taper * noise
    elev = np.where(land, np.maximum(elev, 1.0), 0.0)
    return elev.astype(np.float32)
