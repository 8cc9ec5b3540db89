"""Printable PNG figures (matplotlib, Agg canvas; pyplot's global state is never used).

``figures/map_<n>_<phase>.png`` (one per phase), ``figures/coverage_growth.png``,
``figures/cost_by_phase.png`` and, when a raster is given, ``figures/rsrp.png``.
"""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from siteplan.io.atomic import atomic_path
from siteplan.model.scenario import Scenario
from siteplan.report._style import (
    SITE_EXISTING,
    SITE_NEW,
    VILLAGE_COVERED,
    VILLAGE_UNCOVERED,
    operator_colour,
    phase_colour,
)
from siteplan.report._png import RSRP_RANGE_DBM
from siteplan.report._svg import map_frame, nice_scale_length
from siteplan.report._view import EXISTING, PlanView, phase_slug, plan_view
from siteplan.report.raster import NODATA, as_coverage_raster

__all__ = ["write_figures", "figure_names", "DPI"]

#: resolution of the printed figures [dots per inch]
DPI = 150


def figure_names(plan: dict | PlanView, *, raster: bool = False) -> list[str]:
    """File names (relative to the output folder) :func:`write_figures` writes."""
    phases = plan.phases if isinstance(plan, PlanView) else [p["name"] for p in plan["phases"]]
    names = [f"figures/map_{phase_slug(i, n)}.png" for i, n in enumerate(phases)]
    names += ["figures/coverage_growth.png", "figures/cost_by_phase.png"]
    if raster:
        names.append("figures/rsrp.png")
    return names


_CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
                 "WenQuanYi Zen Hei", "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC", "AR PL UMing CN",
                 "Droid Sans Fallback")


