"""Softmax and the cross-entropy losses from logits, one row (or one entry) at a time.

The references are ``activations.softmax``, ``CrossEntropy.mean`` and
``BinaryCrossEntropy.mean``. The kernels make the same operations per number, but sum a
row in order where NumPy sums through a product with ones, and take ``exp`` and ``log1p``
from the C library where NumPy has its own: the results agree to rounding (1e-6 relative
in float32, 1e-12 in float64), not bit for bit. The loss values are summed in float64:

    softmax_rows           P = e^(Z − max) / Σ e^(Z − max), row by row, in place
    softmax_cross_entropy  L = (1/n) Σ_i [log Σ_k e^(z_ik − m_i) − (z_i,t_i − m_i)]
                           ∂L/∂Z = (softmax(Z) − onehot(T)) / n
    binary_cross_entropy   L = mean of [max(z, 0) − t z + log1p(e^−|z|)]
                           ∂L/∂Z = (σ(Z) − T) / N

A row with a NaN, or with +inf, gives NaN where NumPy's does (the maximum keeps a NaN).
"""

from __future__ import annotations

import numpy as np

from ._jit import jit

__all__ = ["binary_cross_entropy", "softmax_cross_entropy", "softmax_rows"]


@jit
def _row_max(z, r):
    """max_k z[r, k], NaN if the row has one (as NumPy's maximum)."""
    m = z[r, 0]
    for k in range(1, z.shape[1]):
        x = z[r, k]
        if x > m or x != x:
            if m == m:  # a NaN, once found, stays
                m = x
    return m


@jit
def _exp_row(z, r, m, p):
    """p[r, k] = e^(z[r, k] − m) for every k; returns Σ_k p[r, k], summed in order."""
    total = z.dtype.type(0)
    for k in range(z.shape[1]):
        e = np.exp(z[r, k] - m)
        p[r, k] = e
        total += e
    return total


@jit
def softmax_rows(z, out):
    """out = softmax(z) along each row (``out`` may be ``z``); returns ``out``."""
    for r in range(z.shape[0]):
        m = _row_max(z, r)
        total = _exp_row(z, r, m, out)
        for k in range(z.shape[1]):
            out[r, k] = out[r, k] / total
    return out


@jit
def softmax_cross_entropy(z, t, scale):
    """(L, ∂L/∂Z) for logits ``z`` (n, k) and class ids ``t`` (n,) (int64; −k ≤ t < k,
    a negative id counting from the end as NumPy's indexing does, else IndexError);
    ``scale`` = 1/n in the dtype."""
    n, n_classes = z.shape
    p = np.empty_like(z)
    one = z.dtype.type(1)
    value = 0.0
    for r in range(n):
        c = t[r] + n_classes if t[r] < 0 else t[r]
        if not 0 <= c < n_classes:
            raise IndexError("a class id is out of range for the logits")
        m = _row_max(z, r)
        total = _exp_row(z, r, m, p)
        value += np.float64(np.log(total)) - np.float64(z[r, c] - m)
        for k in range(n_classes):
            p[r, k] = p[r, k] / total
        p[r, c] -= one
        for k in range(z.shape[1]):
            p[r, k] = p[r, k] * scale
    return value / n, p


@jit
def binary_cross_entropy(z, t, scale):
    """(L, ∂L/∂Z) for logits ``z`` and targets ``t`` of one shape; ``scale`` = 1/N in the
    dtype, N the number of entries."""
    zf, tf = z.reshape(z.size), t.reshape(t.size)
    g = np.empty_like(z)
    gf = g.reshape(g.size)
    zero, one = z.dtype.type(0), z.dtype.type(1)
    value = 0.0
    for i in range(zf.size):
        x, y = zf[i], tf[i]
        e = np.exp(-abs(x))  # ≤ 1: nothing overflows
        value += np.float64((max(x, zero) - y * x) + np.log1p(e))
        s = e / (e + one)  # σ(−|x|)
        sigma = (one - s) if x >= zero else s
        gf[i] = (sigma - y) * scale
    return value / zf.size, g


def warm_up(dtype: np.dtype) -> None:
    """Call every kernel here once on tiny arrays of ``dtype`` (loads or compiles them)."""
    z, scale = np.zeros((2, 2), dtype), dtype.type(0.5)
    softmax_rows(z, np.empty_like(z))
    softmax_cross_entropy(z, np.zeros(2, np.int64), scale)
    binary_cross_entropy(z, z, scale)
