"""Callbacks: hooks that ``fit`` calls at the start and end of training, of each epoch
and of each batch (Keras's protocol), and the ones that come with cartoonbrain."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from ..network import Network

Array = NDArray[Any]

__all__ = ["Callback", "EarlyStopping", "History", "LambdaCallback", "TrainingDiverged"]


class TrainingDiverged(ValueError):
    """The loss became NaN or infinite; the weights of the last finite step are kept."""


@dataclass
class History:
    """What ``fit`` returns: ``history["loss"]``, ``history["val_loss"]``, metrics per epoch."""

    history: dict[str, list[float]] = field(default_factory=dict)
    epoch: list[int] = field(default_factory=list)
    stopped_early: bool = False

    def append(self, epoch: int, logs: dict[str, float]) -> None:
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]


class Callback:
    """Hooks called by :func:`fit`. ``logs`` holds the epoch's loss, metrics and val_*."""

    network: Network

    def on_train_begin(self, logs: dict[str, float]) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict[str, float]) -> None: ...
    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None: ...
    def on_train_end(self, logs: dict[str, float]) -> None: ...

    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint keeps of this callback, so that a resumed ``fit`` goes on where
        it stopped: numbers and arrays by name (none by default)."""
        return {}

    def load_state_dict(self, state: dict[str, Array]) -> None:
        """Take back a :meth:`state_dict` from a checkpoint (as NumPy arrays; called by
        ``fit(resume=True)`` after ``on_train_begin``)."""

    #: set to True from a hook to stop after the current epoch
    stop_training = False


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda e, logs: ...)``."""

    def __init__(self, **hooks: Callable[..., None]) -> None:
        for name, hook in hooks.items():
            if not name.startswith("on_") or not hasattr(Callback, name):
                raise ValueError(f"unknown callback hook {name!r}")
            setattr(self, name, hook)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    Parameters
    ----------
    monitor : str, default "val_loss" (falls back to "loss" without validation data)
    patience : int, default 5
    min_delta : float, default 0
    mode : "min" or "max" (default: "max" for accuracy and r2, else "min")
    restore_best_weights : bool, default True
        Put back the weights of the best epoch when training stops.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str | None = None,
        restore_best_weights: bool = True,
    ) -> None:
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"patience must be a non-negative integer; got {patience!r}")
        if not min_delta >= 0:
            raise ValueError(f"min_delta must be >= 0; got {min_delta!r}")
        if mode is None:
            mode = "max" if monitor.split("val_")[-1] in ("accuracy", "r2") else "min"
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max'; got {mode!r}")
        self.monitor, self.patience, self.min_delta, self.mode = monitor, patience, min_delta, mode
        self.restore_best_weights = restore_best_weights
        self.best = math.inf
        self.best_epoch = -1
        self.wait = 0
        self.best_weights: Array | None = None

    def on_train_begin(self, logs: dict[str, float]) -> None:
        self.stop_training = False
        self.best, self.best_epoch, self.wait, self.best_weights = math.inf, -1, 0, None

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        key = self.monitor if self.monitor in logs else self.monitor.removeprefix("val_")
        if key not in logs:
            raise ValueError(f"EarlyStopping monitors {self.monitor!r}, which fit does not report")
        score = logs[key] if self.mode == "min" else -logs[key]
        if score < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = score, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.network.flat_parameters.copy()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stop_training = True

    def on_train_end(self, logs: dict[str, float]) -> None:
        if self.stop_training and self.restore_best_weights and self.best_weights is not None:
            self.network.flat_parameters[...] = self.best_weights

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "stop_training": self.stop_training,
        }
        if self.best_weights is not None:
            state["best_weights"] = self.best_weights
        return state

    def load_state_dict(self, state: dict[str, Array]) -> None:
        try:
            best, best_epoch = float(state["best"]), int(state["best_epoch"])
            wait, stop = int(state["wait"]), bool(state["stop_training"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(
                f"EarlyStopping state must hold best, best_epoch, wait and "
                f"stop_training; got {sorted(state)} ({exc})"
            ) from None
        weights = state.get("best_weights")
        flat = self.network.flat_parameters
        if weights is not None and (weights.shape != flat.shape or weights.dtype != flat.dtype):
            raise ValueError(
                f"EarlyStopping's best weights are {weights.dtype} {weights.shape}; the "
                f"network's parameters are {flat.dtype} {flat.shape}"
            )
        self.best, self.best_epoch, self.wait, self.stop_training = best, best_epoch, wait, stop
        self.best_weights = None if weights is None else np.array(weights, copy=True)
