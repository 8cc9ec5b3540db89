"""Shared input checks and validity-range handling of the propagation wrappers.

Behaviour outside a model's published validity range (documented once, here):

* Inputs that make a formula meaningless (non-finite values, distances, frequencies or
  heights that are zero or negative) always raise :class:`PropagationInputError`.
* Inputs that are physical but outside the range the model was fitted on (e.g. Hata
  at 2 GHz, or at 25 km) are evaluated by the formula as written (extrapolation) and a
  :class:`ValidityRangeWarning` is issued **once per model and quantity per process**;
  with ``strict=True`` a :class:`ValidityRangeError` is raised instead, naming the
  model, the quantity, the allowed range and the offending extreme value.

No wrapper ever returns NaN silently.
"""

from __future__ import annotations

import threading
import warnings

import numpy as np

from siteplan.exceptions import InputError, Problem

__all__ = [
    "PropagationInputError",
    "ValidityRangeError",
    "ValidityRangeWarning",
    "reset_validity_warnings",
]


class PropagationInputError(InputError):
    """A propagation input is non-finite or non-physical (e.g. distance <= 0)."""


class ValidityRangeError(InputError):
    """An input lies outside the model's validity range and ``strict=True`` was asked."""


class ValidityRangeWarning(UserWarning):
    """An input lies outside the model's validity range; the formula was extrapolated."""


_WARNED: set[tuple[str, str]] = set()
_LOCK = threading.Lock()


def reset_validity_warnings() -> None:
    """Forget which validity warnings were already issued (each is issued once)."""
    with _LOCK:
        _WARNED.clear()


def as_float_array(name: str, value, model: str) -> np.ndarray:
    """``value`` as a float64 array; raise if any entry is not finite."""
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        bad = arr[~np.isfinite(arr)].ravel()[0]
        raise PropagationInputError(Problem(None, None, name, f"{model}: must be finite", bad))
    return arr


def require_positive(name: str, arr: np.ndarray, model: str, unit: str) -> None:
    if arr.size and np.min(arr) <= 0.0:
        raise PropagationInputError(
            Problem(None, None, name, f"{model}: must be > 0 {unit}", float(np.min(arr)))
        )


def check_range(model: str, name: str, arr: np.ndarray, lo: float, hi: float, unit: str,
                strict: bool) -> None:
    """Warn once (or raise when ``strict``) if ``arr`` leaves [lo, hi]."""
    if arr.size == 0:
        return
    amin = float(np.min(arr))
    amax = float(np.max(arr))
    if amin >= lo and amax <= hi:
        return
    worst = amin if amin < lo else amax
    rule = f"{model} is valid for {lo:g} <= {name} <= {hi:g} {unit}"
    if strict:
        raise ValidityRangeError(Problem(None, None, name, rule, worst))
    key = (model, name)
    with _LOCK:
        if key in _WARNED:
            return
        _WARNED.add(key)
    warnings.warn(
        f"{rule}; got {worst:g} {unit}: the formula is extrapolated "
        f"(warned once per process; pass strict=True to raise)",
        ValidityRangeWarning,
        stacklevel=3,
    )
