"""Propagation and coverage benchmarks, each side by side with its baseline on the same
input. Throughputs are printed (pytest -s) and stored in the benchmark's extra_info.

Run: SITEPLAN_BENCH_PROFILE=full pytest benchmarks/propagation -s --benchmark-min-rounds=3
Quick smoke run: pytest benchmarks/propagation --benchmark-disable
"""

import math

import numpy as np
import pytest

from bench_data import hilly_dem
from conftest import PROFILE, size
from siteplan.coverage import BandParams, LinkParams, TerrainGrid, best_server_raster, coverage_csr
from siteplan.propagation import diffraction_loss_dem, path_loss_matrix, terrain_profile
from siteplan.units import EFFECTIVE_EARTH_RADIUS_M, SPEED_OF_LIGHT_M_S

pytestmark = pytest.mark.filterwarnings("ignore::siteplan.propagation.ValidityRangeWarning")


def _note():
    """Rates of the quick profile's tiny inputs are smoke-test output, not results."""
    return "" if PROFILE == "full" else " (quick profile: tiny input, not a rate to report)"


# ---------------------------------------------------------------- empirical models
N_SITES, N_POINTS = size((40, 500), (1000, 10_000))


def _geometry():
    rng = np.random.default_rng(0)
    sx, sy = rng.uniform(0, 40_000, N_SITES), rng.uniform(0, 40_000, N_SITES)
    px, py = rng.uniform(0, 40_000, N_POINTS), rng.uniform(0, 40_000, N_POINTS)
    return sx, sy, rng.uniform(25, 50, N_SITES), px, py


def _numpy_matrix(model, sx, sy, hb, px, py, hm, f):
    """Vectorised numpy implementation of the same models (the baseline)."""
    d = np.maximum(np.hypot(px[None, :] - sx[:, None], py[None, :] - sy[:, None]), 1.0)
    hb2 = hb[:, None]
    lf = np.log10(f)
    if model == "hata":
        a = (1.1 * lf - 0.7) * hm - (1.56 * lf - 0.8)
        lu = (69.55 + 26.16 * lf - 13.82 * np.log10(hb2) - a
              + (44.9 - 6.55 * np.log10(hb2)) * np.log10(d / 1000.0))
        return lu - 2 * np.log10(f / 28.0) ** 2 - 5.4
    if model == "cost231":
        a = (1.1 * lf - 0.7) * hm - (1.56 * lf - 0.8)
        return (46.3 + 33.9 * lf - 13.82 * np.log10(hb2) - a
                + (44.9 - 6.55 * np.log10(hb2)) * np.log10(d / 1000.0))
    # rma NLOS
    fc, h, w = f / 1000.0, 5.0, 20.0
    d3 = np.sqrt(d * d + (hb2 - hm) ** 2)
    dbp = 2 * np.pi * hb2 * hm * fc * 1e9 / SPEED_OF_LIGHT_M_S

    def pl1(x):
        return (20 * np.log10(40 * np.pi * x * fc / 3) + min(0.03 * h ** 1.72, 10) * np.log10(x)
                - min(0.044 * h ** 1.72, 14.77) + 0.002 * np.log10(h) * x)

    los = np.where(d <= dbp, pl1(d3), pl1(dbp) + 40 * np.log10(d3 / dbp))
    nlos = (161.04 - 7.1 * np.log10(w) + 7.5 * np.log10(h)
            - (24.37 - 3.7 * (h / hb2) ** 2) * np.log10(hb2)
            + (43.42 - 3.1 * np.log10(hb2)) * (np.log10(d3) - 3) + 20 * np.log10(fc)
            - (3.2 * np.log10(11.75 * hm) ** 2 - 4.97))
    return np.maximum(los, nlos)


