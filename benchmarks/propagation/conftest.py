"""Benchmark profile: SITEPLAN_BENCH_PROFILE=quick (default; seconds, for CI with
--benchmark-disable) or full (the sizes reported in RESULTS.md)."""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

PROFILE = os.environ.get("SITEPLAN_BENCH_PROFILE", "quick").strip().lower()
if PROFILE not in ("quick", "full"):
    raise pytest.UsageError(f"SITEPLAN_BENCH_PROFILE must be quick or full, got {PROFILE!r}")


def size(quick, full):
    """Pick the instance size of the active profile."""
    return full if PROFILE == "full" else quick
