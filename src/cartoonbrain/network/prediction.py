"""Using a network on data: raw rows and targets in, predictions out, the loss and metrics.

Plain functions of a :class:`~cartoonbrain.network.network.Network`, which offers them as its
methods (``Network.evaluate = prediction.evaluate``, ...): :func:`preprocess`,
:func:`inputs`, :func:`targets`, :func:`decode_outputs`, :func:`predict_classes`,
:func:`evaluate`, :func:`evaluate_arrays`, :func:`metric_values`; ``Network.predict``
itself tries the accelerator for a few rows and otherwise calls :func:`predict_arrays`.
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

if TYPE_CHECKING:
    from .network import Network

Array = NDArray[Any]

__all__ = [
    "NonFinitePrediction",
    "decode_outputs",
    "evaluate",
    "evaluate_arrays",
    "inputs",
    "metric_values",
    "predict_arrays",
    "predict_classes",
    "preprocess",
    "targets",
]

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


# ------------------------------------------------------------------ raw data in and out
def preprocess(net: Network, X: Any) -> Any:
    """Raw rows through the model's :class:`Preprocessor` (X unchanged without one)."""
    return X if net.preprocessor is None else net.preprocessor.transform(X)


def inputs(net: Network, X: Any, name: str = "X") -> Array:
    """Raw rows as the first layer's input: :meth:`preprocess`, then :meth:`check_inputs`."""
    return net.check_inputs(net.preprocess(X), name)


def targets(net: Network, y: Any, n_samples: int, name: str = "y") -> Array:
    """Raw targets as the loss's: the target encoder's (labels → ids, scaling), then
    :meth:`check_targets`."""
    if net.target_encoder is not None and y is not None:
        y = net.target_encoder.encode(y)
    return net.check_targets(y, n_samples, name)


def decode_outputs(net: Network, outputs: Array) -> Array:
    """predict's outputs in the target's units (a regression target encoder), else as
    they are."""
    if net.target_encoder is None or net.target_encoder.kind != "scale":
        return outputs
    return net.target_encoder.decode(outputs)


# ------------------------------------------------------------------ predictions
def predict_arrays(
    net: Network, X: Any, batch_size: int | None = None, callbacks: Iterable[Callback] = ()
) -> Array:
    """predict's regular way on preprocessed rows X: checked, then :func:`infer` batch by
    batch; a ValueError for a NaN or inf in X, :class:`NonFinitePrediction` for a
    prediction that overflows from finite inputs. Shape (n_samples, *output_shape).
    ``callbacks`` get Keras's ``on_predict_*`` hooks (a batch's end with its
    ``{"outputs": ...}``)."""
    hooks = attach(net, callbacks)
    large = isinstance(X, np.ndarray) and X.size > LARGE
    X = net.check_inputs(X, check_finite=not large)  # a large X: through its outputs
    call_hooks(hooks, "on_predict_begin", {})
    with np.errstate(over="ignore", invalid="ignore"):
        out = _predict_batches(net, X, batch_size, hooks)
        finite = np.isfinite(np.add.reduce(out, axis=None))  # one cheap sum
    if not finite:
        _refuse_non_finite(net, X, out)
    call_hooks(hooks, "on_predict_end", {})
    return out


def _refuse_non_finite(net: Network, X: Array, out: Array) -> None:
    """A ValueError naming the first bad input entry (a NaN or inf in X), or else the
    first row whose prediction is not finite although its inputs are (an overflow)."""
    net.check_inputs(X)  # names a NaN or inf in X, if it has one
    rows = np.flatnonzero(~np.isfinite(out.reshape(len(out), -1)).all(axis=1))
    if not rows.size:
        return  # the sum overflowed, not an entry: every prediction is finite
    row = int(rows[0])
    largest = float(np.max(np.abs(checks.dense_rows(X, slice(row, row + 1)))))
    raise NonFinitePrediction(
        f"the prediction for row {row} is {out[row].tolist()} although its inputs are "
        f"finite (the largest is {largest:g}): they overflow the network's "
        f"{net.dtype.name}; scale the inputs (a Preprocessor standardises them)"
        + (" or use dtype='float64'" if net.dtype == np.float32 else ""),
        row,
        out[row],
    )


