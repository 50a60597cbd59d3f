"""The checks a :class:`~cartoonbrain.data.preprocessing.Preprocessor` makes of its
arguments and columns before any work, each a one-line ValueError naming what is wrong
and what was expected: the ``categorical`` columns (names that are columns, indices in
range), column names given once each, and no complex values (which would lose their
imaginary part as numbers, or turn into categories).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["categorical_names", "check_categorical", "check_distinct", "check_real", "is_index"]


def check_categorical(categorical: Any) -> None:
    """``categorical`` is None or a list of column names (str) or indices (int >= 0)."""
    if categorical is not None and (
        not isinstance(categorical, (list, tuple))
        or not all(is_index(c) or isinstance(c, str) for c in categorical)
    ):
        raise ValueError(
            "categorical must be a list of column names (strings) or indices (integers "
            f">= 0); got {categorical!r}"[:200]
        )


def check_distinct(names: list[str], given: str) -> None:
    """Each column name once: ``given`` says whose names they are (the caller's)."""
    twice = sorted({n for n, count in Counter(names).items() if count > 1})
    if twice:
        raise ValueError(
            f"{given} name {', '.join(map(repr, twice[:5]))} more than once; give each "
            "column a name of its own"
        )


def is_index(c: Any) -> bool:
    """An integer >= 0 (a bool is not one)."""
    integer = isinstance(c, (int, np.integer)) and not isinstance(c, (bool, np.bool_))
    return bool(integer and c >= 0)


def categorical_names(categorical: Any, names: list[str]) -> set[str]:
    """The names of the ``categorical`` columns (names or indices), each one a column."""
    chosen = set()
    for c in categorical:
        if is_index(c) and int(c) >= len(names):
            raise ValueError(
                f"categorical column {int(c)} is out of range: X has {len(names)} columns"
            )
        name = names[int(c)] if is_index(c) else str(c)
        if name not in names:
            shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
            raise ValueError(f"categorical names {name!r}, which is not a column ({shown})")
        chosen.add(name)
    return chosen


def check_real(column: NDArray[Any], name: str) -> None:
    """A complex value would lose its imaginary part as a number, or become a category."""
    if column.dtype.kind == "c" or (
        column.dtype.kind == "O" and any(isinstance(v, complex) for v in column)
    ):
        raise ValueError(f"column {name!r} holds complex numbers; expected real numbers or text")
