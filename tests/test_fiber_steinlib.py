"""SteinLib reader, malformed files, the ``siteplan steiner`` command, and SteinLib B
instances against their published optima (tests/data/steinlib_optima.csv, with source)."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from naive_fiber import check_tree
from siteplan.cli import main
from siteplan.exceptions import FormatError
from siteplan.fiber import steiner_tree
from siteplan.io import read_steinlib

HERE = Path(__file__).resolve().parent


def _shared() -> Path:
    env = os.environ.get("SITEPLAN_SHARED")
    if env:
        return Path(env).resolve()
    # repo/../shared; a git worktree under <root>/wt/<name> looks one level higher
    for cand in (HERE.parents[0] / ".." / "shared", HERE.parents[0] / ".." / ".." / "shared"):
        if cand.resolve().is_dir():
            return cand.resolve()
    return (HERE.parents[0] / ".." / "shared").resolve()


SHARED = _shared()
STEINLIB = SHARED / "instances" / "steinlib"
needs_steinlib = pytest.mark.skipif(not (STEINLIB / "B").is_dir(),
                                    reason=f"SteinLib instances not found under {STEINLIB} (set SITEPLAN_SHARED)")


def _optima() -> dict[str, float]:
    with open(HERE / "data" / "steinlib_optima.csv") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        return {r["instance"]: float(r["optimum"]) for r in rows}


GOOD = """33D32945 STP File, STP Format Version 1.0

SECTION Comment
Name    "tiny"
END

SECTION Graph
Nodes 4
Edges 4
E 1 2 3
E 2 3 1
E 3 4 2
E 1 4 10
END

SECTION Terminals
Terminals 2
T 1
T 4
END

