"""Inline SVG for the HTML report: phase maps in the local CRS and two small charts.

Pure string building; every text goes through :func:`html.escape`. Pixel coordinates are
rounded to 0.1 px so that the same plan gives the same bytes.
"""

from __future__ import annotations

import math
from html import escape

import numpy as np

from siteplan.report._style import (
    MAP_BACKGROUND,
    SITE_EXISTING,
    SITE_NEW,
    VILLAGE_COVERED,
    VILLAGE_UNCOVERED,
    operator_colour,
    phase_colour,
)
from siteplan.report._view import EXISTING, PlanView

__all__ = ["MapFrame", "map_frame", "map_svg", "legend_svg", "growth_svg", "cost_svg", "nice_scale_length"]


def _n(x: float) -> str:
    """Compact, deterministic number text for SVG attributes (0.1 px)."""
    t = f"{x:.1f}"
    if t.endswith(".0"):
        t = t[:-2]
    return "0" if t == "-0" else t


def nice_scale_length(span_m: float) -> float:
    """A 1/2/5 x 10^k length [m] close to a fifth of ``span_m`` [m] (at least 1 m)."""
    target = max(span_m / 5.0, 1.0)
    k = math.floor(math.log10(target))
    best = 10.0 ** k
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * 10.0 ** k <= target:
            best = m * 10.0 ** k
    return best


class MapFrame:
    """Maps local CRS metres to SVG pixels (y flipped), for all phase maps of one plan."""

    def __init__(self, x0: float, x1: float, y0: float, y1: float, width: float, max_height: float):
        self.x0, self.x1, self.y0, self.y1 = x0, x1, y0, y1
        s = min(width / (x1 - x0), max_height / (y1 - y0))
        self.scale = s                                   # [px/m]
        self.width = (x1 - x0) * s
        self.height = (y1 - y0) * s

    def px(self, x, y):
        """Local (x, y) [m] -> pixel (u, v)."""
        return (np.asarray(x, dtype=float) - self.x0) * self.scale, (self.y1 - np.asarray(y, dtype=float)) * self.scale


