"""The training loop: shuffled mini-batches, validation, callbacks, History, checkpoints.

One step is the post's step on a mini-batch instead of one sample::

    forward (caches affines, transforms) → L, ∂L/∂O_L → backward (fills ∇W, ∇b) → optimizer

:func:`fit` is what ``Network.fit`` calls. Everything random (the shuffling of each epoch
and the dropout masks) comes from the network's seeded generator, so the same seed gives
bit-identical weights, and a checkpoint (weights, optimizer state, generator state, epoch,
history) lets a killed run resume and finish exactly as if it had never stopped.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .._validation import positive
from ..metrics import METRICS, default_metrics
from ..optimizers import Optimizer, get_optimizer
from ..schedules import Schedule
from .callbacks import Callback, History, TrainingDiverged
from .checkpoint import restore_checkpoint, save_checkpoint

if TYPE_CHECKING:
    from ..network import Network

Array = NDArray[Any]

__all__ = ["fit"]


def _check_positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def _split(
    net: Network, X: Array, t: Array, validation_data: Any, validation_split: float
) -> tuple[Array, Array, Array | None, Array | None]:
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("validation_data must be a pair (X_val, y_val)")
        Xv = net.check_inputs(validation_data[0], "X_val")
        return X, t, Xv, net.check_targets(validation_data[1], len(Xv), "y_val")
    if not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must be in [0, 1); got {validation_split!r}")
    if validation_split == 0:
        return X, t, None, None
    n_val = int(round(len(X) * validation_split))
    if n_val == 0 or n_val == len(X):
        raise ValueError(
            f"validation_split={validation_split} of {len(X)} samples leaves no "
            "training or no validation samples"
        )
    # as Keras: the last fraction of the data, before any shuffling
    return X[:-n_val], t[:-n_val], X[-n_val:], t[-n_val:]


class _Progress:
    """A tqdm bar over the batches when tqdm is installed and verbose == 1; else lines."""

    def __init__(self, verbose: int, epochs: int, n_batches: int) -> None:
        self.verbose, self.epochs, self.n_batches = verbose, epochs, n_batches
        self.bar: Any = None

    def start_epoch(self, epoch: int) -> None:
        if self.verbose != 1:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover - tqdm is an optional extra
            return
        self.bar = tqdm(
            total=self.n_batches,
            desc=f"Epoch {epoch + 1}/{self.epochs}",
            unit="batch",
            leave=False,
            file=sys.stderr,
            dynamic_ncols=True,
            disable=None,  # no bar when stderr is not a terminal (a log file, a pipe)
        )

    def batch(self, loss: float) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{loss:.4f}", refresh=False)

    def end_epoch(self, epoch: int, logs: dict[str, float]) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.verbose:
            text = " - ".join(f"{k} {v:.4f}" for k, v in logs.items())
            print(f"Epoch {epoch + 1}/{self.epochs} - {text}", flush=True)


def fit(
    net: Network,
    X: Any,
    y: Any,
    *,
    epochs: int = 1,
    batch_size: int = 32,
    optimizer: str | Optimizer | dict[str, Any] = "adam",
    learning_rate: float | None = None,
    validation_data: tuple[Any, Any] | None = None,
    validation_split: float = 0.0,
    shuffle: bool = True,
    metrics: Sequence[str] | None = None,
    callbacks: Iterable[Callback] = (),
    verbose: int = 0,
    checkpoint: str | os.PathLike[str] | None = None,
    resume: bool = False,
) -> History:
    """Train ``net`` on (X, y) with mini-batches; return the :class:`History`.

    Parameters
    ----------
    X : array of shape (n_samples, n_features);  y : targets the loss understands
    epochs : int, batch_size : int
        Each epoch visits every training sample once, in a new order drawn from the
        network's generator when ``shuffle``; the last, smaller batch is used too.
    optimizer : name ("sgd", "adam", "rmsprop", "adamw"), config dict or Optimizer
    learning_rate : float, optional, overrides the optimizer's
    validation_data : (X_val, y_val), or validation_split : float
        The split takes the last fraction of the samples (as Keras), before shuffling.
    metrics : list of names; default accuracy for classifiers, mse/mae/r2 otherwise
    callbacks : Callback objects (EarlyStopping, LambdaCallback, your own)
    verbose : 0 silent, 1 a tqdm progress bar and a line per epoch, 2 a line per epoch
    checkpoint : path, optional
        Saved atomically after every epoch: weights, optimizer state, generator state,
        epoch and history. It is also a valid model file (``cb.load`` reads it).
    resume : bool
        Continue from ``checkpoint`` if it exists; the result is bit-identical to a run
        that never stopped.

    Raises
    ------
    TrainingDiverged
        When the loss becomes NaN or infinite; the weights of the last finite step are
        kept, and the message names the epoch and batch.
    """
    epochs = _check_positive_int("epochs", epochs)
    batch_size = _check_positive_int("batch_size", batch_size)
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2; got {verbose!r}")
    opt = _optimizer(optimizer, learning_rate)
    X = net.check_inputs(X)
    t = net.check_targets(y, len(X))
    X, t, Xv, tv = _split(net, X, t, validation_data, validation_split)
    names = _metric_names(net, metrics)
    callbacks = _callbacks(net, callbacks)
    history, start_epoch, states = _resume(net, opt, checkpoint, resume, callbacks)
    net.optimizer = opt  # kept so that save(..., include_optimizer=True) can store its state
    progress = _Progress(verbose, epochs, -(-len(X) // batch_size))
    loop = _Epochs(net, opt, X, t, batch_size, shuffle, names, progress, callbacks)
    logs: dict[str, float] = {}
    for callback in callbacks:
        callback.on_train_begin(logs)
    for callback, state in zip(callbacks, states):  # resumed: where they were
        if state is not None:
            callback.load_state_dict(state)
    if any(callback.stop_training for callback in callbacks):  # it had stopped already
        history.stopped_early = True
        start_epoch = epochs
    for epoch in range(start_epoch, epochs):
        for callback in callbacks:
            callback.on_epoch_begin(epoch, logs)
        logs = loop.train(epoch, first=epoch == start_epoch)
        if Xv is not None and tv is not None:
            logs.update({f"val_{k}": v for k, v in net._evaluate(Xv, tv, names).items()})
        history.append(epoch, logs)
        progress.end_epoch(epoch, logs)
        for callback in callbacks:
            callback.on_epoch_end(epoch, logs)
        if checkpoint is not None:
            save_checkpoint(net, opt, checkpoint, epoch + 1, history, callbacks)
        if any(callback.stop_training for callback in callbacks):
            history.stopped_early = True
            break
    for callback in callbacks:
        callback.on_train_end(logs)
    return history


def _optimizer(
    optimizer: str | Optimizer | dict[str, Any], learning_rate: float | None
) -> Optimizer:
    opt = get_optimizer(optimizer)
    if learning_rate is not None:
        if isinstance(opt.learning_rate, Schedule):
            raise ValueError(
                f"fit got learning_rate={learning_rate!r} and an optimizer whose learning rate "
                f"is a schedule ({opt.learning_rate!r}); give one or the other"
            )
        opt.learning_rate = positive("learning_rate", learning_rate)
    return opt


def _metric_names(net: Network, metrics: Sequence[str] | None) -> list[str]:
    """The metrics fit reports: those asked for (checked now), else the loss's defaults."""
    if metrics is None:
        return list(default_metrics(net.loss.classification))
    for name in metrics:
        _metric(name)
    return list(metrics)


