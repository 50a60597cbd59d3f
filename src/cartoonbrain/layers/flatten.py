"""Flatten: each sample's array as one row."""

from __future__ import annotations

import math

from .base import Array, Layer, Shape, register_layer


@register_layer
class Flatten(Layer):
    """Reshape each sample to one row: ``(n, d1, d2, ...) → (n, d1·d2·…)``."""

    flattens = True

    def __init__(self) -> None:
        self.input_shape: tuple[int, ...] | None = None

    @classmethod
    def example(cls) -> tuple[Flatten, Shape]:
        return cls(), (2, 3)

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        return None if input_shape is None else (math.prod(input_shape),)

    def forward(self, o_prev: Array, training: bool = False) -> Array:
        self.input_shape = o_prev.shape
        return o_prev.reshape(o_prev.shape[0], -1)

    def backward(self, g: Array, need_input_gradient: bool = True) -> Array | None:
        assert self.input_shape is not None
        return g.reshape(self.input_shape) if need_input_gradient else None
