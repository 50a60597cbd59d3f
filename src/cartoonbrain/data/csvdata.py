"""Reading users' CSV files, as a stream, with errors that name the row and column.

A CSV file here has a header row and one sample per row, its fields separated by ``,``
``;``, a tab or ``|`` (sniffed from the first lines unless ``sep`` is given; a UTF-8 BOM
is skipped). Feature columns hold finite numbers, and, when the reader is asked for them,
text (a *text column*, kept as codes into its distinct texts) or missing cells (NaN in a
number column, "" in a text column). A cell is missing when it is empty or one of the
markers real tools write (:data:`NA_VALUES`: R's ``NA``, a spreadsheet's ``N/A`` or
``null``, a UCI file's ``?``, ...), so a column's kind is decided by its other cells.
The target column may hold numbers or text. Every problem raises
:class:`DataFileError` with one line naming the file, the row (the file's line number
where the row starts) and the column where it can, and what was expected.

The file is read once, row by row: each feature value goes straight into one growing
buffer of float64 (which becomes the matrix X without a copy) and the target into a
buffer of numbers or of label codes, so reading takes about the size of X plus the
target's codes, a little over the file's own size for typical files
(``benchmarks/csv_memory.py`` measures it). Only when the reader is to find the text
columns itself (``text=True``) and one first shows text after some rows does it read the
file again from the top, with that column as text. Only regular files are read: a
folder, a FIFO or a device is refused before anything is read from it.
"""

from __future__ import annotations

import csv
import io
import os
from array import array
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .csvcells import CellReader, _Cells, _NewText
from .csvcolumns import (
    MAX_CLASSES,
    Columns,
    DataFileError,
    Table,
    TargetColumn,
    TextColumn,
    _check_finite,
    _Target,
    _Texts,
)
from .csvwrite import write_csv_atomic
from .readable import (
    _SNIFF_CHARS,
    NA_VALUES,
    SEPARATORS,
    _is_number,
    _separator,
    file_type,
    open_regular,
    sniff_separator,
)

__all__ = [
    "MAX_CLASSES",
    "NA_VALUES",
    "SEPARATORS",
    "Columns",
    "CsvFile",
    "DataFileError",
    "Table",
    "TargetColumn",
    "TextColumn",
    "file_type",
    "open_regular",
    "read_table",
    "sniff_separator",
    "write_csv_atomic",
]


def _first_bad_utf8(path: Path) -> tuple[int, int]:
    """(line, byte) of the first byte of ``path`` that is not UTF-8. The text reader
    decodes ahead of the rows, a block at a time, so it cannot say which line failed: the
    file is read again, a line at a time, to find it (UTF-8 never puts a CR or LF byte
    inside a character; a CR alone ends a line too, as the csv module counts lines)."""
    line = 1
    with open(path, "rb") as f:
        for raw in f:
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return line + raw.count(b"\r", 0, exc.start), raw[exc.start]
            line += 1 + raw.rstrip(b"\r\n").count(b"\r")
    return line, 0  # pragma: no cover - only called once decoding failed


