"""The planning pipeline end to end on the tiny preset: outputs, determinism, the
independent checker (and that it catches hand-edited plans), exit codes, out-dir safety."""

import copy
import json
import shutil

import pytest
from click.testing import CliRunner

from siteplan.check import check_plan
from siteplan.cli import main
from siteplan.generate import generate_scenario
from siteplan.io.scenario import read_scenario
from siteplan.pipeline import plan, write_plan

OUTPUTS = {"plan.json", "stations.csv", "sites.csv", "villages.csv", "fiber.csv", "plan.geojson", "plan.kml",
           "coverage.tif", "report.html", "run.json", ".siteplan-output"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return generate_scenario("tiny", 1, tmp_path_factory.mktemp("tiny") / "scenario")


@pytest.fixture(scope="module")
def planned(tiny, tmp_path_factory):
    out = tmp_path_factory.mktemp("plan") / "out"
    p = plan(tiny, progress=False)
    write_plan(p, out)
    return p, out


def test_pipeline_writes_every_output_and_meets_quotas(planned):
    p, out = planned
    assert OUTPUTS <= {f.name for f in out.iterdir()}
    assert (out / "figures").is_dir() and any((out / "figures").iterdir())
    d = json.loads((out / "plan.json").read_text())
    assert d["status"] in ("optimal", "feasible")
    for ph, spec in zip(d["phases"], p.scenario.phases):
        assert spec.new_sites.min <= ph["new_sites"] <= spec.new_sites.max
        assert spec.new_stations.min <= ph["new_stations"] <= spec.new_stations.max
    assert d["siting"]["gap"] is not None and d["siting"]["gap"] <= 0.01
    assert d["fiber"]["status"] in ("optimal", "feasible")


def test_checker_passes_on_the_plan(planned, tiny):
    _, out = planned
    res = CliRunner().invoke(main, ["check", str(tiny), str(out)])
    assert res.exit_code == 0, res.output
    assert res.output.startswith("ok:")


def test_same_seed_gives_byte_identical_plan_json(planned, tiny, tmp_path):
    _, out = planned
    write_plan(plan(tiny, progress=False), tmp_path / "again", raster=False)
    assert (tmp_path / "again" / "plan.json").read_bytes() == (out / "plan.json").read_bytes()


def _first_new(d, key="stations"):
    return next(i for i, s in enumerate(d[key]) if s.get("new"))


def _mut_drop_station(d):
    first = d["phases"][0]["name"]          # an exact quota in the tiny preset
    i = next(i for i, s in enumerate(d["stations"]) if s.get("new") and s["phase"] == first)
    site = d["stations"][i]["site"]
    del d["stations"][i]
    d["phases"][0]["new_stations"] -= 1     # keep the summary consistent: only the quota is broken
    assert site


def _mut_station_before_site(d):
    built = {s["id"]: s["built_phase"] for s in d["sites"] if s["built_phase"]}
    late = [s for s in d["stations"] if s.get("new") and s["site"] in built and built[s["site"]] != d["phases"][0]["name"]]
    if not late:
        pytest.skip("no station on a site built after the first phase")
    late[0]["phase"] = d["phases"][0]["name"]


def _mut_extra_tenant(d):
    # a fourth operator-station on a full site: duplicate an existing new station
    d["stations"].append(dict(d["stations"][_first_new(d)]))


def _mut_share(d):
    d["villages"][0]["share_by_phase"][-1] = 0.123


def _mut_drop_route(d):
    # drop a newly built route (deleting an existing-fiber edge may disconnect nothing)
    routes = d["fiber"]["routes"]
    routes.pop(next(i for i, r in enumerate(routes) if r.get("existing") == "none"))


def _mut_overload_port(d):
    for t in d["fiber"]["terminals"]:
        t["port"] = 0
        t["pop"] = d["fiber"]["terminals"][0]["pop"]
        t["bandwidth_mbps"] = 5000.0


def _mut_unknown_site(d):
    d["stations"][_first_new(d)]["site"] = "NOPE"


BROKEN = {
    "a new station removed (quota)": (_mut_drop_station, "new stations, quota"),
    "station before its site is built": (_mut_station_before_site, "on a site not built by then"),
    "same operator twice on a site": (_mut_extra_tenant, "two new stations"),
    "coverage share edited": (_mut_share, "differs from the recomputed"),
    "fiber route deleted": (_mut_drop_route, "not connected to a point of presence"),
    "OLT port overloaded": (_mut_overload_port, "port capacity"),
    "unknown site": (_mut_unknown_site, "unknown site or operator"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_checker_catches_a_hand_edited_plan(planned, tiny, tmp_path, case):
    mutate, expect = BROKEN[case]
    _, out = planned
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    d = json.loads((broken / "plan.json").read_text())
    mutate(d)
    (broken / "plan.json").write_text(json.dumps(d))
    res = CliRunner().invoke(main, ["check", str(tiny), str(broken)])
    assert res.exit_code == 1, res.output
    assert expect in res.output, res.output


def test_checker_api_returns_no_error_for_the_untouched_plan(planned, tiny):
    p, out = planned
    d = json.loads((out / "plan.json").read_text())
    assert check_plan(read_scenario(tiny), copy.deepcopy(d)) == []


def test_foreign_out_folder_is_refused_without_force(tiny, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_text("precious")
    res = CliRunner().invoke(main, ["plan", str(tiny), "--out", str(out), "--no-raster"])
    assert res.exit_code == 2
    assert "not a siteplan output" in res.output and "Traceback" not in res.output
    assert (out / "thesis.docx").read_text() == "precious"


def test_infeasible_target_exits_3_with_diagnosis(tiny, tmp_path):
    strict = tmp_path / "strict"
    shutil.copytree(tiny, strict)
    toml = (strict / "scenario.toml").read_text().replace('uncoverable = "exclude"', 'uncoverable = "fail"')
    (strict / "scenario.toml").write_text(toml)
    res = CliRunner().invoke(main, ["plan", str(strict), "--out", str(tmp_path / "o"), "--no-raster"])
    assert res.exit_code == 3, res.output
    d = json.loads((tmp_path / "o" / "plan.json").read_text())
    assert d["status"] == "infeasible"
    f = [x for x in d["findings"] if x["kind"] == "uncoverable_village"]
    assert f and f[0]["blocking"] and "dBm from site" in f[0]["message"]


def test_site_command_writes_siting_tables(tiny, tmp_path):
    out = tmp_path / "siting"
    res = CliRunner().invoke(main, ["site", str(tiny), "--out", str(out)])
    assert res.exit_code == 0, res.output
    names = {f.name for f in out.iterdir()}
    assert {"stations.csv", "sites.csv", "villages.csv", "summary.json"} <= names
    assert "fiber.csv" not in names
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] in ("optimal", "feasible")
    sc = read_scenario(tiny)
    for ph, spec in zip(summary["phases"], sc.phases):
        assert spec.new_stations.min <= ph["new_stations"] <= spec.new_stations.max
    import csv

    with open(out / "stations.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    n_new = sum(ph["new_stations"] for ph in summary["phases"])
    assert len(rows) == n_new + int(sc.sites.tenants.sum())
