"""Report writers on a plan-sized input, each output on its own, and KML side by side with
its ElementTree baseline (the first implementation) on the same plan.

Run: SITEPLAN_BENCH_PROFILE=full pytest benchmarks/report -s --benchmark-min-rounds=3
Quick smoke run: pytest benchmarks/report --benchmark-disable
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from bench_plan import random_plan, rsrp_raster
from siteplan.report import (
    geojson_dict,
    kml_text,
    plan_view,
    report_html,
    tables_text,
    write_figures,
    write_outputs,
)
from siteplan.report.geo import _route_props, _site_props, _station_props, _village_props


@pytest.fixture(scope="module")
def view(scenario):
    return plan_view(random_plan(scenario), scenario)


def _sizes(view):
    return {"sites": len(view.site_id), "stations": len(view.st_site), "villages": len(view.v_id),
            "routes": len(view.routes)}


def kml_elementtree(view) -> str:
    """Baseline: the same placemarks (sites, stations, routes, villages with ExtendedData)
    built and serialised with xml.etree.ElementTree."""
    import numpy as np

    root = ET.Element("kml", {"xmlns": "http://www.opengis.net/kml/2.2"})
    doc = ET.SubElement(root, "Document")
    new_count = np.bincount(view.st_site[view.st_phase >= 0], minlength=len(view.site_id))

    def pm(parent, name, props, coords, line=False):
        p = ET.SubElement(parent, "Placemark")
        ET.SubElement(p, "name").text = name
        ed = ET.SubElement(p, "ExtendedData")
        for k, v in props.items():
            d = ET.SubElement(ed, "Data", name=k)
            ET.SubElement(d, "value").text = "" if v is None else str(v)
        g = ET.SubElement(p, "LineString" if line else "Point")
        ET.SubElement(g, "coordinates").text = coords

    f = ET.SubElement(doc, "Folder")
    for i in range(len(view.site_id)):
        pm(f, view.site_id[i], _site_props(view, i, new_count), f"{view.site_lon[i]!r},{view.site_lat[i]!r}")
    for i in range(len(view.st_site)):
        s = int(view.st_site[i])
        pm(f, view.site_id[s], _station_props(view, i), f"{view.site_lon[s]!r},{view.site_lat[s]!r}")
    for i in range(len(view.routes)):
        pm(f, str(i), _route_props(view, i), " ".join(f"{a!r},{b!r}" for a, b in view.route_lonlat[i]), True)
    for i in range(len(view.v_id)):
        pm(f, view.v_name[i], _village_props(view, i), f"{view.v_lon[i]!r},{view.v_lat[i]!r}")
    ET.indent(root, space=" ")
    return ET.tostring(root, encoding="unicode")


@pytest.mark.parametrize("impl", ["siteplan", "elementtree"])
def test_kml(benchmark, view, impl):
    fn = kml_text if impl == "siteplan" else kml_elementtree
    text = benchmark(fn, view)
    benchmark.extra_info.update(_sizes(view), bytes=len(text.encode("utf-8")))
    assert text.rstrip().endswith("</kml>")


@pytest.mark.parametrize("writer", ["tables", "geojson", "html"])
def test_text_writers(benchmark, view, scenario, writer):
    if writer == "tables":
        out = benchmark(tables_text, view)
        assert set(out) == {"stations.csv", "sites.csv", "villages.csv", "fiber.csv"}
    elif writer == "geojson":
        out = benchmark(geojson_dict, view)
        assert len(out["features"]) >= len(view.v_id)
    else:
        out = benchmark(report_html, view, raster=rsrp_raster(scenario))
        assert out.startswith("<!DOCTYPE html>")
    benchmark.extra_info.update(_sizes(view))


def test_plan_view(benchmark, scenario):
    plan = random_plan(scenario)
    v = benchmark(plan_view, plan, scenario)
    assert len(v.v_id) == len(scenario.villages)


def test_figures(benchmark, view, scenario, tmp_path):
    paths = benchmark.pedantic(write_figures, args=(view, None, tmp_path), kwargs={"raster": rsrp_raster(scenario)},
                               rounds=1, iterations=1)
    assert all(p.is_file() for p in paths)


def test_write_outputs(benchmark, scenario, tmp_path):
    plan = random_plan(scenario)
    paths = benchmark.pedantic(write_outputs, args=(plan, scenario, tmp_path),
                               kwargs={"raster": rsrp_raster(scenario)}, rounds=1, iterations=1)
    benchmark.extra_info["bytes"] = sum(p.stat().st_size for p in paths)
    assert (tmp_path / "report.html").is_file()
