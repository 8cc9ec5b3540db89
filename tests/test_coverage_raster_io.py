"""Radial sweep vs an O(n)-per-sample scan, best-server raster vs per-pixel brute force,
GeoTIFF georeferencing, CoverageMatrix files."""

import json
import math

import numpy as np
import pytest
import scipy.sparse as sp
import tifffile

import naive_propagation as naive
from siteplan.coverage import (
    BandParams,
    CoverageMatrix,
    LinkParams,
    TerrainGrid,
    best_server_raster,
    coverage_csr,
    radial_sweep,
    write_raster_geotiff,
)
from siteplan.exceptions import FormatError
from siteplan.units import EARTH_RADIUS_M
from test_coverage_core import synthetic_terrain

pytestmark = pytest.mark.filterwarnings("ignore::siteplan.propagation.ValidityRangeWarning")
AE = 4.0 / 3.0 * EARTH_RADIUS_M


@pytest.mark.parametrize("seed", [0, 1])
def test_radial_sweep_equals_prefix_scan(seed):
    t = synthetic_terrain(seed=seed, ny=40, nx=40, cell=60.0, dtype=np.float32)
    rng = np.random.default_rng(seed)
    sx = t.x_min + rng.uniform(600, 1800)
    sy = t.y_max - rng.uniform(600, 1800)
    radius = 900.0
    loss, los = radial_sweep(t, sx, sy, 30.0, radius, 1800.0, 1.5)
    sg = float(naive.bilinear(t.elevation_m, t.x_min, t.y_max, t.cell_m, [sx], [sy])[0])
    n_rad, n_step = loss.shape
    assert n_step == math.ceil(radius / t.cell_m) and n_rad >= 2 * math.pi * radius / t.cell_m
    exp_loss, exp_los = naive.radial_polar(t.elevation_m, t.x_min, t.y_max, t.cell_m, sx, sy,
                                           sg + 30.0, 1.5, n_rad, n_step, 1800.0, AE)
    np.testing.assert_allclose(loss, exp_loss, atol=1e-4)
    assert np.array_equal(los, exp_los)
    assert los.any() and (~los).any() and (loss > 0).any()


def test_radial_sweep_is_lower_bound_of_bullington():
    """The Tx-horizon edge never has a larger v than Bullington's equivalent edge."""
    t = synthetic_terrain(seed=4, ny=40, nx=40, cell=60.0, dtype=np.float32)
    sx, sy = t.x_min + 1200.0, t.y_max - 1200.0
    loss, _ = radial_sweep(t, sx, sy, 25.0, 1100.0, 900.0, 1.5)
    sg = float(naive.bilinear(t.elevation_m, t.x_min, t.y_max, t.cell_m, [sx], [sy])[0])
    n_rad, n_step = loss.shape
    checked = 0
    for r in range(0, n_rad, 7):
        th = 2 * math.pi * r / n_rad
        for k in range(2, n_step + 1, 3):
            d = t.cell_m * np.arange(0, k + 1)
            g = naive.bilinear(t.elevation_m, t.x_min, t.y_max, t.cell_m, sx + d * math.sin(th),
                               sy + d * math.cos(th))
            full = naive.bullington(d, g, sg + 25.0, g[-1] + 1.5, 900.0, AE)
            assert loss[r, k - 1] <= full + 1e-6
            checked += 1
    assert checked > 50


def _pixel_centres(t):
    ny, nx = t.elevation_m.shape
    xs = t.x_min + (np.arange(nx) + 0.5) * t.cell_m
    ys = t.y_max - (np.arange(ny) + 0.5) * t.cell_m
    return np.meshgrid(xs, ys)


