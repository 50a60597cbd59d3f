"""Reading users' CSV files, as a stream, with errors that name the row and column.

A CSV file here has a header row and one sample per row. Feature columns must hold finite
numbers; the target column may hold numbers or text, and no empty cell. Every problem
raises :class:`DataFileError` with one line naming the file, the row (the file's line
number where the row starts) and the column where it can, and what was expected.

The file is read once, row by row: each feature value goes straight into one growing
buffer of float64 (which becomes the matrix X without a copy) and the target into a
buffer of numbers or of label codes, so reading takes about the size of X plus the
target's codes, a little over the file's own size for typical files
(``benchmarks/csv_memory.py`` measures it). Only regular files are read: a folder, a FIFO
or a device is refused before anything is read from it.
"""

from __future__ import annotations

import csv
import io
import os
import stat
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "MAX_CLASSES",
    "CsvFile",
    "DataFileError",
    "Table",
    "TargetColumn",
    "open_regular",
    "read_table",
    "write_csv_atomic",
]

#: integer targets with more distinct values than this are taken as continuous
MAX_CLASSES = 100
#: a numeric target keeps its distinct texts up to this many, in case text follows
_TEXTS_KEPT = 1000
#: bytes read from the file at a time
_CHUNK = 1 << 20


class DataFileError(ValueError):
    """A data file that cannot be used as it is; the message says where and why."""


def _shown(text: str) -> str:
    """A field for an error message: its repr, cut after 40 characters."""
    return repr(text) if len(text) <= 40 else repr(text[:40]) + "..."


def file_type(mode: int) -> str:
    """What a non-regular file is, in words: "a folder", "a FIFO (named pipe)", …"""
    kinds = [
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]
    return next((text for test, text in kinds if test(mode)), "not a regular file")


