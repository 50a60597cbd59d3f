"""Residual: a block of layers F whose input is added back to its output.

    o = x + F(x)

The backward pass follows both paths and adds what they carry back: the identity passes
``G`` through unchanged, the block carries it back through its layers (filling their
gradients), so

    G_prev = G + ∂F/∂x ᵀ G        (G back through F's layers, plus G itself)

which is why deep stacks of residual blocks still pass a usable ``g`` to their first
layers: the identity path never shrinks it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .base import Array, Layer, Shape, layer_from_config, register_layer
from .dense import Dense
from .state import has_state

__all__ = ["Residual"]


@register_layer
class Residual(Layer):
    """``o = x + F(x)``, where F is ``layers`` applied in turn; F keeps the input's shape.

    Parameters
    ----------
    layers : sequence of Layer (or of their configs)
        E.g. ``[Dense(64, 64, activation="relu"), Dense(64, 64)]``.

    The block's parameters are its layers' parameters, in order, named ``"{j}.{name}"``
    (``layer2.0.W`` in :meth:`Network.parameter_names`).
    """

    def is_weight(self, name: str) -> bool:
        """``"j.name"`` is a weight when the j-th inner layer says its ``name`` is."""
        j, inner = name.split(".", 1)
        return self.layers[int(j)].is_weight(inner)

    def __init__(self, layers: Sequence[Layer | dict[str, Any]]) -> None:
        if isinstance(layers, (Layer, dict)) or not layers:
            raise ValueError(f"Residual takes a non-empty list of layers; got {layers!r}")
        self.layers = [
            layer_from_config(layer) if isinstance(layer, dict) else layer for layer in layers
        ]
        for j, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise ValueError(f"Residual's layer {j} is {layer!r}, not a cartoonbrain layer")
        self.parameter_names = tuple(
            f"{j}.{name}" for j, layer in enumerate(self.layers) for name in layer.parameter_names
        )

    keeps_shape = True  # o = x + F(x) has x's shape

    @property
    def expected_input_shape(self) -> Shape | None:
        """The shape F's first layer fixes (a Dense's (n_in,)), if it fixes one."""
        return self.layers[0].expected_input_shape

    @classmethod
    def example(cls) -> tuple[Residual, Shape]:
        return cls([Dense(4, 4, activation="tanh"), Dense(4, 4)]), (4,)

    def parameter_shapes(self) -> list[Shape]:
        return [shape for layer in self.layers for shape in layer.parameter_shapes()]

    def bind(self, params: list[Array], grads: list[Array]) -> None:
        start = 0
        for layer in self.layers:
            stop = start + len(layer.parameter_shapes())
            layer.bind(params[start:stop], grads[start:stop])
            start = stop

    def initialize(self, rng: np.random.Generator) -> None:
        for layer in self.layers:
            layer.initialize(rng)

    def attach(self, rng: np.random.Generator) -> None:
        for layer in self.layers:
            layer.attach(rng)

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        shape = input_shape
        for j, layer in enumerate(self.layers):
            try:
                shape = layer.output_shape(shape)
            except ValueError as exc:
                raise ValueError(f"Residual's layer {j} does not fit: {exc}") from None
        if input_shape is not None and shape != input_shape:
            raise ValueError(
                f"Residual's layers turn inputs of shape {input_shape} into {shape}; "
                "o = x + F(x) needs F to keep the shape"
            )
        return input_shape

    def forward(self, o_prev: Array, training: bool = False) -> Array:
        """o = x + F(x); each layer of F caches its own forward pass."""
        f = o_prev
        for layer in self.layers:
            f = layer.forward(f, training)
        return o_prev + f

    def infer(self, o_prev: Array) -> Array:
        """o = x + F(x), F on a copy of x (a layer's infer may overwrite its input)."""
        f = o_prev.copy()
        for layer in self.layers:
            f = layer.infer(f)
        if f is o_prev or np.shares_memory(f, o_prev):
            return o_prev + f
        f += o_prev
        return f

    def backward(self, g: Array, need_input_gradient: bool = True) -> Array | None:
        """G_prev = G + (G carried back through F's layers, last to first)."""
        g_f = g
        last = len(self.layers) - 1
        for j in range(last, -1, -1):
            needed = need_input_gradient or j > 0
            g_f = self.layers[j].backward(g_f, need_input_gradient=needed)  # type: ignore[assignment]
        return g + g_f if need_input_gradient else None

    def state_arrays(self) -> dict[str, Array]:
        """The state of the layers that have some (BatchNorm), named ``"{j}.{name}"``."""
        return {
            f"{j}.{name}": array
            for j, layer in enumerate(self.layers)
            if has_state(layer)
            for name, array in layer.state_arrays().items()  # type: ignore[attr-defined]
        }

    def load_state_arrays(self, arrays: Mapping[str, Any]) -> None:
        expected = self.state_arrays()
        if set(arrays) != set(expected):
            raise ValueError(
                f"Residual: state arrays {sorted(arrays)} do not match the expected "
                f"{sorted(expected)}"
            )
        for j, layer in enumerate(self.layers):
            if has_state(layer):
                prefix = f"{j}."
                own = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
                layer.load_state_arrays(own)  # type: ignore[attr-defined]

    def get_config(self) -> dict[str, Any]:
        return {"type": "Residual", "layers": [layer.get_config() for layer in self.layers]}
