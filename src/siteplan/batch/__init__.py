"""Many plans: a batch manifest of scenarios x variations, run on a local pool or Dask.

- :func:`read_batch_manifest`, :func:`expand_runs`: the ``batch.toml`` format
  (``docs/batch-format.md``) and its expansion into runs with stable ids;
- :func:`apply_variation`: a scenario with a variation applied (never in place);
- :data:`JOBS`: what a run computes (``validate`` now; ``plan`` once the pipeline lands);
- :func:`run_batch`: execute the unfinished runs, recording each in the SQLite ledger;
- :func:`list_runs`, :func:`write_runs_csv`: read the ledger, write the comparison table.
"""

from siteplan.batch.executors import EXECUTORS, DaskExecutor, DaskMissingError, Executor, LocalExecutor, make_executor
from siteplan.batch.jobs import DEFAULT_JOB, JOBS, get_job, job_names, validate_job
from siteplan.batch.ledger import LEDGER_NAME, STATUSES, Ledger
from siteplan.batch.manifest import (
    MAX_BATCH_MANIFEST_BYTES,
    MAX_BATCH_RUNS,
    BatchError,
    BatchManifest,
    CandidatePool,
    RunSpec,
    Variation,
    batch_json_schema,
    expand_runs,
    read_batch_manifest,
    run_id,
)
from siteplan.batch.runner import BatchResult, format_runs_table, list_runs, run_batch, runs_csv_text, write_runs_csv
from siteplan.batch.variation import apply_variation, kept_candidates
from siteplan.batch.worker import execute_run

__all__ = [
    "EXECUTORS", "DaskExecutor", "DaskMissingError", "Executor", "LocalExecutor", "make_executor",
    "DEFAULT_JOB", "JOBS", "get_job", "job_names", "validate_job",
    "LEDGER_NAME", "STATUSES", "Ledger",
    "MAX_BATCH_MANIFEST_BYTES", "MAX_BATCH_RUNS", "BatchError", "BatchManifest", "CandidatePool", "RunSpec",
    "Variation", "batch_json_schema", "expand_runs", "read_batch_manifest", "run_id",
    "BatchResult", "format_runs_table", "list_runs", "run_batch", "runs_csv_text", "write_runs_csv",
    "apply_variation", "kept_candidates", "execute_run",
]
