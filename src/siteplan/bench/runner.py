"""Run the whole benchmark suite into one results JSON.

Each benchmark area runs as its own ``python -m pytest`` subprocess (its own imports,
numba threads and memory), with ``SITEPLAN_BENCH_PROFILE`` set for all of them and
``--benchmark-json`` collected into one file together with the machine description and
the scale curve. Areas:

============  =====================================================  ========================
area          what                                                   where
============  =====================================================  ========================
pipeline      phases x sizes, siting peers (:mod:`.bench_pipeline`)   in the package (always)
propagation   path-loss kernels, Bullington, sweep, coverage          ``benchmarks/propagation``
setcover      OR-Library: siteplan vs HiGHS alone vs CBC alone        ``benchmarks/setcover``
fiber         SteinLib: siteplan vs networkx kou / mehlhorn           ``benchmarks/fiber``
report        report writers vs baseline                              ``benchmarks/report``
batch         batch runner overhead vs an in-process loop             ``benchmarks/batch``
============  =====================================================  ========================

The folder areas need a source checkout's ``benchmarks/`` (found next to the package's
``src/``, or given by ``--benchmarks DIR`` / ``SITEPLAN_BENCHMARKS``); from an installed
copy without one they are recorded as not run, with the reason.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from siteplan.bench import profiles
from siteplan.bench.machine import load_average, machine_info

__all__ = ["AREAS", "find_benchmarks", "run_suite"]

#: area -> paths (relative to the benchmarks folder) given to pytest
AREAS: dict[str, tuple[str, ...]] = {
    "pipeline": ("pipeline",),
    "propagation": ("propagation/test_bench_propagation.py",),
    "setcover": ("setcover/bench_setcover.py",),
    "fiber": ("fiber/test_bench_fiber.py",),
    "report": ("report/test_bench_report.py",),
    "batch": ("batch/bench_batch.py",),
}

#: wall-clock budget of one area's pytest run [s], per profile
AREA_BUDGET_S = {"quick": 900.0, "full": 7200.0}


def find_benchmarks(explicit: str | os.PathLike | None = None) -> Path | None:
    """The ``benchmarks/`` folder: ``explicit``, ``$SITEPLAN_BENCHMARKS``, or the checkout's."""
    for cand in (explicit, os.environ.get("SITEPLAN_BENCHMARKS")):
        if cand:
            p = Path(cand)
            return p if p.is_dir() else None
    root = profiles.repo_root()
    if root is not None and (root / "benchmarks").is_dir():
        return root / "benchmarks"
    return None


_SUMMARY = re.compile(r"\b\d+ (passed|failed|errors?|skipped|deselected)\b.* in [0-9.]+s")


def _strip(bench_json: dict) -> list[dict]:
    out = []
    for b in bench_json.get("benchmarks", []):
        stats = {k: v for k, v in (b.get("stats") or {}).items() if k != "data"}
        out.append({"name": b.get("name"), "fullname": b.get("fullname"), "group": b.get("group"),
                    "params": b.get("params"), "stats": stats, "extra_info": b.get("extra_info", {})})
    return out


def _run_area(area: str, bench_dir: Path | None, prof: str, disable: bool, tmp: Path, log,
              select: str | None = None) -> dict:
    env = dict(os.environ, SITEPLAN_BENCH_PROFILE=prof)
    src = Path(__file__).resolve().parents[2]
    paths = [str(src)]
    cwd = None
    if bench_dir is not None:
        root = bench_dir.parent
        cwd = str(root)
        if (root / "tests").is_dir():
            paths.append(str(root / "tests"))
    env["PYTHONPATH"] = os.pathsep.join(paths + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    if bench_dir is not None:
        targets = [str(bench_dir / p) for p in AREAS[area]]
        missing = [t for t in targets if not Path(t).exists()]
        if missing:
            return {"ran": False, "reason": f"not in this checkout: {', '.join(missing)}"}
        extra = []
    elif area == "pipeline":
        targets, extra = ["--pyargs", "siteplan.bench.bench_pipeline"], []
    else:
        return {"ran": False, "reason": "needs the benchmarks/ folder of a source checkout "
                                        "(pass --benchmarks DIR or set SITEPLAN_BENCHMARKS)"}
    jpath = tmp / f"{area}.json"
    cmd = [sys.executable, "-m", "pytest", *targets, *extra, "-q", "-p", "no:cacheprovider",
           "-o", "addopts=", "-W", "ignore::Warning", f"--benchmark-json={jpath}"]
    if disable:
        cmd.append("--benchmark-disable")
    if select:
        cmd += ["-k", select]
    load0 = load_average()
    t0 = time.perf_counter()
    if log:
        log(f"[{area}] {' '.join(cmd[3:])}")
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=AREA_BUDGET_S[prof])
        rc, text = p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired as exc:
        rc, text = "timeout", f"stopped after {AREA_BUDGET_S[prof]:.0f} s\n{exc.stdout or ''}"
        if isinstance(text, bytes):
            text = text.decode(errors="replace")
    secs = time.perf_counter() - t0
    lines = [ln for ln in str(text).strip().splitlines() if ln.strip()]
    counts = [ln for ln in lines if _SUMMARY.search(ln)]
    summary = counts[-1].strip("= ") if counts else (lines[-1] if lines else "")
    if rc == 5 and select:
        rc = 0      # pytest's "no tests collected": the selection matched nothing in this area
    res = {"ran": True, "profile": prof, "returncode": rc, "select": select, "seconds": secs, "summary": summary, "load_before": load0,
           "load_after": load_average(), "command": " ".join(cmd[1:]),
           "failures": [ln for ln in lines if ln.startswith(("FAILED", "ERROR", "SKIPPED"))][:40],
           "tail": lines[-15:]}
    if jpath.is_file():
        try:
            res["benchmarks"] = _strip(json.loads(jpath.read_text()))
        except (OSError, ValueError) as exc:
            res["benchmarks"] = []
            res["json_error"] = str(exc)
    else:
        res["benchmarks"] = []
    if log:
        log(f"[{area}] rc={rc} in {secs:.0f} s: {summary}")
    return res


