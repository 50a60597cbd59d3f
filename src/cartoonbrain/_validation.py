"""Argument checks shared by the optimizers and the learning-rate schedules."""

from __future__ import annotations

import inspect
import math
from numbers import Real
from typing import Any, TypeGuard

import numpy as np


def is_number(value: Any) -> TypeGuard[float]:
    """A real number, Python's or NumPy's (np.float32(0.5), np.int64(0)), not a bool."""
    return isinstance(value, Real) and not isinstance(value, bool)


def is_integer(value: Any) -> TypeGuard[int]:
    """An int or a NumPy integer (np.int64(3)), not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def positive(name: str, value: Any) -> float:
    if not (is_number(value) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number; got {value!r}")
    return float(value)


def non_negative(name: str, value: Any) -> float:
    if not (is_number(value) and math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")
    return float(value)


def fraction(name: str, value: Any) -> float:
    if not (is_number(value) and 0 <= value < 1):
        raise ValueError(f"{name} must be a number in [0, 1); got {value!r}")
    return float(value)


def count(name: str, value: Any, minimum: int) -> int:
    if not (
        isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= minimum
    ):
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def known_options(cls: type, given: dict[str, Any], what: str) -> dict[str, Any]:
    accepted = list(inspect.signature(cls).parameters)
    unknown = sorted(set(given) - set(accepted))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for {what}; expected some of {accepted}")
    return given
