"""Scenario generators: the real Shantou-2016 instance and synthetic test presets.

``generate_scenario(preset, seed, out_dir)`` builds a scenario folder in the format of
``docs/scenario-format.md``. Presets are dispatched from :data:`PRESETS`:

- ``shantou-2016``: the real 1,074 villages, 69 towns and 7 districts of Shantou (NBS 2016)
  with their surveyed points where known; everything else generated and labelled;
- ``small``: a synthetic peninsula with about 100 villages;
- ``tiny``: a synthetic peninsula with 12 villages and 20 sites, for brute-force tests.

All three go through the same pipeline (:mod:`siteplan.generate._pipeline`). The same
preset and seed give byte-identical files.

``scaled(scenario_dir, factor, seed, out_dir)`` (:mod:`siteplan.generate.scaling`) writes a
synthetic copy of a scenario scaled in villages and candidate sites, for scale curves.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from siteplan.exceptions import Problem, ScenarioError
from siteplan.generate._pipeline import Generated, build, stage_rng
from siteplan.generate._region import Region, Spec
from siteplan.generate._writer import write_generated
from siteplan.generate.scaling import scaled

__all__ = ["PRESETS", "generate_scenario", "build_preset", "scaled", "Generated", "Region", "Spec"]


def _shantou(seed: int, data_dir) -> tuple[Region, Spec]:
    from siteplan.generate.shantou import load_shantou_region, shantou_spec

    region = load_shantou_region(data_dir)
    return region, shantou_spec(region)


def _tiny(seed: int, data_dir) -> tuple[Region, Spec]:
    from siteplan.generate.synthetic import tiny_region, tiny_spec

    return tiny_region(stage_rng(seed, "region")), tiny_spec()


def _small(seed: int, data_dir) -> tuple[Region, Spec]:
    from siteplan.generate.synthetic import small_region, small_spec

    return small_region(stage_rng(seed, "region")), small_spec()


#: preset name -> function (seed, data_dir) -> (Region, Spec)
PRESETS: dict[str, Callable[[int, object], tuple[Region, Spec]]] = {
    "shantou-2016": _shantou,
    "tiny": _tiny,
    "small": _small,
}


def build_preset(preset: str, seed: int, data_dir: str | os.PathLike | None = None) -> Generated:
    """Generate a preset in memory (nothing written)."""
    if preset not in PRESETS:
        raise ScenarioError(Problem(None, None, "preset", f"unknown preset; known: {', '.join(PRESETS)}", preset))
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise ScenarioError(Problem(None, None, "seed", "must be an integer in [0, 2^32)", seed))
    region, spec = PRESETS[preset](seed, data_dir)
    return build(region, spec, seed, preset)


def generate_scenario(preset: str, seed: int, out_dir: str | os.PathLike,
                      data_dir: str | os.PathLike | None = None) -> Path:
    """Generate ``preset`` with ``seed`` into the folder ``out_dir`` (replaced atomically).

    ``data_dir`` is the Shantou source-data folder (default ``$SITEPLAN_SHARED/data/shantou``
    or ``<repo>/../shared/data/shantou``); only the ``shantou-2016`` preset reads it.
    """
    return write_generated(build_preset(preset, seed, data_dir), out_dir)