def test_raster_without_diffraction_equals_per_pixel_link_budget():
    t = synthetic_terrain(seed=2, ny=24, nx=26, cell=80.0, dtype=np.int16)
    sx = t.x_min + np.array([500.0, 1500.0, 1900.0])
    sy = t.y_max - np.array([400.0, 1200.0, 300.0])
    sh = np.array([30.0, 40.0, 25.0])
    params = LinkParams(bands=(BandParams(900.0, 31.0, "hata"), BandParams(1850.0, 33.0, "cost231")),
                        threshold_dbm=-100.0, diffraction="none", max_range_m=3000.0)
    radii = np.array([1200.0, 3000.0, 800.0])
    rsrp, server = best_server_raster(sx, sy, sh, params, t, 2.0, radii)
    X, Y = _pixel_centres(t)
    exp = np.full(X.shape, -np.inf)
    exp_srv = np.full(X.shape, -1)
    for s in range(3):
        for (i, j), x in np.ndenumerate(X):
            y = Y[i, j]
            if math.hypot(x - sx[s], y - sy[s]) > radii[s]:
                continue
            sg = float(naive.bilinear(t.elevation_m, t.x_min, t.y_max, t.cell_m, [sx[s]], [sy[s]])[0])
            hts, hrs = sg + sh[s], float(t.elevation_m[i, j]) + 1.5
            d = max(math.hypot(x - sx[s], y - sy[s]), 1.0)
            g = max(naive.sector_gain(math.degrees(math.atan2(x - sx[s], y - sy[s])),
                                      math.degrees(math.atan2(hts - hrs, d)), a, 4.0, 65.0, 10.0,
                                      25.0, 20.0, 0.0) for a in (0.0, 120.0, 240.0))
            v = max(e + g - max(naive.model_loss(m, "suburban", d, f, sh[s], 1.5, False),
                                float(naive.fspl(d, f))) - 2.0 - 8.0
                    for f, e, m in ((900.0, 31.0, "hata"), (1850.0, 33.0, "cost231")))
            if v > exp[i, j]:
                exp[i, j], exp_srv[i, j] = v, s
    np.testing.assert_allclose(rsrp[np.isfinite(exp)], exp[np.isfinite(exp)], atol=1e-3)
    assert np.array_equal(np.isfinite(rsrp), np.isfinite(exp))
    assert np.array_equal(server, exp_srv)
    assert (server == 1).sum() > 10 and (server == 0).sum() > 3


def test_raster_with_terrain_uses_polar_lookup():
    t = synthetic_terrain(seed=5, ny=30, nx=30, cell=60.0, dtype=np.float32)
    sx, sy = np.array([t.x_min + 900.0]), np.array([t.y_max - 900.0])
    params = LinkParams(bands=(BandParams(900.0, 31.0, "hata"),), diffraction="bullington",
                        max_range_m=800.0, threshold_dbm=-200.0)
    with_t, _ = best_server_raster(sx, sy, [30.0], params, t, 0.0, [800.0])
    flat, _ = best_server_raster(sx, sy, [30.0], params, t, 0.0, [800.0], use_terrain=False)
    loss, _ = radial_sweep(t, sx[0], sy[0], 30.0, 800.0, 900.0, 1.5)
    n_rad, n_step = loss.shape
    X, Y = _pixel_centres(t)
    m = np.isfinite(flat)
    assert np.array_equal(np.isfinite(with_t), m)
    diff = flat[m] - with_t[m]
    assert np.all(diff >= -1e-4) and diff.max() > 1.0  # terrain only removes signal
    # every pixel's difference is one of the polar samples (nearest radial and ring)
    for (i, j) in list(zip(*np.nonzero(m)))[::5]:
        dx, dy = X[i, j] - sx[0], Y[i, j] - sy[0]
        k = int(math.hypot(dx, dy) / t.cell_m + 0.5)
        if k < 1:
            continue
        th = math.atan2(dx, dy) % (2 * math.pi)
        r = int(th / (2 * math.pi) * n_rad + 0.5) % n_rad
        assert flat[i, j] - with_t[i, j] == pytest.approx(loss[r, min(k, n_step) - 1], abs=1e-3)


def test_geotiff_is_georeferenced(tmp_path):
    t = synthetic_terrain(ny=12, nx=15, cell=50.0)
    rsrp = np.full((12, 15), -np.inf, dtype=np.float32)
    rsrp[3:6, 4:9] = -95.5
    path = write_raster_geotiff(tmp_path / "best.tif", rsrp, t, "EPSG:32650")
    with tifffile.TiffFile(path) as tif:
        geo = tif.geotiff_metadata
        data = tif.asarray()
        nodata = tif.pages[0].tags["GDAL_NODATA"].value
    assert int(geo["ProjectedCSTypeGeoKey"]) == 32650
    assert int(geo["GTRasterTypeGeoKey"]) == 1
    assert list(geo["ModelPixelScale"][:2]) == [50.0, 50.0]
    assert list(geo["ModelTiepoint"][3:5]) == [t.x_min, t.y_max]
    assert float(nodata) == -9999.0
    assert data.dtype == np.float32 and data[4, 5] == np.float32(-95.5) and data[0, 0] == -9999.0


