"""Gradient clipping: scale all gradients together to a global norm at most ``max_norm``."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from .._validation import positive as _positive

Array = NDArray[np.floating]

__all__ = ["clip_by_global_norm"]


def clip_by_global_norm(grads: list[Array], max_norm: float) -> float:
    """Scale all gradients together so that their global norm is at most ``max_norm``.

        n = √(Σ_arrays Σ g²)      if n > max_norm:  g ← g · max_norm / n   (every array)

    As PyTorch's ``clip_grad_norm_`` (without its ``1e-6`` in the denominator). The sum of
    squares is accumulated in float64; the arrays are scaled in place and keep their
    dtype. A non-finite norm is returned as it is and the gradients are left unchanged.

    Parameters
    ----------
    grads : list of ndarray
        The gradients, modified in place.
    max_norm : float
        The largest global norm allowed, > 0.

    Returns
    -------
    float
        The global norm ``n`` before clipping.
    """
    max_norm = _positive("max_norm", max_norm)
    total = 0.0
    for g in grads:
        flat = g.reshape(-1)
        if flat.dtype == np.float64:
            total += float(np.dot(flat, flat))
        else:  # accumulate in float64 through einsum's buffered cast, no full-size copy
            total += float(np.einsum("i,i->", flat, flat, dtype=np.float64))
    norm = math.sqrt(total)
    if math.isfinite(norm) and norm > max_norm:
        scale = max_norm / norm
        for g in grads:
            g *= scale
    return norm
