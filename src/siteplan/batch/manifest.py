"""The batch manifest ``batch.toml``: scenarios x variations, expanded into runs.

A batch manifest is *data*: TOML validated by pydantic models (no eval, no pickle, no
YAML tags); the only names it may use are the keys of fixed registries (the job
registry, the fields of :class:`Variation`). Every scenario path resolves inside the
manifest's folder: absolute paths, ``..`` and symbolic links that leave it are refused
with :class:`~siteplan.exceptions.UnsafePathError`. A manifest larger than
:data:`MAX_BATCH_MANIFEST_BYTES` is refused before it is parsed, and one expanding to
more than :data:`MAX_BATCH_RUNS` runs is refused before the runs are built.

Run ``python -m siteplan.batch.manifest`` to print the JSON Schema published as
``docs/batch.schema.json``. The format is described in ``docs/batch-format.md``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from siteplan.exceptions import InputError, Problem, UnsafePathError
from siteplan.io.tomlfile import read_toml
from siteplan.model.params import Quota, to_quota

__all__ = [
    "MAX_BATCH_MANIFEST_BYTES",
    "MAX_BATCH_RUNS",
    "BatchError",
    "CandidatePool",
    "Variation",
    "ScenarioRef",
    "BatchManifest",
    "RunSpec",
    "read_batch_manifest",
    "parse_batch_manifest",
    "expand_runs",
    "run_id",
    "canonical_json",
    "resolve_inside_manifest",
    "batch_json_schema",
    "VARIATION_OPTION_KEYS",
]

#: A batch manifest larger than this is refused before it is read [bytes]
#: (environment variable ``SITEPLAN_MAX_BATCH_MANIFEST_BYTES`` overrides it).
MAX_BATCH_MANIFEST_BYTES: int = int(os.environ.get("SITEPLAN_MAX_BATCH_MANIFEST_BYTES", 1024 * 1024))

#: A manifest expanding to more runs than this is refused before the runs are built
#: (environment variable ``SITEPLAN_MAX_BATCH_RUNS`` overrides it).
MAX_BATCH_RUNS: int = int(os.environ.get("SITEPLAN_MAX_BATCH_RUNS", 10_000))

#: Variation fields that are job options (merged into ``options``), not scenario edits.
VARIATION_OPTION_KEYS = ("solver", "time_limit_s", "gap", "seed")


class BatchError(InputError):
    """A batch manifest, output folder or ledger is invalid (names file, key, rule, value)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


Threshold = Annotated[float, Field(ge=-150, le=-40)]
OptionValue = Union[bool, int, float, str]


class CandidatePool(_Frozen):
    """Which candidate sites stay in the pool (existing sites always stay).

    ``keep_fraction`` keeps ``round(keep_fraction * n)`` of the ``n`` candidates left after
    ``exclude``: those with the smallest ``sha256(f"{seed}:{site_id}")``, so the choice
    depends only on the seed and the ids (not on row order or a library's random stream).
    """

    keep_fraction: float = Field(1.0, gt=0, le=1, description="share of candidate sites kept [-]")
    seed: int = Field(0, ge=0, description="seed of the kept subset [-]")
    exclude: tuple[str, ...] = Field((), description="candidate site ids removed from the pool")


