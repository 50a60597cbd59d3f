"""Callbacks that watch one quantity of the epoch's logs: :class:`Monitor` (what they
share: the name, the direction, what counts as an improvement — Keras's
``MonitorCallback``), :class:`EarlyStopping`, :class:`ReduceLROnPlateau` and
:class:`ModelCheckpoint`.

A quantity is watched in one direction: ``mode="min"`` (losses, errors) or ``"max"``
(accuracy, r2, auc, precision, recall, f1); ``"auto"`` picks by the name. Scores are kept
*oriented*, lower is better (``score = value`` for min, ``−value`` for max), and

    improvement  ⇔  score < best − min_delta
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from ..optimizers.schedules import Schedule
from .callbacks import Array, Callback

__all__ = ["EarlyStopping", "ModelCheckpoint", "Monitor", "ReduceLROnPlateau"]

#: metric names (without ``val_``) where higher is better
HIGHER_IS_BETTER = ("accuracy", "r2", "auc", "precision", "recall", "f1", "top_k_accuracy")
#: Keras's short names
_ALIASES = {"acc": "accuracy"}


def canonical(monitor: str) -> str:
    """``"val_acc"`` → ``"val_accuracy"`` (Keras's short name), other names unchanged."""
    prefix = "val_" if monitor.startswith("val_") else ""
    base = monitor.removeprefix("val_")
    return prefix + _ALIASES.get(base, base)


class Monitor(Callback):
    """Watch ``logs[monitor]`` at the end of each epoch; subclasses act on improvements.

    Parameters
    ----------
    monitor : str, e.g. "val_loss", "loss", "val_accuracy" ("val_acc" is accepted); without
        validation data a ``val_`` name falls back to the training quantity
    mode : "auto" (default), "min" or "max"
    min_delta : float >= 0, the smallest change that counts as an improvement
    """

    def __init__(self, monitor: str, mode: str | None = "auto", min_delta: float = 0.0) -> None:
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(f"monitor must be the name of a logged quantity; got {monitor!r}")
        if not (isinstance(min_delta, (int, float)) and min_delta >= 0):
            raise ValueError(f"min_delta must be >= 0; got {min_delta!r}")
        self.monitor = canonical(monitor)
        base = self.monitor.removeprefix("val_")
        if mode in (None, "auto"):
            mode = "max" if base.startswith(HIGHER_IS_BETTER) else "min"
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max'; got {mode!r}")
        self.mode, self.min_delta = mode, float(min_delta)
        self.best = math.inf  # oriented: lower is better

    def current(self, logs: dict[str, float]) -> float:
        """The oriented score of this epoch (ValueError if fit does not log the quantity)."""
        key = self.monitor if self.monitor in logs else self.monitor.removeprefix("val_")
        if key not in logs:
            raise ValueError(
                f"{type(self).__name__} monitors {self.monitor!r}, which fit does not report "
                f"(it reports {', '.join(logs)})"
            )
        return logs[key] if self.mode == "min" else -logs[key]

    def is_improvement(self, score: float) -> bool:
        """score < best − min_delta (NaN never improves)."""
        return score < self.best - self.min_delta


class EarlyStopping(Monitor):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    Parameters
    ----------
    monitor : str, default "val_loss" (falls back to "loss" without validation data)
    patience : int, default 5
    min_delta : float, default 0
    mode : "auto" (default: "max" for accuracy, r2, auc, …; else "min"), "min" or "max"
    restore_best_weights : bool, default True
        Put back the weights of the best epoch when training stops.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str | None = "auto",
        restore_best_weights: bool = True,
    ) -> None:
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"patience must be a non-negative integer; got {patience!r}")
        super().__init__(monitor, mode, min_delta)
        self.patience, self.restore_best_weights = patience, restore_best_weights
        self.best_epoch, self.wait = -1, 0
        self.best_weights: Array | None = None

    def on_train_begin(self, logs: dict[str, float]) -> None:
        self.stop_training = False
        self.best, self.best_epoch, self.wait, self.best_weights = math.inf, -1, 0, None

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        score = self.current(logs)
        if self.is_improvement(score):
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


class ReduceLROnPlateau(Monitor):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved for
    ``patience`` epochs (Keras's ``ReduceLROnPlateau``): lr ← max(lr · factor, min_lr),
    then wait ``cooldown`` epochs before watching again.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        mode: str | None = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        if not (isinstance(factor, (int, float)) and 0 < factor < 1):
            raise ValueError(f"factor must be in (0, 1); got {factor!r}")
        for name, value in (("patience", patience), ("cooldown", cooldown)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer; got {value!r}")
        if not (isinstance(min_lr, (int, float)) and min_lr >= 0):
            raise ValueError(f"min_lr must be >= 0; got {min_lr!r}")
        super().__init__(monitor, mode, min_delta)
        self.factor, self.patience, self.cooldown = float(factor), patience, cooldown
        self.min_lr = float(min_lr)
        self.wait = self.cooldown_left = 0

    def on_train_begin(self, logs: dict[str, float]) -> None:
        self.best, self.wait, self.cooldown_left = math.inf, 0, 0
        optimizer = self.network.optimizer
        if optimizer is not None and isinstance(optimizer.learning_rate, Schedule):
            raise ValueError(
                "ReduceLROnPlateau changes a fixed learning rate; the optimizer's is a "
                f"schedule ({optimizer.learning_rate!r}): use one or the other"
            )

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        score = self.current(logs)
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.wait = 0
        if self.is_improvement(score):
            self.best, self.wait = score, 0
            return
        if self.cooldown_left > 0:
            return
        self.wait += 1
        optimizer = self.network.optimizer
        if self.wait >= self.patience and optimizer is not None:
            rate = float(optimizer.learning_rate)  # type: ignore[arg-type]
            if rate > self.min_lr:
                optimizer.learning_rate = max(rate * self.factor, self.min_lr)
                self.cooldown_left, self.wait = self.cooldown, 0


class ModelCheckpoint(Monitor):
    """Save the network after each epoch (Keras's ``ModelCheckpoint``), atomically.

    Parameters
    ----------
    filepath : path; may hold ``{epoch}`` and log names, e.g. ``"model-{epoch:02d}.npz"``
        or ``"best-{val_loss:.3f}.npz"`` (epochs counted from 1, as Keras)
    monitor, mode, min_delta : as :class:`Monitor`
    save_best_only : bool, default False
        Save only when ``monitor`` improves (the file then always holds the best model).
    include_optimizer : bool, default False
        Store the optimizer's state too (see :func:`cartoonbrain.save`).
    """

    def __init__(
        self,
        filepath: str | os.PathLike[str],
        monitor: str = "val_loss",
        save_best_only: bool = False,
        mode: str | None = "auto",
        min_delta: float = 0.0,
        include_optimizer: bool = False,
    ) -> None:
        super().__init__(monitor, mode, min_delta)
        self.filepath = os.fspath(filepath)
        self.save_best_only, self.include_optimizer = save_best_only, include_optimizer

    def on_train_begin(self, logs: dict[str, float]) -> None:
        self.best = math.inf

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.save_best_only:
            score = self.current(logs)
            if not self.is_improvement(score):
                return
            self.best = score
        try:
            path = self.filepath.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"ModelCheckpoint filepath {self.filepath!r} names {exc}, which is not "
                f"'epoch' or a logged quantity ({', '.join(logs)})"
            ) from None
        self.network.save(path, include_optimizer=self.include_optimizer)
