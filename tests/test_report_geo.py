"""plan.geojson read back with the json module against RFC 7946; plan.kml with xml.etree."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from naive_report import rfc7946_problems
from report_plan_factory import NODE_LONLAT, SITE_LONLAT, make_plan
from scenario_factory import make_scenario
from siteplan import read_scenario
from siteplan.report import write_geojson, write_kml

KML = "{http://www.opengis.net/kml/2.2}"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    return read_scenario(make_scenario(tmp_path_factory.mktemp("report_geo") / "s"))


def _strict_load(path):
    def no_constants(name):
        raise ValueError(f"{name} is not JSON (RFC 8259)")

    return json.loads(path.read_bytes().decode("utf-8"), parse_constant=no_constants)


@pytest.fixture(scope="module")
def geojson(scenario, tmp_path_factory):
    path = tmp_path_factory.mktemp("gj") / "plan.geojson"
    write_geojson(make_plan(), scenario, path)
    return _strict_load(path)


def _layer(gj, name):
    return [f for f in gj["features"] if f["properties"]["layer"] == name]


def test_geojson_follows_rfc7946(geojson):
    assert rfc7946_problems(geojson) == []
    assert "crs" not in geojson
    assert geojson["type"] == "FeatureCollection"


def test_the_rfc7946_checker_can_fail(geojson):
    bad = json.loads(json.dumps(geojson))
    bad["crs"] = {"type": "name", "properties": {"name": "EPSG:4326"}}
    line = _layer(bad, "fiber")[0]
    line["geometry"]["coordinates"] = line["geometry"]["coordinates"][:1]
    point = _layer(bad, "village")[0]
    point["geometry"]["coordinates"] = point["geometry"]["coordinates"][::-1]      # lat, lon
    _layer(bad, "site")[0]["geometry"]["coordinates"][0] = 116.1234567891
    problems = rfc7946_problems(bad)
    assert any("'crs'" in p for p in problems)
    assert any("two or more positions" in p for p in problems)
    assert any("latitude 116.7" in p for p in problems)
    assert any("decimals" in p for p in problems)
    assert any("bbox" in p for p in problems)


def test_layers_geometry_types_and_counts(geojson):
    plan = make_plan()
    counts = {}
    for f in geojson["features"]:
        counts[f["properties"]["layer"]] = counts.get(f["properties"]["layer"], 0) + 1
    assert counts == {"site": len(plan["sites"]), "station": len(plan["stations"]),
                      "fiber": len(plan["fiber"]["routes"]), "fiber_terminal": len(plan["fiber"]["terminals"]),
                      "village": len(plan["villages"])}
    for f in geojson["features"]:
        want = "LineString" if f["properties"]["layer"] == "fiber" else "Point"
        assert f["geometry"]["type"] == want
    ids = [f["id"] for f in geojson["features"]]
    assert len(ids) == len(set(ids))


def test_positions_are_lon_lat(geojson):
    # sites from the scenario table (tests/scenario_factory.py SITES), lon first
    for f in _layer(geojson, "site"):
        assert tuple(f["geometry"]["coordinates"]) == SITE_LONLAT[f["properties"]["id"]]
    v1 = next(f for f in _layer(geojson, "village") if f["properties"]["id"] == "V1")
    assert v1["geometry"]["coordinates"] == [116.7, 23.4]
    lines = {(f["properties"]["u"], f["properties"]["v"]): f["geometry"]["coordinates"] for f in _layer(geojson, "fiber")}
    assert lines[("N2", "N3")] == [[116.7, 23.4], [116.71, 23.406], [116.72, 23.41]]
    # a route without geometry runs between its road nodes
    assert lines[("N1", "N2")] == [list(NODE_LONLAT["N1"]), list(NODE_LONLAT["N2"])]
    for coords in lines.values():
        assert len(coords) >= 2 and all(a != b for a, b in zip(coords, coords[1:]))
    # terminals sit on their facility (scenario facilities.csv)
    t = {f["properties"]["id"]: f["geometry"]["coordinates"] for f in _layer(geojson, "fiber_terminal")}
    assert t == {"F1": [116.7, 23.4], "F2": [116.701, 23.401], "F3": [116.69, 23.381]}
    assert geojson["bbox"] == [116.69, 23.38, 116.72, 23.41]


def test_properties(geojson):
    plan = make_plan()
    st = {(f["properties"]["site_id"], f["properties"]["operator"]): f["properties"] for f in _layer(geojson, "station")}
    for s in plan["stations"]:
        p = st[(s["site"], s["operator"])]
        assert (p["phase"], p["new"]) == (s["phase"], s["new"])
    vil = {f["properties"]["id"]: f["properties"] for f in _layer(geojson, "village")}
    for v in plan["villages"]:
        p = vil[v["id"]]
        assert p["poor"] == v["poor"] and p["name"] == v["name"]
        assert p["covered"] == v["covered_by_phase"][-1]
        assert [p["covered_p1"], p["covered_p2"]] == v["covered_by_phase"]
        assert p["first_covered_phase"] == v["first_covered_phase"]
        assert p["best_rsrp_dbm"] == v["best_rsrp_dbm"]
        assert p["serving_sites"] == ";".join(v["serving_sites"])
    sites = {f["properties"]["id"]: f["properties"] for f in _layer(geojson, "site")}
    assert sites["C2"]["built_phase"] == "p2" and sites["S1"]["built_phase"] is None
    assert sites["S1"]["kind"] == "existing" and sites["C1"]["new_stations"] == 2
    fib = _layer(geojson, "fiber")
    assert [f["properties"]["phase"] for f in fib] == ["p1", "p2"]
    assert fib[1]["properties"]["existing"] == "fiber" and fib[1]["properties"]["fibers"] == 48
    # flat scalar properties only: every GIS reads them as columns
    for f in geojson["features"]:
        assert all(v is None or isinstance(v, (str, int, float, bool)) for v in f["properties"].values())


def test_geojson_is_deterministic_and_one_feature_a_line(scenario, tmp_path):
    a, b = tmp_path / "a.geojson", tmp_path / "b.geojson"
    write_geojson(make_plan(), scenario, a)
    plan = make_plan()
    plan["sites"].reverse()
    write_geojson(plan, scenario, b)
    assert a.read_bytes() == b.read_bytes()
    lines = a.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 + len(_strict_load(a)["features"])
    assert "甲村" in a.read_text(encoding="utf-8")        # UTF-8, not \u escapes


@pytest.fixture(scope="module")
def kml(scenario, tmp_path_factory):
    path = tmp_path_factory.mktemp("kml") / "plan.kml"
    write_kml(make_plan(), scenario, path)
    return ET.parse(path).getroot()


def _folders(el):
    return {f.findtext(f"{KML}name"): f for f in el.findall(f"{KML}Folder")}


def _placemarks(el):
    return list(el.iter(f"{KML}Placemark"))


def _data(pm):
    return {d.get("name"): d.findtext(f"{KML}value") for d in pm.iter(f"{KML}Data")}


def test_kml_structure(kml):
    assert kml.tag == f"{KML}kml"
    doc = kml.find(f"{KML}Document")
    top = _folders(doc)
    assert list(top) == ["Before the programme", "Phase p1", "Phase p2", "Villages not covered at the end"]
    # every village once, every station once, every site once
    pms = _placemarks(doc)
    by_layer = {}
    for pm in pms:
        by_layer.setdefault(_data(pm)["layer"], []).append(pm)
    plan = make_plan()
    assert len(by_layer["village"]) == 3 and len(by_layer["station"]) == 7 and len(by_layer["site"]) == 4
    assert len(by_layer["fiber"]) == 2 and len(by_layer["fiber_terminal"]) == 3
    # stations of phase p1 are in the p1 folder, under their operator
    p1 = _folders(top["Phase p1"])
    added = _folders(p1["Stations added"])
    assert {k: len(_placemarks(v)) for k, v in added.items()} == {"A": 1, "B": 2}
    assert [pm.findtext(f"{KML}name") for pm in _placemarks(p1["Sites built"])] == ["C1"]
    assert [_data(pm)["id"] for pm in _placemarks(p1["Villages newly covered"])] == ["V1"]
    before = _folders(top["Before the programme"])
    assert [_data(pm)["id"] for pm in _placemarks(before["Villages covered before the programme"])] == ["V3"]
    assert _placemarks(top["Villages not covered at the end"]) == []
    assert len(plan["stations"]) == 7


def test_kml_styles_and_coordinates(kml):
    doc = kml.find(f"{KML}Document")
    styles = {s.get("id") for s in doc.findall(f"{KML}Style")}
    for pm in _placemarks(doc):
        url = pm.findtext(f"{KML}styleUrl")
        assert url.startswith("#") and url[1:] in styles
    for c in doc.iter(f"{KML}color"):
        assert re.fullmatch(r"[0-9a-f]{8}", c.text)
    # operator styles differ
    colours = {s.get("id"): s.findtext(f"{KML}IconStyle/{KML}color") for s in doc.findall(f"{KML}Style")}
    assert colours["station_1"] != colours["station_2"]
    # KML coordinates are lon,lat
    for pm in _placemarks(doc):
        d = _data(pm)
        if d["layer"] == "site":
            text = pm.findtext(f"{KML}Point/{KML}coordinates")
            assert tuple(float(x) for x in text.split(",")) == SITE_LONLAT[d["id"]]
        if d["layer"] == "fiber" and d["u"] == "N2":
            text = pm.findtext(f"{KML}LineString/{KML}coordinates")
            assert text == "116.7,23.4 116.71,23.406 116.72,23.41"


def test_kml_escapes_text(kml):
    doc = kml.find(f"{KML}Document")
    # the synthetic label "roads & <fiber>" survives escaping, and is named in the document
    assert "roads & <fiber>" in doc.findtext(f"{KML}description")
    assert "SYNTHETIC" in doc.findtext(f"{KML}description")
    names = [pm.findtext(f"{KML}name") for pm in _placemarks(doc)]
    assert "甲村" in names


def test_kml_drops_characters_xml_forbids(scenario, tmp_path):
    plan = make_plan()
    plan["villages"][1]["name"] = "bad\x01name & <more>"
    plan["operators"] = ["A", "B"]
    write_kml(plan, scenario, tmp_path / "plan.kml")
    doc = ET.parse(tmp_path / "plan.kml").getroot()          # well-formed despite the control character
    names = [pm.findtext(f"{KML}name") for pm in _placemarks(doc)]
    assert "badname & <more>" in names
