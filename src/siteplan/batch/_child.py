"""The process one batch run executes in: ``python -m siteplan.batch._child WORKDIR``.

Reads ``WORKDIR/task.json``, reads the scenario (checking that its digest is the one the
batch expanded), applies the variation, calls the job with ``WORKDIR/out`` as its output
folder and writes ``WORKDIR/result.json`` (status done or failed, key figures or error).
A watchdog thread kills the process group as soon as the supervising process is gone,
so a batch killed with SIGKILL leaves no run processes behind.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

__all__ = ["main", "run_forked"]


def _watch_parent(ppid: int) -> None:
    while True:
        time.sleep(0.2)
        if os.getppid() != ppid:
            try:
                if os.name == "posix" and os.getpgrp() == os.getpid():
                    os.killpg(os.getpid(), signal.SIGKILL)
            finally:
                os._exit(70)


def _run(task: dict, out: Path) -> dict:
    from siteplan.batch.jobs import get_job
    from siteplan.batch.manifest import BatchError
    from siteplan.batch.variation import apply_variation
    from siteplan.exceptions import Problem
    from siteplan.io.scenario import read_scenario

    job = get_job(task["job"])
    scenario = read_scenario(task["scenario_path"])
    if scenario.digest != task["scenario_digest"]:
        raise BatchError(Problem(task["scenario_path"], None, None,
                                 "scenario files changed since the batch was expanded (digest differs)",
                                 scenario.digest[:16]))
    variant = apply_variation(scenario, task["variation"], where=f"run {task['run_id']} variation")
    figures = job(variant, dict(task["options"]), out)
    if not isinstance(figures, dict):
        raise TypeError(f"job {task['job']!r} returned {type(figures).__name__}, not a dict of key figures")
    json.dumps(figures, allow_nan=False)  # raises on values the ledger could not store
    return figures


def run_forked(wd: str, env: dict, sys_path: list) -> None:
    """Entry point in a process forked by the fork server: become a session leader (so the
    supervisor can kill the run with its children), send output to ``child.log``, take the
    supervisor's environment and import path, then run as :func:`main` does."""
    if os.name == "posix":
        os.setsid()
    fd = os.open(os.path.join(wd, "child.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    os.environ.clear()
    os.environ.update(env)
    for p in reversed(sys_path):
        if p not in sys.path:
            sys.path.insert(0, p)
    main([wd])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    wd = Path(argv[0])
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    task = json.loads((wd / "task.json").read_text(encoding="utf-8"))
    try:
        figures = _run(task, wd / "out")
        result = {"status": "done", "figures": figures, "error": None}
    except BaseException as exc:  # noqa: BLE001 - every failure is recorded, nothing escapes silently
        from siteplan.exceptions import SiteplanError

        if isinstance(exc, SiteplanError):
            error = f"{type(exc).__name__}: {exc}"
        else:
            error = "".join(traceback.format_exception(exc)).strip()
        result = {"status": "failed", "figures": None, "error": error}
    from siteplan.io.atomic import atomic_write_text

    atomic_write_text(wd / "result.json", json.dumps(result, allow_nan=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
