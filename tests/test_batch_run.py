"""Running batches on the local pool: ledger, skip on re-run, failures, wall-clock limits,
a real SIGKILL-and-resume, output-folder safety rules (issue 7, "Many plans", "Untrusted files")."""

import csv
import hashlib
import io
import json
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from naive_batch import naive_kept_candidates, naive_table_counts
from scenario_factory import SITES, VILLAGES, make_scenario
from siteplan.batch import BatchError, list_runs, run_batch
from siteplan.batch.worker import START_METHODS
from siteplan.cli import main
from siteplan.exceptions import UnsafePathError

TESTS = Path(__file__).resolve().parent
SRC = TESTS.parent / "src"

MANIFEST = """\
name = "unit-batch"
job = "validate"
scenarios = ["s1"]

[options]
gap = 0.05

[[variations]]
name = "base"

[[variations]]
name = "strict"
threshold_dbm = -100.0

[[variations]]
name = "pool"
candidates = { keep_fraction = 0.5, seed = 2 }
"""

ONE = 'name = "one"\nscenarios = ["s1"]\n'


@pytest.fixture
def plugins(monkeypatch):
    """Register the test jobs (sleep, fail, hang, nan) for this process and its run processes."""
    monkeypatch.setenv("SITEPLAN_BATCH_PLUGINS", "batch_testjobs")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(SRC), str(TESTS), os.environ.get("PYTHONPATH", "")]))


def _setup(tmp_path, manifest=MANIFEST) -> Path:
    make_scenario(tmp_path / "s1")
    m = tmp_path / "batch.toml"
    m.write_text(manifest, encoding="utf-8")
    return m


def _by_label(rows):
    return {r["label"].split("/", 1)[1]: r for r in rows}