FREQ = {"hata": 900.0, "cost231": 1850.0, "rma": 2600.0}
IMPLS = {
    # numba: path_loss_matrix computes the distances from the coordinates inside the kernel
    "numba": lambda m, sx, sy, hb, px, py, f: path_loss_matrix(m, sx, sy, hb, px, py, 1.5, f),
    "numba_f32": lambda m, sx, sy, hb, px, py, f: path_loss_matrix(m, sx, sy, hb, px, py, 1.5,
                                                                   f, dtype=np.float32),
    # numpy: the same coordinates broadcast to a distance matrix, the textbook formula
    "numpy": lambda m, sx, sy, hb, px, py, f: _numpy_matrix(m, sx, sy, hb, px, py, 1.5, f),
    # numpy in float32 arithmetic (inputs cast once outside the timed region)
    "numpy_f32": lambda m, sx, sy, hb, px, py, f: _numpy_matrix(m, sx, sy, hb, px, py,
                                                                np.float32(1.5), np.float32(f)),
}
#: |float32 result - float64 result| allowed [dB]: the numba float32 path is documented
#: within 2e-4 dB; numpy's float32 ufuncs are checked only to 0.01 dB.
F32_TOL = {"numba_f32": 2e-4, "numpy_f32": 1e-2}


@pytest.mark.parametrize("impl", list(IMPLS))
@pytest.mark.parametrize("model", ["hata", "cost231", "rma"])
def test_empirical_matrix(benchmark, model, impl):
    """Same inputs (site and point coordinates, site heights) and same output (the
    n_sites x n_points loss matrix) for every implementation."""
    sx, sy, hb, px, py = _geometry()
    if impl.endswith("_f32") and impl.startswith("numpy"):
        sx, sy, hb, px, py = (a.astype(np.float32) for a in (sx, sy, hb, px, py))
    f = FREQ[model]
    fn = IMPLS[impl]
    ref = fn(model, sx, sy, hb, px, py, f)  # warm-up on the timed inputs: compile, page in
    res = benchmark(fn, model, sx, sy, hb, px, py, f)
    assert res.shape == (N_SITES, N_POINTS) and res.dtype == ref.dtype
    # every implementation computes the same numbers as the float64 numba kernel
    exact = path_loss_matrix(model, *_geometry(), 1.5, f)
    err = float(np.max(np.abs(res - exact)))
    assert err <= F32_TOL.get(impl, 1e-9), err
    if benchmark.stats is not None:
        rate = N_SITES * N_POINTS / benchmark.stats.stats.min
        benchmark.extra_info.update(pairs_per_s=rate, max_abs_diff_db=err)
        print(f"\n[empirical {model} {impl}] {rate / 1e6:.1f} M pair evaluations/s, "
              f"max |diff| {err:.1e} dB{_note()}")


# ---------------------------------------------------------------- Bullington from a DEM
N_PATHS = size(2_000, 200_000)
N_SAMPLES = 200
DEM_CELL = 30.0


def _paths():
    dem = hilly_dem(*size((300, 300), (1500, 1500)), seed=1)
    ny, nx = dem.shape
    rng = np.random.default_rng(2)
    ext = nx * DEM_CELL
    tx = rng.uniform(0.1 * ext, 0.9 * ext, (N_PATHS, 2))
    ang = rng.uniform(0, 2 * np.pi, N_PATHS)
    r = rng.uniform(500, min(10_000, 0.4 * ext), N_PATHS)
    rx = np.clip(tx + np.column_stack([r * np.sin(ang), r * np.cos(ang)]), 0, ext)
    return dem, tx, rx


def _numpy_bullington_batch(dist, elev, hts, hrs, lam, ae):
    """Vectorised numpy Bullington (P.1812-6 eqs. 13-21) over a batch of profiles."""
    d = dist[:, -1:]
    di = dist[:, 1:-1]
    y = elev[:, 1:-1] + di * (d - di) / (2 * ae)
    hts_, hrs_ = hts[:, None], hrs[:, None]
    stim = np.max((y - hts_) / di, axis=1)
    s_tr = (hrs - hts) / d[:, 0]
    v_los = np.max((y - (hts_ * (d - di) + hrs_ * di) / d)
                   * np.sqrt(2 * d / (lam * di * (d - di))), axis=1)
    srim = np.max((y - hrs_) / (d - di), axis=1)
    dd = d[:, 0]
    dbp = (hrs - hts + srim * dd) / (stim + srim)
    with np.errstate(invalid="ignore", divide="ignore"):
        vb = (hts + stim * dbp - (hts * (dd - dbp) + hrs * dbp) / dd) * np.sqrt(
            2 * dd / (lam * dbp * (dd - dbp)))
    v = np.where(stim < s_tr, v_los, vb)
    t = v - 0.1
    j = np.where(v > -0.78, 6.9 + 20 * np.log10(np.sqrt(t * t + 1) + t), 0.0)
    return j + (1 - np.exp(-j / 6)) * (10 + 0.02 * dd / 1000)


