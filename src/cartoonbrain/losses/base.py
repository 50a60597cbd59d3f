"""The common part of every loss (:class:`Loss`), its registry (``LOSSES``,
:func:`register_loss`, :func:`get_loss`) and the check of regression targets."""

from __future__ import annotations

import inspect
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from .._registry import claim
from .._validation import known_options

Array = NDArray[Any]

__all__ = ["LOSSES", "Loss", "get_loss", "loss_config", "register_loss"]


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

    def get_config(self) -> dict[str, Any]:
        """``{"name": ..., <constructor arguments>}``, e.g. ``{"name": "huber", "delta": 2.0}``."""
        config: dict[str, Any] = {"name": self.name}
        for key in inspect.signature(type(self)).parameters:
            config[key] = getattr(self, key)
        return config

    def __repr__(self) -> str:
        options = {k: v for k, v in self.get_config().items() if k != "name"}
        if not options:
            return f"get_loss({self.name!r})"
        return f"get_loss({self.get_config()!r})"


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


def loss_config(loss: Loss) -> str | dict[str, Any]:
    """What a config or model file stores for ``loss``: its name, or, when it was built
    with options other than their defaults (``Huber(delta=2.0)``), its config dict."""
    config = loss.get_config()
    defaults = {
        key: parameter.default
        for key, parameter in inspect.signature(type(loss)).parameters.items()
    }
    if all(config[key] == defaults[key] for key in defaults):
        return loss.name
    return config


def get_loss(loss: str | Loss | dict[str, Any]) -> Loss:
    """A loss by name (``"mse"``, ``"squared_error"``, ``"cross_entropy"``, ...), by config
    dict (``{"name": "huber", "delta": 2.0}``, as :meth:`Loss.get_config` gives), or a
    :class:`Loss` passed through."""
    if isinstance(loss, Loss):
        return loss
    options: dict[str, Any] = {}
    if isinstance(loss, dict):
        options = {k: v for k, v in loss.items() if k != "name"}
        loss = loss.get("name")  # type: ignore[assignment]
    if isinstance(loss, str) and loss in LOSSES:
        cls = LOSSES[loss]
        return cls(**known_options(cls, options, f"loss {loss!r}"))
    raise ValueError(f"unknown loss {loss!r}; expected one of {', '.join(LOSSES)}")
