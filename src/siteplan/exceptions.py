"""Typed errors of siteplan.

Every error raised on purpose by siteplan derives from :class:`SiteplanError`.
Errors about input data carry :class:`Problem` records that name the file, the
1-based row, the field, the rule that failed and the value received, so that a
planner can find and fix the cell in their spreadsheet without reading a traceback.

This module is the bottom layer: it imports nothing from siteplan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

__all__ = [
    "Problem",
    "SiteplanError",
    "InputError",
    "ScenarioError",
    "TerrainError",
    "FormatError",
    "ModelError",
    "SolverError",
    "InfeasibleError",
    "OutputError",
    "UnsafePathError",
    "MAX_REPORTED_PROBLEMS",
]

#: At most this many problems are listed in one error message (the count of the
#: rest is still given).
MAX_REPORTED_PROBLEMS = 50


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input.

    Attributes
    ----------
    file : path of the file (or manifest key) the problem is in, or ``None``.
    row : 1-based data row (the header is row 0), or ``None`` when not row-bound.
    field : column or manifest key, or ``None``.
    rule : the rule that failed, in words ("must be unique", "must be >= 0").
    value : the offending value as read (string or number), or ``None``.
    """

    file: str | None
    row: int | None
    field: str | None
    rule: str
    value: Any = None

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field is not None:
            where.append(f"field '{self.field}'")
        head = ", ".join(where)
        tail = f": {self.rule}"
        if self.value is not None:
            tail += f" (got {_short(self.value)})"
        return (head + tail) if head else tail.lstrip(": ")


class SiteplanError(Exception):
    """Root of every error siteplan raises on purpose."""


class InputError(SiteplanError):
    """Input data break one or more rules; ``problems`` lists them all."""

    def __init__(self, problems: Problem | Sequence[Problem] | str, *, file: str | None = None):
        if isinstance(problems, str):
            problems = [Problem(file, None, None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(self._format())

    def _format(self) -> str:
        n = len(self.problems)
        shown = [str(p) for p in self.problems[:MAX_REPORTED_PROBLEMS]]
        if n == 1:
            return shown[0]
        lines = [f"{n} problems found:"] + ["  - " + s for s in shown]
        if n > MAX_REPORTED_PROBLEMS:
            lines.append(f"  ... and {n - MAX_REPORTED_PROBLEMS} more")
        return "\n".join(lines)

    @classmethod
    def collect(cls, problems: Iterable[Problem]) -> None:
        """Raise ``cls(problems)`` if ``problems`` is not empty."""
        problems = list(problems)
        if problems:
            raise cls(problems)


class ScenarioError(InputError):
    """A scenario folder (manifest or tables) is invalid."""


class TerrainError(InputError):
    """A terrain raster (GeoTIFF, SRTM .hgt, .npy) is unreadable or not georeferenced."""


class FormatError(InputError):
    """A benchmark or exchange file (OR-Library, SteinLib, ...) is malformed or truncated."""


class UnsafePathError(InputError):
    """A path in a manifest escapes its folder, or an output folder is not ours to write."""


class ModelError(SiteplanError):
    """A model was built from inconsistent arguments (a programming or API-usage error)."""


class SolverError(SiteplanError):
    """A solver backend failed, is unavailable, or returned something unusable."""


class InfeasibleError(SiteplanError):
    """A target cannot be met; ``diagnosis`` explains which and by how much."""

    def __init__(self, message: str, diagnosis: Any = None):
        self.diagnosis = diagnosis
        super().__init__(message)


class OutputError(SiteplanError):
    """Results could not be written."""
