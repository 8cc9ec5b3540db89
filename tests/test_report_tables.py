"""CSV tables of a plan: columns (and their documentation), row counts, values read back."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from report_plan_factory import NODE_LONLAT, local_xy, make_plan
from scenario_factory import make_scenario
from siteplan import read_scenario
from siteplan.exceptions import OutputError
from siteplan.report import COLUMNS, PHASE_COLUMNS, write_tables

DOC = Path(__file__).resolve().parents[1] / "docs" / "plan-outputs.md"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    return read_scenario(make_scenario(tmp_path_factory.mktemp("report_tables") / "s"))


def _read(path: Path) -> tuple[list[str], list[dict]]:
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "UTF-8 without BOM"
    text = raw.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


@pytest.fixture(scope="module")
def tables(scenario, tmp_path_factory):
    out = tmp_path_factory.mktemp("tables_out")
    paths = write_tables(make_plan(), scenario, out)
    assert sorted(p.name for p in paths) == ["fiber.csv", "sites.csv", "stations.csv", "villages.csv"]
    return {p.name: _read(p) for p in paths}


def test_headers_match_columns_and_phases(tables):
    for name, cols in COLUMNS.items():
        header, _ = tables[name]
        expected = [c[0] for c in cols]
        if name == "villages.csv":
            expected += ["covered_p1", "share_p1", "covered_p2", "share_p2"]
        assert header == expected, name


def _doc_columns() -> dict[str, list[str]]:
    """Column names listed under each '### `name.csv`' heading of docs/plan-outputs.md."""
    out: dict[str, list[str]] = {}
    current = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^### `([a-z]+\.csv)`", line)
        if m:
            current = out.setdefault(m.group(1), [])
        elif line.startswith("## "):
            current = None
        elif current is not None:
            m = re.match(r"^\| `([^`]+)` \| ([^|]*) \|", line)
            if m:
                current.append((m.group(1), m.group(2).strip()))
    return out


def test_every_column_is_documented_with_its_unit():
    doc = _doc_columns()
    assert set(doc) == set(COLUMNS)
    for name, cols in COLUMNS.items():
        expected = [(c, u) for c, u, _ in cols]
        if name == "villages.csv":
            expected += [(c, u) for c, u, _ in PHASE_COLUMNS]
        assert doc[name] == expected, name
        # every numeric column has a unit: coordinates, metres, money, dBm, counts
        for c, u in doc[name]:
            if c.endswith(("_m", "_cny", "_dbm")) or c in ("lon", "lat"):
                assert u in ("m", "CNY", "dBm", "deg"), (name, c, u)


def test_row_counts(tables):
    plan = make_plan()
    assert len(tables["stations.csv"][1]) == len(plan["stations"]) == 7
    assert len(tables["sites.csv"][1]) == len(plan["sites"]) == 4
    assert len(tables["villages.csv"][1]) == len(plan["villages"]) == 3
    assert len(tables["fiber.csv"][1]) == len(plan["fiber"]["routes"]) == 2


def test_stations_round_trip(tables):
    rows = tables["stations.csv"][1]
    got = {(r["site_id"], r["operator"], r["phase"] or None, r["new"] == "true") for r in rows}
    want = {(s["site"], s["operator"], s["phase"], s["new"]) for s in make_plan()["stations"]}
    assert got == want
    # existing stations first, then phase order
    phases = [r["phase"] for r in rows]
    assert phases == ["", "", "", "p1", "p1", "p1", "p2"]
    sites = {s["id"]: s for s in make_plan()["sites"]}
    for r in rows:
        s = sites[r["site_id"]]
        assert (float(r["lon"]), float(r["lat"])) == (s["lon"], s["lat"])
        x, y = local_xy(s["lon"], s["lat"])
        assert abs(float(r["x_m"]) - x) <= 0.05 and abs(float(r["y_m"]) - y) <= 0.05
        assert r["site_kind"] == s["kind"]
        assert r["site_built_phase"] == (s["built_phase"] or "")


def test_sites_round_trip(tables):
    rows = {r["site_id"]: r for r in tables["sites.csv"][1]}
    plan = make_plan()
    new_by_site = {}
    for st in plan["stations"]:
        if st["new"]:
            new_by_site[st["site"]] = new_by_site.get(st["site"], 0) + 1
    for s in plan["sites"]:
        r = rows[s["id"]]
        assert r["kind"] == s["kind"]
        assert r["built_phase"] == (s["built_phase"] or "")
        assert float(r["height_m"]) == s["height_m"]
        assert r["tenants_before"].split(";") == (s["tenants_before"] or [""])
        assert r["tenants_after"].split(";") == s["tenants_after"]
        assert int(r["n_tenants_after"]) == len(s["tenants_after"])
        assert int(r["new_stations"]) == new_by_site.get(s["id"], 0)
        assert r["max_tenants"] == "3"       # from the scenario's sharing default


def test_villages_round_trip(tables):
    rows = {r["village_id"]: r for r in tables["villages.csv"][1]}
    for v in make_plan()["villages"]:
        r = rows[v["id"]]
        assert (r["name"], r["district"], r["town"]) == (v["name"], v["district"], v["town"])
        assert (r["poor"] == "true") == v["poor"]
        assert [r["covered_p1"] == "true", r["covered_p2"] == "true"] == v["covered_by_phase"]
        assert [float(r["share_p1"]), float(r["share_p2"])] == v["share_by_phase"]
        assert r["first_covered_phase"] == v["first_covered_phase"]
        assert float(r["best_rsrp_dbm"]) == v["best_rsrp_dbm"]
        assert r["serving_sites"].split(";") == v["serving_sites"]
        assert int(r["n_serving_sites"]) == len(v["serving_sites"])
    # joined from the scenario table (tests/scenario_factory.py VILLAGES)
    assert [rows[k]["population"] for k in ("V1", "V2", "V3")] == ["1200", "800", "5000"]
    assert [rows[k]["synthetic_location"] for k in ("V1", "V2", "V3")] == ["false", "true", "false"]
    assert [rows[k]["ur_code"] for k in ("V1", "V2", "V3")] == ["220", "220", "111"]


def test_fiber_round_trip(tables):
    rows = tables["fiber.csv"][1]
    routes = make_plan()["fiber"]["routes"]
    assert [(r["phase"], r["u"], r["v"]) for r in rows] == [(x["phase"], x["u"], x["v"]) for x in routes]
    for r, x in zip(rows, routes):
        assert float(r["length_m"]) == x["length_m"] and float(r["cost_cny"]) == x["cost_cny"]
        assert (r["road_class"], r["existing"], int(r["fibers"])) == (x["road_class"], x["existing"], x["fibers"])
    a, b = rows
    assert (float(a["start_lon"]), float(a["start_lat"]), float(a["end_lon"]), float(a["end_lat"])) == (
        116.7, 23.4, 116.72, 23.41)
    assert a["n_vertices"] == "3"
    # the route without coordinates runs between its road nodes
    assert (float(b["start_lon"]), float(b["start_lat"])) == NODE_LONLAT["N1"]
    assert (float(b["end_lon"]), float(b["end_lat"])) == NODE_LONLAT["N2"]


def test_quoting_and_unicode_round_trip(scenario, tmp_path):
    plan = make_plan()
    plan["villages"][0]["name"] = 'Dong, "East"\nVillage 东'
    write_tables(plan, scenario, tmp_path)
    _, rows = _read(tmp_path / "villages.csv")
    assert rows[0]["name"] == 'Dong, "East"\nVillage 东'


def test_tables_are_deterministic(scenario, tmp_path):
    write_tables(make_plan(), scenario, tmp_path / "a")
    plan = make_plan()
    plan["stations"].reverse()          # input order does not matter
    plan["villages"].reverse()
    write_tables(plan, scenario, tmp_path / "b")
    for name in COLUMNS:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


@pytest.mark.parametrize("break_it, message", [
    (lambda p: p["stations"].append({"site": "NOPE", "operator": "A", "phase": "p1", "new": True}), "NOPE"),
    (lambda p: p["stations"].append({"site": "S1", "operator": "Z", "phase": "p1", "new": True}), "'Z'"),
    (lambda p: p["sites"][0].update(built_phase="p9"), "p9"),
    (lambda p: p["villages"][0].update(covered_by_phase=[True]), "one covered/share value per phase"),
    (lambda p: p["villages"][1].pop("lat"), "no 'lat'"),
    (lambda p: p["sites"][1].update(lat=123.0), "out of range"),
    (lambda p: p["fiber"]["routes"][0].update(coordinates=[[116.7, 23.4]]), ">= 2"),
    (lambda p: p.pop("phases"), "no 'phases'"),
    (lambda p: p["fiber"]["terminals"].append(7), "fiber.terminals[3] must be an object"),
    (lambda p: p["stations"].append(None), "stations[7] has no 'site'"),
    (lambda p: p.update(fiber=[1, 2]), "fiber must be an object"),
    (lambda p: p["phases"][0].update(cost_cny={"total": "lots"}), "phases[0].cost_cny.total must be a number"),
    (lambda p: p["phases"][1].update(quota_sites=[0, 1.5]), "phases[1].quota_sites must be [min, max]"),
    (lambda p: p["siting"].update(gap="small"), "siting.gap"),
    (lambda p: p["fiber"]["routes"][1].update(fibers="many"), "fiber.routes[1].fibers"),
    (lambda p: p.update(findings=["oops"]), "findings must be a list of objects"),
    (lambda p: p["villages"][0].update(covered_by_phase=7), "malformed content"),
    (lambda p: p["fiber"]["routes"][0].update(coordinates=[["a", "b"], [1, 2]]), "malformed content"),
])
def test_malformed_plan_is_refused(scenario, tmp_path, break_it, message):
    plan = make_plan()
    break_it(plan)
    with pytest.raises(OutputError, match=re.escape(message)):
        write_tables(plan, scenario, tmp_path)
    assert not any(tmp_path.iterdir())
