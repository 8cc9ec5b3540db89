"""Naive, obviously-right twins of the batch module's computations (for comparison only).

Written from the documented formats (docs/batch-format.md), not from the implementation.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json


def naive_run_id(scenario_digest: str, job: str, scenario_edits: dict, options: dict) -> str:
    """docs/batch-format.md: first 16 hex digits of sha256 over the canonical JSON (sorted keys,
    separators ',' ':') of {scenario_digest, job, variation (scenario edits only), options}."""
    doc = {"job": job, "options": options, "scenario_digest": scenario_digest, "variation": scenario_edits}
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def naive_kept_candidates(rows: list[dict], keep_fraction: float, seed: int, exclude=()) -> set[str]:
    """Ids of the sites kept: every existing one, and of the candidates not excluded the
    round(f * n) with the smallest sha256(f"{seed}:{id}") hex digest."""
    kept = {r["id"] for r in rows if r["kind"] == "existing"}
    pool = [r["id"] for r in rows if r["kind"] == "candidate" and r["id"] not in exclude]
    digests = {i: hashlib.sha256(f"{seed}:{i}".encode()).hexdigest() for i in pool}
    k = int(round(keep_fraction * len(pool)))
    kept |= set(sorted(pool, key=lambda i: digests[i])[:k])
    return kept


def naive_grid(grid: dict) -> list[dict]:
    """Cartesian product of a {key: [values]} table, keys in the order given."""
    keys = list(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*grid.values())]


def naive_table_counts(villages_csv: str, sites_csv: str) -> dict:
    """Counts read straight from the CSV text of the scenario factory."""
    v = list(csv.DictReader(io.StringIO(villages_csv)))
    s = list(csv.DictReader(io.StringIO(sites_csv)))
    return {
        "villages": len(v),
        "poor_villages": sum(r["poor"].strip().lower() == "true" for r in v),
        "rural_villages": sum(r["ur_code"] in ("210", "220") for r in v),
        "population": sum(int(r["population"]) for r in v),
        "existing_sites": sum(r["kind"] == "existing" for r in s),
        "candidate_sites": sum(r["kind"] == "candidate" for r in s),
        "sites": s,
    }
