"""Normalisation layers: BatchNorm (over the batch) and LayerNorm (over the features).

Both standardise their input and then let the network rescale it, with a learnt scale γ
and shift β per feature:

    x̂ = (x − μ) / √(σ² + ε)        o = γ ⊙ x̂ + β

They differ in what μ and σ² are averaged over. BatchNorm takes them over the batch (and
over every position of a channel, for ``(n, C, L)`` and ``(n, C, H, W)`` inputs) while
training, and over the whole training set, as running averages, for prediction. LayerNorm
takes them over each sample's own features, the same way in training and prediction.

The backward pass carries ``G = ∂L/∂O`` through the standardisation. With m values
averaged per statistic (Σ sums over those m):

    ∇γ = Σ G ⊙ x̂        ∇β = Σ G
    G_prev = (γ / (m √(σ² + ε))) ⊙ (m G − Σ G − x̂ ⊙ Σ (G ⊙ x̂))      (statistics of the batch)
    G_prev = G ⊙ γ / √(σ²_run + ε)                                   (running statistics)

The first line of G_prev is the gradient of a mean and a variance that depend on every
input they average over; with fixed running statistics the layer is a per-feature affine
map and only the second remains.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .._validation import is_number
from .base import Array, Layer, Shape, _positive_int, register_layer

__all__ = ["BatchNorm", "LayerNorm"]


def _fraction(name: str, value: object, low: float, high: float) -> float:
    if not is_number(value) or not low < value < high:
        raise ValueError(f"{name} must be a number in ({low:g}, {high:g}); got {value!r}")
    return float(value)


class _Norm(Layer):
    """γ and β of shape (n_features,), bound to the network's buffers; γ = 1, β = 0 at first."""

    parameter_names = ("gamma", "beta")
    keeps_shape = True  # the output has the input's shape

    def __init__(self, n_features: int, eps: float) -> None:
        self.n_features = _positive_int("n_features", n_features)
        self.eps = _fraction("eps", eps, 0.0, 1.0)
        self.gamma: Array | None = None
        self.beta: Array | None = None
        self.dgamma: Array | None = None
        self.dbeta: Array | None = None
        # caches of the last forward pass
        self.x_hat: Array | None = None
        self.inv_std: Array | None = None

    def parameter_shapes(self) -> list[Shape]:
        return [(self.n_features,), (self.n_features,)]

    def bind(self, params: list[Array], grads: list[Array]) -> None:
        self.gamma, self.beta = params
        self.dgamma, self.dbeta = grads

    def initialize(self, rng: np.random.Generator) -> None:
        assert self.gamma is not None and self.beta is not None
        self.gamma[...] = 1
        self.beta[...] = 0


