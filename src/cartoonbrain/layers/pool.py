"""Pooling layers: MaxPool1D/2D and AvgPool1D/2D, channels first as the convolutions."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .base import Array, Layer, Shape, register_layer
from .windows import (
    _ALL_SAMPLES_AND_CHANNELS,
    _check_batch,
    _check_spatial,
    _plain,
    _sizes,
    _taps,
    _windows,
)

__all__ = ["AvgPool1D", "AvgPool2D", "MaxPool1D", "MaxPool2D"]


class _Pool(Layer):
    """Pooling over windows of ``pool_size``, every ``stride`` (default: pool_size)."""

    n_dims = 1

    def __init__(
        self, pool_size: int | Shape | list[int], stride: int | Shape | list[int] | None = None
    ) -> None:
        self.pool_size = _sizes("pool_size", pool_size, self.n_dims, 1)
        self.stride = self.pool_size if stride is None else _sizes("stride", stride, self.n_dims, 1)
        self.input_shape: Shape | None = None
        self.out: Shape = ()

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        if input_shape is None:
            return None
        zeros = (0,) * self.n_dims
        out = _check_spatial(self, input_shape, self.pool_size, self.stride, zeros)
        return (input_shape[0], *out)

    def _windows(self, o_prev: Array) -> Array:
        """The windows (n, C, *P, *pool_size), a view; checks the shape on a new one."""
        if o_prev.shape != self.input_shape:
            _check_batch(self, o_prev, self.n_dims)
            self.input_shape = o_prev.shape
        windows = _windows(o_prev, self.pool_size, self.stride)
        self.out = windows.shape[2 : 2 + self.n_dims]
        return windows

    def get_config(self) -> dict[str, Any]:
        return {
            "type": type(self).__name__,
            "pool_size": _plain(self.pool_size),
            "stride": _plain(self.stride),
        }


class _MaxPool(_Pool):
    def __init__(
        self, pool_size: int | Shape | list[int], stride: int | Shape | list[int] | None = None
    ) -> None:
        super().__init__(pool_size, stride)
        self.argmax: Array | None = None

    def forward(self, o_prev: Array, training: bool = False) -> Array:
        """o[p] = max_j o_prev[s·p + j]; remembers which j (the first, on ties)."""
        windows = self._windows(o_prev)
        flat = windows.reshape(*windows.shape[: 2 + self.n_dims], -1)  # (n, C, *P, K), a copy
        self.argmax = flat.argmax(axis=-1)
        return flat.max(axis=-1)

    def infer(self, o_prev: Array) -> Array:
        """o[p] = max_j o_prev[s·p + j], without the argmax."""
        return self._windows(o_prev).max(axis=tuple(range(-self.n_dims, 0)))

    def backward(self, g: Array, need_input_gradient: bool = True) -> Array | None:
        """G_prev[s·p + j] += G[p] where j is the window's argmax, 0 elsewhere."""
        if not need_input_gradient:
            return None
        assert self.input_shape is not None and self.argmax is not None
        g_prev = np.zeros(self.input_shape, dtype=g.dtype)
        for j, tap in enumerate(_taps(self.pool_size, self.stride, self.out)):
            target = g_prev[_ALL_SAMPLES_AND_CHANNELS + tap]
            target += g * (self.argmax == j)
        return g_prev


class _AvgPool(_Pool):
    def forward(self, o_prev: Array, training: bool = False) -> Array:
        """o[p] = (1/K) Σ_j o_prev[s·p + j], K = the number of entries in a window."""
        windows = self._windows(o_prev)
        return windows.mean(axis=tuple(range(-self.n_dims, 0)))

    def backward(self, g: Array, need_input_gradient: bool = True) -> Array | None:
        """G_prev[s·p + j] += G[p] / K for every tap j of the window."""
        if not need_input_gradient:
            return None
        assert self.input_shape is not None
        share = g / math.prod(self.pool_size)
        g_prev = np.zeros(self.input_shape, dtype=g.dtype)
        for tap in _taps(self.pool_size, self.stride, self.out):
            target = g_prev[_ALL_SAMPLES_AND_CHANNELS + tap]
            target += share
        return g_prev


@register_layer
class MaxPool1D(_MaxPool):
    """The largest value of each window of ``pool_size`` along the length, every ``stride``.

    Takes (n, C, length), gives (n, C, ⌊(length − pool_size) / stride⌋ + 1); the gradient
    goes to the (first) largest entry of each window only.
    """

    n_dims = 1

    @classmethod
    def example(cls) -> tuple[MaxPool1D, Shape]:
        return cls(2), (2, 6)


@register_layer
class MaxPool2D(_MaxPool):
    """:class:`MaxPool1D` over (height, width); ``pool_size`` and ``stride`` int or pair."""

    n_dims = 2

    @classmethod
    def example(cls) -> tuple[MaxPool2D, Shape]:
        return cls(2), (2, 4, 4)


@register_layer
class AvgPool1D(_AvgPool):
    """The mean of each window of ``pool_size`` along the length, every ``stride``."""

    n_dims = 1

    @classmethod
    def example(cls) -> tuple[AvgPool1D, Shape]:
        return cls(3, stride=2), (2, 7)


@register_layer
class AvgPool2D(_AvgPool):
    """:class:`AvgPool1D` over (height, width); ``pool_size`` and ``stride`` int or pair."""

    n_dims = 2

    @classmethod
    def example(cls) -> tuple[AvgPool2D, Shape]:
        return cls((2, 3), stride=1), (2, 3, 4)
