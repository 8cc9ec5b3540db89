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


if __name__ == "__main__":  # pragma: no cover
    main()
