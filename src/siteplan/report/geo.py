"""GIS outputs of a plan: ``plan.geojson`` (RFC 7946) and ``plan.kml`` (OGC KML 2.2).

GeoJSON: one FeatureCollection, WGS84 longitude/latitude (in that order) rounded to
:data:`DECIMALS` decimals, no ``crs`` member (RFC 7946 §4), flat scalar properties so that
every GIS reads them as columns. Feature layers: ``site`` and ``station`` (Points),
``fiber`` (LineStrings), ``fiber_terminal`` and ``village`` (Points); the ``layer``
property says which. KML: one Document with shared styles (per operator, per phase, per
village state) and a folder for the state before the programme, one per phase, and one for
villages left uncovered. Both are built with the standard library only (KML as escaped
text: ElementTree took seconds for a Shantou-sized plan).
"""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

import numpy as np

from siteplan.io.atomic import atomic_write_bytes, atomic_write_text
from siteplan.model.scenario import Scenario
from siteplan.report._style import (
    SITE_EXISTING,
    SITE_NEW,
    VILLAGE_COVERED,
    VILLAGE_UNCOVERED,
    kml_colour,
    operator_colour,
    phase_colour,
)
from siteplan.report._view import EXISTING, NEVER, PlanView, finite_or_none, plan_view

__all__ = ["DECIMALS", "geojson_dict", "write_geojson", "kml_text", "write_kml"]

#: decimals of every GeoJSON/KML coordinate (1e-6 deg is about 0.1 m)
DECIMALS = 6

_KML_NS = "http://www.opengis.net/kml/2.2"
# Google Earth's built-in icon set (served from its own cache; only used by the KML file)
_ICON_SITE = "http://maps.google.com/mapfiles/kml/shapes/triangle.png"
_ICON_DOT = "http://maps.google.com/mapfiles/kml/shapes/shaded_dot.png"
_ICON_POOR = "http://maps.google.com/mapfiles/kml/shapes/open-diamond.png"
_ICON_PLAIN = "http://maps.google.com/mapfiles/kml/shapes/placemark_circle.png"


def _pos(lon: float, lat: float) -> list[float]:
    return [round(float(lon), DECIMALS), round(float(lat), DECIMALS)]


def _line(arr: np.ndarray) -> list[list[float]]:
    pts = [_pos(x, y) for x, y in arr]
    out = [pts[0]]
    for p in pts[1:]:
        if p != out[-1]:
            out.append(p)
    if len(out) < 2:            # degenerate after rounding: keep both ends (still >= 2 positions)
        out = [pts[0], pts[-1]]
    return out


def _phase_name(view: PlanView, idx: int) -> str | None:
    return None if idx == EXISTING or idx >= NEVER else view.phases[idx]


def _site_props(view: PlanView, i: int, new_count: np.ndarray) -> dict:
    return {
        "layer": "site", "id": view.site_id[i], "kind": view.site_kind[i],
        "built_phase": _phase_name(view, int(view.site_phase[i])) if view.site_kind[i] == "candidate" else None,
        "height_m": finite_or_none(round(float(view.site_height[i]), 1)),
        "tenants_before": ";".join(view.site_before[i]), "tenants_after": ";".join(view.site_after[i]),
        "n_tenants_after": len(view.site_after[i]), "new_stations": int(new_count[i]),
    }


def _station_order(view: PlanView) -> list[int]:
    return sorted(range(len(view.st_site)),
                  key=lambda i: (int(view.st_phase[i]), view.site_id[view.st_site[i]], int(view.st_op[i])))


def _station_props(view: PlanView, i: int) -> dict:
    p = int(view.st_phase[i])
    return {"layer": "station", "site_id": view.site_id[view.st_site[i]],
            "operator": view.operators[view.st_op[i]], "phase": _phase_name(view, p), "new": p != EXISTING}


def _route_props(view: PlanView, i: int) -> dict:
    r = view.routes[i]
    fibers = r.get("fibers")
    return {"layer": "fiber", "phase": view.phases[int(view.route_phase[i])],
            "u": None if r.get("u") is None else str(r["u"]), "v": None if r.get("v") is None else str(r["v"]),
            "length_m": finite_or_none(r.get("length_m")), "cost_cny": finite_or_none(r.get("cost_cny")),
            "road_class": r.get("road_class"), "existing": r.get("existing"),
            "fibers": None if fibers is None else int(fibers)}


