"""A :class:`~cartoonbrain.data.preprocessing.Preprocessor` learned from rows that arrive a
block at a time, with the bits ``Preprocessor.fit`` gives the same rows in memory.

NumPy sums a contiguous float64 array by pairwise summation: up to 128 values as eight
running sums, then combined; a longer array split at n₂ = ⌊n/2⌋ − (⌊n/2⌋ mod 8) and each
part summed the same way::

    S(x_1 … x_n) = S(x_1 … x_n₂) + S(x_n₂+1 … x_n)

Its rounding depends only on n and the values' order. :class:`PairwiseSum`, told n in
advance, follows the same split over values that come in pieces: each part of the split
at most ``leaf`` long is summed by ``np.add.reduce`` as it fills up, and the parts are
added as the split adds them. The total is ``np.add.reduce(x)`` bit for bit, in memory
that does not grow with n (one part, and one float per part), and its error is pairwise
summation's, O(ε log n) relative to Σ|x_i| rather than the O(ε n) of a running sum.

:class:`PreprocessorStats` learns a column's statistics as ``Preprocessor.fit`` computes
them, in three passes over the training rows: the last two in training order.

1. ``count`` (any order): per number column the count n of present values and their
   largest magnitude u (the unit that keeps squares from overflowing); per text column
   the count of each text; with ``impute="most_frequent"``, the count of each number.
2. ``add``: S₁ = Σ x/u (and S₀ = Σ x for ``impute="mean"``); μ/u = S₁/n.
3. ``spread``: S₂ = Σ (x/u − μ/u)²; σ = u √(S₂/n).

The variance is the two-pass one (mean first, then squared deviations, as ``np.std``),
the numerically soundest: no cancellation of large sums as in Σx² − n μ², and no step
that Welford's one-pass update would round differently from ``np.std``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .preprocessing import Preprocessor

__all__ = ["PairwiseSum", "PreprocessorStats"]

Array = NDArray[np.float64]

#: NumPy's pairwise summation sums blocks of up to this many values with 8 running sums
NUMPY_BLOCK = 128
#: the longest part of the split a PairwiseSum sums at once (by default)
LEAF = 1 << 16


def _halves(n: int) -> tuple[int, int]:
    """Where NumPy's pairwise summation splits n values: n₂ and n − n₂."""
    half = n // 2
    half -= half % 8
    return half, n - half


def _parts(n: int, leaf: int) -> list[int]:
    """The lengths of the split's parts of at most ``leaf`` values, in order."""
    if n <= leaf:
        return [n]
    left, right = _halves(n)
    return _parts(left, leaf) + _parts(right, leaf)


def _combine(n: int, leaf: int, sums: Iterator[float]) -> float:
    """The parts' sums added as the split adds them: S(left) + S(right)."""
    if n <= leaf:
        return next(sums)
    left, right = _halves(n)
    return _combine(left, leaf, sums) + _combine(right, leaf, sums)


class PairwiseSum:
    """Σ x_i of n values added in pieces (in order), equal to ``np.add.reduce(x)``.

    Parameters
    ----------
    n : int
        How many values will be added in all.
    leaf : int, default :data:`LEAF` (65,536)
        The longest part summed at once (at least 128, NumPy's own block).
    """

    def __init__(self, n: int, leaf: int | None = None) -> None:
        leaf = LEAF if leaf is None else leaf
        if leaf < NUMPY_BLOCK:
            raise ValueError(f"leaf must be at least {NUMPY_BLOCK}; got {leaf!r}")
        if n < 0:
            raise ValueError(f"n must be a count of values; got {n!r}")
        self.n, self.leaf = n, leaf
        self._sizes = _parts(n, leaf) if n else []
        self._buffer = np.empty(max(self._sizes, default=0))
        self._filled = 0
        self._sums: list[float] = []

    def add(self, values: Any) -> None:
        """Add the next values (a 1-D array, in order)."""
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        while values.size:
            if len(self._sums) == len(self._sizes):
                raise ValueError(f"more than the {self.n} values this sum was told of")
            size = self._sizes[len(self._sums)]
            take = min(size - self._filled, values.size)
            self._buffer[self._filled : self._filled + take] = values[:take]
            self._filled, values = self._filled + take, values[take:]
            if self._filled == size:
                self._sums.append(float(np.add.reduce(self._buffer[:size])))
                self._filled = 0

    def total(self) -> float:
        """The sum of all n values (all must have been added)."""
        done = sum(self._sizes[: len(self._sums)]) + self._filled
        if done != self.n:
            raise ValueError(f"{done} values were added to a sum of {self.n}")
        return _combine(self.n, self.leaf, iter(self._sums)) if self.n else 0.0


