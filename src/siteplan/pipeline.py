"""The planning pipeline: scenario -> coverage -> siting -> fiber -> checks -> outputs.

``siteplan.plan(scenario, ...)`` returns a :class:`Plan`; :func:`write_plan` writes the
output folder atomically (see ``docs/plan-format.md``); ``Plan.to_dict()`` is the exact
content of ``plan.json`` (byte-identical for the same scenario, options and seed).
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from siteplan.exceptions import Problem, UnsafePathError
from siteplan.io.atomic import atomic_directory
from siteplan.model.scenario import Scenario

__all__ = ["Plan", "plan", "write_plan", "plan_summary", "check_out_dir", "plan_raster", "PLAN_FORMAT", "PLAN_VERSION",
           "OUTPUT_MARKER"]

PLAN_FORMAT = "siteplan-plan"
PLAN_VERSION = 1
#: File that marks a folder as a siteplan output (only such folders are replaced without --force).
OUTPUT_MARKER = ".siteplan-output"


def _r(x, nd):
    """Round for stable JSON; None for NaN/inf."""
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        return None
    v = round(x, nd)
    return 0.0 if v == 0 else v


def _sig(x, n=9):
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        return None
    return float(f"{x:.{n}g}")


@dataclass(frozen=True, eq=False)
class Plan:
    """A complete plan: the scenario, its coverage, the siting plan and the fiber plan."""

    scenario: Scenario
    coverage: object
    siting: object
    fiber: object | None
    options: dict
    timings: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        s = self.siting.status
        if s not in ("optimal", "feasible"):
            return s
        if self.fiber is not None and self.fiber.status == "infeasible":
            return "infeasible"
        if s == "optimal" and (self.fiber is None or self.fiber.status == "optimal"):
            return "optimal"
        return "feasible"

    # ------------------------------------------------------------------------------------------
    def station_table(self) -> np.ndarray:
        """have[s, k, p]: operator k has a station at site s by the end of phase p."""
        sc = self.scenario
        P = len(sc.phases)
        have = np.repeat(np.asarray(sc.sites.tenants)[:, :, None], P, axis=2).copy()
        sp_ = self.siting
        for s, k, p in zip(sp_.station_site, sp_.station_op, sp_.station_phase):
            have[s, k, p:] = True
        return have

    def to_dict(self) -> dict:
        """The content of plan.json (see docs/plan-format.md)."""
        sc = self.scenario
        sp_ = self.siting
        ops = list(sc.operator_names)
        P = len(sc.phases)
        pn = [ph.name for ph in sc.phases]
        have = self.station_table()
        v = sc.villages
        covered = np.asarray(sp_.village_covered)
        share = np.asarray(sp_.village_share)
        K = len(ops)
        phases = []
        before = self._covered_before()
        prev = before.copy()
        for p, ph in enumerate(sc.phases):
            new_st = np.asarray(sp_.station_phase) == p
            cov_p = covered[:, p] if covered.size else np.zeros(len(v), bool)
            c = dict(sp_.cost[p]) if sp_.cost else {}
            fiber_cost = float(self.fiber.phase_cost[p]) if self.fiber is not None else 0.0
            phases.append({
                "name": ph.name, "start": ph.start.isoformat(), "end": ph.end.isoformat(),
                "quota_sites": None if ph.new_sites is None else [ph.new_sites.min, ph.new_sites.max],
                "quota_stations": None if ph.new_stations is None else [ph.new_stations.min, ph.new_stations.max],
                "new_sites": int((np.asarray(sp_.site_phase) == p).sum()),
                "new_stations": int(new_st.sum()),
                "new_stations_by_operator": {o: int((new_st & (np.asarray(sp_.station_op) == k)).sum())
                                             for k, o in enumerate(ops)},
                "villages_covered": int(cov_p.sum()),
                "poor_villages_covered": int((cov_p & v.poor).sum()),
                "villages_newly_covered": int((cov_p & ~prev).sum()),
                "cost_cny": {"sites": _r(c.get("sites", 0.0), 2), "stations": _r(c.get("stations", 0.0), 2),
                             "colocation": _r(c.get("colocation", 0.0), 2), "fiber": _r(fiber_cost, 2),
                             "total": _r(c.get("total", 0.0) + fiber_cost, 2)},
                "fiber_km": _r(self.fiber.phase_km[p], 3) if self.fiber is not None else 0.0,
            })
            prev = cov_p
        s = sc.sites
        sites = []
        final = have[:, :, P - 1] if P else np.asarray(s.tenants)
        site_phase = np.asarray(sp_.site_phase)
        for i in np.flatnonzero(s.existing | (site_phase >= 0)):
            sites.append({
                "id": str(s.id[i]), "kind": "existing" if s.existing[i] else "candidate",
                "lon": _r(s.lon[i], 6), "lat": _r(s.lat[i], 6), "height_m": _r(s.height_m[i], 1),
                "built_phase": (pn[site_phase[i]] if site_phase[i] >= 0 else None),
                "tenants_before": [ops[k] for k in range(K) if s.tenants[i, k]],
                "tenants_after": [ops[k] for k in range(K) if final[i, k]],
            })
        stations = []
        for i, k in zip(*np.nonzero(np.asarray(s.tenants))):
            stations.append({"site": str(s.id[i]), "operator": ops[k], "phase": None, "new": False})
        for i, k, p in zip(sp_.station_site, sp_.station_op, sp_.station_phase):
            stations.append({"site": str(s.id[i]), "operator": ops[int(k)], "phase": pn[int(p)], "new": True})
        stations.sort(key=lambda r: (r["site"], r["operator"]))
        best, serving = self._village_service(final)
        villages = []
        for j in range(len(v)):
            cov_row = covered[j].tolist() if covered.size else []
            first = "existing" if before[j] else next((pn[p] for p in range(P) if cov_row and cov_row[p]), None)
            villages.append({
                "id": str(v.id[j]), "name": str(v.name[j]), "district": str(v.district[j]), "town": str(v.town[j]),
                "poor": bool(v.poor[j]), "lon": _r(v.lon[j], 6), "lat": _r(v.lat[j], 6),
                "population": int(v.population[j]),
                "share_by_phase": [_r(x, 6) for x in (share[j, K, :] if share.size else [])],
                "covered_by_phase": [bool(x) for x in cov_row],
                "first_covered_phase": first,
                "best_rsrp_dbm": _r(best[j], 2), "serving_sites": serving[j],
            })
        out = {
            "format": PLAN_FORMAT, "version": PLAN_VERSION,
            "scenario": {"name": sc.name, "digest": sc.digest, "crs": sc.crs,
                         "synthetic": list(sc.manifest.synthetic)},
            "options": {k: self.options[k] for k in sorted(self.options)},
            "status": self.status,
            "operators": ops,
            "covered_before": {"villages": int(before.sum()), "poor_villages": int((before & v.poor).sum())},
            "phases": phases,
            "siting": {"status": sp_.status, "objective": _sig(sp_.objective), "bound": _sig(sp_.bound),
                       "gap": _sig(sp_.gap), "solver": sp_.solver, "solver_version": sp_.solver_version,
                       "model_size": dict(sp_.model_size)},
            "sites": sites, "stations": stations, "villages": villages,
            "fiber": self._fiber_dict(),
            "findings": [{"kind": f.kind, "message": f.message, "blocking": bool(f.blocking),
                          "details": _jsonable(f.details)}
                         for f in list(sp_.findings) + (list(self.fiber.findings) if self.fiber is not None else [])],
        }
        return out

    def _covered_before(self) -> np.ndarray:
        """Villages that existing stations already cover (before any new station)."""
        from siteplan.siting.inputs import siting_inputs
        from siteplan.siting.plan import served_share, village_share_rule

        inp = siting_inputs(self.scenario, self.coverage)
        have = np.repeat(inp.tenants[:, :, None], inp.n_phases, axis=2)
        share = served_share(inp, have)[:, inp.n_ops, 0]
        return share >= village_share_rule(inp) - 1e-9

    def _village_service(self, final: np.ndarray):
        """Best RSRP [dBm] per village from the final stations, and the serving site ids."""
        sc = self.scenario
        V = len(sc.villages)
        best = np.full(V, -np.inf)
        serving: list[set] = [set() for _ in range(V)]
        cov = self.coverage
        for k, o in enumerate(sc.operators):
            m = cov[o.name].tocoo()
            keep = final[m.col, k] & (m.data >= o.threshold_dbm)
            vil = sc.demand.village[m.row[keep]]
            np.maximum.at(best, vil, m.data[keep].astype(np.float64))
            for vv, ss in zip(vil.tolist(), m.col[keep].tolist()):
                serving[vv].add(ss)
        ids = sc.sites.id
        return best, [sorted(str(ids[s]) for s in srv) for srv in serving]

    def _fiber_dict(self):
        fb = self.fiber
        if fb is None:
            return None
        sc = self.scenario
        r = sc.roads
        pn = [ph.name for ph in sc.phases]
        routes = []
        for e, p, nf, cab, cost in zip(fb.edge, fb.edge_phase, fb.edge_fibers, fb.edge_cable, fb.edge_cost):
            u, w = int(r.edge_u[e]), int(r.edge_v[e])
            routes.append({"phase": pn[int(p)], "u": str(r.node_id[u]), "v": str(r.node_id[w]),
                           "length_m": _r(r.length_m[e], 1), "cost_cny": _r(cost, 2),
                           "road_class": str(r.road_class[e]), "existing": str(r.existing[e]),
                           "fibers_used": int(nf), "fibers": int(cab),
                           "coordinates": [[_r(r.lon[u], 6), _r(r.lat[u], 6)], [_r(r.lon[w], 6), _r(r.lat[w], 6)]]})
        terms = []
        for i in range(len(fb.term_id)):
            node = int(fb.term_node[i])
            pop = int(fb.term_pop[i])
            terms.append({"id": str(fb.term_id[i]), "kind": str(fb.term_kind[i]), "phase": pn[int(fb.term_phase[i])],
                          "node": str(r.node_id[node]) if node >= 0 else None,
                          "bandwidth_mbps": _r(fb.term_bandwidth[i], 3),
                          "pop": str(r.node_id[pop]) if pop >= 0 else None,
                          "port": int(fb.term_port[i]), "drop_m": _r(fb.term_drop_m[i], 1)})
        return {"status": fb.status, "cost_cny": _r(fb.cost, 2), "lower_bound_cny": _r(fb.lower_bound, 2),
                "gap": _sig(fb.gap), "routes": routes, "terminals": terms}


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return _sig(obj)
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    return obj


def plan(scenario: Scenario | str | os.PathLike, *, solver: str = "highs", time_limit: float | None = None,
         gap: float = 0.01, seed: int = 0, fiber: bool = True, progress: bool | None = None) -> Plan:
    """Run the whole pipeline on a scenario (object or folder path).

    Parameters
    ----------
    solver : MILP backend for siting ("highs", "cbc").
    time_limit : wall-clock limit of the siting solve [s]; the fiber routing gets the same.
    gap : relative optimality gap at which the siting solve may stop [-].
    seed : seed passed to the solver (and recorded).
    fiber : route fiber after siting (needs a road graph).
    progress : show progress bars (None = only on a terminal).
    """
    from siteplan.coverage import build_coverage
    from siteplan.fiber.planner import plan_fiber
    from siteplan.io.scenario import read_scenario
    from siteplan.siting import plan_sites

    if not isinstance(scenario, Scenario):
        scenario = read_scenario(scenario)
    timings = {}
    stages = ["coverage", "siting", "fiber"] if fiber else ["coverage", "siting"]
    bar = _progress(stages, progress)
    t = time.perf_counter()
    cov = build_coverage(scenario, progress=progress)
    timings["coverage_s"] = time.perf_counter() - t
    bar.update()
    t = time.perf_counter()
    siting = plan_sites(scenario, cov, solver=solver, time_limit=time_limit, gap=gap, seed=seed)
    timings["siting_s"] = time.perf_counter() - t
    bar.update()
    fplan = None
    if fiber and siting.feasible and scenario.roads.n_nodes:
        t = time.perf_counter()
        fplan = plan_fiber(scenario, siting, time_limit=time_limit)
        timings["fiber_s"] = time.perf_counter() - t
        bar.update()
    bar.close()
    options = {"solver": solver, "time_limit_s": time_limit, "gap": gap, "seed": seed, "fiber": fiber}
    return Plan(scenario=scenario, coverage=cov, siting=siting, fiber=fplan, options=options, timings=timings)


class _NoBar:
    def update(self, n=1):
        pass

    def close(self):
        pass


def _progress(stages, progress):
    import sys

    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=len(stages), desc="plan", unit="stage")


def plan_raster(p: Plan) -> np.ndarray:
    """Best-server RSRP [dBm] on the terrain grid from every station after the programme
    (all operators; -inf where no station reaches the threshold)."""
    from siteplan.coverage import operator_link_params
    from siteplan.coverage.build import demand_point_loss
    from siteplan.coverage.raster import best_server_raster

    sc = p.scenario
    final = p.station_table()[:, :, -1]
    best = np.full(sc.terrain.elevation_m.shape, -np.inf, dtype=np.float32)
    loss = demand_point_loss(sc)
    loss = float(np.min(loss)) if np.ndim(loss) else float(loss)
    for k, o in enumerate(sc.operators):
        idx = np.flatnonzero(final[:, k])
        if idx.size == 0:
            continue
        params = operator_link_params(sc, o)
        heights = np.minimum(float(o.antenna_height_m), sc.sites.height_m[idx])
        rs, _ = best_server_raster(sc.sites.x_m[idx], sc.sites.y_m[idx], heights, params, sc.terrain,
                                   point_loss_db=loss, progress=False)
        rs = np.where(rs >= o.threshold_dbm, rs, -np.inf)
        np.maximum(best, rs, out=best)
    return best


def check_out_dir(out: Path, force: bool) -> None:
    if out.exists():
        if not out.is_dir():
            raise UnsafePathError(Problem(str(out), None, "--out", "exists and is not a folder", str(out)))
        if any(out.iterdir()) and not (out / OUTPUT_MARKER).exists() and not force:
            raise UnsafePathError(Problem(str(out), None, "--out",
                                          "folder exists and holds something that is not a siteplan output "
                                          "(use --force to replace it)", str(out)))


def write_plan(p: Plan, out_dir: str | os.PathLike, *, force: bool = False, raster: bool = True) -> Path:
    """Write every output of ``p`` into ``out_dir`` atomically (see docs/plan-format.md)."""
    out = Path(out_dir)
    check_out_dir(out, force)
    text = json.dumps(p.to_dict(), sort_keys=True, ensure_ascii=False, indent=1, allow_nan=False) + "\n"
    with atomic_directory(out) as stage:
        (stage / OUTPUT_MARKER).write_text("siteplan plan output\n")
        (stage / "plan.json").write_text(text, encoding="utf-8")
        try:
            from siteplan.report import write_outputs
        except ImportError:  # pragma: no cover - report package is part of siteplan
            write_outputs = None
        if write_outputs is not None:
            ras = None
            if raster and p.scenario.terrain is not None and p.siting.feasible:
                ras = (plan_raster(p), p.scenario.terrain)
            write_outputs(json.loads(text), p.scenario, stage, raster=ras)
        run = {"timings_s": {k: round(v, 3) for k, v in p.timings.items()},
               "python": platform.python_version(), "machine": platform.machine(),
               "cpu_count": os.cpu_count()}
        (stage / "run.json").write_text(json.dumps(run, sort_keys=True, indent=1) + "\n")
    return out


def plan_summary(p: Plan) -> str:
    """One screen: per phase stations and sites against quota, villages covered, fiber, cost, gap, status."""
    d = p.to_dict()
    lines = [f"plan for {d['scenario']['name']!r}: status {d['status']}"]
    lines.append(f"{'phase':<8} {'stations':>16} {'sites':>14} {'villages':>9} {'poor':>6} {'fiber km':>9} "
                 f"{'cost (M CNY)':>13}")
    n_poor = int(p.scenario.villages.poor.sum())
    n_v = len(p.scenario.villages)
    for ph in d["phases"]:
        qs = ph["quota_stations"]
        qsi = ph["quota_sites"]
        qtext = lambda q: "-" if q is None else (str(q[0]) if q[0] == q[1] else f"{q[0]}..{q[1]}")  # noqa: E731
        lines.append(f"{ph['name']:<8} {ph['new_stations']:>6} / {qtext(qs):>7} {ph['new_sites']:>5} / {qtext(qsi):>6} "
                     f"{ph['villages_covered']:>5}/{n_v:<4}{ph['poor_villages_covered']:>3}/{n_poor:<3}"
                     f"{(ph['fiber_km'] or 0):>9.1f} {ph['cost_cny']['total'] / 1e6:>13.2f}")
    si = d["siting"]
    lines.append(f"siting: objective {si['objective']}, bound {si['bound']}, gap {si['gap']}, "
                 f"{si['solver']} {si['solver_version']}")
    if d["fiber"] is not None:
        f = d["fiber"]
        lines.append(f"fiber: {f['status']}, cost {f['cost_cny'] / 1e6:.2f} M CNY, gap {f['gap']}")
    for fnd in d["findings"]:
        lines.append(("BLOCKING " if fnd["blocking"] else "note ") + fnd["message"])
    return "\n".join(lines)