def _terminal_props(view: PlanView, i: int) -> dict:
    t = view.terminals[i]
    props = {"layer": "fiber_terminal", "id": str(t.get("id")), "kind": t.get("kind"),
             "phase": _phase_name(view, int(view.terminal_phase[i]))}
    for key in ("node", "pop"):
        props[key] = None if t.get(key) is None else str(t[key])
    for key in ("bandwidth_mbps", "drop_m"):
        props[key] = finite_or_none(t.get(key))
    props["port"] = None if t.get("port") is None else int(t["port"])
    return props


def _village_props(view: PlanView, i: int) -> dict:
    first = int(view.v_first[i])
    props = {
        "layer": "village", "id": view.v_id[i], "name": view.v_name[i], "district": view.v_district[i],
        "town": view.v_town[i], "poor": bool(view.v_poor[i]),
        "population": None if view.v_population[i] < 0 else int(view.v_population[i]),
        "synthetic_location": bool(view.v_synthetic[i]),
        "covered": bool(view.v_covered[i, -1]),
        "first_covered_phase": "existing" if first == EXISTING else _phase_name(view, first),
        "best_rsrp_dbm": finite_or_none(view.v_best_rsrp[i]),
        "serving_sites": ";".join(view.v_serving[i]),
    }
    for p, name in enumerate(view.phases):
        props[f"covered_{name}"] = bool(view.v_covered[i, p])
    return props


def _new_station_count(view: PlanView) -> np.ndarray:
    return np.bincount(view.st_site[view.st_phase != EXISTING], minlength=len(view.site_id))


def geojson_dict(plan: dict | PlanView, scenario: Scenario | None = None) -> dict:
    """The plan as an RFC 7946 FeatureCollection (a dict ready for ``json.dumps``)."""
    view = plan if isinstance(plan, PlanView) else plan_view(plan, scenario)
    feats: list[dict] = []

    def point(fid: str, lon: float, lat: float, props: dict) -> None:
        feats.append({"type": "Feature", "id": fid,
                      "geometry": {"type": "Point", "coordinates": _pos(lon, lat)}, "properties": props})

    new_count = _new_station_count(view)
    for i in sorted(range(len(view.site_id)), key=lambda i: view.site_id[i]):
        point(f"site:{view.site_id[i]}", view.site_lon[i], view.site_lat[i], _site_props(view, i, new_count))
    for i in _station_order(view):
        s = int(view.st_site[i])
        point(f"station:{view.site_id[s]}:{view.operators[view.st_op[i]]}", view.site_lon[s], view.site_lat[s],
              _station_props(view, i))
    for i in range(len(view.routes)):
        feats.append({"type": "Feature", "id": f"fiber:{i + 1}",
                      "geometry": {"type": "LineString", "coordinates": _line(view.route_lonlat[i])},
                      "properties": _route_props(view, i)})
    for i in range(len(view.terminals)):
        if np.isfinite(view.terminal_lonlat[i, 0]):
            point(f"terminal:{view.terminals[i].get('id')}", view.terminal_lonlat[i, 0], view.terminal_lonlat[i, 1],
                  _terminal_props(view, i))
    for i in sorted(range(len(view.v_id)), key=lambda i: view.v_id[i]):
        point(f"village:{view.v_id[i]}", view.v_lon[i], view.v_lat[i], _village_props(view, i))

    out: dict = {"type": "FeatureCollection"}
    pts = [f["geometry"]["coordinates"] for f in feats if f["geometry"]["type"] == "Point"]
    for f in feats:
        if f["geometry"]["type"] == "LineString":
            pts.extend(f["geometry"]["coordinates"])
    if pts:
        a = np.asarray(pts, dtype=float)
        out["bbox"] = [float(a[:, 0].min()), float(a[:, 1].min()), float(a[:, 0].max()), float(a[:, 1].max())]
    out["features"] = feats
    return out


def _dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def write_geojson(plan: dict | PlanView, scenario: Scenario | None, path: str | os.PathLike) -> Path:
    """Write ``plan.geojson`` (UTF-8, one feature a line) atomically; return its path."""
    gj = geojson_dict(plan, scenario)
    head = {k: v for k, v in gj.items() if k != "features"}
    lines = ",\n".join(_dumps(f) for f in gj["features"])
    text = _dumps(head)[:-1] + ',"features":[\n' + lines + ("\n" if lines else "") + "]}\n"
    return atomic_write_text(path, text)


