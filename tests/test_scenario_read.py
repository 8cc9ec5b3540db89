"""Reading a valid scenario: conversion, defaults, encodings, read-only arrays."""

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from scenario_factory import FILES, VILLAGES, make_scenario
from siteplan import read_scenario
from siteplan.cli import main
from siteplan.io.crs import Projector, gcj02_to_wgs84, wgs84_to_gcj02


def test_reads_unit_scenario(tmp_path):
    s = read_scenario(make_scenario(tmp_path / "s"))
    assert s.crs == "EPSG:32650"          # UTM 50N for Shantou (ecosystem.md)
    assert len(s.villages) == 3 and len(s.sites) == 4 and len(s.demand) == 4
    assert s.villages.poor.tolist() == [True, False, False]
    # tenants parsed per operator, defaults filled from the manifest
    assert s.sites.tenants.tolist() == [[True, False], [True, True], [False, False], [False, False]]
    assert s.sites.build_cost.tolist() == [0.0, 0.0, 300000.0, 350000.0]
    assert s.sites.max_tenants.tolist() == [3, 3, 3, 3]
    # demand weights normalised per village
    w = np.bincount(s.demand.village, weights=s.demand.weight)
    np.testing.assert_allclose(w, 1.0)
    # facility bandwidth defaults to the kind's requirement
    assert s.facilities.bandwidth_mbps.tolist() == [50.0, 100.0, 100.0]
    # local coordinates agree with an independent pyproj round trip
    x, y = Projector("EPSG:32650").to_local(116.7, 23.4)
    assert abs(s.villages.x_m[0] - x) < 1e-6 and abs(s.villages.y_m[0] - y) < 1e-6
    assert s.roads.n_edges == 2 and s.roads.pop.tolist() == [True, False, False]
    assert s.terrain is not None and s.terrain.contains(s.sites.x_m, s.sites.y_m).all()
    assert len(s.digest) == 64


def test_arrays_are_read_only(tmp_path):
    s = read_scenario(make_scenario(tmp_path / "s"))
    with pytest.raises(ValueError):
        s.villages.population[0] = 1
    with pytest.raises(ValueError):
        s.sites.tenants[0, 0] = False
    with pytest.raises(Exception):
        s.villages.id = None  # frozen dataclass


def test_generated_demand_points_when_table_absent(tmp_path):
    folder = make_scenario(tmp_path / "s", **{"demand_points.csv": None})
    text = (folder / "scenario.toml").read_text().replace('demand_points = "demand_points.csv"\n', "")
    (folder / "scenario.toml").write_text(text)
    s = read_scenario(folder)
    assert s.demand.generated
    # V1 (1200 people) gets its centre and one ring point; V3 (5000) five ring points
    counts = np.bincount(s.demand.village, minlength=3)
    assert counts.tolist() == [2, 1, 6]
    np.testing.assert_allclose(np.bincount(s.demand.village, weights=s.demand.weight), 1.0)


def test_gcj02_input_is_converted(tmp_path):
    folder = make_scenario(tmp_path / "s")
    text = (folder / "scenario.toml").read_text().replace('input_crs = "WGS84"', 'input_crs = "GCJ-02"')
    (folder / "scenario.toml").write_text(text)
    s = read_scenario(folder)
    lon, lat = gcj02_to_wgs84(116.7, 23.4)
    assert abs(s.villages.lon[0] - lon) < 1e-12 and abs(s.villages.lat[0] - lat) < 1e-12
    # the published size of the Shantou offset (shared/data/shantou/README): lon -0.0045..-0.0050, lat +0.0024..0.0026
    assert -0.0050 <= lon - 116.7 <= -0.0045 and 0.0024 <= lat - 23.4 <= 0.0028


def test_gcj02_inverse_round_trip():
    rng = np.random.default_rng(1)
    lon = rng.uniform(116.0, 117.5, 200)
    lat = rng.uniform(22.8, 23.9, 200)
    glon, glat = wgs84_to_gcj02(lon, lat)
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert np.max(np.abs(wlon - lon)) < 1e-7 and np.max(np.abs(wlat - lat)) < 1e-7  # < 1 cm
    # outside China the datum is WGS84 itself
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)


@pytest.mark.parametrize("encoding,label", [("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030"), ("gbk", "gb18030")])
def test_excel_chinese_encodings(tmp_path, encoding, label):
    folder = make_scenario(tmp_path / "s")
    (folder / "villages.csv").write_bytes(VILLAGES.encode(encoding))
    s = read_scenario(folder)
    assert s.villages.name[0] == "甲村"
    assert s.encodings["villages"] == label
    out = CliRunner().invoke(main, ["validate", str(folder)])
    assert out.exit_code == 0, out.output
    assert f"villages {label}" in out.output


def test_validate_prints_summary(tmp_path):
    folder = make_scenario(tmp_path / "s")
    out = CliRunner().invoke(main, ["validate", str(folder)])
    assert out.exit_code == 0, out.output
    for part in ("villages: 3 (1 poor", "澄海区", "sites: 4 (2 existing", "p1", "new stations 3", "[0, 2]",
                 "terrain:", "ok: scenario is valid"):
        assert part in out.output


def test_manifest_schema_is_published_and_current():
    import json

    from siteplan.io.manifest import manifest_json_schema

    doc = Path(__file__).resolve().parents[1] / "docs" / "scenario.schema.json"
    assert json.loads(doc.read_text()) == json.loads(json.dumps(manifest_json_schema())), \
        "regenerate with: python -m siteplan.io.manifest > docs/scenario.schema.json"


def test_geojson_tables_are_accepted(tmp_path):
    import csv
    import io
    import json

    from scenario_factory import SITES

    folder = make_scenario(tmp_path / "s")
    feats = []
    for row in csv.DictReader(io.StringIO(SITES)):
        lon, lat = float(row.pop("lon")), float(row.pop("lat"))
        props = {k: v for k, v in row.items() if v != ""}
        props["height_m"] = float(props["height_m"])
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                      "properties": props})
    (folder / "sites.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    (folder / "scenario.toml").write_text((folder / "scenario.toml").read_text()
                                          .replace('sites = "sites.csv"', 'sites = "sites.geojson"'))
    s = read_scenario(folder)
    ref = read_scenario(make_scenario(tmp_path / "ref"))
    np.testing.assert_array_equal(s.sites.x_m, ref.sites.x_m)
    np.testing.assert_array_equal(s.sites.tenants, ref.sites.tenants)
    assert s.sites.build_cost.tolist() == ref.sites.build_cost.tolist()


def test_geojson_bad_feature_names_feature_number(tmp_path):
    import json

    from siteplan.exceptions import ScenarioError

    folder = make_scenario(tmp_path / "s")
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [116.7, 23.4]},
              "properties": {"id": "S1", "kind": "existing", "height_m": 30}},
             {"type": "Feature", "geometry": {"type": "Point", "coordinates": [116.7, 23.4]},
              "properties": {"id": "S2", "kind": "tower", "height_m": 30}}]
    (folder / "sites.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    (folder / "scenario.toml").write_text((folder / "scenario.toml").read_text()
                                          .replace('sites = "sites.csv"', 'sites = "sites.geojson"'))
    with pytest.raises(ScenarioError) as info:
        read_scenario(folder)
    assert "sites.geojson, row 2, field 'kind'" in str(info.value) and "'tower'" in str(info.value)
