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


# --- propagation / coverage commands -------------------------------------------------


# --- set cover commands (scp) ---------------------------------------------------------


@main.command("scp")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--method", "method", default="auto", show_default=True,
              type=click.Choice(["auto", "exact", "lagrangian"]), help="Solution method.")
@click.option("--solver", "solver", default="highs", show_default=True, type=click.Choice(["highs", "cbc"]),
              help="MILP backend for the exact phase.")
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


# --- siting, plan, check, batch --------------------------------------------------------


if __name__ == "__main__":  # pragma: no cover
    main()
