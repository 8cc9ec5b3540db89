"""Run a batch: expand the manifest, skip finished runs, execute the rest, record everything.

Output folder ``DIR`` (see ``docs/batch-format.md``)::

    DIR/siteplan-batch.json   marker: this folder is a siteplan batch output
    DIR/ledger.sqlite         the run ledger
    DIR/runs/<run id>/        one folder per finished run: the job's outputs + batch-run.json
    DIR/.work/                scratch of runs in flight (removed at the end)
    DIR/.lock                 held while a batch writes here

Safety rules (untrusted inputs): nothing outside ``DIR`` is written or deleted (its
parent folder must exist; entries of ``DIR`` that siteplan manages must not be symbolic
links); an existing ``DIR`` that holds anything but a siteplan batch output is refused
unless ``force``; every run's folder appears atomically (staging folder + rename) and the
ledger changes in transactions, so a batch killed at any instant and started again ends
with every run exactly once and no half-written output.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
import sys
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from siteplan.batch.executors import _import_distributed, make_executor
from siteplan.batch.jobs import DEFAULT_JOB, get_job
from siteplan.batch.ledger import LEDGER_NAME, Ledger
from siteplan.batch.manifest import (
    BatchError,
    RunSpec,
    expand_runs,
    read_batch_manifest,
    scenario_folders,
)
from siteplan.batch.worker import utc_now
from siteplan.exceptions import Problem, UnsafePathError
from siteplan.io.atomic import atomic_directory, atomic_write_text

__all__ = [
    "BatchResult",
    "run_batch",
    "prepare_out_dir",
    "list_runs",
    "runs_csv_text",
    "write_runs_csv",
    "format_runs_table",
    "MARKER_NAME",
    "RUNS_DIR",
    "WORK_DIR",
    "RUN_RECORD_NAME",
]

MARKER_NAME = "siteplan-batch.json"
MARKER_FORMAT = "siteplan-batch-output"
RUNS_DIR = "runs"
WORK_DIR = ".work"
LOCK_NAME = ".lock"
RUN_RECORD_NAME = "batch-run.json"
_MANAGED = (MARKER_NAME, LEDGER_NAME, f"{LEDGER_NAME}-journal", RUNS_DIR, WORK_DIR, LOCK_NAME)
_LEFTOVER = re.compile(r"^\.[0-9a-f]{16}\.(staging|old)-.+$")


@dataclass
class BatchResult:
    """What a batch did: ``counts`` by status over the whole ledger, and this call's share."""

    out: Path
    runs: int                      # runs in the manifest (after removing duplicates)
    executed: int                  # runs executed by this call
    skipped: int                   # runs already finished before this call
    counts: dict = field(default_factory=dict)
    statuses: dict = field(default_factory=dict)   # run id -> status, for this manifest's runs

    @property
    def ok(self) -> bool:
        return all(s == "done" for s in self.statuses.values())


def _is_marker(path: Path) -> bool:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return False
    return isinstance(doc, dict) and doc.get("format") == MARKER_FORMAT


def prepare_out_dir(out: str | os.PathLike, *, force: bool = False) -> Path:
    """Check (and create) the output folder; refuse folders that are not ours unless ``force``."""
    out = Path(out)
    where = str(out)
    if out.exists() and not out.is_dir():
        raise UnsafePathError(Problem(where, None, "--out", "exists and is not a folder"))
    if not out.exists():
        if not out.parent.is_dir():
            raise UnsafePathError(Problem(where, None, "--out", "its parent folder does not exist "
                                          "(siteplan creates only the output folder itself)", str(out.parent)))
        out.mkdir()
    else:
        entries = sorted(os.listdir(out))
        ours = (out / MARKER_NAME).is_file() and not (out / MARKER_NAME).is_symlink() and _is_marker(out / MARKER_NAME)
        if entries and not ours and not force:
            shown = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
            raise UnsafePathError(Problem(
                where, None, "--out",
                f"folder exists and is not a siteplan batch output (no valid {MARKER_NAME}); "
                "choose a new or empty folder, or pass --force to write beside its contents", shown))
    for name in _MANAGED:
        p = out / name
        if p.is_symlink():
            raise UnsafePathError(Problem(where, None, name, "must not be a symbolic link (siteplan writes and "
                                          "deletes there)", os.readlink(p)))
    for name in (RUNS_DIR, WORK_DIR):
        p = out / name
        if p.exists() and not p.is_dir():
            raise UnsafePathError(Problem(where, None, name, "exists and is not a folder"))
    if not (out / MARKER_NAME).exists() or not _is_marker(out / MARKER_NAME):
        from siteplan import __version__

        atomic_write_text(out / MARKER_NAME, json.dumps(
            {"format": MARKER_FORMAT, "version": 1, "siteplan": __version__, "created_utc": utc_now()},
            sort_keys=True, indent=2) + "\n")
    (out / RUNS_DIR).mkdir(exist_ok=True)
    return out


@contextlib.contextmanager
def _locked(out: Path):
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no advisory lock
        yield
        return
    fh = open(out / LOCK_NAME, "a+b")
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BatchError(Problem(str(out), None, "--out", "another batch is writing to this folder")) from None
        yield
    finally:
        fh.close()


