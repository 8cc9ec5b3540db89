"""build_coverage on a scenario (tests/scenario_factory.py) vs brute force, and the
'siteplan coverage' command."""

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

import naive_propagation as naive
import siteplan
from siteplan.cli import main
from siteplan.coverage import CoverageMatrix, build_coverage
from siteplan.coverage.core import MAX_PROFILE_SAMPLES
from siteplan.exceptions import InputError
from siteplan.units import EARTH_RADIUS_M
from scenario_factory import make_scenario

pytestmark = pytest.mark.filterwarnings("ignore::siteplan.propagation.ValidityRangeWarning")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    folder = make_scenario(tmp_path_factory.mktemp("scen") / "unit")
    return siteplan.read_scenario(folder), folder


def _auto(f):
    return "hata" if f < 1500 else ("cost231" if f <= 2000 else "rma")


@pytest.mark.parametrize("use_terrain", [True, False])
def test_build_coverage_equals_brute_force(scenario, use_terrain):
    sc, _ = scenario
    threshold = -125.0  # low enough that the 4 x 4 unit scenario has pairs on both sides
    cm = siteplan.build_coverage(sc, terrain=use_terrain, threshold_dbm=threshold)
    assert cm.operators == sc.operator_names
    t = sc.terrain
    terr = (np.asarray(t.elevation_m), t.x_min, t.y_max, t.cell_m) if use_terrain else None
    ae = sc.radio.k_factor * EARTH_RADIUS_M
    max_n = int(min(MAX_PROFILE_SAMPLES, math.ceil(sc.radio.max_range_m / t.cell_m) + 1))
    s, d = sc.sites, sc.demand
    both = [0, 0]
    for op in sc.operators:
        dense = np.full((len(d), len(s)), -np.inf)
        bands = [(b.frequency_mhz, b.rs_eirp_dbm, _auto(b.frequency_mhz)) for b in op.bands]
        for k in range(len(s)):
            h = min(op.antenna_height_m, s.height_m[k])
            for j in range(len(d)):
                dense[j, k] = naive.pair_rsrp(
                    s.x_m[k], s.y_m[k], h, d.x_m[j], d.y_m[j], sc.radio.penetration_db, bands,
                    sc.radio.environment, sc.radio.mobile_height_m, sc.radio.shadow_margin_db,
                    op.azimuths_deg, op.downtilt_deg, op.h_beamwidth_deg, op.v_beamwidth_deg,
                    op.front_to_back_db, 20.0, 0.0, terr,
                    sc.radio.diffraction if use_terrain else "none", ae, t.cell_m, max_n)
        got = cm[op.name].toarray()
        keep = dense >= threshold
        assert np.array_equal(got != 0, keep)
        np.testing.assert_allclose(got[keep], dense[keep], atol=1e-4)
        both[0] += keep.sum()
        both[1] += (~keep).sum()
    assert both[0] > 0 and both[1] > 0


def test_row_and_column_ids(scenario):
    sc, _ = scenario
    cm = build_coverage(sc, operators=["B"])
    assert cm.operators == ("B",)
    assert list(cm.col_ids) == list(sc.sites.id)
    assert list(cm.row_ids) == ["V1#0", "V1#1", "V2#0", "V3#0"]
    assert cm["B"].shape == (len(sc.demand), len(sc.sites))
    assert cm.params["operators"]["B"]["threshold_dbm"] == sc.operators[1].threshold_dbm


def test_threshold_and_hash(scenario):
    sc, _ = scenario
    a = build_coverage(sc, threshold_dbm=-100.0)
    b = build_coverage(sc, threshold_dbm=-120.0)
    assert a.params_hash != b.params_hash
    for op in a.operators:
        assert a[op].nnz <= b[op].nnz
        assert np.all(a[op].data >= -100.0) and np.all(b[op].data >= -120.0)
    again = build_coverage(sc, threshold_dbm=-100.0)
    assert again.params_hash == a.params_hash


def test_unknown_operator_is_an_input_error(scenario):
    sc, _ = scenario
    with pytest.raises(InputError, match="unknown operator"):
        build_coverage(sc, operators=["Z"])


def test_cli_coverage_writes_matrix_and_raster(scenario, tmp_path):
    _, folder = scenario
    out = tmp_path / "cov"
    res = CliRunner().invoke(main, ["coverage", str(folder), "--out", str(out), "--raster",
                                    str(tmp_path / "best.tif"), "--threshold-dbm", "-120"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    cm = CoverageMatrix.load(out)
    assert summary["params_hash"] == cm.params_hash
    assert summary["operators"]["A"]["pairs"] == cm["A"].nnz
    assert (tmp_path / "best.tif").stat().st_size > 0


def test_cli_bad_scenario_exits_2(tmp_path):
    res = CliRunner().invoke(main, ["coverage", str(tmp_path / "nope"), "--out",
                                    str(tmp_path / "x")])
    assert res.exit_code == 2
    assert "error:" in res.output
