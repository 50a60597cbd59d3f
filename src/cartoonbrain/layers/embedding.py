"""Embedding: integer ids looked up as rows of a learnt table.

An embedding is the post's layer on a one-hot input: for an id i among n_vocab, with
``x = onehot(i)`` and no bias, ``a = W x`` picks column i of ``W`` (n_dim, n_vocab). The
layer keeps the transposed table ``E = Wᵀ`` of shape (n_vocab, n_dim), as PyTorch's
``nn.Embedding.weight``, so that the looked-up vectors are contiguous rows:

    o[n, ...] = E[x[n, ...]]                      (one row of E per id)

and the backward pass is ``∇W = g xᵀ`` with one-hot x: each id's row of ∇E receives the
sum of the rows of G that looked it up,

    ∇E[i] = Σ_{(n, ...) : x[n, ...] = i} G[n, ..., :]      (scatter-added: np.add.at)

Ids are not differentiable: the gradient handed back for them is 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Array, Layer, Shape, _positive_int, register_layer

__all__ = ["Embedding", "PositionalEmbedding"]


@register_layer
class Embedding(Layer):
    """Rows of ``E`` (n_vocab, n_dim) for integer ids: ``(n, *S) → (n, *S, n_dim)``.

    Parameters
    ----------
    n_vocab : int
        The number of ids: ids run from 0 to n_vocab − 1.
    n_dim : int
        The length of each vector.

    Ids may come as integers, or as floats with integral values: a :class:`Network` hands
    its layers arrays of its float dtype, and float32 holds every integer up to 2²⁴
    exactly. Other values (fractions, NaN, ids out of range) are refused with a ValueError
    naming the sample (row) and the value. ``E`` starts as N(0, 1), as in PyTorch.
    """

    parameter_names = ("E",)
    continuous_input = False  # ids are labels: no gradient flows to them

    def __init__(self, n_vocab: int, n_dim: int) -> None:
        self.n_vocab = _positive_int("n_vocab", n_vocab)
        self.n_dim = _positive_int("n_dim", n_dim)
        self.E: Array | None = None
        self.dE: Array | None = None
        self.ids: Array | None = None  # the last forward's ids, for backward

    @classmethod
    def example(cls) -> tuple[Embedding, Shape]:
        """Embedding(5, 3) on 4 ids per sample: its inputs must be ids 0..4, not noise."""
        return cls(5, 3), (4,)

    def example_inputs(self, rng: np.random.Generator, n_samples: int, input_shape: Shape) -> Array:
        """Ids drawn uniformly from 0..n_vocab − 1."""
        return rng.integers(0, self.n_vocab, (n_samples, *input_shape))

    def parameter_shapes(self) -> list[Shape]:
        return [(self.n_vocab, self.n_dim)]

    def bind(self, params: list[Array], grads: list[Array]) -> None:
        self.E, self.dE = params[0], grads[0]

    def initialize(self, rng: np.random.Generator) -> None:
        assert self.E is not None
        self.E[...] = rng.standard_normal(self.E.shape)

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        return None if input_shape is None else (*input_shape, self.n_dim)

    def check_ids(self, x: Array) -> Array:
        """``x`` as an array of integer ids in 0..n_vocab − 1, or a ValueError naming the row."""
        x = np.asarray(x)
        if x.dtype.kind in "iu":
            ids = x
            bad = (ids < 0) | (ids >= self.n_vocab)
        elif x.dtype.kind == "f":
            with np.errstate(invalid="ignore"):  # NaN and inf cast to nonsense, caught below
                ids = x.astype(np.intp)
            bad = (ids != x) | (ids < 0) | (ids >= self.n_vocab)
        else:
            raise ValueError(f"{self!r} takes integer ids; got an array of dtype {x.dtype}")
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            place = f"row {where[0]}" + (f", position {where[1:]}" if len(where) > 1 else "")
            raise ValueError(
                f"{self!r} takes integer ids 0..{self.n_vocab - 1}; got {x[where].item()!r} "
                f"at {place}"
            )
        return ids

    def forward(self, o_prev: Array, training: bool = False) -> Array:
        """o = E[x]: one row of E per id. Caches the ids for :meth:`backward`."""
        assert self.E is not None
        self.ids = self.check_ids(o_prev)
        return np.take(self.E, self.ids, axis=0)

    def infer(self, o_prev: Array) -> Array:
        assert self.E is not None
        return np.take(self.E, self.check_ids(o_prev), axis=0)

    def backward(self, g: Array, need_input_gradient: bool = True) -> Array | None:
        """∇E[i] = Σ of the rows of G whose id is i;  the ids get a gradient of 0."""
        assert self.dE is not None and self.ids is not None
        self.dE[...] = 0
        np.add.at(self.dE, self.ids.reshape(-1), g.reshape(-1, self.n_dim))
        return np.zeros(self.ids.shape, dtype=g.dtype) if need_input_gradient else None

    def get_config(self) -> dict[str, Any]:
        return {"type": "Embedding", "n_vocab": self.n_vocab, "n_dim": self.n_dim}


@register_layer
class PositionalEmbedding(Layer):
    """Learnt positions added to a sequence: ``o[n, t] = x[n, t] + P[t]``.

        o = x + P[:T]        ∇P[t] = Σ_n G[n, t]        G_prev = G

    Parameters
    ----------
    max_len : int
        The longest sequence (T ≤ max_len); ``P`` has shape (max_len, d_model).
    d_model : int
        The features of each position (the input's last axis).

    Inputs are ``(n_samples, T, d_model)``, e.g. an :class:`Embedding`'s output. ``P``
    starts as N(0, 0.02²), as GPT-2's position table.
    """

    parameter_names = ("P",)

    def __init__(self, max_len: int, d_model: int) -> None:
        self.max_len = _positive_int("max_len", max_len)
        self.d_model = _positive_int("d_model", d_model)
        self.P: Array | None = None
        self.dP: Array | None = None
        self.length = 0  # T of the last forward pass

    @classmethod
    def example(cls) -> tuple[PositionalEmbedding, Shape]:
        return cls(5, 3), (4, 3)

    def parameter_shapes(self) -> list[Shape]:
        return [(self.max_len, self.d_model)]

    def bind(self, params: list[Array], grads: list[Array]) -> None:
        self.P, self.dP = params[0], grads[0]

    def initialize(self, rng: np.random.Generator) -> None:
        assert self.P is not None
        self.P[...] = rng.normal(0.0, 0.02, self.P.shape)

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        if input_shape is not None and (
            len(input_shape) != 2 or input_shape[1] != self.d_model or input_shape[0] > self.max_len
        ):
            raise ValueError(
                f"PositionalEmbedding(max_len={self.max_len}, d_model={self.d_model}) takes "
                f"sequences of shape (time ≤ {self.max_len}, {self.d_model}); got {input_shape}"
            )
        return input_shape

    def positions(self, x: Array, start: int = 0) -> Array:
        """P[start : start + T] for x of shape (n, T, d_model), or a ValueError."""
        assert self.P is not None
        if x.ndim != 3 or x.shape[-1] != self.d_model or start + x.shape[1] > self.max_len:
            raise ValueError(
                f"PositionalEmbedding(max_len={self.max_len}, d_model={self.d_model}) takes "
                f"inputs of shape (n_samples, time ≤ {self.max_len - start}, {self.d_model}); "
                f"got {x.shape}"
            )
        return self.P[start : start + x.shape[1]]

    def forward(self, o_prev: Array, training: bool = False) -> Array:
        """o = x + P[:T]."""
        self.length = o_prev.shape[1] if o_prev.ndim == 3 else 0
        return o_prev + self.positions(o_prev)

    def infer_cached(self, x_new: Array, cache: dict[str, Any]) -> Array:
        """o = x + P[t₀ : t₀ + m] for the m new positions after the t₀ already seen."""
        start = cache.get("start", 0)
        cache["start"] = start + x_new.shape[1]
        return x_new + self.positions(x_new, start)

    def backward(self, g: Array, need_input_gradient: bool = True) -> Array | None:
        """∇P[t] = Σ_n G[n, t] for t < T (0 beyond);  G_prev = G."""
        assert self.dP is not None
        self.dP[...] = 0
        self.dP[: self.length] = g.sum(axis=0)
        return g if need_input_gradient else None

    def get_config(self) -> dict[str, Any]:
        return {"type": "PositionalEmbedding", "max_len": self.max_len, "d_model": self.d_model}
