"""Reading TOML files that people write by hand (scenario and batch manifests): size limit
checked before reading, UTF-8 (a BOM is accepted), and parse errors with their line."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from siteplan.exceptions import InputError, Problem

__all__ = ["read_toml"]


def read_toml(path: str | os.PathLike, *, error: type[InputError], limit: int, what: str) -> dict:
    """Parse the TOML file ``path``; every failure raises ``error`` naming the file.

    ``limit`` is the largest accepted size [bytes] (checked before and while reading);
    ``what`` names the file kind in messages ("manifest", "batch manifest").
    """
    path = Path(path)
    fname = str(path)
    if not path.is_file():
        raise error(Problem(fname, None, None, f"{what} not found"))
    size = path.stat().st_size
    if size > limit:
        raise error(Problem(fname, None, None, f"{what} larger than the limit of {limit} bytes", size))
    with open(path, "rb") as fh:
        raw = fh.read(limit + 1)
    if len(raw) > limit:  # grew after stat
        raise error(Problem(fname, None, None, f"{what} larger than the limit of {limit} bytes", len(raw)))
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(Problem(fname, None, None, f"{what} must be UTF-8", f"byte offset {exc.start}")) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(Problem(fname, getattr(exc, "lineno", None), None, "invalid TOML", str(exc))) from None
