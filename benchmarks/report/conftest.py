"""Benchmark profile: SITEPLAN_BENCH_PROFILE=quick (default; seconds, for CI with
--benchmark-disable) or full (the Shantou-2016 scenario, the sizes in RESULTS.md).

The full profile reads ``instances/shantou-2016`` (or the folder named by
``SITEPLAN_BENCH_SCENARIO``); the quick profile writes the unit test scenario."""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

PROFILE = os.environ.get("SITEPLAN_BENCH_PROFILE", "quick").strip().lower()
if PROFILE not in ("quick", "full"):
    raise pytest.UsageError(f"SITEPLAN_BENCH_PROFILE must be quick or full, got {PROFILE!r}")


@pytest.fixture(scope="session")
def scenario(tmp_path_factory):
    from siteplan import read_scenario

    if PROFILE == "full":
        folder = Path(os.environ.get("SITEPLAN_BENCH_SCENARIO", ROOT / "instances" / "shantou-2016"))
        if not (folder / "scenario.toml").is_file():
            pytest.skip(f"full profile needs the Shantou-2016 scenario at {folder}")
        return read_scenario(folder)
    from scenario_factory import make_scenario

    return read_scenario(make_scenario(tmp_path_factory.mktemp("bench_report") / "s"))
