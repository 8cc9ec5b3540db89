"""report.html without a browser: self-contained, the right numbers in its tables and maps,
escaping, print CSS, determinism."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from naive_report import external_references, parse_tables
from report_plan_factory import make_plan, make_raster
from scenario_factory import make_scenario
from siteplan import read_scenario
from siteplan.report import report_html, write_report_html

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    return read_scenario(make_scenario(tmp_path_factory.mktemp("report_html") / "s"))


@pytest.fixture(scope="module")
def page(scenario):
    return report_html(make_plan(), scenario, raster=make_raster(scenario))


def _svgs(page):
    """Every inline <svg> element, parsed as XML (so each must be well-formed)."""
    return [ET.fromstring(m.group(0)) for m in re.finditer(r"<svg\b.*?</svg>", page, flags=re.S)]


def _maps(page):
    return [s for s in _svgs(page) if s.get("class") == "map"]


def test_no_external_references(page):
    assert external_references(page) == []
    assert "default-src 'none'" in page          # the browser refuses anything external


def test_external_reference_checker_can_fail():
    bad = ('<html><head><link rel="stylesheet" href="https://cdn.example/x.css"><style>@import url(a.css);'
           'body{background:url("http://x/y.png")}</style></head><body><img src="//cdn.example/i.png">'
           '<img src="data:image/png;base64,AAAA"><a href="#maps">in-page</a><script src="app.js"></script>'
           "</body></html>")
    found = external_references(bad)
    assert any("cdn.example/x.css" in f for f in found)
    assert any("//cdn.example/i.png" in f for f in found)
    assert any("app.js" in f for f in found)
    assert any("@import" in f for f in found)
    assert any("http://x/y.png" in f for f in found)
    assert not any("data:" in f or "#maps" in f for f in found)


def test_quota_table(page):
    t = parse_tables(page)
    rows = t.tables["quota-table"]
    # header rows, then before / p1 / p2
    body = {r[0]: r for r in rows[2:]}
    assert list(body) == ["before", "p1", "p2"]
    # phase, period, sites built, quota, stations added, quota, A, B, all, poor, fiber km, cost
    assert body["p1"] == ["p1", "2016-04-01 – 2016-12-31", "1", "1", "3", "3", "1", "2", "2 / 3", "1 / 1", "2.2",
                          "1,201,000"]
    assert body["p2"] == ["p2", "2017-01-01 – 2017-12-31", "1", "0–1", "1", "0–2", "1", "0", "3 / 3", "1 / 1", "2.5",
                          "600,000"]
    assert body["before"][2] == "2" and body["before"][4] == "3" and body["before"][8] == "1 / 3"
    classes = t.classes["quota-table"][3]
    assert classes[2] == "met" and classes[4] == "met"


def test_quota_violation_is_flagged(scenario):
    plan = make_plan()
    plan["stations"] = [s for s in plan["stations"] if not (s["site"] == "S1" and s["phase"] == "p1")]
    page = report_html(plan, scenario)
    t = parse_tables(page)
    p1 = t.tables["quota-table"][3]
    assert p1[4] == "2" and t.classes["quota-table"][3][4] == "below"
    assert "Quota not met: p1 (stations below)" in page


def test_district_and_cost_tables(page):
    t = parse_tables(page)
    d = {r[1]: r for r in t.tables["district-table"][1:]}
    # 澄海区: V1 (poor, covered p1) and V2 (covered p2); 金平区: V3 (covered before)
    assert d["澄海区"] == ["D1", "澄海区", "2", "1", "0", "1 (50%) · 1/1", "2 (100%) · 1/1", "0"]
    assert d["金平区"] == ["D2", "金平区", "1", "0", "1", "1 (100%) · 0/0", "1 (100%) · 0/0", "0"]
    c = {r[0]: r for r in t.tables["cost-table"][1:]}
    assert c["p1"] == ["p1", "300,000", "750,000", "30,000", "121,000", "1,201,000"]
    assert c["all phases"] == ["all phases", "650,000", "1,000,000", "30,000", "121,000", "1,801,000"]


def test_solver_table(page):
    t = parse_tables(page)
    s = {r[0]: r[1] for r in t.tables["solver-table"]}
    assert s["plan status"] == "feasible"
    assert s["siting gap"] == "2.61%"
    assert s["siting objective [CNY]"] == "1,745,000"        # 1,745,000.5 to the yuan, half to even
    assert s["siting bound [CNY]"] == "1,700,000"
    assert s["siting solver"] == "highs 1.16.0"
    assert s["fiber status"] == "optimal" and s["fiber gap"] == "0%"
    assert "columns 40" in s["siting model"]


def test_synthetic_notice_lists_every_label(page):
    notice = re.search(r'<div class="notice" id="synthetic-notice">(.*?)</div>', page, flags=re.S).group(1)
    assert "Synthetic data" in notice
    assert "<li>sites</li>" in notice
    assert "<li>roads &amp; &lt;fiber&gt;</li>" in notice           # escaped once
    assert "1 of 3 village locations are generated" in notice       # V2 synthetic in the scenario


def test_notice_without_synthetic_parts(scenario):
    plan = make_plan()
    plan["scenario"]["synthetic"] = []
    for v in plan["villages"]:
        v["id"] = v["id"] + "x"          # not in the scenario: no synthetic-location flag joined
    page = report_html(plan, scenario)
    assert 'class="notice none"' in page and "Synthetic data." not in page


def test_one_map_per_phase_with_the_phase_state(page):
    maps = _maps(page)
    assert len(maps) == 3                     # p1, p2 and the RSRP map
    p1, p2, rsrp = maps

    def group(svg, cls):
        return next(g for g in svg.iter(f"{SVG}g") if g.get("class") == cls)

    # villages coloured by coverage in that phase: V2 red in p1, green in p2
    fills1 = sorted(el.get("fill") for el in group(p1, "villages"))
    fills2 = sorted(el.get("fill") for el in group(p2, "villages"))
    assert fills1 == ["#1a9850", "#1a9850", "#d73027"]
    assert fills2 == ["#1a9850"] * 3
    # the poor village is a diamond (path), the others circles
    assert [el.tag for el in group(p1, "villages")].count(f"{SVG}path") == 1
    # stations on air: 6 by the end of p1, 7 by the end of p2; one colour per operator
    def stations(svg):
        return {g.get("data-operator"): len(list(g)) for g in group(svg, "stations")}
    assert stations(p1) == {"A": 3, "B": 3}
    assert stations(p2) == {"A": 4, "B": 3}
    assert len({g.get("fill") for g in group(p1, "stations")}) == 2
    # sites standing: 3 after p1 (C2 not built yet), 4 after p2
    assert len(list(group(p1, "sites"))) == 3 and len(list(group(p2, "sites"))) == 4
    # fiber by phase: p1 map has the p1 route, p2 map both, in different colours
    f1 = [el.get("data-phase") for el in group(p1, "fiber")]
    f2 = {el.get("data-phase"): el.get("stroke") for el in group(p2, "fiber")}
    assert f1 == ["p1"] and set(f2) == {"p1", "p2"} and f2["p1"] != f2["p2"]
    # district labels and a scale bar
    labels = [el.text for el in p1.iter(f"{SVG}text") if el.get("class") == "district"]
    assert sorted(labels) == ["澄海区", "金平区"]
    assert any(el.text.endswith("m") for el in group(p1, "scalebar").iter(f"{SVG}text"))
    # the RSRP map embeds the raster as a data: PNG
    img = next(rsrp.iter(f"{SVG}image"))
    assert img.get("href").startswith("data:image/png;base64,")


def test_scale_bar_length_matches_the_map_scale(page, scenario):
    """The scale bar's pixel length / its label = the distance V1-V3 in pixels / in metres."""
    p1 = _maps(page)[0]
    bar = [el for el in p1.iter() if el.get("class") == "scalebar"][0]
    rects = bar.findall(f"{SVG}rect")
    px = sum(float(r.get("width")) for r in rects)
    label = [t.text for t in bar.findall(f"{SVG}text")][-1]
    metres = float(label.split()[0]) * (1000.0 if label.endswith("km") else 1.0)
    circles = {el.find(f"{SVG}title").text.split(" (")[1].split(")")[0]: (float(el.get("cx")), float(el.get("cy")))
               for el in p1.iter(f"{SVG}circle") if el.find(f"{SVG}title") is not None}
    (u2, v2), (u3, v3) = circles["V2"], circles["V3"]
    v = scenario.villages
    dist_m = ((v.x_m[1] - v.x_m[2]) ** 2 + (v.y_m[1] - v.y_m[2]) ** 2) ** 0.5
    dist_px = ((u2 - u3) ** 2 + (v2 - v3) ** 2) ** 0.5
    assert px / metres == pytest.approx(dist_px / dist_m, rel=0.01)
    # north up: V2 is north of V3, so it is higher on the page
    assert v2 < v3