@functools.lru_cache(maxsize=1)
def _cjk_family() -> str | None:
    """The first installed font family that has Chinese glyphs, or None."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for fam in _CJK_FAMILIES:
        if fam in installed:
            return fam
    # matplotlib's font cache predates a font installed since: look for the files themselves
    for path in sorted(font_manager.findSystemFonts()):
        low = os.path.basename(path).lower()
        if any(k in low for k in ("wqy", "notosanscjk", "sourcehansans", "droidsansfallback", "uming")):
            try:
                font_manager.fontManager.addfont(path)
                return font_manager.FontProperties(fname=path).get_name()
            except (OSError, RuntimeError, ValueError):
                continue
    return None


def _needs_cjk(text: str) -> bool:
    return any(ord(c) > 0x2FF for c in text)


def _label(text: str, fallback: str) -> str:
    """``text`` when a font can draw it, else the ASCII ``fallback``."""
    return text if (not _needs_cjk(text) or _cjk_family() is not None) else fallback


def _rc() -> dict:
    fam = _cjk_family()
    return {"font.family": ["DejaVu Sans"] + ([fam] if fam else []), "svg.hashsalt": "siteplan"}


def _new_figure(w_in: float, h_in: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w_in, h_in), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None}, bbox_inches="tight", pad_inches=0.08)
    return path


def _map_axes(ax, view: PlanView, frame) -> None:
    from matplotlib import patheffects

    ax.set_xlim(frame.x0, frame.x1)
    ax.set_ylim(frame.y0, frame.y1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_facecolor("#eef2f5")
    for j, d in enumerate(sorted(set(view.v_district))):
        if d:
            m = np.array([x == d for x in view.v_district])
            ax.text(float(np.median(view.v_x[m])), float(np.median(view.v_y[m])), _label(d, f"D{j + 1}"),
                    ha="center", va="center", fontsize=9, color="#2d343c", zorder=7,
                    path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")])
    length = nice_scale_length(frame.x1 - frame.x0)
    x0 = frame.x0 + 0.03 * (frame.x1 - frame.x0)
    y0 = frame.y0 + 0.03 * (frame.y1 - frame.y0)
    ax.plot([x0, x0 + length], [y0, y0], color="#222", lw=3, solid_capstyle="butt", zorder=6)
    ax.text(x0 + length / 2, y0 + 0.012 * (frame.y1 - frame.y0),
            f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m", ha="center", va="bottom", fontsize=8,
            zorder=6)


def _phase_map(view: PlanView, p: int, frame, path: Path) -> Path:
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    aspect = (frame.y1 - frame.y0) / (frame.x1 - frame.x0)
    fig = _new_figure(7.0, max(3.5, min(10.0, 7.0 * aspect + 1.2)))
    ax = fig.add_subplot(1, 1, 1)
    _map_axes(ax, view, frame)
    span = max(frame.x1 - frame.x0, frame.y1 - frame.y0)
    for q in range(p + 1):
        segs = [r for r, ph in zip(view.route_xy, view.route_phase) if ph == q]
        if segs:
            ax.add_collection(LineCollection(segs, colors=phase_colour(q), linewidths=1.8 if q == p else 1.1,
                                             zorder=2))
    n = max(len(view.v_id), 1)
    d_pt = float(np.clip(0.25 * 7.0 * 72 / math.sqrt(n), 2.5, 9.0))     # village marker diameter [pt]
    ms = d_pt ** 2                                                         # scatter sizes are areas [pt^2]
    present = view.sites_present(p)
    existing = np.array([k == "existing" for k in view.site_kind], dtype=bool)
    now = present & ~existing & (view.site_phase == p)
    before = present & ~existing & (view.site_phase < p)
    ex = present & existing
    ax.scatter(view.site_x[ex], view.site_y[ex], s=ms * 0.8, marker="^", facecolors="none",
               edgecolors=SITE_EXISTING, linewidths=0.5, alpha=0.7, zorder=3)
    ax.scatter(view.site_x[before], view.site_y[before], s=ms * 0.8, marker="^", c=SITE_EXISTING, alpha=0.7,
               linewidths=0, zorder=3)
    ax.scatter(view.site_x[now], view.site_y[now], s=ms * 1.2, marker="^", c=SITE_NEW, linewidths=0, zorder=4)
    on = view.stations_present(p)
    K = max(len(view.operators), 1)
    off = 0.004 * span
    for k in range(len(view.operators)):
        ang = 2 * math.pi * k / K + math.pi / 2
        for sel, size, alpha, lw, z in ((on & (view.st_op == k) & (view.st_phase < p), 0.25, 0.35, 0.0, 4),
                                         ((view.st_op == k) & (view.st_phase == p), 0.45, 1.0, 0.3, 5)):
            sx = view.site_x[view.st_site[sel]] + off * math.cos(ang)
            sy = view.site_y[view.st_site[sel]] + off * math.sin(ang)
            ax.scatter(sx, sy, s=ms * size, c=operator_colour(k), alpha=alpha, edgecolors="black", linewidths=lw,
                       zorder=z)
    cov = view.v_covered[:, p]
    for poor, marker, edge in ((False, "o", "white"), (True, "D", "black")):
        m = view.v_poor == poor
        colours = np.where(cov[m], VILLAGE_COVERED, VILLAGE_UNCOVERED)
        if m.any():
            ax.scatter(view.v_x[m], view.v_y[m], s=ms * (1.3 if poor else 1.0), c=list(colours), marker=marker,
                       edgecolors=edge, linewidths=0.4, zorder=6)
    handles = [
        Line2D([], [], ls="", marker="o", color=VILLAGE_COVERED, label="village covered"),
        Line2D([], [], ls="", marker="o", color=VILLAGE_UNCOVERED, label="village not covered"),
        Line2D([], [], ls="", marker="D", mfc="white", mec="black", label="poor village"),
        Line2D([], [], ls="", marker="^", mfc="none", mec=SITE_EXISTING, label="existing site"),
        Line2D([], [], ls="", marker="^", color=SITE_EXISTING, label="site built earlier"),
        Line2D([], [], ls="", marker="^", color=SITE_NEW, label="site built this phase"),
    ] + [Line2D([], [], ls="", marker="o", color=operator_colour(k), label=f"station {_label(o, f'operator {k + 1}')} (faded: earlier)")
         for k, o in enumerate(view.operators)] + [
        Line2D([], [], color=phase_colour(q), lw=2, label=f"fiber {_label(view.phases[q], f'phase {q + 1}')}") for q in range(p + 1)]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    ax.set_title(f"End of phase {_label(view.phases[p], str(p + 1))}: {int(present.sum()):,} sites, {int(on.sum()):,} stations, "
                 f"{view.covered_count(p):,}/{len(view.v_id):,} villages covered", fontsize=9)
    note = f"{view.scenario.crs} [m]" + (" - SYNTHETIC DATA" if view.synthetic else "")
    if _cjk_family() is None and any(_needs_cjk(d) for d in view.v_district):
        note = "districts D1, D2, ... as numbered in report.html; " + note
    ax.text(0.99, 0.01, note,
            transform=ax.transAxes, ha="right", va="bottom", fontsize=7, color="#8a4b00")
    fig.tight_layout()
    return _save(fig, path)


def _growth(view: PlanView, path: Path) -> Path:
    fig = _new_figure(6.0, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    labels = [_label(t, f"phase {j}") for j, t in enumerate(["before"] + list(view.phases))]
    x = np.arange(len(labels))
    steps = range(EXISTING, view.n_phases)
    n_all, n_poor = len(view.v_id), int(view.v_poor.sum())
    ax.plot(x, [100 * view.covered_count(p) / max(n_all, 1) for p in steps], "o-", color="#1f4e9c",
            label=f"all villages ({n_all})")
    if n_poor:
        ax.plot(x, [100 * view.covered_count(p, view.v_poor) / n_poor for p in steps], "s--", color="#c0392b",
                label=f"poor villages ({n_poor})")
    ax.set_xticks(x, labels)
    ax.set_ylim(0, 105)
    ax.set_ylabel("villages covered [%]")
    ax.grid(axis="y", color="#ddd")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Coverage growth across phases", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def _cost(view: PlanView, path: Path) -> Path:
    fig = _new_figure(6.0, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    x = np.arange(view.n_phases)
    bottom = np.zeros(view.n_phases)
    for item, colour in (("sites", "#6b6b6b"), ("stations", "#1f4e9c"), ("colocation", "#f28e2b"),
                         ("fiber", "#b8860b")):
        vals = np.array([view.cost(p)[item] for p in range(view.n_phases)]) / 1e6
        ax.bar(x, vals, bottom=bottom, color=colour, label=item, width=0.55)
        bottom += vals
    ax.set_xticks(x, [_label(t, f"phase {j + 1}") for j, t in enumerate(view.phases)])
    ax.set_ylabel("million CNY")
    ax.legend(fontsize=8)
    ax.set_title("Cost by phase (undiscounted)", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def _rsrp(view: PlanView, cov, frame, path: Path) -> Path:
    g = cov.georef
    data = np.ma.masked_equal(cov.rsrp_dbm, NODATA)
    ny, nx = cov.rsrp_dbm.shape
    fig = _new_figure(7.0, 6.0)
    ax = fig.add_subplot(1, 1, 1)
    lo, hi = RSRP_RANGE_DBM
    im = ax.imshow(data, extent=(g.x_min, g.x_min + nx * g.cell_x, g.y_max - ny * g.cell_y, g.y_max),
                   origin="upper", cmap="viridis", vmin=lo, vmax=hi, interpolation="nearest", zorder=0)
    same_crs = g.crs.upper() == str(view.scenario.crs).upper()
    if same_crs:
        _map_axes(ax, view, frame)
        ax.scatter(view.v_x, view.v_y, s=6, c="white", edgecolors="black", linewidths=0.3, zorder=3)
    fig.colorbar(im, ax=ax, label="best-server RSRP [dBm]", shrink=0.8)
    ax.set_title("Best-server RSRP after the programme", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def write_figures(plan: dict | PlanView, scenario: Scenario | None, out_dir: str | os.PathLike, *,
                  raster: Any = None) -> list[Path]:
    """Write the PNG figures into ``out_dir/figures/``; return their paths."""
    import matplotlib

    view = plan if isinstance(plan, PlanView) else plan_view(plan, scenario)
    cov = as_coverage_raster(raster)
    out = Path(out_dir)
    names = figure_names(view, raster=cov is not None)
    frame = map_frame(view)
    with matplotlib.rc_context(_rc()):
        paths = [_phase_map(view, p, frame, out / names[p]) for p in range(view.n_phases)]
        paths.append(_growth(view, out / "figures/coverage_growth.png"))
        paths.append(_cost(view, out / "figures/cost_by_phase.png"))
        if cov is not None:
            paths.append(_rsrp(view, cov, frame, out / "figures/rsrp.png"))
    return paths
