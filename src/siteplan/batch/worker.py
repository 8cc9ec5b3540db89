"""Execute one run in a fresh, killable process with a wall-clock limit.

:func:`execute_run` is what every executor calls (in a supervising thread of the local
pool, or inside a Dask task on a worker). It starts the run's own process
(:mod:`siteplan.batch._child`) as the leader of a new process group, waits at most the
run's wall-clock limit, kills the whole group beyond it, and returns a JSON-ready result
with the run's output files as bytes. The run process is forked from a multiprocessing
fork server that has siteplan imported already (milliseconds), or, inside daemonic Dask
worker processes, started as ``python -m siteplan.batch._child`` (an interpreter start).

The batch driver alone writes the outputs into the output folder, so a worker never
writes there and a remote cluster needs no shared output file system (the scenario
folders must be readable at the same paths on the workers).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

__all__ = ["execute_run", "MAX_RUN_OUTPUT_BYTES", "START_METHODS", "utc_now"]

#: A run's outputs larger than this in total fail the run [bytes]
#: (environment variable ``SITEPLAN_MAX_RUN_OUTPUT_BYTES`` overrides it).
MAX_RUN_OUTPUT_BYTES: int = int(os.environ.get("SITEPLAN_MAX_RUN_OUTPUT_BYTES", 2 * 1024**3))

_POLL_S = 0.05
_LOG_TAIL = 4000


def utc_now() -> str:
    """Current UTC time, ISO 8601 with microseconds and 'Z'."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _child_env() -> dict:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])  # the folder holding the siteplan package
    parts = [root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != root]
    env["PYTHONPATH"] = os.pathsep.join(parts)
    return env


def _killpg_or_kill(pid: int) -> None:
    if os.name == "posix":
        try:
            os.killpg(pid, signal.SIGKILL)  # the run is its own process group: its children die too
            return
        except (ProcessLookupError, PermissionError, OSError):
            pass
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        os.kill(pid, signal.SIGKILL)


class _SpawnedChild:
    """``python -m siteplan.batch._child WORKDIR`` in a new session (works everywhere,
    including inside daemonic Dask worker processes); costs an interpreter start and imports."""

    method = "subprocess"

    def __init__(self, wd: Path):
        with open(wd / "child.log", "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "siteplan.batch._child", str(wd)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=_child_env(),
                start_new_session=(os.name == "posix"), cwd=str(wd))

    def wait(self, timeout: float) -> bool:
        try:
            self.proc.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    @property
    def returncode(self):
        return self.proc.returncode

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        _killpg_or_kill(self.proc.pid)
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=10)


_FORK_LOCK = threading.Lock()
_FORK_CTX = None
_PRELOAD = ["siteplan.batch._child", "siteplan.batch.jobs", "siteplan.batch.variation", "siteplan.io.scenario"]


def _fork_context():
    global _FORK_CTX
    with _FORK_LOCK:
        if _FORK_CTX is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(_PRELOAD)
            _FORK_CTX = ctx
    return _FORK_CTX


class _ForkedChild:
    """A process forked by a multiprocessing fork server that has siteplan imported already:
    milliseconds to start instead of an interpreter start. It makes itself a session leader
    and takes this process's environment and ``sys.path`` before running the job."""

    method = "forkserver"

    def __init__(self, wd: Path):
        from siteplan.batch._child import run_forked

        ctx = _fork_context()
        self.proc = ctx.Process(target=run_forked, args=(str(wd), dict(os.environ), list(sys.path)),
                                name=f"siteplan-run-{wd.name}")
        with _FORK_LOCK:
            self.proc.start()

    def wait(self, timeout: float) -> bool:
        self.proc.join(timeout)
        return self.proc.exitcode is not None

    @property
    def returncode(self):
        return self.proc.exitcode

    def alive(self) -> bool:
        return self.proc.exitcode is None

    def kill(self) -> None:
        _killpg_or_kill(self.proc.pid)
        self.proc.join(10)


#: How a run process is started, by name (environment variable ``SITEPLAN_BATCH_START``).
START_METHODS = {"forkserver": _ForkedChild, "subprocess": _SpawnedChild}


def _launcher():
    """The fork server where allowed (POSIX, not inside a daemonic process such as a Dask
    worker process), a fresh interpreter otherwise; ``SITEPLAN_BATCH_START`` forces one."""
    forced = os.environ.get("SITEPLAN_BATCH_START", "").strip().lower()
    fork_ok = (os.name == "posix" and "forkserver" in multiprocessing.get_all_start_methods()
               and not multiprocessing.current_process().daemon)
    if forced == "subprocess" or (forced == "forkserver" and not fork_ok):
        return START_METHODS["subprocess"]
    return START_METHODS["forkserver" if fork_ok else "subprocess"]