@pytest.mark.parametrize("impl", ["numba_on_the_fly", "numpy_batch"])
def test_bullington_dem(benchmark, impl):
    dem, tx, rx = _paths()
    x_min, y_max = 0.0, dem.shape[0] * DEM_CELL
    args = (dem, x_min, y_max, DEM_CELL, tx[:, 0], tx[:, 1], 30.0, rx[:, 0], rx[:, 1], 1.5,
            900.0, N_SAMPLES, "bullington")
    lam = SPEED_OF_LIGHT_M_S / 900e6
    if impl == "numba_on_the_fly":
        diffraction_loss_dem(*args)  # warm-up on the timed inputs (compile outside timing)
        res = benchmark(diffraction_loss_dem, *args)
    else:
        def run():
            out = np.empty(N_PATHS)
            for lo in range(0, N_PATHS, 5000):  # chunks keep memory bounded
                hi = min(N_PATHS, lo + 5000)
                d, e = terrain_profile(dem, x_min, y_max, DEM_CELL, tx[lo:hi, 0], tx[lo:hi, 1],
                                       rx[lo:hi, 0], rx[lo:hi, 1], N_SAMPLES)
                out[lo:hi] = _numpy_bullington_batch(d, e, e[:, 0] + 30.0, e[:, -1] + 1.5, lam,
                                                     EFFECTIVE_EARTH_RADIUS_M)
            return out

        run()
        res = benchmark(run)
    ref = diffraction_loss_dem(*args)
    np.testing.assert_allclose(res, ref, atol=1e-6)
    if benchmark.stats is not None:
        rate = N_PATHS / benchmark.stats.stats.min
        benchmark.extra_info["paths_per_s"] = rate
        print(f"\n[bullington {impl}] {rate:,.0f} paths/s ({N_SAMPLES} samples)")


# ---------------------------------------------------------------- radial-sweep raster
RASTER_N, RASTER_R = size((200, 2500.0), (1400, 20_000.0))


def _raster_case():
    dem = hilly_dem(RASTER_N, RASTER_N, seed=3)
    t = TerrainGrid(dem, 0.0, RASTER_N * DEM_CELL, DEM_CELL)
    c = RASTER_N * DEM_CELL / 2
    sx = np.array([c, c - RASTER_R / 3, c + RASTER_R / 4])
    sy = np.array([c, c + RASTER_R / 5, c - RASTER_R / 3])
    params = LinkParams(bands=(BandParams(900.0, 31.0, "hata"),), threshold_dbm=-140.0,
                        max_range_m=RASTER_R)
    return t, sx, sy, params


def test_radial_sweep_raster(benchmark):
    t, sx, sy, params = _raster_case()
    radii = np.full(3, RASTER_R)
    best_server_raster(sx, sy, np.full(3, 30.0), params, t, 0.0, radii)  # warm-up, same call
    rsrp, _ = benchmark(best_server_raster, sx, sy, np.full(3, 30.0), params, t, 0.0, radii)
    assert np.isfinite(rsrp).mean() > 0.2
    if benchmark.stats is not None:
        ny, nx = t.elevation_m.shape
        yy = t.y_max - (np.arange(ny) + 0.5) * DEM_CELL
        xx = (np.arange(nx) + 0.5) * DEM_CELL
        px = sum(int(((xx[None, :] - x) ** 2 + (yy[:, None] - y) ** 2 <= RASTER_R ** 2).sum())
                 for x, y in zip(sx, sy))  # pixel evaluations actually made (clipped circles)
        rate = px / benchmark.stats.stats.min
        benchmark.extra_info["pixel_evals_per_s"] = rate
        print(f"\n[raster radial sweep] {rate / 1e6:.1f} M pixel evaluations/s{_note()}")


