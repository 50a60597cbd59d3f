"""Callbacks that watch one quantity of the epoch's logs: :class:`Monitor` (what they
share: the name, the direction, what counts as an improvement — Keras's
``MonitorCallback``), :class:`EarlyStopping` and :class:`ReduceLROnPlateau`
(:class:`~.model_checkpoint.ModelCheckpoint` is a Monitor too).

A quantity is watched in one direction: ``mode="min"`` or ``"max"``; ``"auto"`` reads the
direction that the metric declares (:func:`cartoonbrain.metrics.greater_is_better`: every
registered metric and family, with ``val_`` and Keras's short names; ``loss`` is
minimised) and refuses a name whose direction is unknown. Scores are kept *oriented*,
lower is better (``score = value`` for min, ``−value`` for max), and

    improvement  ⇔  score < best − min_delta
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..metrics import ALIASES, greater_is_better
from ..optimizers.schedules import Schedule
from .callbacks import Array, Callback, register_callback

__all__ = ["EarlyStopping", "Monitor", "ReduceLROnPlateau", "canonical"]


def canonical(monitor: str) -> str:
    """``"val_acc"`` → ``"val_accuracy"`` (Keras's short name), other names unchanged."""
    prefix = "val_" if monitor.startswith("val_") else ""
    base = monitor.removeprefix("val_")
    return prefix + ALIASES.get(base, base)


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer; got {value!r}")
    return int(value)


def _number(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"{name} must be a number or None; got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value!r}")
    return float(value)


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def _verbose(value: Any) -> int:
    if isinstance(value, (bool, np.bool_)) or value not in (0, 1):
        raise ValueError(f"verbose must be 0 or 1; got {value!r}")
    return int(value)


def _numbers(callback: Callback, state: dict[str, Array], **kinds: type) -> list[Any]:
    """The named numbers of a checkpoint's state, each as its kind (ValueError in one line
    naming the callback and what it expected)."""
    try:
        return [kind(state[key]) for key, kind in kinds.items()]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(
            f"{type(callback).__name__} state must hold {', '.join(kinds)}; got "
            f"{sorted(state)} ({exc})"
        ) from None


class Monitor(Callback):
    """Watch ``logs[monitor]`` at the end of each epoch; subclasses act on improvements.

    Parameters
    ----------
    monitor : str, e.g. "val_loss", "loss", "val_accuracy" ("val_acc" is accepted); without
        validation data a ``val_`` name falls back to the training quantity
    mode : "auto" (default: the metric's declared direction), "min" or "max"
    min_delta : float >= 0, the smallest change that counts as an improvement
    """

    def __init__(self, monitor: str, mode: str | None = "auto", min_delta: float = 0.0) -> None:
        name = type(self).__name__
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(f"monitor must be the name of a logged quantity; got {monitor!r}")
        if isinstance(min_delta, bool) or not (
            isinstance(min_delta, (int, float, np.number)) and min_delta >= 0
        ):
            raise ValueError(f"min_delta must be >= 0; got {min_delta!r}")
        self.monitor = canonical(monitor)
        if mode in (None, "auto"):
            try:
                mode = "max" if greater_is_better(self.monitor) else "min"
            except ValueError as exc:
                raise ValueError(
                    f"{name} cannot pick a mode for {monitor!r}: {exc}; pass mode='min' or "
                    "mode='max'"
                ) from None
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max'; got {mode!r}")
        self.mode, self.min_delta = mode, float(min_delta)
        self.best = math.inf  # oriented: lower is better

    def oriented(self, value: float) -> float:
        """value for mode "min", −value for "max": lower is always better."""
        return value if self.mode == "min" else -value

    def current(self, logs: dict[str, float]) -> float:
        """The oriented score of this epoch (ValueError if fit does not log the quantity)."""
        key = self.monitor if self.monitor in logs else self.monitor.removeprefix("val_")
        if key not in logs:
            raise ValueError(
                f"{type(self).__name__} monitors {self.monitor!r}, which fit does not report "
                f"(it reports {', '.join(logs)})"
            )
        return self.oriented(logs[key])

    def is_improvement(self, score: float) -> bool:
        """score < best − min_delta (NaN never improves)."""
        return score < self.best - self.min_delta


@register_callback
class EarlyStopping(Monitor):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs
    (Keras 3's ``EarlyStopping``, its arguments and rule)::

        each epoch e ≥ start_from_epoch:  wait ← wait + 1
            improvement on the best:      best ← score, best_epoch ← e; wait ← 0 if it
                                          also improves on the baseline (or there is none)
            otherwise, wait ≥ patience:   stop (stopped_epoch ← e)

    Parameters
    ----------
    monitor : str, default "val_loss" (falls back to "loss" without validation data)
    patience : int, default 5 (Keras: 0)
    min_delta : float, default 0
    mode : "auto" (default: the metric's declared direction), "min" or "max"
    restore_best_weights : bool, default True (Keras: False)
        At the end of every fit (stopped early or not), put back the weights of the best
        epoch (of the first watched epoch when none improved on the baseline).
    verbose : 0 or 1, default 0
        1: a line when it stops and when it restores the weights.
    baseline : float, optional
        Training stops when ``patience`` epochs go by without beating it.
    start_from_epoch : int, default 0
        The epochs to let go by unwatched (a warm-up).
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str | None = "auto",
        restore_best_weights: bool = True,
        verbose: int = 0,
        baseline: float | None = None,
        start_from_epoch: int = 0,
    ) -> None:
        self.patience = _count("patience", patience)
        self.start_from_epoch = _count("start_from_epoch", start_from_epoch)
        self.verbose = _verbose(verbose)
        super().__init__(monitor, mode, min_delta)
        self.restore_best_weights = _flag("restore_best_weights", restore_best_weights)
        self.baseline = _number("baseline", baseline)
        self.best_epoch, self.wait, self.stopped_epoch = 0, 0, 0
        self.best_weights: Array | None = None

    @classmethod
    def example(cls, folder: str) -> EarlyStopping:
        return cls(monitor="loss", patience=1, baseline=10.0, start_from_epoch=1)

    def on_train_begin(self, logs: dict[str, float]) -> None:
        self.stop_training = False
        self.best, self.best_weights = math.inf, None
        self.best_epoch = self.wait = self.stopped_epoch = 0

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        score = self.current(logs)
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.network.flat_parameters.copy(), epoch
        self.wait += 1
        if self.is_improvement(score):
            self.best, self.best_epoch = score, epoch
            if self.restore_best_weights:
                self.best_weights = self.network.flat_parameters.copy()
            if self.baseline is None or score < self.oriented(self.baseline) - self.min_delta:
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch, self.stop_training = epoch, True

    def on_train_end(self, logs: dict[str, float]) -> None:
        if self.stop_training and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping", flush=True)
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}.",
                    flush=True,
                )
            self.network.flat_parameters[...] = self.best_weights

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "stop_training": self.stop_training,
            "stopped_epoch": self.stopped_epoch,
        }
        if self.best_weights is not None:
            state["best_weights"] = self.best_weights
        return state

    def load_state_dict(self, state: dict[str, Array]) -> None:
        try:
            best, best_epoch = float(state["best"]), int(state["best_epoch"])
            wait, stop = int(state["wait"]), bool(state["stop_training"])
            stopped_epoch = int(state.get("stopped_epoch", 0))  # absent in 0.1.0's files
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
        self.stopped_epoch = stopped_epoch
        self.best_weights = None if weights is None else np.array(weights, copy=True)