@register_layer
class BatchNorm(_Norm):
    """Batch normalisation over axis 1 of ``(n, F)``, ``(n, C, L)`` or ``(n, C, H, W)``.

        training:    μ, σ² = mean and variance of the batch (per feature or channel)
                     μ_run ← (1 − momentum) μ_run + momentum μ
                     σ²_run ← (1 − momentum) σ²_run + momentum σ² m / (m − 1)
        prediction:  μ, σ² = μ_run, σ²_run
        both:        x̂ = (x − μ) / √(σ² + ε),    o = γ ⊙ x̂ + β

    as PyTorch's ``BatchNorm1d``/``BatchNorm2d`` (the same momentum, ε and unbiased running
    variance), so trained weights carry over. Axis 1 is always the feature (channel) axis:
    for a sequence ``(n, time, features)`` use :class:`LayerNorm`, or put the features
    first.

    The running statistics are not parameters (no gradient, no optimizer): they are the
    layer's *state*, read and written through :meth:`state_arrays` and
    :meth:`load_state_arrays`, which model files and checkpoints store beside the
    parameters (see :mod:`cartoonbrain.layers.state`).

    Parameters
    ----------
    n_features : int
        F, or the number of channels C.
    momentum : float, default 0.1
        Weight of each batch in the running averages.
    eps : float, default 1e-5
        ε, added to the variance.
    """

    #: names of the non-trainable arrays that :meth:`state_arrays` returns
    state_names = ("running_mean", "running_var")

    def __init__(self, n_features: int, momentum: float = 0.1, eps: float = 1e-5) -> None:
        super().__init__(n_features, eps)
        self.momentum = _fraction("momentum", momentum, 0.0, 1.0)
        self.running_mean: Array = np.zeros(self.n_features)
        self.running_var: Array = np.ones(self.n_features)
        self.batch_statistics = False  # whether the last forward used the batch's μ, σ²

    @classmethod
    def example(cls) -> tuple[BatchNorm, Shape]:
        return cls(3), (3, 4)

    def bind(self, params: list[Array], grads: list[Array]) -> None:
        super().bind(params, grads)
        dtype = params[0].dtype  # the state follows the network's dtype
        self.running_mean = self.running_mean.astype(dtype, copy=False)
        self.running_var = self.running_var.astype(dtype, copy=False)

    def initialize(self, rng: np.random.Generator) -> None:
        super().initialize(rng)
        self.running_mean[...] = 0
        self.running_var[...] = 1

    # ------------------------------------------------------------------ state
    def state_arrays(self) -> dict[str, Array]:
        """The running statistics by name: the live arrays (writes go through)."""
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def load_state_arrays(self, arrays: Mapping[str, Any]) -> None:
        """Set the running statistics from :meth:`state_arrays`' names and shapes.

        Raises ValueError naming a missing, unknown or misshapen array.
        """
        _load_state(self, self.state_arrays(), arrays)

    # ------------------------------------------------------------------ the maths
    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        if input_shape is not None and (
            not 1 <= len(input_shape) <= 3 or input_shape[0] != self.n_features
        ):
            raise ValueError(
                f"BatchNorm({self.n_features}) takes inputs of shape ({self.n_features},), "
                f"({self.n_features}, L) or ({self.n_features}, H, W); got {input_shape}"
            )
        return input_shape

    def _axes(self, x: Array) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The axes averaged over and the shape that lines (F,) up with axis 1 of ``x``."""
        if x.ndim < 2 or x.ndim > 4 or x.shape[1] != self.n_features:
            self.output_shape(x.shape[1:])  # raises, naming the shape
            raise ValueError(f"BatchNorm takes a batch of samples; got shape {x.shape}")
        axes = (0, *range(2, x.ndim))
        return axes, (1, self.n_features) + (1,) * (x.ndim - 2)

    def forward(self, o_prev: Array, training: bool = False) -> Array:
        """x̂ = (x − μ) / √(σ² + ε);  o = γ x̂ + β. Caches x̂ and 1/√(σ² + ε)."""
        assert self.gamma is not None and self.beta is not None
        axes, line = self._axes(o_prev)
        m = o_prev.size // self.n_features
        if training:
            if m < 2:
                raise ValueError(
                    f"BatchNorm needs more than 1 value per feature to train; got a batch of "
                    f"shape {o_prev.shape}"
                )
            mean = o_prev.mean(axis=axes)
            centred = o_prev - mean.reshape(line)
            var = np.mean(centred * centred, axis=axes)
            k = self.momentum
            self.running_mean *= 1 - k
            self.running_mean += k * mean
            self.running_var *= 1 - k
            self.running_var += (k * m / (m - 1)) * var
        else:
            centred = o_prev - self.running_mean.reshape(line)
            var = self.running_var
        inv_std = 1 / np.sqrt(var + o_prev.dtype.type(self.eps))
        self.batch_statistics = training
        self.inv_std = inv_std.astype(o_prev.dtype, copy=False)
        self.x_hat = centred * self.inv_std.reshape(line)
        return self.x_hat * self.gamma.reshape(line) + self.beta.reshape(line)

    def infer(self, o_prev: Array) -> Array:
        """o = x s + (β − μ_run s), with s = γ / √(σ²_run + ε): one product and one sum."""
        assert self.gamma is not None and self.beta is not None
        _, line = self._axes(o_prev)
        scale = self.gamma / np.sqrt(self.running_var + o_prev.dtype.type(self.eps))
        shift = self.beta - self.running_mean * scale
        return o_prev * scale.reshape(line) + shift.reshape(line)

    def backward(self, g: Array, need_input_gradient: bool = True) -> Array | None:
        """∇γ = Σ G x̂;  ∇β = Σ G;  G_prev as in the module's docstring (batch or running)."""
        assert self.x_hat is not None and self.inv_std is not None and self.gamma is not None
        assert self.dgamma is not None and self.dbeta is not None
        axes, line = self._axes(g)
        sum_g = g.sum(axis=axes)
        sum_g_x_hat = np.sum(g * self.x_hat, axis=axes)
        self.dgamma[...] = sum_g_x_hat
        self.dbeta[...] = sum_g
        if not need_input_gradient:
            return None
        scale = (self.gamma * self.inv_std).reshape(line)
        if not self.batch_statistics:
            return g * scale
        m = g.size // self.n_features
        mean_g, mean_g_x_hat = sum_g / m, sum_g_x_hat / m
        return scale * (g - mean_g.reshape(line) - self.x_hat * mean_g_x_hat.reshape(line))

    def get_config(self) -> dict[str, Any]:
        return {
            "type": "BatchNorm",
            "n_features": self.n_features,
            "momentum": self.momentum,
            "eps": self.eps,
        }


