"""Losses: the value L(Y, T) and its gradient ∂L/∂Y with respect to the network's output.

Every loss is the mean over the batch of n samples. ``Y`` is what the last layer gives:
for the two cross-entropy losses it is the last layer's affines (logits, the last Dense
is ``"identity"``), and the softmax or sigmoid is applied inside the loss, where it can
be done exactly::

    squared_error         L = (1/n) Σ_i ½ ‖y_i − t_i‖²          ∂L/∂Y = (Y − T) / n
                          (the post's E = ½ ‖y − t‖², per sample)
    mse                   L = (1/(n k)) Σ_ij (y_ij − t_ij)²       ∂L/∂Y = 2 (Y − T) / (n k)
                          (as PyTorch's MSELoss: the mean over samples and outputs)
    cross_entropy         L = (1/n) Σ_i [logsumexp(z_i) − z_i,t_i]  ∂L/∂Z = (softmax(Z) − T) / n
    binary_cross_entropy  L = mean over entries of [softplus(z) − t z]   ∂L/∂Z = (σ(Z) − T) / N

with T one-hot for ``cross_entropy`` (class ids are accepted and used as such) and
``N`` the number of entries of Z for ``binary_cross_entropy``. Both are finite for any
finite logits (logsumexp is taken after subtracting the row maximum, softplus as
``max(z, 0) + log1p(e^−|z|)``).
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from . import _kernels
from ._registry import claim
from .activations import few_classes, row_max, row_sum, softmax, stable_sigmoid

Array = NDArray[Any]

__all__ = ["LOSSES", "Loss", "get_loss", "register_loss", "token_cross_entropy"]


class Loss:
    """A loss: ``value_and_gradient(Y, T) -> (L, ∂L/∂Y)`` plus how to read its targets."""

    name = "loss"
    #: True for the losses whose targets are classes
    classification = False
    #: the activation this loss applies itself to the logits (predict applies it too)
    output_activation: str | None = None

    def __call__(self, y: Array, t: Array, sample_weight: Array | None = None) -> float:
        if sample_weight is None:  # a loss written before sample weights takes (y, t) only
            return self.value_and_gradient(y, t)[0]
        return self.value_and_gradient(y, t, sample_weight)[0]

    def value_and_gradient(
        self, y: Array, t: Array, sample_weight: Array | None = None
    ) -> tuple[float, Array]:
        """The loss and ∂L/∂Y. With ``sample_weight`` w (one non-negative number per row),
        the weighted mean of the samples' losses ℓ_i, as scikit-learn's losses take it:

            L = Σ_i w_i ℓ_i / Σ_i w_i          ∂L/∂y_i = (w_i / Σ_i w_i) ∂ℓ_i/∂y_i

        (without weights, w_i = 1: the plain mean). Subclasses implement :meth:`mean`
        and :meth:`per_sample`.
        """
        if sample_weight is None:
            return self.mean(y, t)
        w = np.asarray(sample_weight, dtype=np.float64)
        total = float(w.sum())
        if w.shape != (y.shape[0],) or not total > 0:
            raise ValueError(
                f"sample_weight must hold one non-negative weight per row ({y.shape[0]}) "
                f"with a positive sum; got shape {w.shape}, sum {total}"
            )
        _, g = self.mean(y, t)  # (1/n) ∂ℓ_i/∂y_i in row i
        scale = (w * (y.shape[0] / total)).astype(g.dtype)
        g *= scale.reshape(-1, *([1] * (g.ndim - 1)))
        return float(np.dot(w, self.per_sample(y, t))) / total, g

    def mean(self, y: Array, t: Array) -> tuple[float, Array]:
        """The unweighted loss (the mean of the ℓ_i) and its gradient ∂L/∂Y."""
        raise NotImplementedError

    def per_sample(self, y: Array, t: Array) -> Array:
        """ℓ_i, the loss of each row alone, shape (n_samples,), in float64."""
        raise NotImplementedError

    def output(self, y: Array, in_place: bool = False) -> Array:
        """What ``predict`` returns for the network's output ``y`` (may overwrite ``y``
        when ``in_place``)."""
        return y

    def prepare_targets(self, t: Any, n_outputs: int, dtype: np.dtype) -> Array:
        """Check the targets against the network's output size; return them ready to use.

        Raises ValueError naming the first bad entry and what was expected.
        """
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"get_loss({self.name!r})"


#: The losses that configs and model files can name, by :attr:`Loss.name`: filled by
#: :func:`register_loss` where each loss class is declared.
LOSSES: dict[str, type[Loss]] = {}

Loss_ = TypeVar("Loss_", bound=type[Loss])


def register_loss(cls: Loss_) -> Loss_:
    """Class decorator: make the loss ``cls`` usable by its :attr:`~Loss.name`, in
    ``Network(loss=...)``, configs, and model files (``save`` writes it, ``load`` reads it).

    Raises ValueError when ``cls`` is not a Loss with a name of its own, or when another
    class already holds that name (a new loss may not replace a built-in silently).
    """
    if not (isinstance(cls, type) and issubclass(cls, Loss)):
        raise ValueError(f"register_loss takes a subclass of Loss; got {cls!r}")
    name = cls.name
    if not isinstance(name, str) or not name or name == Loss.name:
        raise ValueError(f"{cls.__qualname__} needs a name of its own (name = ...); got {name!r}")
    return claim(LOSSES, name, cls, "loss")


def _regression_targets(t: Any, n_outputs: int, dtype: np.dtype, name: str) -> Array:
    t = np.asarray(t)
    if t.dtype.kind not in "biuf":
        raise ValueError(f"{name} needs numeric targets; got an array of dtype {t.dtype}")
    if t.ndim == 1 and n_outputs == 1:
        t = t.reshape(-1, 1)
    if t.ndim != 2 or t.shape[1] != n_outputs:
        raise ValueError(
            f"targets have shape {t.shape}; expected (n_samples, {n_outputs}) to match the "
            f"network's {n_outputs} outputs" + (" (or (n_samples,))" if n_outputs == 1 else "")
        )
    return np.ascontiguousarray(t, dtype=dtype)


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
class CrossEntropy(Loss):
    name = "cross_entropy"
    classification = True
    output_activation = "softmax"

    def per_sample(self, z: Array, t: Array) -> Array:
        z = np.asarray(z, dtype=np.float64)
        shifted = z - z.max(axis=1, keepdims=True)
        log_total = np.log(np.exp(shifted).sum(axis=1))
        if t.ndim == 1:
            return log_total - shifted[np.arange(len(z)), t]
        return np.einsum("ij,ij->i", t, log_total[:, None] - shifted)

    def mean(self, z: Array, t: Array) -> tuple[float, Array]:
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
    name = "binary_cross_entropy"
    classification = True
    output_activation = "sigmoid"

    def per_sample(self, z: Array, t: Array) -> Array:
        z = np.asarray(z, dtype=np.float64)
        per_entry = np.maximum(z, 0) - t * z + np.log1p(np.exp(-np.abs(z)))
        return per_entry.mean(axis=1)

    def mean(self, z: Array, t: Array) -> tuple[float, Array]:
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
    """The Huber loss, as PyTorch's ``HuberLoss(delta=1.0)``: the mean over samples and
    outputs of a squared error that turns linear past δ = 1, so outliers pull less:

        ℓ(d) = ½ d²             for |d| ≤ δ        d = y − t
             = δ (|d| − ½ δ)    otherwise
        L = (1/(n k)) Σ_ij ℓ(d_ij)           ∂L/∂Y = clip(D, −δ, δ) / (n k)
    """

    name = "huber"
    delta = 1.0

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


def get_loss(loss: str | Loss) -> Loss:
    """A loss by name (``"mse"``, ``"squared_error"``, ``"cross_entropy"``,
    ``"binary_cross_entropy"``) or a :class:`Loss` passed through."""
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str) and loss in LOSSES:
        return LOSSES[loss]()
    raise ValueError(f"unknown loss {loss!r}; expected one of {', '.join(LOSSES)}")


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
