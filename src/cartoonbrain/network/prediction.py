"""Using a network on data: raw rows and targets in, predictions out, the loss and metrics.

:class:`Predictor` is a base of :class:`~cartoonbrain.network.Network` (as Keras's
``Model`` has ``Trainer``): the methods that take raw data (``predict``,
``predict_classes``, ``evaluate``, the input checks) live here, in one class, and read the
network's own attributes (``layers``, ``loss``, ``dtype``, ``preprocessor``, ...).
Nothing here caches a layer's affines or transforms: every layer's ``infer`` runs, never
``forward``, so predicting between two training steps changes nothing a step uses.

    O_L = layer_L.infer(… layer_1.infer(X))     predictions = the loss's output(O_L)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..data import checks
from ..metrics import default_metrics, get_metric, predicted_classes
from ..train.callbacks import Callback, attach, call_hooks
from . import fused_predict

if TYPE_CHECKING:
    from .network import Network

Array = NDArray[Any]

__all__ = ["NonFinitePrediction", "Predictor"]

#: rows of a sparse X densified at a time by predict
SPARSE_ROWS = 1024
#: inputs with more entries than this are checked for NaN and inf through predict's output
LARGE = 1 << 16


class NonFinitePrediction(ValueError):
    """A prediction that is NaN or infinite although its inputs are finite: ``row`` is its
    index in X, ``prediction`` its values."""

    def __init__(self, message: str, row: int, prediction: Array) -> None:
        super().__init__(message)
        self.row, self.prediction = row, prediction


class Predictor:
    """The part of :class:`~cartoonbrain.network.Network` that uses it on data.

    Every method reads the network's attributes; ``self`` is always a ``Network``.
    """

    # ------------------------------------------------------------------ data checks
    def check_inputs(self: Network, X: Any, name: str = "X", check_finite: bool = True) -> Array:
        """X as a C-contiguous array of the network's dtype and input shape (a SciPy sparse
        matrix stays sparse, as CSR), or a ValueError saying why not."""
        return checks.check_inputs(
            X, self.dtype, self.input_shape, self.input_size, name, check_finite
        )

    def check_targets(self: Network, y: Any, n_samples: int, name: str = "y") -> Array:
        """y checked against the loss and the output size, in the form the loss uses."""
        return checks.check_targets(y, n_samples, self.loss, self.output_shape[0], self.dtype, name)

    def check_sample_weight(self: Network, sample_weight: Any, n_samples: int) -> Array | None:
        """``sample_weight`` as float64 of shape (n_samples,), or None; a ValueError for
        negative, non-finite or all-zero weights, or a wrong length."""
        return checks.check_sample_weight(sample_weight, n_samples)

    # ------------------------------------------------------------------ raw data in and out
    def preprocess(self: Network, X: Any) -> Any:
        """Raw rows through the model's :class:`Preprocessor` (X unchanged without one)."""
        return X if self.preprocessor is None else self.preprocessor.transform(X)

    def inputs(self: Network, X: Any, name: str = "X") -> Array:
        """Raw rows as the first layer's input: :meth:`preprocess`, then :meth:`check_inputs`."""
        return self.check_inputs(self.preprocess(X), name)

    def targets(self: Network, y: Any, n_samples: int, name: str = "y") -> Array:
        """Raw targets as the loss's: the target encoder's (labels → ids, scaling), then
        :meth:`check_targets`."""
        if self.target_encoder is not None and y is not None:
            y = self.target_encoder.encode(y)
        return self.check_targets(y, n_samples, name)

    def decode_outputs(self: Network, outputs: Array) -> Array:
        """predict's outputs in the target's units (a regression target encoder), else as
        they are."""
        if self.target_encoder is None or self.target_encoder.kind != "scale":
            return outputs
        return self.target_encoder.decode(outputs)

    # ------------------------------------------------------------------ predictions
    def predict(
        self: Network, X: Any, batch_size: int | None = None, callbacks: Iterable[Callback] = ()
    ) -> Array:
        """Probabilities for the cross-entropy losses, the outputs for regression (in the
        target's units, when the model has a target encoder).

        Shape (n_samples, n_outputs). Dropout is off. X is raw rows when the model has a
        preprocessor (an array in training column order, or a DataFrame). With the
        accelerator, a few rows through Dense layers go in one compiled call
        (:mod:`cartoonbrain.network.fused_predict`); ``batch_size`` splits X into batches
        instead. ``callbacks`` get Keras's ``on_predict_*`` hooks (the regular way, batch
        by batch).
        """
        X = self.preprocess(X)
        callbacks = list(callbacks)
        few = None
        if batch_size is None and not callbacks:
            few = fused_predict.predict_few(self, X)
        if few is not None:  # the accelerator, for a few rows
            return self.decode_outputs(few)
        # the regular way, batch by batch; NonFinitePrediction for an overflow
        return self.decode_outputs(self._predict_arrays(X, batch_size, callbacks))

    def _predict_arrays(
        self: Network, X: Any, batch_size: int | None = None, callbacks: Iterable[Callback] = ()
    ) -> Array:
        """predict's regular way on preprocessed rows X: checked, then :meth:`_infer` batch by
        batch; a ValueError for a NaN or inf in X, :class:`NonFinitePrediction` for a
        prediction that overflows from finite inputs. Shape (n_samples, *output_shape).
        ``callbacks`` get Keras's ``on_predict_*`` hooks (a batch's end with its
        ``{"outputs": ...}``)."""
        hooks = attach(self, callbacks)
        large = isinstance(X, np.ndarray) and X.size > LARGE
        X = self.check_inputs(X, check_finite=not large)  # a large X: through its outputs
        call_hooks(hooks, "on_predict_begin", {})
        with np.errstate(over="ignore", invalid="ignore"):
            out = self._predict_batches(X, batch_size, hooks)
            finite = np.isfinite(np.add.reduce(out, axis=None))  # one cheap sum
        if not finite:
            self._refuse_non_finite(X, out)
        call_hooks(hooks, "on_predict_end", {})
        return out

    def _refuse_non_finite(self: Network, X: Array, out: Array) -> None:
        """A ValueError naming the first bad input entry (a NaN or inf in X), or else the
        first row whose prediction is not finite although its inputs are (an overflow)."""
        self.check_inputs(X)  # names a NaN or inf in X, if it has one
        rows = np.flatnonzero(~np.isfinite(out.reshape(len(out), -1)).all(axis=1))
        if not rows.size:
            return  # the sum overflowed, not an entry: every prediction is finite
        row = int(rows[0])
        largest = float(np.max(np.abs(checks.dense_rows(X, slice(row, row + 1)))))
        raise NonFinitePrediction(
            f"the prediction for row {row} is {out[row].tolist()} although its inputs are "
            f"finite (the largest is {largest:g}): they overflow the network's "
            f"{self.dtype.name}; scale the inputs (a Preprocessor standardises them)"
            + (" or use dtype='float64'" if self.dtype == np.float32 else ""),
            row,
            out[row],
        )

    def _predict_batches(
        self: Network, X: Array, batch_size: int | None, hooks: Sequence[Callback] = ()
    ) -> Array:
        if checks.is_sparse(X):  # densified a batch of rows at a time, never as a whole
            batch_size = batch_size or SPARSE_ROWS
        if batch_size is not None and batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
        if not hooks and (batch_size is None or batch_size >= X.shape[0]):
            return self._infer(checks.dense_rows(X, slice(None)))
        size = X.shape[0] if batch_size is None else batch_size
        batches = []
        for b, i in enumerate(range(0, X.shape[0], max(size, 1))):
            call_hooks(hooks, "on_predict_batch_begin", b, {})
            batches.append(self._infer(checks.dense_rows(X, slice(i, i + size))))
            call_hooks(hooks, "on_predict_batch_end", b, {"outputs": batches[-1]})
        if not batches:
            return self._infer(checks.dense_rows(X, slice(None)))
        return np.concatenate(batches)

    def _infer(self: Network, X: Array) -> Array:
        """predict's maths: every layer's ``infer`` (nothing cached), then the loss's output."""
        o = self.outputs(X)
        # the last output is the network's own array unless every layer passed X through
        return self.loss.output(o, in_place=o is not X)

    def outputs(self: Network, X: Array) -> Array:
        """O_L without caching anything (the logits, for the cross-entropy losses)."""
        o = X
        for layer in self.layers:
            o = layer.infer(o)
        return o

    def predict_classes(self: Network, X: Any) -> Array:
        """Classes: the user's own labels when the model knows them (a target encoder), else
        class ids (argmax of the probabilities; > ½ for one sigmoid output)."""
        if not self.loss.classification:
            raise ValueError(f"predict_classes needs a classification loss, not {self.loss.name!r}")
        ids = predicted_classes(self.predict(X), independent=self.independent_outputs)
        if self.target_encoder is None or self.independent_outputs:
            return ids
        return self.target_encoder.decode(ids)

    # ------------------------------------------------------------------ the loss and metrics
    def evaluate(
        self: Network,
        X: Any,
        y: Any,
        metrics: Iterable[str] | None = None,
        batch_size: int = 4096,
        sample_weight: Any = None,
        callbacks: Iterable[Callback] = (),
    ) -> dict[str, float]:
        """The loss and metrics on (X, y): accuracy for classifiers; mse, mae, r2 otherwise.

        With ``sample_weight``, the loss is the weighted mean of the samples' losses. X and
        y are raw when the model has a preprocessor or target encoder; metrics are in the
        target's units, the loss in the units the network was trained in. ``callbacks`` get
        Keras's ``on_test_*`` hooks."""
        X = self.inputs(X)
        t = self.targets(y, X.shape[0])
        w = self.check_sample_weight(sample_weight, X.shape[0])
        return self.evaluate_arrays(X, t, metrics, batch_size, w, attach(self, callbacks))

    def evaluate_arrays(
        self: Network,
        X: Array,
        t: Array,
        metrics: Iterable[str] | None = None,
        batch_size: int = 4096,
        sample_weight: Array | None = None,
        callbacks: Sequence[Callback] = (),
    ) -> dict[str, float]:
        """:meth:`evaluate` on arrays already checked (the training loop's validation): the
        loss, the (weighted) mean of the samples' losses plus the penalty, batch by batch;
        ``callbacks`` (already attached) get the ``on_test_*`` hooks, a batch's end with its
        loss."""
        names = list(default_metrics(self.loss.classification) if metrics is None else metrics)
        for name in names:
            get_metric(name)  # a ValueError naming an unknown one, before any work
        call_hooks(callbacks, "on_test_begin", {})
        outs, total = [], 0.0
        for b, i in enumerate(range(0, X.shape[0], batch_size)):
            call_hooks(callbacks, "on_test_batch_begin", b, {})
            outs.append(self.outputs(checks.dense_rows(X, slice(i, i + batch_size))))
            w = None if sample_weight is None else sample_weight[i : i + batch_size]
            weight = len(outs[-1]) if w is None else float(w.sum())
            loss = self.loss(outs[-1], t[i : i + batch_size], w) if weight > 0 else 0.0
            total += loss * weight
            call_hooks(callbacks, "on_test_batch_end", b, {"loss": loss})
        weight = len(X) if sample_weight is None else float(sample_weight.sum())
        result = {"loss": total / weight + self.penalty(weight)}
        if names:
            y = np.concatenate([self.loss.output(o) for o in outs])
            result.update(self.metric_values(y, t, names))
        call_hooks(callbacks, "on_test_end", dict(result))
        return result

    def metric_values(self: Network, y: Array, t: Array, names: Iterable[str]) -> dict[str, float]:
        """Each named metric of predictions ``y`` (predict's form, before decoding) against
        prepared targets ``t``, in the target's own units."""
        if self.target_encoder is not None and self.target_encoder.kind == "scale":
            y, t = self.target_encoder.decode(y), self.target_encoder.decode(t)
        return {n: get_metric(n)(y, t, independent=self.independent_outputs) for n in names}
