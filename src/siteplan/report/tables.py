"""CSV tables of a plan: stations.csv, sites.csv, villages.csv, fiber.csv.

UTF-8 without BOM, comma-separated, ``\\n`` line ends, a header row, rows in a fixed
order (so the same plan gives byte-identical files). Booleans are ``true``/``false``; a
missing value is an empty cell; numbers use the plan's precision (lon/lat 6 decimals,
metres 1, CNY 2, dBm 2, shares 6). The columns and their units are listed in
:data:`COLUMNS` and documented in ``docs/plan-outputs.md``.
"""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

import numpy as np

from siteplan.io.atomic import atomic_write_text
from siteplan.model.scenario import Scenario
from siteplan.report._view import EXISTING, NEVER, PlanView, plan_view

__all__ = ["COLUMNS", "PHASE_COLUMNS", "write_tables", "tables_text", "village_phase_columns"]

#: (column, unit, meaning) of every table; villages.csv adds :data:`PHASE_COLUMNS` per phase.
COLUMNS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "stations.csv": (
        ("site_id", "", "site the station is on (sites.csv site_id)"),
        ("operator", "", "operator name"),
        ("phase", "", "phase the station goes on air; empty: on air before the programme"),
        ("new", "bool", "true for a station added by the plan"),
        ("site_kind", "", "existing or candidate"),
        ("site_built_phase", "", "phase the site is built; empty for an existing site"),
        ("lon", "deg", "WGS84 longitude of the site"),
        ("lat", "deg", "WGS84 latitude of the site"),
        ("x_m", "m", "easting in the scenario's local CRS"),
        ("y_m", "m", "northing in the scenario's local CRS"),
    ),
    "sites.csv": (
        ("site_id", "", "site id (scenario sites.csv id)"),
        ("kind", "", "existing or candidate"),
        ("built_phase", "", "phase a candidate is built; empty for an existing site"),
        ("lon", "deg", "WGS84 longitude"),
        ("lat", "deg", "WGS84 latitude"),
        ("x_m", "m", "easting in the scenario's local CRS"),
        ("y_m", "m", "northing in the scenario's local CRS"),
        ("height_m", "m", "tower/mast height above ground"),
        ("max_tenants", "-", "tenant limit of the site; empty when the site is not in the scenario"),
        ("tenants_before", "", "operators on the site before the programme, ';'-separated"),
        ("tenants_after", "", "operators on the site after the programme, ';'-separated"),
        ("n_tenants_after", "-", "number of operators after the programme"),
        ("new_stations", "-", "stations the plan adds on this site"),
    ),
    "villages.csv": (
        ("village_id", "", "village id (scenario villages.csv id)"),
        ("name", "", "village name"),
        ("district", "", "district"),
        ("town", "", "town or subdistrict"),
        ("poor", "bool", "poor village of the programme"),
        ("population", "persons", "population; empty when the village is not in the scenario"),
        ("ur_code", "", "NBS urban-rural code"),
        ("synthetic_location", "bool", "true when the village location is generated, not surveyed"),
        ("lon", "deg", "WGS84 longitude"),
        ("lat", "deg", "WGS84 latitude"),
        ("x_m", "m", "easting in the scenario's local CRS"),
        ("y_m", "m", "northing in the scenario's local CRS"),
        ("first_covered_phase", "", "first phase the village is covered; 'existing': covered before "
                                    "the programme; empty: never"),
        ("best_rsrp_dbm", "dBm", "best-server RSRP at the village after the programme"),
        ("n_serving_sites", "-", "number of serving sites"),
        ("serving_sites", "", "site ids serving the village, ';'-separated"),
    ),
    "fiber.csv": (
        ("phase", "", "phase the segment is laid"),
        ("u", "", "road node at one end"),
        ("v", "", "road node at the other end"),
        ("length_m", "m", "segment length"),
        ("cost_cny", "CNY", "cost of the segment"),
        ("road_class", "", "highway, primary, secondary, rural or track"),
        ("existing", "", "what was there before: none, duct or fiber"),
        ("fibers", "-", "fibers in the cable laid"),
        ("start_lon", "deg", "WGS84 longitude of the first vertex"),
        ("start_lat", "deg", "WGS84 latitude of the first vertex"),
        ("end_lon", "deg", "WGS84 longitude of the last vertex"),
        ("end_lat", "deg", "WGS84 latitude of the last vertex"),
        ("n_vertices", "-", "vertices of the route's polyline (plan.geojson)"),
    ),
}

#: per-phase columns of villages.csv, ``{phase}`` replaced by the phase name, in phase order
PHASE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("covered_{phase}", "bool", "covered by the end of the phase"),
    ("share_{phase}", "-", "share of the village's demand weight served by the end of the phase"),
)


def _f(x, decimals: int) -> str:
    if x is None:
        return ""
    x = float(x)
    if not math.isfinite(x):
        return ""
    text = f"{x:.{decimals}f}"
    if text.lstrip("-").strip("0.") == "":
        text = text.lstrip("-")      # no "-0.0"
    return text


