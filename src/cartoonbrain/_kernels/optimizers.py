"""The optimizers' updates as one pass over the arrays (cartoonbrain.optimizers' NumPy code
makes a dozen).

Each kernel makes the operations of its NumPy reference (``SGD._update``,
``RMSprop._update``, ``Adam._adam``) in the same order, on scalars of the parameters'
dtype (the caller casts them, as NumPy casts a Python float to a float32 array's type),
so it gives the same bits. The arrays may have any shape but must be C-contiguous and
share one dtype; they are updated in place:

    sgd       d = g (+ λ w);  v ← μ v + d;  w ← w − lr d | w − lr v | w − lr d − (lr μ) v
    rmsprop   d = g (+ λ w);  s ← ρ s + (1 − ρ) d²;  u = d / (√s + ε) or d / √(s + ε);  b ← μ b + u;
              w ← w − lr u | w − lr b
    adam      d = g (+ λ w);  w ← (1 − lr λ) w (AdamW);  m ← β₁ m + (1 − β₁) d;
              v ← β₂ v + (1 − β₂) d²;  w ← w − step · m / (√v + ε')
"""

from __future__ import annotations

import numpy as np

from ._jit import jit

__all__ = ["adam", "rmsprop", "sgd"]


@jit
def sgd(
    w,
    g,
    velocity,
    learning_rate,
    weight_decay,
    momentum,
    nesterov_rate,
    coupled,
    nesterov,
):
    """SGD's step; ``velocity`` is read only when ``momentum`` > 0 (pass ``w`` otherwise).

    ``nesterov_rate`` = lr · μ, rounded to the dtype as NumPy's ``w − (lr μ) v`` does.
    """
    wf, gf, vf = w.reshape(w.size), g.reshape(g.size), velocity.reshape(velocity.size)
    accelerated = momentum > 0
    for i in range(wf.size):
        wi = wf[i]
        d = gf[i]
        if coupled:
            d = wi * weight_decay + d
        if not accelerated:
            wf[i] = wi - d * learning_rate
            continue
        vi = vf[i] * momentum + d
        vf[i] = vi
        if nesterov:
            wi = wi - d * learning_rate
            wf[i] = wi - vi * nesterov_rate
        else:
            wf[i] = wi - vi * learning_rate


@jit
def rmsprop(
    w,
    g,
    square_average,
    momentum_buffer,
    learning_rate,
    weight_decay,
    rho,
    one_minus_rho,
    epsilon,
    momentum,
    coupled,
    inside,
):
    """RMSprop's step; ``momentum_buffer`` is read only when ``momentum`` > 0. ``inside``:
    Keras's u = d / √(s + ε) instead of PyTorch's d / (√s + ε)."""
    wf, gf = w.reshape(w.size), g.reshape(g.size)
    s, b = square_average.reshape(w.size), momentum_buffer.reshape(momentum_buffer.size)
    accelerated = momentum > 0
    # ε inside the root or outside, branch-free: x + 0 is x exactly, so the bits are the
    # NumPy code's either way (a branch in the loop made the PyTorch rule 8× slower)
    zero = epsilon - epsilon  # 0 in ε's own type (ε · 0 would be a float64)
    within, beyond = (epsilon, zero) if inside else (zero, epsilon)
    for i in range(wf.size):
        wi = wf[i]
        d = gf[i]
        if coupled:
            d = wi * weight_decay + d
        si = s[i] * rho + (d * d) * one_minus_rho
        s[i] = si
        u = d / (np.sqrt(si + within) + beyond)
        if accelerated:
            bi = b[i] * momentum + u
            b[i] = bi
            wf[i] = wi - bi * learning_rate
        else:
            wf[i] = wi - u * learning_rate


@jit
def adam(
    w,
    g,
    m,
    v,
    weight_decay,
    shrink,
    beta_1,
    one_minus_beta_1,
    beta_2,
    one_minus_beta_2,
    epsilon,
    step,
    coupled,
    decoupled,
):
    """Adam's (and AdamW's) step, with ε' = ε √(1 − β₂ᵗ) and step = lr √(1 − β₂ᵗ) / (1 − β₁ᵗ)
    as ``Adam._adam`` computes them; ``shrink`` = 1 − lr λ for AdamW (``decoupled``)."""
    wf, gf, mf, vf = w.reshape(w.size), g.reshape(g.size), m.reshape(m.size), v.reshape(v.size)
    for i in range(wf.size):
        wi = wf[i]
        d = gf[i]
        if coupled:
            d = wi * weight_decay + d
        if decoupled:
            wi = wi * shrink
        mi = mf[i] * beta_1 + d * one_minus_beta_1
        vi = vf[i] * beta_2 + (d * d) * one_minus_beta_2
        mf[i] = mi
        vf[i] = vi
        wf[i] = wi - (mi / (np.sqrt(vi) + epsilon)) * step


def warm_up(dtype: np.dtype) -> None:
    """Call every kernel here once on tiny arrays of ``dtype`` (loads or compiles them)."""
    f = dtype.type
    w, g, m, v = (np.zeros(2, dtype) for _ in range(4))
    sgd(w, g, m, f(0.1), f(0), f(0), f(0), False, False)
    for inside in (False, True):
        rates = (f(0.1), f(0), f(0.9), f(0.1), f(1e-7), f(0))
        rmsprop(w, g, m, v, *rates, False, inside)
    scalars = (f(0), f(1), f(0.9), f(0.1), f(0.999), f(0.001), f(1e-8), f(0.1))
    adam(w, g, m, v, *scalars, False, False)
