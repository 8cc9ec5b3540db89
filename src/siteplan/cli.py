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


# --- fiber commands (steiner, fiber) --------------------------------------------------


# --- siting, plan, check, batch --------------------------------------------------------


if __name__ == "__main__":  # pragma: no cover
    main()
