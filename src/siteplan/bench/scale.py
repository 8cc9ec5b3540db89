"""Scale curve: time and peak memory of the pipeline against instance size.

Each size runs in a fresh subprocess (``python -m siteplan.bench.scale SIZE LIMIT``) so
its peak resident memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss``, the kernel's
high-water mark of the process) belongs to that size alone. The child compiles the
numba kernels first (from the on-disk cache when warm) on the tiny preset, then times
read, coverage, siting model, siting solve (``plan_sites``, time-limited), and fiber (with
the plan's new sites, or the facilities alone when no plan was found in the limit), and
prints one JSON line. The driver kills a child that runs past its wall-clock budget and
records that as a result too (``status: "killed"``), so the curve says what happened.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
import warnings

import numpy as np

__all__ = ["measure", "measure_sizes", "fit_exponent"]


def _rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0   # Linux: kB


def _child(size: str, limit: float) -> dict:
    from siteplan import build_coverage, read_scenario
    from siteplan.bench import profiles
    from siteplan.bench.bench_pipeline import siting_model
    from siteplan.fiber import plan_fiber
    from siteplan.siting import plan_sites

    warnings.simplefilter("ignore")
    folder = profiles.instance_dir(size)
    warm = read_scenario(profiles.instance_dir("tiny"))
    build_coverage(warm, progress=False)            # compile (or load) the kernels outside the timings
    base_mb = _rss_mb()
    out: dict = {"size": size, "time_limit_s": limit, "baseline_rss_mb": base_mb}
    t = time.perf_counter()
    sc = read_scenario(folder)
    out["read_s"] = time.perf_counter() - t
    t = time.perf_counter()
    cov = build_coverage(sc, progress=False)
    out["coverage_s"] = time.perf_counter() - t
    t = time.perf_counter()
    spec = siting_model(sc, cov).spec
    out["model_s"] = time.perf_counter() - t
    out.update(villages=int(sc.villages.id.size), sites=int(sc.sites.id.size),
               candidates=int((~sc.sites.existing).sum()), demand_points=int(cov.shape[0]),
               coverage_pairs=int(sum(m.nnz for m in cov.matrices.values())),
               model_columns=int(spec.n_cols), model_rows=int(spec.n_rows), model_nonzeros=int(spec.nnz))
    del spec
    out["rss_after_model_mb"] = _rss_mb()
    t = time.perf_counter()
    plan = plan_sites(sc, cov, time_limit=limit)
    out["siting_s"] = time.perf_counter() - t
    out.update(status=plan.status, objective=plan.objective, bound=plan.bound, gap=plan.gap,
               # when the greedy start was built [s from the call] (nan: not needed, HiGHS
               # proved the gap first), and whether the plan is that start (1) or HiGHS's (0)
               siting_start_s=plan.model_size.get("start_seconds", math.nan),
               plan_is_start=plan.model_size.get("plan_is_start", 0))
    if sc.roads.n_nodes:
        # without a siting plan (none found in the limit) the facilities are still routed
        t = time.perf_counter()
        fiber_limit = profiles.fiber_time_limit(size)
        fp = plan_fiber(sc, plan if plan.feasible else None, time_limit=fiber_limit)
        out["fiber_time_limit_s"] = fiber_limit
        out["fiber_s"] = time.perf_counter() - t
        out["fiber_gap"] = float(getattr(fp, "gap", math.nan))
        out["fiber_with_new_sites"] = bool(plan.feasible)
    out["total_s"] = sum(out.get(k, 0.0) for k in ("read_s", "coverage_s", "model_s", "siting_s", "fiber_s"))
    out["peak_rss_mb"] = _rss_mb()
    return out


def measure(size: str, limit: float, budget_s: float | None = None) -> dict:
    """Run one size in a subprocess; return its dict (``status: "killed"`` past ``budget_s``)."""
    cmd = [sys.executable, "-m", "siteplan.bench.scale", size, repr(float(limit))]
    env = dict(os.environ)
    src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=budget_s, env=env)
    except subprocess.TimeoutExpired:
        return {"size": size, "time_limit_s": limit, "status": "killed",
                "message": f"stopped after the {budget_s:.0f} s budget of the scale curve", "wall_s": budget_s}
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        tail = (p.stderr or p.stdout).strip().splitlines()[-3:]
        return {"size": size, "time_limit_s": limit, "status": "error", "message": " | ".join(tail),
                "wall_s": time.perf_counter() - t0}
    out = json.loads(lines[-1])
    out["wall_s"] = time.perf_counter() - t0
    return out


def measure_sizes(sizes, limit_of, budget_s: float | None = None, log=None) -> list[dict]:
    """:func:`measure` for each size in order, with ``limit_of(size)`` [s] as the siting limit."""
    res = []
    for s in sizes:
        r = measure(s, limit_of(s), budget_s)
        if log:
            log(f"scale {s}: {r.get('status')} total {r.get('total_s', float('nan')):.1f} s, "
                f"peak {r.get('peak_rss_mb', float('nan')):.0f} MB")
        res.append(r)
    return res


def fit_exponent(x, y) -> tuple[float, float]:
    """Least-squares slope and intercept of log(y) on log(x) (nan with fewer than 2 points)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if ok.sum() < 2:
        return math.nan, math.nan
    b, a = np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)
    return float(b), float(a)


if __name__ == "__main__":
    print(json.dumps(_child(sys.argv[1], float(sys.argv[2]))), flush=True)
