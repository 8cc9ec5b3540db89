"""Batch overhead: what running each run in its own killable process costs.

Side by side on the same runs (the unit scenario of tests/scenario_factory.py, the
``validate`` job, N variations of the threshold):

- ``inprocess``: the baseline, a plain loop in this process (read_scenario ->
  apply_variation -> validate_job), no isolation, no ledger, no time limit;
- ``local``: ``run_batch`` on the local pool (2 workers): a process per run, ledger,
  atomic output folders;
- ``dask``: ``run_batch`` on an in-process Dask ``LocalCluster`` (2 worker threads).

Profiles: ``SITEPLAN_BENCH_PROFILE=quick`` (default; N = 2, for CI with
``--benchmark-disable``) or ``full`` (N = 16). Results: ``benchmarks/batch/RESULTS.md``.
Run: ``PYTHONPATH=src:tests python -m pytest benchmarks/batch -q``.
"""

import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))

from scenario_factory import make_scenario  # noqa: E402
from siteplan import read_scenario  # noqa: E402
from siteplan.batch import apply_variation, run_batch, validate_job  # noqa: E402

PROFILE = os.environ.get("SITEPLAN_BENCH_PROFILE", "quick")
N_RUNS = {"quick": 2, "full": 16}[PROFILE]
ROUNDS = {"quick": 1, "full": 3}[PROFILE]
THRESHOLDS = [-120.0 + i * 0.5 for i in range(N_RUNS)]


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    base = tmp_path_factory.mktemp("bench")
    make_scenario(base / "s1")
    m = base / "batch.toml"
    m.write_text(f'name = "bench"\nscenarios = ["s1"]\n[grid]\nthreshold_dbm = {THRESHOLDS}\n', encoding="utf-8")
    return m


def _fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    return path


def test_inprocess_baseline(benchmark, manifest, tmp_path):
    def run():
        for i, th in enumerate(THRESHOLDS):
            out = _fresh(tmp_path / f"r{i}")
            out.mkdir()
            s = apply_variation(read_scenario(manifest.parent / "s1"), {"threshold_dbm": th})
            validate_job(s, {}, out)

    benchmark.pedantic(run, rounds=ROUNDS, iterations=1)


def test_local_pool(benchmark, manifest, tmp_path):
    def run():
        res = run_batch(manifest, _fresh(tmp_path / "out"), workers=2)
        assert res.ok and res.executed == N_RUNS

    benchmark.pedantic(run, rounds=ROUNDS, iterations=1)


def test_dask_inprocess_cluster(benchmark, manifest, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(processes=False, n_workers=2, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        def run():
            res = run_batch(manifest, _fresh(tmp_path / "out"), scheduler=cluster.scheduler_address)
            assert res.ok and res.executed == N_RUNS

        benchmark.pedantic(run, rounds=ROUNDS, iterations=1)
