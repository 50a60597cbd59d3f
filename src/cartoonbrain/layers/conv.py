"""Convolution layers: Conv1D and Conv2D (im2col and one matrix product).

Arrays are channels-first, as in PyTorch: ``(n, channels, length)`` in 1-D and
``(n, channels, height, width)`` in 2-D; ``W`` has shape ``(out_channels, in_channels,
*kernel_size)``. A convolution is the post's layer with one ``W`` shared by every
position p of the output (docs/convolution.md derives all of this): with ``x`` the
zero-padded input, ``s`` the stride and ``d`` the dilation,

    a[n, o, p] = Σ_c Σ_j W[o, c, j] · x[n, c, s·p + d·j] + b[o]        o = f(a)

(a cross-correlation, as in every deep-learning library; j runs over the kernel, whose
taps lie d apart, so it spans e = d·(k − 1) + 1 inputs). ``padding`` is a number of
zeros at both ends of each axis, or ``"same"`` (Keras's, TensorFlow's: ⌈size / s⌉
positions, the zeros split with the odd one at the end) or ``"valid"`` (none).

*im2col* makes this one matrix product. Copy the window that sample n sees at position p
into a row of a matrix ``X_col`` of shape (P·n, C·K), for P positions and K kernel taps;
flatten ``W`` to (out, C·K). Then the layer is Dense's batch form with P·n rows,

    A = X_col Wᵀ + b        O = f(A)

and so is its backward pass, with G = ∂L/∂O laid out the same way:

    G ← G ⊙ f'(A)     ∇W = Gᵀ X_col     ∇b = Σ_rows G     G_col = G W     G_prev = col2im(G_col)

*col2im* adds each row of ``G_col`` back onto the window it was copied from (windows
overlap when the stride is smaller than the kernel, and their contributions add up).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..activations import Activation
from ..initializers import get_initializer
from .base import AffineLayer, Array, Shape, register_layer
from .products import column_sums
from .windows import (
    Pads,
    _check_batch,
    _check_spatial,
    _describe,
    _pairs,
    _plain,
    _sizes,
    _taps,
    output_size,
    same_pads,
)

__all__ = ["Conv1D", "Conv2D", "output_size", "same_pads"]


#: prediction builds X_col for this many entries at most at a time (64 MiB of float32)
PREDICT_COLUMNS = 1 << 24


class _Im2col:
    """im2col and col2im for one input shape, with their buffers and views made once.

    Inside, the positions come first: the padded input is kept as (*size, n, C), and the
    rows of X_col are ordered (position, sample), so that X_col has shape (*P, n, C, *K)
    and the block of kernel tap j, ``X_col[..., j]`` of shape (*P, n, C), is a strided
    slice of the padded input in which each (n, C) plane is one contiguous run. im2col
    and col2im are then K copies and K additions of whole planes, not n·C·K short rows.

    The arrays handed to and from the neighbouring layers have the shape (n, C, *size)
    but may be laid out positions-first in memory (transposed views, like ``x.T``): a
    convolution's output is one, so the next convolution reads it without a transpose.
    """

    def __init__(
        self, shape: Shape, dtype: Any, kernel: Shape, stride: Shape, pads: Pads, dilation: Shape
    ):
        n_dims = len(kernel)
        n, channels, *size = shape
        self.out = tuple(output_size(*args) for args in zip(size, kernel, stride, pads, dilation))
        #: (n, C, *size) → (*size, n, C) and back
        self.positions_first = (*range(2, 2 + n_dims), 0, 1)
        self.channels_first = (n_dims, n_dims + 1, *range(n_dims))
        padded_size = tuple(s + b + a for s, (b, a) in zip(size, pads))
        self.interior = tuple(slice(b, b + s) for s, (b, _) in zip(size, pads))  # unpadded
        self.padded = np.zeros((*padded_size, n, channels), dtype=dtype)  # borders stay 0
        self.columns = np.empty((*self.out, n, channels, *kernel), dtype=dtype)
        rows, width = math.prod(self.out) * n, channels * math.prod(kernel)
        self.matrix = self.columns.reshape(rows, width)
        self.grad_matrix = np.empty_like(self.matrix)
        # for each kernel tap j: its block of X_col and of G_col, and the inputs it meets
        self.taps = list(_taps(kernel, stride, self.out, dilation))
        columns = self.columns.reshape(*self.out, n, channels, len(self.taps))
        grads = self.grad_matrix.reshape(*self.out, n, channels, len(self.taps))
        self.gather = [(columns[..., j], self.padded[tap]) for j, tap in enumerate(self.taps)]
        self.grad_blocks = [grads[..., j] for j in range(len(self.taps))]

    def im2col(self, x: Array) -> Array:
        """X_col of shape (P·n, C·K): row (p, n) is the window of sample n at position p."""
        np.copyto(self.padded[self.interior], x.transpose(self.positions_first))
        for block, inputs in self.gather:
            np.copyto(block, inputs)
        return self.matrix

    def col2im(self) -> Array:
        """G_prev (n, C, *size): each row of ``grad_matrix`` added back onto its window."""
        grad_padded = np.zeros_like(self.padded)  # new each time: G_prev is a view of it
        for tap, block in zip(self.taps, self.grad_blocks):
            inputs = grad_padded[tap]
            np.add(inputs, block, out=inputs)
        return grad_padded[self.interior].transpose(self.channels_first)


class _Conv(AffineLayer):
    """The convolution of any number of spatial axes; Conv1D and Conv2D fix that number."""

    n_dims = 1

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Shape | list[int],
        stride: int | Shape | list[int] = 1,
        padding: int | Shape | list[int] | str = 0,
        activation: str | Activation = "identity",
        init: str | None = None,
        bias: bool = True,
        dilation: int | Shape | list[int] = 1,
    ) -> None:
        self.in_channels = _sizes("in_channels", in_channels, 1, 1)[0]
        self.out_channels = _sizes("out_channels", out_channels, 1, 1)[0]
        self.kernel_size = _sizes("kernel_size", kernel_size, self.n_dims, 1)
        self.stride = _sizes("stride", stride, self.n_dims, 1)
        self.dilation = _sizes("dilation", dilation, self.n_dims, 1)
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(
                f"padding must be 'same', 'valid' or a number of zeros; got {padding!r}"
            )
        #: zeros at both ends of each axis, or "same" (worked out for each input size)
        self.padding: Shape | str = (
            "same"
            if padding == "same"
            else (0,) * self.n_dims
            if padding == "valid"
            else _sizes("padding", padding, self.n_dims, 0)
        )
        self._set_affine(activation, init, bias)
        self.W_matrix: Array | None = None  # W as (out, C·K), a view: the maths' W
        self.dW_matrix: Array | None = None
        self._plans: dict[tuple[Shape, np.dtype, bool], _Im2col] = {}
        self._plan: _Im2col | None = None

    def parameter_shapes(self) -> list[Shape]:
        shapes: list[Shape] = [(self.out_channels, self.in_channels, *self.kernel_size)]
        if self.bias:
            shapes.append((self.out_channels,))
        return shapes

    def bind(self, params: list[Array], grads: list[Array]) -> None:
        self.W, self.dW = params[0], grads[0]
        self.W_matrix = self.W.reshape(self.out_channels, -1)
        self.dW_matrix = self.dW.reshape(self.out_channels, -1)
        if not np.shares_memory(self.dW_matrix, self.dW):  # pragma: no cover
            raise ValueError("the gradient view must be C-contiguous")
        if self.bias:
            self.b, self.db = params[1], grads[1]

    def initialize(self, rng: np.random.Generator) -> None:
        assert self.W is not None
        taps = math.prod(self.kernel_size)
        init = get_initializer(self.init)
        self.W[...] = init(rng, self.W.shape, self.in_channels * taps, self.out_channels * taps)
        if self.b is not None:
            self.b[...] = 0

    def pads(self, size: Shape) -> Pads:
        """The (before, after) zeros of each spatial axis for inputs of spatial ``size``."""
        if self.padding == "same":
            return same_pads(size, self.kernel_size, self.stride, self.dilation)
        return _pairs(self.padding)  # type: ignore[arg-type]

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        if input_shape is None:
            return None
        pads = self.pads(input_shape[1:])
        out = _check_spatial(self, input_shape, self.kernel_size, self.stride, pads, self.dilation)
        if input_shape[0] != self.in_channels:
            raise ValueError(
                f"{_describe(self)} takes {self.in_channels} input channels; got inputs of "
                f"shape {input_shape} ({input_shape[0]} channels)"
            )
        return (self.out_channels, *out)

    def _plan_for(self, x: Array, inference: bool = False) -> _Im2col:
        """The buffers for batches of x's shape (prediction has its own: a forward pass's
        X_col must survive until its backward pass)."""
        key = (x.shape, x.dtype, inference)
        plan = self._plans.get(key)
        if plan is None:
            _check_batch(self, x, self.n_dims)
            if len(self._plans) >= 8:  # a few batch sizes (training, its last batch, predict)
                self._plans.clear()
            pads = self.pads(x.shape[2:])
            plan = self._plans[key] = _Im2col(
                x.shape, x.dtype, self.kernel_size, self.stride, pads, self.dilation
            )
        return plan

    def forward(self, o_prev: Array, training: bool = False) -> Array:
        """A = X_col Wᵀ + b (one GEMM over every window of the batch);  O = f(A).

        Parameters
        ----------
        o_prev : ndarray of shape (n, in_channels, *size)

        Returns
        -------
        ndarray of shape (n, out_channels, *P), the transforms O (A is cached as affines)
        """
        assert self.W_matrix is not None
        plan = self._plan = self._plan_for(o_prev)
        a_rows = plan.im2col(o_prev) @ self.W_matrix.T  # (P·n, out): row (p, n) is a[n, :, p]
        if self.b is not None:
            a_rows += self.b
        a = a_rows.reshape(*plan.out, len(o_prev), self.out_channels)
        self.o_prev = o_prev
        self.affines = a.transpose(plan.channels_first)  # (n, out, *P), positions-first inside
        self.transforms = self.activation.f(self.affines)
        return self.transforms

    def infer(self, o_prev: Array) -> Array:
        """A = X_col Wᵀ + b;  O = f(A), computed in A's memory and not cached.

        Large batches go through in blocks of samples, so that X_col (K times the size of
        the input) stays under :data:`PREDICT_COLUMNS` entries.
        """
        assert self.W_matrix is not None
        if len(o_prev) > 1 and (o_prev.shape, o_prev.dtype, True) not in self._plans:
            _check_batch(self, o_prev, self.n_dims)
            per_sample = math.prod(self.output_shape(o_prev.shape[1:]) or ()) // self.out_channels
            block = max(1, PREDICT_COLUMNS // (per_sample * self.W_matrix.shape[1]))
            if len(o_prev) > block:
                blocks = range(0, len(o_prev), block)
                return np.concatenate([self.infer(o_prev[i : i + block]) for i in blocks])
        plan = self._plan_for(o_prev, inference=True)
        a_rows = plan.im2col(o_prev) @ self.W_matrix.T
        if self.b is not None:
            a_rows += self.b
        a = a_rows.reshape(*plan.out, len(o_prev), self.out_channels)
        return self.f_in_place(a.transpose(plan.channels_first))

    def backward(self, g: Array, need_input_gradient: bool = True) -> Array | None:
        """Carry G = ∂L/∂O back through the layer, filling ∇W and ∇b.

        G ← G ⊙ f'(A)    ∇W = Gᵀ X_col    ∇b = Σ_rows G    G_col = G W    G_prev = col2im(G_col)

        ``G`` arrives as (n, out, *P); the products use it as the (P·n, out) matrix whose
        rows line up with X_col's.
        """
        plan, W, dW = self._plan, self.W_matrix, self.dW_matrix
        assert plan is not None and W is not None and dW is not None
        assert self.affines is not None and self.transforms is not None
        if self.activation.name != "identity":
            g = self.activation.backward(g, self.affines, self.transforms)
        g_rows = np.ascontiguousarray(g.transpose(plan.positions_first))
        g_rows = g_rows.reshape(-1, self.out_channels)  # (P·n, out)
        np.matmul(g_rows.T, plan.matrix, out=dW)
        if self.db is not None:
            column_sums(g_rows, out=self.db)  # ∇b = Σ_rows G
        if not need_input_gradient:
            return None
        np.matmul(g_rows, W, out=plan.grad_matrix)
        return plan.col2im()

    def get_config(self) -> dict[str, Any]:
        return {
            "type": type(self).__name__,
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": _plain(self.kernel_size),
            "stride": _plain(self.stride),
            "padding": self.padding if isinstance(self.padding, str) else _plain(self.padding),
            "activation": self.activation.name,
            "init": self.init,
            "bias": self.bias,
            "dilation": _plain(self.dilation),
        }


@register_layer
class Conv1D(_Conv):
    """A 1-D convolution: ``o = f(W ⋆ o_prev + b)`` over (n, in_channels, length) inputs.

    Parameters
    ----------
    in_channels, out_channels : int
        ``W`` has shape (out_channels, in_channels, kernel_size).
    kernel_size : int
    stride : int, default 1
    padding : int or "same" or "valid", default 0
        Zeros added at both ends of the length; the output has
        ⌊(length + 2·padding − e) / stride⌋ + 1 positions, e = dilation·(kernel_size − 1)
        + 1. "same" pads as Keras does (⌈length / stride⌉ positions; PyTorch's "same",
        for stride 1), "valid" not at all.
    activation : str or Activation, default "identity"
    init : str or None
        As for Dense, with fan_in = in_channels · kernel_size and
        fan_out = out_channels · kernel_size (PyTorch's convention).
    bias : bool, default True
    dilation : int, default 1
        The kernel's taps lie ``dilation`` inputs apart (Keras's ``dilation_rate``,
        PyTorch's ``dilation``).
    """

    n_dims = 1

    @classmethod
    def example(cls) -> tuple[Conv1D, Shape]:
        return cls(2, 3, kernel_size=3, stride=2, padding=1, activation="tanh"), (2, 7)


@register_layer
class Conv2D(_Conv):
    """A 2-D convolution over (n, in_channels, height, width) inputs.

    As :class:`Conv1D`, with ``kernel_size``, ``stride``, ``padding`` and ``dilation`` each
    an int or a (height, width) pair (``padding`` also "same" or "valid"); ``W`` has shape
    (out_channels, in_channels, kh, kw).
    """

    n_dims = 2

    @classmethod
    def example(cls) -> tuple[Conv2D, Shape]:
        layer = cls(2, 3, kernel_size=(2, 3), stride=(1, 2), padding=(1, 0), activation="tanh")
        return layer, (2, 4, 5)