def test_charts(page):
    svgs = {s.get("id"): s for s in _svgs(page) if s.get("id")}
    growth = svgs["growth-chart"]
    titles = [c.findtext(f"{SVG}title") for c in growth.iter(f"{SVG}circle")]
    assert titles == ["all villages: 33.3%", "all villages: 66.7%", "all villages: 100.0%",
                      "poor villages: 0.0%", "poor villages: 100.0%", "poor villages: 100.0%"]
    cost = svgs["cost-chart"]
    bars = [r.findtext(f"{SVG}title") for r in cost.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert "p1 stations: 750,000 CNY" in bars and "p2 sites: 350,000 CNY" in bars
    assert not any(b.startswith("p2 fiber") for b in bars)      # zero items draw no bar


def test_escaping_of_names(scenario):
    plan = make_plan()
    plan["villages"][0]["name"] = "<script>alert(1)</script>"
    plan["findings"][0]["message"] = "<img src=x onerror=alert(1)>"
    page = report_html(plan, scenario)
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert external_references(page) == []


def test_print_css_and_findings(page):
    assert "@media print" in page and "@page" in page
    assert "phase p2 &lt;uses&gt; 1 of 2 stations &amp; 1 of 1 sites" in page


def test_deterministic(scenario, tmp_path):
    a = write_report_html(make_plan(), scenario, tmp_path / "a.html", raster=make_raster(scenario))
    b = write_report_html(make_plan(), scenario, tmp_path / "b.html", raster=make_raster(scenario))
    assert a.read_bytes() == b.read_bytes()


def test_status_notice(scenario, page):
    assert 'id="status-notice"' not in page                    # feasible, no blocking finding
    plan = make_plan()
    plan["status"] = "infeasible"
    plan["findings"] = [{"kind": "poor_uncoverable", "message": "village V2 <cannot> be covered", "blocking": True,
                         "details": {}}]
    bad = report_html(plan, scenario)
    box = re.search(r'<div class="notice bad" id="status-notice">(.*?)</div>', bad, flags=re.S).group(1)
    assert "not a solution" in box and "infeasible" in box
    assert "village V2 &lt;cannot&gt; be covered" in box