class PreprocessorStats:
    """A Preprocessor's statistics from blocks of raw rows (see the module's docstring).

    Parameters
    ----------
    features : the column names, in order
    texts : per text column, its distinct texts: a block holds a text cell as the index
        of its text in this list ("" for an empty cell); a number column holds float64
        numbers, NaN for an empty cell
    impute : None, "mean" or "most_frequent", as for the Preprocessor
    max_distinct : int
        ``impute="most_frequent"`` counts each distinct number of a column in memory;
        more than this many is an error.
    """

    def __init__(
        self,
        features: list[str],
        texts: dict[str, list[str]],
        impute: str | None = None,
        max_distinct: int = 100_000,
    ) -> None:
        self.features, self.texts, self.impute = list(features), texts, impute
        self.max_distinct = max_distinct
        self.n = [0] * len(features)
        self.unit = [0.0] * len(features)
        self.counts: list[Any] = [
            np.zeros(len(texts[name]), np.int64) if name in texts else {} for name in features
        ]
        self._sums: list[tuple[PairwiseSum, PairwiseSum]] = []
        self._spreads: list[PairwiseSum] = []
        self._means: list[float] = []

    def _numbers(self, X: Array) -> Iterator[tuple[int, str, Array]]:
        """(j, name, present values) of each number column of a block."""
        for j, name in enumerate(self.features):
            if name not in self.texts:
                column = X[:, j]
                yield j, name, column[~np.isnan(column)]

    def count(self, X: Array) -> None:
        """Pass 1, training rows in any order: counts, largest magnitudes, texts."""
        for j, name in enumerate(self.features):
            if name in self.texts:
                codes = X[:, j].astype(np.intp)
                self.counts[j] += np.bincount(codes, minlength=len(self.texts[name]))
        for j, name, values in self._numbers(X):
            self.n[j] += len(values)
            if len(values):
                self.unit[j] = max(self.unit[j], float(np.max(np.abs(values))))
            if self.impute == "most_frequent":
                self._count_numbers(j, name, values)

    def _count_numbers(self, j: int, name: str, values: Array) -> None:
        found, counts = np.unique(values, return_counts=True)
        seen = self.counts[j]
        for value, count in zip(found.tolist(), counts.tolist()):
            seen[value] = seen.get(value, 0) + count
        if len(seen) > self.max_distinct:
            raise ValueError(
                f"column {name!r} has more than {self.max_distinct:,} distinct numbers, too "
                "many to find the most frequent one by counting them in memory; impute the mean"
            )

    def add(self, X: Array) -> None:
        """Pass 2, training rows in training order: S₁ = Σ x/u, and S₀ = Σ x."""
        if not self._sums:
            for j, name in enumerate(self.features):
                present = self.n[j] if name not in self.texts else self._present(j, name)
                if present == 0:
                    raise ValueError(f"column {name!r} has no values to learn from")
                self.unit[j] = self.unit[j] if self.unit[j] > 0 else 1.0
                self._sums.append((PairwiseSum(self.n[j]), PairwiseSum(self.n[j])))
        for j, _, values in self._numbers(X):
            scaled, raw = self._sums[j]
            scaled.add(values / self.unit[j])
            if self.impute == "mean":
                raw.add(values)

    def spread(self, X: Array) -> None:
        """Pass 3, training rows in training order: S₂ = Σ (x/u − μ/u)²."""
        if not self._spreads:
            self._means = [s.total() / n if n else 0.0 for (s, _), n in zip(self._sums, self.n)]
            self._spreads = [PairwiseSum(n) for n in self.n]
        for j, _, values in self._numbers(X):
            d = values / self.unit[j] - self._means[j]
            self._spreads[j].add(d * d)

    def preprocessor(self) -> Preprocessor:
        """The fitted Preprocessor: what ``Preprocessor(impute, categorical=<the text
        columns>).fit`` learns from the same rows in memory."""
        columns = [
            self._text_column(j, name) if name in self.texts else self._number_column(j, name)
            for j, name in enumerate(self.features)
        ]
        config = {"impute": self.impute, "handle_unknown": "error", "standardize": True}
        pre = Preprocessor.from_config({**config, "columns": columns})
        pre.categorical = [name for name in self.features if name in self.texts]
        return pre

    def _number_column(self, j: int, name: str) -> dict[str, Any]:
        n, unit = self.n[j], self.unit[j]
        mean = self._means[j] * unit
        std = math.sqrt(self._spreads[j].total() / n) * unit
        if not (math.isfinite(mean) and math.isfinite(std)):
            raise ValueError(f"column {name!r}: its mean or spread overflows ({unit:g})")
        fill: float | None = None
        if self.impute == "mean":
            fill = self._sums[j][1].total() / n
        elif self.impute == "most_frequent":
            seen = self.counts[j]
            fill = min(seen, key=lambda value: (-seen[value], value))
        scale = std if std > 0 else 1.0
        return {"name": name, "kind": "number", "mean": mean, "scale": scale, "fill": fill}

    def _present(self, j: int, name: str) -> int:
        """How many cells of text column j are not empty."""
        return sum(int(c) for t, c in zip(self.texts[name], self.counts[j]) if t)

    def _text_column(self, j: int, name: str) -> dict[str, Any]:
        counts = {t: int(c) for t, c in zip(self.texts[name], self.counts[j]) if c and t}
        categories = sorted(counts)
        mode = max(categories, key=counts.__getitem__) if self.impute else None
        return {"name": name, "kind": "text", "categories": categories, "fill": mode}
