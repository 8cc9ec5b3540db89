"""Apply a :class:`~siteplan.batch.manifest.Variation` to a scenario, never in place.

The manifest part is rebuilt with pydantic ``model_copy(update=...)`` and validated again
as a whole (so a variation cannot produce a manifest that reading would refuse); the
sites table is subset struct-of-arrays style. The input scenario is left untouched: its
arrays are read-only and its pydantic models frozen.
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
from pydantic import ValidationError

from siteplan.batch.manifest import BatchError, Variation, _pydantic_problems
from siteplan.exceptions import Problem
from siteplan.model.params import Manifest
from siteplan.model.scenario import Scenario
from siteplan.model.tables import Sites

__all__ = ["apply_variation", "kept_candidates"]

_WHERE = "variation"


def kept_candidates(site_ids, existing, keep_fraction: float, seed: int, exclude=()) -> np.ndarray:
    """Boolean mask of the sites that stay in the pool.

    Existing sites always stay. Of the candidate sites not in ``exclude``,
    ``round(keep_fraction * n)`` stay: those with the smallest
    ``sha256(f"{seed}:{site_id}")`` (hex digest, compared as text).
    """
    existing = np.asarray(existing, dtype=bool)
    ids = [str(x) for x in site_ids]
    excluded = set(exclude)
    pool = [i for i in range(len(ids)) if not existing[i] and ids[i] not in excluded]
    k = int(round(keep_fraction * len(pool)))
    ranked = sorted(pool, key=lambda i: hashlib.sha256(f"{seed}:{ids[i]}".encode("utf-8")).hexdigest())
    keep = existing.copy()
    keep[ranked[:k]] = True
    return keep


def _subset_sites(sites: Sites, mask: np.ndarray) -> Sites:
    cols = {f.name: np.ascontiguousarray(getattr(sites, f.name)[mask]) for f in dataclasses.fields(sites)}
    return Sites(**cols)


def apply_variation(scenario: Scenario, variation: Variation | dict, *, where: str = _WHERE) -> Scenario:
    """A new scenario with the variation's thresholds, quotas, budgets and candidate pool.

    ``variation`` is a :class:`Variation` or its dictionary. Option fields (solver,
    time_limit_s, gap, seed) do not touch the scenario. Unknown operators, phases or
    site ids, and values the scenario format refuses, raise
    :class:`~siteplan.exceptions.InputError` naming the variation key and value.
    """
    if not isinstance(variation, Variation):
        try:
            variation = Variation.model_validate(variation)
        except ValidationError as exc:
            raise BatchError(_pydantic_problems(exc, where)) from None
    m = scenario.manifest
    problems: list[Problem] = []
    op_names = [o.name for o in m.operators]
    phase_names = [p.name for p in m.phases]

    operators = list(m.operators)
    th = variation.threshold_dbm
    if th is not None:
        if isinstance(th, dict):
            for name in th:
                if name not in op_names:
                    problems.append(Problem(where, None, f"threshold_dbm.{name}",
                                            f"unknown operator (known: {', '.join(op_names)})", name))
            operators = [o.model_copy(update={"threshold_dbm": float(th[o.name])}) if o.name in th else o
                         for o in operators]
        else:
            operators = [o.model_copy(update={"threshold_dbm": float(th)}) for o in operators]

    phase_updates: dict[str, dict] = {p: {} for p in phase_names}
    for key in ("new_stations", "new_sites", "budget_cny"):
        table = getattr(variation, key)
        if table is None:
            continue
        for pname, value in table.items():
            if pname not in phase_updates:
                problems.append(Problem(where, None, f"{key}.{pname}",
                                        f"unknown phase (known: {', '.join(phase_names)})", pname))
                continue
            phase_updates[pname][key] = None if value == "none" else value
    phases = [p.model_copy(update=phase_updates[p.name]) if phase_updates[p.name] else p for p in m.phases]

    sites = scenario.sites
    pool = variation.candidates
    if pool is not None:
        ids = [str(x) for x in sites.id]
        kinds = dict(zip(ids, sites.existing.tolist()))
        for sid in pool.exclude:
            if sid not in kinds:
                problems.append(Problem(where, None, "candidates.exclude", "unknown site id", sid))
            elif kinds[sid]:
                problems.append(Problem(where, None, "candidates.exclude",
                                        "an existing site cannot leave the pool (only candidate sites)", sid))
        if not problems:
            mask = kept_candidates(ids, sites.existing, pool.keep_fraction, pool.seed, pool.exclude)
            sites = _subset_sites(sites, mask)
    BatchError.collect(problems)

    manifest = m.model_copy(update={"operators": tuple(operators), "phases": tuple(phases)})
    try:  # model_copy does not validate: check the result as reading a scenario would
        manifest = Manifest.model_validate(manifest.model_dump())
    except ValidationError as exc:
        raise BatchError(_pydantic_problems(exc, f"{where} applied to {scenario.name!r}")) from None
    return dataclasses.replace(scenario, manifest=manifest, sites=sites)
