"""Classification losses: cross_entropy (softmax) and binary_cross_entropy (sigmoid),
from the logits, with Keras's ``label_smoothing``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _kernels
from .._validation import fraction
from ..activations import few_classes, row_max, row_sum, softmax, stable_sigmoid
from .base import Array, Loss, _regression_targets, register_loss

__all__ = [
    "BinaryCrossEntropy",
    "CrossEntropy",
    "SummedBinaryCrossEntropy",
    "token_cross_entropy",
]


def _smoothed(t: Array, k: int, epsilon: float, dtype: np.dtype) -> Array:
    """Keras's label smoothing, T ← T (1 − ε) + ε / k, with class ids made one-hot first."""
    if t.ndim == 1:
        t = np.eye(k, dtype=dtype)[t]
    return t * dtype.type(1 - epsilon) + dtype.type(epsilon / k)


@register_loss
class CrossEntropy(Loss):
    """Softmax cross-entropy from the logits Z, as Keras's
    ``CategoricalCrossentropy(from_logits=True, label_smoothing)`` and PyTorch's
    ``CrossEntropyLoss(label_smoothing)``; class ids or one-hot (or probability) rows:

        T ← T (1 − ε) + ε / k                (label_smoothing ε, k classes; ε = 0 by default)
        L = (1/n) Σ_i Σ_j t_ij [logsumexp(z_i) − z_ij]      ∂L/∂Z = (softmax(Z) − T) / n

    Keras's SparseCategoricalCrossentropy (class ids) has no label_smoothing; here class
    ids are smoothed as their one-hot rows would be.
    """

    name = "cross_entropy"
    classification = True
    output_activation = "softmax"
    label_smoothing = 0.0  # for a loss pickled before label_smoothing was an argument

    def __init__(self, label_smoothing: float = 0.0) -> None:
        self.label_smoothing = fraction("label_smoothing", label_smoothing)

    def per_sample(self, z: Array, t: Array) -> Array:
        z = np.asarray(z, dtype=np.float64)
        if self.label_smoothing:
            t = _smoothed(t, z.shape[1], self.label_smoothing, np.dtype(np.float64))
        shifted = z - z.max(axis=1, keepdims=True)
        log_total = np.log(np.exp(shifted).sum(axis=1))
        if t.ndim == 1:
            return log_total - shifted[np.arange(len(z)), t]
        return np.einsum("ij,ij->i", t, log_total[:, None] - shifted)

    def mean(self, z: Array, t: Array) -> tuple[float, Array]:
        if self.label_smoothing:
            t = _smoothed(t, z.shape[1], self.label_smoothing, z.dtype)
        kernel = _kernels.get("softmax_cross_entropy", z.size)
        if (
            kernel is not None
            and few_classes(z, most=2048)
            and t.ndim == 1
            and t.dtype == np.int64
            and t.shape[0] == z.shape[0]
            and _kernels.fits(z)
        ):  # one compiled pass per row (the same maths, to rounding)
            value, p = kernel(z, t, z.dtype.type(1 / z.shape[0]))
            return float(value), p
        n = z.shape[0]
        shifted = z - row_max(z)
        p = np.exp(shifted)
        total = row_sum(p)
        p /= total  # softmax(z)
        log_total = np.log(total)
        if t.ndim == 1:  # class ids
            rows = np.arange(n)
            picked = shifted[rows, t]
            value = float(log_total.sum(dtype=np.float64) - picked.sum(dtype=np.float64)) / n
            p[rows, t] -= 1
        else:  # one-hot or probabilities
            value = float(np.vdot(t, log_total - shifted)) / n
            p -= t
        p *= p.dtype.type(1 / n)
        return value, p

    def output(self, z: Array, in_place: bool = False) -> Array:
        return softmax(z, out=z if in_place else None)

    def prepare_targets(self, t: Any, n_outputs: int, dtype: np.dtype) -> Array:
        if n_outputs < 2:
            raise ValueError(
                "cross_entropy needs a last layer of at least 2 outputs (one per class); "
                "for one output use loss='binary_cross_entropy'"
            )
        t = np.asarray(t)
        if t.ndim == 2 and t.shape[1] == 1:
            t = t[:, 0]
        if t.ndim == 1:
            if t.dtype.kind == "f":
                if not np.all(np.isfinite(t)) or np.any(t != np.round(t)):
                    bad = int(np.flatnonzero(~np.isfinite(t) | (t != np.round(t)))[0])
                    raise ValueError(
                        f"cross_entropy needs integer class ids 0..{n_outputs - 1}; "
                        f"target {t[bad].item()!r} at row {bad} is not one"
                    )
            elif t.dtype.kind not in "iub":
                raise ValueError(
                    f"cross_entropy needs integer class ids 0..{n_outputs - 1}; got an array of "
                    f"dtype {t.dtype} (encode labels as 0..k-1 first, or use the sklearn "
                    "estimators or the CLI, which do it for you)"
                )
            ids = t.astype(np.int64)
            bad_rows = np.flatnonzero((ids < 0) | (ids >= n_outputs))
            if bad_rows.size:
                r = int(bad_rows[0])
                raise ValueError(
                    f"class id {ids[r]} at row {r} is out of range for a network with "
                    f"{n_outputs} outputs; expected 0..{n_outputs - 1}"
                )
            return ids
        if t.ndim == 2 and t.shape[1] == n_outputs and t.dtype.kind in "biuf":
            t = np.ascontiguousarray(t, dtype=dtype)
            if np.any(t < 0) or not np.allclose(t.sum(axis=1), 1, atol=1e-3):
                raise ValueError(
                    "cross_entropy targets of shape (n_samples, n_classes) must be one-hot "
                    "(or probabilities): non-negative rows that sum to 1"
                )
            return t
        raise ValueError(
            f"targets have shape {t.shape}; cross_entropy expects class ids of shape "
            f"(n_samples,) or one-hot rows of shape (n_samples, {n_outputs})"
        )


