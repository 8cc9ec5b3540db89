"""Process-wide settings: numba compile options and resource limits.

Bottom layer: imports nothing from siteplan. Every ``@njit`` in siteplan takes its
options from here, so caching, fastmath and parallelism are set in one place.
"""

from __future__ import annotations

import os

__all__ = [
    "NJIT_OPTIONS",
    "NJIT_PARALLEL_OPTIONS",
    "MAX_TABLE_ROWS",
    "MAX_RASTER_CELLS",
    "MAX_FILE_BYTES",
]


def _env_flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() not in ("0", "false", "no", "off", "")


#: Options for serial kernels. ``cache=True`` stores compiled code next to the
#: module so a second process does not recompile; ``fastmath`` stays off so
#: results match the naive numpy twins to the last bits that matter.
NJIT_OPTIONS: dict = {
    "cache": _env_flag("SITEPLAN_NUMBA_CACHE", True),
    "fastmath": False,
    "nogil": True,
    "error_model": "numpy",
}

#: Options for kernels that use ``numba.prange``. Parallel kernels write disjoint
#: slices (count pass -> prefix sum -> fill pass) so output is deterministic.
NJIT_PARALLEL_OPTIONS: dict = {**NJIT_OPTIONS, "parallel": True}

#: Inputs larger than these are refused before they are loaded (untrusted files).
MAX_TABLE_ROWS: int = int(os.environ.get("SITEPLAN_MAX_TABLE_ROWS", 5_000_000))
MAX_RASTER_CELLS: int = int(os.environ.get("SITEPLAN_MAX_RASTER_CELLS", 400_000_000))
MAX_FILE_BYTES: int = int(os.environ.get("SITEPLAN_MAX_FILE_BYTES", 2 * 1024**3))