def _clean_leftovers(out: Path) -> None:
    """Remove scratch and staging folders a killed batch left (only names siteplan makes)."""
    work = out / WORK_DIR
    if work.is_dir() and not work.is_symlink():
        shutil.rmtree(work)
    work.mkdir()
    runs = out / RUNS_DIR
    for name in os.listdir(runs):
        if _LEFTOVER.match(name):
            p = runs / name
            if p.is_symlink() or not p.is_dir():
                p.unlink()
            else:
                shutil.rmtree(p)


def _safe_rel(rel: str) -> PurePosixPath:
    p = PurePosixPath(rel)
    if p.is_absolute() or ".." in p.parts or not p.parts or "\\" in rel or rel.startswith("~"):
        raise OutputPathError(rel)
    if p.as_posix() == RUN_RECORD_NAME:
        raise OutputPathError(f"{rel} (reserved for the batch's own record)")
    return p


class OutputPathError(Exception):
    pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_write(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _finish(out: Path, ledger: Ledger, spec: RunSpec, res: dict) -> str:
    status = res.get("status", "failed")
    if status == "cancelled":
        ledger.requeue(spec.run_id)
        return "queued"
    output_path = None
    error = res.get("error")
    figures = res.get("figures")
    if status == "done":
        record = {"run_id": spec.run_id, "label": spec.label, "scenario_path": spec.scenario_path,
                  "scenario_digest": spec.scenario_digest, "job": spec.job, "variation": spec.variation,
                  "options": spec.options, "figures": figures, "start_utc": res.get("start_utc"),
                  "end_utc": res.get("end_utc"), "wall_s": res.get("wall_s"), "host": res.get("host"),
                  "supervisor_pid": res.get("supervisor_pid"), "start_method": res.get("start_method")}
        try:
            with atomic_directory(out / RUNS_DIR / spec.run_id) as stage:
                os.chmod(stage, 0o777 & ~_umask())  # mkdtemp makes it 0700
                for rel, data in res.get("files", []):
                    p = stage / _safe_rel(rel)
                    p.parent.mkdir(parents=True, exist_ok=True)
                    _fsync_write(p, data)
                _fsync_write(stage / RUN_RECORD_NAME, (json.dumps(record, sort_keys=True, indent=2,
                                                                  ensure_ascii=False, allow_nan=False)
                                                       + "\n").encode("utf-8"))
            output_path = f"{RUNS_DIR}/{spec.run_id}"
        except (OSError, OutputPathError, ValueError) as exc:
            status, figures = "failed", None
            error = f"could not write the run's outputs: {type(exc).__name__}: {exc}"
    ledger.finish(spec.run_id, status, start_utc=res.get("start_utc"), end_utc=res.get("end_utc"),
                  wall_s=res.get("wall_s"), host=res.get("host"), figures=figures if status == "done" else None,
                  output_path=output_path, error=error)
    return status


def run_batch(manifest_path: str | os.PathLike, out: str | os.PathLike, *, job: str | None = None,
              workers: int | None = None, scheduler: str | None = None, cluster: str | None = None,
              wall_time_limit_s: float | None = None, retry_failed: bool = False, force: bool = False,
              progress: bool = False) -> BatchResult:
    """Run every unfinished run of a batch manifest into ``out`` and return what happened.

    ``job`` overrides the manifest's job (default ``validate``); ``workers`` sizes the
    local pool (default: CPU count) or a ``cluster="local"`` Dask cluster; ``scheduler``
    is the address of a running Dask scheduler. ``wall_time_limit_s`` overrides the
    manifest's per-run wall-clock limit [s]. ``retry_failed`` runs failed and timed-out
    runs again. Raises :class:`~siteplan.exceptions.SiteplanError` for bad manifests,
    scenarios and output folders *before* any run starts; a run's own failure is recorded
    in the ledger and the batch goes on.
    """
    if scheduler is not None and cluster is not None:
        raise BatchError(Problem("executor", None, None, "give either --scheduler or --cluster, not both"))
    if workers is not None and workers < 1:
        raise BatchError(Problem("--workers", None, None, "must be >= 1", workers))
    if scheduler is not None or cluster is not None:
        _import_distributed()  # a clear message before anything is read or written
    mpath = Path(manifest_path)
    manifest = read_batch_manifest(mpath)
    job_name = job if job is not None else (manifest.job or DEFAULT_JOB)
    get_job(job_name, where=str(mpath) if job is None else "--job")
    limit = wall_time_limit_s if wall_time_limit_s is not None else manifest.wall_time_limit_s
    if limit is not None and not limit > 0:
        raise BatchError(Problem("--wall-limit", None, None, "must be > 0 seconds", limit))
    folders = scenario_folders(manifest, mpath)

    from siteplan.io.scenario import read_scenario

    digests = {str(f): read_scenario(f).digest for f in dict.fromkeys(folders)}
    runs = expand_runs(manifest, mpath, job=job_name, digests=digests)
    out = prepare_out_dir(out, force=force)
    by_id = {r.run_id: r for r in runs}
    executed = 0
    with _locked(out), Ledger(out) as ledger:
        _clean_leftovers(out)
        todo = ledger.register(manifest.name, runs, utc_now(), retry_failed=retry_failed,
                               output_ok=lambda rid: (out / RUNS_DIR / rid / RUN_RECORD_NAME).is_file())
        pending = deque(by_id[i] for i in todo)
        bar = None
        if progress and todo:
            from tqdm import tqdm

            bar = tqdm(total=len(todo), desc=f"batch {manifest.name}", unit="run", file=sys.stderr)
        try:
            with make_executor(workers=workers, scheduler=scheduler, cluster=cluster) as ex:
                inflight: dict = {}
                work_root = str((out / WORK_DIR).resolve())
                while pending or inflight:
                    capacity = ex.capacity
                    while pending and len(inflight) < capacity:
                        spec = pending.popleft()
                        ledger.mark_running(spec.run_id, utc_now())
                        inflight[ex.submit(spec.task(), limit, work_root)] = spec
                    for handle in ex.wait(set(inflight), timeout=0.5):
                        spec = inflight.pop(handle)
                        try:
                            res = ex.result(handle)
                        except Exception as exc:  # noqa: BLE001 - the executor lost the run: record it
                            res = {"status": "failed", "error": f"executor error: {type(exc).__name__}: {exc}"}
                        status = _finish(out, ledger, spec, res)
                        if status == "queued":
                            pending.append(spec)
                            continue
                        executed += 1
                        if bar is not None:
                            bar.update(1)
                            bar.set_postfix_str(f"last {status}")
        finally:
            if bar is not None:
                bar.close()
        shutil.rmtree(out / WORK_DIR, ignore_errors=True)
        counts = ledger.counts()
        statuses = {r["run_id"]: r["status"] for r in ledger.rows() if r["run_id"] in by_id}
    return BatchResult(out=out, runs=len(runs), executed=executed, skipped=len(runs) - len(todo), counts=counts,
                       statuses=statuses)


# --- reading a batch's results -------------------------------------------------------------


def list_runs(out: str | os.PathLike) -> list[dict]:
    """Every run in the ledger of ``out`` (never creates or changes anything there)."""
    out = Path(out)
    if not (out / LEDGER_NAME).is_file():
        raise BatchError(Problem(str(out), None, None, f"no {LEDGER_NAME}: not a siteplan batch output"))
    with Ledger(out, create=False) as ledger:
        return ledger.rows()


_FIXED = ("run_id", "label", "status", "job", "scenario_path", "scenario_digest", "attempts", "start_utc",
          "end_utc", "wall_s", "host", "output_path", "error")


def _flatten(prefix: str, value, into: dict) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}", v, into)
    elif isinstance(value, list):
        into[prefix] = json.dumps(value, sort_keys=True, ensure_ascii=False)
    elif value is None:
        into[prefix] = ""
    else:
        into[prefix] = value


