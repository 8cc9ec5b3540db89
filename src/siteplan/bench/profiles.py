"""Benchmark profiles and instances, shared by every benchmark folder.

The profile comes from ``SITEPLAN_BENCH_PROFILE`` (``quick``, the default, or ``full``):

- ``quick``: the synthetic ``tiny`` and ``small`` presets, short solver limits; the whole
  suite runs in a few minutes on 2 cores, and with ``--benchmark-disable`` it is a smoke
  test for CI (no timing assertions anywhere).
- ``full``: adds the Shantou-2016 scenario and Shantou scaled x2 and x4 in villages and
  candidates (:func:`siteplan.generate.scaled`), with the limits of the issues' claims.

Instances are materialised once per cache folder (``SITEPLAN_BENCH_CACHE``, default a
``siteplan-bench`` folder in the system temp dir): presets with seed 0; Shantou from the
repository's ``instances/shantou-2016`` when present, else regenerated from the shared
data (``SITEPLAN_SHARED``); the scaled ones from Shantou with seed 0.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["PROFILES", "profile", "sizes", "SIZES", "time_limit", "fiber_time_limit", "instance_dir", "repo_root", "cache_dir",
           "InstanceUnavailable"]

PROFILES = ("quick", "full")

#: size name -> (how it is made, argument)
SIZES: dict[str, tuple[str, object]] = {
    "tiny": ("preset", "tiny"),
    "small": ("preset", "small"),
    "shantou-2016": ("shantou", None),
    "shantou-x2": ("scaled", 2),
    "shantou-x4": ("scaled", 4),
}

_PROFILE_SIZES = {
    "quick": ("tiny", "small"),
    "full": ("tiny", "small", "shantou-2016", "shantou-x2", "shantou-x4"),
}

#: siting solve time limit per size and profile [s] (same limit for every peer)
_LIMITS = {
    "quick": {"tiny": 10.0, "small": 20.0},
    "full": {"tiny": 60.0, "small": 60.0, "shantou-2016": 120.0, "shantou-x2": 240.0, "shantou-x4": 300.0},
}

#: fiber routing time limit per size [s]: issue 6 claims a Shantou-2016 fiber plan, with its
#: gap, within 2 minutes, so the routing budget leaves room for building the graph
_FIBER_LIMITS = {
    "quick": {"tiny": 10.0, "small": 20.0},
    "full": {"tiny": 60.0, "small": 60.0, "shantou-2016": 100.0, "shantou-x2": 200.0, "shantou-x4": 300.0},
}


class InstanceUnavailable(RuntimeError):
    """The data an instance is made from is not on this machine."""


def profile() -> str:
    """The active profile name (``SITEPLAN_BENCH_PROFILE``; default ``quick``)."""
    p = os.environ.get("SITEPLAN_BENCH_PROFILE", "quick").strip().lower()
    if p not in PROFILES:
        raise ValueError(f"SITEPLAN_BENCH_PROFILE must be one of {', '.join(PROFILES)}, got {p!r}")
    return p


def sizes(prof: str | None = None) -> list[str]:
    """Pipeline sizes of a profile; ``SITEPLAN_BENCH_SIZES`` (comma list) overrides."""
    env = os.environ.get("SITEPLAN_BENCH_SIZES", "").strip()
    if env:
        out = [s.strip() for s in env.split(",") if s.strip()]
        unknown = [s for s in out if s not in SIZES]
        if unknown:
            raise ValueError(f"SITEPLAN_BENCH_SIZES: unknown sizes {unknown}; known: {', '.join(SIZES)}")
        return out
    return list(_PROFILE_SIZES[prof or profile()])


def time_limit(size: str, prof: str | None = None) -> float:
    """Siting solve time limit [s] of ``size`` in the profile (``SITEPLAN_BENCH_TIME_LIMIT`` overrides)."""
    env = os.environ.get("SITEPLAN_BENCH_TIME_LIMIT", "").strip()
    if env:
        return float(env)
    prof = prof or profile()
    return _LIMITS[prof].get(size, _LIMITS["full"][size])


def fiber_time_limit(size: str, prof: str | None = None) -> float:
    """Fiber routing time limit [s] of ``size`` in the profile (``SITEPLAN_BENCH_FIBER_TIME_LIMIT``
    overrides)."""
    env = os.environ.get("SITEPLAN_BENCH_FIBER_TIME_LIMIT", "").strip()
    if env:
        return float(env)
    prof = prof or profile()
    return _FIBER_LIMITS[prof].get(size, _FIBER_LIMITS["full"][size])


def repo_root() -> Path | None:
    """The source checkout holding this package (``<root>/src/siteplan``), if there is one."""
    here = Path(__file__).resolve()
    root = here.parents[3]
    if (root / "pyproject.toml").is_file() and (root / "src" / "siteplan").is_dir():
        return root
    return None


def shared_dir() -> Path:
    env = os.environ.get("SITEPLAN_SHARED")
    if env:
        return Path(env)
    root = repo_root()
    return (root / ".." / "shared") if root else Path("shared")


def _generator_hash() -> str:
    """Hash of the generator's sources, so cached instances never outlive a generator change."""
    import hashlib

    h = hashlib.sha256()
    gen = Path(__file__).resolve().parents[1] / "generate"
    for f in sorted(gen.glob("*.py")):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def cache_dir() -> Path:
    """Folder of materialised instances: ``$SITEPLAN_BENCH_CACHE`` (default ``<tmp>/siteplan-bench``)
    / a hash of the generator sources."""
    base = Path(os.environ.get("SITEPLAN_BENCH_CACHE", Path(tempfile.gettempdir()) / "siteplan-bench"))
    d = base / _generator_hash()
    d.mkdir(parents=True, exist_ok=True)
    return d


def _shantou_dir() -> Path:
    root = repo_root()
    if root is not None and (root / "instances" / "shantou-2016" / "scenario.toml").is_file():
        return root / "instances" / "shantou-2016"
    out = cache_dir() / "shantou-2016"
    if (out / "scenario.toml").is_file():
        return out
    data = shared_dir() / "data" / "shantou"
    if not data.is_dir():
        raise InstanceUnavailable(f"Shantou-2016 needs instances/shantou-2016 in a checkout or the source data at "
                                  f"{data} (set SITEPLAN_SHARED)")
    from siteplan.generate import generate_scenario

    return generate_scenario("shantou-2016", 2016, out, data_dir=data)


def instance_dir(size: str) -> Path:
    """The scenario folder of ``size`` (made on first use, then cached)."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; known: {', '.join(SIZES)}")
    kind, arg = SIZES[size]
    if kind == "shantou":
        return _shantou_dir()
    out = cache_dir() / size
    if (out / "scenario.toml").is_file():
        return out
    if kind == "preset":
        from siteplan.generate import generate_scenario

        return generate_scenario(str(arg), 0, out)
    from siteplan.generate import scaled

    return scaled(_shantou_dir(), int(arg), 0, out)
