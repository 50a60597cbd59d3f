"""Gradient checking: backpropagation against central finite differences, in float64.

For every parameter entry w, the numerical derivative is

    ∂L/∂w ≈ (L(w + h) − L(w − h)) / 2h

with an error of order h², and the analytic gradient from ``loss_and_gradients`` should
match it to about 1e-7 relative in float64. The error of one parameter array is

    ‖∇_analytic − ∇_numeric‖ / max(‖∇_analytic‖ + ‖∇_numeric‖, 1e-12)

A float32 network is checked through a float64 copy (float32's rounding would swamp the
differences). Dropout is off, so the loss is a deterministic function of the weights.

:func:`central_difference` is the one central-difference helper of the library and its
tests: every gradient test (activations, losses, layers, networks) goes through it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from copy import deepcopy
from typing import Any

import numpy as np

from ..network.network import Network

__all__ = ["central_difference", "gradcheck", "gradient_errors", "numerical_gradients"]


def central_difference(
    f: Callable[[np.ndarray], Any],
    x: np.ndarray,
    epsilon: float = 1e-6,
    *,
    entries: Iterable[int] | None = None,
    elementwise: bool = False,
) -> np.ndarray:
    """∂f/∂x by central differences, in float64: for each entry x_i,

        ∂f/∂x_i ≈ (f(x + h e_i) − f(x − h e_i)) / 2h          (h = epsilon)

    Parameters
    ----------
    f : callable
        ``f(x) -> float``, called with ``x`` itself, changed in place one entry at a time
        (so ``f`` may also ignore its argument and read ``x`` through a closure: a
        network's loss as a function of a parameter array that the network holds).
    x : ndarray of float64, any shape
        Restored exactly after each entry.
    entries : iterable of int, optional
        Flat indices of the entries to estimate; the others are NaN. Default: all.
    elementwise : bool
        ``f(x)`` is an array of x's shape whose entry i depends on x_i alone (an
        activation's f): every entry is moved at once, ``(f(x + h) − f(x − h)) / 2h``.

    Returns
    -------
    ndarray of float64, the shape of ``x``
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        kind = getattr(x, "dtype", type(x).__name__)
        raise ValueError(f"central differences need a float64 array x; got {kind}")
    if elementwise:
        saved = x.copy()
        x += epsilon
        f_up = np.array(f(x), dtype=np.float64)
        x[...] = saved - epsilon
        f_down = np.array(f(x), dtype=np.float64)
        x[...] = saved
        return (f_up - f_down) / (2 * epsilon)
    estimate = np.full(x.shape, np.nan)
    flat, out = x.reshape(-1), estimate.reshape(-1)
    if not np.shares_memory(flat, x):
        raise ValueError("central differences need x laid out in one block (C-contiguous)")
    for i in range(flat.size) if entries is None else entries:
        saved_entry = flat[i]
        flat[i] = saved_entry + epsilon
        up = float(f(x))
        flat[i] = saved_entry - epsilon
        down = float(f(x))
        flat[i] = saved_entry
        out[i] = (up - down) / (2 * epsilon)
    return estimate


def _float64_copy(net: Network) -> Network:
    if net.dtype == np.float64:
        return net
    # copies of the layers themselves, so that custom activations and losses come along
    copy = Network(
        [deepcopy(layer) for layer in net.layers],
        loss=net.loss,
        dtype="float64",
        l2=net.l2,
        l2_per_sample=net.l2_per_sample,
        input_shape=net.input_shape,
    )
    copy.flat_parameters[...] = net.flat_parameters
    return copy


def numerical_gradients(
    net: Network,
    X: Any,
    y: Any,
    epsilon: float = 1e-6,
    max_entries: int | None = None,
    seed: int = 0,
) -> list[np.ndarray]:
    """Central-difference estimates of ∂L/∂θ for every parameter θ (NaN where skipped).

    ``max_entries`` checks at most that many entries per parameter array, chosen at
    random with ``seed`` (the others are NaN), for networks too big to check entirely.
    """
    net = _float64_copy(net)
    X = net.check_inputs(X)
    t = net.check_targets(y, len(X))

    def loss() -> float:
        return net.loss(net.forward(X), t) + net.penalty(len(X))

    rng = np.random.default_rng(seed)
    estimates = []
    for p in net.parameters():
        entries = None
        if max_entries is not None and p.size > max_entries:
            entries = np.sort(rng.choice(p.size, max_entries, replace=False))
        estimates.append(central_difference(lambda _: loss(), p, epsilon, entries=entries))
    return estimates


def gradient_errors(
    net: Network, X: Any, y: Any, epsilon: float = 1e-6, max_entries: int | None = None
) -> dict[str, float]:
    """The relative error of every parameter's analytic gradient, by parameter name."""
    net64 = _float64_copy(net)
    _, analytic = net64.loss_and_gradients(X, y)
    numeric = numerical_gradients(net64, X, y, epsilon, max_entries)
    errors = {}
    for name, a, n in zip(net64.parameter_names(), analytic, numeric):
        checked = ~np.isnan(n)
        a, n = a[checked], n[checked]
        scale = max(float(np.linalg.norm(a) + np.linalg.norm(n)), 1e-12)
        errors[name] = float(np.linalg.norm(a - n)) / scale
    return errors


def gradcheck(
    net: Network,
    X: Any,
    y: Any,
    *,
    epsilon: float = 1e-6,
    max_entries: int | None = None,
    verbose: bool = False,
) -> float:
    """The worst relative error between backpropagation and central differences.

    Below 1e-6 the gradients are right (a correct backward pass gives about 1e-8 or
    less); above about 1e-4 something is wrong. With ``verbose=True`` it prints each
    parameter's error, marked ``ok`` below 1e-6 and ``CHECK`` from 1e-6 up.

    Examples
    --------
    >>> import numpy as np, cartoonbrain as cb
    >>> net = cb.Network([cb.Dense(3, 4, activation="tanh"), cb.Dense(4, 2)], seed=0)
    >>> X, y = np.random.default_rng(0).normal(size=(5, 3)), np.zeros((5, 2))
    >>> cb.gradcheck(net, X, y) < 1e-6
    True
    """
    errors = gradient_errors(net, X, y, epsilon, max_entries)
    if verbose:
        width = max(len(name) for name in errors)
        for name, error in errors.items():
            flag = "ok" if error < 1e-6 else "CHECK"
            print(f"{name:<{width}}  relative error {error:.2e}  {flag}")
    return max(errors.values()) if errors else 0.0
