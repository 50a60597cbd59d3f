"""Training data that does not fit in memory: NumPy memmaps and chunk files.

``fit`` reads its inputs X one mini-batch at a time (``np.take`` of the batch's rows), so
X need not be in memory, only the rows of the current batch:

* **A memmap** (``np.memmap``, or ``np.load(path, mmap_mode="r")`` of an ``.npy`` file)
  of the network's dtype is kept as it is: it is checked for NaN and infinity a block of
  rows at a time, and each epoch shuffles by index (a permutation of all the rows) and
  reads only each batch's rows. The operating system's page cache decides what stays in
  memory. Random reads are fast on an SSD or when the file fits in the page cache; on a
  spinning disk, prefer chunks.
* **A** :class:`ChunkedSource` is a sequence of chunks (``.npy`` files, or arrays) read
  one chunk at a time. Its shuffling is two-level: each epoch draws an order of the
  chunks, then an order of the rows inside each chunk, and visits the chunks one after
  another; memory holds one chunk. A batch mixes rows of one chunk (two at a boundary),
  so rows should be spread over the chunks in no particular order (shuffle once when
  writing them) if the file is sorted, say, by class.

Both draw their orders from the network's generator, so the same seed gives bit-identical
weights, and checkpoints resume exactly as with arrays. The targets, the sample weights,
the epoch's order and (when metrics are asked for) the epoch's outputs stay in memory:
about 8 bytes per row each, times the outputs per row for the last two.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from ..network.network import Network

Array = NDArray[Any]

__all__ = ["ChunkedSource", "check_finite_blocks", "check_large_inputs"]

#: bytes of one block read while checking a memmap or a chunk for NaN and infinity
BLOCK_BYTES = 1 << 24


def check_finite_blocks(X: Array, name: str = "X", first_row: int = 0, dtype: Any = None) -> None:
    """A ValueError naming the first NaN or infinity of X (after a cast to ``dtype``, if
    given), read ``BLOCK_BYTES`` at a time: no temporary array of X's size; a float64 sum
    first, the exact test only where the sum is not finite."""
    row_bytes = max(1, X.itemsize * math.prod(X.shape[1:]))
    step = max(1, BLOCK_BYTES // row_bytes)
    for start in range(0, len(X), step):
        with np.errstate(over="ignore"):  # a value beyond dtype's range becomes inf: named
            block = np.asarray(X[start : start + step], dtype=dtype)
        if np.isfinite(np.add.reduce(block, axis=None, dtype=np.float64)):
            continue
        bad = np.argwhere(~np.isfinite(block))
        if len(bad):
            where = bad[0]
            raise ValueError(
                f"{name} contains {block[tuple(where)]} at row {first_row + start + where[0]}"
                + (f", column {where[1]}" if len(where) > 1 else "")
                + "; expected finite numbers (drop or impute missing values first)"
            )


def check_large_inputs(net: Network, X: Any, name: str = "X") -> Any:
    """``net.check_inputs`` for data that may not fit in memory: a memmap of the network's
    dtype comes back as it is (checked block by block), a :class:`ChunkedSource` checked
    chunk by chunk; anything else goes through ``net.check_inputs`` (which copies a memmap
    of another dtype into memory)."""
    if isinstance(X, ChunkedSource):
        return X.checked(net, name)
    if (
        isinstance(X, np.memmap)
        and X.dtype == net.dtype
        and X.ndim >= 2
        and X.flags.c_contiguous
        and len(X) > 0
    ):
        net.check_inputs(np.asarray(X[:1]), name)  # shapes and features: one row's worth
        check_finite_blocks(X, name)
        return X
    return net.check_inputs(X, name)


class ChunkedSource:
    """Rows stored as chunks, read one chunk at a time: ``.npy`` files or arrays.

    Parameters
    ----------
    chunks : sequence of paths to ``.npy`` files (or of arrays)
        Each of shape (n_rows_i, *sample_shape); together, the rows in order.

    ``len``, ``shape`` and ``dtype`` are the whole source's; ``source[i:j]`` reads rows
    i..j-1 into an array, and ``np.take(source, indices, axis=0, out=rows)`` gathers rows
    (what the training loop does with each batch). :meth:`order` is an epoch's two-level
    shuffle (see the module's docstring).
    """

    def __init__(self, chunks: Sequence[str | os.PathLike[str] | Array]) -> None:
        self.chunks = list(chunks)
        if not self.chunks:
            raise ValueError("ChunkedSource needs at least one chunk")
        heads = [self._open(i) for i in range(len(self.chunks))]
        shapes = {head.shape[1:] for head in heads}
        if len(shapes) > 1 or heads[0].ndim < 2:
            found = ", ".join(str(head.shape) for head in heads[:5])
            raise ValueError(
                f"chunks must share one sample shape (n_rows, n_features, …); got {found}"
            )
        self.sizes = np.array([len(head) for head in heads], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)])
        self.dtype = np.result_type(*(head.dtype for head in heads))
        self.lo, self.hi = 0, int(self.offsets[-1])  # the rows this source shows
        self._cached: tuple[int, Array] | None = None

    def _open(self, i: int) -> Array:
        """Chunk i without reading it (a memmap for a file)."""
        chunk = self.chunks[i]
        if isinstance(chunk, np.ndarray):
            return chunk
        return np.load(chunk, mmap_mode="r", allow_pickle=False)

    def _chunk(self, i: int) -> Array:
        """Chunk i read into memory in this source's dtype; the last one read is kept."""
        if self._cached is None or self._cached[0] != i:
            self._cached = None  # let the previous chunk go before reading the next
            self._cached = (i, np.ascontiguousarray(self._open(i), dtype=self.dtype))
        return self._cached[1]

    # ------------------------------------------------------------------ array-like
    def __len__(self) -> int:
        return self.hi - self.lo

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self), *self._open(0).shape[1:])

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"ChunkedSource({len(self.chunks)} chunks, shape={self.shape}, dtype={self.dtype})"

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_cached": None}  # pickled without its cached chunk

    def rows(self, start: int, stop: int) -> ChunkedSource:
        """The same chunks showing only rows start..stop-1 (no data read)."""
        if not 0 <= start < stop <= len(self):
            raise ValueError(f"rows {start}..{stop} are not inside the source's {len(self)}")
        view = ChunkedSource.__new__(ChunkedSource)
        view.__dict__.update(self.__dict__)
        view.lo, view.hi, view._cached = self.lo + start, self.lo + stop, None
        return view

    def checked(self, net: Network, name: str = "X") -> ChunkedSource:
        """This source in the network's dtype, every chunk checked (shapes, NaN, inf)."""
        if len(self) == 0:
            raise ValueError(f"{name} is empty (0 samples); expected at least one sample")
        source = self.rows(0, len(self))
        source.dtype = net.dtype
        net.check_inputs(source[:1], name, check_finite=False)  # shapes: one row's worth
        for i in range(len(self.chunks)):
            a, b = max(self.offsets[i], self.lo), min(self.offsets[i + 1], self.hi)
            if a < b:
                part = self._open(i)[a - self.offsets[i] : b - self.offsets[i]]
                where = f"{name} (chunk {i})"
                check_finite_blocks(part, where, int(a - self.lo), source.dtype)
        return source

    def __getitem__(self, key: slice) -> Array:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("a ChunkedSource takes slices source[i:j] (np.take for any rows)")
        start, stop, _ = key.indices(len(self))
        return self.take(np.arange(start, max(start, stop)))

    def take(self, indices: Array, out: Array | None = None) -> Array:
        """The rows at ``indices`` (relative to this source), into ``out`` if given; each
        chunk that holds some is read once per run of consecutive indices in it."""
        g = np.asarray(indices, dtype=np.int64) + self.lo
        if out is None:
            out = np.empty((len(g), *self.shape[1:]), dtype=self.dtype)
        ids = np.searchsorted(self.offsets, g, side="right") - 1
        cuts = [0, *(np.flatnonzero(np.diff(ids)) + 1).tolist(), len(g)]
        for a, b in itertools.pairwise(cuts):
            chunk = self._chunk(int(ids[a]))
            np.take(chunk, g[a:b] - self.offsets[ids[a]], axis=0, out=out[a:b], mode="clip")
        return out

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        """``np.take(source, indices, axis=0, out=...)`` gathers rows; nothing else."""
        bound = dict(zip(("a", "indices", "axis", "out", "mode"), args), **kwargs)
        if func is not np.take or bound.get("axis") != 0:
            return NotImplemented
        return self.take(bound["indices"], bound.get("out"))

    def order(self, rng: np.random.Generator) -> Array:
        """An epoch's order of the rows: the chunks in a random order, and the rows of
        each chunk in a random order, one chunk after another (indices into this source)."""
        parts = []
        for i in rng.permutation(len(self.chunks)):
            a, b = max(self.offsets[i], self.lo), min(self.offsets[i + 1], self.hi)
            if a < b:
                parts.append(rng.permutation(int(b - a)) + (a - self.lo))
        return np.concatenate(parts)