@register_callback
class ReduceLROnPlateau(Monitor):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved for
    ``patience`` epochs (Keras's ``ReduceLROnPlateau``): lr ← max(lr · factor, min_lr),
    then wait ``cooldown`` epochs before watching again; ``verbose=1`` prints a line
    each time it lowers the rate.
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
        verbose: int = 0,
    ) -> None:
        factor_ = _number("factor", factor)
        if factor_ is None or not 0 < factor_ < 1:
            raise ValueError(f"factor must be in (0, 1); got {factor!r}")
        min_lr_ = _number("min_lr", min_lr)
        if min_lr_ is None or min_lr_ < 0:
            raise ValueError(f"min_lr must be >= 0; got {min_lr!r}")
        self.verbose = _verbose(verbose)
        super().__init__(monitor, mode, min_delta)
        self.factor, self.min_lr = factor_, min_lr_
        self.patience, self.cooldown = _count("patience", patience), _count("cooldown", cooldown)
        self.wait = self.cooldown_left = 0

    @classmethod
    def example(cls, folder: str) -> ReduceLROnPlateau:
        return cls(monitor="loss", factor=0.5, patience=2, cooldown=1, min_delta=10.0)

    def on_train_begin(self, logs: dict[str, float]) -> None:
        self.best, self.wait, self.cooldown_left = math.inf, 0, 0
        optimizer = self.network.optimizer
        if optimizer is not None and isinstance(optimizer.learning_rate, Schedule):
            raise ValueError(
                "ReduceLROnPlateau changes a fixed learning rate; the optimizer's is a "
                f"schedule ({optimizer.learning_rate!r}): use one or the other"
            )

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "wait": self.wait, "cooldown_left": self.cooldown_left}

    def load_state_dict(self, state: dict[str, Array]) -> None:
        self.best, self.wait, self.cooldown_left = _numbers(
            self, state, best=float, wait=int, cooldown_left=int
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
                if self.verbose:
                    print(
                        f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                        f"{optimizer.learning_rate}.",
                        flush=True,
                    )
