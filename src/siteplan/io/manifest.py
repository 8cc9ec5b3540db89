"""The scenario manifest ``scenario.toml``: TOML parsing and pydantic validation.

Run ``python -m siteplan.io.manifest`` to print the manifest's JSON Schema
(published as ``docs/scenario.schema.json``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import ValidationError

from siteplan.config import MAX_FILE_BYTES
from siteplan.exceptions import Problem, ScenarioError
from siteplan.io.tomlfile import read_toml
from siteplan.model.params import Manifest

__all__ = ["MANIFEST_NAMES", "find_manifest", "read_manifest", "parse_manifest", "manifest_json_schema"]

MANIFEST_NAMES = ("scenario.toml",)


def find_manifest(folder: str | os.PathLike) -> Path:
    """Return the manifest path of a scenario folder (or the path itself if it is a file)."""
    folder = Path(folder)
    if folder.is_file():
        return folder
    if not folder.exists():
        raise ScenarioError(Problem(str(folder), None, None, "scenario folder not found"))
    for name in MANIFEST_NAMES:
        p = folder / name
        if p.is_file():
            return p
    raise ScenarioError(Problem(str(folder / MANIFEST_NAMES[0]), None, None, "manifest file not found"))


def read_manifest(path: str | os.PathLike) -> Manifest:
    """Read and validate a ``scenario.toml`` file."""
    data = read_toml(path, error=ScenarioError, limit=MAX_FILE_BYTES, what="manifest")
    return parse_manifest(data, str(path))


def parse_manifest(data: dict, fname: str = "scenario.toml") -> Manifest:
    """Validate a manifest dictionary; every pydantic error becomes a Problem."""
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = _loc_text(data, err.get("loc", ()))
            msg = err.get("msg", "invalid")
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, "):]
            value = err.get("input")
            if err.get("type") == "missing":
                msg, value = "required key is missing", None
            elif err.get("type") == "extra_forbidden":
                msg = "unknown key (check the spelling; see docs/scenario-format.md)"
            if isinstance(value, dict):
                value = None
            problems.append(Problem(fname, None, loc or None, msg, value))
        raise ScenarioError(problems) from None


def _loc_text(data, loc) -> str:
    """'phases[1].new_sites' from pydantic's location tuple (indices shown 1-based,
    union branch names such as 'CoverageTarget' dropped)."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item + 1}]")
        elif isinstance(item, str) and item[:1].isupper() and not parts[-1:] == ["."]:
            continue  # discriminated-union branch label
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def manifest_json_schema() -> dict:
    """JSON Schema of ``scenario.toml`` (draft 2020-12)."""
    schema = Manifest.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "siteplan scenario manifest (scenario.toml)"
    return schema


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(manifest_json_schema(), indent=2, sort_keys=True))