def open_regular(path: str | os.PathLike[str], what: str = "file") -> BinaryIO:
    """Open a regular file for reading; a folder, FIFO or device is refused at once.

    The file is opened with O_NONBLOCK and checked with fstat before anything is read,
    so a FIFO with no writer never blocks and ``/dev/zero`` is never read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise DataFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataFileError(f"{path}: is a folder, not a {what}") from None
    except OSError as exc:
        raise DataFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise DataFileError(f"{path}: is {file_type(mode)}, not a {what}")
    return open(fd, "rb", buffering=_CHUNK)  # the caller closes it


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


@dataclass
class Table:
    """What was read from a CSV file: the header, the feature matrix and the target."""

    path: Path
    columns: list[str]
    features: list[str]
    X: NDArray[np.float64]  # (n_rows, len(features))
    lines: NDArray[np.int64]  # (n_rows,): the line each row starts on
    target: TargetColumn | None = None

    def where(self, i: int, column: str) -> str:
        """``"PATH: row LINE, column 'NAME'"`` for row ``i`` of the table."""
        return f"{self.path}: row {self.lines[i]}, column {column!r}"

    def target_kind(self) -> tuple[str, list[Any] | None, NDArray[Any]]:
        """``("classification", classes, ids)`` or ``("regression", None, y)`` for the target.

        Text labels, and integers with at most :data:`MAX_CLASSES` distinct values, are
        classes (sorted); other numbers are a continuous target of shape (n_rows, 1).
        """
        target = self.target
        assert target is not None
        if target.numbers is None:
            assert target.texts is not None and target.codes is not None
            order = sorted(range(len(target.texts)), key=target.texts.__getitem__)
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = np.arange(len(order))  # each text's place among the sorted texts
            return "classification", [target.texts[k] for k in order], rank[target.codes]
        y = target.numbers
        if not np.isfinite(y).all():
            i = int(np.flatnonzero(~np.isfinite(y))[0])
            raise DataFileError(
                f"{self.where(i, target.name)}: {y[i]} is not a finite number; remove or "
                "impute missing values"
            )
        values = np.unique(y)
        if len(values) <= MAX_CLASSES and bool(np.all(values == np.round(values))):
            ids = np.searchsorted(values, y).astype(np.int64)
            return "classification", [int(v) for v in values.tolist()], ids
        return "regression", None, y.reshape(-1, 1)


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


class CsvFile:
    """An open CSV file whose header has been read; :meth:`read` streams the rows.

    >>> with CsvFile("pets.csv") as f:            # doctest: +SKIP
    ...     table = f.read(features=["width", "height"], target="animal")
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        binary = open_regular(path, "CSV file")
        self._file = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
        try:
            self._reader = csv.reader(self._lines(self._file), strict=True)
            self._line = 0  # the last line of the last row read
            self.columns = self._header()
        except BaseException:
            self._file.close()
            raise

    def __enter__(self) -> CsvFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()

    def _lines(self, text: io.TextIOWrapper) -> Iterator[str]:
        try:
            for line in text:
                if "\x00" in line:
                    raise DataFileError(
                        f"{self.path}: not a CSV text file (it contains binary data)"
                    )
                yield line
        except UnicodeDecodeError as exc:
            if b"\x00" in exc.object:
                raise DataFileError(
                    f"{self.path}: not a CSV text file (it contains binary data)"
                ) from None
            raise DataFileError(
                f"{self.path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} near line "
                f"{self._line + 1}); expected a CSV text file"
            ) from None

    def _rows(self) -> Iterator[tuple[int, list[str]]]:
        """(first line, fields) of each row; csv errors name the line the row starts on."""
        reader = self._reader
        while True:
            start = self._line + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise DataFileError(
                    f"{self.path}: row {start}: malformed CSV ({exc}); is a quote opened in this "
                    "row left unclosed?"
                ) from None
            self._line = reader.line_num
            yield start, row

    def _header(self) -> list[str]:
        saw_text = False
        for _, row in self._rows():
            if any(field.strip() for field in row):
                header = [name.strip() for name in row]
                break
            saw_text = saw_text or len(row) > 1 or any(row)
        else:
            what = "holds no values" if saw_text else "is empty"
            raise DataFileError(
                f"{self.path}: the file {what}; expected a header row and data rows"
            )
        if any(not name for name in header):
            raise DataFileError(f"{self.path}: the header row has an empty column name: {row!r}")
        duplicates = sorted({name for name in header if header.count(name) > 1})
        if duplicates:
            raise DataFileError(
                f"{self.path}: the header names {', '.join(duplicates)} more than once"
            )
        return header

    def index(self, name: str) -> int:
        if name not in self.columns:
            raise DataFileError(
                f"{self.path}: no column {name!r}; the columns are {', '.join(self.columns)}"
            )
        return self.columns.index(name)

    def read(self, features: Sequence[str] | None = None, target: str | None = None) -> Table:
        """Stream the rows: ``features`` (default: every column but ``target``) as float64
        numbers, ``target`` (if given) as a :class:`TargetColumn`. Blank rows are skipped."""
        target_at = None if target is None else self.index(target)
        if features is None:
            features = [c for c in self.columns if c != target]
        if not features and target is not None:
            raise DataFileError(f"{self.path}: no feature columns besides the target {target!r}")
        at = [self.index(name) for name in features]
        flat, lines = array("d"), array("q")
        column = None if target is None else _Target(target)
        for start, row in self._rows():
            if len(row) != len(self.columns):
                if not any(field.strip() for field in row):
                    continue
                raise self._ragged(start, row)
            try:
                values = [float(row[j]) for j in at]
            except ValueError:
                if not any(field.strip() for field in row):
                    continue
                raise self._not_a_number(start, row, at) from None
            if column is not None and target_at is not None:
                column.add(row[target_at], f"{self.path}: row {start}, column {target!r}")
            flat.extend(values)
            lines.append(start)
        if not lines:
            raise DataFileError(f"{self.path}: the file has a header but no data rows")
        X = np.frombuffer(flat, dtype=np.float64).reshape(len(lines), len(at))
        table = Table(self.path, self.columns, list(features), X, np.frombuffer(lines, np.int64))
        table.target = None if column is None else column.column()
        _check_finite(table)
        return table

    def _open_quote(self, start: int) -> str:
        """A hint when a row spans lines: a quote left open swallows the rows after it."""
        if self._line <= start:
            return ""
        return f" (the row runs from line {start} to {self._line}: is a quote left open?)"

    def _ragged(self, start: int, row: list[str]) -> DataFileError:
        return DataFileError(
            f"{self.path}: row {start} has {len(row)} fields; the header has "
            f"{len(self.columns)}{self._open_quote(start)}"
        )

    def _not_a_number(self, start: int, row: list[str], at: list[int]) -> DataFileError:
        for j in at:
            text = row[j]
            where = f"{self.path}: row {start}, column {self.columns[j]!r}"
            if not text.strip():
                return DataFileError(f"{where}: empty field; expected a number")
            try:
                float(text)
            except ValueError:
                hint = self._open_quote(start)
                return DataFileError(f"{where}: {_shown(text)} is not a number{hint}")
        raise AssertionError("no field failed to parse")  # pragma: no cover


def _check_finite(table: Table) -> None:
    """Every feature value must be finite: the first NaN or infinity is named."""
    X = table.X
    with np.errstate(over="ignore", invalid="ignore"):  # one sum first; exact check after
        total = np.add.reduce(X, axis=None)
    if X.size and not np.isfinite(total):
        finite = np.isfinite(X)
        if not finite.all():
            i, j = np.argwhere(~finite)[0]
            raise DataFileError(
                f"{table.where(int(i), table.features[int(j)])}: {X[i, j]} is not a finite "
                "number; remove or impute missing values"
            )


def read_table(
    path: str | os.PathLike[str],
    features: Sequence[str] | None = None,
    target: str | None = None,
) -> Table:
    """Read a CSV file in one pass: see :meth:`CsvFile.read`."""
    with CsvFile(path) as f:
        return f.read(features, target)


def write_csv_atomic(
    path: str | os.PathLike[str], header: list[str], rows: list[list[Any]]
) -> None:
    """Write a CSV file so that an existing file is only ever replaced by a complete one."""
    from .io import atomic_write

    def write(f: Any) -> None:
        text = io.TextIOWrapper(f, encoding="utf-8", newline="")
        writer = csv.writer(text)
        writer.writerow(header)
        writer.writerows(rows)
        text.flush()
        text.detach()

    atomic_write(path, write)
