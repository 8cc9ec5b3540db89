"""Bottom layer: typed errors, atomic writes, CLI error handling."""

import os

import pytest

from siteplan.exceptions import MAX_REPORTED_PROBLEMS, InputError, Problem, SiteplanError
from siteplan.io.atomic import atomic_directory, atomic_write_text


def test_problem_message_names_file_row_field_rule_value():
    p = Problem("villages.csv", 7, "population", "must be >= 0", "-5")
    text = str(p)
    for part in ("villages.csv", "row 7", "population", "must be >= 0", "-5"):
        assert part in text


def test_input_error_lists_all_problems_up_to_limit():
    probs = [Problem("a.csv", i, "x", "bad", i) for i in range(1, MAX_REPORTED_PROBLEMS + 6)]
    err = InputError(probs)
    assert isinstance(err, SiteplanError)
    msg = str(err)
    assert f"{len(probs)} problems" in msg
    assert "row 1," in msg and f"row {MAX_REPORTED_PROBLEMS}," in msg
    assert "and 5 more" in msg


def test_atomic_write_keeps_old_content_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "old")

    class Boom(Exception):
        pass

    from siteplan.io.atomic import atomic_path

    with pytest.raises(Boom):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise Boom
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_directory_replaces_whole_folder(tmp_path):
    out = tmp_path / "plan"
    with atomic_directory(out) as stage:
        (stage / "a.txt").write_text("1")
    with pytest.raises(RuntimeError):
        with atomic_directory(out) as stage:
            (stage / "b.txt").write_text("2")
            raise RuntimeError("killed")
    assert sorted(os.listdir(out)) == ["a.txt"]
    assert sorted(os.listdir(tmp_path)) == ["plan"]
