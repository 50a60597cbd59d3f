"""The training loop: shuffled mini-batches, validation, callbacks, checkpoints.

:class:`Trainer` is a base of :class:`~cartoonbrain.network.Network`, as Keras's ``Model``
has ``Trainer``: :meth:`Trainer.fit` owns the epochs and batches (``net.fit``; the
scikit-learn estimators and the command line train through it), and each step is the
network's :meth:`Trainer.train_step`, the post's step on a mini-batch instead of one
sample::

    forward (caches affines, transforms) → L, ∂L/∂O_L → backward (fills ∇W, ∇b) → optimizer
 Everything random (the shuffling of each epoch and
the dropout masks) comes from the network's seeded generator, so the same seed gives
bit-identical weights, and a checkpoint (weights, optimizer state, generator state, epoch,
history, callback states) lets a killed run resume and finish exactly as if it had never
stopped. History and the progress bar are callbacks that ``fit`` adds itself.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .._validation import positive
from ..data.checks import dense_rows, is_sparse
from ..metrics import default_metrics, get_metric
from ..optimizers import Optimizer, get_optimizer
from ..optimizers.schedules import Schedule
from .callbacks import Callback, History, ProgressBar, attach
from .checkpoint import restore_checkpoint, save_checkpoint
from .data import TrainingData, prepare
from .lbfgs import minimize_lbfgs

if TYPE_CHECKING:
    from ..network.network import Network

Array = NDArray[Any]

__all__ = ["Trainer", "TrainingDiverged", "fit"]


class TrainingDiverged(ValueError):
    """The loss became NaN or infinite; the weights of the last complete epoch are kept
    (the initial weights when it happens in the first)."""


def _check_positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


class Trainer:
    """What makes a network trainable: :meth:`fit`, the loop, and :meth:`train_step`, one
    step of it. :class:`~cartoonbrain.network.Network` inherits both (as Keras's ``Model``
    inherits ``Trainer``); ``self`` is always a ``Network``, whose documented interface
    (``backprop``, ``evaluate_arrays``, the input checks, ``flat_parameters``) is all the
    loop uses.
    """

    #: the optimizer of the last ``fit``: the next ``fit`` goes on with it (and its state)
    #: unless given another, as Keras's ``model.optimizer``; ``save`` can store it
    optimizer: Optimizer | None = None

    def fit(
        self: Network,
        X: Any,
        y: Any,
        *,
        epochs: int = 1,
        batch_size: int = 32,
        optimizer: str | Optimizer | dict[str, Any] | None = None,
        learning_rate: float | None = None,
        validation_data: tuple[Any, ...] | None = None,
        validation_split: float = 0.0,
        shuffle: bool = True,
        metrics: Sequence[str] | None = None,
        callbacks: Iterable[Callback] = (),
        verbose: int = 0,
        checkpoint: str | os.PathLike[str] | None = None,
        resume: bool = False,
        sample_weight: Any = None,
        class_weight: dict[int, float] | str | None = None,
        preprocessed: bool = False,
    ) -> History:
        """Train the network on (X, y) with mini-batches; return the :class:`History`.

        Parameters
        ----------
        X : array of shape (n_samples, n_features);  y : targets the loss understands
        epochs : int, batch_size : int
            Each epoch visits every training sample once, in a new order drawn from the
            network's generator when ``shuffle``; the last, smaller batch is used too.
        optimizer : name ("sgd", "adam", "rmsprop", "adamw", …), config dict, Optimizer, or
            None (default): go on with ``net.optimizer`` from the last ``fit`` and its state
            (as Keras does), or a new Adam on the first ``fit``. ``"lbfgs"``: full-batch
            L-BFGS (SciPy) for at most ``epochs`` iterations, for small networks
            (:mod:`cartoonbrain.train.lbfgs`; no batches, no validation, dropout off)
        learning_rate : float, optional, overrides the optimizer's
        validation_data : (X_val, y_val) or (X_val, y_val, sample_weight_val), or
        validation_split : float
            The split takes the last fraction of the samples (as Keras), before shuffling.
        metrics : list of names; default accuracy for classifiers, mse/mae/r2 otherwise
        callbacks : Callback objects (EarlyStopping, ModelCheckpoint, LambdaCallback, …)
        verbose : 0 silent, 1 a tqdm progress bar and a line per epoch, 2 a line per epoch
        checkpoint : path, optional
            Saved atomically after every epoch: weights, optimizer state, generator state,
            epoch, history and callback states. It is also a valid model file.
        resume : bool
            Continue from ``checkpoint`` if it exists; the result is bit-identical to a run
            that never stopped.
        sample_weight : array of shape (n_samples,), optional
            Each batch's loss is the weighted mean Σ w_i ℓ_i / Σ w_i (batches of weight 0 are
            skipped); the epoch's loss is weighted the same way.
        class_weight : dict {class_id: weight} or "balanced", optional
            Multiplies each sample's weight by its class's (classifiers only).
        preprocessed : bool, default False
            X and y are already what the model's preprocessor and target encoder make of raw
            rows (e.g. a cache of them): checked, not transformed again.

        Raises
        ------
        TrainingDiverged
            When the loss becomes NaN or infinite (unless a callback such as TerminateOnNaN
            asks to stop); the weights of the last finite step are kept, and the message
            names the epoch and batch.
        """
        epochs = _check_positive_int("epochs", epochs)
        batch_size = _check_positive_int("batch_size", batch_size)
        if verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0, 1 or 2; got {verbose!r}")
        if isinstance(optimizer, str) and optimizer == "lbfgs":
            data = prepare(self, X, y, sample_weight, class_weight, None, 0.0, preprocessed)
            return _fit_lbfgs(self, data, epochs, attach(self, callbacks))
        opt = _optimizer(self, optimizer, learning_rate)
        data = prepare(
            self, X, y, sample_weight, class_weight, validation_data, validation_split, preprocessed
        )
        names = _metric_names(self, metrics)
        user = attach(self, callbacks)
        history, start_epoch, states = _resume(self, opt, checkpoint, resume, user)
        self.optimizer = opt  # the next fit goes on with it; save(include_optimizer=True) stores it
        progress = ProgressBar(verbose, epochs, -(-data.X.shape[0] // batch_size))
        everyone = attach(self, [history, progress, *user])
        loop = _Epochs(self, opt, data, batch_size, shuffle, names, everyone)
        logs: dict[str, float] = {}
        for callback in everyone:
            callback.on_train_begin(logs)
        for callback, state in zip(user, states):  # resumed: where they were
            if state is not None:
                callback.load_state_dict(state)
        if _stopping(user):  # a resumed run that had stopped already
            history.stopped_early, start_epoch = True, epochs
        for epoch in range(start_epoch, epochs):
            logs = loop.run(epoch)
            if checkpoint is not None and math.isfinite(logs["loss"]):
                save_checkpoint(self, opt, checkpoint, epoch + 1, history, user)
            if _stopping(everyone):
                history.stopped_early = True
                break
        for callback in everyone:
            callback.on_train_end(logs)
        return history

    def train_step(
        self: Network, X: Array, t: Array, sample_weight: Array | None, optimizer: Optimizer
    ) -> tuple[float, Array]:
        """One step of training, as Keras's ``train_step``: forward, loss, backward, apply.

            L, ∇ = backprop(X, t)        W ← optimizer(W, ∇)   (not when L is NaN or ±inf)

        :meth:`fit` calls it for every mini-batch; override it in a subclass to change what
        a step does. The optimizer is not applied when the loss is not finite (``fit`` then
        stops with :class:`TrainingDiverged`). Returns ``backprop``'s ``(value, outputs)``.
        """
        value, outputs = self.backprop(X, t, sample_weight, training=True)
        if math.isfinite(value):
            optimizer.step([self.flat_parameters], [self.flat_gradients])
        return value, outputs


#: ``fit(network, X, y, ...)``: :meth:`Trainer.fit` as a plain function (the same function)
fit = Trainer.fit


def _fit_lbfgs(net: Network, data: TrainingData, epochs: int, user: list[Callback]) -> History:
    """``optimizer="lbfgs"``: full-batch L-BFGS for at most ``epochs`` iterations."""
    history = History()
    everyone = attach(net, [history, *user])
    for callback in everyone:
        callback.on_train_begin({})
    result = minimize_lbfgs(
        net, data.X, data.t, data.w, max_iter=epochs, callbacks=user, history=history
    )
    history.stopped_early = _stopping(user)
    for callback in everyone:
        callback.on_train_end({"loss": result.loss})
    return history


def _stopping(callbacks: Sequence[Callback]) -> bool:
    return any(callback.stop_training for callback in callbacks)


def _optimizer(
    net: Network, optimizer: str | Optimizer | dict[str, Any] | None, learning_rate: float | None
) -> Optimizer:
    if optimizer is None:
        optimizer = net.optimizer if net.optimizer is not None else "adam"
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
        get_metric(name)  # a ValueError naming it, now rather than after an epoch
    return list(metrics)


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
    metrics, and the buffers kept between steps (the weights the epoch began with, for a
    diverging run; a batch's rows; each batch's outputs, for the metrics)."""

    def __init__(
        self,
        net: Network,
        opt: Optimizer,
        data: TrainingData,
        batch_size: int,
        shuffle: bool,
        names: list[str],
        callbacks: list[Callback],
    ) -> None:
        self.net, self.opt, self.data, self.names = net, opt, data, names
        self.batch_size, self.shuffle, self.callbacks = batch_size, shuffle, callbacks
        n = data.X.shape[0]
        self.backup = np.empty_like(net.flat_parameters)  # the weights the epoch began with
        self.rows = np.empty((min(batch_size, n), *data.X.shape[1:]), dtype=data.X.dtype)
        self.outputs = np.empty((n, *net.output_shape), dtype=net.dtype) if names else None

    def run(self, epoch: int) -> dict[str, float]:
        """One epoch with its callbacks; returns its logs (after a non-finite loss that a
        callback stopped on, that loss and NaN metrics, as Keras records the epoch)."""
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, {})
        np.copyto(self.backup, self.net.flat_parameters)  # put back if the epoch diverges
        logs = self.train(epoch)
        data = self.data
        if data.X_val is not None and data.t_val is not None:
            scores = self.net.evaluate_arrays(
                data.X_val,
                data.t_val,
                self.names,
                sample_weight=data.w_val,
                callbacks=self.callbacks,
            )
            logs.update({f"val_{k}": v for k, v in scores.items()})
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)
        return logs

    def train(self, epoch: int) -> dict[str, float]:
        """The epoch's batches; returns the (weighted) mean loss and the training metrics,
        both from each batch's outputs before its update (as Keras reports them)."""
        net, data, n = self.net, self.data, self.data.X.shape[0]
        order = data.order(net.rng) if self.shuffle else None
        t = data.t if order is None else data.t[order]
        w = data.w if data.w is None or order is None else data.w[order]
        total = weight = 0.0
        for b, start in enumerate(range(0, n, self.batch_size)):
            stop = min(start + self.batch_size, n)
            w_batch = None if w is None else w[start:stop]
            batch_weight = stop - start if w_batch is None else float(w_batch.sum())
            if batch_weight == 0:
                continue  # every sample of this batch weighs 0: nothing to learn
            value = self.step(b, self.batch(order, start, stop), t[start:stop], w_batch, start)
            if not math.isfinite(value):
                return self.diverged(value, epoch, b)
            total += value * batch_weight
            weight += batch_weight
        if not np.isfinite(net.flat_parameters).all():
            return self.diverged(math.nan, epoch, b)
        logs = {"loss": total / weight}
        if self.outputs is not None:
            logs.update(net.metric_values(net.loss.output(self.outputs), t, self.names))
        return logs

    def batch(self, order: Array | None, start: int, stop: int) -> Array:
        """The rows of one batch: a view, or gathered into one buffer that is still in
        cache for the forward pass (mode="clip": the permutation's indices are valid, and
        the default "raise" makes np.take copy through an extra buffer, a third slower)."""
        if is_sparse(self.data.X):  # densified a batch at a time
            return dense_rows(
                self.data.X, slice(start, stop) if order is None else order[start:stop]
            )
        if order is None:
            return self.data.X[start:stop]
        rows = self.rows[: stop - start]
        return np.take(self.data.X, order[start:stop], axis=0, out=rows, mode="clip")

    def step(self, b: int, X: Array, t: Array, w: Array | None, start: int) -> float:
        """One training step (the network's ``train_step``), with the batch's callbacks."""
        for callback in self.callbacks:
            callback.on_train_batch_begin(b, {})
        # a diverging run overflows; it is caught by its non-finite loss
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            value, outputs = self.net.train_step(X, t, w, self.opt)
        if math.isfinite(value) and self.outputs is not None:
            self.outputs[start : start + len(X)] = outputs
        for callback in self.callbacks:
            callback.on_train_batch_end(b, {"loss": value})
        return value

    def diverged(self, value: float, epoch: int, batch: int) -> dict[str, float]:
        """Put back the weights the epoch began with (the last complete epoch's, which its
        History entry describes); if a callback asks to stop (TerminateOnNaN), the
        epoch's logs: the loss and NaN metrics; else raise TrainingDiverged."""
        self.net.flat_parameters[...] = self.backup
        if _stopping(self.callbacks):
            return {"loss": value, **dict.fromkeys(self.names, math.nan)}
        raise TrainingDiverged(
            f"the loss became {value} at epoch {epoch + 1}, batch {batch + 1}; the weights of "
            f"the last complete epoch are kept. Try a lower learning rate (now "
            f"{self.opt.current_learning_rate():g}), gradient clipping (clip_norm) or scaled "
            "inputs"
        )
