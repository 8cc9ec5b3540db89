"""Every malformed input gives a typed error naming file, row, field, rule and value;
the CLI prints it without a traceback and exits 2 (issue: Foundation, "Bad input")."""

import json
import string

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scenario_factory import FACILITIES, MANIFEST, ROAD_EDGES, SITES, VILLAGES, make_scenario, write_dem
from siteplan import read_scenario
from siteplan.cli import main
from siteplan.exceptions import ScenarioError, SiteplanError, TerrainError, UnsafePathError
from siteplan.io.scenario import VILLAGE_COLUMNS
from siteplan.io.tables import read_table


def _replace_line(text, old, new):
    assert old in text
    return text.replace(old, new, 1)


def _cli_error(folder):
    out = CliRunner().invoke(main, ["validate", str(folder)])
    assert out.exit_code == 2, out.output
    assert "Traceback" not in out.output
    assert out.output.startswith("error: ")
    return out.output


CASES = {
    "missing file": (
        lambda f: (f / "sites.csv").unlink(),
        ScenarioError, ["sites.csv", "file not found"]),
    "empty table (no rows)": (
        lambda f: (f / "villages.csv").write_text(VILLAGES.splitlines()[0] + "\n"),
        ScenarioError, ["villages.csv", "no data rows"]),
    "empty file": (
        lambda f: (f / "road_edges.csv").write_text(""),
        ScenarioError, ["road_edges.csv", "empty"]),
    "unknown column": (
        lambda f: (f / "villages.csv").write_text(VILLAGES.replace("synthetic\n", "synthetic,colour\n", 1)
                                                  .replace(",false\n", ",false,red\n")),
        ScenarioError, ["villages.csv", "row 0", "field 'colour'", "unknown column", "'colour'"]),
    "missing required column": (
        lambda f: (f / "sites.csv").write_text("\n".join(",".join(r.split(",")[:4] + r.split(",")[5:])
                                                         for r in SITES.splitlines()) + "\n"),
        ScenarioError, ["sites.csv", "field 'height_m'", "required column is missing"]),
    "non-numeric coordinate": (
        lambda f: (f / "villages.csv").write_text(_replace_line(VILLAGES, "116.720,23.410", "116.72O,23.410")),
        ScenarioError, ["villages.csv", "row 2", "field 'lon'", "must be a number", "116.72O"]),
    "NaN coordinate": (
        lambda f: (f / "sites.csv").write_text(_replace_line(SITES, "116.715,23.405", "116.715,nan")),
        ScenarioError, ["sites.csv", "row 2", "field 'lat'", "finite", "nan"]),
    "coordinate outside the terrain": (
        lambda f: (f / "villages.csv").write_text(_replace_line(VILLAGES, "116.690,23.380", "117.690,23.380")),
        TerrainError, ["villages.csv", "row 3", "lon/lat", "outside the terrain", "117.690000"]),
    "duplicate id": (
        lambda f: (f / "sites.csv").write_text(_replace_line(SITES, "C2,", "C1,")),
        ScenarioError, ["sites.csv", "row 4", "field 'id'", "unique", "'C1'"]),
    "dangling facility -> village": (
        lambda f: (f / "facilities.csv").write_text(_replace_line(FACILITIES, "school,V3", "school,V9")),
        ScenarioError, ["facilities.csv", "row 3", "field 'village_id'", "unknown village id", "'V9'"]),
    "dangling edge -> node": (
        lambda f: (f / "road_edges.csv").write_text(_replace_line(ROAD_EDGES, "N2,N3", "N2,N7")),
        ScenarioError, ["road_edges.csv", "row 2", "field 'to'", "unknown road node id", "'N7'"]),
    "negative population": (
        lambda f: (f / "villages.csv").write_text(_replace_line(VILLAGES, ",800,250,", ",-800,250,")),
        ScenarioError, ["villages.csv", "row 2", "field 'population'", "must be >= 0", "-800"]),
    "negative cost": (
        lambda f: (f / "sites.csv").write_text(_replace_line(SITES, "30,300000", "30,-300000")),
        ScenarioError, ["sites.csv", "row 3", "field 'build_cost'", "must be >= 0", "-300000"]),
    "unknown enum value": (
        lambda f: (f / "road_edges.csv").write_text(_replace_line(ROAD_EDGES, "rural,none", "dirt,none")),
        ScenarioError, ["road_edges.csv", "row 2", "field 'road_class'", "must be one of", "'dirt'"]),
    "unknown site kind": (
        lambda f: (f / "sites.csv").write_text(_replace_line(SITES, "C2,116.695,23.385,candidate",
                                                              "C2,116.695,23.385,planned")),
        ScenarioError, ["sites.csv", "row 4", "field 'kind'", "existing, candidate", "'planned'"]),
    "quota larger than the candidate pool": (
        lambda f: (f / "scenario.toml").write_text(_replace_line(MANIFEST, "new_sites = 1\n", "new_sites = 5\n")),
        ScenarioError, ["scenario.toml", "phases.new_sites", "at least 5 new sites", "only 2 candidate sites"]),
    "station quota above free tenancy": (
        lambda f: (f / "scenario.toml").write_text(_replace_line(MANIFEST, "new_stations = 3\n",
                                                                 "new_stations = 30\n")),
        ScenarioError, ["scenario.toml", "phases.new_stations", "at least 30 new stations", "free tenancy"]),
    "phases out of order": (
        lambda f: (f / "scenario.toml").write_text(_replace_line(MANIFEST, "start = 2017-01-01", "start = 2016-06-01")),
        ScenarioError, ["scenario.toml", "phases out of order", "'p2' starts 2016-06-01"]),
    "phase ends before it starts": (
        lambda f: (f / "scenario.toml").write_text(_replace_line(MANIFEST, "end = 2017-12-31", "end = 2016-12-31")),
        ScenarioError, ["scenario.toml", "phases[2]", "start 2017-01-01 is after end 2016-12-31"]),
    "unknown manifest key": (
        lambda f: (f / "scenario.toml").write_text(_replace_line(MANIFEST, "threshold_dbm = -110.0",
                                                                 "treshold_dbm = -110.0")),
        ScenarioError, ["scenario.toml", "operators[1].treshold_dbm", "unknown key"]),
    "unknown manifest enum": (
        lambda f: (f / "scenario.toml").write_text(_replace_line(MANIFEST, 'villages = "poor"', 'villages = "needy"')),
        ScenarioError, ["scenario.toml", "phases[1].targets[1]", "villages", "'needy'"]),
    "invalid TOML": (
        lambda f: (f / "scenario.toml").write_text(MANIFEST + "\n[[phases]\n"),
        ScenarioError, ["scenario.toml", "invalid TOML"]),
    "DEM with wrong size": (
        lambda f: (f / "dem.json").write_text(json.dumps({"crs": "EPSG:4326", "x_min": 116.6, "y_max": 23.5,
                                                          "cell_size": 0.005, "shape": [10, 10]})),
        TerrainError, ["dem.json", "field 'shape'", "[40, 40]", "[10, 10]"]),
    "DEM without georeference": (
        lambda f: (f / "dem.json").unlink(),
        TerrainError, ["dem.json", "no georeference"]),
    "DEM sidecar incomplete": (
        lambda f: (f / "dem.json").write_text(json.dumps({"crs": "EPSG:4326", "x_min": 116.6})),
        TerrainError, ["dem.json", "field 'y_max'", "field 'cell_size'", "required key is missing"]),
    "tenant that is not an operator": (
        lambda f: (f / "sites.csv").write_text(_replace_line(SITES, "3,A;B", "3,A;Z")),
        ScenarioError, ["sites.csv", "row 2", "field 'tenants'", "unknown operator", "'Z'"]),
    "path escaping the folder": (
        lambda f: (f / "scenario.toml").write_text(_replace_line(MANIFEST, 'sites = "sites.csv"',
                                                                 'sites = "../sites.csv"')),
        UnsafePathError, ["scenario.toml", "tables.sites", "must not leave the scenario folder", "'../sites.csv'"]),
    "UTF-16 table": (
        lambda f: (f / "villages.csv").write_bytes(VILLAGES.encode("utf-16")),
        ScenarioError, ["villages.csv", "UTF-16 text is not supported"]),
    "undecodable bytes": (
        lambda f: (f / "villages.csv").write_bytes(VILLAGES.encode("utf-8") + b"\x81\x20\xff\xfe\x80\n"),
        ScenarioError, ["villages.csv", "encoding must be UTF-8 or GB18030"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input(tmp_path, case):
    mutate, err_type, parts = CASES[case]
    folder = make_scenario(tmp_path / "s")
    mutate(folder)
    with pytest.raises(err_type) as info:
        read_scenario(folder)
    msg = str(info.value)
    for part in parts:
        assert part in msg, f"{part!r} not in {msg!r}"
    out = _cli_error(folder)
    for part in parts:
        assert part in out


def test_all_problems_of_a_file_are_reported_together(tmp_path):
    bad = (VILLAGES.replace(",800,250,", ",-800,250,").replace("116.690,23.380", "abc,23.380")
           .replace("V2,乙村", "V1,乙村"))
    folder = make_scenario(tmp_path / "s", **{"villages.csv": bad})
    with pytest.raises(ScenarioError) as info:
        read_scenario(folder)
    msg = str(info.value)
    assert "problems found" in msg
    assert "field 'population'" in msg and "field 'lon'" in msg
    assert len(info.value.problems) >= 2


def test_symlink_out_of_folder_is_refused(tmp_path):
    folder = make_scenario(tmp_path / "s")
    outside = tmp_path / "elsewhere.csv"
    outside.write_text(SITES)
    (folder / "sites.csv").unlink()
    (folder / "sites.csv").symlink_to(outside)
    with pytest.raises(UnsafePathError, match="through a link"):
        read_scenario(folder)


def test_dem_geotiff_without_georeference(tmp_path):
    import tifffile

    folder = make_scenario(tmp_path / "s")
    tifffile.imwrite(folder / "dem.tif", np.zeros((40, 40), dtype=np.int16))
    (folder / "scenario.toml").write_text(MANIFEST.replace('dem = "dem.npy"', 'dem = "dem.tif"'))
    with pytest.raises(TerrainError, match="dem.tif.*GeoKeyDirectory"):
        read_scenario(folder)
    assert "GeoKeyDirectory" in _cli_error(folder)


def test_dem_hgt_with_wrong_size(tmp_path):
    folder = make_scenario(tmp_path / "s")
    np.zeros(1000, dtype=">i2").tofile(folder / "N23E116.hgt")
    (folder / "scenario.toml").write_text(MANIFEST.replace('dem = "dem.npy"', 'dem = "N23E116.hgt"'))
    with pytest.raises(TerrainError) as info:
        read_scenario(folder)
    assert "N23E116.hgt" in str(info.value) and "2000 bytes" in str(info.value)


def test_dem_hgt_is_read(tmp_path):
    folder = make_scenario(tmp_path / "s")
    z = np.zeros((1201, 1201), dtype=">i2")
    z[:, :] = 7
    z[0, 0] = -32768
    z.tofile(folder / "N23E116.hgt")
    (folder / "scenario.toml").write_text(MANIFEST.replace('dem = "dem.npy"', 'dem = "N23E116.hgt"'))
    s = read_scenario(folder)
    assert s.terrain.cell_m == pytest.approx(1 / 1200 * 111_320 * np.cos(np.radians(23.5)), rel=0.02)
    inner = s.terrain.sample(s.villages.x_m, s.villages.y_m)
    np.testing.assert_allclose(inner, 7.0)


# --- property tests: any malformed CSV gives a SiteplanError, never anything else -----------

_cell = st.text(alphabet=string.printable + "甲乙丙，、\u3000", max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_cell, min_size=0, max_size=13), min_size=0, max_size=6),
       keep_header=st.booleans())
def test_table_reader_never_crashes_on_text(tmp_path, rows, keep_header):
    header = "id,name,district,town,lon,lat,population,households,poor,ur_code,synthetic"
    body = "\n".join(",".join(r) for r in rows)
    text = (header + "\n" + body) if keep_header else body
    p = tmp_path / "villages.csv"
    p.write_text(text, encoding="utf-8")
    try:
        t = read_table(p, VILLAGE_COLUMNS)
    except SiteplanError as exc:
        assert "villages.csv" in str(exc)
    else:
        assert t.n_rows >= 1 and np.isfinite(t["lon"]).all()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300))
def test_table_reader_never_crashes_on_bytes(tmp_path, data):
    p = tmp_path / "villages.csv"
    p.write_bytes(data)
    try:
        read_table(p, VILLAGE_COLUMNS)
    except SiteplanError as exc:
        assert "villages.csv" in str(exc)
