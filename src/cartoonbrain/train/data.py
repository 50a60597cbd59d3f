"""What ``fit`` trains and validates on: inputs, targets and sample weights, checked once
at the door, with the validation part split off and class weights turned into sample
weights. Inputs may be arrays, memmaps or a :class:`~.sources.ChunkedSource` (data larger
than memory, :mod:`.sources`); the targets and weights are held in memory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .sources import ChunkedSource, check_large_inputs

if TYPE_CHECKING:
    from ..network.network import Network

Array = NDArray[Any]

__all__ = ["TrainingData", "class_weights", "prepare"]


@dataclass
class TrainingData:
    """Checked arrays: X, targets t, sample weights w (None: all 1), and the same for
    validation (X_val None: no validation). X and X_val are arrays, memmaps or
    :class:`~.sources.ChunkedSource` objects (typed Any: np.take reads all three)."""

    X: Any
    t: Array
    w: Array | None
    X_val: Any = None
    t_val: Array | None = None
    w_val: Array | None = None

    def order(self, rng: np.random.Generator) -> Array:
        """An epoch's shuffled order of the training rows: a permutation of them all, or
        a :class:`~.sources.ChunkedSource`'s chunk-by-chunk order."""
        if isinstance(self.X, ChunkedSource):
            return self.X.order(rng)
        return rng.permutation(self.X.shape[0])


def prepare(
    net: Network,
    X: Any,
    y: Any,
    sample_weight: Any,
    class_weight: Any,
    validation_data: Any,
    validation_split: float,
    preprocessed: bool = False,
) -> TrainingData:
    """Check everything once; split off the validation part (Keras: the last fraction of
    the samples, before any shuffling); fold ``class_weight`` into the sample weights.

    ``preprocessed``: X and y are already what the model's preprocessor and target encoder
    make of raw rows (a cache of them), so they are checked but not transformed again."""
    X = check_large_inputs(net, X if preprocessed else net.preprocess(X))
    t = net.check_targets(y, X.shape[0]) if preprocessed else net.targets(y, X.shape[0])
    w = net.check_sample_weight(sample_weight, X.shape[0])
    if class_weight is not None:
        per_sample = class_weights(net, t, class_weight)
        w = per_sample if w is None else w * per_sample
    if validation_data is not None:
        return TrainingData(X, t, w, *_validation(net, validation_data, preprocessed))
    if not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must be in [0, 1); got {validation_split!r}")
    if validation_split == 0:
        return TrainingData(X, t, w)
    n_val = int(round(X.shape[0] * validation_split))
    if n_val == 0 or n_val == X.shape[0]:
        raise ValueError(
            f"validation_split={validation_split} of {X.shape[0]} samples leaves no "
            "training or no validation samples"
        )
    cut = X.shape[0] - n_val
    w_fit, w_val = (None, None) if w is None else (w[:cut], w[cut:])
    if w_fit is not None and not w_fit.sum() > 0:
        raise ValueError("sample_weight is zero for every training sample after the split")
    if isinstance(X, ChunkedSource):
        X_fit, X_val = X.rows(0, cut), X.rows(cut, X.shape[0])
        return TrainingData(X_fit, t[:cut], w_fit, X_val, t[cut:], w_val)
    return TrainingData(X[:cut], t[:cut], w_fit, X[cut:], t[cut:], w_val)


def _validation(
    net: Network, validation_data: Any, preprocessed: bool = False
) -> tuple[Array, Array, Array | None]:
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError(
            "validation_data must be a pair (X_val, y_val) or a triple "
            "(X_val, y_val, sample_weight_val)"
        )
    raw_X, raw_y = validation_data[0], validation_data[1]
    X_val = check_large_inputs(net, raw_X if preprocessed else net.preprocess(raw_X), "X_val")
    n_val = X_val.shape[0]
    t_val = (
        net.check_targets(raw_y, n_val, "y_val")
        if preprocessed
        else net.targets(raw_y, n_val, "y_val")
    )
    w_given = validation_data[2] if len(validation_data) == 3 else None
    return X_val, t_val, net.check_sample_weight(w_given, X_val.shape[0])


def class_weights(net: Network, t: Array, class_weight: Any) -> Array:
    """One weight per sample from ``class_weight``: a dict ``{class_id: weight}`` (classes
    not named weigh 1) or ``"balanced"``, n / (k · n_c) as scikit-learn computes it."""
    if not net.loss.classification:
        raise ValueError(f"class_weight needs a classification loss, not {net.loss.name!r}")
    if t.ndim == 2 and t.shape[1] > 1 and net.independent_outputs:
        raise ValueError("class_weight needs one class per sample, not multi-label targets")
    ids = (t.argmax(axis=1) if t.shape[1] > 1 else t[:, 0]) if t.ndim == 2 else t
    ids = ids.astype(np.int64)
    n_classes = max(net.output_shape[0], 2)
    if isinstance(class_weight, str) and class_weight == "balanced":
        counts = np.bincount(ids, minlength=n_classes).astype(np.float64)
        per_class = np.divide(
            len(ids), n_classes * counts, where=counts > 0, out=np.ones_like(counts)
        )
        return per_class[ids]
    if not isinstance(class_weight, dict):
        raise ValueError(f"class_weight must be a dict or 'balanced'; got {class_weight!r}")
    per_class = np.ones(n_classes)
    for key, value in class_weight.items():
        if not (isinstance(key, (int, np.integer)) and 0 <= key < n_classes):
            raise ValueError(f"class_weight key {key!r} is not a class id 0..{n_classes - 1}")
        if not (isinstance(value, (int, float, np.number)) and value >= 0 and np.isfinite(value)):
            raise ValueError(f"class_weight[{key}] = {value!r}; expected a finite weight >= 0")
        per_class[int(key)] = float(value)
    return per_class[ids]