class CsvFile(CellReader):
    """An open CSV file whose header has been read; :meth:`read` streams the rows.

    >>> with CsvFile("pets.csv") as f:            # doctest: +SKIP
    ...     table = f.read(features=["width", "height"], target="animal")

    ``sep``: the field separator (default: sniffed, see :func:`sniff_separator`);
    ``na_values``: the cells read as missing (default :data:`NA_VALUES`; compared after
    stripping; the empty cell always is).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        sep: str | None = None,
        na_values: Collection[str] | None = None,
    ) -> None:
        self.path = Path(path)
        self.na_values = frozenset(
            text.strip() for text in (NA_VALUES if na_values is None else {*na_values, ""})
        )
        self._numeric_na = any(_is_number(text) for text in self.na_values)
        given = _separator(sep)
        binary = open_regular(path, "CSV file")
        self._file = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
        try:
            self.sep = given or sniff_separator(self._sample())
            self._reader = self._csv_reader()
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

    def _sample(self) -> str:
        """The file's first characters, to sniff the separator from; then back to the top."""
        self._line = 0
        try:
            sample = self._file.read(_SNIFF_CHARS)
        except UnicodeDecodeError:
            sample = ""  # the reading proper names the byte
        self._file.seek(0)
        return sample

    def _csv_reader(self) -> Any:
        return csv.reader(self._lines(self._file), delimiter=self.sep, strict=True)

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
            number, byte = _first_bad_utf8(self.path)
            raise DataFileError(
                f"{self.path}: not UTF-8 text (byte {byte:#04x} on line {number}); expected a "
                "CSV text file"
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
        if len(header) > 1 and not header[0] and all(header[1:]):
            header[0] = "rownames"  # R's write.csv: the row names' column has no name
        if any(not name for name in header):
            raise DataFileError(f"{self.path}: the header row has an empty column name: {row!r}")
        # each name's column, found once: lookups by name stay linear in the columns
        self._positions = {name: j for j, name in reversed(list(enumerate(header)))}
        duplicates = sorted({n for n, count in Counter(header).items() if count > 1})
        if duplicates:
            raise DataFileError(
                f"{self.path}: the header names {', '.join(duplicates)} more than once"
            )
        return header

    def index(self, name: str) -> int:
        if name not in self._positions:
            shown = ", ".join(self.columns[:8]) + (", ..." if len(self.columns) > 8 else "")
            raise DataFileError(f"{self.path}: no column {name!r}; the columns are {shown}")
        return self._positions[name]

    def read(
        self,
        features: Sequence[str] | None = None,
        target: str | None = None,
        *,
        text: Collection[str] | bool = (),
        empty: Collection[str] | bool = (),
        empty_hint: str = "",
        detect: bool = False,
        target_missing: bool = False,
        on_error: str = "raise",
    ) -> Table:
        """Stream the rows: ``features`` (default: every column but ``target``) as float64
        numbers, ``target`` (if given) as a :class:`TargetColumn`. Blank lines are skipped;
        a row of empty cells is a row (every cell missing).

        ``text``: the feature columns to keep as text (a :class:`TextColumn` each), or
        True: every column with a cell that is not a number (``detect``: these and the
        others found so). ``empty``: the feature columns where a missing cell (empty, a
        marker of :attr:`na_values`, or NaN) is allowed, or True for all of them; any other
        is an error, ending with ``empty_hint``. ``target_missing``: a missing target cell
        is recorded (:attr:`TargetColumn.missing`), not an error. ``on_error="collect"``:
        a row that cannot be read is kept, what is wrong in :attr:`Table.errors`.
        """
        if features is None:
            features = [c for c in self.columns if c != target]
        if not features and target is not None:
            raise DataFileError(f"{self.path}: no feature columns besides the target {target!r}")
        names: set[str] = set() if isinstance(text, bool) else set(text)
        column = None if target is None else _Target(target, allow_missing=target_missing)
        while True:
            cells = self._cells(features, names, empty, empty_hint, detect=detect or text is True)
            # a row of empty cells is a row when its target may be missing (or there is none)
            cells.collect, cells.blank_rows = _collect(on_error), target is None or target_missing
            try:
                if column is None:
                    return next(self._tables(features, cells))
                column = _Target(column.name, allow_missing=target_missing)
                table = next(self._tables(features, cells, target=column))
                table.target = column.column()
                return table
            except _NewText as found:  # read again, with these columns as text
                names |= found.names
                self._rewind()

    def chunks(
        self,
        features: Sequence[str],
        rows: int,
        *,
        text: Collection[str] = (),
        empty: Collection[str] | bool = (),
        empty_hint: str = "",
        on_error: str = "raise",
    ) -> Iterator[Table]:
        """The rows after the header, ``rows`` at a time, as :meth:`read` reads them (no
        target): memory holds one chunk, whatever the file's length."""
        if rows <= 0:
            raise ValueError(f"rows must be a positive integer; got {rows!r}")
        cells = self._cells(features, set(text), empty, empty_hint)
        cells.collect, cells.blank_rows = _collect(on_error), True
        yield from self._tables(features, cells, rows)

    def _cells(
        self,
        features: Sequence[str],
        text: set[str],
        empty: Collection[str] | bool,
        hint: str,
        detect: bool = False,
    ) -> _Cells:
        known, allowed = set(features), set() if isinstance(empty, bool) else set(empty)
        for name in [*text, *allowed]:
            if name not in known:
                raise ValueError(f"{name!r} is not one of the features {list(features)}")
        ok = [empty is True or name in allowed for name in features]
        at = {k for k, name in enumerate(features) if name in text}
        return _Cells(at, ok, detect, hint)

    def _rewind(self) -> None:
        """Back to the first data row, to read the file again."""
        self._file.seek(0)
        self._reader = self._csv_reader()
        self._line = 0
        self._header()

    def _tables(
        self,
        features: Sequence[str],
        cells: _Cells,
        rows: int | None = None,
        target: str | _Target | None = None,
    ) -> Iterator[Table]:
        """Tables of ``rows`` rows each (None: all in one), the numbers of a row read in one
        step when it holds only numbers. ``target``: the target column's name (each Table
        gets the target read so far), or a ``_Target`` the caller keeps, which the rows'
        target cells are added to (the Tables then carry none)."""
        at = [self.index(name) for name in features]
        kept = isinstance(target, _Target)
        column = target if isinstance(target, _Target) else None
        if isinstance(target, str):
            column = _Target(target)
        target_at = None if column is None else self.index(column.name)
        flat, lines, seen = array("d"), array("q"), False
        texts = {k: _Texts(features[k]) for k in cells.text}
        errors: dict[int, str] = {}
        careful = bool(texts) or self._numeric_na
        for start, row in self._rows():
            if not any(field.strip() for field in row):
                if len(row) != len(self.columns) or not cells.blank_rows:
                    continue
            if len(row) != len(self.columns):
                if not cells.collect:
                    raise self._ragged(start, row)
                errors[len(lines)] = str(self._ragged(start, row))
                row = (row + [""] * len(self.columns))[: len(self.columns)]  # kept, for its IDs
            try:
                if careful:
                    raise ValueError("text or numeric missing markers: cell by cell")
                values = [float(row[j]) for j in at]
            except ValueError:
                values = self._row(start, row, at, cells, texts, errors, len(lines))
            if column is not None and target_at is not None:
                cell = row[target_at]
                where = f"{self.path}: row {start}, column {column.name!r}"
                column.add(cell, where, self.missing(cell))
            flat.extend(values)
            lines.append(start)
            if rows is not None and len(lines) == rows:
                table = self._table(features, flat, lines, None if kept else column, texts, cells)
                table.errors.update(errors)
                yield table
                flat, lines, seen, errors = array("d"), array("q"), True, {}
                texts = {k: _Texts(features[k]) for k in cells.text}
        if lines:
            table = self._table(features, flat, lines, None if kept else column, texts, cells)
            table.errors.update(errors)
            yield table
        elif not seen:
            raise DataFileError(f"{self.path}: the file has a header but no data rows")

    def _table(
        self,
        features: Sequence[str],
        flat: array[float],
        lines: array[int],
        column: _Target | None,
        texts: dict[int, _Texts],
        cells: _Cells,
    ) -> Table:
        X = np.frombuffer(flat, dtype=np.float64).reshape(len(lines), len(features))
        table = Table(self.path, self.columns, list(features), X, np.frombuffer(lines, np.int64))
        table.target = None if column is None else column.column()
        table.text = {features[k]: t.column() for k, t in texts.items()}
        nan_ok = [k for k, ok in enumerate(cells.empty) if ok or k in texts]
        if cells.collect:
            _collect_infinite(table)
        else:
            _check_finite(table, nan_ok)
        return table


def _collect_infinite(table: Table) -> None:
    """An infinite value becomes NaN, and an error of its row (``on_error="collect"``)."""
    X = table.X
    if not X.size or not np.isinf(X).any():
        return
    for i, j in np.argwhere(np.isinf(X)):
        table.errors.setdefault(
            int(i), f"{table.where(int(i), table.features[int(j)])}: {X[i, j]} is not finite"
        )
    if not X.flags.writeable:
        X = table.X = X.copy()
    X[np.isinf(X)] = np.nan


def _collect(on_error: str) -> bool:
    if on_error not in ("raise", "collect"):
        raise ValueError(f"on_error must be 'raise' or 'collect'; got {on_error!r}")
    return on_error == "collect"


def read_table(
    path: str | os.PathLike[str],
    features: Sequence[str] | None = None,
    target: str | None = None,
    **cells: Any,
) -> Table:
    """Read a CSV file in one pass: see :meth:`CsvFile.read` (``cells``: its ``text``,
    ``empty`` and ``empty_hint``)."""
    with CsvFile(path) as f:
        return f.read(features, target, **cells)
