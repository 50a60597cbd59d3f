"""CSV files larger than memory, read a chunk of rows at a time.

:func:`csv_chunks` reads an open :class:`~cartoonbrain.data.csvdata.CsvFile` ``rows`` rows at a
time, each chunk a :class:`~cartoonbrain.data.csvdata.Table` whose errors name the file's own
line and column exactly as :meth:`CsvFile.read <cartoonbrain.data.csvdata.CsvFile.read>` does
(it runs the same checks, row by row). Memory holds one chunk: about
``rows × n_features × 8`` bytes, whatever the file's length, so ``cartoonbrain predict``
streams any CSV (``benchmarks/predict_memory.py`` measures it).

:func:`csv_to_npy` converts a CSV file once into an ``.npy`` file of features (in the
dtype asked for) that ``np.load(..., mmap_mode="r")`` maps without reading, so ``fit`` can
train from it (see :mod:`cartoonbrain.train.sources`).

:func:`csv_to_raw` converts it once into *raw rows* (:class:`RawRows`): every row's cells
as float64, text columns as codes into their distinct texts, read back a block at a time
by ``cartoonbrain train --cache`` to learn and apply the model's preprocessing.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

from .csvdata import (
    CsvFile,
    DataFileError,
    Table,
    TargetColumn,
    TextColumn,
    _NewText,
    _Target,
)

__all__ = [
    "CHUNK_BYTES",
    "DEFAULT_ROWS",
    "RawRows",
    "chunk_rows",
    "csv_chunks",
    "csv_to_npy",
    "csv_to_raw",
    "npy_header",
]

#: rows per chunk at most: 65,536 rows of 10 features are 5 MB of float64
DEFAULT_ROWS = 1 << 16
#: bytes a chunk may take as the float64 rows it becomes (the model's input, one-hot
#: encoded: 5 text columns of 256 categories make 65,536 rows 671 MB, 819 rows 8 MB)
CHUNK_BYTES = 1 << 23


def chunk_rows(width: int, budget: int | None = None) -> int:
    """Rows per chunk: as many rows of ``width`` float64 numbers as ``budget`` bytes
    (default :data:`CHUNK_BYTES`) hold, at most :data:`DEFAULT_ROWS`, at least 1. Give the
    widest the rows become: the raw columns, or the encoded (one-hot) features."""
    budget = CHUNK_BYTES if budget is None else budget
    return max(1, min(DEFAULT_ROWS, budget // (8 * max(1, width))))


def csv_chunks(
    f: CsvFile,
    features: Sequence[str],
    rows: int | None = None,
    target: _Target | None = None,
    target_at: int | None = None,
    *,
    text: Sequence[str] = (),
    empty: bool = False,
    empty_hint: str = "",
    detect: bool = False,
) -> Iterator[Table]:
    """The rows of ``f`` (after its header), ``rows`` at a time (default
    :data:`DEFAULT_ROWS`), as Tables of the ``features`` columns (float64, finite). Blank
    rows are skipped; a file with no data row is an error. With ``target`` (and its column
    ``target_at``), each row's target cell is added to it: the whole file's target, held
    in memory.

    As :meth:`CsvFile.read <cartoonbrain.data.csvdata.CsvFile.read>`: the ``text`` columns are
    kept as text (each chunk's :attr:`Table.text`, its X holding NaN there), ``empty``
    allows empty cells (NaN), an empty cell that is not allowed is an error ending with
    ``empty_hint``; with ``detect``, a number column that holds text raises
    ``csvdata._NewText`` naming it (read the file again with it as text)."""
    rows = DEFAULT_ROWS if rows is None else rows
    if rows <= 0:
        raise ValueError(f"rows must be a positive integer; got {rows!r}")
    if target is not None and target_at is not None and f.index(target.name) != target_at:
        raise ValueError(f"target_at {target_at} is not the column of {target.name!r}")
    cells = f._cells(features, set(text), empty, empty_hint, detect)
    yield from f._tables(features, cells, rows, target)


def csv_to_npy(
    path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    target: str,
    dtype: Any = np.float64,
    rows: int | None = None,
) -> tuple[list[str], TargetColumn]:
    """Write the feature columns of the CSV file ``path`` (every column but ``target``) to
    the ``.npy`` file ``out`` in ``dtype``, in one pass, a chunk at a time; return the
    feature names and the target column (in memory).

    ``out`` is written atomically (:func:`cartoonbrain.io.atomic_write`): the whole
    conversion or the file as it was. Its header is written first with room for any row
    count and rewritten at the end, so the rows need not be counted beforehand.
    """
    from ..io import atomic_write

    dtype = np.dtype(dtype)
    with CsvFile(path) as f:
        features = [c for c in f.columns if c != target]
        if not features:
            raise DataFileError(f"{f.path}: no feature columns besides the target {target!r}")
        column, target_at = _Target(target), f.index(target)

        def write(stream: BinaryIO) -> None:
            stream.write(npy_header(dtype, (0, len(features))))
            n_rows = 0
            for table in csv_chunks(f, features, rows, column, target_at):
                stream.write(_cast(table, dtype).tobytes())
                n_rows += len(table.X)
            stream.seek(0)
            stream.write(npy_header(dtype, (n_rows, len(features))))
            stream.seek(0, os.SEEK_END)

        atomic_write(out, write)
    return features, column.column()


#: bytes of the .npy header csv_to_npy writes (format 1.0; room for any shape)
_HEADER_BYTES = 128


def npy_header(dtype: np.dtype[Any], shape: tuple[int, int]) -> bytes:
    """A version 1.0 ``.npy`` header of ``_HEADER_BYTES`` bytes for a C-ordered array."""
    fields = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False}
    text = repr({**fields, "shape": shape})
    size = _HEADER_BYTES - 10  # after the magic string, the version and the length
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", size) + (text.ljust(size - 1) + "\n").encode()


def _cast(table: Table, dtype: np.dtype[Any]) -> Any:
    """The chunk in ``dtype``; a value too large for it is an error naming its place."""
    with np.errstate(over="ignore"):
        X = table.X.astype(dtype)
    if not np.isfinite(np.add.reduce(X, axis=None, dtype=np.float64)):
        i, j = np.argwhere(~np.isfinite(X))[0]
        raise DataFileError(
            f"{table.where(int(i), table.features[int(j)])}: {table.X[i, j]:g} is too large "
            f"for {dtype}; rescale this column or use float64"
        )
    return X


# ---------------------------------------------------------------- raw rows
@dataclass
class RawRows:
    """A CSV file's feature rows in a binary file of float64, row after row: per feature
    its number (NaN for an empty cell) or, in a text column, the code of its text among
    ``texts[name]`` (in the order first seen; "" for an empty cell), then the row's line
    in the CSV file. ``width`` = features + 1 numbers per row."""

    path: Path
    source: Path
    n_rows: int
    features: list[str]
    texts: dict[str, list[str]]
    #: (row, line) of the first target value that is not a finite number, if any
    bad_target: tuple[int, int] | None = None

    @property
    def width(self) -> int:
        return len(self.features) + 1

    def blocks(self, rows: int) -> Iterator[NDArray[np.float64]]:
        """The rows in file order, ``rows`` at a time, each block of shape (m, width)."""
        with open(self.path, "rb") as stream:
            while block := stream.read(rows * self.width * 8):
                yield np.frombuffer(block, dtype=np.float64).reshape(-1, self.width)

    def frame(self, block: NDArray[np.float64]) -> Any:
        """A block's features as a :class:`~cartoonbrain.data.preprocessing.Preprocessor` reads
        the same rows of a whole file: numbers, or Columns with the text columns' texts."""
        from .csvcolumns import Columns

        X = block[:, : len(self.features)]
        if not self.texts:
            return X
        return Columns(
            {
                name: _texts(self.texts[name], X[:, j]) if name in self.texts else X[:, j]
                for j, name in enumerate(self.features)
            }
        )

    def where(self, block: NDArray[np.float64], i: int, column: str) -> str:
        """``"PATH: row LINE, column 'NAME'"`` for row ``i`` of a block."""
        return f"{self.source}: row {int(block[i, -1])}, column {column!r}"


def _texts(texts: list[str], codes: NDArray[np.float64]) -> NDArray[np.object_]:
    table = np.empty(len(texts), dtype=object)
    table[:] = texts
    return table[codes.astype(np.intp)]


def csv_to_raw(
    path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    features: Sequence[str],
    target: str,
    *,
    empty: bool = False,
    empty_hint: str = "",
    max_texts: int | None = None,
    rows: int | None = None,
) -> tuple[RawRows, TargetColumn]:
    """Read the CSV file ``path`` once, a chunk of ``rows`` rows at a time, into the raw
    rows file ``out``; return its :class:`RawRows` and the target column (in memory, as
    the CSV reader keeps it). The text columns are found as
    :meth:`CsvFile.read(text=True) <cartoonbrain.data.csvdata.CsvFile.read>` does (a column
    that shows text after some rows: the file is read again from the top, as text).

    A text column with more than ``max_texts`` distinct texts is an error as soon as it
    has them. ``empty`` and
    ``empty_hint``: as for :func:`csv_chunks`.
    """
    with CsvFile(path) as f:
        text: set[str] = set()
        while True:
            try:
                return _raw_pass(
                    f, Path(out), features, target, text, empty, empty_hint, max_texts, rows
                )
            except _NewText as found:  # read again, with these columns as text
                text |= found.names
                f._rewind()


def _raw_pass(
    f: CsvFile,
    out: Path,
    features: Sequence[str],
    target: str,
    text: set[str],
    empty: bool,
    hint: str,
    max_texts: int | None,
    rows: int | None,
) -> tuple[RawRows, TargetColumn]:
    """One pass of :func:`csv_to_raw` with ``text`` as the text columns."""
    column, target_at = _Target(target), f.index(target)
    codes: dict[str, dict[str, int]] = {name: {} for name in features if name in text}
    chunks = csv_chunks(
        f,
        features,
        rows,
        column,
        target_at,
        text=sorted(text),
        empty=empty,
        empty_hint=hint,
        detect=True,
    )
    n_rows, bad = 0, None
    with open(out, "wb") as stream:
        for table in chunks:
            X = table.X.copy()
            for j, name in enumerate(features):
                if name in codes:
                    X[:, j] = _global_codes(codes[name], table.text[name], max_texts, f.path)
            np.column_stack([X, table.lines]).tofile(stream)
            if bad is None:
                bad = _first_bad_target(column, n_rows, table.lines)
            n_rows += len(X)
    texts = {name: list(found) for name, found in codes.items()}
    return RawRows(out, f.path, n_rows, list(features), texts, bad), column.column()


def _global_codes(
    codes: dict[str, int], column: TextColumn, max_texts: int | None, path: Path
) -> NDArray[np.float64]:
    """A chunk's text codes as codes into the whole file's texts (``codes``, grown)."""
    index = np.array([codes.setdefault(t, len(codes)) for t in column.texts], dtype=np.float64)
    if max_texts is not None and len(codes) > max_texts:
        first = TextColumn(column.name, list(codes), column.codes[:0]).first_text()
        raise DataFileError(
            f"{path}: column {column.name!r} holds text ({first!r}) with more than "
            f"{max_texts:,} distinct values, too many to one-hot encode; drop the column, or "
            "fix the cells if it holds numbers"
        )
    return index[column.codes]


def _first_bad_target(
    column: _Target, start: int, lines: NDArray[np.int64]
) -> tuple[int, int] | None:
    """(row, line) of the first target value of a chunk that is not a finite number."""
    if column.numbers is None:
        return None
    values = np.frombuffer(column.numbers[start:], dtype=np.float64)  # a copy: no export
    bad = np.flatnonzero(~np.isfinite(values))
    return (start + int(bad[0]), int(lines[bad[0]])) if bad.size else None
