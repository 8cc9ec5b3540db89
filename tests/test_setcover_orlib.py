"""OR-Library reader, the scp command line, and published optimal values."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from naive_setcover import brute_force_set_cover
from orlib_data import ORLIB, known_values, need_orlib
from siteplan.cli import main
from siteplan.exceptions import FormatError
from siteplan.io import read_orlib_scp
from siteplan.optimize import SolveStatus, solve_set_cover

# 3 rows, 4 columns; costs 2 3 4 1; row 1: cols 1 2, row 2: cols 2 3, row 3: cols 1 4
ROWWISE = "3 4\n2 3 4 1\n2\n1 2\n2 2\n3\n2 1 4\n"
COLWISE = "3 4\n2 2 1 3\n3 2 1 2\n4 1 2\n1 1 3\n"


def _known():
    return known_values()


def test_both_layouts_give_the_same_problem(tmp_path):
    a = tmp_path / "scpx.txt"
    a.write_text(ROWWISE)
    b = tmp_path / "railx.txt"
    b.write_text(COLWISE)
    pa, pb = read_orlib_scp(a), read_orlib_scp(b)
    assert pa.meta["format"] == "rows" and pb.meta["format"] == "columns"
    for p in (pa, pb):
        assert (p.n_rows, p.n_cols) == (3, 4)
        assert p.costs.tolist() == [2, 3, 4, 1]
        assert [p.col_rows[p.col_ptr[j]:p.col_ptr[j + 1]].tolist() for j in range(4)] == [[0, 2], [0, 1], [1], [2]]
    # layout detection does not depend on the name when only one layout fits
    c = tmp_path / "whatever.txt"
    c.write_text(COLWISE)
    assert read_orlib_scp(c).meta["format"] == "columns"


@pytest.mark.parametrize("text, words", [
    ("3 4\n2 3 4 1\n2\n1 2\n2 2\n", "ends early"),            # truncated
    ("3 4\n2 3 4 1\n2\n1 2\n2 2 3\n1\n9\n", "1..4"),           # column index out of range
    ("3 4\n2 3 x 1\n2\n1 2\n2 2 3\n1\n4\n", "integer"),        # not an integer
    ("3 4\n2 3 4 1\n2\n1 2\n2 2 3\n1\n4\n7 7 7 7 7 7 7\n", "extra"),  # trailing data
    ("", "empty"),
    ("0 4\n", ">= 1"),
])
def test_malformed_files_raise_format_error_naming_the_place(tmp_path, text, words):
    f = tmp_path / "scpbad.txt"
    f.write_text(text)
    with pytest.raises(FormatError) as err:
        read_orlib_scp(f)
    msg = str(err.value)
    assert "scpbad.txt" in msg
    assert words in msg


def test_truncated_rail_file_names_the_line(tmp_path):
    f = tmp_path / "railbad.txt"
    f.write_text("3 4\n2 2 1 3\n3 2 1 2\n4 1 2\n1 1\n")
    with pytest.raises(FormatError) as err:
        read_orlib_scp(f)
    assert "row 5" in str(err.value)  # the 1-based line where the stream ends


def test_missing_file(tmp_path):
    with pytest.raises(FormatError, match="not found"):
        read_orlib_scp(tmp_path / "nope.txt")


@pytest.mark.parametrize("solver", ["highs", "cbc", "highs+cbc"])
def test_cli_json(tmp_path, solver):
    f = tmp_path / "scpx.txt"
    f.write_text(ROWWISE)
    out = CliRunner().invoke(main, ["scp", str(f), "--json", "--solver", solver])
    assert out.exit_code == 0, out.output
    obj = json.loads(out.output)
    assert set(obj) == {"cost", "columns", "lower_bound", "gap", "status", "seconds", "solver"}
    opt, arg = brute_force_set_cover(read_orlib_scp(f))
    assert obj["cost"] == opt
    assert obj["status"] == "optimal"
    assert obj["lower_bound"] == opt
    p = read_orlib_scp(f)
    assert p.is_feasible([c - 1 for c in obj["columns"]])  # 1-based on output
    assert min(obj["columns"]) >= 1


def test_cli_bad_file_exits_2(tmp_path):
    f = tmp_path / "scpx.txt"
    f.write_text("3 4\n1 2\n")
    out = CliRunner().invoke(main, ["scp", str(f)])
    assert out.exit_code == 2
    assert "scpx.txt" in out.output


@need_orlib
@pytest.mark.parametrize("name", ["scp41", "scp61", "scpe1"])
@pytest.mark.parametrize("method", ["auto", "exact"])
def test_published_optimum_is_reached_and_proven(name, method):
    value, status = _known()[name]
    assert status == "optimal"
    res = solve_set_cover(read_orlib_scp(ORLIB / f"{name}.txt"), method=method, time_limit=60)
    assert res.status == SolveStatus.OPTIMAL
    assert res.cost == value
    assert res.lower_bound == value


@need_orlib
def test_lagrangian_bound_and_cover_bracket_published_values():
    known = _known()
    for name in ("scp51", "scpnre1"):
        p = read_orlib_scp(ORLIB / f"{name}.txt")
        res = solve_set_cover(p, method="lagrangian", time_limit=3)
        value, _ = known[name]
        assert p.is_feasible(res.columns)
        assert res.lower_bound <= value <= res.cost
        assert res.cost <= 1.10 * value  # a real heuristic, not just any cover


@need_orlib
def test_rail_file_reads():
    p = read_orlib_scp(ORLIB / "rail507.txt")
    assert (p.n_rows, p.n_cols) == (507, 63009)
    assert p.meta["format"] == "columns"
    assert set(np.unique(p.costs).tolist()) <= {1.0, 2.0}