@register_loss
class BinaryCrossEntropy(Loss):
    """Sigmoid cross-entropy from the logits Z, entry by entry, as Keras's
    ``BinaryCrossentropy(from_logits=True, label_smoothing)`` and PyTorch's
    ``BCEWithLogitsLoss``:

        T ← T (1 − ε) + ε / 2                (label_smoothing ε; 0 by default)
        L = mean over entries of [softplus(z) − t z]         ∂L/∂Z = (σ(Z) − T) / N
    """

    name = "binary_cross_entropy"
    classification = True
    output_activation = "sigmoid"
    label_smoothing = 0.0  # for a loss pickled before label_smoothing was an argument

    def __init__(self, label_smoothing: float = 0.0) -> None:
        self.label_smoothing = fraction("label_smoothing", label_smoothing)

    def _smoothed(self, t: Array) -> Array:
        if not self.label_smoothing:
            return t
        epsilon = t.dtype.type(self.label_smoothing)
        return t * (t.dtype.type(1) - epsilon) + epsilon / t.dtype.type(2)

    def per_sample(self, z: Array, t: Array) -> Array:
        z = np.asarray(z, dtype=np.float64)
        t = self._smoothed(t)
        per_entry = np.maximum(z, 0) - t * z + np.log1p(np.exp(-np.abs(z)))
        return per_entry.mean(axis=1)

    def mean(self, z: Array, t: Array) -> tuple[float, Array]:
        t = self._smoothed(t)
        kernel = _kernels.get("binary_cross_entropy", z.size)
        if kernel is not None and z.size and z.shape == t.shape and _kernels.fits(z, t):
            value, g = kernel(z, t, z.dtype.type(1 / z.size))  # one compiled pass
            return float(value), g
        # softplus(z) − t z = max(z, 0) − t z + log1p(e^−|z|)
        per_entry = np.maximum(z, 0) - t * z + np.log1p(np.exp(-np.abs(z)))
        value = float(np.mean(per_entry, dtype=np.float64))
        g = stable_sigmoid(z)
        g -= t
        g *= g.dtype.type(1 / g.size)
        return value, g

    def output(self, z: Array, in_place: bool = False) -> Array:
        return stable_sigmoid(z)

    def prepare_targets(self, t: Any, n_outputs: int, dtype: np.dtype) -> Array:
        t = np.asarray(t)
        if t.dtype.kind not in "biuf":
            raise ValueError(
                f"binary_cross_entropy needs targets 0 or 1; got an array of dtype {t.dtype}"
            )
        t = _regression_targets(t, n_outputs, dtype, self.name)
        bad = np.flatnonzero(((t < 0) | (t > 1) | ~np.isfinite(t)).any(axis=1))
        if bad.size:
            r = int(bad[0])
            raise ValueError(
                f"binary_cross_entropy needs targets in [0, 1] (0 or 1 for labels); "
                f"row {r} has {t[r].tolist()}"
            )
        return t


@register_loss
class SummedBinaryCrossEntropy(BinaryCrossEntropy):
    """binary_cross_entropy summed over the outputs (labels) and averaged over samples,
    as scikit-learn's MLPClassifier defines its multi-label loss:

        L = (1/n) Σ_i Σ_j [softplus(z_ij) − t_ij z_ij]        ∂L/∂Z = (σ(Z) − T) / n
    """

    name = "binary_cross_entropy_sum"

    def per_sample(self, z: Array, t: Array) -> Array:
        return super().per_sample(z, t) * z.shape[1]

    def mean(self, z: Array, t: Array) -> tuple[float, Array]:
        value, g = super().mean(z, t)
        g *= g.dtype.type(z.shape[1])
        return value * z.shape[1], g


def token_cross_entropy(z: Array, ids: Array) -> tuple[float, Array]:
    """The mean cross-entropy of next-token logits over every position of every sequence.

        L = −(1/N) Σ_{n,t} log softmax(z[n, t])[y[n, t]]       N = n_samples · T
        ∂L/∂z[n, t] = (softmax(z[n, t]) − onehot(y[n, t])) / N

    Parameters
    ----------
    z : ndarray of shape (n_samples, T, n_vocab)
        Logits (a language model's last Dense, per time step).
    ids : ndarray of int, shape (n_samples, T)
        The target ids.

    Returns (L, ∂L/∂z), the gradient of z's shape and dtype.
    """
    if z.ndim != 3 or ids.shape != z.shape[:2]:
        raise ValueError(
            f"token_cross_entropy takes logits (n, T, n_vocab) and ids (n, T); got {z.shape} "
            f"and {ids.shape}"
        )
    rows = z.reshape(-1, z.shape[-1])
    p = softmax(rows)  # a new array
    picked = p[np.arange(len(rows)), ids.reshape(-1)]
    value = -float(np.mean(np.log(np.maximum(picked, np.finfo(p.dtype).tiny))))
    p[np.arange(len(rows)), ids.reshape(-1)] -= 1
    p *= p.dtype.type(1 / len(rows))
    return value, p.reshape(z.shape)