def map_frame(view: PlanView, width: float = 1180.0, max_height: float = 860.0) -> MapFrame:
    """The frame holding every village, site and fiber vertex of the plan, with a margin."""
    xs = [view.v_x, view.site_x] + [r[:, 0] for r in view.route_xy]
    ys = [view.v_y, view.site_y] + [r[:, 1] for r in view.route_xy]
    x = np.concatenate([np.asarray(a, dtype=float).ravel() for a in xs] + [np.zeros(0)])
    y = np.concatenate([np.asarray(a, dtype=float).ravel() for a in ys] + [np.zeros(0)])
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) == 0:
        x, y = np.array([0.0]), np.array([0.0])
    x0, x1, y0, y1 = float(x.min()), float(x.max()), float(y.min()), float(y.max())
    span = max(x1 - x0, y1 - y0, 2000.0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    hx = max(x1 - x0, span * 0.25) / 2 + 0.06 * span
    hy = max(y1 - y0, span * 0.25) / 2 + 0.06 * span
    return MapFrame(cx - hx, cx + hx, cy - hy - 0.05 * span, cy + hy, width, max_height)


def _marker_size(n: int, frame: MapFrame) -> float:
    """Village marker radius [px]: smaller when many villages share the map."""
    return float(np.clip(0.55 * math.sqrt(frame.width * frame.height / max(n, 1)) * 0.25, 1.6, 6.0))


def _diamond(u: float, v: float, r: float) -> str:
    return f"M{_n(u)} {_n(v - r)}L{_n(u + r)} {_n(v)}L{_n(u)} {_n(v + r)}L{_n(u - r)} {_n(v)}Z"


def _triangle(u: float, v: float, r: float) -> str:
    return f"M{_n(u)} {_n(v - r)}L{_n(u + 0.87 * r)} {_n(v + 0.5 * r)}L{_n(u - 0.87 * r)} {_n(v + 0.5 * r)}Z"


def _district_labels(view: PlanView, frame: MapFrame, size: float) -> list[str]:
    """District names at the median of their villages, lifted by a line so that a district
    of one village does not hide it."""
    out = []
    names = sorted(set(view.v_district))
    for d in names:
        if not d:
            continue
        m = np.array([x == d for x in view.v_district])
        u, v = frame.px(np.median(view.v_x[m]), np.median(view.v_y[m]))
        v = max(float(v) - 0.8 * size, size)
        out.append(f'<text class="district" x="{_n(float(u))}" y="{_n(v)}" font-size="{_n(size)}">'
                   f"{escape(d)}</text>")
    return out


def _scale_bar(frame: MapFrame) -> list[str]:
    length = nice_scale_length(frame.x1 - frame.x0)
    w = length * frame.scale
    u0, v0 = 12.0, frame.height - 14.0
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    half = w / 2
    return [
        f'<g class="scalebar"><rect x="{_n(u0)}" y="{_n(v0)}" width="{_n(half)}" height="5" fill="#222"/>'
        f'<rect x="{_n(u0 + half)}" y="{_n(v0)}" width="{_n(half)}" height="5" fill="#fff" stroke="#222" '
        f'stroke-width="0.8"/>'
        f'<text x="{_n(u0)}" y="{_n(v0 - 3)}" font-size="10">0</text>'
        f'<text x="{_n(u0 + w)}" y="{_n(v0 - 3)}" font-size="10" text-anchor="end">{label}</text></g>'
    ]


def _north_arrow(frame: MapFrame) -> str:
    u, v = frame.width - 18.0, 12.0
    return (f'<g class="north"><path d="M{_n(u)} {_n(v)}L{_n(u + 6)} {_n(v + 16)}L{_n(u)} {_n(v + 12)}'
            f'L{_n(u - 6)} {_n(v + 16)}Z" fill="#222"/>'
            f'<text x="{_n(u)}" y="{_n(v + 28)}" font-size="10" text-anchor="middle">N</text></g>')


def map_svg(view: PlanView, p: int, frame: MapFrame, *, raster_png: tuple[str, tuple] | None = None,
            show_stations: bool = True, title: str | None = None) -> str:
    """The state at the end of phase ``p``: sites, stations by operator, fiber by phase,
    villages coloured by coverage (poor villages as diamonds).

    ``raster_png``: ``(base64 PNG, (x_min, x_max, y_min, y_max) [m])`` drawn underneath.
    """
    W, H = frame.width, frame.height
    parts = [f'<svg class="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(W)} {_n(H)}" '
             f'width="{_n(W)}" height="{_n(H)}" role="img" aria-label="{escape(title or "map")}">',
             f'<rect class="map-bg" x="0" y="0" width="{_n(W)}" height="{_n(H)}" fill="{MAP_BACKGROUND}"/>']
    if raster_png is not None:
        b64, (x0, x1, y0, y1) = raster_png
        u0, v0 = frame.px(x0, y1)
        u1, v1 = frame.px(x1, y0)
        parts.append(f'<image x="{_n(float(u0))}" y="{_n(float(v0))}" width="{_n(float(u1 - u0))}" '
                     f'height="{_n(float(v1 - v0))}" preserveAspectRatio="none" '
                     f'href="data:image/png;base64,{b64}"/>')
    r_v = _marker_size(len(view.v_id), frame)

    # fiber laid by the end of phase p, coloured by the phase it was laid in
    parts.append('<g class="fiber" fill="none" stroke-linecap="round" stroke-linejoin="round">')
    for q in range(p + 1):
        idx = [i for i in range(len(view.routes)) if view.route_phase[i] == q]
        if not idx:
            continue
        d = []
        for i in idx:
            u, v = frame.px(view.route_xy[i][:, 0], view.route_xy[i][:, 1])
            d.append("M" + "L".join(f"{_n(a)} {_n(b)}" for a, b in zip(u.tolist(), v.tolist())))
        width = 2.2 if q == p else 1.3
        opacity = "" if q == p else ' stroke-opacity="0.7"'
        parts.append(f'<path data-phase="{escape(view.phases[q])}" stroke="{phase_colour(q)}" '
                     f'stroke-width="{width}"{opacity} d="{"".join(d)}"/>')
    parts.append("</g>")

    # sites standing by the end of p: existing (open), built before (grey), built in p (black, larger)
    present = view.sites_present(p)
    su, sv = frame.px(view.site_x, view.site_y)
    r_s = r_v * 1.1
    parts.append('<g class="sites">')
    for i in np.flatnonzero(present).tolist():
        existing = view.site_kind[i] == "existing"
        this_phase = (not existing) and view.site_phase[i] == p
        if existing:
            style = f'fill="none" stroke="{SITE_EXISTING}" stroke-width="0.8" stroke-opacity="0.8"'
        elif this_phase:
            style = f'fill="{SITE_NEW}" stroke="#fff" stroke-width="0.5"'
        else:
            style = f'fill="{SITE_EXISTING}" fill-opacity="0.8"'
        built = "existing" if existing else f"built {view.phases[int(view.site_phase[i])]}"
        parts.append(f'<path d="{_triangle(float(su[i]), float(sv[i]), r_s * (1.4 if this_phase else 1.0))}" '
                     f"{style}><title>{escape(view.site_id[i])} ({escape(built)})</title></path>")
    parts.append("</g>")

    # stations on air by the end of p, one colour per operator, around their site; the ones
    # added in p full strength and ringed, the older ones faded
    if show_stations and len(view.operators):
        on = view.stations_present(p)
        K = len(view.operators)
        r_st = max(1.1, r_v * 0.5)
        off = r_s * 1.2
        parts.append('<g class="stations">')
        for k in range(K):
            sel = np.flatnonzero(on & (view.st_op == k))
            if not len(sel):
                continue
            ang = 2 * math.pi * k / K - math.pi / 2
            du, dv = off * math.cos(ang), off * math.sin(ang)
            items = []
            for i in sel.tolist():
                s = int(view.st_site[i])
                if view.st_phase[i] == p:
                    items.append(f'<circle cx="{_n(float(su[s]) + du)}" cy="{_n(float(sv[s]) + dv)}" '
                                 f'r="{_n(r_st * 1.3)}" stroke="#000" stroke-width="0.6"/>')
                else:
                    items.append(f'<circle cx="{_n(float(su[s]) + du)}" cy="{_n(float(sv[s]) + dv)}" '
                                 f'r="{_n(r_st)}" fill-opacity="0.45"/>')
            parts.append(f'<g data-operator="{escape(view.operators[k])}" fill="{operator_colour(k)}">'
                         + "".join(items) + "</g>")
        parts.append("</g>")

    # villages on top: coverage is what the map is about
    parts.append('<g class="villages">')
    u, v = frame.px(view.v_x, view.v_y)
    for i in range(len(view.v_id)):
        cov = bool(view.v_covered[i, p])
        fill = VILLAGE_COVERED if cov else VILLAGE_UNCOVERED
        tip = escape(f"{view.v_name[i]} ({view.v_id[i]}), {view.v_district[i]}"
                     f"{', poor' if view.v_poor[i] else ''}: {'covered' if cov else 'NOT covered'}")
        if view.v_poor[i]:
            parts.append(f'<path d="{_diamond(float(u[i]), float(v[i]), r_v * 1.35)}" fill="{fill}" '
                         f'stroke="#000" stroke-width="0.9"><title>{tip}</title></path>')
        else:
            parts.append(f'<circle cx="{_n(float(u[i]))}" cy="{_n(float(v[i]))}" r="{_n(r_v)}" fill="{fill}" '
                         f'stroke="#fff" stroke-width="0.6"><title>{tip}</title></circle>')
    parts.append("</g>")
    parts += _district_labels(view, frame, float(np.clip(frame.width / 40, 12, 24)))
    parts += _scale_bar(frame)
    parts.append(_north_arrow(frame))
    parts.append(f'<rect x="0.5" y="0.5" width="{_n(W - 1)}" height="{_n(H - 1)}" fill="none" stroke="#999"/>')
    parts.append("</svg>")
    return "".join(parts)


def legend_svg(view: PlanView) -> str:
    """One legend for every phase map."""
    items: list[tuple[str, str]] = []
    items.append((f'<circle cx="9" cy="9" r="5" fill="{VILLAGE_COVERED}" stroke="#fff"/>', "village covered"))
    items.append((f'<circle cx="9" cy="9" r="5" fill="{VILLAGE_UNCOVERED}" stroke="#fff"/>', "village not covered"))
    items.append((f'<path d="{_diamond(9, 9, 6.5)}" fill="{VILLAGE_COVERED}" stroke="#000"/>', "poor village (diamond)"))
    items.append((f'<path d="{_triangle(9, 10, 7)}" fill="none" stroke="{SITE_EXISTING}"/>', "existing site"))
    items.append((f'<path d="{_triangle(9, 10, 7)}" fill="{SITE_EXISTING}"/>', "site built in an earlier phase"))
    items.append((f'<path d="{_triangle(9, 10, 8)}" fill="{SITE_NEW}"/>', "site built in this phase"))
    for k, op in enumerate(view.operators):
        items.append((f'<circle cx="9" cy="9" r="4.5" fill="{operator_colour(k)}" stroke="#000" stroke-width="0.6"/>'
                      f'<circle cx="9" cy="9" r="3" fill="{operator_colour(k)}" fill-opacity="0.45" '
                      f'transform="translate(14 0)"/>',
                      f"   station {op}: added this phase (ringed), earlier (faded)"))
    for q, ph in enumerate(view.phases):
        items.append((f'<path d="M1 9L17 9" stroke="{phase_colour(q)}" stroke-width="3"/>', f"fiber laid {ph}"))
    cols = 3
    rows = (len(items) + cols - 1) // cols
    width, row_h = 1200, 22
    out = [f'<svg class="legend" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {rows * row_h + 4}" '
           f'width="{width}" height="{rows * row_h + 4}" role="img" aria-label="legend">']
    for j, (sym, label) in enumerate(items):
        c, r = j % cols, j // cols
        out.append(f'<g transform="translate({c * width // cols},{r * row_h + 2})">{sym}'
                   f'<text x="24" y="13" font-size="12">{escape(label)}</text></g>')
    out.append("</svg>")
    return "".join(out)


def _axes(width: int, height: int, left: int, bottom: int, top: int, yticks, ymax: float, fmt) -> list[str]:
    ph = height - bottom - top
    out = []
    for t in yticks:
        y = top + ph * (1 - t / ymax)
        out.append(f'<line x1="{left}" x2="{width - 10}" y1="{_n(y)}" y2="{_n(y)}" stroke="#ddd"/>'
                   f'<text x="{left - 6}" y="{_n(y + 4)}" font-size="11" text-anchor="end">{fmt(t)}</text>')
    out.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{height - bottom}" stroke="#444"/>'
               f'<line x1="{left}" x2="{width - 10}" y1="{height - bottom}" y2="{height - bottom}" stroke="#444"/>')
    return out


