"""apply_variation: thresholds, quotas, budgets, candidate pool; never in place (issue 7, "Many plans")."""

import csv
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from naive_batch import naive_kept_candidates, naive_table_counts
from scenario_factory import SITES, VILLAGES, make_scenario
from siteplan import read_scenario
from siteplan.batch import BatchError, Variation, apply_variation, kept_candidates, validate_job
from siteplan.model.params import Quota

MANY_SITES = SITES + "".join(
    f"C{i:02d},116.{700 + i:03d},23.39{i % 10},candidate,30,,,\n" for i in range(3, 23))


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    return read_scenario(make_scenario(tmp_path_factory.mktemp("var") / "s", **{"sites.csv": MANY_SITES}))


def _snapshot(s):
    return (s.manifest.model_dump(), {f: getattr(s.sites, f).copy() for f in ("id", "existing", "tenants")})


def _same(a, b):
    assert a[0] == b[0]
    for k in a[1]:
        np.testing.assert_array_equal(a[1][k], b[1][k])


def test_threshold_for_all_and_per_operator(scenario):
    before = _snapshot(scenario)
    s_all = apply_variation(scenario, Variation(threshold_dbm=-100))
    assert [o.threshold_dbm for o in s_all.operators] == [-100.0, -100.0]
    s_a = apply_variation(scenario, {"threshold_dbm": {"B": -95.5}})
    assert {o.name: o.threshold_dbm for o in s_a.operators} == {"A": -110.0, "B": -95.5}
    # everything else identical; the input untouched
    assert s_a.operators[0] == scenario.operators[0]
    assert s_a.sites is scenario.sites and s_a.villages is scenario.villages
    _same(before, _snapshot(scenario))


def test_quotas_and_budgets_per_phase(scenario):
    s = apply_variation(scenario, {"new_stations": {"p2": 2}, "new_sites": {"p1": [0, 1]},
                                   "budget_cny": {"p1": 1.5e6}})
    p1, p2 = s.phases
    assert p2.new_stations == Quota(min=2, max=2) and p1.new_sites == Quota(min=0, max=1)
    assert p1.budget_cny == 1.5e6 and p2.budget_cny is None
    assert p1.new_stations == scenario.phases[0].new_stations and p1.targets == scenario.phases[0].targets
    s2 = apply_variation(s, {"budget_cny": {"p1": "none"}})
    assert s2.phases[0].budget_cny is None and s.phases[0].budget_cny == 1.5e6


def test_option_fields_leave_the_scenario_alone(scenario):
    s = apply_variation(scenario, {"solver": "highs", "gap": 0.1, "time_limit_s": 5, "seed": 3})
    assert s.manifest == scenario.manifest and s.sites is scenario.sites


def _site_rows():
    return list(csv.DictReader(io.StringIO(MANY_SITES)))


@pytest.mark.parametrize("fraction, seed, exclude", [
    (1.0, 0, ()), (0.5, 0, ()), (0.5, 7, ()), (0.25, 3, ("C1", "C05")), (0.04, 0, ()), (1.0, 0, ("C2",)),
])
def test_candidate_pool_matches_naive(scenario, fraction, seed, exclude):
    before = _snapshot(scenario)
    s = apply_variation(scenario, {"candidates": {"keep_fraction": fraction, "seed": seed, "exclude": list(exclude)}})
    expected = naive_kept_candidates(_site_rows(), fraction, seed, exclude)
    assert set(s.sites.id.tolist()) == expected
    # rows keep their order and every column follows the subset
    idx = [scenario.sites.id.tolist().index(i) for i in s.sites.id.tolist()]
    assert idx == sorted(idx)
    for col in ("x_m", "y_m", "existing", "height_m", "build_cost", "max_tenants", "tenants"):
        np.testing.assert_array_equal(getattr(s.sites, col), getattr(scenario.sites, col)[idx])
    assert not s.sites.id.flags.writeable
    _same(before, _snapshot(scenario))


@settings(max_examples=40, deadline=None)
@given(n_cand=st.integers(0, 30), n_exist=st.integers(0, 5), fraction=st.floats(0.01, 1.0), seed=st.integers(0, 10**6))
def test_kept_candidates_property(n_cand, n_exist, fraction, seed):
    rows = [{"id": f"E{i}", "kind": "existing"} for i in range(n_exist)] + \
           [{"id": f"K{i}", "kind": "candidate"} for i in range(n_cand)]
    mask = kept_candidates([r["id"] for r in rows], [r["kind"] == "existing" for r in rows], fraction, seed)
    kept = {r["id"] for r, m in zip(rows, mask) if m}
    assert kept == naive_kept_candidates(rows, fraction, seed)
    assert int(mask.sum()) == n_exist + round(fraction * n_cand)


@pytest.mark.parametrize("variation, key, rule", [
    ({"threshold_dbm": {"Z": -100}}, "threshold_dbm.Z", "unknown operator"),
    ({"new_sites": {"p9": 1}}, "new_sites.p9", "unknown phase"),
    ({"budget_cny": {"p9": 1.0}}, "budget_cny.p9", "unknown phase"),
    ({"candidates": {"exclude": ["NOPE"]}}, "candidates.exclude", "unknown site id"),
    ({"candidates": {"exclude": ["S1"]}}, "candidates.exclude", "existing site cannot leave"),
    ({"threshold_dbm": -10}, "threshold_dbm", "less than or equal to -40"),
])
def test_bad_variation_names_key_and_value(scenario, variation, key, rule):
    with pytest.raises(BatchError) as ei:
        apply_variation(scenario, variation)
    assert f"'{key}'" in str(ei.value) and rule in str(ei.value)


def test_validate_job_figures_match_naive_counts(scenario, tmp_path):
    import json

    naive = naive_table_counts(VILLAGES, MANY_SITES)
    s = apply_variation(scenario, {"candidates": {"keep_fraction": 0.5, "seed": 1}, "threshold_dbm": -101.0})
    figures = validate_job(s, {"gap": 0.1}, tmp_path)
    for k in ("villages", "poor_villages", "rural_villages", "population", "existing_sites"):
        assert figures[k] == naive[k], k
    assert figures["candidate_sites"] == round(0.5 * naive["candidate_sites"])
    assert figures["threshold_dbm"] == {"A": -101.0, "B": -101.0}
    assert figures["phases"]["p1"]["new_sites"] == [1, 1] and figures["phases"]["p2"]["new_stations"] == [0, 2]
    assert figures["site_quota_feasible"] is True
    doc = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert doc["figures"] == figures and doc["options"] == {"gap": 0.1}
    # a pool smaller than the summed minimum site quota is flagged
    tiny = apply_variation(scenario, {"candidates": {"keep_fraction": 0.01}})
    assert validate_job(tiny, {}, tmp_path)["site_quota_feasible"] is False
