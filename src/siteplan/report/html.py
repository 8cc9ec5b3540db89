"""``report.html``: one self-contained page a planner can open offline and print.

No network access is needed or possible: no scripts at all, no external stylesheet, font
or image; maps and charts are inline SVG, the RSRP raster an embedded PNG (``data:``), and
a Content-Security-Policy (``default-src 'none'``) makes the browser refuse anything else.
Sections: the synthetic-data notice, the quota table per phase, a map per phase, coverage
growth and cost by phase, coverage by district, the RSRP raster (when given), solver status
and gap, findings.
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from siteplan.io.atomic import atomic_write_text
from siteplan.model.scenario import Scenario
from siteplan.report._png import RSRP_RANGE_DBM, downsample, png_base64, rsrp_rgba
from siteplan.report._svg import cost_svg, growth_svg, legend_svg, map_frame, map_svg
from siteplan.report._view import EXISTING, NEVER, PlanView, plan_view, quota_state, quota_text
from siteplan.report.raster import NODATA, CoverageRaster, as_coverage_raster

__all__ = ["report_html", "write_report_html"]

_CSS = """
:root { --ink: #1d2329; --muted: #5b6670; --line: #d5dbe0; --ok: #1a7f37; --warn: #9a6700; --bad: #b42318; }
* { box-sizing: border-box; }
body { margin: 0; padding: 16px 20px 40px; color: var(--ink); background: #fff;
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC",
             "Microsoft YaHei", "PingFang SC", sans-serif; }
main { max-width: 1240px; margin: 0 auto; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 26px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 3px; }
.sub { color: var(--muted); margin: 0 0 10px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600; color: #fff; }
.badge.optimal { background: var(--ok); } .badge.feasible { background: var(--warn); }
.badge.other { background: var(--bad); }
.notice { border: 2px solid #c77700; background: #fff7e6; padding: 8px 12px; margin: 10px 0; }
.notice.none { border-color: var(--line); background: #f6f8fa; }
.notice.bad { border-color: var(--bad); background: #fdecea; }
.notice.bad strong { color: var(--bad); }
.notice strong { color: #8a4b00; }
table { border-collapse: collapse; margin: 6px 0 10px; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: right; vertical-align: top; }
th { background: #f1f4f7; font-weight: 600; }
td.l, th.l { text-align: left; }
td.nowrap { white-space: nowrap; }
td.met { color: var(--ok); } td.below, td.above { color: var(--bad); font-weight: 700; }
.maps { display: flex; flex-wrap: wrap; gap: 14px; }
figure { margin: 0; break-inside: avoid; page-break-inside: avoid; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 2px; max-width: 1180px; }
svg { max-width: 100%; height: auto; font-family: inherit; }
svg.map text { fill: #222; }
svg.map text.district { fill: #6a737d; font-weight: 600; paint-order: stroke; stroke: #fff;
                        stroke-width: 3px; text-anchor: middle; opacity: 0.85; }
.charts { display: flex; flex-wrap: wrap; gap: 24px; }
.findings li.blocking, .bad-note { color: var(--bad); }
footer { margin-top: 30px; color: var(--muted); font-size: 12px; }
@page { size: A4; margin: 12mm; }
@media print {
  body { padding: 0; font-size: 10pt; }
  main { max-width: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  table, figure, .notice { break-inside: avoid; page-break-inside: avoid; }
  .maps figure { width: 100%; }
  .notice { border-width: 3px; }
}
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _fmt_int(x: Any) -> str:
    return "–" if x is None else f"{int(x):,}"


def _fmt_cny(x: Any) -> str:
    return "–" if x is None else f"{float(x):,.0f}"


def _fmt_gap(x: Any) -> str:
    if x is None:
        return "–"
    x = float(x)
    return "∞" if not np.isfinite(x) else f"{100 * x:.3g}%"


def _badge(status: Any) -> str:
    s = str(status)
    cls = s if s in ("optimal", "feasible") else "other"
    return f'<span class="badge {cls}">{escape(s)}</span>'


def _notice(view: PlanView) -> str:
    syn = view.synthetic
    extra = []
    n_syn = int(view.v_synthetic.sum())
    if n_syn:
        extra.append(f"{n_syn} of {len(view.v_id)} village locations are generated, not surveyed")
    if view.scenario.demand.generated:
        extra.append("demand points are generated around the villages")
    if not syn and not extra:
        return ('<div class="notice none" id="synthetic-notice">No part of this scenario\'s inputs is marked '
                "synthetic (scenario.toml <code>synthetic = []</code>).</div>")
    items = "".join(f"<li>{escape(s)}</li>" for s in syn) + "".join(f"<li>{escape(s)}</li>" for s in extra)
    return ('<div class="notice" id="synthetic-notice"><strong>Synthetic data.</strong> Parts of this '
            "scenario were generated, not surveyed; figures that depend on them are illustrations, not "
            f"findings about the real network:<ul>{items}</ul></div>")


def _status_notice(view: PlanView) -> str:
    """A red box at the top when the plan is not a solution or has blocking findings."""
    status = str(view.plan.get("status", "unknown"))
    blocking = [f for f in (view.plan.get("findings") or []) if f.get("blocking")]
    if status in ("optimal", "feasible") and not blocking:
        return ""
    items = "".join(f"<li><strong>{escape(str(f.get('kind', '')))}</strong>: {escape(str(f.get('message', '')))}</li>"
                    for f in blocking)
    head = ("This plan is not a solution" if status not in ("optimal", "feasible")
            else "This plan has blocking findings")
    return (f'<div class="notice bad" id="status-notice"><strong>{head}</strong> (status '
            f"{escape(status)}).{f'<ul>{items}</ul>' if items else ''}</div>")


def _quota_table(view: PlanView) -> str:
    ops = view.operators
    head = ('<tr><th class="l" rowspan="2">phase</th><th class="l" rowspan="2">period</th>'
            '<th colspan="2">new sites</th><th colspan="2">new stations</th>'
            f'<th colspan="{len(ops)}">new stations by operator</th>'
            '<th colspan="2">villages covered</th><th rowspan="2">fiber [km]</th><th rowspan="2">cost [CNY]</th></tr>'
            "<tr><th>built</th><th>quota</th><th>added</th><th>quota</th>"
            + "".join(f"<th>{escape(o)}</th>" for o in ops)
            + "<th>all</th><th>poor</th></tr>")
    rows, bad = [], []
    n_all, n_poor = len(view.v_id), int(view.v_poor.sum())
    before_all, before_poor = view.covered_count(EXISTING), view.covered_count(EXISTING, view.v_poor)
    on_air = np.bincount(view.st_op[view.st_phase == EXISTING], minlength=len(ops))
    rows.append('<tr><td class="l">before</td><td class="l">existing network</td>'
                f'<td>{int(sum(k == "existing" for k in view.site_kind)):,}</td><td></td>'
                f"<td>{int((view.st_phase == EXISTING).sum()):,}</td><td></td>"
                + "".join(f"<td>{int(c):,}</td>" for c in on_air)
                + f"<td>{before_all:,} / {n_all:,}</td><td>{before_poor:,} / {n_poor:,}</td><td></td><td></td></tr>")
    for p, name in enumerate(view.phases):
        ph = view.phase_dict(p)
        sites = int(np.count_nonzero((view.site_phase == p) & np.array([k == "candidate" for k in view.site_kind],
                                                                       dtype=bool)))
        stations = int(np.count_nonzero(view.st_phase == p))
        by_op = np.bincount(view.st_op[view.st_phase == p], minlength=len(ops))
        qs, qt = ph.get("quota_sites"), ph.get("quota_stations")
        ss, st = quota_state(sites, qs), quota_state(stations, qt)
        bad += [f"{name} ({what} {state})" for what, state in (("sites", ss), ("stations", st))
                if state in ("below", "above")]
        period = f"{ph.get('start', '')} – {ph.get('end', '')}".strip(" –")
        rows.append(
            f'<tr><td class="l">{escape(name)}</td><td class="l nowrap">{escape(period)}</td>'
            f'<td class="{ss}">{sites:,}</td><td>{escape(quota_text(qs))}</td>'
            f'<td class="{st}">{stations:,}</td><td>{escape(quota_text(qt))}</td>'
            + "".join(f"<td>{int(c):,}</td>" for c in by_op)
            + f"<td>{view.covered_count(p):,} / {n_all:,}</td>"
            + f"<td>{view.covered_count(p, view.v_poor):,} / {n_poor:,}</td>"
            + f"<td>{view.fiber_km(p):,.1f}</td><td>{_fmt_cny(view.cost(p)['total'])}</td></tr>")
    note = ("" if not bad else
            f'<p class="sub bad-note">Quota not met: {escape(", ".join(bad))}.</p>')
    return f'<table id="quota-table">{head}{"".join(rows)}</table>{note}'


def _district_table(view: PlanView) -> str:
    districts = sorted(set(view.v_district))
    head = ('<tr><th>#</th><th class="l">district</th><th>villages</th><th>poor</th><th>covered before</th>'
            + "".join(f"<th>covered {escape(p)}<br>all · poor</th>" for p in view.phases)
            + "<th>never covered</th></tr>")
    rows = []
    for j, d in enumerate(districts):
        m = np.array([x == d for x in view.v_district], dtype=bool)
        mp = m & view.v_poor
        n, npoor = int(m.sum()), int(mp.sum())
        cells = [f"<td>D{j + 1}</td>", f'<td class="l">{escape(d) or "(none)"}</td>', f"<td>{n:,}</td>", f"<td>{npoor:,}</td>",
                 f"<td>{view.covered_count(EXISTING, m):,}</td>"]
        for p in range(view.n_phases):
            c, cp = view.covered_count(p, m), view.covered_count(p, mp)
            pct = f" ({100 * c / n:.0f}%)" if n else ""
            cells.append(f"<td>{c:,}{pct} · {cp:,}/{npoor:,}</td>")
        never = int(np.count_nonzero(m & (view.v_first >= NEVER)))
        cells.append(f'<td class="{"below" if never else "met"}">{never:,}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table id="district-table">{head}{"".join(rows)}</table>'


def _cost_table(view: PlanView) -> str:
    items = ("sites", "stations", "colocation", "fiber", "total")
    head = '<tr><th class="l">phase</th>' + "".join(f"<th>{i} [CNY]</th>" for i in items) + "</tr>"
    rows, tot = [], dict.fromkeys(items, 0.0)
    for p, name in enumerate(view.phases):
        c = view.cost(p)
        for i in items:
            tot[i] += c[i]
        rows.append(f'<tr><td class="l">{escape(name)}</td>' + "".join(f"<td>{_fmt_cny(c[i])}</td>" for i in items)
                    + "</tr>")
    rows.append('<tr><th class="l">all phases</th>' + "".join(f"<th>{_fmt_cny(tot[i])}</th>" for i in items)
                + "</tr>")
    return f'<table id="cost-table">{head}{"".join(rows)}</table>'


def _solver_table(view: PlanView) -> str:
    plan = view.plan
    si = plan.get("siting") or {}
    fi = plan.get("fiber") or {}
    opts = plan.get("options") or {}
    size = si.get("model_size") or {}
    rows = [
        ("plan status", _badge(plan.get("status", "unknown"))),
        ("options", escape(", ".join(f"{k}={opts[k]}" for k in sorted(opts)) or "–")),
        ("siting solver", escape(f"{si.get('solver', '–')} {si.get('solver_version', '')}".strip())),
        ("siting objective [CNY]", _fmt_cny(si.get("objective"))),
        ("siting bound [CNY]", _fmt_cny(si.get("bound"))),
        ("siting gap", _fmt_gap(si.get("gap"))),
        ("siting model", escape(", ".join(f"{k} {_fmt_int(v)}" for k, v in sorted(size.items())) or "–")),
        ("fiber status", _badge(fi["status"]) if fi.get("status") else "–"),
        ("fiber cost [CNY]", _fmt_cny(fi.get("cost_cny"))),
        ("fiber lower bound [CNY]", _fmt_cny(fi.get("lower_bound_cny"))),
        ("fiber gap", _fmt_gap(fi.get("gap"))),
    ]
    body = "".join(f'<tr><th class="l">{escape(k)}</th><td class="l">{v}</td></tr>' for k, v in rows)
    return f'<table id="solver-table">{body}</table>'


def _findings(view: PlanView) -> str:
    fs = view.plan.get("findings") or []
    if not fs:
        return '<p class="sub" id="findings">No findings.</p>'
    items = []
    for f in fs:
        blocking = bool(f.get("blocking"))
        items.append(f'<li class="{"blocking" if blocking else "info"}"><strong>{escape(str(f.get("kind", "")))}'
                     f'</strong>{" (blocking)" if blocking else ""}: {escape(str(f.get("message", "")))}</li>')
    return f'<ul class="findings" id="findings">{"".join(items)}</ul>'


def _raster_section(view: PlanView, raster: CoverageRaster | None, frame) -> str:
    if raster is None:
        return ""
    if raster.georef.crs.upper() != str(view.scenario.crs).upper():
        return (f'<p class="sub">The coverage raster is in {escape(raster.georef.crs)}, not the scenario CRS '
                f"{escape(view.scenario.crs)}; it is written to coverage.tif but not drawn here.</p>")
    small, k = downsample(raster.rsrp_dbm, 700)
    g = raster.georef
    ny, nx = small.shape
    extent = (g.x_min, g.x_min + nx * k * g.cell_x, g.y_max - ny * k * g.cell_y, g.y_max)
    b64 = png_base64(rsrp_rgba(small, NODATA))
    svg = map_svg(view, view.n_phases - 1, frame, raster_png=(b64, extent), show_stations=False,
                  title="best-server RSRP")
    valid = raster.rsrp_dbm[raster.rsrp_dbm != NODATA]
    stats = (f"{valid.size:,} cells with signal, median {float(np.median(valid)):.1f} dBm"
             if valid.size else "no cell has a signal")
    lo, hi = RSRP_RANGE_DBM
    return (f'<h2 id="rsrp">Best-server RSRP after the programme</h2><figure>{svg}<figcaption>Best-server RSRP '
            f"[dBm], viridis from {lo:g} dBm (dark) to {hi:g} dBm (bright), cells of {g.cell_x:g} m "
            f"(shown every {k} cell{'s' if k > 1 else ''}); {stats}. Full resolution: coverage.tif."
            "</figcaption></figure>")


def report_html(plan: dict | PlanView, scenario: Scenario | None = None, *, raster: Any = None) -> str:
    """The report page as text (see the module docstring)."""
    view = plan if isinstance(plan, PlanView) else plan_view(plan, scenario)
    cov = as_coverage_raster(raster)
    sc = view.plan.get("scenario") or {}
    name = str(sc.get("name") or view.scenario.name)
    frame = map_frame(view)
    maps = []
    for p, pname in enumerate(view.phases):
        n_sites = int(view.sites_present(p).sum())
        n_st = int(view.stations_present(p).sum())
        cap = (f"End of phase {escape(pname)}: {n_sites:,} sites, {n_st:,} stations on air, "
               f"{view.covered_count(p):,} of {len(view.v_id):,} villages covered "
               f"({view.covered_count(p, view.v_poor):,} of {int(view.v_poor.sum()):,} poor). "
               f"Local CRS {escape(view.scenario.crs)} [m].")
        maps.append(f'<figure class="phase-map" id="map-{p + 1}">{map_svg(view, p, frame, title=f"phase {pname}")}'
                    f"<figcaption>{cap}</figcaption></figure>")
    files = ("plan.json, stations.csv, sites.csv, villages.csv, fiber.csv, plan.geojson, plan.kml, "
             + ("coverage.tif, " if cov is not None else "") + "figures/*.png")
    body = [
        f"<header><h1>Network plan: {escape(name)}</h1>",
        f'<p class="sub">status {_badge(view.plan.get("status", "unknown"))} · {len(view.v_id):,} villages · '
        f"{len(view.operators)} operators · {view.n_phases} phases · scenario digest "
        f"<code>{escape(str(sc.get('digest') or view.scenario.digest or '–')[:16])}</code></p></header>",
        _status_notice(view),
        _notice(view),
        '<h2 id="quotas">Quota table per phase</h2>', _quota_table(view),
        '<h2 id="maps">Maps per phase</h2>', f'<div class="maps">{"".join(maps)}</div>', legend_svg(view),
        '<h2 id="growth">Coverage growth and cost by phase</h2>',
        f'<div class="charts"><figure>{growth_svg(view)}<figcaption>Share of villages covered before the '
        f"programme and at the end of each phase.</figcaption></figure><figure>{cost_svg(view)}<figcaption>"
        "Cost of each phase by item (undiscounted).</figcaption></figure></div>",
        _cost_table(view),
        '<h2 id="districts">Coverage by district</h2>', _district_table(view),
        _raster_section(view, cov, frame),
        '<h2 id="solver">Solver status and optimality gap</h2>', _solver_table(view),
        '<h2 id="findings-h">Findings</h2>', _findings(view),
        f"<footer>Written by siteplan from plan.json (format {escape(str(view.plan.get('format', '')))} "
        f"version {escape(str(view.plan.get('version', '')))}). Files beside this page: {escape(files)}."
        "</footer>",
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>siteplan report: {escape(name)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
            + "\n".join(b for b in body if b) + "\n</main>\n</body>\n</html>\n")


def write_report_html(plan: dict | PlanView, scenario: Scenario | None, path: str | os.PathLike, *,
                      raster: Any = None) -> Path:
    """Write ``report.html`` (UTF-8) atomically; return its path. ``raster``: optional
    best-server RSRP grid (anything :func:`~siteplan.report.raster.as_coverage_raster` takes)."""
    return atomic_write_text(path, report_html(plan, scenario, raster=raster))
