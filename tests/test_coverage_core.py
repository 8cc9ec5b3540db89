"""Coverage matrix vs a brute-force evaluation of every pair (tests/naive_propagation.py)
on a small synthetic terrain; pruning exactness; determinism."""

import math
import warnings

import numpy as np
import pytest

import naive_propagation as naive
from siteplan.coverage import BandParams, LinkParams, TerrainGrid, coverage_csr
from siteplan.coverage.core import MAX_PROFILE_SAMPLES, max_useful_distance
from siteplan.units import EARTH_RADIUS_M

pytestmark = pytest.mark.filterwarnings("ignore::siteplan.propagation.ValidityRangeWarning")


def synthetic_terrain(seed=0, ny=60, nx=70, cell=50.0, dtype=np.int16):
    """Two gaussian hills and a ridge over a gently sloping plain (int16 metres)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:ny, 0:nx].astype(float)
    z = 5.0 + 0.3 * xx
    for cy, cx, h, w in ((20, 25, 140.0, 6.0), (40, 50, 90.0, 8.0)):
        z += h * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * w * w))
    z += 60.0 * np.exp(-((xx - 35) ** 2) / 8.0) * (yy > 30)
    z += rng.uniform(0, 3, size=z.shape)
    return TerrainGrid(z.astype(dtype), 500_000.0, 2_600_000.0, cell)


def scenario(seed=1, n_s=7, n_p=80, terrain=None):
    rng = np.random.default_rng(seed)
    t = terrain or synthetic_terrain()
    ny, nx = t.elevation_m.shape
    w, h = nx * t.cell_m, ny * t.cell_m
    sx = t.x_min + rng.uniform(0.05, 0.95, n_s) * w
    sy = t.y_max - rng.uniform(0.05, 0.95, n_s) * h
    sh = rng.uniform(20, 45, n_s)
    px = t.x_min + rng.uniform(0, 1, n_p) * w
    py = t.y_max - rng.uniform(0, 1, n_p) * h
    px[0], py[0] = sx[0], sy[0]  # a point on top of a site
    return t, sx, sy, sh, px, py


def brute_force(t, sx, sy, sh, px, py, params, ploss, use_terrain=True):
    step = params.profile_step_m or t.cell_m
    max_n = int(min(MAX_PROFILE_SAMPLES, math.ceil(params.max_range_m / step) + 1))
    ae = params.k_factor * EARTH_RADIUS_M
    bands = [(b.frequency_mhz, b.rs_eirp_dbm,
              {"auto": "hata" if b.frequency_mhz < 1500 else
               ("cost231" if b.frequency_mhz <= 2000 else "rma")}.get(b.model, b.model))
             for b in params.bands]
    terr = (t.elevation_m, t.x_min, t.y_max, t.cell_m) if use_terrain else None
    dense = np.full((len(px), len(sx)), -np.inf)
    for s in range(len(sx)):
        for j in range(len(px)):
            if math.hypot(px[j] - sx[s], py[j] - sy[s]) > params.max_range_m:
                continue
            dense[j, s] = naive.pair_rsrp(
                sx[s], sy[s], sh[s], px[j], py[j], ploss[j], bands, params.environment,
                params.mobile_height_m, params.shadow_margin_db, params.azimuths_deg,
                params.downtilt_deg, params.h_beamwidth_deg, params.v_beamwidth_deg,
                params.front_to_back_db, params.sla_v_db, params.gain_dbi, terr,
                params.diffraction, ae, step, max_n, params.rma_los,
                params.deygout_max_depth)
    return dense


BAND_SETS = {
    "hata900": (BandParams(900.0, 31.0, "auto"),),
    "cost1800+hata900": (BandParams(1850.0, 32.0, "cost231"), BandParams(900.0, 28.0, "hata")),
    "rma2600": (BandParams(2600.0, 33.0, "auto"),),
}


@pytest.mark.parametrize("method", ["bullington", "deygout", "epstein_peterson", "none"])
@pytest.mark.parametrize("bands", sorted(BAND_SETS))
def test_matrix_equals_brute_force(method, bands):
    _brute_force_case(method, bands, "nlos")


@pytest.mark.parametrize("rma_los", ["los", "terrain"])
def test_matrix_equals_brute_force_rma_los_modes(rma_los):
    _brute_force_case("bullington", "rma2600", rma_los)


def _brute_force_case(method, bands, rma_los):
    t, sx, sy, sh, px, py = scenario()
    ploss = np.where(np.arange(len(px)) % 3 == 0, 6.0, 0.0)
    params = LinkParams(bands=BAND_SETS[bands], threshold_dbm=-100.0, diffraction=method,
                        max_range_m=2500.0, shadow_margin_db=8.0, rma_los=rma_los)
    mat, info = coverage_csr(sx, sy, sh, px, py, params, t, ploss)
    dense = brute_force(t, sx, sy, sh, px, py, params, ploss)
    expected = dense >= params.threshold_dbm
    got = mat.toarray() != 0
    # pairs exactly at the threshold within float tolerance are ambiguous
    near = np.abs(dense - params.threshold_dbm) < 1e-6
    assert np.array_equal(got | near, expected | near)
    assert expected.sum() > 5 and (~expected).sum() > 5  # the test has both outcomes
    np.testing.assert_allclose(mat.toarray()[got], dense[got].astype(np.float32), atol=1e-4)
    assert mat.dtype == np.float32 and mat.shape == (len(px), len(sx))
    assert info["n_pairs"] == mat.nnz


def test_no_terrain_flat_ground():
    t, sx, sy, sh, px, py = scenario(seed=5)
    params = LinkParams(bands=BAND_SETS["hata900"], threshold_dbm=-95.0, max_range_m=4000.0)
    mat, _ = coverage_csr(sx, sy, sh, px, py, params, None, 0.0)
    dense = brute_force(t, sx, sy, sh, px, py, params, np.zeros(len(px)), use_terrain=False)
    np.testing.assert_array_equal(mat.toarray() != 0, dense >= -95.0)


@pytest.mark.parametrize("rma_los", ["nlos", "terrain"])
@pytest.mark.parametrize("bands", sorted(BAND_SETS))
def test_pruning_is_exact(bands, rma_los):
    t, sx, sy, sh, px, py = scenario(seed=3, n_s=9, n_p=150)
    params = LinkParams(bands=BAND_SETS[bands], threshold_dbm=-92.0, max_range_m=3000.0,
                        rma_los=rma_los)
    a, ia = coverage_csr(sx, sy, sh, px, py, params, t, 2.0, prune=True)
    b, ib = coverage_csr(sx, sy, sh, px, py, params, t, 2.0, prune=False)
    assert ia["n_candidates"] < ib["n_candidates"]  # pruning removed work
    assert (a != b).nnz == 0


def test_max_useful_distance_is_the_inverted_budget():
    # free space, 0 dBi, no margins: EIRP 30 dBm, threshold -80 dBm -> L = 110 dB at
    # d = 10^((110 - 32.4478 - 20 log10 900) / 20) km = 8.39 km (P.525 inverted).
    params = LinkParams(bands=(BandParams(900.0, 30.0, "free_space"),), threshold_dbm=-80.0,
                        shadow_margin_db=0.0, max_range_m=50_000.0)
    r = max_useful_distance([30.0], params)[0]
    expected = 1000 * 10 ** ((110.0 - float(naive.fspl(1000.0, 900.0))) / 20.0)
    assert r == pytest.approx(expected, rel=1e-6)
    capped = max_useful_distance([30.0], LinkParams(bands=params.bands, threshold_dbm=-200.0,
                                                    shadow_margin_db=0.0, max_range_m=5000.0))
    assert capped[0] == 5000.0
    none = max_useful_distance([30.0], LinkParams(bands=params.bands, threshold_dbm=40.0))
    assert none[0] == 0.0


def test_deterministic_across_chunking_and_threads():
    import numba

    t, sx, sy, sh, px, py = scenario(seed=9, n_s=11, n_p=120)
    params = LinkParams(bands=BAND_SETS["hata900"], threshold_dbm=-105.0, max_range_m=3000.0)
    a, _ = coverage_csr(sx, sy, sh, px, py, params, t, 0.0, chunk_sites=256)
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        b, _ = coverage_csr(sx, sy, sh, px, py, params, t, 0.0, chunk_sites=3)
    finally:
        numba.set_num_threads(old)
    assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
    assert np.array_equal(a.data, b.data)


def test_progress_bar_only_when_asked_or_on_a_terminal(capsys):
    t, sx, sy, sh, px, py = scenario(seed=2, n_s=4, n_p=20)
    params = LinkParams(bands=BAND_SETS["hata900"], max_range_m=2000.0)
    coverage_csr(sx, sy, sh, px, py, params, t, 0.0)  # stderr is not a terminal under pytest
    assert capsys.readouterr().err == ""
    coverage_csr(sx, sy, sh, px, py, params, t, 0.0, progress=True)
    assert "coverage" in capsys.readouterr().err
