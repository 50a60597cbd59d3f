"""Regression losses: squared error (the post's E = ½ ‖y − t‖²), mse, mae, Huber, Poisson."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import positive
from .base import Array, Loss, _regression_targets, register_loss

__all__ = ["Huber", "MeanAbsoluteError", "MeanSquaredError", "Poisson", "SquaredError"]


@register_loss
class SquaredError(Loss):
    name = "squared_error"

    def per_sample(self, y: Array, t: Array) -> Array:
        d = np.subtract(y, t, dtype=np.float64)
        return np.einsum("ij,ij->i", d, d) / 2

    def mean(self, y: Array, t: Array) -> tuple[float, Array]:
        d = y - t
        n = y.shape[0]
        value = float(np.vdot(d, d)) / (2 * n)
        d *= d.dtype.type(1 / n)
        return value, d

    def prepare_targets(self, t: Any, n_outputs: int, dtype: np.dtype) -> Array:
        return _regression_targets(t, n_outputs, dtype, self.name)


@register_loss
class MeanSquaredError(Loss):
    name = "mse"

    def per_sample(self, y: Array, t: Array) -> Array:
        d = np.subtract(y, t, dtype=np.float64)
        return np.einsum("ij,ij->i", d, d) / y.shape[1]

    def mean(self, y: Array, t: Array) -> tuple[float, Array]:
        d = y - t
        value = float(np.vdot(d, d)) / d.size
        d *= d.dtype.type(2 / d.size)
        return value, d

    def prepare_targets(self, t: Any, n_outputs: int, dtype: np.dtype) -> Array:
        return _regression_targets(t, n_outputs, dtype, self.name)


@register_loss
class MeanAbsoluteError(Loss):
    """The mean absolute error, as Keras's ``MeanAbsoluteError`` ("mae") and PyTorch's
    ``L1Loss``: the mean over samples and outputs of |y − t|,

        L = (1/(n k)) Σ_ij |y_ij − t_ij|          ∂L/∂Y = sign(Y − T) / (n k)

    (the gradient is taken as 0 where y = t, as both libraries take it).
    """

    name = "mae"

    def per_sample(self, y: Array, t: Array) -> Array:
        return np.abs(np.subtract(y, t, dtype=np.float64)).mean(axis=1)

    def mean(self, y: Array, t: Array) -> tuple[float, Array]:
        d = y - t
        value = float(np.abs(d).mean(dtype=np.float64))
        np.sign(d, out=d)
        d *= d.dtype.type(1 / d.size)
        return value, d

    def prepare_targets(self, t: Any, n_outputs: int, dtype: np.dtype) -> Array:
        return _regression_targets(t, n_outputs, dtype, self.name)


@register_loss
class Poisson(Loss):
    """Half the Poisson deviance, from the log of the rate (the logits z), as
    scikit-learn's MLPRegressor(loss="poisson"): with ŷ = e^z,

        L = (1/n) Σ_i Σ_j [t log(t / ŷ) − t + ŷ]          ∂L/∂Z = (e^Z − T) / n

    (t log t is 0 at t = 0); ``predict`` returns ŷ = e^z. Targets must be ≥ 0.
    """

    name = "poisson"
    output_activation = "exp"

    def per_sample(self, z: Array, t: Array) -> Array:
        z, t = np.asarray(z, dtype=np.float64), np.asarray(t, dtype=np.float64)
        t_log_t = t * np.log(np.where(t > 0, t, 1.0))
        return (t_log_t - t * z - t + np.exp(z)).sum(axis=1)

    def mean(self, z: Array, t: Array) -> tuple[float, Array]:
        value = float(self.per_sample(z, t).mean())
        g = np.exp(z)
        g -= t
        g *= g.dtype.type(1 / z.shape[0])
        return value, g

    def output(self, z: Array, in_place: bool = False) -> Array:
        return np.exp(z, out=z if in_place else None)

    def prepare_targets(self, t: Any, n_outputs: int, dtype: np.dtype) -> Array:
        t = _regression_targets(t, n_outputs, dtype, self.name)
        bad = np.flatnonzero((t < 0).any(axis=1))
        if bad.size:
            raise ValueError(
                f"poisson needs targets >= 0 (counts or rates); row {int(bad[0])} has "
                f"{t[int(bad[0])].tolist()}"
            )
        return t


@register_loss
class Huber(Loss):
    """The Huber loss, as PyTorch's ``HuberLoss(delta)`` and Keras's ``Huber(delta)``
    (both δ = 1 by default): the mean over samples and outputs of a squared error that
    turns linear past δ, so outliers pull less:

        ℓ(d) = ½ d²             for |d| ≤ δ        d = y − t
             = δ (|d| − ½ δ)    otherwise
        L = (1/(n k)) Σ_ij ℓ(d_ij)           ∂L/∂Y = clip(D, −δ, δ) / (n k)

    ``get_loss({"name": "huber", "delta": 2.0})`` names it with its δ; a network saves it
    so.
    """

    name = "huber"
    delta = 1.0  # for a Huber pickled before delta was an argument

    def __init__(self, delta: float = 1.0) -> None:
        self.delta = positive("delta", delta)

    def per_sample(self, y: Array, t: Array) -> Array:
        d = np.abs(np.subtract(y, t, dtype=np.float64))
        small = np.minimum(d, self.delta)  # ℓ = ½ s² + δ (|d| − s), s = min(|d|, δ)
        return (0.5 * small * small + self.delta * (d - small)).mean(axis=1)

    def mean(self, y: Array, t: Array) -> tuple[float, Array]:
        value = float(self.per_sample(y, t).mean())
        g = y - t
        np.clip(g, -self.delta, self.delta, out=g)
        g *= g.dtype.type(1 / g.size)
        return value, g

    def prepare_targets(self, t: Any, n_outputs: int, dtype: np.dtype) -> Array:
        return _regression_targets(t, n_outputs, dtype, self.name)
