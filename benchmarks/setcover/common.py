"""Shared pieces of the set-cover benchmarks: instance lists, contenders, known values.

Profiles (env ``SITEPLAN_BENCH_PROFILE``): ``quick`` (default; a handful of small
instances, short limits, runs in seconds) and ``full`` (every OR-Library group,
NRE..NRH at 30 s and rail at 60 s).
"""

from __future__ import annotations

import csv
import math
import os
import time
from pathlib import Path

import numpy as np

from siteplan.io import read_orlib_scp
from siteplan.optimize import MilpBuilder, solve_milp, solve_set_cover
from siteplan.optimize.setcover import solve as setcover_solve

__all__ = ["PROFILE", "ORLIB", "instances", "time_limit_for", "known", "run_contender", "CONTENDERS"]

PROFILE = os.environ.get("SITEPLAN_BENCH_PROFILE", "quick")
ORLIB = Path(os.environ.get("SITEPLAN_SHARED", Path(__file__).resolve().parents[2] / ".." / "shared")) \
    / "instances" / "orlib-scp"

_GROUPS = {
    "4": [f"scp4{i}" for i in range(1, 11)],
    "5": [f"scp5{i}" for i in range(1, 11)],
    "6": [f"scp6{i}" for i in range(1, 6)],
    **{g.upper(): [f"scp{g}{i}" for i in range(1, 6)] for g in "abcde"},
    **{g.upper(): [f"scp{g}{i}" for i in range(1, 6)] for g in ("nre", "nrf", "nrg", "nrh")},
    "RAIL": ["rail507", "rail516", "rail582"],
}


def instances() -> list[str]:
    if PROFILE == "quick":
        return ["scp41", "scp51", "scpe1"]
    if PROFILE == "full":
        return [name for names in _GROUPS.values() for name in names]
    # a comma-separated list of groups or names
    out = []
    for tok in PROFILE.split(","):
        out.extend(_GROUPS.get(tok.upper(), [tok]))
    return out


def time_limit_for(name: str) -> float:
    if PROFILE == "quick":
        return 2.0
    if name.startswith("rail"):
        return 60.0
    if name.startswith("scpnr"):
        return 30.0
    return 20.0


def known() -> dict[str, float]:
    path = Path(__file__).resolve().parents[2] / "tests" / "data" / "orlib_scp_known.csv"
    with open(path) as fh:
        return {r["instance"]: float(r["value"]) for r in csv.DictReader(l for l in fh if not l.startswith("#"))}


def _plain_model(problem):
    b = MilpBuilder("min")
    x = b.add_columns("x", problem.n_cols, cost=problem.costs, upper=1.0, integer=True)
    rp, rc = problem.row_view
    b.add_rows("cover", rp, x.index(rc), np.ones(rc.size), lower=1.0)
    return b.build()


def run_contender(name: str, who: str) -> dict:
    problem = read_orlib_scp(ORLIB / f"{name}.txt")
    limit = time_limit_for(name)
    t0 = time.perf_counter()
    if who.startswith("siteplan"):
        backend = {"siteplan-cbc": "cbc", "siteplan-race": "highs+cbc"}.get(who, "highs")
        saved = setcover_solve.BRANCH_MAX_NNZ
        if who == "siteplan-milp":  # the exact phase through the MILP solver only (no branch-and-bound)
            setcover_solve.BRANCH_MAX_NNZ = -1
        try:
            r = solve_set_cover(problem, method="auto", solver=backend, time_limit=limit)
        finally:
            setcover_solve.BRANCH_MAX_NNZ = saved
        cost, bound, status = r.cost, r.bound, r.status.value
        extra = {"heuristic_trajectory": r.stats.get("heuristic_trajectory"),
                 "lagrangian_seconds": r.stats.get("lagrangian_seconds"),
                 "reduce_seconds": r.stats.get("reduce_seconds"),
                 "bb_nodes": r.stats.get("bb_nodes"), "bb_seconds": r.stats.get("bb_seconds"),
                 "bb_exhausted": r.stats.get("bb_exhausted"), "milp_seconds": r.stats.get("milp_seconds"),
                 "cft_seconds": r.stats.get("cft_seconds"), "local_seconds": r.stats.get("local_seconds"),
                 "local_episodes": r.stats.get("local_episodes"), "core_seconds": r.stats.get("core_seconds"),
                 "solver": r.solver}
    else:
        r = solve_milp(_plain_model(problem), who, time_limit=limit)
        cost, bound, status = r.objective, r.bound, r.status.value
        extra = {}
    secs = time.perf_counter() - t0
    best = known().get(name, math.nan)
    return {"instance": name, "who": who, "limit": limit, "cost": cost, "bound": bound, "status": status,
            "seconds": secs, "best_known": best,
            "excess_pct": 100 * (cost - best) / best if math.isfinite(cost) else math.inf, **extra}


#: siteplan = auto method with the HiGHS backend; siteplan-cbc = auto with the CBC backend;
#: siteplan-race = auto with HiGHS and CBC racing on each MILP (solver="highs+cbc");
#: siteplan-milp = auto with its exact phase through HiGHS alone (the Lagrangian
#: branch-and-bound switched off: the pipeline before it existed)
CONTENDERS = ["siteplan", "highs", "cbc"]
