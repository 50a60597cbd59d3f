"""Rows that arrive in any order, read back in the order of their positions, with files
read and written only from start to end (an external distribution sort by position).

Each row comes with its position p in 0 … n−1 (a permutation known in advance) and is
appended to the file of its block of positions, bucket ⌊p / B⌋, which holds positions
[k·B, (k+1)·B). Reading back, each bucket file is read whole and its rows put in their
places in a block of B rows. Memory holds one block; the disk one more copy of the rows.
A file larger than memory is so reordered at the disk's streaming speed, where writing
(or reading) a memmap in the permutation's order would wait on the disk once per row.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
from numpy.typing import NDArray

__all__ = ["BucketSort"]

Array = NDArray[np.float64]


class BucketSort:
    """Rows of ``width`` float64 numbers put in the order of their positions.

    Parameters
    ----------
    folder : where the bucket files go (``bucket-00000.bin`` …)
    n : int, the number of rows (positions 0 … n−1)
    width : int, numbers per row
    block : int, positions per bucket: the rows :meth:`blocks` holds at a time

    Use as a context manager: the bucket files are deleted at its end.
    """

    def __init__(self, folder: str | os.PathLike[str], n: int, width: int, block: int) -> None:
        if n <= 0 or width <= 0 or block <= 0:
            raise ValueError(f"n, width and block must be positive; got {n}, {width}, {block}")
        self.folder, self.n, self.width, self.block = Path(folder), n, width, block
        self.paths = [self.folder / f"bucket-{k:05d}.bin" for k in range(math.ceil(n / block))]
        self._files: list[BinaryIO] = []

    def __enter__(self) -> BucketSort:
        self._files = [open(path, "wb") for path in self.paths]  # closed by close()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
        for path in self.paths:
            with contextlib.suppress(OSError):
                path.unlink()

    def close(self) -> None:
        """Finish writing (:meth:`blocks` does it first)."""
        for f in self._files:
            f.close()

    def add(self, rows: Array, positions: NDArray[np.int64]) -> None:
        """Append ``rows`` (m, width), which go to ``positions`` (m,), to their buckets."""
        buckets = positions // self.block
        order = np.argsort(buckets, kind="stable")
        rows = np.column_stack([rows[order], positions[order].astype(np.float64)])
        cuts = np.flatnonzero(np.diff(buckets[order])) + 1
        for part in np.split(rows, cuts):
            if len(part):
                part.tofile(self._files[int(part[0, -1]) // self.block])

    def blocks(self) -> Iterator[tuple[int, Array]]:
        """(first position, rows of positions first … first+B−1 in order), block by block;
        read again for each pass."""
        self.close()
        for k, path in enumerate(self.paths):
            start = k * self.block
            size = min(self.block, self.n - start)
            data = np.fromfile(path, dtype=np.float64).reshape(-1, self.width + 1)
            at = data[:, -1].astype(np.int64) - start
            if not _fills(at, size):
                raise ValueError(
                    f"{path} holds {len(data)} rows, not one for each position "
                    f"{start}..{start + size - 1}"
                )
            block = np.empty((size, self.width))
            block[at] = data[:, :-1]
            yield start, block


def _fills(at: NDArray[np.int64], size: int) -> bool:
    """Whether positions ``at`` are 0 … size−1, each once."""
    if len(at) != size or (size and (at.min() < 0 or at.max() >= size)):
        return False
    placed = np.zeros(size, dtype=bool)
    placed[at] = True
    return bool(placed.all())
