"""Batch manifest: parsing, expansion into runs, stable run ids, untrusted-file rules
(issue 7, "Many plans" and "Untrusted files")."""

import json
import os
from pathlib import Path

import pytest

from naive_batch import naive_grid, naive_run_id
from scenario_factory import make_scenario
from siteplan import read_scenario
from siteplan.batch import (
    MAX_BATCH_MANIFEST_BYTES,
    BatchError,
    batch_json_schema,
    expand_runs,
    read_batch_manifest,
    run_batch,
)
from siteplan.batch.manifest import scenario_folders
from siteplan.exceptions import UnsafePathError

DOCS = Path(__file__).resolve().parents[1] / "docs"

BASIC = """\
format_version = 1
name = "sweep"
job = "validate"
scenarios = ["s1"]

[options]
gap = 0.01
seed = 0

[[variations]]
name = "base"

[[variations]]
name = "strict-A"
threshold_dbm = { A = -100.0 }
new_sites = { p1 = [1, 2] }

[grid]
time_limit_s = [10.0, 20.0]
budget_cny = [{ p2 = 5e6 }, { p2 = "none" }]
"""


def _write(folder: Path, text: str, name="batch.toml") -> Path:
    p = folder / name
    p.write_text(text, encoding="utf-8")
    return p


def _expand(mpath: Path, job="validate"):
    m = read_batch_manifest(mpath)
    digests = {str(f): read_scenario(f).digest for f in scenario_folders(m, mpath)}
    return m, expand_runs(m, mpath, job=job, digests=digests)


def test_expansion_is_variations_times_grid_with_naive_ids(tmp_path):
    make_scenario(tmp_path / "s1")
    mpath = _write(tmp_path, BASIC)
    m, runs = _expand(mpath)
    digest = read_scenario(tmp_path / "s1").digest
    grid = {"time_limit_s": [10.0, 20.0], "budget_cny": [{"p2": 5e6}, {"p2": "none"}]}
    bases = [{}, {"threshold_dbm": {"A": -100.0}, "new_sites": {"p1": {"min": 1, "max": 2}}}]
    expected = []
    for base in bases:
        for point in naive_grid(grid):
            edits = dict(base)
            edits["budget_cny"] = point["budget_cny"]
            options = {"gap": 0.01, "seed": 0, "time_limit_s": point["time_limit_s"]}
            expected.append((naive_run_id(digest, "validate", edits, options), options))
    assert [(r.run_id, r.options) for r in runs] == expected
    assert len({r.run_id for r in runs}) == 8
    assert all(r.scenario_path == str((tmp_path / "s1").resolve()) for r in runs)
    assert runs[0].label == "s1/base|time_limit_s=10.0,budget_cny={\"p2\":5000000.0}"


def test_run_ids_are_stable_and_depend_on_inputs(tmp_path):
    make_scenario(tmp_path / "s1")
    mpath = _write(tmp_path, BASIC)
    ids1 = [r.run_id for r in _expand(mpath)[1]]
    # same content, keys in another order and other whitespace: same ids
    reordered = BASIC.replace("gap = 0.01\nseed = 0", "seed = 0\ngap   =   0.01")
    ids2 = [r.run_id for r in _expand(_write(tmp_path, reordered, "b2.toml"))[1]]
    assert ids1 == ids2
    # the variation's name is a label, not part of the id
    ids3 = [r.run_id for r in _expand(_write(tmp_path, BASIC.replace('"strict-A"', '"renamed"'), "b3.toml"))[1]]
    assert ids1 == ids3
    # another job, another id
    assert {r.run_id for r in _expand(mpath, job="other")[1]}.isdisjoint(ids1)
    # a changed input file changes the scenario digest and so every id
    vpath = tmp_path / "s1" / "villages.csv"
    vpath.write_text(vpath.read_text().replace("1200,380", "1201,380"))
    assert set(r.run_id for r in _expand(mpath)[1]).isdisjoint(ids1)


def test_identical_variations_collapse_to_one_run(tmp_path):
    make_scenario(tmp_path / "s1")
    text = 'name = "d"\nscenarios = ["s1", "./s1"]\n[[variations]]\nname = "a"\n[[variations]]\nname = "b"\n'
    _, runs = _expand(_write(tmp_path, text))
    assert len(runs) == 1


@pytest.mark.parametrize("text, key, rule", [
    ('name = "x"\nscenarios = ["s1"]\nbogus = 1\n', "bogus", "unknown key"),
    ('name = "x"\nscenarios = ["s1"]\n[[variations]]\nthreshold_dbm = -200.0\n',
     "variations[1].threshold_dbm", "greater than or equal to -150"),
    ('name = "x"\nscenarios = ["s1"]\n[[variations]]\nthreshold_dbm = { A = -20.0 }\n',
     "variations[1].threshold_dbm.A", "less than or equal to -40"),
    ('name = "x"\nscenarios = ["s1"]\n[[variations]]\nnew_sites = { p1 = [3, 1] }\n',
     "variations[1].new_sites", "min <= max"),
    ('name = "x"\nscenarios = ["s1"]\n[[variations]]\ncandidates = { keep_fraction = 0.0 }\n',
     "variations[1].candidates.keep_fraction", "greater than 0"),
    ('name = "x"\nscenarios = ["s1"]\n[grid]\nnot_a_field = [1]\n', "grid", "unknown grid key"),
    ('name = "x"\nscenarios = []\n', "scenarios", "at least 1"),
    ('name = "x"\nscenarios = ["s1"]\nformat_version = 2\n', "format_version", "1"),
])
def test_bad_manifest_names_file_key_rule(tmp_path, text, key, rule):
    mpath = _write(tmp_path, text)
    with pytest.raises(BatchError) as ei:
        read_batch_manifest(mpath)
    msg = str(ei.value)
    assert str(mpath) in msg and f"'{key}'" in msg and rule in msg