@register_layer
class LayerNorm(_Norm):
    """Layer normalisation over the last axis: each sample (each time step) by itself.

        μ, σ² = mean and variance of x over its last axis (n_features values)
        x̂ = (x − μ) / √(σ² + ε),     o = γ ⊙ x̂ + β

    as PyTorch's ``LayerNorm(n_features)``; the same in training and prediction. Inputs are
    ``(n, n_features)`` or ``(n, ..., n_features)``, e.g. ``(n, time, features)``.

    Parameters
    ----------
    n_features : int
        The size of the last axis.
    eps : float, default 1e-5
        ε, added to the variance.
    """

    def __init__(self, n_features: int, eps: float = 1e-5) -> None:
        super().__init__(n_features, eps)

    @classmethod
    def example(cls) -> tuple[LayerNorm, Shape]:
        return cls(4), (2, 4)

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        if input_shape is not None and (not input_shape or input_shape[-1] != self.n_features):
            raise ValueError(
                f"LayerNorm({self.n_features}) takes inputs whose last axis has "
                f"{self.n_features} features; got {input_shape}"
            )
        return input_shape

    def forward(self, o_prev: Array, training: bool = False) -> Array:
        """x̂ = (x − μ) / √(σ² + ε) over the last axis;  o = γ x̂ + β. Caches x̂, 1/√(σ² + ε)."""
        assert self.gamma is not None and self.beta is not None
        if o_prev.ndim < 2:
            raise ValueError(f"LayerNorm takes a batch of samples; got shape {o_prev.shape}")
        self.output_shape(o_prev.shape[1:])
        centred = o_prev - o_prev.mean(axis=-1, keepdims=True)
        var = np.mean(centred * centred, axis=-1, keepdims=True)
        self.inv_std = 1 / np.sqrt(var + o_prev.dtype.type(self.eps))
        self.x_hat = centred * self.inv_std
        return self.x_hat * self.gamma + self.beta

    def backward(self, g: Array, need_input_gradient: bool = True) -> Array | None:
        """∇γ = Σ G x̂;  ∇β = Σ G (over all but the last axis);  with Ĝ = G γ,

        G_prev = (Ĝ − mean(Ĝ) − x̂ mean(Ĝ x̂)) / √(σ² + ε)   (means over the last axis)
        """
        assert self.x_hat is not None and self.inv_std is not None and self.gamma is not None
        assert self.dgamma is not None and self.dbeta is not None
        rows = g.reshape(-1, self.n_features)
        self.dgamma[...] = np.sum(rows * self.x_hat.reshape(rows.shape), axis=0)
        self.dbeta[...] = rows.sum(axis=0)
        if not need_input_gradient:
            return None
        g_hat = g * self.gamma
        mean_g = g_hat.mean(axis=-1, keepdims=True)
        mean_g_x_hat = np.mean(g_hat * self.x_hat, axis=-1, keepdims=True)
        return (g_hat - mean_g - self.x_hat * mean_g_x_hat) * self.inv_std

    def get_config(self) -> dict[str, Any]:
        return {"type": "LayerNorm", "n_features": self.n_features, "eps": self.eps}


def _load_state(layer: Layer, current: Mapping[str, Array], arrays: Mapping[str, Any]) -> None:
    """Copy ``arrays`` into the layer's ``current`` state arrays, checking names and shapes."""
    missing, unknown = set(current) - set(arrays), set(arrays) - set(current)
    if missing or unknown:
        raise ValueError(
            f"{layer!r}: state arrays {sorted(arrays)} do not match the expected {sorted(current)}"
        )
    for name, target in current.items():
        value = np.asarray(arrays[name])
        if value.shape != target.shape:
            raise ValueError(
                f"{layer!r}: state array {name!r} has shape {value.shape}; expected {target.shape}"
            )
        target[...] = value
