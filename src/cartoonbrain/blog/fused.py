"""The post's experiment, fused for speed: :func:`run_fused`, what ``cartoonbrain blog`` runs.

The same steps as :func:`.experiment.run` (the post's ``forward``, ``mse``, ``backward``
and ``sgd``), on the same draws (:func:`.experiment.draw_experiment`), arranged to make
the fewest NumPy calls: the post's arrays are tiny and each call's overhead is most of its
cost. The losses equal :func:`.experiment.run`'s to rounding (tests/test_blog.py checks
them to a relative 1e-12); ``cartoonbrain blog --readable`` runs the post's own loop.

With the accelerator (``pip install "cartoonbrain[fast]"``), each epoch is one compiled
loop instead (:mod:`cartoonbrain._kernels.blog`: the same steps, no NumPy call per step);
:func:`fused_epochs` below is its NumPy reference, and what runs without numba.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from .. import _kernels
from .experiment import check_settings, draw_experiment
from .post import BLOG_LAYERS, Array

__all__ = ["compiled_epochs", "fused_epochs", "run_fused", "sigmoid_into"]

#: sample steps (epochs × samples) from which run_fused loads the compiled kernel: below,
#: loading numba takes longer than the NumPy steps it would save
COMPILED_FROM = 15_000

# (n, W_l, o_l, [g, 0], g, ε ∇W_l) for l = L … 1, n = l − 1
_BackwardStep = tuple[int, Array, Array, Array, Array, Array]


def _buffers(
    weights: Sequence[Array],
) -> tuple[list[Array], list[tuple[Array, Array]], list[_BackwardStep]]:
    """Preallocated arrays for one sample's step, wired as :func:`fused_epochs` uses them.

    Returns ``o_rows``, with ``o_rows[n - 1] = [o_n; 0]ᵀ`` for n = 1 … L − 1; the forward
    steps ``(W_l, o_l)``, each o_l the view of ``o_rows`` where σ(W_l o_{l-1}) is written
    (the last, y, a plain vector); and the backward steps.
    """
    g_cols: list[Array] = [np.zeros((W.shape[0], 2), order="F") for W in weights]  # [g, 0]
    o_rows: list[Array] = [np.zeros((2, W.shape[1])) for W in weights[1:]]  # [o_{l-1}; 0]ᵀ, l ≥ 2
    y: Array = np.empty(weights[-1].shape[0])
    outputs = [rows[0] for rows in o_rows] + [y]  # o_l is written here, for l = 1 … L
    products: list[Array] = [np.empty_like(W) for W in weights]
    forward_steps = list(zip(weights, outputs))
    backward_steps = [
        (n, weights[n], outputs[n], g_cols[n], g_cols[n][:, 0], products[n])
        for n in range(len(weights) - 1, -1, -1)
    ]
    return o_rows, forward_steps, backward_steps


def fused_epochs(
    weights: list[Array],
    samples: Sequence[Array],
    labels: Sequence[Array],
    eps: float,
    compiled: bool = True,
) -> Iterator[float]:
    """Train sample by sample, forever; yield each epoch's mean loss (before each update).

    ``weights`` are updated in place. With the accelerator (and ``compiled``), each epoch is
    one call of the compiled kernel (:func:`compiled_epochs`); the NumPy steps below are its
    reference.

    What differs from the post's listing changes only the rounding (about 1e-16):

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
    kernel = _kernels.get("blog_epoch") if compiled else None
    if kernel is not None and all(np.asarray(a).dtype == np.float64 for a in weights):
        yield from compiled_epochs(kernel, weights, samples, labels, eps)
        return
    o_rows, forward_steps, backward_steps = _buffers(weights)
    y = forward_steps[-1][1]
    x_rows = [np.vstack([x.T, np.zeros_like(x.T)]) for x in samples]  # [x; 0]ᵀ per sample
    xs = [rows[0] for rows in x_rows]
    targets = [t.ravel() for t in labels]
    rows = [x_rows[0], *o_rows]  # rows[n] = [o_n; 0]ᵀ; rows[0] is set to each sample's
    scratch = [(np.empty(W.shape[0]), np.empty(W.shape[0])) for W in weights]  # (a_l, work)
    while True:
        epoch_loss = np.float64(0.0)
        for x_row, o, t in zip(x_rows, xs, targets):
            rows[0] = x_row
            for (W, o_next), (a, work) in zip(forward_steps, scratch):
                np.matmul(W, o, out=a)  # a_l = W_l o_{l-1}
                o = sigmoid_into(a, o_next, work)  # o_l = σ(a_l)
            error = y - t
            epoch_loss += error @ error / 2  # E = ½ ‖y − t‖²
            g = error * eps  # ε ∂E/∂y
            for n, W, o, g_col, g_n, product in backward_steps:
                work = scratch[n][1]
                np.multiply(o, o, out=work)
                np.subtract(o, work, out=work)  # σ'(a_l) = o_l − o_l²
                np.multiply(g, work, out=g_n)  # g ← g ⊙ σ'(a_l)
                if n:
                    g = g_n @ W  # g ← W_lᵀ g
                W -= np.matmul(g_col, rows[n], out=product)  # W_l ← W_l − ε g o_{l-1}ᵀ
        yield float(epoch_loss / len(samples))


