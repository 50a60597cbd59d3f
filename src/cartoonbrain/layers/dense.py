"""Dense: the post's layer ``a = W o_prev`` (plus a bias) and its backward pass."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..activations import Activation, bias_and_activation, bias_and_activation_in_place
from ..initializers import get_initializer
from .base import AffineLayer, Array, Shape, _positive_int, register_layer
from .products import column_sums, weight_gradient


def per_time_step(o_prev: Array) -> tuple[Array, tuple[int, ...]]:
    """A sequence (n, T, n_in) as n·T rows (n·T, n_in), and its leading axes (n, T): Dense
    applies the same W at every time step. Rows (n, n_in) pass as they are."""
    if o_prev.ndim <= 2:
        return o_prev, o_prev.shape[:-1]
    return o_prev.reshape(-1, o_prev.shape[-1]), o_prev.shape[:-1]


def as_steps(rows: Array, steps: tuple[int, ...]) -> Array:
    """Rows (n·T, k) back as the sequence (n, T, k) that :func:`per_time_step` took."""
    return rows if len(steps) <= 1 else rows.reshape(*steps, rows.shape[-1])


@register_layer
class Dense(AffineLayer):
    """A fully connected layer: ``o = f(W o_prev + b)``, with ``W`` of shape (n_out, n_in).

    Parameters
    ----------
    n_in, n_out : int
        Sizes, always explicit (never inferred), in the post's (rows, cols) = (n_out, n_in)
        order for ``W``.
    activation : str or Activation, default "identity"
        ``f``; one of :data:`cartoonbrain.activations.ACTIVATIONS`.
    init : str or None
        Initialiser for ``W`` (:mod:`cartoonbrain.initializers`); default He for the ReLU
        family, Glorot otherwise. Biases start at zero.
    bias : bool, default True
        ``False`` gives the post's layer, ``a = W o_prev``.
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        activation: str | Activation = "identity",
        init: str | None = None,
        bias: bool = True,
    ) -> None:
        self.n_in = _positive_int("n_in", n_in)
        self.n_out = _positive_int("n_out", n_out)
        self._set_affine(activation, init, bias)
        self.steps: tuple[int, ...] = ()  # the leading axes of the last forward's input

    @property
    def expected_input_shape(self) -> Shape:
        return (self.n_in,)

    @classmethod
    def example(cls) -> tuple[Dense, Shape]:
        return cls(3, 4, activation="tanh"), (3,)

    def parameter_shapes(self) -> list[Shape]:
        shapes: list[Shape] = [(self.n_out, self.n_in)]
        if self.bias:
            shapes.append((self.n_out,))
        return shapes

    def bind(self, params: list[Array], grads: list[Array]) -> None:
        self.W, self.dW = params[0], grads[0]
        if self.bias:
            self.b, self.db = params[1], grads[1]

    def initialize(self, rng: np.random.Generator) -> None:
        assert self.W is not None
        init = get_initializer(self.init)
        self.W[...] = init(rng, self.W.shape, self.n_in, self.n_out)
        if self.b is not None:
            self.b[...] = 0

    def output_shape(self, input_shape: Shape | None) -> Shape:
        """(n_in,) → (n_out,); per time step, (T, n_in) → (T, n_out)."""
        if input_shape is not None and (len(input_shape) > 2 or input_shape[-1:] != (self.n_in,)):
            hint = ""
            if len(input_shape) > 1:
                hint = f"; add Flatten() before it for inputs of shape {input_shape}"
            if len(input_shape) == 2:
                hint += f" (sequences (time, {self.n_in}) are taken one time step at a time)"
            raise ValueError(
                f"Dense({self.n_in}, {self.n_out}) takes inputs of shape ({self.n_in},) "
                f"but gets {input_shape}{hint}"
            )
        return (self.n_out,) if input_shape is None else (*input_shape[:-1], self.n_out)

    def forward(self, o_prev: Array, training: bool = False) -> Array:
        """A = O_prev Wᵀ + b;  O = f(A). Caches O_prev, A and O for :meth:`backward`.

        The bias and f are one pass with the accelerator (ReLU, leaky ReLU): see
        :func:`~cartoonbrain.activations.bias_and_activation`. A sequence (n, T, n_in) is
        taken per time step, as n·T rows (:func:`per_time_step`).
        """
        assert self.W is not None
        o_prev, self.steps = per_time_step(o_prev)
        a = np.dot(o_prev, self.W.T)  # = o_prev @ W.T, as in infer
        self.transforms = bias_and_activation(self.activation, a, self.b)  # a += b; f(a)
        self.o_prev, self.affines = o_prev, a
        return as_steps(self.transforms, self.steps)

    def infer(self, o_prev: Array) -> Array:
        """A = O_prev Wᵀ + b;  O = f(A), computed in A's memory and not cached."""
        assert self.W is not None
        o_prev, steps = per_time_step(o_prev)
        a = np.dot(o_prev, self.W.T)  # = o_prev @ W.T; np.dot's call costs ~0.4 µs less here
        o = bias_and_activation_in_place(self.activation, a, self.b, self.f_in_place)
        return as_steps(o, steps)

    def backward(self, g: Array, need_input_gradient: bool = True) -> Array | None:
        """Carry g = ∂L/∂O back through the layer, filling ∇W and ∇b (docs/backprop.md).

            g ← g ⊙ f'(A)      ∇W = gᵀ O_prev      ∇b = Σ_rows g      g_prev = g W

        The post's ``g = g * grad_f(affines[n])``, ``grad = np.matmul(g, transforms[n].T)``
        and ``g = np.matmul(weights[n].T, g)``, for rows instead of columns.
        """
        assert self.W is not None and self.dW is not None and self.o_prev is not None
        assert self.affines is not None and self.transforms is not None
        g = g.reshape(-1, self.n_out)  # a sequence's g as n·T rows, as forward took them
        g = self.activation.backward(g, self.affines, self.transforms)  # g ← g ⊙ f'(A)
        weight_gradient(g, self.o_prev, out=self.dW)  # ∇W = gᵀ O_prev
        if self.db is not None:
            column_sums(g, out=self.db)  # ∇b = Σ_rows g
        return as_steps(g @ self.W, self.steps) if need_input_gradient else None  # g_prev = g W

    def get_config(self) -> dict[str, Any]:
        return {
            "type": "Dense",
            "n_in": self.n_in,
            "n_out": self.n_out,
            "activation": self.activation.name,
            "init": self.init,
            "bias": self.bias,
        }