def growth_svg(view: PlanView) -> str:
    """Line chart: share of all villages and of poor villages covered, before and after each phase [%]."""
    labels = ["before"] + list(view.phases)
    n_all = len(view.v_id)
    n_poor = int(view.v_poor.sum())
    all_pct = [100.0 * view.covered_count(p) / n_all if n_all else 0.0 for p in range(EXISTING, view.n_phases)]
    poor_pct = [100.0 * view.covered_count(p, view.v_poor) / n_poor if n_poor else None
                for p in range(EXISTING, view.n_phases)]
    width, height, left, bottom, top = 560, 260, 48, 36, 14
    pw = width - left - 10
    out = [f'<svg class="chart" id="growth-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" role="img" aria-label="coverage growth">']
    out += _axes(width, height, left, bottom, top, [0, 25, 50, 75, 100], 100.0, lambda t: f"{t:g}%")
    xs = [left + pw * (i + 0.5) / len(labels) for i in range(len(labels))]
    ph = height - bottom - top
    for i, lab in enumerate(labels):
        out.append(f'<text x="{_n(xs[i])}" y="{height - bottom + 16}" font-size="11" text-anchor="middle">'
                   f"{escape(lab)}</text>")
    for series, colour, dash, name in ((all_pct, "#1f4e9c", "", "all villages"),
                                       (poor_pct, "#c0392b", ' stroke-dasharray="6 3"', "poor villages")):
        pts = [(xs[i], top + ph * (1 - val / 100.0)) for i, val in enumerate(series) if val is not None]
        if not pts:
            continue
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2.2"{dash} points="'
                   + " ".join(f"{_n(a)},{_n(b)}" for a, b in pts) + '"/>')
        for (a, b), val in zip(pts, [s for s in series if s is not None]):
            out.append(f'<circle cx="{_n(a)}" cy="{_n(b)}" r="3.5" fill="{colour}"><title>{escape(name)}: '
                       f"{val:.1f}%</title></circle>")
    out.append(f'<g font-size="11"><rect x="{left + 10}" y="{top + 4}" width="12" height="3" fill="#1f4e9c"/>'
               f'<text x="{left + 26}" y="{top + 9}">all villages ({n_all})</text>'
               f'<rect x="{left + 10}" y="{top + 18}" width="12" height="3" fill="#c0392b"/>'
               f'<text x="{left + 26}" y="{top + 23}">poor villages ({n_poor})</text></g>')
    out.append("</svg>")
    return "".join(out)


