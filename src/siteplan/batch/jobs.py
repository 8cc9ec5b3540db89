"""The job registry: what one batch run computes.

A job is ``job(scenario, options, out_dir) -> dict``: it receives the scenario with the
run's variation applied, the run's options (JSON values) and an empty folder into which
it writes its outputs; it returns the run's key figures (a JSON-serialisable dict, nested
dicts allowed) which the ledger stores and ``siteplan runs --csv`` tabulates.

Jobs are looked up by name in :data:`JOBS`; a manifest or the command line can only name
a key of it. Trusted extensions (tests, site-specific jobs) are imported from the module
names listed in the environment variable ``SITEPLAN_BATCH_PLUGINS`` (comma separated):
each such module defines a dict ``JOBS`` that is merged in. The environment is the
operator's, never a manifest's.
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Callable

import numpy as np

from siteplan.exceptions import Problem
from siteplan.io.atomic import atomic_write_text
from siteplan.io.summary import scenario_summary
from siteplan.model.scenario import Scenario

__all__ = ["JOBS", "Job", "DEFAULT_JOB", "PLUGINS_ENV", "get_job", "job_names", "validate_job", "plan_job"]

Job = Callable[[Scenario, dict, Path], dict]

#: Environment variable naming trusted modules whose ``JOBS`` dicts extend the registry.
PLUGINS_ENV = "SITEPLAN_BATCH_PLUGINS"


def _quota_pair(q) -> list[int] | None:
    return None if q is None else [int(q.min), int(q.max)]


def validate_job(scenario: Scenario, options: dict, out_dir: Path) -> dict:
    """Check a scenario variation and report its key figures (no optimisation).

    Writes ``summary.json`` (the figures, the options and the text summary) and
    ``summary.txt`` into ``out_dir``. Figures: counts of villages, poor and rural
    villages, population, demand points, existing and candidate sites, free tenant slots
    on existing sites, facilities, road nodes/edges; per operator its threshold [dBm];
    per phase its quotas and budget [CNY]; the summed minimum quotas, and whether the
    candidate pool can meet the summed minimum new-site quota.
    """
    v, s = scenario.villages, scenario.sites
    n_candidates = int((~s.existing).sum())
    phases = {}
    for p in scenario.phases:
        phases[p.name] = {
            "new_stations": _quota_pair(p.new_stations),
            "new_sites": _quota_pair(p.new_sites),
            "budget_cny": p.budget_cny,
        }
    min_sites = sum(p.new_sites.min for p in scenario.phases if p.new_sites is not None)
    min_stations = sum(p.new_stations.min for p in scenario.phases if p.new_stations is not None)
    figures = {
        "scenario": scenario.name,
        "villages": len(v),
        "poor_villages": int(v.poor.sum()),
        "rural_villages": int(v.rural.sum()),
        "population": int(v.population.sum()),
        "demand_points": len(scenario.demand),
        "existing_sites": int(s.existing.sum()),
        "candidate_sites": n_candidates,
        "free_tenant_slots_existing": int(np.clip(s.free_tenancy[s.existing], 0, None).sum()),
        "facilities": len(scenario.facilities),
        "road_nodes": int(scenario.roads.n_nodes),
        "road_edges": int(scenario.roads.n_edges),
        "threshold_dbm": {o.name: float(o.threshold_dbm) for o in scenario.operators},
        "phases": phases,
        "min_new_stations_total": int(min_stations),
        "min_new_sites_total": int(min_sites),
        "site_quota_feasible": bool(min_sites <= n_candidates),
    }
    doc = {"figures": figures, "options": options, "summary": scenario_summary(scenario)}
    atomic_write_text(Path(out_dir) / "summary.json",
                      json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    atomic_write_text(Path(out_dir) / "summary.txt", doc["summary"] + "\n")
    return figures


def plan_job(scenario: Scenario, options: dict, out_dir: Path) -> dict:
    """Run the whole planning pipeline (:func:`siteplan.pipeline.plan`) on the variation and
    write every plan output into ``out_dir``. Figures: status, siting objective [CNY], bound
    [CNY] and gap [-], fiber cost [CNY] and gap, and per phase new sites, new stations,
    villages and poor villages covered, fiber [km] and cost [CNY]."""
    from siteplan.pipeline import plan, write_plan

    p = plan(scenario, solver=options.get("solver", "highs"), time_limit=options.get("time_limit_s"),
             gap=options.get("gap", 0.01), seed=options.get("seed", 0), fiber=options.get("fiber", True),
             progress=False)
    write_plan(p, out_dir, force=True, raster=options.get("raster", False))
    d = p.to_dict()
    fb = d["fiber"] or {}
    return {
        "status": d["status"],
        "objective_cny": d["siting"]["objective"], "bound_cny": d["siting"]["bound"], "gap": d["siting"]["gap"],
        "fiber_cost_cny": fb.get("cost_cny"), "fiber_gap": fb.get("gap"),
        "phases": {ph["name"]: {"new_sites": ph["new_sites"], "new_stations": ph["new_stations"],
                                "villages_covered": ph["villages_covered"],
                                "poor_villages_covered": ph["poor_villages_covered"],
                                "fiber_km": ph["fiber_km"], "cost_cny": ph["cost_cny"]["total"]}
                   for ph in d["phases"]},
    }


#: The registry. ``siteplan batch --job NAME`` and a manifest's ``job = "NAME"`` pick a key.
JOBS: dict[str, Job] = {
    "validate": validate_job,
    "plan": plan_job,
}

#: The job a batch runs when neither the manifest nor the command line names one.
DEFAULT_JOB = "plan"

_loaded_plugins: set[str] = set()


def _load_plugins() -> None:
    raw = os.environ.get(PLUGINS_ENV, "")
    for name in (x.strip() for x in raw.split(",")):
        if not name or name in _loaded_plugins:
            continue
        module = importlib.import_module(name)
        extra = getattr(module, "JOBS", None)
        if not isinstance(extra, dict):
            raise TypeError(f"plugin module {name!r} ({PLUGINS_ENV}) has no dict JOBS")
        JOBS.update(extra)
        _loaded_plugins.add(name)


def job_names() -> list[str]:
    """Names of the registered jobs (plugins included)."""
    _load_plugins()
    return sorted(JOBS)


def get_job(name: str, where: str = "job") -> Job:
    """The job registered under ``name``; :class:`BatchError` listing the known names otherwise."""
    from siteplan.batch.manifest import BatchError

    _load_plugins()
    job = JOBS.get(name) if isinstance(name, str) else None
    if job is None:
        raise BatchError(Problem(where, None, "job", f"unknown job (known: {', '.join(sorted(JOBS))})", name))
    return job
