"""Independent checkers for the report outputs, written from the specifications, not from
siteplan's code.

- :func:`rfc7946_problems`: GeoJSON rules of RFC 7946 (https://www.rfc-editor.org/rfc/rfc7946):
  §3 GeoJSON object has "type"; §3.1 geometry types and coordinates; §3.1.1 a position is
  2 or 3 numbers, longitude then latitude (WGS84, §4: longitude in [-180, 180], latitude
  in [-90, 90]); §3.1.4 a LineString has two or more positions; §3.2 a Feature has
  "geometry" (object or null) and "properties" (object or null), "id" a string or number
  when present; §3.3 a FeatureCollection has "features" (array); §4 no "crs" member
  (removed from the 2008 format); §5 bbox has 2n numbers, west <= east unless crossing the
  antimeridian, south <= north, and contains every position; §6 foreign members allowed.
  Plus siteplan's own rule: coordinates carry at most 7 decimals.
- :class:`TableParser`: the text of every ``<table id=...>`` cell of an HTML page (html.parser).
- :func:`external_references`: every src/href/url()/@import in an HTML page that would need
  the network or another file (anything but ``data:`` and in-page ``#fragment``).
"""

from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser

GEOMETRY_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
                  "GeometryCollection"}


def _is_num(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _decimals(x) -> int:
    d = Decimal(repr(float(x))).normalize()
    return max(0, -d.as_tuple().exponent)


def _position_problems(pos, where: str, max_decimals: int) -> list[str]:
    if not isinstance(pos, list) or len(pos) not in (2, 3) or not all(_is_num(c) for c in pos):
        return [f"{where}: a position is an array of 2 or 3 numbers (RFC 7946 3.1.1), got {pos!r}"]
    out = []
    lon, lat = pos[0], pos[1]
    if not -180 <= lon <= 180:
        out.append(f"{where}: longitude {lon} outside [-180, 180] (RFC 7946 4)")
    if not -90 <= lat <= 90:
        out.append(f"{where}: latitude {lat} outside [-90, 90] (RFC 7946 4)")
    for c in pos[:2]:
        if _decimals(c) > max_decimals:
            out.append(f"{where}: {c} has more than {max_decimals} decimals")
    return out


def _geometry_problems(g, where: str, positions: list, max_decimals: int) -> list[str]:
    if g is None:
        return []
    if not isinstance(g, dict) or g.get("type") not in GEOMETRY_TYPES:
        return [f"{where}: geometry must be null or have a geometry type (RFC 7946 3.1)"]
    t = g["type"]
    if "crs" in g:
        return [f"{where}: 'crs' member is not allowed (RFC 7946 4)"]
    if t == "GeometryCollection":
        out = []
        for i, sub in enumerate(g.get("geometries", [])):
            out += _geometry_problems(sub, f"{where}.geometries[{i}]", positions, max_decimals)
        return out
    c = g.get("coordinates")
    if t == "Point":
        positions.append(c)
        return _position_problems(c, where, max_decimals)
    if t in ("LineString", "MultiPoint"):
        if not isinstance(c, list):
            return [f"{where}: coordinates must be an array"]
        out = []
        if t == "LineString" and len(c) < 2:
            out.append(f"{where}: a LineString needs two or more positions (RFC 7946 3.1.4), got {len(c)}")
        for i, p in enumerate(c):
            positions.append(p)
            out += _position_problems(p, f"{where}[{i}]", max_decimals)
        return out
    return [f"{where}: geometry type {t} not expected in a siteplan plan"]


def rfc7946_problems(obj, max_decimals: int = 7) -> list[str]:
    """Every RFC 7946 rule (see the module docstring) the parsed GeoJSON breaks."""
    out: list[str] = []
    if not isinstance(obj, dict) or obj.get("type") != "FeatureCollection":
        return ["top level must be a FeatureCollection (RFC 7946 3.3)"]
    if "crs" in obj:
        out.append("'crs' member is not allowed (RFC 7946 4)")
    feats = obj.get("features")
    if not isinstance(feats, list):
        return out + ["FeatureCollection needs a 'features' array (RFC 7946 3.3)"]
    positions: list = []
    for i, f in enumerate(feats):
        w = f"features[{i}]"
        if not isinstance(f, dict) or f.get("type") != "Feature":
            out.append(f"{w}: type must be 'Feature' (RFC 7946 3.2)")
            continue
        if "geometry" not in f or "properties" not in f:
            out.append(f"{w}: a Feature has 'geometry' and 'properties' members (RFC 7946 3.2)")
        if f.get("properties") is not None and not isinstance(f.get("properties"), dict):
            out.append(f"{w}: properties must be an object or null (RFC 7946 3.2)")
        if "id" in f and not (isinstance(f["id"], str) or _is_num(f["id"])):
            out.append(f"{w}: id must be a string or number (RFC 7946 3.2)")
        if "crs" in f:
            out.append(f"{w}: 'crs' member is not allowed (RFC 7946 4)")
        out += _geometry_problems(f.get("geometry"), f"{w}.geometry", positions, max_decimals)
    if "bbox" in obj:
        b = obj["bbox"]
        if not (isinstance(b, list) and len(b) == 4 and all(_is_num(x) for x in b)):
            out.append(f"bbox must be [west, south, east, north] (RFC 7946 5), got {b!r}")
        else:
            w, s, e, n = b
            if s > n or w > e:
                out.append(f"bbox south <= north and west <= east (no antimeridian here) (RFC 7946 5.2/5.3), got {b}")
            for p in positions:
                if isinstance(p, list) and len(p) >= 2 and _is_num(p[0]) and _is_num(p[1]):
                    if not (w <= p[0] <= e and s <= p[1] <= n):
                        out.append(f"bbox {b} does not contain position {p} (RFC 7946 5)")
                        break
    return out


class TableParser(HTMLParser):
    """Collects ``tables[id] = [[cell text, ...], ...]`` and the class of each cell."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self.classes: dict[str, list[list[str]]] = {}
        self._table = None
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._table = a.get("id", f"table{len(self.tables)}")
            self.tables[self._table] = []
            self.classes[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = []
            self.tables[self._table].append(self._row)
            self.classes[self._table].append([])
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            self.classes[self._table][-1].append(a.get("class") or "")
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse_tables(html_text: str) -> TableParser:
    p = TableParser()
    p.feed(html_text)
    return p


class _RefParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str, str]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for k, v in attrs:
            if k in ("src", "href", "xlink:href", "srcset", "poster", "data", "action", "background") and v:
                self.refs.append((tag, k, v))


def external_references(html_text: str) -> list[str]:
    """Every reference that leaves the page: attributes other than data:/#fragment, CSS
    url(...) other than data:, any @import, and script/link/iframe/object/embed tags."""
    p = _RefParser()
    p.feed(html_text)
    out = [f"<{t} {k}={v[:60]!r}>" for t, k, v in p.refs if not (v.startswith("data:") or v.startswith("#"))]
    out += [f"<{t}> tag" for t in p.tags if t in ("script", "link", "iframe", "object", "embed", "base")]
    for m in re.finditer(r"url\(\s*['\"]?([^'\")]*)", html_text):
        if not m.group(1).startswith("data:") and not m.group(1).startswith("#"):
            out.append(f"css url({m.group(1)[:60]})")
    if re.search(r"@import", html_text, flags=re.I):
        out.append("css @import")
    return out


def naive_phase_counts(plan: dict) -> dict:
    """Per phase, straight from the plan lists: new sites built, new stations (total and by
    operator), villages and poor villages covered by its end; and 'before' counts."""
    names = [p["name"] for p in plan["phases"]]
    out = {}
    for p, name in enumerate(names):
        sites = sum(1 for s in plan["sites"] if s["kind"] == "candidate" and s["built_phase"] == name)
        stations = [s for s in plan["stations"] if s["phase"] == name]
        by_op = {o: sum(1 for s in stations if s["operator"] == o) for o in plan["operators"]}
        cov = sum(1 for v in plan["villages"] if v["covered_by_phase"][p])
        poor = sum(1 for v in plan["villages"] if v["covered_by_phase"][p] and v["poor"])
        out[name] = {"sites": sites, "stations": len(stations), "by_op": by_op, "covered": cov, "poor": poor}
    out["before"] = {
        "sites": sum(1 for s in plan["sites"] if s["kind"] == "existing"),
        "stations": sum(1 for s in plan["stations"] if s["phase"] is None),
        "covered": sum(1 for v in plan["villages"] if v["first_covered_phase"] == "existing"),
        "poor": sum(1 for v in plan["villages"] if v["first_covered_phase"] == "existing" and v["poor"]),
    }
    return out