def _collect(out: Path) -> tuple[list[tuple[str, bytes]], str | None]:
    files: list[tuple[str, bytes]] = []
    total = 0
    for root, dirs, names in os.walk(out, followlinks=False):
        for d in dirs:
            if os.path.islink(os.path.join(root, d)):
                return [], f"the job left a symbolic link in its outputs: {d}"
        for name in sorted(names):
            p = Path(root) / name
            if p.is_symlink() or not p.is_file():
                return [], f"the job left something that is not a plain file in its outputs: {name}"
            total += p.stat().st_size
            if total > MAX_RUN_OUTPUT_BYTES:
                return [], f"outputs larger than the limit of {MAX_RUN_OUTPUT_BYTES} bytes (SITEPLAN_MAX_RUN_OUTPUT_BYTES)"
            files.append((p.relative_to(out).as_posix(), p.read_bytes()))
    files.sort()
    return files, None


def _tail(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-_LOG_TAIL:].decode("utf-8", "replace").strip()


def execute_run(task: dict, wall_time_limit_s: float | None = None, work_root: str | None = None,
                cancel: threading.Event | None = None) -> dict:
    """Run ``task`` (see :meth:`RunSpec.task`) in a child process; never raises for the run's own failures.

    Returns ``{"run_id", "status": done|failed|timeout|cancelled, "figures", "error",
    "files": [(relative path, bytes)], "start_utc", "end_utc", "wall_s", "host",
    "supervisor_pid", "start_method"}`` (the process that supervised the run: the batch, or a
    Dask worker; how the run's process was started: see :data:`START_METHODS`).
    ``work_root`` is the scratch folder (the batch's ``DIR/.work`` when the worker can
    see it, else the system's temporary folder); ``cancel`` stops the run early.
    """
    start = utc_now()
    t0 = time.monotonic()
    root = work_root if work_root and os.path.isdir(work_root) else None
    wd = Path(tempfile.mkdtemp(prefix=f"run-{task['run_id']}-", dir=root))
    result = {"run_id": task["run_id"], "status": "failed", "figures": None, "error": None, "files": [],
              "start_utc": start, "end_utc": None, "wall_s": None, "host": socket.gethostname(),
              "supervisor_pid": os.getpid()}
    proc = None
    try:
        (wd / "out").mkdir()
        (wd / "task.json").write_text(json.dumps(task, allow_nan=False), encoding="utf-8")
        proc = _launcher()(wd)
        result["start_method"] = proc.method
        deadline = None if wall_time_limit_s is None else t0 + wall_time_limit_s
        stopped = None
        while not proc.wait(_POLL_S):
            if deadline is not None and time.monotonic() >= deadline:
                proc.kill()
                stopped = "timeout"
                break
            if cancel is not None and cancel.is_set():
                proc.kill()
                stopped = "cancelled"
                break
        if stopped == "timeout":
            result["status"] = "timeout"
            result["error"] = f"wall-clock limit of {wall_time_limit_s:g} s exceeded: run process killed"
        elif stopped == "cancelled":
            result["status"] = "cancelled"
            result["error"] = "cancelled: the batch stopped"
        else:
            rpath = wd / "result.json"
            if not rpath.is_file():
                tail = _tail(wd / "child.log")
                result["error"] = (f"run process exited with code {proc.returncode} without a result"
                                   + (f"; its output ends with:\n{tail}" if tail else ""))
            else:
                child = json.loads(rpath.read_text(encoding="utf-8"))
                result["status"] = child["status"]
                result["figures"] = child.get("figures")
                result["error"] = child.get("error")
                if child["status"] == "done":
                    files, problem = _collect(wd / "out")
                    if problem is not None:
                        result.update(status="failed", figures=None, error=problem)
                    else:
                        result["files"] = files
    except Exception as exc:  # infrastructure trouble (disk full, ...): the run fails, the batch goes on
        result["status"] = "failed"
        result["error"] = f"could not execute the run: {type(exc).__name__}: {exc}"
    finally:
        if proc is not None and proc.alive():
            proc.kill()
        shutil.rmtree(wd, ignore_errors=True)
        result["end_utc"] = utc_now()
        result["wall_s"] = round(time.monotonic() - t0, 3)
    return result
