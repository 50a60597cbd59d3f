"""Converting a CSV file into ``train --cache``'s files (:mod:`._cache` decides when), in
memory that does not grow with the file beyond a few numbers per row::

    FILE.csv ─ read once, a chunk at a time ─▶ raw rows: float64, text as codes, line
             ─ the seeded test split of train ─▶ every row's position: test rows, then
                                                  training rows, in the in-memory order
             ─ bucket sort by position ─▶ blocks of rows in that order, read three times:
                 1. counts, largest magnitudes (any order)      ┐ PreprocessorStats:
                 2. Σ x/u           (training order)            │ the Preprocessor that
                 3. Σ (x/u − μ/u)²  (training order)            ┘ fit learns in memory
                 4. transformed, cast ─▶ test-X.npy, train-X.npy (the network's dtype)
             targets (class ids or numbers, in memory) ─▶ test-y.npy, train-y.npy

The rows land in the order ``train`` gives them in memory (the permutation of
:func:`._data.split_rows`), so ``fit`` sees the same rows in the same order, validates on
the same last rows and shuffles them the same way. Per row the memory holds the target
(as the CSV reader keeps it, and as class ids or numbers), its position and, during the
split, its index: about 40 bytes. Everything else is a block of rows at a time.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..data import stream
from ..data.bucketsort import BucketSort
from ..data.csvcolumns import TargetColumn, target_task
from ..data.csvdata import CsvFile, DataFileError
from ..data.streamstats import PreprocessorStats
from ._data import IMPUTE_HINT, MAX_CATEGORIES, _features, split_rows

__all__ = ["CHUNK_BYTES", "MAX_BUCKETS", "convert"]

#: bytes of raw rows read, sorted or transformed at once (a chunk, a block)
CHUNK_BYTES = 1 << 23
#: at most this many bucket files at once: a block holds n / MAX_BUCKETS rows or more
MAX_BUCKETS = 256


def convert(path: str, folder: Path, options: dict[str, Any]) -> dict[str, Any]:
    """Write the cache files of the CSV file ``path`` into ``folder`` (empty); return what
    the manifest records about them. ``options``: target, drop, impute, task, seed,
    test_split, dtype (as in the cache's key)."""
    raw, decided = _read(path, folder, options)
    positions, n_test = _positions(raw.n_rows, options["test_split"], options["seed"])
    _save_targets(folder, decided.y, positions, n_test)
    manifest = {"task": decided.task, "reason": decided.reason, "classes": decided.classes}
    del decided
    impute = options["impute"]
    block = max(_chunk_rows(raw.width), math.ceil(raw.n_rows / MAX_BUCKETS))
    with BucketSort(folder, raw.n_rows, raw.width, block) as rows_in_order:
        stats = _sort_and_count(raw, positions, n_test, rows_in_order, impute)
        raw.path.unlink()
        del positions
        pre = _learn(stats, rows_in_order, n_test, len(raw.features))
        shapes = _write(raw, pre, rows_in_order, n_test, np.dtype(options["dtype"]), folder)
    return {
        **manifest,
        "features": raw.features,
        "text_columns": list(raw.texts),
        "rows": shapes,
        "inputs": pre.n_features_out,
        "preprocessor": pre.get_config(),
    }


def _read(path: str, folder: Path, options: dict[str, Any]) -> tuple[stream.RawRows, Any]:
    """The CSV file as raw rows in ``folder``, and the task its target makes."""
    with CsvFile(path) as f:
        features = _features(f.columns, options["target"], options["drop"], path)
    impute = options["impute"]
    raw, column = stream.csv_to_raw(
        path,
        folder / "raw.bin",
        features,
        options["target"],
        empty=impute is not None,
        empty_hint=IMPUTE_HINT if impute is None else "",
        max_texts=MAX_CATEGORIES,
        rows=_chunk_rows(len(features) + 1),
    )
    return raw, _target(raw, column, options["task"], path)


def _save_targets(folder: Path, y: NDArray[Any], positions: NDArray[np.int64], n_test: int) -> None:
    """test-y.npy and train-y.npy: each row's target at its position."""
    for name, rows in (("test", positions < n_test), ("train", positions >= n_test)):
        part = np.empty((int(rows.sum()), *y.shape[1:]), dtype=y.dtype)
        part[positions[rows] - (0 if name == "test" else n_test)] = y[rows]
        np.save(folder / f"{name}-y.npy", part)


def _chunk_rows(width: int) -> int:
    """Rows of ``width`` float64 numbers in :data:`CHUNK_BYTES` (at least 64)."""
    return max(64, CHUNK_BYTES // (8 * max(1, width)))


def _target(raw: stream.RawRows, column: TargetColumn, task: str, path: str) -> Any:
    """The task the target makes, as ``read_training_csv`` decides it (same checks)."""
    target = column.name

    def where(i: int) -> str:
        assert raw.bad_target is not None and raw.bad_target[0] == i
        return f"{path}: row {raw.bad_target[1]}, column {target!r}"

    decided = target_task(column, task, where)
    if decided.classes is not None and len(decided.classes) < 2:
        raise DataFileError(
            f"{path}: the target column {target!r} has only one class ({decided.classes[0]!r}); "
            "a classifier needs at least two"
        )
    return decided


def _positions(n: int, test_split: float, seed: int) -> tuple[NDArray[np.int64], int]:
    """Each row's place: the test rows first (0 … n_test−1), then the training rows, both
    in the order ``split_rows`` gives them (the file's order without a test split)."""
    if test_split == 0:
        return np.arange(n, dtype=np.int64), 0
    train, test = split_rows(n, test_split, seed)
    positions = np.empty(n, dtype=np.int64)
    positions[test] = np.arange(len(test))
    positions[train] = np.arange(len(test), n)
    return positions, len(test)


def _sort_and_count(
    raw: stream.RawRows,
    positions: NDArray[np.int64],
    n_test: int,
    buckets: BucketSort,
    impute: str | None,
) -> PreprocessorStats:
    """The raw rows into their buckets; pass 1 of the statistics on the training rows."""
    stats = PreprocessorStats(raw.features, raw.texts, impute)
    start = 0
    for rows in raw.blocks(_chunk_rows(raw.width)):
        at = positions[start : start + len(rows)]
        buckets.add(rows, at)
        stats.count(rows[at >= n_test, : len(raw.features)])
        start += len(rows)
    return stats


def _training_blocks(buckets: BucketSort, n_test: int, width: int) -> Any:
    """The features of the training rows, in training order, a block at a time."""
    for start, block in buckets.blocks():
        if start + len(block) > n_test:
            yield block[max(0, n_test - start) :, :width]


def _learn(stats: PreprocessorStats, buckets: BucketSort, n_test: int, width: int) -> Any:
    """Passes 2 and 3 of the statistics, in training order; the fitted Preprocessor."""
    for X in _training_blocks(buckets, n_test, width):
        stats.add(X)
    for X in _training_blocks(buckets, n_test, width):
        stats.spread(X)
    return stats.preprocessor()


def _write(
    raw: stream.RawRows,
    pre: Any,
    buckets: BucketSort,
    n_test: int,
    dtype: np.dtype[Any],
    folder: Path,
) -> dict[str, int]:
    """test-X.npy and train-X.npy: every row transformed by ``pre`` and cast to ``dtype``,
    written from start to end, in pieces of :data:`CHUNK_BYTES` as encoded (one-hot
    encoding makes a row of 5 text columns 1,280 numbers wide: a block of raw rows is
    transformed a piece at a time)."""
    sizes = {"test": n_test, "train": raw.n_rows - n_test}
    files = {name: open(folder / f"{name}-X.npy", "wb") for name in sizes}
    try:
        for name, f in files.items():
            f.write(stream.npy_header(dtype, (sizes[name], pre.n_features_out)))
        step = _chunk_rows(pre.n_features_out)  # rows, encoded, in CHUNK_BYTES
        for start, block in buckets.blocks():
            for at in range(0, len(block), step):
                X = _prepared(raw, pre, block[at : at + step], dtype)
                cut = min(max(n_test - start - at, 0), len(X))
                X[:cut].tofile(files["test"])  # no copy of the rows in bytes
                X[cut:].tofile(files["train"])
    finally:
        for f in files.values():
            f.close()
    return sizes


def _prepared(
    raw: stream.RawRows, pre: Any, block: NDArray[np.float64], dtype: np.dtype[Any]
) -> NDArray[Any]:
    """A block's rows as the network's inputs: the Preprocessor's features in ``dtype``;
    a category the training rows lack, or a value too large for ``dtype``, names its row."""
    for spec in pre.columns_:
        if spec["kind"] == "text":
            j = raw.features.index(spec["name"])
            known = np.array([t in spec["categories"] or t == "" for t in raw.texts[spec["name"]]])
            unknown = np.flatnonzero(~known[block[:, j].astype(np.intp)])
            if unknown.size:
                text = raw.texts[spec["name"]][int(block[unknown[0], j])]
                raise DataFileError(
                    f"{raw.where(block, int(unknown[0]), spec['name'])}: {text!r} is in the test "
                    f"rows only, not among the training rows' ({', '.join(spec['categories'])}); "
                    "another --seed or --test-split moves it, or --drop the column"
                )
    Z = pre.transform(raw.frame(block))
    with np.errstate(over="ignore"):
        X = Z.astype(dtype)
    if not np.isfinite(np.add.reduce(X, axis=None, dtype=np.float64)):
        i, k = np.argwhere(~np.isfinite(X))[0]
        names = [c["name"] for c in pre.columns_ for _ in range(len(c.get("categories") or [0]))]
        raise DataFileError(
            f"{raw.where(block, int(i), names[k])}: standardised to {Z[i, k]:g}, too large for "
            f"{dtype}; rescale this column or use --dtype float64"
        )
    return X
