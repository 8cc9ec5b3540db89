"""Terrain synthesis and the geometry helpers of the generator, against naive twins and the real grid."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from naive_generate import bilinear_point, point_in_ring, point_in_rings
from siteplan.generate._geometry import Grid, PolygonSet
from siteplan.generate.terrain import (
    DETAIL_BASE_M,
    DETAIL_PER_M,
    SPECTRAL_BETA,
    bilinear_coarse,
    spectral_noise,
    synthesise_elevation,
)
from siteplan.io.crs import Projector, gcj02_to_wgs84
from siteplan.io.geotiff import read_geotiff

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SITEPLAN_SHARED", REPO / ".." / "shared"))
SHANTOU_DATA = SHARED / "data" / "shantou"
INSTANCE = REPO / "instances" / "shantou-2016"
needs_shantou = pytest.mark.skipif(
    not ((SHANTOU_DATA / "terrain_pvlib_altitude_5arcmin.csv").is_file() and (INSTANCE / "terrain.tif").is_file()),
    reason=f"needs {SHANTOU_DATA} and the committed instances/shantou-2016")


# ------------------------------------------------------------------------------ bilinear

@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_bilinear_matches_naive(ny, nx, seed):
    rng = np.random.default_rng(seed)
    # coarse grids are regular (the kernel relies on it; the naive twin does not)
    lons = np.linspace(116.0, 116.0 + 0.1 * max(nx - 1, 0), nx)
    lats = np.linspace(23.0, 23.0 + 0.1 * max(ny - 1, 0), ny)
    alt = rng.uniform(-30, 600, (ny, nx))
    alt[rng.random((ny, nx)) < 0.2] = np.nan
    plon = rng.uniform(115.9, 116.1 + 0.1 * nx, 25)
    plat = rng.uniform(22.9, 23.1 + 0.1 * ny, 25)
    got = bilinear_coarse(lons, lats, alt, plon, plat)
    want = [bilinear_point(lons, lats, alt.tolist(), a, b) for a, b in zip(plon, plat)]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)


def test_bilinear_passes_through_the_nodes():
    lons = np.array([116.0, 116.1, 116.2])
    lats = np.array([23.0, 23.1])
    alt = np.array([[1.0, 2.0, np.nan], [4.0, 5.0, 6.0]])
    glon, glat = np.meshgrid(lons, lats)
    got = bilinear_coarse(lons, lats, alt, glon.ravel(), glat.ravel()).reshape(2, 3)
    np.testing.assert_allclose(got, np.nan_to_num(alt, nan=0.0))


# ------------------------------------------------------------------------ polygons

def _random_polygon(rng, cx, cy, r, n):
    th = np.sort(rng.uniform(0, 2 * np.pi, n))
    rr = r * rng.uniform(0.4, 1.0, n)
    return np.column_stack([cx + rr * np.cos(th), cy + rr * np.sin(th)])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from([50, 5000]))
def test_polygon_set_matches_ray_casting(seed, n_points):
    rng = np.random.default_rng(seed)
    rings = [_random_polygon(rng, 0, 0, 1000, 12), _random_polygon(rng, 2500, 0, 800, 9),
             _random_polygon(rng, 0, 0, 300, 7)]          # the last one acts as a hole (even-odd)
    ps = PolygonSet(rings)
    x = rng.uniform(-1200, 3500, n_points)
    y = rng.uniform(-1200, 1200, n_points)
    got = ps.contains(x, y)
    sub = rng.choice(n_points, size=min(n_points, 300), replace=False)
    want = np.array([point_in_rings(x[k], y[k], [r.tolist() for r in rings]) for k in sub])
    assert (got[sub] == want).all()


def test_polygon_area_with_hole():
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], dtype=float)
    hole = np.array([[2, 2], [4, 2], [4, 4], [2, 4]], dtype=float)
    assert PolygonSet([square, hole]).area_m2 == pytest.approx(96.0)
    assert point_in_ring(5, 5, square.tolist()) and not PolygonSet([square, hole]).contains(3.0, 3.0)


def test_grid_index_and_lookup():
    g = Grid(100.0, 1000.0, 10.0, 5, 8)
    r = np.arange(40).reshape(5, 8)
    assert g.lookup(r, 105.0, 995.0) == 0
    assert g.lookup(r, 179.9, 950.1) == r[4, 7]
    xs, ys = g.centres()
    assert xs[0] == 105.0 and ys[0] == 995.0 and g.x_max == 180.0 and g.y_min == 950.0


# ----------------------------------------------------------------------- spectral noise

def test_spectral_noise_moments_and_seed():
    a = spectral_noise(np.random.default_rng(3), 256, 300, 90.0, lowcut_m=8000.0)
    b = spectral_noise(np.random.default_rng(3), 256, 300, 90.0, lowcut_m=8000.0)
    c = spectral_noise(np.random.default_rng(4), 256, 300, 90.0, lowcut_m=8000.0)
    assert a.shape == (256, 300)
    assert abs(a.mean()) < 1e-12 and a.std() == pytest.approx(1.0)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_spectral_noise_has_the_power_law_slope():
    """Radially averaged power between 1/4 km and 1/400 m falls as f^-beta (fit in log-log)."""
    n, cell = 512, 50.0
    f = spectral_noise(np.random.default_rng(0), n, n, cell, lowcut_m=1000.0)
    p = np.abs(np.fft.fft2(f)) ** 2
    fy = np.fft.fftfreq(n, d=cell)[:, None]
    fx = np.fft.fftfreq(n, d=cell)[None, :]
    fr = np.hypot(fy, fx).ravel()
    bins = np.geomspace(2.0 / 1000.0, 1.0 / 110.0, 12)   # above the low cut (1/1000 m), below Nyquist (1/100 m)
    k = np.digitize(fr, bins)
    fm = np.array([fr[k == i].mean() for i in range(1, len(bins))])
    pm = np.array([p.ravel()[k == i].mean() for i in range(1, len(bins))])
    slope = np.polyfit(np.log(fm), np.log(pm), 1)[0]
    assert slope == pytest.approx(-SPECTRAL_BETA, abs=0.25)


def test_synthesise_elevation_sea_land_and_amplitude():
    rng = np.random.default_rng(1)
    noise = rng.standard_normal((200, 200))
    base = np.zeros((200, 200))
    base[:, 100:] = 300.0
    land = np.ones((200, 200), dtype=bool)
    land[:20, :] = False
    dist = np.full((200, 200), 1e6)
    z = synthesise_elevation(base, land, dist, noise)
    assert z.dtype == np.float32
    assert (z[:20] == 0).all() and (z[20:] >= 1).all()
    flat = (z[20:, :100] - base[20:, :100])
    hill = (z[20:, 100:] - base[20:, 100:])
    assert hill.std() == pytest.approx(DETAIL_BASE_M + DETAIL_PER_M * 300.0, rel=0.05)
    assert abs(hill.mean()) < 5.0 and hill.std() > 20 * flat.std() / 3


# ------------------------------------------------------ the Shantou DEM honours the real grid

@needs_shantou
def test_shantou_dem_honours_the_coarse_grid():
    dem = read_geotiff(INSTANCE / "terrain.tif")
    z = dem.data.astype(float)
    proj = Projector(dem.crs)
    land = z > 0
    dist = ndimage.distance_transform_edt(land) * dem.cell_x
    with open(SHANTOU_DATA / "terrain_pvlib_altitude_5arcmin.csv", encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["altitude_m"] != ""]
    k = int(2500 / dem.cell_x)
    yy, xx = np.mgrid[-k:k + 1, -k:k + 1]
    disc = xx**2 + yy**2 <= k * k
    coarse, local_mean, local_max = [], [], []
    for r in rows:
        x, y = proj.to_local(float(r["lon"]), float(r["lat"]))
        j, i = int((x - dem.x_min) // dem.cell_x), int((dem.y_max - y) // dem.cell_y)
        if not (k <= i < z.shape[0] - k and k <= j < z.shape[1] - k) or dist[i, j] < 3000:
            continue          # only grid nodes well inland: the coast pulls everything to 0
        blk = z[i - k:i + k + 1, j - k:j + k + 1][disc]
        coarse.append(max(float(r["altitude_m"]), 0.0))
        local_mean.append(blk.mean())
        local_max.append(blk.max())
    coarse, local_mean, local_max = map(np.asarray, (coarse, local_mean, local_max))
    assert len(coarse) >= 10
    assert np.corrcoef(coarse, local_mean)[0, 1] > 0.95
    assert (np.abs(local_mean - coarse) <= 10.0 + 0.3 * coarse).all()
    # hills where the grid is high (Chaonan's Dananshan, > 150 m), plains where it is at sea level
    assert local_max[coarse > 150].min() > 250.0
    assert local_max[coarse < 5].max() < 40.0


@needs_shantou
def test_shantou_dem_sea_outside_the_city_outline():
    """Cells outside the real city outline (Amap, GCJ-02 -> WGS84) are sea at 0 m, cells inside land."""
    dem = read_geotiff(INSTANCE / "terrain.tif")
    z = dem.data
    geom = json.loads((SHANTOU_DATA / "fences_vonng" / "440500.json").read_text(encoding="utf-8"))
    proj = Projector(dem.crs)
    rings = []
    for poly in geom["coordinates"]:
        a = np.asarray(poly[0])
        lon, lat = gcj02_to_wgs84(a[:, 0], a[:, 1])
        x, y = proj.to_local(lon, lat)
        rings.append(list(zip(x, y)))
    rng = np.random.default_rng(0)
    ii = rng.integers(0, z.shape[0], 400)
    jj = rng.integers(0, z.shape[1], 400)
    xc = dem.x_min + (jj + 0.5) * dem.cell_x
    yc = dem.y_max - (ii + 0.5) * dem.cell_y
    inside = np.array([point_in_rings(a, b, rings) for a, b in zip(xc, yc)])
    landcell = z[ii, jj] > 0
    assert inside.sum() > 50 and (~inside).sum() > 50
    assert np.mean(inside == landcell) > 0.98     # district and city outlines differ by a few cells
    assert (z[ii, jj][~inside & ~landcell] == 0).all()