def sigmoid_into(a: Array, out: Array, work: Array) -> Array:
    """σ(a) written into ``out``: the steps of :func:`~cartoonbrain.activations.stable_sigmoid`
    (the same operations, the same bits), with ``work`` for its two temporaries instead of
    new arrays (10% of the NumPy path's time, measured). ``a``, ``out`` and ``work`` are
    1-D arrays of one size; ``out`` and ``work`` may not be ``a``.

        s = e^(−|a|) / (1 + e^(−|a|))      σ(a) = |H(a) − s|,  H(a) = 1 for a ≥ 0, else 0
    """
    np.abs(a, out=out)
    np.negative(out, out=out)
    np.exp(out, out=out)  # e = e^(−|a|) ≤ 1
    np.add(out, 1, out=work)
    np.divide(out, work, out=out)  # s = e / (1 + e)
    np.heaviside(a, 1, out=work)
    np.subtract(work, out, out=out)
    return np.abs(out, out=out)


def compiled_epochs(
    kernel: Callable[..., float],
    weights: list[Array],
    samples: Sequence[Array],
    labels: Sequence[Array],
    eps: float,
) -> Iterator[float]:
    """:func:`fused_epochs` through the accelerator's ``blog_epoch``: the weights packed
    into one flat buffer, the samples and labels into rows; ``weights`` are written back
    after every epoch."""
    flat = np.concatenate([W.ravel() for W in weights])
    sizes = np.array([weights[0].shape[1], *(W.shape[0] for W in weights)], dtype=np.int64)
    x = np.ascontiguousarray(np.hstack(list(samples)).T, dtype=np.float64)  # row s: sample s
    t = np.ascontiguousarray(np.hstack(list(labels)).T, dtype=np.float64)
    ends = np.cumsum([W.size for W in weights])
    while True:
        loss = float(kernel(flat, sizes, x, t, float(eps)))
        for W, part in zip(weights, np.split(flat, ends[:-1])):
            W[...] = part.reshape(W.shape)
        yield loss


def run_fused(
    epochs: int = 100,
    n_samples: int = 50,
    learning_rate: float = 0.05,
    layers: Sequence[Sequence[int]] = BLOG_LAYERS,
    seed: int | None = 0,
    log: Callable[[str], object] | None = None,
    compiled: bool | None = None,
) -> list[float]:
    """:func:`.experiment.run`, fused: the same arguments, draws, lines and losses (to rounding).

    Prints (or passes to ``log``) ``Epoch {e} / {E}; Loss {L}`` per epoch and returns the
    list of the epochs' mean losses, L = mean over the samples of ½‖t − y‖², each taken
    before that sample's update; see :func:`.experiment.run` for the parameters.
    ``compiled``: True runs each epoch as the accelerator's compiled loop (where it is
    active), False the NumPy steps; None (the default) the compiled loop only where it
    pays: from :data:`COMPILED_FROM` sample steps, or once it is loaded in the process.
    """
    check_settings(epochs, n_samples, learning_rate)
    emit = print if log is None else log
    weights, samples, labels = draw_experiment(n_samples, layers, seed)
    if compiled is None:
        # loading numba costs ~0.55 s once per process; the kernel saves ~2 ms per 50
        # sample steps (measured): it pays from ~15,000 sample steps, or once loaded
        compiled = epochs * n_samples >= COMPILED_FROM or _kernels.loaded("blog_epoch")
    epochs_of = fused_epochs(weights, samples, labels, learning_rate, compiled)
    losses: list[float] = []
    for e, loss in zip(range(epochs), epochs_of):
        losses.append(loss)
        emit(f"Epoch {e + 1} / {epochs}; Loss {loss!r}")
    return losses