MANY_N, MANY_SITES = size((120, 40), (800, 2000))


@pytest.mark.parametrize("mode", ["batched", "site_by_site"])
def test_raster_many_sites(benchmark, mode):
    """The pipeline's use: many small sites (Shantou-like: 90 m DEM, 3.4 km radius, two
    bands). ``batched`` = the default batches (one parallel sweep and raster pass per
    batch); ``site_by_site`` = batch_values=1, one site per kernel call (serial twins,
    as the previous version ran them). Same output, checked equal."""
    cell = 90.0
    dem = hilly_dem(MANY_N, MANY_N, seed=8)
    t = TerrainGrid(dem, 0.0, MANY_N * cell, cell)
    rng = np.random.default_rng(3)
    sx, sy = rng.uniform(0, MANY_N * cell, (2, MANY_SITES))
    r = 3400.0
    params = LinkParams(bands=(BandParams(942.5, 32.0, "hata"),
                               BandParams(1890.0, 32.0, "cost231")),
                        threshold_dbm=-140.0, max_range_m=r)
    radii = np.full(MANY_SITES, r)
    kw = {"batch_values": 1} if mode == "site_by_site" else {}
    args = (sx, sy, np.full(MANY_SITES, 30.0), params, t, 0.0, radii)
    ref = best_server_raster(*args)  # warm-up (default batches)
    best_server_raster(*args, **kw)  # warm-up, same call as timed
    rsrp, srv = benchmark(best_server_raster, *args, **kw)
    assert np.array_equal(rsrp, ref[0]) and np.array_equal(srv, ref[1])
    if benchmark.stats is not None:
        yy = t.y_max - (np.arange(MANY_N) + 0.5) * cell
        xx = (np.arange(MANY_N) + 0.5) * cell
        px = sum(int(((xx[None, :] - x) ** 2 + (yy[:, None] - y) ** 2 <= r * r).sum())
                 for x, y in zip(sx, sy))
        rate = px / benchmark.stats.stats.min
        benchmark.extra_info["pixel_evals_per_s"] = rate
        print(f"\n[raster many sites {mode}] {MANY_SITES} sites, {px / 1e6:.1f} M pixel "
              f"evaluations: {rate / 1e6:.1f} M/s{_note()}")


def test_per_pixel_profiles_baseline(benchmark):
    """Baseline: a full Bullington profile per pixel (what SPLAT!-style tools do), on a
    sample of the same raster's pixels; reported per pixel."""
    t, sx, sy, params = _raster_case()
    rng = np.random.default_rng(4)
    n = size(2000, 100_000)
    ang = rng.uniform(0, 2 * np.pi, n)
    r = np.sqrt(rng.uniform(0, 1, n)) * RASTER_R
    x, y = sx[0] + r * np.sin(ang), sy[0] + r * np.cos(ang)
    steps = np.maximum(3, np.ceil(r / DEM_CELL).astype(int) + 1)
    # group by sample count so each batch is rectangular (profile step = cell, as the sweep)
    order = np.argsort(steps)

    def run():
        out = np.empty(n)
        for k in np.unique(steps):
            idx = order[steps[order] == k]
            out[idx] = diffraction_loss_dem(t.elevation_m, 0.0, t.y_max, DEM_CELL, sx[0], sy[0],
                                            30.0, x[idx], y[idx], 1.5, 900.0, int(k))
        return out

    run()
    benchmark(run)
    if benchmark.stats is not None:
        rate = n / benchmark.stats.stats.min
        benchmark.extra_info["pixel_evals_per_s"] = rate
        print(f"\n[per-pixel Bullington profiles] {rate / 1e6:.3f} M pixel evaluations/s")