def _callbacks(net: Network, callbacks: Iterable[Callback]) -> list[Callback]:
    callbacks = list(callbacks)
    for callback in callbacks:
        if not isinstance(callback, Callback):
            raise ValueError(f"callbacks must be Callback objects; got {callback!r}")
        callback.network = net
    return callbacks


def _resume(
    net: Network,
    opt: Optimizer,
    checkpoint: str | os.PathLike[str] | None,
    resume: bool,
    callbacks: list[Callback],
) -> tuple[History, int, list[dict[str, Array] | None]]:
    """The history, first epoch and callback states to start from: the checkpoint's when
    resuming from one that exists (its weights and states are put back), else a new run."""
    if checkpoint is None or not resume or not os.path.exists(checkpoint):
        return History(), 0, []
    start_epoch, history, states = restore_checkpoint(net, opt, checkpoint, callbacks)
    return history, start_epoch, states


class _Epochs:
    """Training epoch after epoch: the shuffled mini-batches, the steps, the training
    metrics, and the buffers kept between steps (the weights before the last step, for a
    diverging run; a batch's rows; each batch's outputs, for the metrics)."""

    def __init__(
        self,
        net: Network,
        opt: Optimizer,
        X: Array,
        t: Array,
        batch_size: int,
        shuffle: bool,
        names: list[str],
        progress: _Progress,
        callbacks: list[Callback],
    ) -> None:
        self.net, self.opt, self.X, self.t, self.names = net, opt, X, t, names
        self.batch_size, self.shuffle = batch_size, shuffle
        self.progress, self.callbacks = progress, callbacks
        n = len(X)
        self.backup = np.empty_like(net.flat_parameters)
        self.rows = np.empty((min(batch_size, n), *X.shape[1:]), dtype=X.dtype)
        self.params, self.grads = [net.flat_parameters], [net.flat_gradients]
        self.outputs = np.empty((n, *net.output_shape), dtype=net.dtype) if names else None

    def train(self, epoch: int, first: bool) -> dict[str, float]:
        """One epoch; returns its logs: the mean loss and the training metrics, both from
        each batch's outputs before its update (as Keras reports them)."""
        net, X, n = self.net, self.X, len(self.X)
        self.progress.start_epoch(epoch)
        order = net.rng.permutation(n) if self.shuffle else None
        te = self.t if order is None else self.t[order]
        total = 0.0
        for b, start in enumerate(range(0, n, self.batch_size)):
            stop = min(start + self.batch_size, n)
            if order is None:
                Xb = X[start:stop]
            else:  # gathered batch by batch, into one buffer: it is still in cache for forward
                # (mode="clip": the permutation's indices are valid, and the default "raise"
                # makes np.take copy through an extra buffer, a third slower here)
                rows = self.rows[: stop - start]
                Xb = np.take(X, order[start:stop], axis=0, out=rows, mode="clip")
            # a diverging run overflows; it is caught just below, by its non-finite loss
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                value = net._loss_and_gradients(Xb, te[start:stop], training=True)
            if not math.isfinite(value):
                _diverged(net, self.opt, self.backup, value, epoch, b, first=first and b == 0)
            if self.outputs is not None:
                self.outputs[start:stop] = net.last_output
            np.copyto(self.backup, net.flat_parameters)
            self.opt.step(self.params, self.grads)
            total += value * (stop - start)
            self.progress.batch(value)
            for callback in self.callbacks:
                callback.on_batch_end(b, {"loss": value})
        if not np.isfinite(net.flat_parameters).all():
            _diverged(net, self.opt, self.backup, math.nan, epoch, b, first=False)
        logs = {"loss": total / n}
        if self.outputs is not None:
            y_epoch, independent = net.loss.output(self.outputs), net.independent_outputs
            logs.update({k: _metric(k)(y_epoch, te, independent=independent) for k in self.names})
        return logs


def _metric(name: str) -> Callable[..., float]:
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; expected one of {', '.join(METRICS)}")
    return METRICS[name]


def _diverged(
    net: Network, opt: Optimizer, backup: Array, value: float, epoch: int, batch: int, first: bool
) -> None:
    if not first:
        net.flat_parameters[...] = backup
    raise TrainingDiverged(
        f"the loss became {value} at epoch {epoch + 1}, batch {batch + 1}; the weights of the "
        f"last finite step are kept. Try a lower learning rate (now "
        f"{opt.current_learning_rate():g}), gradient clipping (clip_norm) or scaled inputs"
    )