def _small_matrix():
    t = synthetic_terrain(seed=1, ny=30, nx=30)
    rng = np.random.default_rng(0)
    sx = t.x_min + rng.uniform(100, 1400, 5)
    sy = t.y_max - rng.uniform(100, 1400, 5)
    px = t.x_min + rng.uniform(0, 1500, 40)
    py = t.y_max - rng.uniform(0, 1500, 40)
    p = LinkParams(bands=(BandParams(900.0, 30.0, "hata"),), threshold_dbm=-98.0,
                   max_range_m=2000.0)
    m, _ = coverage_csr(sx, sy, np.full(5, 30.0), px, py, p, t)
    village = (np.arange(40) // 4).astype(np.int32)
    return CoverageMatrix(("A", "B"), {"A": m, "B": sp.csr_matrix(m.shape, dtype=np.float32)},
                          np.array([f"V{v}#{k % 4}" for k, v in enumerate(village)], dtype=object),
                          village, np.array([f"V{v}" for v in range(10)], dtype=object),
                          np.array([f"S{s}" for s in range(5)], dtype=object),
                          {"operators": {"A": p.to_dict()}, "note": "测试"})


def test_matrix_round_trip(tmp_path):
    cm = _small_matrix()
    assert cm["A"].nnz > 5
    npz, js = cm.save(tmp_path / "cov.npz")
    assert npz.name == "cov.npz" and js.name == "cov.json"
    back = CoverageMatrix.load(tmp_path / "cov")
    assert back.operators == ("A", "B") and back.params_hash == cm.params_hash
    assert (back["A"] != cm["A"]).nnz == 0 and back["A"].dtype == np.float32
    assert list(back.row_ids) == list(cm.row_ids) and list(back.col_ids) == list(cm.col_ids)
    s = back.summary()
    assert s["operators"]["B"]["villages_uncovered"] == [f"V{v}" for v in range(10)]
    meta = json.loads(js.read_text(encoding="utf-8"))
    assert meta["params"]["note"] == "测试" and meta["shape"] == [40, 5]


def test_params_hash_tracks_parameters():
    a = _small_matrix()
    b = CoverageMatrix(a.operators, a.matrices, a.row_ids, a.row_village, a.village_ids,
                       a.col_ids, {**a.params, "note": "other"})
    assert a.params_hash != b.params_hash and len(a.params_hash) == 64


def test_tampered_files_are_refused(tmp_path):
    cm = _small_matrix()
    npz, js = cm.save(tmp_path / "cov")
    meta = json.loads(js.read_text())
    meta["params"]["note"] = "edited"
    js.write_text(json.dumps(meta))
    with pytest.raises(FormatError, match="params_hash"):
        CoverageMatrix.load(tmp_path / "cov")
    cm.save(tmp_path / "cov")
    npz.write_bytes(npz.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(FormatError, match="checksum"):
        CoverageMatrix.load(tmp_path / "cov")
    with pytest.raises(FormatError, match="not found"):
        CoverageMatrix.load(tmp_path / "missing")


def test_tabulated_edge_loss_matches_formula():
    from siteplan.coverage import _kernels as CK

    ftab, gtab = CK.j_tables()
    rng = np.random.default_rng(0)
    vs = np.concatenate([rng.uniform(-1.5, 45.0, 2000), [-0.78, -0.7799, 0.0, 39.9999, 40.0]])
    ds = rng.uniform(10.0, 30_000.0, vs.size)
    for v, d in zip(vs, ds):
        j = naive.J(v)
        exact = j + (1 - math.exp(-j / 6)) * (10 + 0.02 * d / 1000)
        assert CK._edge_loss_tab(v, d, ftab, gtab) == pytest.approx(exact, abs=1e-5)


def test_vectorised_edge_loss_rows_equal_scalar_lookup():
    """The raster's branch-free row form of the tabulated edge loss gives the scalar
    lookup's exact values, including v at and beyond both ends of the table and -inf
    (a pixel without a polar sample)."""
    from siteplan.coverage import _kernels as CK

    ftab, gtab = CK.j_tables()
    rng = np.random.default_rng(1)
    vs = np.concatenate([rng.uniform(-2.0, 60.0, 3000),
                         [-np.inf, -0.78, -0.7799, 0.0, 39.9999, CK.J_TABLE_VMAX, 40.0001, 1e3]])
    vs = vs.astype(np.float32).astype(np.float64)  # the polar grid holds float32
    ds = rng.uniform(10.0, 30_000.0, vs.size)
    out = np.empty(vs.size)
    CK._edge_loss_rows(vs, ds, ftab, gtab, out)
    exp = np.array([CK._edge_loss_tab(v, d, ftab, gtab) for v, d in zip(vs, ds)])
    assert np.array_equal(out, exp)
    assert out[vs <= -0.78].max() == 0.0 and out[vs >= 40.0].min() > 30.0


def test_serial_and_parallel_raster_kernels_agree(monkeypatch):
    from siteplan.coverage import _kernels as CK

    t = synthetic_terrain(seed=6, ny=30, nx=30, cell=60.0, dtype=np.float32)
    sx, sy = t.x_min + np.array([500.0, 1300.0]), t.y_max - np.array([600.0, 1100.0])
    params = LinkParams(bands=(BandParams(900.0, 31.0, "hata"), BandParams(2600.0, 33.0, "rma")),
                        diffraction="bullington", threshold_dbm=-130.0, rma_los="terrain")
    monkeypatch.setattr(CK, "SERIAL_WORK_LIMIT", 10**12)
    a, sa = best_server_raster(sx, sy, [30.0, 35.0], params, t, 0.0, [900.0, 700.0])
    monkeypatch.setattr(CK, "SERIAL_WORK_LIMIT", 0)
    b, sb = best_server_raster(sx, sy, [30.0, 35.0], params, t, 0.0, [900.0, 700.0])
    assert np.array_equal(a, b) and np.array_equal(sa, sb)
    assert np.isfinite(a).sum() > 100


def test_branch_free_arctangents_match_libm():
    """The raster's vectorisable atan/atan2 agree with libm to a few ulp, on random
    inputs over many decades and on the reduction boundaries, quadrant edges and zeros."""
    from siteplan.coverage import _kernels as CK

    rng = np.random.default_rng(7)
    u = rng.standard_normal(20_000) * 10.0 ** rng.uniform(-8, 8, 20_000)
    u = np.concatenate([u, [0.0, -0.0, 1.0, -1.0, math.tan(math.pi / 8), math.tan(3 * math.pi / 8),
                            -math.tan(3 * math.pi / 8), 1e300, -1e300, 5e-324]])
    y = rng.standard_normal(20_000) * rng.uniform(0, 1e5, 20_000)
    x = rng.standard_normal(20_000) * rng.uniform(0, 1e5, 20_000)
    y = np.concatenate([y, [0.0, 0.0, 0.0, 1.0, -1.0, 3.0, -3.0, 5.0, -5.0, 2.0, 1e-3]])
    x = np.concatenate([x, [0.0, 1.0, -1.0, 0.0, 0.0, 3.0, -3.0, -5.0, 5.0, -2.0, 1e4]])
    a, b = np.empty_like(u), np.empty_like(y)
    CK._atan_fast_kernel(u, a, y, x, b)
    exp_a = np.array([math.atan(v) for v in u])
    exp_b = np.array([math.atan2(p, q) for p, q in zip(y, x)])
    assert np.all(np.abs(a - exp_a) <= 4 * np.spacing(np.abs(exp_a)) + 1e-300)
    assert np.all(np.abs(b - exp_b) <= 4 * np.spacing(np.abs(exp_b)) + 1e-300)
    assert b[-11] == 0.0 and b[-10] == 0.0 and b[-9] == math.pi and b[-8] == math.pi / 2


def _batch_case():
    """Overlapping sites of several sizes, one partly outside the raster, one with no
    radius, and two identical sites (a tie every pixel they reach)."""
    t = synthetic_terrain(seed=8, ny=40, nx=44, cell=60.0, dtype=np.int16)
    rng = np.random.default_rng(8)
    n = 9
    sx = t.x_min + rng.uniform(0, 44 * 60.0, n)
    sy = t.y_max - rng.uniform(0, 40 * 60.0, n)
    sx[2], sy[2] = t.x_min - 300.0, t.y_max - 1000.0  # outside the raster, reaching in
    sx[6], sy[6] = sx[4], sy[4]                       # identical to site 4
    sh = rng.uniform(20, 45, n)
    sh[6] = sh[4]
    radii = rng.uniform(400, 1500, n)
    radii[6] = radii[4]
    radii[7] = 0.0
    params = LinkParams(bands=(BandParams(900.0, 31.0, "hata"), BandParams(2600.0, 33.0, "rma")),
                        diffraction="bullington", threshold_dbm=-130.0, rma_los="terrain")
    return t, sx, sy, sh, radii, params


def test_batched_raster_equals_site_by_site(monkeypatch):
    """One batch of all sites, small batches and one site at a time give the same raster
    to the bit (rows are owned by one thread and get their sites in index order), with
    the serial and the parallel kernels; ties go to the lowest site index."""
    from siteplan.coverage import _kernels as CK

    t, sx, sy, sh, radii, params = _batch_case()
    one, s_one = best_server_raster(sx, sy, sh, params, t, 0.0, radii, batch_values=1)
    for limit in (10**12, 0):
        monkeypatch.setattr(CK, "SERIAL_WORK_LIMIT", limit)
        for values in (10**9, 40_000):
            got, s_got = best_server_raster(sx, sy, sh, params, t, 0.0, radii,
                                            batch_values=values)
            assert np.array_equal(got, one) and np.array_equal(s_got, s_one)
    # the reference loop: one call per site, merged in index order with the kernel's rule
    exp = np.full(one.shape, -np.inf)
    exp_s = np.full(one.shape, -1)
    for s in range(sx.size):
        if radii[s] <= 0:
            continue
        r, _ = best_server_raster(sx[s:s + 1], sy[s:s + 1], sh[s:s + 1], params, t, 0.0,
                                  radii[s:s + 1])
        upd = r > exp.astype(np.float32)
        exp[upd], exp_s[upd] = r[upd], s
    assert np.array_equal(np.isfinite(one), np.isfinite(exp))
    np.testing.assert_allclose(one[np.isfinite(exp)], exp[np.isfinite(exp)], rtol=0, atol=1e-4)
    assert np.array_equal(s_one, exp_s)
    assert (s_one == 4).sum() > 20 and not (s_one == 6).any() and not (s_one == 7).any()
    assert (s_one == 2).sum() > 5 and len(np.unique(s_one)) >= 6


def test_raster_does_not_depend_on_thread_count(monkeypatch):
    import numba

    from siteplan.coverage import _kernels as CK

    monkeypatch.setattr(CK, "SERIAL_WORK_LIMIT", 0)
    t, sx, sy, sh, radii, params = _batch_case()
    n0 = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        a, sa = best_server_raster(sx, sy, sh, params, t, 0.0, radii)
    finally:
        numba.set_num_threads(n0)
    b, sb = best_server_raster(sx, sy, sh, params, t, 0.0, radii)
    assert np.array_equal(a, b) and np.array_equal(sa, sb)


def test_raster_kernels_with_jit_disabled(tmp_path):
    """The batch sweep and raster kernels run as plain Python (NUMBA_DISABLE_JIT=1) and
    give the compiled kernels' raster."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    case = r'''
import numpy as np
from siteplan.coverage import BandParams, LinkParams, TerrainGrid, best_server_raster
rng = np.random.default_rng(3)
t = TerrainGrid(rng.uniform(0, 80, (14, 15)).astype(np.int16), 0.0, 14 * 60.0, 60.0)
params = LinkParams(bands=(BandParams(900.0, 31.0, "hata"), BandParams(2600.0, 33.0, "rma")),
                    threshold_dbm=-130.0, rma_los="terrain")
rsrp, srv = best_server_raster([200.0, 600.0, 610.0], [600.0, 300.0, 500.0], [30.0, 25.0, 35.0],
                               params, t, 0.0, [500.0, 450.0, 300.0])
'''
    script = case + "import numba\nassert numba.config.DISABLE_JIT\n" + \
        f"np.savez({str(tmp_path / 'nojit.npz')!r}, rsrp=rsrp, srv=srv)\n"
    env = dict(os.environ, NUMBA_DISABLE_JIT="1", PYTHONPATH=str(root / "src"))
    res = subprocess.run([sys.executable, "-W", "ignore", "-c", script], env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    ns = {}
    exec(case, ns)
    got = np.load(tmp_path / "nojit.npz")
    assert np.array_equal(np.isfinite(got["rsrp"]), np.isfinite(ns["rsrp"]))
    m = np.isfinite(ns["rsrp"])
    assert m.sum() > 50
    np.testing.assert_allclose(got["rsrp"][m], ns["rsrp"][m], rtol=0, atol=1e-4)
    assert np.array_equal(got["srv"], ns["srv"])


def test_ray_last_step_matches_brute_force():
    """The sweep's clipping: last step k <= n_step whose point lies in the box, against a
    scan over k (rays from inside, from outside towards and away from the box, axis
    parallel)."""
    from siteplan.coverage import _kernels as CK

    rng = np.random.default_rng(11)
    nx1, ny1, margin, n_step = 29.0, 19.0, 2.0, 60
    cases = [(rng.uniform(-40, 70), rng.uniform(-40, 60), *(rng.standard_normal(2)))
             for _ in range(3000)]
    cases += [(5.0, 5.0, 0.0, 1.0), (5.0, 5.0, -1.0, 0.0), (-10.0, 5.0, 0.0, 1.0),
              (5.0, 50.0, 1.0, 0.0), (40.0, 5.0, -1.0, 0.0)]
    n_clip = 0
    for fx0, fy0, dfx, dfy in cases:
        got = CK._ray_last_step(fx0, fy0, dfx, dfy, nx1, ny1, margin, n_step)
        exp = 0
        for k in range(1, n_step + 1):
            x, y = fx0 + k * dfx, fy0 + k * dfy
            if -margin <= x <= nx1 + margin and -margin <= y <= ny1 + margin:
                exp = k
        # float rounding at the box's edge may move the last step by one: a larger k
        # (one more sample computed) is harmless; a smaller one must not happen there
        assert got == exp or (got == exp + 1 and abs(
            min(fx0 + got * dfx + margin, nx1 + margin - fx0 - got * dfx,
                fy0 + got * dfy + margin, ny1 + margin - fy0 - got * dfy)) < 1e-9), \
            (fx0, fy0, dfx, dfy, got, exp)
        n_clip += 0 < got < n_step
        assert CK._ray_last_step(fx0, fy0, dfx, dfy, nx1, ny1, np.inf, n_step) == n_step
    assert n_clip > 300


@pytest.mark.parametrize("rma_los", ["terrain", "nlos"])
def test_sweep_clipping_reads_no_unwritten_sample(monkeypatch, rma_los):
    """The sweep stops each radial block where it leaves the raster (plus a margin) and
    writes LOS flags only when RMa terrain LOS reads them: with the polar buffers
    pre-filled with poison (v = 1e30, LOS flag 2) the raster equals, to the bit, the one
    from an unclipped sweep - so no pixel reads a sample that was not computed. Sites
    inside, on the edge, outside reaching in, and outside out of reach."""
    from siteplan.coverage import _kernels as CK
    from siteplan.coverage import raster as R

    t = synthetic_terrain(seed=9, ny=36, nx=41, cell=60.0, dtype=np.int16)
    w, h = 41 * 60.0, 36 * 60.0
    sx = t.x_min + np.array([700.0, -500.0, w + 300.0, 1200.0, w / 2, -3000.0, 30.0, w - 10.0])
    sy = t.y_max - np.array([900.0, 1000.0, 400.0, h + 600.0, h / 2, 500.0, 20.0, h + 40.0])
    radii = np.array([1500.0, 1400.0, 1100.0, 1300.0, 2600.0, 1200.0, 2000.0, 1700.0])
    params = LinkParams(bands=(BandParams(900.0, 31.0, "hata"), BandParams(2600.0, 33.0, "rma")),
                        diffraction="bullington", threshold_dbm=-130.0, rma_los=rma_los)
    real = R._aligned_empty

    def poisoned(n, dtype):
        a = real(n, dtype)
        a[:] = 1e30 if np.dtype(dtype) == np.float32 else 2
        return a

    monkeypatch.setattr(R, "_aligned_empty", poisoned)
    for limit in (10**12, 0):
        monkeypatch.setattr(CK, "SERIAL_WORK_LIMIT", limit)
        monkeypatch.setattr(CK, "SWEEP_CLIP_MARGIN", np.inf)
        full, s_full = best_server_raster(sx, sy, 30.0, params, t, 0.0, radii)
        monkeypatch.setattr(CK, "SWEEP_CLIP_MARGIN", 2.0)
        for values in (10**9, 30_000):
            got, s_got = best_server_raster(sx, sy, 30.0, params, t, 0.0, radii,
                                            batch_values=values)
            assert np.array_equal(got, full) and np.array_equal(s_got, s_full)
    assert np.isfinite(full).all() and len(np.unique(s_full)) >= 6
    # the poison is visible where the margin is too small (the test can fail)
    monkeypatch.setattr(CK, "SWEEP_CLIP_MARGIN", -3.0)
    bad, _ = best_server_raster(sx, sy, 30.0, params, t, 0.0, radii)
    assert not np.array_equal(bad, full)