# --- KML -----------------------------------------------------------------------------------


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


_XML_SPECIAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(text: str) -> str:
    """XML character data: escaped, characters XML 1.0 forbids removed."""
    text = str(text)
    if _XML_SPECIAL.search(text) is None:
        return text
    return xml_escape(_XML_INVALID.sub("", text))


@functools.lru_cache(maxsize=256)
def _data_open(name: str) -> str:
    return f"<Data name={quoteattr(_XML_INVALID.sub('', name))}><value>"


class _Xml:
    """Indented XML written as text (much faster than ElementTree for ~10^5 elements)."""

    def __init__(self):
        self.parts: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>\n']
        self.depth = 0

    def open(self, tag: str, **attrib: str) -> None:
        attrs = "".join(f" {k}={quoteattr(_XML_INVALID.sub('', v))}" for k, v in attrib.items())
        self.parts.append(f"{' ' * self.depth}<{tag}{attrs}>\n")
        self.depth += 1

    def close(self, tag: str) -> None:
        self.depth -= 1
        self.parts.append(f"{' ' * self.depth}</{tag}>\n")

    def leaf(self, tag: str, text: str, **attrib: str) -> None:
        attrs = "".join(f" {k}={quoteattr(_XML_INVALID.sub('', v))}" for k, v in attrib.items())
        self.parts.append(f"{' ' * self.depth}<{tag}{attrs}>{_x(text)}</{tag}>\n")

    def text(self) -> str:
        return "".join(self.parts)


def _icon_style(x: _Xml, sid: str, colour: str, href: str, scale: float) -> None:
    x.open("Style", id=sid)
    x.open("IconStyle")
    x.leaf("color", kml_colour(colour))
    x.leaf("scale", f"{scale:g}")
    x.open("Icon")
    x.leaf("href", href)
    x.close("Icon")
    x.close("IconStyle")
    x.open("LabelStyle")
    x.leaf("scale", "0")
    x.close("LabelStyle")
    x.close("Style")


def _ext(x: _Xml, props: dict) -> None:
    x.open("ExtendedData")
    pad = " " * x.depth
    for k, v in props.items():
        if v is None:
            text = ""
        elif isinstance(v, bool):
            text = "true" if v else "false"
        else:
            text = str(v)
        x.parts.append(f"{pad}{_data_open(k)}{_x(text)}</value></Data>\n")
    x.close("ExtendedData")


def _placemark(x: _Xml, name: str, style: str, props: dict, lon: float, lat: float) -> None:
    x.open("Placemark")
    x.leaf("name", name)
    x.leaf("styleUrl", "#" + style)
    _ext(x, props)
    x.open("Point")
    x.leaf("coordinates", f"{round(float(lon), DECIMALS)!r},{round(float(lat), DECIMALS)!r}")
    x.close("Point")
    x.close("Placemark")


def _line_placemark(x: _Xml, name: str, style: str, props: dict, coords: list[list[float]]) -> None:
    x.open("Placemark")
    x.leaf("name", name)
    x.leaf("styleUrl", "#" + style)
    _ext(x, props)
    x.open("LineString")
    x.leaf("tessellate", "1")
    x.leaf("coordinates", " ".join(f"{a!r},{b!r}" for a, b in coords))
    x.close("LineString")
    x.close("Placemark")


def _village_style(view: PlanView, i: int, covered: bool) -> str:
    return f"village_{'covered' if covered else 'uncovered'}_{'poor' if view.v_poor[i] else 'other'}"