def test_bad_grid_value_named_with_its_index(tmp_path):
    make_scenario(tmp_path / "s1")
    mpath = _write(tmp_path, 'name = "x"\nscenarios = ["s1"]\n[grid]\nthreshold_dbm = [-110.0, -300.0]\n')
    with pytest.raises(BatchError, match=r"grid\.threshold_dbm\[2\]"):
        _expand(mpath)


def test_grid_clash_with_variation_is_an_error(tmp_path):
    make_scenario(tmp_path / "s1")
    mpath = _write(tmp_path, 'name = "x"\nscenarios = ["s1"]\n[[variations]]\ngap = 0.1\n[grid]\ngap = [0.2]\n')
    with pytest.raises(BatchError, match=r"variations\[1\]\.gap.*both in the variation and in \[grid\]"):
        _expand(mpath)


def test_too_many_runs_refused_before_expansion(tmp_path, monkeypatch):
    import siteplan.batch.manifest as bm

    monkeypatch.setattr(bm, "MAX_BATCH_RUNS", 5)
    make_scenario(tmp_path / "s1")
    mpath = _write(tmp_path, 'name = "x"\nscenarios = ["s1"]\n[grid]\nseed = [0, 1, 2]\ngap = [0.1, 0.2]\n')
    with pytest.raises(BatchError, match="more runs than the limit of 5.*got 6"):
        _expand(mpath)


def test_unknown_job_lists_the_registry(tmp_path):
    make_scenario(tmp_path / "s1")
    mpath = _write(tmp_path, 'name = "x"\nscenarios = ["s1"]\njob = "os.system"\n')
    with pytest.raises(BatchError, match=r"unknown job \(known: .*validate.*\).*os\.system"):
        run_batch(mpath, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# --- untrusted files ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["absolute", "dotdot", "symlink"])
def test_manifest_paths_escaping_the_folder_are_rejected(tmp_path, kind):
    base = tmp_path / "batchdir"
    base.mkdir()
    outside = make_scenario(tmp_path / "outside")
    if kind == "absolute":
        rel = str(outside)
    elif kind == "dotdot":
        rel = "../outside"
    else:
        os.symlink(outside, base / "link")
        rel = "link"
    mpath = _write(base, f'name = "x"\nscenarios = ["{rel}"]\n')
    with pytest.raises(UnsafePathError) as ei:
        run_batch(mpath, base / "out")
    msg = str(ei.value)
    assert str(mpath) in msg and "'scenarios[1].path'" in msg and rel[:40] in msg  # value shown (long ones shortened)
    assert "batch manifest's folder" in msg
    assert not (base / "out").exists()


def test_symlink_inside_the_folder_is_accepted(tmp_path):
    make_scenario(tmp_path / "real")
    os.symlink(tmp_path / "real", tmp_path / "alias")
    mpath = _write(tmp_path, 'name = "x"\nscenarios = ["alias"]\n')
    m = read_batch_manifest(mpath)
    assert scenario_folders(m, mpath) == [(tmp_path / "real").resolve()]


def test_oversized_manifest_refused_before_parsing(tmp_path):
    # not TOML at all: parsing would report "invalid TOML"; the size check must come first
    mpath = tmp_path / "batch.toml"
    mpath.write_bytes(b"\x00 this is not toml [[[ " * (MAX_BATCH_MANIFEST_BYTES // 20 + 1))
    assert mpath.stat().st_size > MAX_BATCH_MANIFEST_BYTES
    with pytest.raises(BatchError) as ei:
        read_batch_manifest(mpath)
    assert "larger than the limit" in str(ei.value) and "invalid TOML" not in str(ei.value)
    # one byte under the limit is parsed (and then fails as TOML)
    mpath.write_bytes(b"[" * MAX_BATCH_MANIFEST_BYTES)
    with pytest.raises(BatchError, match="invalid TOML"):
        read_batch_manifest(mpath)


def test_published_schema_is_current():
    published = json.loads((DOCS / "batch.schema.json").read_text(encoding="utf-8"))
    assert published == json.loads(json.dumps(batch_json_schema()))


def test_documented_example_manifest_is_valid(tmp_path):
    """The example in docs/batch-format.md parses (scenario folders are not read here)."""
    text = (DOCS / "batch-format.md").read_text(encoding="utf-8")
    start = text.index("```toml\n") + len("```toml\n")
    example = text[start:text.index("```", start)]
    m = read_batch_manifest(_write(tmp_path, example))
    assert m.name and len(m.variations) >= 2 and m.grid
