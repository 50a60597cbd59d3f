"""What a CSV file holds once read (:mod:`cartoonbrain.data.csvdata` reads it): a
:class:`Table` of feature columns and the target.

* the target, as numbers while every value is one and as codes into its distinct texts
  while there are few (:class:`TargetColumn`), and whether it makes a classification or
  a regression task, with the reason (:func:`target_task`);
* a text feature column, as codes into its distinct texts (:class:`TextColumn`);
* feature columns of both kinds by name (:class:`Columns`), offered as a pandas
  DataFrame offers its own, which is how a
  :class:`~cartoonbrain.data.preprocessing.Preprocessor` reads them: numbers stay float64
  (NaN where a cell is empty), and only the text columns hold strings.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "MAX_CLASSES",
    "Columns",
    "DataFileError",
    "Table",
    "TargetColumn",
    "TargetTask",
    "TextColumn",
    "target_task",
]

#: integer targets with more distinct values than this are taken as continuous
MAX_CLASSES = 100
#: a numeric target keeps its distinct texts up to this many, in case text follows
_TEXTS_KEPT = 1000


class DataFileError(ValueError):
    """A data file that cannot be used as it is; the message says where and why."""


def _shown(text: str) -> str:
    """A field for an error message: its repr, cut after 40 characters."""
    return repr(text) if len(text) <= 40 else repr(text[:40]) + "..."


# ---------------------------------------------------------------- the target
@dataclass
class TargetColumn:
    """The target column, kept compactly: as numbers while every value is one, and as
    codes into its distinct (stripped) texts while there are few or some are text."""

    name: str
    numbers: NDArray[np.float64] | None
    texts: list[str] | None
    codes: NDArray[np.int64] | None

    def labels(self, prefer_text: bool = False) -> tuple[list[Any], NDArray[np.int64]]:
        """The distinct values and, per row, the index of its value among them.

        Numbers come back as ``int`` when integral (as text with ``prefer_text``, when the
        texts were kept); text as the stripped text.
        """
        texts_kept = self.texts is not None and self.codes is not None
        if texts_kept and (prefer_text or self.numbers is None):
            assert self.texts is not None and self.codes is not None
            return list(self.texts), self.codes
        assert self.numbers is not None
        values, codes = np.unique(self.numbers, return_inverse=True)
        labels = [int(v) if v.is_integer() else v for v in values.tolist()]
        return labels, codes.reshape(-1).astype(np.int64)

    def first_text(self) -> str:
        """The first value that is not a number (for a column that holds text)."""
        for text in self.texts or []:
            try:
                float(text)
            except ValueError:
                return text
        return ""


class _Target:
    """The target column as it is read, row by row (see :class:`TargetColumn`)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.numbers: array[float] | None = array("d")
        self.codes: array[int] | None = array("q")
        self.index: dict[str, int] | None = {}

    def add(self, text: str, where: str) -> None:
        text = text.strip()
        if not text:
            raise DataFileError(f"{where}: empty target cell; every row needs a target value")
        if self.numbers is not None:
            try:
                self.numbers.append(float(text))
            except ValueError:
                if self.index is None:  # many numbers, then text: not a column of labels
                    raise DataFileError(
                        f"{where}: {_shown(text)} is not a number, and the column's other values "
                        "are numbers (remove or impute missing values)"
                    ) from None
                self.numbers = None
        if self.index is not None and self.codes is not None:
            code = self.index.setdefault(text, len(self.index))
            self.codes.append(code)
            if self.numbers is not None and len(self.index) > _TEXTS_KEPT:
                self.index = self.codes = None  # a continuous target: the numbers suffice

    def column(self) -> TargetColumn:
        numbers = None if self.numbers is None else np.frombuffer(self.numbers, dtype=np.float64)
        texts = None if self.index is None else list(self.index)
        codes = None if self.codes is None else np.frombuffer(self.codes, dtype=np.int64)
        return TargetColumn(self.name, numbers, texts, codes)


