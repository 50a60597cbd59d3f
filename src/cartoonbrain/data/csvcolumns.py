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

#: integer targets with more distinct values than this are never taken as classes
MAX_CLASSES = 100
#: ``task="auto"``: an integer target with at most this many distinct values is classes ...
AUTO_CLASSES = 10
#: ... and one with more than this many a quantity; in between, the task must be given
AUTO_QUANTITY = 30
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
    #: per row, whether its cell is missing (None: no cell is)
    missing: NDArray[np.bool_] | None = None
    #: whether a number was written as a decimal (``4650.0``, ``1e3``): a measured quantity
    decimal: bool = False

    def take(self, rows: NDArray[np.int64]) -> TargetColumn:
        """The column at the given rows, in that order."""
        numbers = None if self.numbers is None else self.numbers[rows]
        codes = None if self.codes is None else self.codes[rows]
        missing = None if self.missing is None else self.missing[rows]
        return TargetColumn(self.name, numbers, self.texts, codes, missing, self.decimal)

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

    def __init__(self, name: str, allow_missing: bool = False) -> None:
        self.name = name
        self.numbers: array[float] | None = array("d")
        self.codes: array[int] | None = array("q")
        self.index: dict[str, int] | None = {}
        self.allow_missing = allow_missing  # a missing cell is recorded, not an error
        self.missing: list[int] = []  # the rows whose cell is missing
        self.decimal = False
        self.n_rows = 0

    def add(self, text: str, where: str, missing: bool = False) -> None:
        text = text.strip()
        row, self.n_rows = self.n_rows, self.n_rows + 1
        if self.allow_missing and (missing or not text):
            self.missing.append(row)
            if self.numbers is not None:
                self.numbers.append(np.nan)
            if self.codes is not None:
                self.codes.append(-1)
            return
        if not text:
            raise DataFileError(f"{where}: empty target cell; every row needs a target value")
        if self.numbers is not None:
            if not self.decimal and ("." in text or "e" in text or "E" in text):
                self.decimal = True
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
        missing = None
        if self.missing:
            missing = np.zeros(self.n_rows, dtype=bool)
            missing[self.missing] = True
        return TargetColumn(self.name, numbers, texts, codes, missing, self.decimal)


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
    decided ("auto"), with the reason in words. ``where(i)`` names row i.

    Decided: text labels are classes; numbers written as decimals (``4650.0``) or not all
    integers are a quantity (regression); integers with at most :data:`AUTO_CLASSES`
    distinct values are classes, with more than :data:`AUTO_QUANTITY` a quantity, and in
    between the task is ambiguous: an error asking for it. Rows whose target is missing
    must have been taken out first (:meth:`Table.without_missing_target`).
    """
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
    if task == "auto":
        task, reason = _auto_task(target, values)
    else:
        reason = "as asked"
    if task == "classification":
        ids = np.searchsorted(values, y).astype(np.int64)
        labels: list[Any] = [int(v) if v.is_integer() else v for v in values.tolist()]
        return TargetTask(task, labels, ids, reason)
    return TargetTask(task, None, y.reshape(-1, 1), reason)


def _auto_task(target: TargetColumn, values: NDArray[np.float64]) -> tuple[str, str]:
    """("classification" or "regression", why) for a target of numbers (``values``: its
    distinct ones); an ambiguous one is an error asking for the task."""
    name, k = target.name, len(values)
    if not np.all(values == np.round(values)):
        return "regression", f"target {name!r} holds numbers that are not all integers"
    if target.decimal:
        shown = f"{values[0]:.1f}"
        return "regression", f"target {name!r} is written as decimals ({shown}, ...): a quantity"
    if k <= AUTO_CLASSES:
        return "classification", f"target {name!r}: integers with {k} distinct values"
    if k > AUTO_QUANTITY:
        return "regression", f"target {name!r}: integers with {k} distinct values, many"
    raise DataFileError(
        f"the target column {name!r} holds integers with {k} distinct values: classes or a "
        "quantity? say which with --task classification or --task regression"
    )


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
    #: rows that could not be read as they are (read with ``on_error="collect"``): row
    #: index → what is wrong, in one line; their bad cells hold NaN (or "")
    errors: dict[int, str] = field(default_factory=dict)

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

    def without_missing_target(self) -> tuple[Table, int]:
        """The table without the rows whose target is missing, and how many those were."""
        target = self.target
        if target is None or target.missing is None or not target.missing.any():
            return self, 0
        keep = np.flatnonzero(~target.missing)
        table = Table(self.path, self.columns, self.features, self.X[keep], self.lines[keep])
        table.target = target.take(keep)
        table.target.missing = None
        table.text = {
            name: TextColumn(c.name, c.texts, c.codes[keep]) for name, c in self.text.items()
        }
        table.errors = {}
        return table, len(self.X) - len(keep)

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
