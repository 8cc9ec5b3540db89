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


# --- set cover commands (scp) ---------------------------------------------------------


# --- fiber commands (steiner, fiber) --------------------------------------------------


# --- siting, plan, check, batch --------------------------------------------------------


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


if __name__ == "__main__":  # pragma: no cover
    main()