@dataclass
class TargetTask:
    """What the target makes: ``task`` ("classification" or "regression"), ``classes``
    (sorted; None for regression), ``y`` (class ids of shape (n_rows,), or numbers of
    shape (n_rows, 1)) and ``reason``, why that task, in words."""

    task: str
    classes: list[Any] | None
    y: NDArray[Any]
    reason: str


def target_task(target: TargetColumn, task: str, where: Callable[[int], str]) -> TargetTask:
    """The task the target makes, as asked (``task`` "classification" or "regression") or
    decided ("auto"): text labels, and integers with at most :data:`MAX_CLASSES` distinct
    values, are classes; other numbers a continuous target. ``where(i)`` names row i."""
    if task not in ("auto", "classification", "regression"):
        raise ValueError(f"task must be auto, classification or regression; got {task!r}")
    name = target.name
    if target.numbers is None:
        if task == "regression":
            raise DataFileError(
                f"the target column {name!r} holds text ({_shown(target.first_text())}), "
                "which cannot be a regression target; expected numbers"
            )
        assert target.texts is not None and target.codes is not None
        order = sorted(range(len(target.texts)), key=target.texts.__getitem__)
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))  # each text's place among the sorted texts
        classes = [target.texts[k] for k in order]
        reason = f"target {name!r} holds text" if task == "auto" else "as asked"
        return TargetTask("classification", classes, rank[target.codes], reason)
    y = target.numbers
    if not np.isfinite(y).all():
        i = int(np.flatnonzero(~np.isfinite(y))[0])
        raise DataFileError(
            f"{where(i)}: {y[i]} is not a finite number; remove or impute missing values"
        )
    values = np.unique(y)
    integers = bool(np.all(values == np.round(values)))
    kind = f"integer target with {len(values)} distinct values" if integers else ""
    if task == "auto":
        task = "classification" if integers and len(values) <= MAX_CLASSES else "regression"
        reason = kind or "target holds numbers that are not all integers"
        if integers and task == "regression":
            reason += f", more than {MAX_CLASSES}"
    else:
        reason = "as asked"
    if task == "classification":
        ids = np.searchsorted(values, y).astype(np.int64)
        labels: list[Any] = [int(v) if v.is_integer() else v for v in values.tolist()]
        return TargetTask(task, labels, ids, reason)
    return TargetTask(task, None, y.reshape(-1, 1), reason)


# ---------------------------------------------------------------- text feature columns
@dataclass
class TextColumn:
    """A text feature column: its distinct (stripped) texts, "" for an empty cell, and per
    row the index of its text among them."""

    name: str
    texts: list[str]
    codes: NDArray[np.int32]

    def values(self) -> NDArray[np.object_]:
        """The column's texts, one per row (an object array: one reference per cell)."""
        table = np.empty(len(self.texts), dtype=object)
        table[:] = self.texts
        return table[self.codes]

    def first_text(self) -> str:
        """The first value that is not a number, for messages."""
        return TargetColumn(self.name, None, self.texts, None).first_text()


class _Texts:
    """A text feature column as it is read, row by row."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.index: dict[str, int] = {}
        self.codes: array[int] = array("i")

    def add(self, text: str) -> None:
        self.codes.append(self.index.setdefault(text, len(self.index)))

    def column(self) -> TextColumn:
        codes = np.frombuffer(self.codes, dtype=np.int32)
        return TextColumn(self.name, list(self.index), codes)


# ---------------------------------------------------------------- columns by name
class _Column:
    """One column, as a DataFrame's ``X[name]`` gives it (only ``to_numpy``)."""

    __slots__ = ("values",)

    def __init__(self, values: NDArray[Any]) -> None:
        self.values = values

    def to_numpy(self) -> NDArray[Any]:
        return self.values


