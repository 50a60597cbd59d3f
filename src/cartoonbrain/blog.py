"""The blog post's network, by the post's names: ``make_net``, ``forward``, ``backward``,
``sgd``, ``mse``, and its experiment, :func:`run`.

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
from collections.abc import Callable, Iterator, Sequence

import numpy as np
from numpy.typing import NDArray

from .activations import sigmoid_gradient, stable_sigmoid

Array = NDArray[np.floating]
Fn = Callable[..., Array]

__all__ = [
    "BLOG_LAYERS",
    "backward",
    "forward",
    "make_net",
    "mse",
    "run",
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


def _sgd_epochs(
    weights: list[Array], samples: Sequence[Array], labels: Sequence[Array], eps: float
) -> Iterator[float]:
    """Train sample by sample, forever; yield each epoch's mean loss (before each update).

    The same steps as ``forward``, ``mse``, ``backward`` and ``sgd`` above, arranged to make
    the fewest NumPy calls, since the post's arrays are tiny and each call's overhead is most
    of its cost. What differs from the literal listing changes only the rounding (about 1e-16):

    * σ'(a_l) = o_l (1 − o_l) = o_l − o_l² reuses the forward pass's o_l; the post's helper
      evaluates σ(a_l) twice more for each gradient.
    * ε is folded into the error: g = ε (y − t), so the backward pass yields ε ∇W_l
      directly (every backward step is linear in g).
    * W_l is updated in place right after W_lᵀ g is taken, since no later step reads it.
    * The rank-1 update ε ∇W_l = g o_{l-1}ᵀ is computed as the product of an (n_out, 2) and
      a (2, n_in) matrix whose second column and row are zero: NumPy's matmul with an inner
      dimension of 1 is several times slower than with 2 (and than the outer product).
      g is written straight into the first column and o_{l-1} into the first row, so
      nothing is copied.
    """
    n_layers = len(weights)
    g_cols = [np.zeros((W.shape[0], 2), order="F") for W in weights]  # [g, 0]
    o_rows = [np.zeros((2, W.shape[1])) for W in weights[1:]]  # [o_{l-1}; 0]ᵀ, l ≥ 2
    x_rows = [np.vstack([x.T, np.zeros_like(x.T)]) for x in samples]  # [x; 0]ᵀ per sample
    xs = [rows[0] for rows in x_rows]
    y = np.empty(weights[-1].shape[0])
    outputs = [rows[0] for rows in o_rows] + [y]  # o_l is written here, for l = 1 … L
    products = [np.empty_like(W) for W in weights]
    targets = [t.ravel() for t in labels]
    rows = [x_rows[0], *o_rows]  # rows[0] is set to each sample's [x; 0]ᵀ in turn
    forward_steps = list(zip(weights, outputs))
    backward_steps = [
        (n, weights[n], outputs[n], g_cols[n], g_cols[n][:, 0], products[n])
        for n in range(n_layers - 1, -1, -1)
    ]
    while True:
        epoch_loss = np.float64(0.0)
        for x_row, o, t in zip(x_rows, xs, targets):
            rows[0] = x_row
            for W, o_next in forward_steps:
                o = stable_sigmoid(W @ o, out=o_next)  # o_l = σ(W_l o_{l-1})
            error = y - t
            epoch_loss += error @ error / 2  # E = ½ ‖y − t‖²
            g = error * eps  # ε ∂E/∂y
            for n, W, o, g_col, g_n, product in backward_steps:
                np.multiply(g, o - o * o, out=g_n)  # g ← g ⊙ σ'(a_l)
                if n:
                    g = g_n @ W  # g ← W_lᵀ g
                W -= np.matmul(g_col, rows[n], out=product)  # W_l ← W_l − ε g o_{l-1}ᵀ
        yield epoch_loss / len(samples)


def run(
    epochs: int = 100,
    n_samples: int = 50,
    learning_rate: float = 0.05,
    layers: Sequence[Sequence[int]] = BLOG_LAYERS,
    seed: int | None = 0,
    log: Callable[[str], object] | None = None,
) -> list[float]:
    """The post's experiment: SGD, one sample at a time, on random data.

    Draws, in this order from ``numpy.random.default_rng(seed)``: the weights (layer by
    layer, ``standard_normal((n_out, n_in))``), the ``n_samples`` samples (each
    ``standard_normal((n_in, 1))``), then the labels (each ``standard_normal((n_out, 1))``).
    Then, for each epoch, trains on the samples in order and reports

        Epoch {e} / {E}; Loss {L}

    with L the mean over the samples of ½‖t − y‖², each taken before that sample's update.

    Parameters
    ----------
    epochs, n_samples : int, positive
    learning_rate : float, positive (the post's ``eps``)
    layers : sequence of (n_out, n_in), default :data:`BLOG_LAYERS`
    seed : int or None
    log : callable or None
        Called with each epoch's line; ``None`` prints it, as the post does.
        Pass ``lambda line: None`` to stay quiet.

    Returns
    -------
    list of float, the mean loss of each epoch
    """
    for name, value in (("epochs", epochs), ("n_samples", n_samples)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    if not (np.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"learning_rate must be a positive finite number; got {learning_rate!r}")
    emit = print if log is None else log
    rng = np.random.default_rng(seed)
    weights = make_net(layers, rng)
    n_in, n_out = weights[0].shape[1], weights[-1].shape[0]
    samples = [rng.standard_normal((n_in, 1)) for _ in range(n_samples)]
    labels = [rng.standard_normal((n_out, 1)) for _ in range(n_samples)]

    losses: list[float] = []
    for e, loss in zip(range(epochs), _sgd_epochs(weights, samples, labels, learning_rate)):
        losses.append(float(loss))
        emit(f"Epoch {e + 1} / {epochs}; Loss {losses[-1]!r}")
    return losses
