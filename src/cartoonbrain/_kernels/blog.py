"""One epoch of the post's experiment (sample by sample SGD on a sigmoid network without
biases) as one compiled loop: the work of ``blog.fused.fused_epochs``, without a NumPy call
per step.

The weights lie in one flat float64 buffer, layer after layer, each row-major of shape
(n_out, n_in) as in the post. For each sample, as ``fused_epochs`` does:

    forward    o_l = σ(W_l o_{l-1}),  l = 1 … L          (σ as activations.stable_sigmoid)
    loss       E = ½ ‖y − t‖²;   g = ε (y − t)
    backward   g ← g ⊙ (o_l − o_l²);   g_prev = W_lᵀ g;   W_l ← W_l − g o_{l-1}ᵀ

The backward step and the update share one pass over each W_l (g_prev is taken from each
row before it is updated). Sums run in order, with no reassociation, so the result does
not depend on the machine's vector width; they are taken in another order than BLAS's,
so the losses equal ``fused_epochs``' to rounding, not bit for bit.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit

__all__ = ["blog_epoch"]


@jit
def _sigmoid(a):
    """σ(a) = 1 − s for a ≥ 0 and s for a < 0, s = e^(−|a|) / (1 + e^(−|a|)); NaN kept."""
    e = np.exp(-abs(a))
    s = e / (e + 1.0)
    return 1.0 - s if a >= 0.0 else s


@jit
def _dot(row, x):
    """Σ_i row[i] x[i], in order."""
    total = 0.0
    for i in range(row.size):
        total += row[i] * x[i]
    return total


@jit
def _forward(w, n_out, n_in, o_prev, o):
    """o = σ(W o_prev), W the (n_out, n_in) rows held flat in ``w``; four rows at a time
    (four sums side by side, each in order: the loop runs about twice as fast as row by
    row). Slices, not offsets, index the rows: numba vectorises loops over them."""
    x = o_prev[:n_in]
    j = 0
    while j + 4 <= n_out:
        r0, r1 = w[j * n_in : (j + 1) * n_in], w[(j + 1) * n_in : (j + 2) * n_in]
        r2, r3 = w[(j + 2) * n_in : (j + 3) * n_in], w[(j + 3) * n_in : (j + 4) * n_in]
        s0 = s1 = s2 = s3 = 0.0
        for i in range(n_in):
            s0 += r0[i] * x[i]
            s1 += r1[i] * x[i]
            s2 += r2[i] * x[i]
            s3 += r3[i] * x[i]
        o[j], o[j + 1], o[j + 2], o[j + 3] = _sigmoid(s0), _sigmoid(s1), _sigmoid(s2), _sigmoid(s3)
        j += 4
    for k in range(j, n_out):
        o[k] = _sigmoid(_dot(w[k * n_in : (k + 1) * n_in], x))


@jit
def _backward(w, n_out, n_in, g, o_prev, g_prev, need_g_prev):
    """g_prev = Wᵀ g (when ``need_g_prev``) and W ← W − g o_prevᵀ, one pass over W."""
    x, h = o_prev[:n_in], g_prev[:n_in]
    h[:] = 0.0
    for j in range(n_out):
        gj = g[j]
        row = w[j * n_in : (j + 1) * n_in]
        if need_g_prev:
            for i in range(n_in):
                h[i] += row[i] * gj
                row[i] -= gj * x[i]
        else:
            for i in range(n_in):
                row[i] -= gj * x[i]


@jit
def blog_epoch(w, sizes, samples, labels, eps):
    """Train on every sample once, in order; return the mean of E over the epoch, each E
    taken before its sample's update. ``sizes`` = (n_0, n_1, …, n_L), the layer widths."""
    n_layers = sizes.size - 1
    width = sizes.max()
    outputs = np.empty((n_layers, width))  # outputs[l - 1] = o_l
    g, g_prev = np.empty(width), np.empty(width)
    starts = np.zeros(n_layers + 1, np.int64)
    for n in range(n_layers):
        starts[n + 1] = starts[n] + sizes[n] * sizes[n + 1]
    total = 0.0
    for s in range(samples.shape[0]):
        o_prev = samples[s]
        for n in range(n_layers):
            layer = w[starts[n] : starts[n + 1]]
            _forward(layer, sizes[n + 1], sizes[n], o_prev, outputs[n])
            o_prev = outputs[n]
        loss = 0.0
        for k in range(sizes[n_layers]):
            error = o_prev[k] - labels[s, k]
            loss += error * error
            g[k] = error * eps
        total += loss / 2.0
        for n in range(n_layers - 1, -1, -1):
            o = outputs[n]
            for k in range(sizes[n + 1]):
                g[k] = g[k] * (o[k] - o[k] * o[k])
            x = outputs[n - 1] if n else samples[s]
            layer = w[starts[n] : starts[n + 1]]
            _backward(layer, sizes[n + 1], sizes[n], g, x, g_prev, n > 0)
            g, g_prev = g_prev, g
    return total / samples.shape[0]


def warm_up(dtype: np.dtype) -> None:
    """Load (or compile) :func:`blog_epoch`, which is float64 only: nothing for float32."""
    if dtype == np.float64:
        blog_epoch(np.zeros(2), np.ones(2, np.int64), np.zeros((1, 1)), np.zeros((1, 2)), 0.1)