def _tree(root: Path, skip: Path | None = None) -> dict:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if skip is not None and Path(dirpath) == skip.parent:
            dirnames[:] = [d for d in dirnames if Path(dirpath, d) != skip]
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            if skip is not None and p == skip:
                continue
            st = p.lstat()
            out[str(p.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return out


def test_validate_batch_records_every_run_and_rerun_skips(tmp_path):
    mpath = _setup(tmp_path)
    out = tmp_path / "out"
    res = run_batch(mpath, out, workers=2)
    assert (res.runs, res.executed, res.skipped, res.ok) == (3, 3, 0, True)
    rows = list_runs(out)
    assert [r["status"] for r in rows] == ["done"] * 3
    naive = naive_table_counts(VILLAGES, SITES)
    by = _by_label(rows)
    assert by["base"]["figures"]["candidate_sites"] == naive["candidate_sites"]
    assert by["pool"]["figures"]["candidate_sites"] == len(
        naive_kept_candidates(naive["sites"], 0.5, 2) - {r["id"] for r in naive["sites"] if r["kind"] == "existing"})
    assert by["strict"]["figures"]["threshold_dbm"] == {"A": -100.0, "B": -100.0}
    assert by["base"]["figures"]["threshold_dbm"] == {"A": -110.0, "B": -110.0}
    for r in rows:
        assert r["attempts"] == 1 and r["error"] is None and r["output_path"] == f"runs/{r['run_id']}"
        assert r["start_utc"] <= r["end_utc"] and r["wall_s"] > 0
        assert r["options"] == {"gap": 0.05}
        folder = out / r["output_path"]
        assert sorted(p.name for p in folder.iterdir()) == ["batch-run.json", "summary.json", "summary.txt"]
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        assert summary["figures"] == r["figures"] and summary["figures"]["villages"] == naive["villages"]
        record = json.loads((folder / "batch-run.json").read_text(encoding="utf-8"))
        assert record["run_id"] == r["run_id"] and record["scenario_digest"] == r["scenario_digest"]
    assert sorted(os.listdir(out)) == [".lock", "ledger.sqlite", "runs", "siteplan-batch.json"]
    before = _tree(out / "runs")

    # the same batch again: nothing runs, nothing changes
    res2 = run_batch(mpath, out, workers=2)
    assert (res2.executed, res2.skipped, res2.ok) == (0, 3, True)
    assert _tree(out / "runs") == before
    assert [r["attempts"] for r in list_runs(out)] == [1, 1, 1]

    # one more variation: only it runs; a deleted output folder is run again
    mpath.write_text(MANIFEST + '\n[[variations]]\nname = "late"\nthreshold_dbm = { B = -90.0 }\n', encoding="utf-8")
    shutil.rmtree(out / by["strict"]["output_path"])
    res3 = run_batch(mpath, out, workers=1)
    assert (res3.runs, res3.executed, res3.skipped) == (4, 2, 2)
    rows3 = _by_label(list_runs(out))
    assert rows3["strict"]["attempts"] == 2 and rows3["late"]["figures"]["threshold_dbm"]["B"] == -90.0


def test_failed_runs_are_recorded_and_the_batch_goes_on(tmp_path):
    text = MANIFEST + '\n[[variations]]\nname = "typo"\ncandidates = { exclude = ["C9"] }\n'
    mpath = _setup(tmp_path, text)
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["batch", str(mpath), "--out", str(out), "--workers", "2"])
    assert r.exit_code == 1, r.output  # some run failed
    assert "3 done, 1 failed" in r.output
    by = _by_label(list_runs(out))
    assert [by[k]["status"] for k in ("base", "strict", "pool", "typo")] == ["done", "done", "done", "failed"]
    err = by["typo"]["error"]
    assert "candidates.exclude" in err and "unknown site id" in err and "C9" in err
    assert by["typo"]["output_path"] is None and by["typo"]["figures"] is None
    assert not (out / "runs" / by["typo"]["run_id"]).exists()

    # `siteplan runs`: listing and comparison CSV
    csv_path = tmp_path / "cmp.csv"
    r = CliRunner().invoke(main, ["runs", str(out), "--csv", str(csv_path)])
    assert r.exit_code == 0, r.output
    for row in by.values():
        assert row["run_id"] in r.output
    assert "4 runs: 3 done, 1 failed" in r.output and "unknown site id" in r.output
    table = list(csv.DictReader(io.StringIO(csv_path.read_text(encoding="utf-8"))))
    assert {t["run_id"] for t in table} == {row["run_id"] for row in by.values()}
    tb = {t["label"].split("/", 1)[1]: t for t in table}
    assert tb["strict"]["variation.threshold_dbm"] == "-100.0" and tb["base"]["variation.threshold_dbm"] == ""
    assert tb["strict"]["figures.threshold_dbm.A"] == "-100.0" and tb["base"]["figures.threshold_dbm.A"] == "-110.0"
    assert tb["pool"]["variation.candidates.keep_fraction"] == "0.5"
    assert int(tb["base"]["figures.villages"]) == naive_table_counts(VILLAGES, SITES)["villages"]
    assert tb["typo"]["status"] == "failed" and "unknown site id" in tb["typo"]["error"]
    assert tb["typo"]["figures.villages"] == ""
    assert all(t["options.gap"] == "0.05" for t in table)
    # not a batch folder: clear error, exit 2, nothing created
    r = CliRunner().invoke(main, ["runs", str(tmp_path / "s1")])
    assert r.exit_code == 2 and "not a siteplan batch output" in r.output
    assert not (tmp_path / "s1" / "ledger.sqlite").exists()

    # re-running does not retry a failed run unless asked
    assert run_batch(mpath, out).executed == 0
    res = run_batch(mpath, out, retry_failed=True)
    assert res.executed == 1 and _by_label(list_runs(out))["typo"]["attempts"] == 2


def test_exceptions_and_bad_figures_fail_runs(tmp_path, plugins):
    mpath = _setup(tmp_path, 'name = "f"\nscenarios = ["s1"]\n')
    out = tmp_path / "out"
    res = run_batch(mpath, out, job="fail", workers=1)
    assert res.statuses and set(res.statuses.values()) == {"failed"}
    (row,) = list_runs(out)
    assert "ZeroDivisionError: deliberate failure for unit" in row["error"] and "Traceback" in row["error"]
    assert not any("partial.txt" in str(p) for p in out.rglob("*"))
    res = run_batch(mpath, out, job="nan", workers=1)
    nan_row = [r for r in list_runs(out) if r["job"] == "nan"][0]
    assert nan_row["status"] == "failed" and "Out of range float values" in nan_row["error"]
    res = run_batch(mpath, out, job="crash", workers=1)
    crash_row = [r for r in list_runs(out) if r["job"] == "crash"][0]
    assert crash_row["status"] == "failed"
    assert "exited with code -9 without a result" in crash_row["error"] and "about to die" in crash_row["error"]
    assert [r["status"] for r in list_runs(out)] == ["failed"] * 3 and not os.listdir(out / "runs")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead too
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


@pytest.mark.parametrize("start", sorted(START_METHODS))
def test_wall_clock_limit_kills_the_run_and_its_children(tmp_path, plugins, monkeypatch, start):
    monkeypatch.setenv("SITEPLAN_BATCH_START", start)
    mpath = _setup(tmp_path, 'name = "t"\nscenarios = ["s1"]\nwall_time_limit_s = 1.5\n'
                             f'[options]\npid_file = "{(tmp_path / "grandchild.pid").as_posix()}"\n')
    out = tmp_path / "out"
    t0 = time.monotonic()
    r = CliRunner().invoke(main, ["batch", str(mpath), "--out", str(out), "--job", "hang", "--workers", "1"])
    elapsed = time.monotonic() - t0
    assert r.exit_code == 1, r.output
    (row,) = list_runs(out)
    assert row["status"] == "timeout" and "wall-clock limit of 1.5 s exceeded" in row["error"]
    assert 1.5 <= row["wall_s"] < 10 and elapsed < 30
    gpid = int((tmp_path / "grandchild.pid").read_text())
    deadline = time.monotonic() + 5
    while _alive(gpid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(gpid), "the run's own child process survived the timeout"
    assert not (out / "runs" / row["run_id"]).exists()
    # --wall-limit on the command line overrides the manifest (a run that fits now succeeds)
    r = CliRunner().invoke(main, ["batch", str(mpath), "--out", str(out), "--job", "validate", "--wall-limit", "60"])
    assert r.exit_code == 0, r.output
    (done,) = [x for x in list_runs(out) if x["status"] == "done"]
    assert json.loads((out / done["output_path"] / "batch-run.json").read_text())["start_method"] == start


# --- untrusted files: output folder ----------------------------------------------------------


def test_foreign_out_folder_refused_unless_force(tmp_path):
    mpath = _setup(tmp_path, ONE)
    out = tmp_path / "mydata"
    out.mkdir()
    (out / "thesis.docx").write_text("precious")
    r = CliRunner().invoke(main, ["batch", str(mpath), "--out", str(out)])
    assert r.exit_code == 2 and "not a siteplan batch output" in r.output and "--force" in r.output
    assert sorted(os.listdir(out)) == ["thesis.docx"]
    res = run_batch(mpath, out, force=True, workers=2)
    assert res.ok and (out / "thesis.docx").read_text() == "precious"
    # now it carries the marker: no --force needed any more
    assert run_batch(mpath, out).skipped == 1
    # an empty folder is fine; a file is not; a missing parent is not created
    (tmp_path / "empty").mkdir()
    assert run_batch(mpath, tmp_path / "empty", workers=2).ok
    (tmp_path / "afile").write_text("x")
    with pytest.raises(UnsafePathError, match="not a folder"):
        run_batch(mpath, tmp_path / "afile")
    with pytest.raises(UnsafePathError, match="parent folder does not exist"):
        run_batch(mpath, tmp_path / "no" / "such" / "out")
    assert not (tmp_path / "no").exists()
    with pytest.raises(BatchError, match="--workers.*must be >= 1"):
        run_batch(mpath, tmp_path / "w0", workers=0)
    assert not (tmp_path / "w0").exists()


def test_invalid_marker_is_not_enough(tmp_path):
    mpath = _setup(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "siteplan-batch.json").write_text('{"format": "something else"}')
    (out / "data.csv").write_text("a,b\n")
    with pytest.raises(UnsafePathError, match="not a siteplan batch output"):
        run_batch(mpath, out)
    # a marked folder whose ledger is garbage: a clear error, not a traceback
    (out / "siteplan-batch.json").write_text('{"format": "siteplan-batch-output", "version": 1}')
    (out / "ledger.sqlite").write_bytes(b"this is not sqlite" * 100)
    r = CliRunner().invoke(main, ["runs", str(out)])
    assert r.exit_code == 2 and "not a readable siteplan ledger" in r.output and "Traceback" not in r.output
    with pytest.raises(BatchError, match="not a readable siteplan ledger"):
        run_batch(mpath, out)
    assert (out / "ledger.sqlite").read_bytes() == b"this is not sqlite" * 100


def test_symlinks_inside_out_are_refused(tmp_path):
    mpath = _setup(tmp_path, ONE)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / ".0123456789abcdef.staging-x").mkdir()  # looks like a leftover siteplan would delete
    (victim / "keep.txt").write_text("keep")
    out = tmp_path / "out"
    run_batch(mpath, out, workers=1)
    shutil.rmtree(out / "runs")
    os.symlink(victim, out / "runs")
    with pytest.raises(UnsafePathError, match="'runs'.*symbolic link"):
        run_batch(mpath, out)
    assert sorted(os.listdir(victim)) == [".0123456789abcdef.staging-x", "keep.txt"]


def test_nothing_outside_out_is_written_or_deleted(tmp_path, monkeypatch):
    mpath = _setup(tmp_path, ONE + '[[variations]]\nname = "ok"\n'
                             '[[variations]]\nname = "typo"\ncandidates = { exclude = ["C9"] }\n')
    scratch = tmp_path / "tmpdir"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    out = tmp_path / "out"
    before = _tree(tmp_path)
    run_batch(mpath, out, workers=2)
    run_batch(mpath, out, workers=2, retry_failed=True)
    after = _tree(tmp_path, skip=out)
    # the system's temporary folder may hold multiprocessing's fork-server socket (pymp-*/listener-*,
    # made once per process), never anything of a run
    for name in os.listdir(scratch):
        assert name.startswith("pymp-"), name
        for entry in (scratch / name).iterdir():
            assert entry.name.startswith("listener-") and stat.S_ISSOCK(entry.lstat().st_mode), entry
    after = {k: v for k, v in after.items() if not k.startswith("tmpdir")}
    before = {k: v for k, v in before.items() if not k.startswith("tmpdir")}
    assert after == before, "something outside --out changed"
    assert not (out / ".work").exists()


def test_a_second_batch_on_the_same_folder_is_refused(tmp_path):
    import fcntl

    mpath = _setup(tmp_path, ONE)
    out = tmp_path / "out"
    run_batch(mpath, out, workers=1)
    with open(out / ".lock", "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(BatchError, match="another batch is writing"):
            run_batch(mpath, out)


# --- a real kill and resume ---------------------------------------------------------------------


def _ledger_state(out: Path) -> dict:
    try:
        conn = sqlite3.connect(f"file:{out / 'ledger.sqlite'}?mode=ro", uri=True, timeout=10)
    except sqlite3.OperationalError:
        return {}
    try:
        return {rid: (st, n) for rid, st, n in conn.execute("SELECT run_id, status, attempts FROM runs")}
    except sqlite3.OperationalError:
        return {}
    finally:
        conn.close()


def _procs_mentioning(text: str) -> list[int]:
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if text.encode() in (d / "cmdline").read_bytes() and _alive(int(d.name)):
                    pids.append(int(d.name))
            except OSError:
                pass
    return pids


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to look for orphaned run processes")
def test_sigkill_mid_batch_then_resume(tmp_path, plugins):
    n = 6
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    mpath = _setup(tmp_path, 'name = "kill"\nscenarios = ["s1"]\n[options]\nsleep_s = 0.3\n'
                             f'pid_dir = "{pid_dir.as_posix()}"\n[grid]\nseed = {list(range(n))}\n')
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "siteplan", "batch", str(mpath), "--out", str(out), "--job", "sleep",
           "--workers", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    state = {}
    while time.monotonic() < deadline:
        state = _ledger_state(out)
        if sum(st == "done" for st, _ in state.values()) >= 2:
            break
        assert proc.poll() is None, proc.stdout.read().decode()
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()
    killed = _ledger_state(out)
    assert len(killed) == n
    done_before = {rid for rid, (st, _) in killed.items() if st == "done"}
    running_at_kill = {rid for rid, (st, _) in killed.items() if st == "running"}
    assert 2 <= len(done_before) < n, killed
    outputs_before = {rid: _tree(out / "runs" / rid) for rid in done_before}
    # the dead batch's run processes (and the fork server they came from) notice and stop
    started = {int(p.name): int(p.read_text()) for p in pid_dir.iterdir()}
    assert len(started) >= len(done_before)
    pids = set(started) | set(started.values())
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in pids if _alive(p)], "run processes outlived their batch"
    assert _procs_mentioning(str(out)) == []

    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = list_runs(out)
    ids = [row["run_id"] for row in rows]
    assert len(ids) == len(set(ids)) == n
    assert all(row["status"] == "done" for row in rows)
    assert sorted(os.listdir(out / "runs")) == sorted(ids)  # no staging or half folders
    assert not (out / ".work").exists()
    for row in rows:
        folder = out / "runs" / row["run_id"]
        data = (folder / "payload.txt").read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["figures"]["sha256"] and len(data) == row["figures"]["bytes"]
        assert json.loads((folder / "batch-run.json").read_text())["run_id"] == row["run_id"]
        if row["run_id"] in done_before:  # finished runs were not run again
            assert row["attempts"] == 1 and _tree(folder) == outputs_before[row["run_id"]]
        elif row["run_id"] in running_at_kill:  # interrupted runs were run again
            assert row["attempts"] == 2


def test_plan_job_runs_the_pipeline_per_variation(tmp_path):
    """The default job: every run writes a complete plan and records its key figures."""
    from siteplan.generate import generate_scenario

    generate_scenario("tiny", 1, tmp_path / "tiny")
    m = tmp_path / "batch.toml"
    m.write_text('name = "plans"\nscenarios = ["tiny"]\n\n[options]\ngap = 0.0\n\n'
                 '[[variations]]\nname = "base"\n\n[[variations]]\nname = "fewer"\n'
                 'new_stations = { "2018" = [0, 3] }\n', encoding="utf-8")
    out = tmp_path / "out"
    res = run_batch(m, out, workers=1)
    assert res.ok and res.runs == 2
    rows = _by_label(list_runs(out))
    for label, row in rows.items():
        assert row["job"] == "plan" and row["status"] == "done"
        fig = row["figures"]
        assert fig["status"] in ("optimal", "feasible")
        plan = json.loads((out / row["output_path"] / "plan.json").read_text(encoding="utf-8"))
        assert {ph["name"]: ph["new_stations"] for ph in plan["phases"]} == \
            {k: v["new_stations"] for k, v in fig["phases"].items()}
    assert rows["fewer"]["figures"]["phases"]["2018"]["new_stations"] <= 3
