"""Dropout: units switched off at random while training (inverted dropout)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import is_number
from .base import Array, Layer, Shape, register_layer


@register_layer
class Dropout(Layer):
    """Inverted dropout: in training, each unit is kept with probability 1 − rate and scaled.

        O = O_prev ⊙ M / (1 − rate),   M_ij ~ Bernoulli(1 − rate)       (training)
        O = O_prev                                                      (predict)
        G_prev = G ⊙ M / (1 − rate)

    The mask comes from the network's seeded generator, so training is repeatable.
    """

    keeps_shape = True

    def __init__(self, rate: float) -> None:
        if not is_number(rate) or not 0 <= rate < 1:
            raise ValueError(f"Dropout rate must be in [0, 1); got {rate!r}")
        self.rate = float(rate)
        self.rng: np.random.Generator | None = None
        self.mask: Array | None = None

    @classmethod
    def example(cls) -> tuple[Dropout, Shape]:
        return cls(0.5), (4,)

    def attach(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def forward(self, o_prev: Array, training: bool = False) -> Array:
        if not training or self.rate == 0:
            self.mask = None
            return o_prev
        if self.rng is None:
            self.rng = np.random.default_rng()
        keep = self.rng.random(o_prev.shape, dtype=o_prev.dtype) >= self.rate
        self.mask = keep * o_prev.dtype.type(1 / (1 - self.rate))
        return o_prev * self.mask

    def infer(self, o_prev: Array) -> Array:
        return o_prev

    def backward(self, g: Array, need_input_gradient: bool = True) -> Array | None:
        if not need_input_gradient:
            return None
        return g if self.mask is None else g * self.mask

    def get_config(self) -> dict[str, Any]:
        return {"type": "Dropout", "rate": self.rate}
