"""``siteplan report SCENARIO PLAN_DIR``: re-report a written plan; bad inputs exit 2."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from report_plan_factory import make_plan, make_raster
from scenario_factory import make_scenario
from siteplan import read_scenario
from siteplan.cli import main
from siteplan.report import output_names, write_coverage_raster


@pytest.fixture(scope="module")
def scenario_dir(tmp_path_factory):
    return make_scenario(tmp_path_factory.mktemp("report_cli") / "s")


def _plan_dir(tmp_path, scenario_dir, *, digest=None, raster=False):
    sc = read_scenario(scenario_dir)
    plan = make_plan()
    plan["scenario"]["digest"] = sc.digest if digest is None else digest
    d = tmp_path / "plan"
    d.mkdir()
    (d / "plan.json").write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    if raster:
        write_coverage_raster(d / "coverage.tif", *make_raster(sc))
    return d


def test_report_rewrites_outputs_with_the_raster(tmp_path, scenario_dir):
    d = _plan_dir(tmp_path, scenario_dir, raster=True)
    res = CliRunner().invoke(main, ["report", str(scenario_dir), str(d)])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["files"] == sorted(output_names(make_plan(), raster=True))
    assert 'id="rsrp"' in (d / "report.html").read_text(encoding="utf-8")


def test_report_into_another_folder(tmp_path, scenario_dir):
    d = _plan_dir(tmp_path, scenario_dir)
    res = CliRunner().invoke(main, ["report", str(scenario_dir), str(d), "--out", str(tmp_path / "elsewhere")])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in d.iterdir()) == ["plan.json"]          # nothing written beside the plan
    assert (tmp_path / "elsewhere" / "report.html").is_file()
    assert not (tmp_path / "elsewhere" / "coverage.tif").exists()


@pytest.mark.parametrize("content, message", [
    (None, "file not found"),
    ("{not json", "must be valid JSON"),
    ('{"format": "siteplan-plan", "x": NaN}', "must be valid JSON"),
    ("[1, 2]", "siteplan plan object"),
    ('{"format": "other"}', "siteplan plan object"),
])
def test_bad_plan_json(tmp_path, scenario_dir, content, message):
    d = tmp_path / "plan"
    d.mkdir()
    if content is not None:
        (d / "plan.json").write_text(content, encoding="utf-8")
    res = CliRunner().invoke(main, ["report", str(scenario_dir), str(d)])
    assert res.exit_code == 2 and message in res.output and "plan.json" in res.output
    assert "Traceback" not in res.output


def test_plan_from_another_scenario_is_refused(tmp_path, scenario_dir):
    d = _plan_dir(tmp_path, scenario_dir, digest="0" * 64)
    res = CliRunner().invoke(main, ["report", str(scenario_dir), str(d)])
    assert res.exit_code == 2 and "digest" in res.output


def test_broken_plan_content_exits_2_and_writes_nothing(tmp_path, scenario_dir):
    d = _plan_dir(tmp_path, scenario_dir)
    plan = json.loads((d / "plan.json").read_text(encoding="utf-8"))
    plan["stations"][0]["operator"] = "Nobody"
    (d / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    res = CliRunner().invoke(main, ["report", str(scenario_dir), str(d)])
    assert res.exit_code == 2 and "Nobody" in res.output
    assert sorted(p.name for p in d.iterdir()) == ["plan.json"]