def kml_text(plan: dict | PlanView, scenario: Scenario | None = None) -> str:
    """The plan as a KML 2.2 document (text)."""
    view = plan if isinstance(plan, PlanView) else plan_view(plan, scenario)
    x = _Xml()
    x.open("kml", xmlns=_KML_NS)
    x.open("Document")
    name = str((view.plan.get("scenario") or {}).get("name") or view.scenario.name)
    x.leaf("name", f"siteplan: {name}")
    syn = view.synthetic
    desc = f"Plan status: {view.plan.get('status', 'unknown')}."
    if syn:
        desc += " SYNTHETIC DATA - generated, not surveyed: " + ", ".join(syn) + "."
    x.leaf("description", desc)
    _icon_style(x, "site_existing", SITE_EXISTING, _ICON_SITE, 0.9)
    _icon_style(x, "site_new", SITE_NEW, _ICON_SITE, 1.1)
    for k in range(len(view.operators)):
        _icon_style(x, f"station_{k + 1}", operator_colour(k), _ICON_DOT, 0.7)
    for cov in (True, False):
        for poor in (True, False):
            colour = VILLAGE_COVERED if cov else VILLAGE_UNCOVERED
            sid = f"village_{'covered' if cov else 'uncovered'}_{'poor' if poor else 'other'}"
            _icon_style(x, sid, colour, _ICON_POOR if poor else _ICON_PLAIN, 1.0 if poor else 0.8)
    for p in range(view.n_phases):
        x.open("Style", id=f"fiber_{p + 1}")
        x.open("LineStyle")
        x.leaf("color", kml_colour(phase_colour(p)))
        x.leaf("width", "3")
        x.close("LineStyle")
        x.close("Style")
    _icon_style(x, "terminal", "#333333", _ICON_DOT, 0.5)

    new_count = _new_station_count(view)
    site_order = sorted(range(len(view.site_id)), key=lambda i: view.site_id[i])
    st_order = _station_order(view)
    v_order = sorted(range(len(view.v_id)), key=lambda i: view.v_id[i])

    def folder(name: str) -> None:
        x.open("Folder")
        x.leaf("name", name)

    def fill(p: int) -> None:
        folder("Existing sites" if p == EXISTING else "Sites built")
        for i in site_order:
            present = (view.site_kind[i] == "existing") if p == EXISTING else (
                view.site_kind[i] == "candidate" and view.site_phase[i] == p)
            if present:
                _placemark(x, view.site_id[i], "site_existing" if p == EXISTING else "site_new",
                           _site_props(view, i, new_count), view.site_lon[i], view.site_lat[i])
        x.close("Folder")
        folder("Existing stations" if p == EXISTING else "Stations added")
        for k in range(len(view.operators)):
            folder(view.operators[k])
            for i in st_order:
                if view.st_phase[i] == p and view.st_op[i] == k:
                    s = int(view.st_site[i])
                    _placemark(x, f"{view.site_id[s]} {view.operators[k]}", f"station_{k + 1}",
                               _station_props(view, i), view.site_lon[s], view.site_lat[s])
            x.close("Folder")
        x.close("Folder")
        if p != EXISTING:
            folder("Fiber routes")
            for i in range(len(view.routes)):
                if view.route_phase[i] == p:
                    props = _route_props(view, i)
                    _line_placemark(x, f"{props['u']} - {props['v']}", f"fiber_{p + 1}", props,
                                    _line(view.route_lonlat[i]))
            x.close("Folder")
            folder("Fiber terminals")
            for i in range(len(view.terminals)):
                if view.terminal_phase[i] == p and np.isfinite(view.terminal_lonlat[i, 0]):
                    props = _terminal_props(view, i)
                    _placemark(x, f"{props['id']} ({props['kind']})", "terminal", props,
                               view.terminal_lonlat[i, 0], view.terminal_lonlat[i, 1])
            x.close("Folder")
        folder("Villages covered before the programme" if p == EXISTING else "Villages newly covered")
        for i in v_order:
            if view.v_first[i] == p:
                _placemark(x, view.v_name[i] or view.v_id[i], _village_style(view, i, True),
                           _village_props(view, i), view.v_lon[i], view.v_lat[i])
        x.close("Folder")

    folder("Before the programme")
    fill(EXISTING)
    x.close("Folder")
    for p, pname in enumerate(view.phases):
        folder(f"Phase {pname}")
        fill(p)
        x.close("Folder")
    folder("Villages not covered at the end")
    for i in v_order:
        if view.v_first[i] >= NEVER:
            _placemark(x, view.v_name[i] or view.v_id[i], _village_style(view, i, False),
                       _village_props(view, i), view.v_lon[i], view.v_lat[i])
    x.close("Folder")
    x.close("Document")
    x.close("kml")
    return x.text()


def write_kml(plan: dict | PlanView, scenario: Scenario | None, path: str | os.PathLike) -> Path:
    """Write ``plan.kml`` (UTF-8) atomically; return its path."""
    return atomic_write_bytes(path, kml_text(plan, scenario).encode("utf-8"))