class Columns:
    """Feature columns by name, each a 1-D array of one row per sample: numbers (float64,
    NaN where a cell is empty) or texts (an object array of str, "" where empty).

    It offers what a :class:`~cartoonbrain.data.preprocessing.Preprocessor` reads from a pandas
    DataFrame, ``X.columns`` and ``X[name].to_numpy()``, so a table with text columns goes
    to ``Network.fit``/``predict`` without pandas and without boxing every number.
    """

    def __init__(self, arrays: dict[str, NDArray[Any]]) -> None:
        lengths = {len(a) for a in arrays.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of different lengths: {sorted(lengths)}")
        self._arrays = dict(arrays)
        self.columns = list(arrays)

    def __getitem__(self, name: str) -> _Column:
        return _Column(self._arrays[name])

    def __len__(self) -> int:
        return len(next(iter(self._arrays.values()))) if self._arrays else 0

    @property
    def shape(self) -> tuple[int, int]:
        return len(self), len(self.columns)

    def take(self, rows: Sequence[int] | NDArray[np.integer[Any]]) -> Columns:
        """The given rows of every column, in that order."""
        return Columns({name: a[rows] for name, a in self._arrays.items()})

    def to_numpy(self) -> NDArray[np.object_]:
        """Every cell as an object array of shape (n_rows, n_columns)."""
        out = np.empty(self.shape, dtype=object)
        for j, a in enumerate(self._arrays.values()):
            out[:, j] = a
        return out

    def __repr__(self) -> str:
        return f"Columns({len(self)} rows: {', '.join(self.columns)})"


# ---------------------------------------------------------------- the table
@dataclass
class Table:
    """What was read from a CSV file: the header, the feature matrix and the target.

    ``X`` has one column per feature; a text column's values are in ``text`` (by name)
    and its column of X holds NaN.
    """

    path: Path
    columns: list[str]
    features: list[str]
    X: NDArray[np.float64]  # (n_rows, len(features))
    lines: NDArray[np.int64]  # (n_rows,): the line each row starts on
    target: TargetColumn | None = None
    text: dict[str, TextColumn] = field(default_factory=dict)

    def where(self, i: int, column: str) -> str:
        """``"PATH: row LINE, column 'NAME'"`` for row ``i`` of the table."""
        return f"{self.path}: row {self.lines[i]}, column {column!r}"

    def frame(self) -> NDArray[np.float64] | Columns:
        """The features as read: X itself when every column holds numbers, else
        :class:`~cartoonbrain.data.csvcolumns.Columns` (numbers and texts, by name)."""
        if not self.text:
            return self.X
        return Columns(
            {
                name: self.text[name].values() if name in self.text else self.X[:, j]
                for j, name in enumerate(self.features)
            }
        )

    def target_task(self, task: str = "auto") -> TargetTask:
        """The task the target makes, and why: see :func:`target_task`."""
        target = self.target
        assert target is not None
        return target_task(target, task, lambda i: self.where(i, target.name))

    def target_kind(self) -> tuple[str, list[Any] | None, NDArray[Any]]:
        """``("classification", classes, ids)`` or ``("regression", None, y)`` for the target.

        Text labels, and integers with at most :data:`MAX_CLASSES` distinct values, are
        classes (sorted); other numbers are a continuous target of shape (n_rows, 1).
        """
        decided = self.target_task()
        return decided.task, decided.classes, decided.y


def _check_finite(table: Table, nan_ok: Collection[int] = ()) -> None:
    """Every feature value must be finite (NaN is allowed in the ``nan_ok`` columns: a
    missing value): the first other NaN or infinity is named."""
    X = table.X
    with np.errstate(over="ignore", invalid="ignore"):  # one sum first; exact check after
        total = np.add.reduce(X, axis=None)
    if not X.size or np.isfinite(total):
        return
    bad = ~np.isfinite(X)
    if nan_ok:
        cols = list(nan_ok)
        bad[:, cols] &= ~np.isnan(X[:, cols])
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DataFileError(
            f"{table.where(int(i), table.features[int(j)])}: {X[i, j]} is not a finite "
            "number; remove or impute missing values"
        )
