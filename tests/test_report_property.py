"""Random valid plans on the unit scenario: every output agrees with naive counts taken
straight from the plan lists, and the GIS files stay valid."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from naive_report import naive_phase_counts, parse_tables, rfc7946_problems
from report_plan_factory import make_plan
from scenario_factory import make_scenario
from siteplan import read_scenario
from siteplan.report import geojson_dict, kml_text, report_html, tables_text

PHASES = ["p1", "p2"]
OPS = ["A", "B"]
EXISTING_TENANTS = {"S1": ["A"], "S2": ["A", "B"]}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    return read_scenario(make_scenario(tmp_path_factory.mktemp("report_prop") / "s"))


@st.composite
def plans(draw):
    plan = make_plan()
    sites, stations = [], []
    for sid, s in {x["id"]: x for x in plan["sites"]}.items():
        existing = s["kind"] == "existing"
        built = None if existing else draw(st.sampled_from([None, 0, 1]))
        if not existing and built is None:
            continue
        before = EXISTING_TENANTS.get(sid, [])
        after = list(before)
        for op in OPS:
            if op in before:
                stations.append({"site": sid, "operator": op, "phase": None, "new": False})
                continue
            lo = 0 if existing else built
            ph = draw(st.sampled_from([None] + list(range(lo, 2))))
            if ph is not None:
                stations.append({"site": sid, "operator": op, "phase": PHASES[ph], "new": True})
                after.append(op)
        sites.append(dict(s, built_phase=None if built is None else PHASES[built], tenants_before=before,
                          tenants_after=after))
    plan["sites"], plan["stations"] = sites, stations
    for v in plan["villages"]:
        first = draw(st.sampled_from([-1, 0, 1, 2]))          # existing, p1, p2, never
        v["covered_by_phase"] = [p >= first for p in range(2)]
        v["share_by_phase"] = [1.0 if c else draw(st.sampled_from([0.0, 0.25, 0.5])) for c in v["covered_by_phase"]]
        v["first_covered_phase"] = "existing" if first == -1 else (PHASES[first] if first < 2 else None)
        v["poor"] = draw(st.booleans())
        v["best_rsrp_dbm"] = draw(st.one_of(st.none(), st.floats(-140, -40).map(lambda x: round(x, 2))))
    plan["fiber"]["routes"] = [r for r in plan["fiber"]["routes"] if draw(st.booleans())]
    return plan


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=plans())
def test_outputs_agree_with_naive_counts(scenario, plan):
    want = naive_phase_counts(plan)
    # tables
    t = tables_text(plan, scenario)
    stations = list(csv.DictReader(io.StringIO(t["stations.csv"])))
    assert len(stations) == len(plan["stations"])
    for name in PHASES:
        assert sum(r["phase"] == name for r in stations) == want[name]["stations"]
    villages = list(csv.DictReader(io.StringIO(t["villages.csv"])))
    for name in PHASES:
        assert sum(r[f"covered_{name}"] == "true" for r in villages) == want[name]["covered"]
    # html quota table
    rows = {r[0]: r for r in parse_tables(report_html(plan, scenario)).tables["quota-table"][2:]}
    for name in PHASES:
        r, w = rows[name], want[name]
        assert int(r[2]) == w["sites"] and int(r[4]) == w["stations"]
        assert [int(x) for x in r[6:8]] == [w["by_op"][o] for o in OPS]
        assert r[8] == f"{w['covered']} / 3"
        n_poor = sum(v["poor"] for v in plan["villages"])
        assert r[9] == f"{w['poor']} / {n_poor}"
    assert int(rows["before"][2]) == want["before"]["sites"]
    assert int(rows["before"][4]) == want["before"]["stations"]
    assert rows["before"][8] == f"{want['before']['covered']} / 3"
    # GIS files
    gj = json.loads(json.dumps(geojson_dict(plan, scenario), allow_nan=False))
    assert rfc7946_problems(gj) == []
    doc = ET.fromstring(kml_text(plan, scenario).encode("utf-8"))
    ns = "{http://www.opengis.net/kml/2.2}"
    village_marks = [pm for pm in doc.iter(f"{ns}Placemark")
                     if any(d.get("name") == "layer" and d.findtext(f"{ns}value") == "village"
                            for d in pm.iter(f"{ns}Data"))]
    assert len(village_marks) == len(plan["villages"])


def _paths(obj, prefix=()):
    """Every (path) into a JSON-like value."""
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


_ALL_PATHS = [p for p in _paths(make_plan()) if p]
_JSON = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False, allow_infinity=False),
                  st.text(max_size=5), st.lists(st.integers(0, 3), max_size=3),
                  st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.sampled_from(_ALL_PATHS), _JSON), min_size=1, max_size=3))
def test_hand_edited_plans_fail_cleanly(scenario, edits):
    """Any value replaced anywhere (as a hand edit of plan.json would) gives either the outputs
    or an OutputError naming the problem, never another exception."""
    from siteplan.exceptions import OutputError

    plan = make_plan()
    for path, value in edits:
        target = plan
        try:
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue                      # an earlier edit removed this path
    try:
        tables_text(plan, scenario)
        json.dumps(geojson_dict(plan, scenario), allow_nan=False)
        ET.fromstring(kml_text(plan, scenario).encode("utf-8"))
        report_html(plan, scenario)
    except OutputError as exc:
        assert str(exc).startswith("plan")
