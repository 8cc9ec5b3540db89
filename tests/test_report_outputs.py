"""write_outputs: every documented file, byte-identical on a rerun, nothing written for a
malformed plan, and atomic when wrapped in atomic_directory."""

from __future__ import annotations

import hashlib
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

from report_plan_factory import make_plan, make_raster
from scenario_factory import make_scenario
from siteplan import read_scenario
from siteplan.exceptions import OutputError
from siteplan.io.atomic import atomic_directory
from siteplan.report import output_names, write_outputs
from siteplan.report._view import phase_slug

DOC = Path(__file__).resolve().parents[1] / "docs" / "plan-outputs.md"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    return read_scenario(make_scenario(tmp_path_factory.mktemp("report_outputs") / "s"))


@pytest.fixture(scope="module")
def written(scenario, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    paths = write_outputs(make_plan(), scenario, out, raster=make_raster(scenario))
    return out, paths


def _files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_every_output_is_written(written):
    out, paths = written
    names = output_names(make_plan(), raster=True)
    assert sorted(_files(out)) == sorted(names)
    assert sorted(p.relative_to(out).as_posix() for p in paths) == sorted(names)
    assert "figures/map_1_p1.png" in names and "figures/map_2_p2.png" in names and "coverage.tif" in names
    # no temporary file left behind
    assert not any(p.name.startswith(".") for p in out.rglob("*"))


def test_every_output_is_documented(written):
    doc = DOC.read_text(encoding="utf-8")
    for name in output_names(make_plan(), raster=True):
        generic = name.replace("map_1_p1", "map_<n>_<phase>").replace("map_2_p2", "map_<n>_<phase>")
        assert f"`{generic}`" in doc, name


def test_figures_are_pngs(written):
    out, _ = written
    for png in sorted((out / "figures").glob("*.png")):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        img = mpimg.imread(png)
        assert img.ndim == 3 and min(img.shape[:2]) > 200
        assert float(img[..., :3].std()) > 0.02, png.name     # not a blank canvas


def test_rerun_is_byte_identical(written, scenario, tmp_path):
    out, _ = written
    write_outputs(make_plan(), scenario, tmp_path, raster=make_raster(scenario))
    assert _files(tmp_path) == _files(out)


def test_without_raster(scenario, tmp_path):
    write_outputs(make_plan(), scenario, tmp_path)
    names = set(_files(tmp_path))
    assert names == set(output_names(make_plan(), raster=False))
    assert "coverage.tif" not in names and "figures/rsrp.png" not in names
    assert 'id="rsrp"' not in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_malformed_plan_writes_nothing(scenario, tmp_path):
    plan = make_plan()
    plan["villages"][2]["first_covered_phase"] = "p7"
    with pytest.raises(OutputError, match="p7"):
        write_outputs(plan, scenario, tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_atomic_directory_keeps_the_previous_output(scenario, tmp_path):
    target = tmp_path / "plan"
    with atomic_directory(target) as staging:
        write_outputs(make_plan(), scenario, staging)
    before = _files(target)
    plan = make_plan()
    plan["stations"].append({"site": "GHOST", "operator": "A", "phase": "p2", "new": True})
    with pytest.raises(OutputError, match="GHOST"):
        with atomic_directory(target) as staging:
            write_outputs(plan, scenario, staging)
    assert _files(target) == before
    assert [p.name for p in tmp_path.iterdir()] == ["plan"]


@pytest.mark.parametrize("name, slug", [("2016", "1_2016"), ("phase 1/2", "1_phase_1_2"), ("二期", "1"),
                                        ("../x", "1_x")])
def test_phase_file_names_are_safe(name, slug):
    assert phase_slug(0, name) == slug


def test_many_phases_and_operators(scenario, tmp_path):
    """Five phases and operators beyond the unit scenario's two: every writer copes."""
    plan = make_plan()
    extra = [dict(plan["phases"][1], name=f"p{k}", start=f"20{16 + k}-01-01", end=f"20{16 + k}-12-31")
             for k in range(3, 6)]
    plan["phases"] += extra
    for v in plan["villages"]:
        v["covered_by_phase"] += [True] * 3
        v["share_by_phase"] += [1.0] * 3
    plan["operators"] += ["C", "D"]
    write_outputs(plan, scenario, tmp_path)
    names = set(_files(tmp_path))
    assert {f"figures/map_{phase_slug(k, f'p{k + 1}')}.png" for k in range(5)} <= names
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.count('class="phase-map"') == 5
    assert np.all([f">{op}<" in html for op in ("C", "D")])


def test_report_imports_no_solver_or_propagation():
    import subprocess
    import sys

    code = ("import sys, siteplan.report, siteplan.report.load; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('pulp', 'highspy', 'numba') or "
            "m.startswith(('siteplan.optimize', 'siteplan.siting', 'siteplan.propagation', 'siteplan.coverage', "
            "'siteplan.fiber', 'siteplan.pipeline'))); print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_plan_without_fiber_or_solver_details(scenario, tmp_path):
    """A plan with no fiber plan (``"fiber": null``), no siting block and no findings still
    gives every output; the fiber table is empty and the report says what is missing."""
    plan = make_plan()
    plan["fiber"] = None
    for key in ("siting", "findings", "options"):
        plan.pop(key)
    for ph in plan["phases"]:
        ph.pop("fiber_km")
        ph.pop("cost_cny")
    write_outputs(plan, scenario, tmp_path)
    assert (tmp_path / "fiber.csv").read_text(encoding="utf-8").count("\n") == 1       # header only
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "No findings." in html
    assert "<th class=\"l\">fiber status</th><td class=\"l\">–</td>" in html


def test_empty_plan(scenario, tmp_path):
    import json

    from naive_report import rfc7946_problems

    plan = make_plan()
    plan["villages"], plan["stations"], plan["sites"] = [], [], []
    plan["fiber"]["routes"], plan["fiber"]["terminals"] = [], []
    write_outputs(plan, scenario, tmp_path)
    gj = json.loads((tmp_path / "plan.geojson").read_text(encoding="utf-8"))
    assert gj["features"] == [] and "bbox" not in gj and rfc7946_problems(gj) == []
    assert (tmp_path / "villages.csv").read_text(encoding="utf-8").count("\n") == 1


@pytest.mark.parametrize("cjk_font", [True, False])
def test_figures_never_draw_missing_glyphs(scenario, tmp_path, monkeypatch, cjk_font):
    """Chinese district names are drawn with a CJK font when one is installed, else replaced
    by D1, D2, ... (numbered as in report.html): never as empty boxes."""
    import warnings

    from siteplan.report import figures

    if not cjk_font:
        monkeypatch.setattr(figures, "_cjk_family", lambda: None)
    elif figures._cjk_family() is None:
        pytest.skip("no CJK font installed (.ci/install-chromium installs fonts-wqy-microhei)")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r".*[Gg]lyph.*missing")
        figures.write_figures(make_plan(), scenario, tmp_path)
    assert (tmp_path / "figures" / "map_1_p1.png").is_file()
