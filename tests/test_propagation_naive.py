"""Fast kernels against the naive pure-numpy twins (tests/naive_propagation.py) on
random inputs (hypothesis)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import naive_propagation as naive
from siteplan.propagation import (
    cost231_loss,
    diffraction_loss,
    diffraction_loss_dem,
    free_space_loss,
    hata_loss,
    knife_edge_loss,
    rma_loss,
    sample_elevation,
    sector_gain,
    terrain_profile,
)
from siteplan.propagation.terrain import DIFFRACTION_METHODS

pytestmark = pytest.mark.filterwarnings("ignore::siteplan.propagation.ValidityRangeWarning")

SETTINGS = settings(max_examples=60, deadline=None)
fin = dict(allow_nan=False, allow_infinity=False)


@SETTINGS
@given(st.floats(1.0, 1e5, **fin), st.floats(50.0, 6000.0, **fin))
def test_free_space_twin(d, f):
    assert free_space_loss(d, f) == pytest.approx(float(naive.fspl(d, f)), abs=1e-9)


@SETTINGS
@given(st.floats(100.0, 40000.0, **fin), st.floats(100.0, 2500.0, **fin),
       st.floats(5.0, 250.0, **fin), st.floats(0.5, 12.0, **fin),
       st.sampled_from(["urban_small", "urban_large", "suburban", "open"]))
def test_hata_twin(d, f, hb, hm, env):
    assert hata_loss(d, f, hb, hm, env) == pytest.approx(float(naive.hata(d, f, hb, hm, env)),
                                                          abs=1e-9)


@SETTINGS
@given(st.floats(100.0, 40000.0, **fin), st.floats(1000.0, 2500.0, **fin),
       st.floats(5.0, 250.0, **fin), st.floats(0.5, 12.0, **fin), st.booleans())
def test_cost231_twin(d, f, hb, hm, metro):
    assert cost231_loss(d, f, hb, hm, metro) == pytest.approx(
        float(naive.cost231(d, f, hb, hm, metro)), abs=1e-9)


@SETTINGS
@given(st.floats(1.0, 20000.0, **fin), st.floats(500.0, 7000.0, **fin),
       st.floats(10.0, 150.0, **fin), st.floats(1.0, 9.0, **fin), st.booleans(),
       st.floats(5.0, 50.0, **fin), st.floats(5.0, 50.0, **fin))
def test_rma_twin(d, f, hb, hm, los, h, w):
    assert rma_loss(d, f, hb, hm, los, h, w) == pytest.approx(
        naive.rma(d, f, hb, hm, los, h, w), abs=1e-9)


@SETTINGS
@given(st.lists(st.floats(-5.0, 10.0, **fin), min_size=1, max_size=20))
def test_knife_edge_twin(vs):
    np.testing.assert_allclose(knife_edge_loss(vs), [naive.J(v) for v in vs], atol=1e-12)


def test_broadcasting_matrix_matches_loop():
    d = np.array([[1500.0, 3000.0, 8000.0]])
    hb = np.array([[30.0], [45.0]])
    got = hata_loss(d, 900.0, hb, 1.5, "suburban")
    assert got.shape == (2, 3)
    for i in range(2):
        for j in range(3):
            assert got[i, j] == pytest.approx(float(naive.hata(d[0, j], 900.0, hb[i, 0], 1.5,
                                                               "suburban")))


@st.composite
def profiles(draw):
    n = draw(st.integers(3, 40))
    steps = draw(st.lists(st.floats(5.0, 500.0, **fin), min_size=n - 1, max_size=n - 1))
    dist = np.concatenate([[0.0], np.cumsum(steps)])
    elev = np.array(draw(st.lists(st.floats(0.0, 400.0, **fin), min_size=n, max_size=n)))
    ht = draw(st.floats(0.0, 80.0, **fin))
    hr = draw(st.floats(0.0, 20.0, **fin))
    f = draw(st.floats(100.0, 3000.0, **fin))
    ae = draw(st.sampled_from([math.inf, 8_494_667.0, 6_371_000.0]))
    return dist, elev, ht, hr, f, ae


@pytest.mark.parametrize("method", sorted(DIFFRACTION_METHODS))
@settings(max_examples=80, deadline=None)
@given(p=profiles())
def test_diffraction_twin(method, p):
    dist, elev, ht, hr, f, ae = p
    got = diffraction_loss(dist, elev, ht, hr, f, method, ae)
    hts, hrs = elev[0] + ht, elev[-1] + hr
    if method == "bullington":
        exp = naive.bullington(dist, elev, hts, hrs, f, ae)
    elif method == "deygout":
        exp = naive.deygout(dist, elev, hts, hrs, f, ae, 2)
    else:
        exp = naive.epstein_peterson(dist, elev, hts, hrs, f, ae)
    assert math.isfinite(got) and got >= 0.0
    assert got == pytest.approx(exp, rel=1e-7, abs=1e-7)


@settings(max_examples=40, deadline=None)
@given(p=profiles(), depth=st.integers(1, 6))
def test_deygout_depth_twin(p, depth):
    dist, elev, ht, hr, f, ae = p
    got = diffraction_loss(dist, elev, ht, hr, f, "deygout", ae, max_depth=depth)
    exp = naive.deygout(dist, elev, elev[0] + ht, elev[-1] + hr, f, ae, depth)
    assert got == pytest.approx(exp, rel=1e-7, abs=1e-7)


@pytest.mark.parametrize("method", sorted(DIFFRACTION_METHODS))
def test_batch_form_equals_single(method):
    rng = np.random.default_rng(3)
    dist = np.tile(np.linspace(0.0, 5000.0, 30), (12, 1))
    elev = rng.uniform(0, 150, size=(12, 30))
    ht = rng.uniform(10, 50, 12)
    batch = diffraction_loss(dist, elev, ht, 1.5, 900.0, method)
    single = [diffraction_loss(dist[k], elev[k], ht[k], 1.5, 900.0, method) for k in range(12)]
    np.testing.assert_allclose(batch, single, rtol=0, atol=0)
    assert np.any(batch > 0)


def test_flat_earth_and_obstacle_free_path_has_no_loss():
    d = np.linspace(0, 10000, 50)
    for m in DIFFRACTION_METHODS:
        assert diffraction_loss(d, np.zeros(50), 30.0, 30.0, 900.0, m, np.inf) == 0.0


def test_earth_curvature_adds_loss_on_smooth_earth():
    # 80 km over a smooth sea-level earth, 100 m antennas, 900 MHz. Flat: the ray is
    # 100 m up, v = -100 sqrt(2 d / (lam d1 d2)) = -1.7 < -0.78 -> no loss. Curved
    # (a_e = 8494.7 km): mid-path bulge 40e3^2 / (2 a_e) = 94.2 m, the ray clears it by
    # 5.8 m only, v = -0.10 -> J = 5.2 dB plus the final Bullington term.
    d = np.linspace(0, 80000, 801)
    curved = diffraction_loss(d, np.zeros(801), 100.0, 100.0, 900.0, "bullington")
    flat = diffraction_loss(d, np.zeros(801), 100.0, 100.0, 900.0, "bullington", np.inf)
    assert flat == 0.0
    assert curved > 5.0


def _dem(rng, ny=40, nx=50, dtype=np.float32):
    z = rng.uniform(0, 200, size=(ny, nx))
    return z.astype(dtype)


@pytest.mark.parametrize("dtype", [np.int16, np.float32])
@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(3, 60))
def test_profile_extraction_twin(dtype, seed, n):
    rng = np.random.default_rng(seed)
    dem = _dem(rng, dtype=dtype)
    x_min, y_max, cell = 1000.0, 9000.0, 30.0
    x0, x1 = rng.uniform(x_min - 100, x_min + 50 * cell + 100, 2)
    y0, y1 = rng.uniform(y_max - 40 * cell - 100, y_max + 100, 2)
    d, e = terrain_profile(dem, x_min, y_max, cell, x0, y0, x1, y1, n)
    dn, en = naive.profile(dem, x_min, y_max, cell, x0, y0, x1, y1, n)
    np.testing.assert_allclose(d, dn, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(e, en, rtol=1e-9, atol=1e-6)
    pts = sample_elevation(dem, x_min, y_max, cell, [x0, x1], [y0, y1])
    np.testing.assert_allclose(pts, naive.bilinear(dem, x_min, y_max, cell, [x0, x1], [y0, y1]),
                               atol=1e-6)


@pytest.mark.parametrize("method", sorted(DIFFRACTION_METHODS))
def test_dem_on_the_fly_equals_extracted_profiles(method):
    rng = np.random.default_rng(11)
    dem = _dem(rng, dtype=np.int16)
    x_min, y_max, cell = 0.0, 1200.0, 30.0
    m = 25
    tx = rng.uniform(0, 1500, (m, 2))
    rx = rng.uniform(0, 1200, (m, 2))
    got = diffraction_loss_dem(dem, x_min, y_max, cell, tx[:, 0], tx[:, 1], 25.0, rx[:, 0],
                               rx[:, 1], 1.5, 1800.0, 41, method)
    d, e = terrain_profile(dem, x_min, y_max, cell, tx[:, 0], tx[:, 1], rx[:, 0], rx[:, 1], 41)
    exp = diffraction_loss(d, e, 25.0, 1.5, 1800.0, method)
    np.testing.assert_allclose(got, exp, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("n", [3, 4, 17, 18, 19, 41, 200])
def test_bullington_fast_path_equals_general_profile(n):
    """The on-the-fly Bullington kernel (paths visited in DEM-tile order, vectorised
    running maxima, sample counts below and above the running maximum's distance)
    against the general profile kernel on the extracted profiles, path by path; many
    paths over a DEM of several locality tiles, some ending outside it (clamped)."""
    rng = np.random.default_rng(n)
    dem = _dem(rng, ny=300, nx=260, dtype=np.int16)
    x_min, y_max, cell = 500.0, 9500.0, 30.0
    m = 400
    tx = np.column_stack([rng.uniform(x_min - 200, x_min + 260 * cell + 200, m),
                          rng.uniform(y_max - 300 * cell - 200, y_max + 200, m)])
    rx = tx + rng.uniform(-3000, 3000, (m, 2))
    rx[0] = tx[0]  # a zero-length path
    got = diffraction_loss_dem(dem, x_min, y_max, cell, tx[:, 0], tx[:, 1], 25.0, rx[:, 0],
                               rx[:, 1], 1.5, 900.0, n)
    d, e = terrain_profile(dem, x_min, y_max, cell, tx[:, 0], tx[:, 1], rx[:, 0], rx[:, 1], n)
    exp = diffraction_loss(d[1:], e[1:], 25.0, 1.5, 900.0)  # (needs increasing distances)
    np.testing.assert_allclose(got[1:], exp, rtol=1e-10, atol=1e-10)
    assert got[0] == 0.0 and np.any(got > 1.0)


def test_bullington_dem_chunks_equal_one_call(monkeypatch):
    """The wrapper calls the on-the-fly kernel in chunks of paths (bounded scratch): a
    chunk size that does not divide the path count gives the one-call result exactly."""
    import siteplan.propagation.terrain as T

    rng = np.random.default_rng(11)
    dem = _dem(rng, ny=200, nx=180, dtype=np.int16)
    tx = rng.uniform(600, 5000, (333, 2))
    rx = tx + rng.uniform(-2500, 2500, (333, 2))
    args = (dem, 500.0, 6500.0, 30.0, tx[:, 0], tx[:, 1], 30.0, rx[:, 0], rx[:, 1], 1.5,
            900.0, 64)
    whole = diffraction_loss_dem(*args)
    monkeypatch.setattr(T, "BULLINGTON_CHUNK_PATHS", 50)
    chunked = diffraction_loss_dem(*args)
    np.testing.assert_array_equal(chunked, whole)
    assert np.count_nonzero(whole > 0.5) > 10


@SETTINGS
@given(st.floats(-720, 720, **fin), st.floats(-90, 90, **fin), st.floats(0, 360, **fin),
       st.floats(-5, 15, **fin), st.floats(20, 120, **fin), st.floats(3, 30, **fin),
       st.floats(10, 40, **fin), st.floats(10, 30, **fin), st.floats(0, 20, **fin))
def test_sector_gain_twin(b, dep, az, tilt, hbw, vbw, am, slav, g):
    got = sector_gain(b, dep, az, tilt, hbw, vbw, am, slav, g)
    assert got == pytest.approx(naive.sector_gain(b, dep, az, tilt, hbw, vbw, am, slav, g),
                                abs=1e-9)
    assert g - am - 1e-9 <= got <= g + 1e-12


@pytest.mark.parametrize("model", ["free_space", "hata", "cost231", "rma"])
@pytest.mark.parametrize("los", [False, True])
def test_path_loss_matrix_twin(model, los):
    from siteplan.propagation import path_loss_matrix

    rng = np.random.default_rng(7)
    sx, sy = rng.uniform(0, 9000, 6), rng.uniform(0, 9000, 6)
    hb = rng.uniform(25, 60, 6)
    px, py = rng.uniform(0, 9000, 15), rng.uniform(0, 9000, 15)
    px[0], py[0] = sx[0], sy[0]  # zero distance -> floored at 1 m
    f = {"free_space": 900.0, "hata": 900.0, "cost231": 1850.0, "rma": 2600.0}[model]
    got = path_loss_matrix(model, sx, sy, hb, px, py, 1.5, f, "urban_large", los)
    got32 = path_loss_matrix(model, sx, sy, hb, px, py, 1.5, f, "urban_large", los,
                             dtype=np.float32)
    assert got.dtype == np.float64 and got32.dtype == np.float32
    for s in range(6):
        for p in range(15):
            d = max(math.hypot(px[p] - sx[s], py[p] - sy[s]), 1.0)
            exp = naive.model_loss(model, "urban_large", d, f, hb[s], 1.5, los)
            assert got[s, p] == pytest.approx(exp, abs=1e-9)
            # documented float32 tolerance
            assert abs(float(got32[s, p]) - exp) <= 2e-4


@pytest.mark.parametrize("model", ["free_space", "hata", "cost231", "rma"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_path_loss_matrix_serial_and_parallel_agree(monkeypatch, model, dtype):
    """Small inputs run the serial twin (no thread start-up); both give the same bits,
    and float32 stays within 2e-4 dB of float64 over 1 m - 100 km."""
    from siteplan.propagation import _kernels as K
    from siteplan.propagation import path_loss_matrix

    rng = np.random.default_rng(11)
    sx, sy = rng.uniform(0, 1e5, 30), rng.uniform(0, 1e5, 30)
    hb = rng.uniform(10, 150, 30)
    px, py = rng.uniform(0, 1e5, 400), rng.uniform(0, 1e5, 400)
    px[:30], py[:30] = sx + rng.uniform(-1, 1, 30), sy  # below and around the 1 m floor
    f = {"free_space": 900.0, "hata": 900.0, "cost231": 1850.0, "rma": 2600.0}[model]
    args = (model, sx, sy, hb, px, py, 1.5, f, "suburban", False)
    monkeypatch.setattr(K, "SERIAL_PAIRS_LIMIT", 10**12)
    a = path_loss_matrix(*args, dtype=dtype)
    monkeypatch.setattr(K, "SERIAL_PAIRS_LIMIT", 0)
    b = path_loss_matrix(*args, dtype=dtype)
    assert a.dtype == dtype and np.array_equal(a, b)
    ref = path_loss_matrix(*args)
    assert np.max(np.abs(a - ref)) <= (2e-4 if dtype == np.float32 else 0.0)


def test_path_loss_matrix_rejects_other_dtypes():
    from siteplan.propagation import PropagationInputError, path_loss_matrix

    with pytest.raises(PropagationInputError, match="dtype"):
        path_loss_matrix("hata", [0.0], [0.0], [30.0], [1000.0], [0.0], 1.5, 900.0,
                         dtype=np.float16)


@SETTINGS
@given(st.lists(st.floats(1.0, 3e38, **fin), min_size=1, max_size=50))
def test_vectorised_log10_f32_twin(xs):
    from siteplan.propagation import _kernels as K

    x = np.array(xs, dtype=np.float32)
    x = np.maximum(x, np.float32(1.0))
    out = np.empty_like(x)
    K._log10_rows_f32_kernel(x, out)
    ref = np.log10(x.astype(np.float64))
    # a few float32 ulp of the result (absolute near log10 = 0)
    tol = 4 * np.spacing(np.maximum(np.float32(1.0), np.abs(ref).astype(np.float32)))
    assert np.all(np.abs(out - ref) <= tol), np.max(np.abs(out - ref) / tol)


@SETTINGS
@given(st.lists(st.floats(1.0, 1e300, **fin), min_size=1, max_size=50))
def test_vectorised_log10_twin(xs):
    from siteplan.propagation import _kernels as K

    x = np.array(xs)
    out = np.empty_like(x)
    K._log10_rows_kernel(x, out)
    ref = np.log10(x)
    tol = 4e-15 * np.maximum(1.0, np.abs(ref))
    assert np.all(np.abs(out - ref) <= tol), np.max(np.abs(out - ref) / tol)
