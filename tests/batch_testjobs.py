"""Test-only batch jobs, registered through SITEPLAN_BATCH_PLUGINS=batch_testjobs.

Importable by run processes when the tests folder is on PYTHONPATH.
"""

import hashlib
import os
import time
from pathlib import Path


def _payload(scenario, options) -> bytes:
    text = f"{scenario.name}|{len(scenario.sites)}|{sorted(options.items())}\n" * 2000
    return text.encode()


def sleep_job(scenario, options, out_dir: Path) -> dict:
    """Sleeps, and writes its output in two halves with a sleep in between: a kill in the
    middle leaves a half-written file unless the batch stages outputs atomically."""
    if "pid_dir" in options:  # lets a test check that no run process outlives its batch
        Path(options["pid_dir"], str(os.getpid())).write_text(str(os.getppid()))
    data = _payload(scenario, options)
    half = len(data) // 2
    pause = float(options.get("sleep_s", 0.2))
    with open(out_dir / "payload.txt", "wb") as fh:
        fh.write(data[:half])
        fh.flush()
        time.sleep(pause)
        fh.write(data[half:])
    (out_dir / "sub").mkdir()
    (out_dir / "sub" / "pid.txt").write_text(str(os.getpid()))
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "candidate_sites":
            int((~scenario.sites.existing).sum())}


def fail_job(scenario, options, out_dir: Path) -> dict:
    (out_dir / "partial.txt").write_text("this must never reach the output folder")
    raise ZeroDivisionError(f"deliberate failure for {scenario.name}")


def hang_job(scenario, options, out_dir: Path) -> dict:
    (out_dir / "started.txt").write_text(str(os.getpid()))
    # a stubborn child of the run (like a solver binary) must die with it
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    (out_dir / "grandchild.pid").write_text(str(child.pid))
    Path(options["pid_file"]).write_text(str(child.pid)) if "pid_file" in options else None
    time.sleep(120)
    return {}


def nan_job(scenario, options, out_dir: Path) -> dict:
    return {"value": float("nan")}


JOBS = {"sleep": sleep_job, "fail": fail_job, "hang": hang_job, "nan": nan_job}


def maybe_hang_job(scenario, options, out_dir: Path) -> dict:
    """Hangs (with a child process) when options seed == hang_seed, else behaves like sleep_job."""
    if options.get("seed") == options.get("hang_seed"):
        return hang_job(scenario, options, out_dir)
    return sleep_job(scenario, options, out_dir)


JOBS["maybe_hang"] = maybe_hang_job


def crash_job(scenario, options, out_dir: Path) -> dict:
    """Dies the way an out-of-memory kill looks: no exception, no result."""
    import signal

    print("about to die", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


JOBS["crash"] = crash_job
