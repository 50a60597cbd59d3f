"""CSV files larger than memory, read a chunk of rows at a time.

:func:`csv_chunks` reads an open :class:`~cartoonbrain.csvdata.CsvFile` ``rows`` rows at a
time, each chunk a :class:`~cartoonbrain.csvdata.Table` whose errors name the file's own
line and column exactly as :meth:`CsvFile.read <cartoonbrain.csvdata.CsvFile.read>` does
(it runs the same checks, row by row). Memory holds one chunk: about
``rows × n_features × 8`` bytes, whatever the file's length, so ``cartoonbrain predict``
streams any CSV (``benchmarks/predict_memory.py`` measures it).

:func:`csv_to_npy` converts a CSV file once into an ``.npy`` file of features (in the
dtype asked for) that ``np.load(..., mmap_mode="r")`` maps without reading, so ``fit`` can
train from it (see :mod:`cartoonbrain.train.sources`).
"""

from __future__ import annotations

import os
import struct
from array import array
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO

import numpy as np

from .csvdata import CsvFile, DataFileError, Table, TargetColumn, _check_finite, _Target

__all__ = ["DEFAULT_ROWS", "csv_chunks", "csv_to_npy"]

#: rows per chunk: 65,536 rows of 10 features are 5 MB of float64
DEFAULT_ROWS = 1 << 16


def csv_chunks(
    f: CsvFile,
    features: Sequence[str],
    rows: int | None = None,
    target: _Target | None = None,
    target_at: int | None = None,
) -> Iterator[Table]:
    """The rows of ``f`` (after its header), ``rows`` at a time (default
    :data:`DEFAULT_ROWS`), as Tables of the ``features`` columns (float64, finite). Blank
    rows are skipped; a file with no data row is an error. With ``target`` (and its column
    ``target_at``), each row's target cell is added to it: the whole file's target, held
    in memory."""
    rows = DEFAULT_ROWS if rows is None else rows
    if rows <= 0:
        raise ValueError(f"rows must be a positive integer; got {rows!r}")
    at = [f.index(name) for name in features]
    flat, lines = array("d"), array("q")
    seen = False
    for start, row in f._rows():
        if len(row) != len(f.columns):
            if not any(field.strip() for field in row):
                continue
            raise f._ragged(start, row)
        try:
            flat.extend([float(row[j]) for j in at])
        except ValueError:
            if not any(field.strip() for field in row):
                continue
            raise f._not_a_number(start, row, at) from None
        if target is not None and target_at is not None:
            target.add(row[target_at], f"{f.path}: row {start}, column {target.name!r}")
        lines.append(start)
        if len(lines) == rows:
            yield _table(f, features, flat, lines)
            flat, lines, seen = array("d"), array("q"), True
    if lines:
        yield _table(f, features, flat, lines)
    elif not seen:
        raise DataFileError(f"{f.path}: the file has a header but no data rows")


def _table(f: CsvFile, features: Sequence[str], flat: array[float], lines: array[int]) -> Table:
    X = np.frombuffer(flat, dtype=np.float64).reshape(len(lines), len(features))
    table = Table(f.path, f.columns, list(features), X, np.frombuffer(lines, np.int64))
    _check_finite(table)
    return table


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
    from .io import atomic_write

    dtype = np.dtype(dtype)
    with CsvFile(path) as f:
        features = [c for c in f.columns if c != target]
        if not features:
            raise DataFileError(f"{f.path}: no feature columns besides the target {target!r}")
        column, target_at = _Target(target), f.index(target)

        def write(stream: BinaryIO) -> None:
            stream.write(_npy_header(dtype, (0, len(features))))
            n_rows = 0
            for table in csv_chunks(f, features, rows, column, target_at):
                stream.write(_cast(table, dtype).tobytes())
                n_rows += len(table.X)
            stream.seek(0)
            stream.write(_npy_header(dtype, (n_rows, len(features))))
            stream.seek(0, os.SEEK_END)

        atomic_write(out, write)
    return features, column.column()


#: bytes of the .npy header csv_to_npy writes (format 1.0; room for any shape)
_HEADER_BYTES = 128


def _npy_header(dtype: np.dtype[Any], shape: tuple[int, int]) -> bytes:
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
