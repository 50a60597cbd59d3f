"""predict for a few rows of a chain of Dense layers, in one compiled call.

For one sample, ``predict`` of a small multi-layer perceptron is a few matrix-vector
products of some microseconds each, and NumPy spends as long again on everything around
them: a call per product, per bias, per activation, per check. This kernel does all of
it in one call, for the layers laid out in the network's flat parameter buffer:

    for each layer l:   A_l = O_{l-1} W_lᵀ + b_l;   O_l = f_l(A_l)
    then                P = softmax(O_L) or σ(O_L) or O_L     (the loss's output)

``f_l`` is identity, ReLU or leaky ReLU (:data:`.codes.FORWARD`, as the NumPy reference
in :mod:`cartoonbrain.activations`). The products are its own loops, four weight rows at a
time (each input row is read once per four outputs), with the sums regrouped so that
they are vectorised (:func:`._jit.jit_sums`): the results differ from BLAS's by
rounding, as two BLAS kernels do from each other. It also says whether the input and
the output are all finite, so that the caller needs no pass of its own for that.

    dense_chain(x, params, layout, slope, output) -> (P, finite)

``layout`` has one row per layer: offset of W in ``params``, n_out, n_in, offset of b
(−1 without a bias), activation code. ``output`` is one of :data:`OUTPUTS`.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit, jit_sums
from .activations import _apply
from .codes import RELU
from .losses import softmax_rows

__all__ = ["OUTPUTS", "dense_chain"]

#: the loss's output function -> the code dense_chain takes
OUTPUTS = {"identity": 0, "softmax": 1, "sigmoid": 2}
_SOFTMAX, _SIGMOID = OUTPUTS["softmax"], OUTPUTS["sigmoid"]


@jit_sums
def _affine_rows(o, W, a):
    """a = o Wᵀ: each entry a dot product of a row of ``o`` and a row of ``W``, four
    rows of W at a time."""
    n_out, n_in = W.shape
    i = 0
    while i + 4 <= n_out:
        w0, w1, w2, w3 = W[i], W[i + 1], W[i + 2], W[i + 3]
        for r in range(o.shape[0]):
            x = o[r]
            s0 = s1 = s2 = s3 = a.dtype.type(0)
            for k in range(n_in):
                s0 += w0[k] * x[k]
                s1 += w1[k] * x[k]
                s2 += w2[k] * x[k]
                s3 += w3[k] * x[k]
            a[r, i], a[r, i + 1], a[r, i + 2], a[r, i + 3] = s0, s1, s2, s3
        i += 4
    for j in range(i, n_out):
        w = W[j]
        for r in range(o.shape[0]):
            s = a.dtype.type(0)
            for k in range(n_in):
                s += w[k] * o[r, k]
            a[r, j] = s


@jit_sums
def _all_finite(a):
    """Whether every entry of ``a`` is finite: 0·x is 0 for finite x, NaN for NaN and ±inf."""
    flat = a.reshape(a.size)
    total = a.dtype.type(0)
    for k in range(flat.size):
        total += flat[k] * a.dtype.type(0)
    return total == total


@jit
def _dense(o, params, layer, slope):
    """One layer: A = O Wᵀ + b, then f(A) in A's memory."""
    w_at, n_out, n_in, b_at, code = layer[0], layer[1], layer[2], layer[3], layer[4]
    W = params[w_at : w_at + n_out * n_in].reshape((n_out, n_in))
    a = np.empty((o.shape[0], n_out), dtype=params.dtype)
    _affine_rows(o, W, a)
    zero, slope = params.dtype.type(0), params.dtype.type(slope)
    for r in range(a.shape[0]):
        for j in range(n_out):
            x = a[r, j] + params[b_at + j] if b_at >= 0 else a[r, j]
            a[r, j] = _apply(x, code, slope, zero)
    return a


@jit
def _sigmoid_in_place(a):
    """σ(a) as :func:`cartoonbrain.activations.stable_sigmoid`: s = e^(−|a|) / (1 + e^(−|a|)),
    σ = s for a < 0 and 1 − s otherwise."""
    flat = a.reshape(a.size)
    one = a.dtype.type(1)
    for k in range(flat.size):
        x = flat[k]
        e = np.exp(-np.abs(x))
        s = e / (one + e)
        flat[k] = s if x < 0 else one - s


@jit
def dense_chain(x, params, layout, slope, output):
    """(P, finite): the network's predict for the rows ``x`` (the module's docstring), and
    whether ``x`` and P are all finite (when not, P is not to be used)."""
    finite = _all_finite(x)
    o = _dense(x, params, layout[0], slope)
    for layer in range(1, layout.shape[0]):
        o = _dense(o, params, layout[layer], slope)
    if output == _SOFTMAX:
        softmax_rows(o, o)
    elif output == _SIGMOID:
        _sigmoid_in_place(o)
    return o, finite and _all_finite(o)


def warm_up(dtype: np.dtype) -> None:
    """Call the kernel once on a tiny network of ``dtype`` (loads or compiles it)."""
    params = np.zeros(6, dtype)
    layout = np.array([[0, 2, 1, 2, RELU], [4, 1, 2, -1, 0]], dtype=np.int64)
    for output in OUTPUTS.values():
        dense_chain(np.zeros((1, 1), dtype), params, layout, 0.01, output)