def run_suite(prof: str = "quick", *, areas=None, out: str | os.PathLike | None = None,
              benchmarks: str | os.PathLike | None = None, disable: bool = False, scale: bool = True,
              scale_sizes=None, scale_budget_s: float | None = None, log: Callable[[str], None] | None = None,
              select: str | None = None) -> dict:
    """Run the suite in profile ``prof`` and return (and write to ``out``) the results dict.

    ``select``: a pytest ``-k`` expression given to every area (e.g. ``"highs or cbc"`` runs
    only the peers of the set-cover area); results of several selections are combined by
    :func:`siteplan.bench.report.merge_results`.
    """
    if prof not in profiles.PROFILES:
        raise ValueError(f"profile must be one of {profiles.PROFILES}, got {prof!r}")
    areas = list(areas or AREAS)
    unknown = [a for a in areas if a not in AREAS]
    if unknown:
        raise ValueError(f"unknown areas {unknown}; known: {', '.join(AREAS)}")
    bench_dir = find_benchmarks(benchmarks)
    results: dict = {"format": "siteplan-bench/1", "profile": prof, "benchmark_disabled": disable,
                     "benchmarks_dir": str(bench_dir) if bench_dir else None, "machine": machine_info(),
                     "areas": {}, "scale": []}
    old = os.environ.get("SITEPLAN_BENCH_PROFILE")
    os.environ["SITEPLAN_BENCH_PROFILE"] = prof
    try:
        with tempfile.TemporaryDirectory(prefix="siteplan-bench-") as tmp:
            for a in areas:
                results["areas"][a] = _run_area(a, bench_dir, prof, disable, Path(tmp), log, select)
        if scale and not disable:
            from siteplan.bench.scale import measure_sizes

            sizes = list(scale_sizes or profiles.sizes(prof))
            budget = scale_budget_s or (300.0 if prof == "quick" else 1800.0)
            results["scale"] = measure_sizes(sizes, lambda s: profiles.time_limit(s, prof), budget, log)
    finally:
        if old is None:
            os.environ.pop("SITEPLAN_BENCH_PROFILE", None)
        else:
            os.environ["SITEPLAN_BENCH_PROFILE"] = old
    results["machine"]["load_average_end"] = load_average()
    results["finished_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if out is not None:
        from siteplan.io.atomic import atomic_write_text

        atomic_write_text(out, json.dumps(results, indent=1, default=_jsonable) + "\n")
    return results


def _jsonable(o):
    try:
        import numpy as np

        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:
        pass
    return str(o)


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Run the siteplan benchmark suite into one results JSON.")
    ap.add_argument("--profile", choices=profiles.PROFILES, default="quick")
    ap.add_argument("--out", required=True)
    ap.add_argument("--areas", default=None, help="comma-separated subset of " + ",".join(AREAS))
    ap.add_argument("--benchmarks", default=None)
    ap.add_argument("--benchmark-disable", action="store_true")
    ap.add_argument("--no-scale", action="store_true")
    ap.add_argument("-k", "--select", default=None, help="pytest -k expression given to every area")
    a = ap.parse_args(argv)
    r = run_suite(a.profile, areas=a.areas.split(",") if a.areas else None, out=a.out, benchmarks=a.benchmarks,
                  disable=a.benchmark_disable, scale=not a.no_scale, log=lambda m: print(m, flush=True),
                  select=a.select)
    bad = [k for k, v in r["areas"].items() if v.get("ran") and v.get("returncode") != 0]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
