"""An activation's derivative, and a layer's bias with its activation, as one pass each.

The activations are named by the codes of :data:`.codes.CODES`. Each kernel makes the operations
of the NumPy reference in :mod:`cartoonbrain.activations` in the same order, so it gives
the same bits:

    activation_backward        g ⊙ f'(a)                  (f' from a or the cached o = f(a))
    bias_activation            A ← A + b;  O = f(A)       (a new O; A keeps the affines)
    bias_activation_in_place   A ← f(A + b)               (inference: nothing cached)

Only ReLU and leaky ReLU are applied forward here (:data:`.codes.FORWARD` says why); the
derivatives need no transcendental function, and all have kernels.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit
from .codes import ELU, LEAKY_RELU, RELU, SIGMOID, TANH

__all__ = ["activation_backward", "bias_activation", "bias_activation_in_place"]


@jit
def activation_backward(g, a, o, code, slope):
    """g ⊙ f'(a) as a new array, for the activation ``code``; ``slope`` is leaky ReLU's
    (a float, rounded to the arrays' dtype as NumPy's ``a.dtype.type(slope)``).

        identity 1   relu [a > 0]   leaky_relu 1 or slope   sigmoid o (1 − o)
        tanh 1 − o²   elu 1 or o + 1
    """
    out = np.empty_like(g)
    gf, af, of, outf = g.reshape(g.size), a.reshape(a.size), o.reshape(o.size), out.reshape(g.size)
    zero, one, slope = g.dtype.type(0), g.dtype.type(1), g.dtype.type(slope)
    if code == RELU:
        for i in range(gf.size):
            outf[i] = gf[i] * (one if af[i] > zero else zero)
    elif code == LEAKY_RELU:
        for i in range(gf.size):
            outf[i] = gf[i] * (one if af[i] > zero else slope)
    elif code == SIGMOID:
        for i in range(gf.size):
            outf[i] = gf[i] * (of[i] * (one - of[i]))
    elif code == TANH:
        for i in range(gf.size):
            outf[i] = gf[i] * (one - of[i] * of[i])
    elif code == ELU:
        for i in range(gf.size):
            outf[i] = gf[i] * (one if af[i] > zero else of[i] + one)
    else:
        for i in range(gf.size):
            outf[i] = gf[i] * one
    return out


@jit
def _apply(x, code, slope, zero):
    """f(x) for one number: identity, ReLU as ``np.maximum(x, 0)`` (NaN kept, −0 → 0) or
    leaky ReLU as ``np.where(x > 0, x, x · slope)``."""
    if code == RELU:
        return x if x > zero or x != x else zero
    if code == LEAKY_RELU:
        return x if x > zero else x * slope
    return x


@jit
def bias_activation(a, b, code, slope, has_bias):
    """A ← A + b (row by row, when ``has_bias``) and O = f(A), a new array, in one pass.

    ``a`` has shape (n_samples, n_out) and ``b`` (n_out,) (any array when not ``has_bias``).
    """
    o = np.empty_like(a)
    zero, slope = a.dtype.type(0), a.dtype.type(slope)
    for r in range(a.shape[0]):
        for j in range(a.shape[1]):
            x = a[r, j] + b[j] if has_bias else a[r, j]
            a[r, j] = x
            o[r, j] = _apply(x, code, slope, zero)
    return o


@jit
def bias_activation_in_place(a, b, code, slope, has_bias):
    """A ← f(A + b) in A's memory (inference), in one pass."""
    zero, slope = a.dtype.type(0), a.dtype.type(slope)
    for r in range(a.shape[0]):
        for j in range(a.shape[1]):
            x = a[r, j] + b[j] if has_bias else a[r, j]
            a[r, j] = _apply(x, code, slope, zero)


def warm_up(dtype: np.dtype) -> None:
    """Call every kernel here once on tiny arrays of ``dtype`` (loads or compiles them)."""
    a, b, slope = np.zeros((2, 2), dtype), np.zeros(2, dtype), 0.01
    activation_backward(a, a, a, RELU, slope)
    bias_activation(a, b, RELU, slope, True)
    bias_activation_in_place(a, b, RELU, slope, True)
