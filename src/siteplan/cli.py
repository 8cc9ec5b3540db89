"""The ``siteplan`` command line. Thin: parses arguments and calls the public API.

Every :class:`~siteplan.exceptions.SiteplanError` is printed as one clear message on
stderr, without a traceback, and the process exits with code 2 (bad input) or 3
(infeasible target). Each sub-command lives in its own section below.
"""

from __future__ import annotations

import functools
import json
import sys

import click

from siteplan.exceptions import InfeasibleError, SiteplanError

EXIT_BAD_INPUT = 2
EXIT_INFEASIBLE = 3


def handle_errors(func):
    """Turn SiteplanError into a one-screen message and an exit code."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except InfeasibleError as exc:
            click.echo(f"infeasible: {exc}", err=True)
            sys.exit(EXIT_INFEASIBLE)
        except SiteplanError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_BAD_INPUT)

    return wrapper


def echo_json(obj) -> None:
    """Print one JSON object on stdout."""
    click.echo(json.dumps(obj, sort_keys=True, allow_nan=False))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="siteplan")
def main() -> None:
    """siteplan: plan 4G sites, stations and fiber for every village under phase quotas."""


# --- scenario commands (validate, generate) -------------------------------------------


@main.command()
@click.argument("path", type=click.Path(path_type=str))
@handle_errors
def validate(path: str) -> None:
    """Read and check a scenario folder, then print its summary."""
    from siteplan.io.scenario import read_scenario
    from siteplan.io.summary import scenario_summary

    scenario = read_scenario(path)
    click.echo(scenario_summary(scenario))
    click.echo("ok: scenario is valid")


@main.command("generate")
@click.option("--preset", required=True, type=click.Choice(["shantou-2016", "tiny", "small"]),
              help="scenario preset: the real Shantou-2016 instance or a synthetic test area")
@click.option("--seed", required=True, type=click.IntRange(0, 2**32 - 1), help="random seed (same seed, same bytes)")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="output folder (replaced)")
@click.option("--data", "data_dir", default=None, type=click.Path(file_okay=False, exists=True),
              help="Shantou source data folder (default: $SITEPLAN_SHARED/data/shantou)")
@handle_errors
def generate_cmd(preset: str, seed: int, out_dir: str, data_dir: str | None) -> None:
    """Generate a scenario folder from a preset; prints a JSON summary."""
    from siteplan.generate import build_preset, write_generated

    g = build_preset(preset, seed, data_dir)
    path = write_generated(g, out_dir)
    v, s = g.villages, g.sites
    echo_json({
        "preset": preset, "seed": seed, "out": str(path),
        "villages": int(len(v["id"])), "villages_synthetic_location": int(v["synthetic"].sum()),
        "poor_villages": int(v["poor"].sum()), "population": int(v["population"].sum()),
        "sites_existing": int((s["kind"] == "existing").sum()), "sites_candidate": int((s["kind"] == "candidate").sum()),
        "facilities": int(len(g.facilities["id"])), "road_nodes": int(len(g.road_nodes["id"])),
        "road_edges": int(len(g.road_edges["from"])),
        "dem_cells": [int(g.dem.shape[0]), int(g.dem.shape[1])], "dem_cell_m": g.grid.cell,
    })


# --- propagation / coverage commands -------------------------------------------------


@main.command()
@click.argument("scenario_path", metavar="SCENARIO", type=click.Path(path_type=str))
@click.option("--out", "out", required=True, type=click.Path(path_type=str),
              help="matrix file: writes OUT.npz and OUT.json")
@click.option("--raster", "raster", type=click.Path(path_type=str), default=None,
              help="also write a best-server RSRP GeoTIFF [dBm] (all sites as if built)")
@click.option("--raster-operator", default=None, help="operator of the raster (default: first)")
@click.option("--operator", "operators", multiple=True, help="operator name (repeatable; default all)")
@click.option("--model", default=None,
              type=click.Choice(["auto", "hata", "cost231", "rma", "free_space"]),
              help="path-loss model (default: the scenario's)")
@click.option("--diffraction", default=None,
              type=click.Choice(["bullington", "deygout", "epstein_peterson", "none"]),
              help="terrain diffraction method (default: the scenario's)")
@click.option("--no-terrain", is_flag=True, help="flat ground, no diffraction")
@click.option("--threshold-dbm", type=float, default=None, help="override every operator's threshold [dBm]")
@click.option("--strict", is_flag=True, help="fail when a model leaves its validity range")
@handle_errors
def coverage(scenario_path, out, raster, raster_operator, operators, model, diffraction,
             no_terrain, threshold_dbm, strict) -> None:
    """Compute RSRP coverage matrices (demand points x sites) of a scenario."""
    import time

    from siteplan.coverage import build_coverage
    from siteplan.io.scenario import read_scenario

    t0 = time.perf_counter()
    scenario = read_scenario(scenario_path)
    t1 = time.perf_counter()
    cm = build_coverage(scenario, operators=list(operators) or None, model=model,
                        terrain=not no_terrain, threshold_dbm=threshold_dbm,
                        diffraction=diffraction, strict=strict)
    t2 = time.perf_counter()
    npz, js = cm.save(out)
    result = {"matrix": str(npz), "metadata": str(js), "read_s": round(t1 - t0, 3),
              "coverage_s": round(t2 - t1, 3), **cm.summary()}
    if raster:
        from siteplan.coverage import best_server_raster, operator_link_params, write_raster_geotiff
        from siteplan.exceptions import InputError, Problem

        if scenario.terrain is None:
            raise InputError(Problem(scenario_path, None, "terrain",
                                     "--raster needs a scenario with a DEM", None))
        name = raster_operator or cm.operators[0]
        op = {o.name: o for o in scenario.operators}.get(name)
        if op is None:
            raise InputError(Problem(None, None, "--raster-operator", "unknown operator", name))
        lp = operator_link_params(scenario, op, model, not no_terrain, threshold_dbm, diffraction)
        import numpy as np

        heights = np.minimum(float(op.antenna_height_m), np.asarray(scenario.sites.height_m, float))
        rsrp, _ = best_server_raster(scenario.sites.x_m, scenario.sites.y_m, heights, lp,
                                     scenario.terrain, float(scenario.radio.penetration_db),
                                     use_terrain=not no_terrain)
        write_raster_geotiff(raster, rsrp, scenario.terrain, scenario.crs)
        result["raster"] = str(raster)
        result["raster_operator"] = name
        result["raster_s"] = round(time.perf_counter() - t2, 3)
    echo_json(result)



# --- set cover commands (scp) ---------------------------------------------------------


@main.command("scp")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--method", "method", default="auto", show_default=True,
              type=click.Choice(["auto", "exact", "lagrangian"]), help="Solution method.")
@click.option("--solver", "solver", default="highs", show_default=True,
              type=click.Choice(["highs", "cbc", "highs+cbc"]),
              help="MILP backend for the exact phase (highs+cbc: both race, the first proof wins).")
@click.option("--time-limit", "time_limit", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Wall-clock limit for the whole solve [s].")
@click.option("--gap", "gap", type=click.FloatRange(0, 1, max_open=True), default=0.0, show_default=True,
              help="Relative gap at which the search may stop.")
@click.option("--seed", "seed", type=int, default=0, show_default=True, help="Seed of the randomised parts.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handle_errors
def scp_command(file, method, solver, time_limit, gap, seed, as_json):
    """Solve an OR-Library set-covering FILE (scp* row-wise or rail* column-wise)."""
    from siteplan.io import read_orlib_scp
    from siteplan.optimize import solve_set_cover

    problem = read_orlib_scp(file)
    result = solve_set_cover(problem, method=method, solver=solver, time_limit=time_limit, gap=gap, seed=seed)
    out = result.to_json(one_based=True)
    if as_json:
        echo_json({k: out[k] for k in ("cost", "columns", "lower_bound", "gap", "status", "seconds", "solver")})
        return
    lb = "n/a" if out["lower_bound"] is None else f"{out['lower_bound']:g}"
    gap_txt = "n/a" if out["gap"] is None else f"{100 * out['gap']:.2f} %"
    click.echo(f"{problem.name}: {problem.n_rows} rows, {problem.n_cols} columns")
    click.echo(f"status {out['status']}  cost {out['cost']:g}  lower bound {lb}  gap {gap_txt}  "
               f"{out['seconds']:.2f} s  ({out['solver']}, method {out['method']})")
    click.echo("columns: " + " ".join(str(c) for c in out["columns"]))


# --- fiber commands (steiner, fiber) --------------------------------------------------


@main.command("steiner")
@click.argument("stp_file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--method", "method", default="auto", show_default=True,
              type=click.Choice(["auto", "heuristic", "exact"]),
              help="auto: reductions + heuristics + dual-ascent bound, exact MILP when small; "
                   "heuristic: no MILP; exact: always finish with the MILP.")
@click.option("--time-limit", "time_limit", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Wall-clock budget [s] (default: none).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handle_errors
def steiner_cmd(stp_file: str, method: str, time_limit: float | None, as_json: bool) -> None:
    """Solve the Steiner tree problem of a SteinLib .stp file."""
    from siteplan.fiber import steiner_tree
    from siteplan.io import read_steinlib

    inst = read_steinlib(stp_file)
    # node ids of the file are 1..n: index 0 is an isolated unused node
    res = steiner_tree((inst.n_nodes + 1, inst.edges, inst.weights), inst.terminals,
                       method=method, time_limit=time_limit)
    edges = sorted((min(int(u), int(v)), max(int(u), int(v))) for u, v in res.edges)
    if as_json:
        echo_json({
            "cost": res.cost,
            "edges": [list(e) for e in edges],
            "lower_bound": res.lower_bound,
            "gap": res.gap,
            "status": res.status,
            "seconds": round(res.seconds, 6),
        })
        return
    click.echo(f"instance     {inst.name} ({inst.n_nodes} nodes, {inst.n_edges} edges, "
               f"{len(inst.terminals)} terminals)")
    click.echo(f"cost         {res.cost:g}")
    click.echo(f"lower bound  {res.lower_bound:g}")
    click.echo(f"gap          {100 * res.gap:.3f} %")
    click.echo(f"status       {res.status} ({res.method})")
    click.echo(f"seconds      {res.seconds:.3f}")
    click.echo(f"edges        {len(edges)}")
    for u, v in edges:
        click.echo(f"E {u} {v}")


# --- siting, plan, check, batch --------------------------------------------------------


def _solve_options(func):
    for deco in reversed([
        click.option("--solver", default="highs", show_default=True, help="MILP backend: highs | cbc"),
        click.option("--time-limit", "time_limit", type=float, default=None, help="siting solve limit [s]"),
        click.option("--gap", type=float, default=0.01, show_default=True, help="relative optimality gap [-]"),
        click.option("--seed", type=int, default=0, show_default=True, help="solver seed"),
        click.option("--force", is_flag=True, help="replace an --out folder that is not a siteplan output"),
    ]):
        func = deco(func)
    return func


@main.command("plan")
@click.argument("scenario", type=click.Path(path_type=str))
@click.option("--out", "out", required=True, type=click.Path(path_type=str), help="output folder")
@_solve_options
@click.option("--no-fiber", is_flag=True, help="skip fiber routing")
@click.option("--no-raster", is_flag=True, help="skip the best-server RSRP raster (coverage.tif)")
@handle_errors
def plan_cmd(scenario, out, solver, time_limit, gap, seed, force, no_fiber, no_raster):
    """Coverage, siting, fiber, checks and every output for SCENARIO, written to --out.

    Exit code 0 with a feasible plan, 3 when a target cannot be met (the diagnosis is in
    plan.json and on screen), 2 on bad input.
    """
    from siteplan.pipeline import check_out_dir, plan, plan_summary, write_plan

    from pathlib import Path

    check_out_dir(Path(out), force)          # refuse before hours of work, not after
    p = plan(scenario, solver=solver, time_limit=time_limit, gap=gap, seed=seed, fiber=not no_fiber)
    write_plan(p, out, force=force, raster=not no_raster)
    click.echo(plan_summary(p))
    click.echo(f"outputs: {out}")
    if p.status not in ("optimal", "feasible"):
        sys.exit(EXIT_INFEASIBLE)


@main.command("site")
@click.argument("scenario", type=click.Path(path_type=str))
@click.option("--out", "out", required=True, type=click.Path(path_type=str), help="output folder")
@_solve_options
@handle_errors
def site_cmd(scenario, out, solver, time_limit, gap, seed, force):
    """Siting only: stations.csv, sites.csv, villages.csv and summary.json in --out."""
    from pathlib import Path

    from siteplan.io.atomic import atomic_directory
    from siteplan.pipeline import OUTPUT_MARKER, check_out_dir, plan, plan_summary
    from siteplan.report.tables import write_tables

    check_out_dir(Path(out), force)
    p = plan(scenario, solver=solver, time_limit=time_limit, gap=gap, seed=seed, fiber=False)
    d = p.to_dict()
    with atomic_directory(out) as stage:
        (stage / OUTPUT_MARKER).write_text("siteplan siting output\n")
        write_tables(d, p.scenario, stage)
        (stage / "fiber.csv").unlink(missing_ok=True)
        summary = {k: d[k] for k in ("format", "version", "scenario", "options", "status", "operators", "phases",
                                     "siting", "findings")}
        (stage / "summary.json").write_text(json.dumps(summary, sort_keys=True, indent=1, ensure_ascii=False) + "\n")
    click.echo(plan_summary(p))
    if p.status not in ("optimal", "feasible"):
        sys.exit(EXIT_INFEASIBLE)


@main.command("check")
@click.argument("scenario", type=click.Path(path_type=str))
@click.argument("plan_dir", type=click.Path(path_type=str))
@handle_errors
def check_cmd(scenario, plan_dir):
    """Verify PLAN_DIR/plan.json against SCENARIO independently; exit 0 only when every rule holds."""
    from siteplan.check import check_plan, load_plan_json
    from siteplan.io.scenario import read_scenario

    sc = read_scenario(scenario)
    errors = check_plan(sc, load_plan_json(plan_dir))
    if errors:
        for e in errors:
            click.echo(f"FAIL {e}")
        click.echo(f"{len(errors)} rule(s) broken")
        sys.exit(1)
    click.echo("ok: every quota, tenancy limit, phase order, coverage target, fiber connection and bandwidth "
               "guarantee holds")


@main.command()
@click.argument("manifest", type=click.Path(path_type=str))
@click.option("--out", "out", required=True, type=click.Path(path_type=str),
              help="output folder (created; an existing one must be a siteplan batch output unless --force)")
@click.option("--workers", type=int, default=None,
              help="runs at once in the local pool, or worker processes of --cluster local [default: CPU count]")
@click.option("--scheduler", default=None, help="address of a running Dask scheduler, e.g. tcp://host:8786")
@click.option("--cluster", type=click.Choice(["local"]), default=None, help="start a Dask LocalCluster")
@click.option("--job", default=None, help="job to run (default: the manifest's, else 'validate')")
@click.option("--wall-limit", "wall_limit", type=float, default=None,
              help="per-run wall-clock limit, overrides the manifest's [s]")
@click.option("--retry-failed", is_flag=True, help="run failed and timed-out runs again")
@click.option("--force", is_flag=True, help="write into an existing folder that is not a siteplan batch output")
@handle_errors
def batch(manifest, out, workers, scheduler, cluster, job, wall_limit, retry_failed, force):
    """Run every unfinished run of a batch MANIFEST into --out, recorded in DIR/ledger.sqlite.

    Exit code 0 when every run of the manifest is done, 1 when some failed or timed out.
    """
    from siteplan.batch import run_batch

    if scheduler is not None and cluster is not None:
        raise click.UsageError("give either --scheduler or --cluster, not both")
    res = run_batch(manifest, out, job=job, workers=workers, scheduler=scheduler, cluster=cluster,
                    wall_time_limit_s=wall_limit, retry_failed=retry_failed, force=force,
                    progress=sys.stderr.isatty())
    mine: dict = {}
    for st in res.statuses.values():
        mine[st] = mine.get(st, 0) + 1
    click.echo(f"batch: {res.runs} runs ({res.executed} executed now, {res.skipped} finished before): "
               + ", ".join(f"{n} {st}" for st, n in sorted(mine.items())))
    click.echo(f"ledger: {res.out / 'ledger.sqlite'}  (list with: siteplan runs {res.out})")
    if not res.ok:
        sys.exit(1)


@main.command()
@click.argument("out", type=click.Path(path_type=str))
@click.option("--csv", "csv_path", type=click.Path(path_type=str), default=None,
              help="write a comparison table of the runs' key figures (CSV)")
@handle_errors
def runs(out, csv_path):
    """List the run ledger of a batch output folder OUT."""
    from siteplan.batch import format_runs_table, list_runs, runs_csv_text
    from siteplan.io.atomic import atomic_write_text

    rows = list_runs(out)
    click.echo(format_runs_table(rows))
    if csv_path is not None:
        atomic_write_text(csv_path, runs_csv_text(rows))
        click.echo(f"wrote {csv_path}")


# --- report commands ------------------------------------------------------------------


@main.command()
@click.argument("scenario", type=click.Path(path_type=str))
@click.argument("plan_dir", type=click.Path(path_type=str))
@click.option("--out", "out_dir", type=click.Path(path_type=str), default=None,
              help="folder to write into (default: PLAN_DIR itself)")
@click.option("--raster", "raster_path", type=click.Path(path_type=str), default=None,
              help="best-server RSRP GeoTIFF [dBm] (default: PLAN_DIR/coverage.tif when present)")
@handle_errors
def report(scenario: str, plan_dir: str, out_dir: str | None, raster_path: str | None) -> None:
    """Rewrite the tables, GeoJSON/KML, report.html and figures of PLAN_DIR/plan.json."""
    from pathlib import Path

    from siteplan.exceptions import InputError
    from siteplan.io.scenario import read_scenario
    from siteplan.report import write_outputs
    from siteplan.report.load import load_plan_json, load_raster

    folder = Path(plan_dir)
    plan = load_plan_json(folder / "plan.json")
    sc = read_scenario(scenario)
    want = str((plan.get("scenario") or {}).get("digest") or "")
    if want and sc.digest and want != sc.digest:
        raise InputError(f"{folder / 'plan.json'}: made from scenario digest {want[:16]}..., but {scenario} "
                         f"has digest {sc.digest[:16]}... (a plan is reported with the scenario it was made from)")
    raster_file = Path(raster_path) if raster_path else folder / "coverage.tif"
    raster = load_raster(raster_file) if (raster_path or raster_file.is_file()) else None
    out = Path(out_dir) if out_dir else folder
    paths = write_outputs(plan, sc, out, raster=raster)
    echo_json({"out": str(out), "files": sorted(p.relative_to(out).as_posix() for p in paths)})


# --- benchmark suite (bench) -----------------------------------------------------------


@main.command()
@click.option("--quick", "prof", flag_value="quick", default=True,
              help="the quick profile: tiny and small instances, short limits (a few minutes on 2 cores)")
@click.option("--full", "prof", flag_value="full",
              help="the full profile: Shantou-2016 and Shantou x2, x4 (long: up to hours)")
@click.option("--out", "out", type=click.Path(path_type=str), default="bench-results.json", show_default=True,
              help="results JSON (pytest-benchmark results of every area + machine + scale curve)")
@click.option("--areas", default=None, help="comma-separated subset: pipeline, propagation, setcover, fiber, "
                                            "report, batch (default: all)")
@click.option("--benchmarks", "bench_dir", type=click.Path(path_type=str), default=None,
              help="a checkout's benchmarks/ folder (default: found next to the package, or $SITEPLAN_BENCHMARKS)")
@click.option("--benchmark-disable", "disable", is_flag=True,
              help="run every case once without timing (a smoke test; no scale curve)")
@click.option("--no-scale", is_flag=True, help="skip the scale curve (time and memory per size)")
@click.option("-k", "--select", "select", default=None, metavar="EXPR",
              help="pytest -k expression given to every area (e.g. 'highs or cbc': only the set-cover peers); "
                   "runs of several selections are merged by benchmarks/make_readme.py")
@click.option("--readme", "readme", type=click.Path(path_type=str), default=None,
              help="also regenerate this README (and scale_curve.png beside it) from the results")
@handle_errors
def bench(prof, out, areas, bench_dir, disable, no_scale, select, readme):
    """Run the benchmark suite and write one results JSON (see benchmarks/README.md)."""
    from pathlib import Path

    from siteplan.bench.runner import find_benchmarks, run_suite

    if find_benchmarks(bench_dir) is None:
        click.echo("bench: no benchmarks/ folder of a source checkout found (give --benchmarks DIR or set "
                   "SITEPLAN_BENCHMARKS); running the pipeline benchmarks shipped in the package only, the other "
                   "areas are recorded as not run.", err=True)
    res = run_suite(prof, areas=areas.split(",") if areas else None, out=out, benchmarks=bench_dir,
                    disable=disable, scale=not no_scale, log=lambda m: click.echo(m, err=True), select=select)
    if readme:
        from siteplan.bench.report import write_readme

        write_readme(res, readme, Path(out).name)
    bad = {a: d.get("returncode") for a, d in res["areas"].items() if d.get("ran") and d.get("returncode") != 0}
    echo_json({"out": out, "profile": prof, "areas": {a: (d.get("summary") if d.get("ran") else f"not run: "
                                                          f"{d.get('reason')}") for a, d in res["areas"].items()},
               "scale": [{k: s.get(k) for k in ("size", "status", "total_s", "peak_rss_mb")} for s in res["scale"]],
               "failed": bad})
    if bad:
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
