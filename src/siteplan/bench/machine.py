"""What a benchmark result was measured on: CPU, cores, memory, load, library versions."""

from __future__ import annotations

import os
import platform
import time
from importlib import metadata

__all__ = ["machine_info", "load_average", "LIBRARIES"]

LIBRARIES = ("siteplan", "numpy", "scipy", "numba", "llvmlite", "highspy", "pulp", "networkx", "pyproj",
             "matplotlib", "tifffile", "pytest", "pytest-benchmark", "dask", "itmlogic", "pycraf")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _mem_total_gb() -> float | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> dict:
    """A JSON-able description of this machine and its software."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    versions = {n: _version(n) for n in LIBRARIES}    # (no Highs() here: it prints a banner on stdout)
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "memory_gb": _mem_total_gb(),
        "load_average": load_average(),
        "numba_threads": os.environ.get("NUMBA_NUM_THREADS"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {k: v for k, v in versions.items() if v is not None},
        "not_installed": sorted(k for k, v in versions.items() if v is None),
        "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