class Variation(_Frozen):
    """One change to a scenario and its job options. Unset fields leave the scenario as it is."""

    name: str | None = Field(None, min_length=1, max_length=200, description="label of the variation")
    threshold_dbm: Threshold | dict[str, Threshold] | None = Field(
        None, description="RSRP coverage threshold: one value for every operator or {operator = value} [dBm]")
    new_stations: dict[str, Quota] | None = Field(
        None, description="{phase = quota}: new-station quota per phase, integer or [min, max] [-]")
    new_sites: dict[str, Quota] | None = Field(
        None, description="{phase = quota}: new-site quota per phase, integer or [min, max] [-]")
    budget_cny: dict[str, Union[Annotated[float, Field(ge=0)], Literal["none"]]] | None = Field(
        None, description="{phase = budget}: spending cap per phase [CNY]; \"none\" removes the cap")
    candidates: CandidatePool | None = Field(None, description="candidate-site pool")
    solver: str | None = Field(None, min_length=1, max_length=100, description="solver name (job option)")
    time_limit_s: float | None = Field(None, gt=0, description="solver time limit (job option) [s]")
    gap: float | None = Field(None, ge=0, lt=1, description="relative MIP gap (job option) [-]")
    seed: int | None = Field(None, ge=0, description="random seed (job option) [-]")

    @field_validator("new_stations", "new_sites", mode="before")
    @classmethod
    def _quotas(cls, v):
        if v is None:
            return v
        if not isinstance(v, dict):
            raise ValueError("expected a table {phase = quota}")
        return {k: to_quota(x) for k, x in v.items()}

    @field_validator("threshold_dbm", "new_stations", "new_sites", "budget_cny")
    @classmethod
    def _no_empty_table(cls, v):
        return None if isinstance(v, dict) and not v else v

    def scenario_part(self) -> dict:
        """The fields that change the scenario (JSON-ready, unset ones left out)."""
        d = self.model_dump(mode="json", exclude_none=True, exclude={"name", *VARIATION_OPTION_KEYS})
        return d

    def option_part(self) -> dict:
        """The fields that are job options (unset ones left out)."""
        return self.model_dump(mode="json", exclude_none=True, include=set(VARIATION_OPTION_KEYS))


_VARIATION_FIELDS = tuple(k for k in Variation.model_fields if k != "name")


class ScenarioRef(_Frozen):
    """A scenario folder (or its ``scenario.toml``), relative to the manifest's folder."""

    path: str = Field(min_length=1, max_length=4096, description="relative path inside the manifest's folder")
    label: str | None = Field(None, min_length=1, max_length=200, description="short name in listings")


class BatchManifest(_Frozen):
    """The whole ``batch.toml``."""

    format_version: Literal[1] = 1
    name: str = Field(min_length=1, max_length=200, description="name of the batch")
    description: str = ""
    job: str | None = Field(None, description="job to run (a key of the job registry); default 'validate'")
    wall_time_limit_s: float | None = Field(
        None, gt=0, description="wall-clock limit of one run; the run's process is killed beyond it [s]")
    scenarios: tuple[Union[ScenarioRef, Annotated[str, Field(min_length=1, max_length=4096)]], ...] = Field(
        min_length=1, description="scenario folders: paths, or tables {path, label}")
    options: dict[str, OptionValue] = Field(default_factory=dict, description="job options shared by every run")
    variations: tuple[Variation, ...] = Field((Variation(),), min_length=1,
                                              description="variations; default: one empty variation")
    grid: dict[str, list[Any]] = Field(
        default_factory=dict,
        description="{field = [values]}: cartesian product over Variation fields, applied to every variation")

    @field_validator("scenarios")
    @classmethod
    def _scenario_strings(cls, v):
        return tuple(ScenarioRef(path=x) if isinstance(x, str) else x for x in v)

    @field_validator("grid")
    @classmethod
    def _grid_keys(cls, v):
        for k, values in v.items():
            if k not in _VARIATION_FIELDS:
                raise ValueError(f"unknown grid key {k!r}; known: {', '.join(_VARIATION_FIELDS)}")
            if not values:
                raise ValueError(f"grid key {k!r} needs at least one value")
        return v

    @model_validator(mode="after")
    def _unique_labels(self):
        names = [v.name for v in self.variations if v.name is not None]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"variation names must be unique, {dup[0]!r} repeats")
        return self


@dataclass(frozen=True)
class RunSpec:
    """One run of a batch: a scenario, a variation and job options."""

    run_id: str
    label: str                 # "<scenario label>/<variation label>"
    scenario_path: str         # absolute path of the scenario folder
    scenario_digest: str       # sha256 of the scenario's input files
    job: str
    variation: dict            # full Variation as JSON (incl. name)
    options: dict              # job options: manifest [options] + the variation's option fields

    def task(self) -> dict:
        """The JSON-ready task a worker executes."""
        return {"run_id": self.run_id, "label": self.label, "scenario_path": self.scenario_path,
                "scenario_digest": self.scenario_digest, "job": self.job, "variation": self.variation,
                "options": self.options}