def _predict_batches(
    net: Network, X: Array, batch_size: int | None, hooks: Sequence[Callback] = ()
) -> Array:
    if checks.is_sparse(X):  # densified a batch of rows at a time, never as a whole
        batch_size = batch_size or SPARSE_ROWS
    if batch_size is not None and batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
    if not hooks and (batch_size is None or batch_size >= X.shape[0]):
        return infer(net, checks.dense_rows(X, slice(None)))
    size = X.shape[0] if batch_size is None else batch_size
    batches = []
    for b, i in enumerate(range(0, X.shape[0], max(size, 1))):
        call_hooks(hooks, "on_predict_batch_begin", b, {})
        batches.append(infer(net, checks.dense_rows(X, slice(i, i + size))))
        call_hooks(hooks, "on_predict_batch_end", b, {"outputs": batches[-1]})
    return np.concatenate(batches) if batches else infer(net, checks.dense_rows(X, slice(None)))


def infer(net: Network, X: Array) -> Array:
    """predict's maths: every layer's ``infer`` (nothing cached), then the loss's output."""
    o = outputs(net, X)
    # the last output is the network's own array unless every layer passed X through
    return net.loss.output(o, in_place=o is not X)


def outputs(net: Network, X: Array) -> Array:
    """O_L without caching anything (the logits, for the cross-entropy losses)."""
    o = X
    for layer in net.layers:
        o = layer.infer(o)
    return o


def predict_classes(net: Network, X: Any) -> Array:
    """Classes: the user's own labels when the model knows them (a target encoder), else
    class ids (argmax of the probabilities; > ½ for one sigmoid output)."""
    if not net.loss.classification:
        raise ValueError(f"predict_classes needs a classification loss, not {net.loss.name!r}")
    ids = predicted_classes(net.predict(X), independent=net.independent_outputs)
    if net.target_encoder is None or net.independent_outputs:
        return ids
    return net.target_encoder.decode(ids)


# ------------------------------------------------------------------ the loss and metrics
def evaluate(
    net: Network,
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
    X = net.inputs(X)
    t = net.targets(y, X.shape[0])
    w = net.check_sample_weight(sample_weight, X.shape[0])
    return net.evaluate_arrays(X, t, metrics, batch_size, w, attach(net, callbacks))


def evaluate_arrays(
    net: Network,
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
    names = list(default_metrics(net.loss.classification) if metrics is None else metrics)
    for name in names:
        get_metric(name)  # a ValueError naming an unknown one, before any work
    call_hooks(callbacks, "on_test_begin", {})
    outs, total = [], 0.0
    for b, i in enumerate(range(0, X.shape[0], batch_size)):
        call_hooks(callbacks, "on_test_batch_begin", b, {})
        outs.append(outputs(net, checks.dense_rows(X, slice(i, i + batch_size))))
        w = None if sample_weight is None else sample_weight[i : i + batch_size]
        weight = len(outs[-1]) if w is None else float(w.sum())
        loss = net.loss(outs[-1], t[i : i + batch_size], w) if weight > 0 else 0.0
        total += loss * weight
        call_hooks(callbacks, "on_test_batch_end", b, {"loss": loss})
    weight = len(X) if sample_weight is None else float(sample_weight.sum())
    result = {"loss": total / weight + net.penalty(weight)}
    if names:
        y = np.concatenate([net.loss.output(o) for o in outs])
        result.update(net.metric_values(y, t, names))
    call_hooks(callbacks, "on_test_end", dict(result))
    return result


def metric_values(net: Network, y: Array, t: Array, names: Iterable[str]) -> dict[str, float]:
    """Each named metric of predictions ``y`` (predict's form, before decoding) against
    prepared targets ``t``, in the target's own units."""
    if net.target_encoder is not None and net.target_encoder.kind == "scale":
        y, t = net.target_encoder.decode(y), net.target_encoder.decode(t)
    return {n: get_metric(n)(y, t, independent=net.independent_outputs) for n in names}
