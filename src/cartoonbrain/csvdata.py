"""Reading users' CSV files for the command line, with errors that name the row and column.

A CSV file here has a header row and one sample per row. Feature columns must hold finite
numbers; the target column may hold numbers or text. Every problem raises
:class:`DataFileError` with one line naming the file, the row (as the file's line number)
and the column where it can, and what was expected.
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["DataFileError", "Table", "read_table", "target_kind", "write_csv_atomic"]

#: integer targets with more distinct values than this are taken as continuous
MAX_CLASSES = 100


class DataFileError(ValueError):
    """A data file that cannot be used as it is; the message says where and why."""


@dataclass
class Table:
    """The text of a CSV file: its column names, rows of fields and their line numbers."""

    path: Path
    columns: list[str]
    rows: list[list[str]]
    lines: list[int]

    def column(self, name: str) -> list[str]:
        return [row[self.index(name)] for row in self.rows]

    def index(self, name: str) -> int:
        if name not in self.columns:
            raise DataFileError(
                f"{self.path}: no column {name!r}; the columns are {', '.join(self.columns)}"
            )
        return self.columns.index(name)

    def numbers(self, names: list[str]) -> NDArray[np.float64]:
        """The named columns as a float64 matrix; every field must be a finite number."""
        X = np.empty((len(self.rows), len(names)))
        for j, name in enumerate(names):
            k = self.index(name)
            for i, row in enumerate(self.rows):
                X[i, j] = self._number(row[k], i, name)
        return X

    def _number(self, text: str, i: int, name: str) -> float:
        where = f"{self.path}: row {self.lines[i]}, column {name!r}"
        if not text.strip():
            raise DataFileError(f"{where}: empty field; expected a number")
        try:
            value = float(text)
        except ValueError:
            raise DataFileError(f"{where}: {text!r} is not a number") from None
        if not math.isfinite(value):
            raise DataFileError(
                f"{where}: {text.strip()} is not a finite number; remove or impute missing values"
            )
        return value


def read_table(path: str | os.PathLike[str]) -> Table:
    """Read and check the shape of a CSV file: a header, then rows of the same length."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataFileError(f"{path}: is a folder, not a CSV file") from None
    except OSError as exc:
        raise DataFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not data.strip():
        raise DataFileError(f"{path}: the file is empty; expected a header row and data rows")
    if b"\x00" in data:
        raise DataFileError(f"{path}: not a CSV text file (it contains binary data)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFileError(
            f"{path}: not UTF-8 text (byte {exc.start} is {data[exc.start]:#04x}); "
            "expected a CSV text file"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for row in reader:
            if any(field.strip() for field in row):
                rows.append(row)
                lines.append(reader.line_num)
    except csv.Error as exc:
        raise DataFileError(f"{path}: row {reader.line_num}: malformed CSV ({exc})") from None
    if not rows:
        raise DataFileError(
            f"{path}: the file holds no values; expected a header row and data rows"
        )
    header = [name.strip() for name in rows[0]]
    if any(not name for name in header):
        raise DataFileError(f"{path}: the header row has an empty column name: {rows[0]!r}")
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise DataFileError(f"{path}: the header names {', '.join(duplicates)} more than once")
    body, body_lines = rows[1:], lines[1:]
    if not body:
        raise DataFileError(f"{path}: the file has a header but no data rows")
    for row, line in zip(body, body_lines):
        if len(row) != len(header):
            raise DataFileError(
                f"{path}: row {line} has {len(row)} fields; the header has {len(header)}"
            )
    return Table(path, header, body, body_lines)


def target_kind(values: list[str]) -> tuple[str, list[Any]]:
    """``("classification", labels)`` or ``("regression", numbers)`` for a target column.

    Text labels, and integers with at most :data:`MAX_CLASSES` distinct values, are
    classes; other numbers are a continuous target.
    """
    numbers: list[float] = []
    for text in values:
        try:
            numbers.append(float(text))
        except ValueError:
            return "classification", [text.strip() for text in values]
    if all(math.isfinite(x) and x == int(x) for x in numbers):
        if len(set(numbers)) <= MAX_CLASSES:
            return "classification", [int(x) for x in numbers]
    return "regression", numbers


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
