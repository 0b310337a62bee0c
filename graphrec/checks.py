"""Argument checks shared by every public constructor: one wording for every bad value.

Each check returns the value as a plain Python ``int`` / ``float`` / ``bool`` / ``str``, or
raises ``ValueError`` (``TypeError`` for a wrong kind of flag) naming the parameter, what it
must be and what it got. NumPy scalars count as numbers (``np.int64(8)`` is an integer);
``True``/``False`` never do, and NaN or an infinity is never a number here.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection
from typing import Any

import numpy as np

__all__ = ["SEED_MAX", "check_bool", "check_choice", "check_int", "check_number", "check_seed", "derived_seed"]


def _show(x: float) -> str:
    return str(x) if isinstance(x, numbers.Integral) else f"{x:g}"


def _bounds(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{_show(low)}, {_show(high)}{')' if high_open else ']'}"
    if low is not None:
        return f" {'>' if low_open else '>='} {_show(low)}"
    if high is not None:
        return f" {'<' if high_open else '<='} {_show(high)}"
    return ""


def _or(also: str) -> str:
    return f" {also}" if also else ""


def check_int(name: str, value: Any, low: int | None = None, high: int | None = None, *, also: str = "") -> int:
    """``value`` as an ``int`` in ``[low, high]`` (either bound optional).

    ``also`` names the other values the caller accepts (e.g. ``"or 'auto'"``) in the error.
    """
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if ok and (low is None or value >= low) and (high is None or value <= high):
        return int(value)
    raise ValueError(f"{name} must be an integer{_bounds(low, high, False, False)}{_or(also)}, got {value!r}")


def check_number(
    name: str, value: Any, low: float | None = None, high: float | None = None, *,
    low_open: bool = False, high_open: bool = False, also: str = "",
) -> float:
    """``value`` as a finite ``float`` within the bounds (closed unless ``low_open`` / ``high_open``);
    ``also`` as in :func:`check_int`."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        v = float(value)
        above = low is None or (v > low if low_open else v >= low)
        below = high is None or (v < high if high_open else v <= high)
        if above and below:
            return v
    raise ValueError(f"{name} must be a finite number{_bounds(low, high, low_open, high_open)}{_or(also)}, got {value!r}")


SEED_MAX = 2**64 - 1  # torch.Generator.manual_seed takes at most a 64-bit unsigned seed


def check_seed(value: Any, name: str = "seed") -> int:
    """A random seed: an ``int`` in ``[0, 2**64 - 1]``, what every generator here (torch's and NumPy's) takes."""
    return check_int(name, value, 0, SEED_MAX)


def derived_seed(value: int) -> int:
    """A seed computed from another (``seed + 1``, ``seed * p + k``) wrapped into ``[0, SEED_MAX]``,
    so that a valid seed never derives one that torch refuses; smaller seeds are unchanged."""
    return value % (SEED_MAX + 1)


def check_bool(name: str, value: Any) -> bool:
    """``value`` must be ``True`` or ``False`` (NumPy's bools too); anything else is a ``TypeError``."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {value!r}")


def check_choice(name: str, value: Any, choices: Collection[str]) -> str:
    """``value`` must be one of ``choices``."""
    if isinstance(value, str) and value in choices:
        return value
    raise ValueError(f"{name} must be one of {', '.join(repr(c) for c in choices)}, got {value!r}")
