"""The post's experiment: its random data (:func:`draw_experiment`) and its loop (:func:`run`).

:func:`run` is the post's listing, line for line, calling the post's own functions from
:mod:`.post` (``make_net``, ``forward``, ``backward``, ``sgd``, ``mse``)::

    for e in range(EPOCHS):
        epoch_loss = 0.
        for s in range(N):
            feature, label = samples[s], labels[s]
            a_s, h_s = forward(feature, label, weights, f)
            pred = h_s[-1]
            error = pred - label
            epoch_loss += mse(label, pred)
            weight_grads = backward(feature, label, error, weights, a_s, h_s, grad_f)
            weights = sgd(weights, weight_grads, eps)
        print('Epoch {} / {}; Loss {}'.format(e + 1, EPOCHS, epoch_loss / N))

The same steps, arranged for speed, are :func:`.fused.run_fused` (what ``cartoonbrain
blog`` runs unless given ``--readable``); both draw their data with :func:`draw_experiment`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from .post import (
    BLOG_LAYERS,
    Array,
    backward,
    forward,
    make_net,
    mse,
    sgd,
    sigmoid_gradient,
    stable_sigmoid,
)

__all__ = ["Draws", "check_settings", "draw_experiment", "run"]


class Draws(NamedTuple):
    """The experiment's random draws, each sample and label a column, as in the post."""

    weights: list[Array]  # weights[n] of shape layers[n] = (n_out, n_in)
    samples: list[Array]  # n_samples arrays of shape (n_in, 1)
    labels: list[Array]  # n_samples arrays of shape (n_out, 1)


def draw_experiment(
    n_samples: int = 50,
    layers: Sequence[Sequence[int]] = BLOG_LAYERS,
    seed: np.random.Generator | int | None = 0,
) -> Draws:
    """The weights, samples and labels of the post's experiment, in the post's order.

    From one ``numpy.random.default_rng(seed)``: first the weights, layer by layer,
    ``W_l ~ N(0, 1)`` of shape ``(n_out, n_in)`` (by :func:`.post.make_net`); then the
    ``n_samples`` samples ``x ~ N(0, I)``, each of shape ``(n_in, 1)``; then the labels
    ``t ~ N(0, I)``, each of shape ``(n_out, 1)``. :func:`run`, :func:`.fused.run_fused`,
    ``datasets.load("blog")`` and :func:`.inspect.blog_network` all draw through here, so
    they train on the same numbers.
    """
    rng = np.random.default_rng(seed)
    weights = make_net(layers, rng)
    n_in, n_out = weights[0].shape[1], weights[-1].shape[0]
    samples: list[Array] = [rng.standard_normal((n_in, 1)) for _ in range(n_samples)]
    labels: list[Array] = [rng.standard_normal((n_out, 1)) for _ in range(n_samples)]
    return Draws(weights, samples, labels)


def check_settings(epochs: object, n_samples: object, learning_rate: float) -> None:
    """Raise ValueError naming the setting when epochs, n_samples or learning_rate is bad."""
    for name, value in (("epochs", epochs), ("n_samples", n_samples)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    if not (np.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"learning_rate must be a positive finite number; got {learning_rate!r}")


def run(
    epochs: int = 100,
    n_samples: int = 50,
    learning_rate: float = 0.05,
    layers: Sequence[Sequence[int]] = BLOG_LAYERS,
    seed: int | None = 0,
    log: Callable[[str], object] | None = None,
    draws: Draws | None = None,
) -> list[float]:
    """The post's experiment: SGD, one sample at a time, on random data, by the post's code.

    Draws the weights, samples and labels with :func:`draw_experiment`, then, for each
    epoch, trains on the samples in order and reports

        Epoch {e} / {E}; Loss {L}

    with L the mean over the samples of E = ½‖t − y‖², each taken before that sample's
    update ``W_l ← W_l − ε ∇W_l``.

    Parameters
    ----------
    epochs, n_samples : int, positive
    learning_rate : float, positive (the post's ``eps``)
    layers : sequence of (n_out, n_in), default :data:`.post.BLOG_LAYERS`
    seed : int or None
    log : callable or None
        Called with each epoch's line; ``None`` prints it, as the post does.
        Pass ``lambda line: None`` to stay quiet.
    draws : Draws, optional
        Train on these instead of drawing (``n_samples``, ``layers`` and ``seed`` are then
        not used); their list ``weights`` ends up holding the trained weights, as the
        post's ``sgd`` puts the new arrays into it (:func:`.journey.trace` reads them).

    Returns
    -------
    list of float, the mean loss of each epoch
    """
    check_settings(epochs, n_samples, learning_rate)
    emit = print if log is None else log
    if draws is None:
        draws = draw_experiment(n_samples, layers, seed)
    weights, samples, labels = draws
    N = len(samples)
    eps, EPOCHS = learning_rate, epochs  # the post's names, with N above
    f, grad_f = stable_sigmoid, sigmoid_gradient  # the post's conv_utils helpers
    losses: list[float] = []
    for e in range(EPOCHS):
        epoch_loss = 0.0
        for s in range(N):
            feature, label = samples[s], labels[s]
            a_s, h_s = forward(feature, label, weights, f)
            pred = h_s[-1]
            error = pred - label
            epoch_loss += mse(label, pred)
            weight_grads = backward(feature, label, error, weights, a_s, h_s, grad_f)
            weights = sgd(weights, weight_grads, eps)
        losses.append(epoch_loss / N)
        emit(f"Epoch {e + 1} / {EPOCHS}; Loss {losses[-1]!r}")
    return losses