def _b(x) -> str:
    return "true" if bool(x) else "false"


def _i(x) -> str:
    return "" if x is None or int(x) < 0 else str(int(x))


def _csv(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _phase_cell(view: PlanView, idx: int) -> str:
    return "" if idx == EXISTING or idx >= NEVER else view.phases[idx]


def _stations(view: PlanView) -> str:
    order = sorted(range(len(view.st_site)),
                   key=lambda i: (int(view.st_phase[i]), view.site_id[view.st_site[i]], int(view.st_op[i])))
    rows = []
    for i in order:
        s = int(view.st_site[i])
        rows.append([
            view.site_id[s], view.operators[view.st_op[i]], _phase_cell(view, int(view.st_phase[i])),
            _b(view.st_phase[i] != EXISTING), view.site_kind[s],
            _phase_cell(view, int(view.site_phase[s])) if view.site_kind[s] == "candidate" else "",
            _f(view.site_lon[s], 6), _f(view.site_lat[s], 6), _f(view.site_x[s], 1), _f(view.site_y[s], 1),
        ])
    return _csv([c[0] for c in COLUMNS["stations.csv"]], rows)


def _sites(view: PlanView) -> str:
    new_count = np.bincount(view.st_site[view.st_phase != EXISTING], minlength=len(view.site_id))
    order = sorted(range(len(view.site_id)), key=lambda i: view.site_id[i])
    rows = []
    for i in order:
        built = _phase_cell(view, int(view.site_phase[i])) if view.site_kind[i] == "candidate" else ""
        rows.append([
            view.site_id[i], view.site_kind[i], built,
            _f(view.site_lon[i], 6), _f(view.site_lat[i], 6), _f(view.site_x[i], 1), _f(view.site_y[i], 1),
            _f(view.site_height[i], 1), _i(view.site_max_tenants[i]),
            ";".join(view.site_before[i]), ";".join(view.site_after[i]), str(len(view.site_after[i])),
            str(int(new_count[i])),
        ])
    return _csv([c[0] for c in COLUMNS["sites.csv"]], rows)


def village_phase_columns(phases) -> list[str]:
    """The per-phase column names of villages.csv, in order."""
    return [c[0].format(phase=p) for p in phases for c in PHASE_COLUMNS]


def _villages(view: PlanView) -> str:
    header = [c[0] for c in COLUMNS["villages.csv"]] + village_phase_columns(view.phases)
    rows = []
    for i in range(len(view.v_id)):
        first = int(view.v_first[i])
        row = [
            view.v_id[i], view.v_name[i], view.v_district[i], view.v_town[i], _b(view.v_poor[i]),
            _i(view.v_population[i]), _i(view.v_ur_code[i]), _b(view.v_synthetic[i]),
            _f(view.v_lon[i], 6), _f(view.v_lat[i], 6), _f(view.v_x[i], 1), _f(view.v_y[i], 1),
            "existing" if first == EXISTING else _phase_cell(view, first),
            _f(view.v_best_rsrp[i], 2), str(len(view.v_serving[i])), ";".join(view.v_serving[i]),
        ]
        for p in range(view.n_phases):
            row += [_b(view.v_covered[i, p]), _f(view.v_share[i, p], 6)]
        rows.append(row)
    order = sorted(range(len(rows)), key=lambda i: view.v_id[i])
    return _csv(header, [rows[i] for i in order])


def _fiber(view: PlanView) -> str:
    rows = []
    for i, r in enumerate(view.routes):
        ll = view.route_lonlat[i]
        fibers = r.get("fibers")
        rows.append([
            view.phases[int(view.route_phase[i])], str(r.get("u", "")), str(r.get("v", "")),
            _f(r.get("length_m"), 1), _f(r.get("cost_cny"), 2), str(r.get("road_class") or ""),
            str(r.get("existing") or ""), "" if fibers is None else str(int(fibers)),
            _f(ll[0, 0], 6), _f(ll[0, 1], 6), _f(ll[-1, 0], 6), _f(ll[-1, 1], 6), str(len(ll)),
        ])
    order = sorted(range(len(rows)), key=lambda i: (int(view.route_phase[i]), rows[i][1], rows[i][2]))
    return _csv([c[0] for c in COLUMNS["fiber.csv"]], [rows[i] for i in order])


def tables_text(plan: dict | PlanView, scenario: Scenario | None = None) -> dict[str, str]:
    """The four tables as text, keyed by file name."""
    view = plan if isinstance(plan, PlanView) else plan_view(plan, scenario)
    return {"stations.csv": _stations(view), "sites.csv": _sites(view),
            "villages.csv": _villages(view), "fiber.csv": _fiber(view)}


def write_tables(plan: dict | PlanView, scenario: Scenario | None, out_dir: str | os.PathLike) -> list[Path]:
    """Write stations.csv, sites.csv, villages.csv and fiber.csv into ``out_dir`` (atomically,
    file by file); return their paths."""
    out = Path(out_dir)
    return [atomic_write_text(out / name, text) for name, text in tables_text(plan, scenario).items()]