def canonical_json(obj) -> str:
    """Sorted keys, no spaces, no NaN: the text hashed into run ids."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def run_id(scenario_digest: str, job: str, variation: Variation, options: dict) -> str:
    """Stable run id: the first 16 hex digits of sha256 over the canonical JSON of
    ``{scenario digest, job, scenario edits of the variation, options}``.

    The variation's name is a label and does not enter the id; neither does the batch's
    wall-clock limit (it decides whether a run finishes, not what it computes).
    """
    key = {"scenario_digest": scenario_digest, "job": job, "variation": variation.scenario_part(),
           "options": options}
    return hashlib.sha256(canonical_json(key).encode("utf-8")).hexdigest()[:16]


def resolve_inside_manifest(folder: Path, rel: str, key: str, manifest_name: str) -> Path:
    """Resolve ``rel`` inside ``folder``; refuse absolute paths, ``..`` and links leaving it."""
    if "\x00" in rel:
        raise UnsafePathError(Problem(manifest_name, None, key, "path contains a NUL character", rel))
    p = Path(rel)
    if p.is_absolute() or rel.startswith(("/", "\\", "~")) or (len(rel) > 1 and rel[1] == ":"):
        raise UnsafePathError(Problem(manifest_name, None, key,
                                      "path must be relative to the batch manifest's folder", rel))
    if ".." in p.parts or ".." in rel.replace("\\", "/").split("/"):
        raise UnsafePathError(Problem(manifest_name, None, key,
                                      "path must not leave the batch manifest's folder ('..')", rel))
    base = folder.resolve()
    full = (folder / p).resolve()
    try:
        full.relative_to(base)
    except ValueError:
        raise UnsafePathError(Problem(manifest_name, None, key,
                                      "path leaves the batch manifest's folder through a link", rel)) from None
    return full


_TYPE_MISMATCH = {"dict_type", "float_type", "float_parsing", "int_type", "int_parsing", "string_type",
                  "literal_error", "model_type", "bool_type", "list_type", "tuple_type"}


_TYPE_TAG = re.compile(r"(constrained-[a-z]+|function-[a-z]+\[.*\]|[a-z]+\[.*\]|float|int|str|bool|none)")
_MODEL_NAMES = {"Quota", "CandidatePool", "Variation", "ScenarioRef", "BatchManifest"}


def _is_type_tag(item) -> bool:
    """pydantic puts union-branch labels ('constrained-float', "literal['none']", 'Quota') in locations."""
    return isinstance(item, str) and (item in _MODEL_NAMES or _TYPE_TAG.fullmatch(item) is not None)


def _pydantic_problems(exc: ValidationError, fname: str, prefix: str = "", drop: int = 0) -> list[Problem]:
    """One Problem per distinct location; union branches that merely failed on type are left
    out when another branch gave a more specific reason for the same field."""
    errors = exc.errors(include_url=False)

    def field_key(loc):
        out = []
        for item in loc:
            if _is_type_tag(item):
                break
            out.append(item)
        return tuple(out)

    specific = {field_key(e["loc"]) for e in errors if e["type"] not in _TYPE_MISMATCH}
    locs = [tuple(e["loc"]) for e in errors]
    problems, seen = [], set()
    for err in errors:
        loc_items = tuple(err.get("loc", ()))
        if err["type"] in _TYPE_MISMATCH and field_key(loc_items) in specific:
            continue
        if err["type"] == "too_short" and any(len(o) > len(loc_items) and o[:len(loc_items)] == loc_items
                                              for o in locs):
            continue  # a container whose items failed; the items say why
        text = prefix
        for item in loc_items[drop:]:
            if isinstance(item, int):
                text += f"[{item + 1}]"
            elif _is_type_tag(item):
                continue
            else:
                text += ("." if text else "") + str(item)
        msg = err.get("msg", "invalid")
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        value = err.get("input")
        if err.get("type") == "missing":
            msg, value = "required key is missing", None
        elif err.get("type") == "extra_forbidden":
            msg = "unknown key (check the spelling; see docs/batch-format.md)"
        if isinstance(value, (dict, list)):
            value = None
        if (text, msg) in seen:
            continue
        seen.add((text, msg))
        problems.append(Problem(fname, None, text or None, msg, value))
    return problems


def parse_batch_manifest(data: dict, fname: str = "batch.toml") -> BatchManifest:
    """Validate a manifest dictionary; every pydantic error becomes a Problem."""
    try:
        return BatchManifest.model_validate(data)
    except ValidationError as exc:
        raise BatchError(_pydantic_problems(exc, fname)) from None


def read_batch_manifest(path: str | os.PathLike) -> BatchManifest:
    """Read and validate a batch manifest (size checked before the file is read)."""
    fname = str(path)
    data = read_toml(path, error=BatchError, limit=MAX_BATCH_MANIFEST_BYTES, what="batch manifest")
    return parse_batch_manifest(data, fname)


def _grid_points(manifest: BatchManifest, fname: str) -> list[dict]:
    keys = list(manifest.grid)
    problems = []
    for k in keys:
        for i, value in enumerate(manifest.grid[k]):
            try:
                Variation.model_validate({k: value})
            except ValidationError as exc:
                problems.extend(_pydantic_problems(exc, fname, prefix=f"grid.{k}[{i + 1}]", drop=1))
    BatchError.collect(problems)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(manifest.grid[k] for k in keys))]


def _short(value) -> str:
    text = value if isinstance(value, str) else canonical_json(value)
    return text if len(text) <= 40 else text[:37] + "..."


def expand_runs(manifest: BatchManifest, manifest_path: str | os.PathLike, *, job: str,
                digests: dict[str, str]) -> list[RunSpec]:
    """Expand scenarios x variations x grid points into runs (duplicates dropped).

    ``digests`` maps each scenario's absolute folder (as :func:`scenario_folders` gives
    it) to its digest. Raises :class:`BatchError` when the expansion exceeds
    :data:`MAX_BATCH_RUNS` or a grid point conflicts with a variation.
    """
    fname = str(manifest_path)
    n_grid = math.prod(len(v) for v in manifest.grid.values()) if manifest.grid else 1
    n_runs = len(manifest.scenarios) * len(manifest.variations) * n_grid
    if n_runs > MAX_BATCH_RUNS:
        raise BatchError(Problem(fname, None, "grid",
                                 f"the batch expands to more runs than the limit of {MAX_BATCH_RUNS} "
                                 "(SITEPLAN_MAX_BATCH_RUNS)", n_runs))
    points = _grid_points(manifest, fname)
    variations: list[Variation] = []
    problems = []
    for vi, base in enumerate(manifest.variations):
        base_data = base.model_dump(exclude_none=True)
        for point in points:
            clash = sorted(set(point) & (set(base_data) - {"name"}))
            if clash:
                problems.append(Problem(fname, None, f"variations[{vi + 1}].{clash[0]}",
                                        "set both in the variation and in [grid]", clash[0]))
                continue
            label = base.name or (f"v{vi + 1}" if len(manifest.variations) > 1 else "base")
            if point:
                label += "|" + ",".join(f"{k}={_short(v)}" for k, v in point.items())
            variations.append(Variation.model_validate({**base_data, **point, "name": label}))
    BatchError.collect(problems)

    folders = scenario_folders(manifest, manifest_path)
    runs: list[RunSpec] = []
    seen: set[str] = set()
    for ref, folder in zip(manifest.scenarios, folders):
        digest = digests[str(folder)]
        slabel = ref.label or ref.path
        for var in variations:
            options = {**manifest.options, **var.option_part()}
            rid = run_id(digest, job, var, options)
            if rid in seen:
                continue
            seen.add(rid)
            runs.append(RunSpec(run_id=rid, label=f"{slabel}/{var.name}", scenario_path=str(folder),
                                scenario_digest=digest, job=job, variation=var.model_dump(mode="json",
                                                                                           exclude_none=True),
                                options=options))
    return runs


def scenario_folders(manifest: BatchManifest, manifest_path: str | os.PathLike) -> list[Path]:
    """Absolute, resolved scenario paths, each checked to lie inside the manifest's folder."""
    mpath = Path(manifest_path)
    folder = mpath.parent
    return [resolve_inside_manifest(folder, ref.path, f"scenarios[{i + 1}].path", str(mpath))
            for i, ref in enumerate(manifest.scenarios)]


def batch_json_schema() -> dict:
    """JSON Schema of ``batch.toml`` (draft 2020-12)."""
    schema = BatchManifest.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "siteplan batch manifest (batch.toml)"
    return schema


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(batch_json_schema(), indent=2, sort_keys=True))