# ---------------------------------------------------------------- coverage matrix, region scale
def test_coverage_region(benchmark):
    """Shantou-sized synthetic region: ~2,200 km2 of 30 m DEM, villages' demand points and
    candidate sites, one 900 MHz layer (the largest radius) with Bullington."""
    side = size(12_000.0, 47_000.0)
    n = int(side / DEM_CELL)
    dem = hilly_dem(n, n, seed=5)
    t = TerrainGrid(dem, 0.0, side, DEM_CELL)
    rng = np.random.default_rng(6)
    n_p, n_s = size((400, 150), (5_000, 3_000))
    px, py = rng.uniform(0, side, n_p), rng.uniform(0, side, n_p)
    sx, sy = rng.uniform(0, side, n_s), rng.uniform(0, side, n_s)
    params = LinkParams(bands=(BandParams(900.0, 31.0, "auto"),), threshold_dbm=-110.0,
                        max_range_m=30_000.0)
    coverage_csr(sx, sy, np.full(n_s, 35.0), px, py, params, t)  # warm-up, same call
    mat, info = benchmark(coverage_csr, sx, sy, np.full(n_s, 35.0), px, py, params, t)
    assert mat.nnz > 0
    if benchmark.stats is not None:
        s = benchmark.stats.stats.min
        benchmark.extra_info.update(seconds=s, pairs=int(mat.nnz),
                                    candidates=int(info["n_candidates"]))
        print(f"\n[coverage region] {n_s} sites x {n_p} points: {s:.2f} s, "
              f"{info['n_candidates']:,} candidate pairs evaluated, {mat.nnz:,} kept, "
              f"{info['n_candidates'] / s:,.0f} pairs/s")


# ---------------------------------------------------------------- peer: itmlogic (optional)
def _itmlogic_path(prof, step_m, f_mhz, h1, h2):
    """One point-to-point ITM (Longley-Rice) prediction with itmlogic, median quantile,
    set up as in itmlogic's scripts/qkpfl.py (continental temperate, ens0 = 314)."""
    from itmlogic.misc.qerfi import qerfi  # noqa: F401  (imported by itmlogic's runner too)
    from itmlogic.preparatory_subroutines.qlrpfl import qlrpfl
    from itmlogic.statistics.avar import avar

    prop = {"eps": 15, "sgm": 0.005, "ipol": 0, "fmhz": f_mhz, "hg": [h1, h2], "klim": 5,
            "ens0": 314, "lvar": 5, "gma": 157e-9, "kwx": 0}
    prop["pfl"] = [len(prof) - 1, step_m] + [float(z) for z in prof]
    prop["wn"] = f_mhz / 47.7
    prop["ens"] = prop["ens0"]
    prop["gme"] = prop["gma"] * (1 - 0.04665 * math.exp(prop["ens"] / 179.3))
    zq = complex(prop["eps"], 376.62 * prop["sgm"] / prop["wn"])
    prop["zgnd"] = np.sqrt(zq - 1)
    prop["klimx"] = 0
    prop["mdvarx"] = 11
    prop = qlrpfl(prop)
    fs = 8.685890 * np.log(2 * prop["wn"] * prop["dist"])
    a, prop = avar(0.0, 0, 0.0, prop)
    return fs + a


def test_itmlogic_peer(benchmark):
    """itmlogic (pure-Python NTIA ITM, PyPI) on the first profiles of the Bullington
    benchmark: paths/s of a peer that evaluates the same 200-sample profiles."""
    pytest.importorskip("itmlogic", reason="optional peer: pip install itmlogic")
    dem, tx, rx = _paths()
    n = size(20, 300)
    d, e = terrain_profile(dem, 0.0, dem.shape[0] * DEM_CELL, DEM_CELL, tx[:n, 0], tx[:n, 1],
                           rx[:n, 0], rx[:n, 1], N_SAMPLES)

    def run():
        return [_itmlogic_path(e[k], d[k, 1], 900.0, 30.0, 1.5) for k in range(n)]

    res = benchmark(run)
    assert all(np.isfinite(res))
    if benchmark.stats is not None:
        rate = n / benchmark.stats.stats.min
        benchmark.extra_info["paths_per_s"] = rate
        print(f"\n[itmlogic ITM peer] {rate:,.0f} paths/s ({N_SAMPLES} samples)")
