"""Gradient checking: backpropagation against central finite differences, in float64.

For every parameter entry w, the numerical derivative is

    ∂L/∂w ≈ (L(w + h) − L(w − h)) / 2h

with an error of order h², and the analytic gradient from ``loss_and_gradients`` should
match it to about 1e-7 relative in float64. The error of one parameter array is

    ‖∇_analytic − ∇_numeric‖ / max(‖∇_analytic‖ + ‖∇_numeric‖, 1e-12)

A float32 network is checked through a float64 copy (float32's rounding would swamp the
differences). Dropout is off, so the loss is a deterministic function of the weights.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

import numpy as np

from .network import Network

__all__ = ["gradcheck", "gradient_errors", "numerical_gradients"]


def _float64_copy(net: Network) -> Network:
    if net.dtype == np.float64:
        return net
    # copies of the layers themselves, so that custom activations and losses come along
    copy = Network(
        [deepcopy(layer) for layer in net.layers],
        loss=net.loss,
        dtype="float64",
        l2=net.l2,
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
        return net.loss(net.forward(X), t) + net._penalty()

    rng = np.random.default_rng(seed)
    estimates = []
    for p in net.parameters():
        estimate = np.full(p.shape, np.nan)
        flat, out = p.reshape(-1), estimate.reshape(-1)
        entries = np.arange(flat.size)
        if max_entries is not None and flat.size > max_entries:
            entries = np.sort(rng.choice(flat.size, max_entries, replace=False))
        for i in entries:
            saved = flat[i]
            flat[i] = saved + epsilon
            up = loss()
            flat[i] = saved - epsilon
            down = loss()
            flat[i] = saved
            out[i] = (up - down) / (2 * epsilon)
        estimates.append(estimate)
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

    Values around 1e-8 or below mean the gradients are right; above 1e-4 something is
    wrong. With ``verbose=True`` it prints each parameter's error.

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