def _nice_ceiling(v: float) -> float:
    """Smallest 1/2/2.5/5 x 10^k at or above ``v`` (1 when ``v`` <= 0)."""
    if not v > 0:
        return 1.0
    k = math.floor(math.log10(v))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * 10.0 ** k >= v * (1 - 1e-12):
            return m * 10.0 ** k
    return 10.0 ** (k + 1)


_COST_ITEMS = (("sites", "#6b6b6b"), ("stations", "#1f4e9c"), ("colocation", "#f28e2b"), ("fiber", "#b8860b"))


def cost_svg(view: PlanView) -> str:
    """Stacked bars: cost of each phase by item [million CNY]."""
    costs = [view.cost(p) for p in range(view.n_phases)]
    top_val = max([sum(c[k] for k, _ in _COST_ITEMS) for c in costs] + [c["total"] for c in costs] + [0.0]) / 1e6
    ymax = _nice_ceiling(top_val)
    width, height, left, bottom, top = 560, 260, 64, 36, 14
    pw, ph = width - left - 10, height - bottom - top
    out = [f'<svg class="chart" id="cost-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" role="img" aria-label="cost by phase">']
    ticks = [ymax * i / 4 for i in range(5)]
    out += _axes(width, height, left, bottom, top, ticks, ymax, lambda t: f"{t:,.3g}")
    out.append(f'<text x="14" y="{top + ph / 2:.0f}" font-size="11" text-anchor="middle" '
               f'transform="rotate(-90 14 {top + ph / 2:.0f})">million CNY</text>')
    n = max(view.n_phases, 1)
    bw = pw / n * 0.5
    for p, c in enumerate(costs):
        x = left + pw * (p + 0.5) / n - bw / 2
        y = top + ph
        for item, colour in _COST_ITEMS:
            h = ph * (c[item] / 1e6) / ymax
            if h > 0:
                y -= h
                out.append(f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(bw)}" height="{_n(h)}" fill="{colour}">'
                           f"<title>{escape(view.phases[p])} {item}: {c[item]:,.0f} CNY</title></rect>")
        out.append(f'<text x="{_n(x + bw / 2)}" y="{height - bottom + 16}" font-size="11" text-anchor="middle">'
                   f"{escape(view.phases[p])}</text>")
    lx = left + 10
    out.append('<g font-size="11">')
    for j, (item, colour) in enumerate(_COST_ITEMS):
        out.append(f'<rect x="{lx + j * 100}" y="{top}" width="10" height="10" fill="{colour}"/>'
                   f'<text x="{lx + j * 100 + 14}" y="{top + 9}">{item}</text>')
    out.append("</g></svg>")
    return "".join(out)