def runs_csv_text(rows: list[dict]) -> str:
    """Comparison table: one row per run; variation, options and key figures flattened
    into columns ``variation.*``, ``options.*``, ``figures.*`` (nested keys joined by '.')."""
    flat_rows, extra = [], {}
    for r in rows:
        flat = {k: ("" if r.get(k) is None else r.get(k)) for k in _FIXED}
        more: dict = {}
        variation = {k: v for k, v in (r.get("variation") or {}).items() if k != "name"}
        _flatten("variation", variation, more)
        _flatten("options", r.get("options") or {}, more)
        _flatten("figures", r.get("figures") or {}, more)
        flat.update(more)
        for k in more:
            extra.setdefault(k, None)
        flat_rows.append(flat)
    groups = ("variation.", "options.", "figures.")
    cols = list(_FIXED) + [k for g in groups for k in extra if k.startswith(g)]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for flat in flat_rows:
        w.writerow([flat.get(c, "") for c in cols])
    return buf.getvalue()


def write_runs_csv(out: str | os.PathLike, csv_path: str | os.PathLike) -> Path:
    """Write the comparison CSV of ``out``'s runs to ``csv_path`` atomically."""
    return atomic_write_text(csv_path, runs_csv_text(list_runs(out)))


def format_runs_table(rows: list[dict]) -> str:
    """A fixed-width listing: run id, status, attempts, wall time [s], label, first error line."""
    lines = [f"{'run id':<16}  {'status':<7}  {'tries':>5}  {'wall s':>8}  label"]
    for r in rows:
        wall = "" if r.get("wall_s") is None else f"{r['wall_s']:.2f}"
        line = f"{r['run_id']:<16}  {r['status']:<7}  {r['attempts']:>5}  {wall:>8}  {r['label']}"
        if r.get("error"):
            text = str(r["error"]).strip().splitlines() or [""]
            first = text[-1] if text[0].startswith("Traceback") else text[0]
            line += f"  [{first[:100]}]"
        lines.append(line)
    counts: dict = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    lines.append(f"{len(rows)} runs: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    return "\n".join(lines)
