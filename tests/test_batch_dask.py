"""Batches on Dask distributed: an in-process session cluster for most tests, one test with
real worker processes through `siteplan batch --cluster local` (issue 7, "Many plans").

No distributed.utils_test.gen_cluster here: its leak checks fail beside a session cluster.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from scenario_factory import make_scenario
from siteplan.batch import DaskMissingError, list_runs, run_batch
from siteplan.cli import main

distributed = pytest.importorskip("distributed", reason="Dask distributed is the optional extra siteplan[dask]")

TESTS = Path(__file__).resolve().parent
SRC = TESTS.parent / "src"

MANIFEST = """\
name = "dask-batch"
job = "validate"
scenarios = ["s1"]
[[variations]]
name = "base"
[[variations]]
name = "strict"
threshold_dbm = { A = -95.0 }
[[variations]]
name = "pool"
candidates = { keep_fraction = 0.5, seed = 4 }
"""


@pytest.fixture(scope="session")
def dask_cluster():
    cluster = distributed.LocalCluster(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None)
    yield cluster
    cluster.close()


@pytest.fixture
def plugins(monkeypatch):
    monkeypatch.setenv("SITEPLAN_BATCH_PLUGINS", "batch_testjobs")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(SRC), str(TESTS), os.environ.get("PYTHONPATH", "")]))


def _setup(tmp_path, text) -> Path:
    make_scenario(tmp_path / "s1")
    m = tmp_path / "batch.toml"
    m.write_text(text, encoding="utf-8")
    return m


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def test_dask_batch_equals_local_batch(tmp_path, dask_cluster):
    mpath = _setup(tmp_path, MANIFEST)
    res_d = run_batch(mpath, tmp_path / "dask", scheduler=dask_cluster.scheduler_address)
    res_l = run_batch(mpath, tmp_path / "local", workers=2)
    assert res_d.ok and res_l.ok and res_d.statuses.keys() == res_l.statuses.keys()
    rows_d = {r["run_id"]: r for r in list_runs(tmp_path / "dask")}
    rows_l = {r["run_id"]: r for r in list_runs(tmp_path / "local")}
    assert len(rows_d) == 3
    for rid, rd in rows_d.items():
        assert rd["figures"] == rows_l[rid]["figures"]
        for name in ("summary.json", "summary.txt"):
            assert (tmp_path / "dask" / rd["output_path"] / name).read_bytes() == \
                   (tmp_path / "local" / rows_l[rid]["output_path"] / name).read_bytes()
    # the session cluster is still usable: the batch closed only its own client
    with distributed.Client(dask_cluster.scheduler_address, set_as_default=False) as c:
        assert c.submit(sum, [1, 2]).result() == 3
    # re-running on Dask skips everything
    again = run_batch(mpath, tmp_path / "dask", scheduler=dask_cluster.scheduler_address)
    assert (again.executed, again.skipped) == (0, 3)


def test_dask_records_failures_and_enforces_wall_clock_inside_the_task(tmp_path, dask_cluster, plugins):
    pid_file = tmp_path / "grandchild.pid"
    mpath = _setup(tmp_path, 'name = "t"\nscenarios = ["s1"]\nwall_time_limit_s = 4.0\n'
                             f'[options]\nhang_seed = 1\npid_file = "{pid_file.as_posix()}"\n'
                             "[grid]\nseed = [0, 1]\n")
    out = tmp_path / "out"
    t0 = time.monotonic()
    res = run_batch(mpath, out, job="maybe_hang", scheduler=dask_cluster.scheduler_address)
    assert time.monotonic() - t0 < 30
    by_seed = {r["options"]["seed"]: r for r in list_runs(out)}
    assert by_seed[0]["status"] == "done" and by_seed[1]["status"] == "timeout"
    assert "wall-clock limit of 4 s exceeded" in by_seed[1]["error"]
    assert not res.ok
    gpid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _alive(gpid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(gpid)

    res = run_batch(mpath, tmp_path / "out2", job="fail", scheduler=dask_cluster.scheduler_address)
    rows = list_runs(tmp_path / "out2")
    assert [r["status"] for r in rows] == ["failed", "failed"]
    assert all("ZeroDivisionError" in r["error"] for r in rows)


def test_missing_dask_is_a_clear_error(tmp_path, monkeypatch):
    mpath = _setup(tmp_path, MANIFEST)
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(DaskMissingError, match=r"siteplan\[dask\]"):
        run_batch(mpath, tmp_path / "out", cluster="local")
    r = CliRunner().invoke(main, ["batch", str(mpath), "--out", str(tmp_path / "out"), "--scheduler", "tcp://x:1"])
    assert r.exit_code == 2 and "pip install 'siteplan[dask]'" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "out").exists()
    r = CliRunner().invoke(main, ["batch", str(mpath), "--out", str(tmp_path / "out"), "--scheduler", "tcp://x:1",
                                  "--cluster", "local"])
    assert r.exit_code == 2 and "not both" in r.output


def test_cli_cluster_local_with_worker_processes(tmp_path, plugins):
    """The one test with real Dask worker processes (n_workers=2, threads_per_worker=1): runs
    are supervised in the workers, a hung run is killed inside its task, the rest finish."""
    pid_file = tmp_path / "grandchild.pid"
    mpath = _setup(tmp_path, 'name = "procs"\nscenarios = ["s1"]\nwall_time_limit_s = 5.0\n'
                             f'[options]\nsleep_s = 0.1\nhang_seed = 0\npid_file = "{pid_file.as_posix()}"\n'
                             "[grid]\nseed = [0, 1, 2]\n")
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "siteplan", "batch", str(mpath), "--out", str(out),
                             "--cluster", "local", "--workers", "2", "--job", "maybe_hang"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1, stdout + stderr  # one run timed out
    assert "2 done, 1 timeout" in stdout
    rows = {r["options"]["seed"]: r for r in list_runs(out)}
    assert [rows[s]["status"] for s in (0, 1, 2)] == ["timeout", "done", "done"]
    gpid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _alive(gpid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(gpid)
    supervisors = set()
    for s in (1, 2):
        record = json.loads((out / rows[s]["output_path"] / "batch-run.json").read_text())
        supervisors.add(record["supervisor_pid"])
        assert record["start_method"] == "subprocess"  # daemonic Dask workers cannot fork-serve
        assert (out / rows[s]["output_path"] / "payload.txt").stat().st_size == record["figures"]["bytes"]
    # supervised by Dask worker processes, not by the batch process (nor its threads)
    assert None not in supervisors and proc.pid not in supervisors
    assert not (out / ".work").exists()
