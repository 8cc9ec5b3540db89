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


# --- set cover commands (scp) ---------------------------------------------------------


# --- fiber commands (steiner, fiber) --------------------------------------------------


# --- siting, plan, check, batch --------------------------------------------------------


if __name__ == "__main__":  # pragma: no cover
    main()