EOF
"""


def _write(tmp_path, text, name="x.stp"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_read_small_file(tmp_path):
    inst = read_steinlib(_write(tmp_path, GOOD))
    assert inst.name == "tiny"
    assert inst.n_nodes == 4 and inst.n_edges == 4
    assert inst.edges.tolist() == [[1, 2], [2, 3], [3, 4], [1, 4]]
    assert inst.weights.tolist() == [3.0, 1.0, 2.0, 10.0]
    assert inst.terminals.tolist() == [1, 4]
    res = steiner_tree((inst.n_nodes + 1, inst.edges, inst.weights), inst.terminals)
    assert res.cost == 6.0 and res.status == "optimal"  # 1-2-3-4 beats the direct edge 10


@pytest.mark.parametrize(
    "mutate, line, field, rule",
    [
        (lambda s: s.replace("33D32945", "12345678"), 1, "header", "33D32945"),
        (lambda s: s.replace("E 2 3 1", "E 2 9 1"), 11, "v", "1..4"),
        (lambda s: s.replace("E 2 3 1", "E 2 3 -1"), 11, "weight", ">= 0"),
        (lambda s: s.replace("E 2 3 1", "E 2 3 abc"), 11, "weight", "number"),
        (lambda s: s.replace("E 2 3 1", "E 2 2 1"), 11, "E", "self-loop"),
        (lambda s: s.replace("E 2 3 1", "E 2 3"), 11, "E", "'E <u> <v> <weight>'"),
        (lambda s: s.replace("Edges 4", "Edges 5"), 9, "Edges", "declares 5 edges"),
        (lambda s: s.replace("Terminals 2", "Terminals 3"), 17, "Terminals", "declares 3 terminals"),
        (lambda s: s.replace("T 4", "T 1"), 19, "T", "duplicate terminal"),
        (lambda s: s.replace("T 4", "T 7"), 19, "T", "1..4"),
        (lambda s: s.replace("Nodes 4", "Nodes x"), 8, "Nodes", "integer"),
        (lambda s: s.replace("E 1 4 10", "A 1 4 10"), 13, "A", "directed arcs"),
        (lambda s: s.replace("T 4", "TP 4 5"), 19, "TP", "prize"),
    ],
)
def test_malformed_files_name_file_line_field_rule_value(tmp_path, mutate, line, field, rule):
    p = _write(tmp_path, mutate(GOOD))
    with pytest.raises(FormatError) as info:
        read_steinlib(p)
    msg = str(info.value)
    assert str(p) in msg
    assert f"row {line}" in msg
    assert f"field '{field}'" in msg
    assert rule in msg


def test_truncated_and_missing_sections(tmp_path):
    cut = GOOD[: GOOD.index("SECTION Terminals")]
    with pytest.raises(FormatError, match="truncated|missing"):
        read_steinlib(_write(tmp_path, cut))
    no_end = GOOD.replace("T 4\nEND", "T 4")
    with pytest.raises(FormatError, match="closed by END"):
        read_steinlib(_write(tmp_path, no_end, "b.stp"))
    with pytest.raises(FormatError, match="empty"):
        read_steinlib(_write(tmp_path, "", "c.stp"))
    with pytest.raises(FormatError, match="does not exist"):
        read_steinlib(tmp_path / "nope.stp")
    only_graph = GOOD[: GOOD.index("SECTION Terminals")] + "EOF\n"
    with pytest.raises(FormatError, match="SECTION Terminals"):
        read_steinlib(_write(tmp_path, only_graph, "d.stp"))


def test_several_problems_reported_together(tmp_path):
    bad = GOOD.replace("E 2 3 1", "E 2 3 -1").replace("E 3 4 2", "E 3 9 2")
    with pytest.raises(FormatError) as info:
        read_steinlib(_write(tmp_path, bad))
    assert len(info.value.problems) == 2


def test_cli_json(tmp_path):
    p = _write(tmp_path, GOOD)
    out = CliRunner().invoke(main, ["steiner", str(p), "--json"])
    assert out.exit_code == 0, out.output
    obj = json.loads(out.stdout)
    assert set(obj) == {"cost", "edges", "lower_bound", "gap", "status", "seconds"}
    assert obj["cost"] == 6.0 and obj["status"] == "optimal" and obj["gap"] == 0.0
    assert sorted(obj["edges"]) == [[1, 2], [2, 3], [3, 4]]  # node ids as in the file


def test_cli_text_and_errors(tmp_path):
    p = _write(tmp_path, GOOD)
    out = CliRunner().invoke(main, ["steiner", str(p), "--method", "heuristic", "--time-limit", "5"])
    assert out.exit_code == 0 and "cost         6" in out.output
    bad = _write(tmp_path, GOOD.replace("E 2 3 1", "E 2 3 -1"), "bad.stp")
    out = CliRunner().invoke(main, ["steiner", str(bad), "--json"])
    assert out.exit_code == 2
    assert "bad.stp" in out.output and "weight" in out.output and "Traceback" not in out.output


@needs_steinlib
def test_read_b01_header_counts():
    inst = read_steinlib(STEINLIB / "B" / "b01.stp")
    # counts from the file's own header lines (Nodes 50, Edges 63, Terminals 9)
    assert (inst.n_nodes, inst.n_edges, len(inst.terminals)) == (50, 63, 9)


@needs_steinlib
@pytest.mark.parametrize("name", ["b01", "b04", "b08", "b11", "b13", "b15", "b18"])
def test_steinlib_b_reaches_published_optimum(name):
    opt = _optima()[name]
    inst = read_steinlib(STEINLIB / "B" / f"{name}.stp")
    res = steiner_tree((inst.n_nodes + 1, inst.edges, inst.weights), inst.terminals)
    edges = [(int(u), int(v), float(w)) for (u, v), w in zip(inst.edges, inst.weights)]
    cost = check_tree(inst.n_nodes + 1, edges, inst.terminals.tolist(), res.edges)
    assert cost == res.cost
    assert res.cost == opt
    assert res.status == "optimal" and res.lower_bound == opt


@needs_steinlib
@pytest.mark.parametrize("name", ["c03", "c11"])
def test_steinlib_c_heuristic_bound_brackets_published_optimum(name):
    opt = _optima()[name]
    inst = read_steinlib(STEINLIB / "C" / f"{name}.stp")
    res = steiner_tree((inst.n_nodes + 1, inst.edges, inst.weights), inst.terminals, method="heuristic")
    assert res.lower_bound <= opt <= res.cost
