"""The blog post's functions, by the post's names: ``make_net``, ``forward``, ``backward``,
``sgd``, ``mse`` (its experiment, which calls them, is :mod:`.experiment`).

The post's maths, with column vectors as in the post (``x`` has shape ``(n_in, 1)``, or
``(n_in, batch)`` for a batch of columns), weights ``W_l`` of shape ``(n_out, n_in)``, no
biases and one activation ``f`` on every layer (docs/backprop.md walks through it)::

    forward     o_0 = x,   a_l = W_l o_{l-1},   o_l = f(a_l)
    loss        E = ½ ‖t − y‖²                  (y = o_L the prediction, t the label)
    error       g = ∂E/∂o_L = y − t
    backward    g ← g ⊙ f'(a_l);   ∇W_l = g o_{l-1}ᵀ;   g ← W_lᵀ g      for l = L … 1
    update      W_l ← W_l − ε ∇W_l

Code indexing differs from the maths by one: ``weights[n]`` is W_{n+1}, ``affines[n]`` is
a_{n+1}, and ``transforms[n]`` is o_n (so ``transforms[0]`` is x).

For a batch of columns every equation holds unchanged, and ``∇W_l = g o_{l-1}ᵀ`` sums the
samples' gradients (each column of ``g`` pairs with the same column of ``o_{l-1}``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from ..activations import sigmoid_gradient, stable_sigmoid

Array = NDArray[np.floating]
Fn = Callable[..., Array]

__all__ = [
    "BLOG_LAYERS",
    "backward",
    "forward",
    "make_net",
    "mse",
    "sgd",
    "sigmoid_gradient",
    "stable_sigmoid",
]

#: The post's network: 10 inputs, hidden layers of 100, 150, 80, 40 and 10 units, 2 outputs.
#: Each tuple is ``(rows, cols) = (n_out, n_in)``, the shape of that layer's W.
BLOG_LAYERS: list[tuple[int, int]] = [(100, 10), (150, 100), (80, 150), (40, 80), (10, 40), (2, 10)]


def _check_layers(layers: Sequence[Sequence[int]]) -> list[tuple[int, int]]:
    shapes: list[tuple[int, int]] = []
    if len(layers) == 0:
        raise ValueError("layers is empty; expected at least one (n_out, n_in) tuple")
    for i, layer in enumerate(layers):
        try:
            rows, cols = (operator.index(n) for n in layer)
        except (TypeError, ValueError):
            raise ValueError(
                f"layer {i}: {layer!r} is not a pair of integers; expected (n_out, n_in)"
            ) from None
        if rows <= 0 or cols <= 0:
            raise ValueError(f"layer {i}: sizes must be positive; got (n_out, n_in) = {layer!r}")
        if shapes and cols != shapes[-1][0]:
            raise ValueError(
                f"layer {i}: takes {cols} inputs but layer {i - 1} gives {shapes[-1][0]} outputs; "
                f"expected ({rows}, {shapes[-1][0]}) to chain with {shapes[-1]}"
            )
        shapes.append((rows, cols))
    return shapes


def make_net(
    layers: Sequence[Sequence[int]], rng: np.random.Generator | int | None = None
) -> list[Array]:
    """One standard-normal weight matrix per layer: ``W_l ~ N(0, 1)`` of shape ``(n_out, n_in)``.

    Parameters
    ----------
    layers : sequence of (n_out, n_in) pairs
        As in the post's listing: ``[(100, 10), (150, 100), ...]``; each layer's ``n_in``
        must equal the previous layer's ``n_out``.
    rng : numpy Generator, int seed or None
        Where the weights come from, drawn layer by layer. ``None`` uses fresh entropy.

    Returns
    -------
    list of ndarray, ``weights[n]`` of shape ``layers[n]``
    """
    shapes = _check_layers(layers)
    rng = np.random.default_rng(rng)
    return [rng.standard_normal(shape) for shape in shapes]


def _check_input(x: Array, weights: Sequence[Array]) -> Array:
    x = np.asarray(x, dtype=np.float64)
    n_in = weights[0].shape[1]
    if x.ndim != 2 or x.shape[0] != n_in:
        raise ValueError(
            f"x has shape {x.shape}; expected ({n_in}, 1) for one sample or ({n_in}, batch) "
            f"for a batch of columns"
            + (f" (try x.reshape({n_in}, 1))" if x.shape == (n_in,) else "")
        )
    return x


def forward(
    x: Array, y: Array | None, weights: Sequence[Array], f: Fn = stable_sigmoid
) -> tuple[list[Array], list[Array]]:
    """The forward pass, caching what the backward pass needs.

        o_0 = x,    a_l = W_l o_{l-1},    o_l = f(a_l)

    Parameters
    ----------
    x : ndarray of shape (n_in, 1) or (n_in, batch)
    y : ignored
        The label; the post passes it along, so this signature keeps it.
    weights : list of ndarray, ``weights[n]`` of shape (n_out, n_in)
    f : callable, the activation (the post's ``conv_utils.stable_sigmoid``)

    Returns
    -------
    affines : list of ndarray, ``affines[n] = a_{n+1}``
    transforms : list of ndarray, ``transforms[n] = o_n``, so ``transforms[0] is x``
    """
    o = _check_input(x, weights)
    affines: list[Array] = []
    transforms: list[Array] = [o]
    for W in weights:
        a = W @ o
        affines.append(a)
        o = f(a)
        transforms.append(o)
    return affines, transforms


def backward(
    x: Array,
    y: Array | None,
    error: Array,
    weights: Sequence[Array],
    affines: Sequence[Array],
    transforms: Sequence[Array],
    grad_f: Fn = sigmoid_gradient,
) -> list[Array]:
    """The backward pass: one gradient ``∇W_l = ∂E/∂W_l`` per weight matrix.

        g = y − t  (``error``)
        for l = L … 1:   g ← g ⊙ f'(a_l);   ∇W_l = g o_{l-1}ᵀ;   g ← W_lᵀ g

    For a batch of columns ``∇W_l`` is the sum of the samples' gradients.

    Parameters
    ----------
    x, y : ignored (kept for the post's signature; ``transforms[0]`` is x)
    error : ndarray of shape (n_out, batch), ∂E/∂o_L
    weights, affines, transforms : as given and returned by :func:`forward`
    grad_f : callable, f' evaluated at the affines

    Returns
    -------
    list of ndarray, ``grads[n]`` of the shape of ``weights[n]``
    """
    expected = (weights[-1].shape[0], transforms[0].shape[1])
    if np.shape(error) != expected:
        raise ValueError(f"error has shape {np.shape(error)}; expected {expected} (y − t)")
    grads: list[Array] = []
    g = np.asarray(error, dtype=np.float64)
    for n in range(len(weights) - 1, -1, -1):
        g = g * grad_f(affines[n])
        grads.append(g @ transforms[n].T)
        g = weights[n].T @ g
    return grads[::-1]


def sgd(weights: list[Array], grad_weights: Sequence[Array], eps: float) -> list[Array]:
    """Plain gradient descent, ``W_l ← W_l − ε ∇W_l``, as the post writes it.

    Like the post, it puts new arrays into the list ``weights`` and returns that list.
    """
    if len(weights) != len(grad_weights):
        raise ValueError(f"got {len(grad_weights)} gradients for {len(weights)} weight matrices")
    for n in range(len(weights)):
        if np.shape(grad_weights[n]) != weights[n].shape:
            raise ValueError(
                f"gradient {n} has shape {np.shape(grad_weights[n])}; "
                f"expected {weights[n].shape}, the shape of weights[{n}]"
            )
        weights[n] = weights[n] - grad_weights[n] * eps
    return weights


def mse(y: Array, pred: Array) -> float:
    """The post's loss, E = ½ Σ (y − pred)² (summed over outputs and columns)."""
    return float(np.sum(np.power(np.asarray(y) - np.asarray(pred), 2)) / 2)
