"""Gradient checking: backpropagation against central finite differences, in float64.

For every parameter entry w, the numerical derivative is

    ∂L/∂w ≈ (L(w + h) − L(w − h)) / 2h

with an error of order h², and the analytic gradient from ``loss_and_gradients`` should
match it to about 1e-7 relative in float64. The error of one parameter array is

    ‖∇_analytic − ∇_numeric‖ / max(‖∇_analytic‖ + ‖∇_numeric‖, 1e-12)

The input gradient ∂L/∂X is checked the same way (the first layer is made to compute it,
which training skips): a layer whose returned g_prev = g W is wrong spoils only the layers
below it, so for the first layer only ∂L/∂X shows it. The failing layer nearest the output
is named as the likely culprit. Layers are numbered from 1, as in ``summary()`` and the
report.

A float32 network is checked through a float64 copy (float32's rounding would swamp the
differences). Dropout is off, so the loss is a deterministic function of the weights.

:func:`central_difference` is the one central-difference helper of the library and its
tests: every gradient test (activations, losses, layers, networks) goes through it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from copy import deepcopy
from typing import Any

import numpy as np

from ..network.network import Network

__all__ = [
    "GradientCheckError",
    "central_difference",
    "gradcheck",
    "gradient_errors",
    "input_gradient",
    "likely_fault",
    "numerical_gradients",
]


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


def _prepared(net: Network, X: Any, y: Any) -> tuple[Any, np.ndarray]:
    X = net.inputs(X)
    return X, net.targets(y, X.shape[0])


def _loss(net: Network, X: Any, t: np.ndarray) -> float:
    return float(net.loss(net.forward(X), t)) + net.penalty(X.shape[0])


def _sample(rng: np.random.Generator, size: int, max_entries: int | None) -> np.ndarray | None:
    if max_entries is None or size <= max_entries:
        return None
    return np.sort(rng.choice(size, max_entries, replace=False))


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
    X, t = _prepared(net, X, y)
    rng = np.random.default_rng(seed)
    estimates = []
    for p in net.parameters():
        entries = _sample(rng, p.size, max_entries)
        estimates.append(
            central_difference(lambda _: _loss(net, X, t), p, epsilon, entries=entries)
        )
    return estimates


def checks_inputs(net: Network, X: Any) -> bool:
    """Whether ∂L/∂X can be checked: dense float inputs to a first layer that takes
    quantities (not Embedding's ids)."""
    return bool(net.layers) and net.layers[0].continuous_input and isinstance(X, np.ndarray)


def input_gradient(net: Network, X: np.ndarray, t: np.ndarray) -> np.ndarray:
    """∂L/∂X by backpropagation, the first layer made to compute it too:

        g ← ∂L/∂O_L;  for l = L … 1:  g ← layer_l.backward(g)   (∂L/∂X = the last g)

    ``X`` and ``t`` prepared by the network (:meth:`~Network.inputs`, :meth:`~Network.targets`).
    The L2 penalty does not depend on X. Overwrites the network's gradient buffers.
    """
    _, g = net.loss.value_and_gradient(net.forward(X), t)
    for layer in reversed(net.layers):
        g_prev = layer.backward(g, need_input_gradient=True)
        if g_prev is None:
            raise ValueError(f"{layer!r} returned no input gradient when asked for one")
        g = g_prev
    return np.array(g, dtype=np.float64)


def _relative(a: np.ndarray, n: np.ndarray) -> float:
    checked = ~np.isnan(n)
    a, n = a[checked], n[checked]
    scale = max(float(np.linalg.norm(a) + np.linalg.norm(n)), 1e-12)
    return float(np.linalg.norm(a - n)) / scale


def gradient_errors(
    net: Network,
    X: Any,
    y: Any,
    epsilon: float = 1e-6,
    max_entries: int | None = None,
    *,
    inputs: bool = True,
) -> dict[str, float]:
    """The relative error of every parameter's analytic gradient and of ∂L/∂X.

    Keys are numbered from 1 as :meth:`Network.summary` and the report number layers:
    ``"layer1.W"``, ``"layer1.b"``, ..., then ``"X"`` for ∂L/∂X (checked with
    ``inputs=True`` when the first layer takes quantities; the first layer is then made
    to compute its input gradient, which training skips). ``max_entries`` caps the entries
    checked per parameter array and of X alike.
    """
    net64 = _float64_copy(net)
    Xp, t = _prepared(net64, X, y)
    _, analytic = net64.loss_and_gradients(X, y)
    numeric = numerical_gradients(net64, X, y, epsilon, max_entries)
    names = [
        f"layer{i + 1}.{n}" for i, layer in enumerate(net64.layers) for n in layer.parameter_names
    ]
    errors = {name: _relative(a, n) for name, a, n in zip(names, analytic, numeric)}
    if inputs and checks_inputs(net64, Xp):
        Xc = np.array(Xp, dtype=np.float64)  # moved one entry at a time; the caller's is not
        dX = input_gradient(net64, Xc, t)
        entries = _sample(np.random.default_rng(0), Xc.size, max_entries)
        nX = central_difference(lambda v: _loss(net64, v, t), Xc, epsilon, entries=entries)
        errors["X"] = _relative(dX, nX)
    return errors


def layer_label(net: Network, i: int) -> str:
    """``"layer 2 (Dense, tanh)"``: layer ``i`` (0-based) numbered from 1, its class and f."""
    layer = net.layers[i]
    f = layer.output_activation or "no f"
    return f"layer {i + 1} ({type(layer).__name__}, {f})"


def likely_fault(net: Network, errors: dict[str, float], tolerance: float = 1e-6) -> str | None:
    """Where a wrong gradient most likely comes from, in words; None when all pass.

    A wrong step in layer l's backward spoils the gradients of layer l and of every layer
    below it (and ∂L/∂X), never those above: the failing layer nearest the output is the
    suspect (its f', its ∇W), or else the g that the layer above it passes back. Only ∂L/∂X
    failing points at the first layer's input gradient, g_prev = g W_1.
    """
    failing = [name for name, error in errors.items() if not error < tolerance]
    if not failing:
        return None
    layers = [int(name.split(".")[0][5:]) for name in failing if name != "X"]
    if not layers:
        return f"{layer_label(net, 0)}: the input gradient it returns (g_prev = g W, ∂L/∂X)"
    top = max(layers)
    words = f"{layer_label(net, top - 1)}: its backward (f'(a_l), ∇W_l = gᵀ o_prev)"
    if top < len(net.layers):
        above = layer_label(net, top)
        words += f", or the input gradient {above} passes back to it (g_prev = g W)"
    else:
        words += ", or the loss's gradient ∂L/∂y"
    return words


class GradientCheckError(AssertionError):
    """Raised by ``gradcheck(..., raise_on_failure=True)`` when a gradient is wrong."""


def gradcheck(
    net: Network,
    X: Any,
    y: Any,
    *,
    epsilon: float = 1e-6,
    max_entries: int | None = None,
    verbose: bool = False,
    inputs: bool = True,
    raise_on_failure: bool = False,
) -> float:
    """The worst relative error between backpropagation and central differences, over
    every parameter and (``inputs=True``) the input gradient ∂L/∂X.

    Below 1e-6 the gradients are right (a correct backward pass gives about 1e-8 or
    less); above about 1e-4 something is wrong. With ``verbose=True`` it prints each
    parameter's error, marked ``ok`` below 1e-6 and ``CHECK`` from 1e-6 up, and names
    the layer most likely at fault. ``raise_on_failure=True`` raises
    :class:`GradientCheckError` with that text instead of returning a failing error (for
    tests). A one-row batch warns: it cannot show a missing sum over the batch.

    Examples
    --------
    >>> import numpy as np, cartoonbrain as cb
    >>> net = cb.Network([cb.Dense(3, 4, activation="tanh"), cb.Dense(4, 2)], seed=0)
    >>> X, y = np.random.default_rng(0).normal(size=(5, 3)), np.zeros((5, 2))
    >>> cb.gradcheck(net, X, y) < 1e-6
    True
    """
    if np.shape(X)[:1] == (1,):
        warnings.warn(
            "gradcheck on a one-row batch cannot catch a missing sum over the batch "
            "(∇W = Σ_rows gᵀ o_prev); give it several rows",
            UserWarning,
            stacklevel=2,
        )
    errors = gradient_errors(net, X, y, epsilon, max_entries, inputs=inputs)
    fault = likely_fault(net, errors)
    lines = []
    width = max((len(name) for name in errors), default=0)
    for name, error in errors.items():
        flag = "ok" if error < 1e-6 else "CHECK"
        lines.append(f"{name:<{width}}  relative error {error:.2e}  {flag}")
    if fault is not None:
        lines.append(f"most likely at fault: {fault}")
    if verbose:
        print("\n".join(lines))
    if raise_on_failure and fault is not None:
        raise GradientCheckError("gradients differ from central differences:\n" + "\n".join(lines))
    return max(errors.values()) if errors else 0.0
