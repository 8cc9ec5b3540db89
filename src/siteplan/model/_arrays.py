"""Helpers for frozen struct-of-arrays dataclasses."""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["freeze_arrays", "check_lengths"]


def freeze_arrays(obj) -> None:
    """Make every numpy array field of a frozen dataclass read-only (in place)."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, np.ndarray):
            if value.flags.writeable:
                value = value.copy() if not value.flags.owndata else value
                value.setflags(write=False)
                object.__setattr__(obj, f.name, value)


def check_lengths(obj, n: int, names: tuple[str, ...]) -> None:
    """Raise ValueError when a column's length differs from ``n``."""
    for name in names:
        arr = getattr(obj, name)
        if len(arr) != n:
            raise ValueError(f"{type(obj).__name__}.{name} has {len(arr)} rows, expected {n}")
