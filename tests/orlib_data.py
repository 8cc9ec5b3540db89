"""Where the tests find the public OR-Library set-cover instances, and their published values.

The instances are read from ``$SITEPLAN_SHARED/instances/orlib-scp`` (default: the
``shared`` folder next to the checkout), never copied into the project; the values and
their sources are in ``tests/data/orlib_scp_known.csv``.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SITEPLAN_SHARED", ROOT / ".." / "shared"))
ORLIB = SHARED / "instances" / "orlib-scp"
need_orlib = pytest.mark.skipif(not (ORLIB / "scp41.txt").exists(),
                                reason=f"OR-Library set-cover instances not found under {ORLIB}")


def known_values() -> dict[str, tuple[float, str]]:
    """instance name -> (published value, "optimal" or "best_known")."""
    with open(ROOT / "tests" / "data" / "orlib_scp_known.csv", newline="") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        return {r["instance"]: (float(r["value"]), r["status"]) for r in rows}
