"""Metrics reported during training and by ``evaluate``.

    accuracy   fraction of samples whose predicted class equals the target class
    mse        (1/(n k)) Σ (y − t)²        mae   (1/(n k)) Σ |y − t|
    r2         1 − Σ (y − t)² / Σ (t − t̄)²   (averaged over outputs, as scikit-learn)

``y`` is what ``predict`` returns (probabilities for the classification losses).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]

__all__ = ["METRICS", "accuracy", "confusion_matrix", "default_metrics", "mae", "mse", "r2"]


def predicted_classes(y: Array, independent: bool = False) -> Array:
    """Class ids from probabilities.

    Softmax rows (``independent=False``): the argmax of each row, shape (n,). Sigmoid
    outputs (``independent=True``, binary or multi-label): y > ½ entry by entry, shape of y.
    """
    if independent or y.ndim != 2 or y.shape[1] == 1:
        return (y > 0.5).astype(np.int64)
    return y.argmax(axis=1)


def confusion_matrix(true_ids: Any, predicted_ids: Any, n_classes: int) -> NDArray[np.int64]:
    """Counts of (true class, predicted class) pairs.

        C[i, j] = #{samples s : t_s = i and y_s = j}      (rows: true, columns: predicted)

    Parameters
    ----------
    true_ids, predicted_ids : array-like of int, shape (n_samples,)
        Class ids in ``range(n_classes)``.
    n_classes : int

    Returns
    -------
    ndarray of int64, shape (n_classes, n_classes)
    """
    t = np.asarray(true_ids).reshape(-1)
    y = np.asarray(predicted_ids).reshape(-1)
    if len(t) != len(y):
        raise ValueError(f"confusion_matrix: {len(t)} true ids but {len(y)} predicted ids")
    for name, ids in (("true", t), ("predicted", y)):
        if ids.size and (ids.dtype.kind not in "iub" or ids.min() < 0 or ids.max() >= n_classes):
            raise ValueError(
                f"confusion_matrix: {name} ids must be integers in [0, {n_classes}); "
                f"got {ids.dtype} values from {ids.min()} to {ids.max()}"
            )
    flat = np.bincount(t.astype(np.int64) * n_classes + y, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes).astype(np.int64, copy=False)


def accuracy(y: Array, t: Array, independent: bool = False) -> float:
    """Fraction of predictions equal to the targets (class ids or one-hot rows).

    With ``independent`` (sigmoid outputs) every entry is its own yes/no prediction, and
    accuracy is the fraction of entries on the right side of ½ (Keras's binary accuracy).
    """
    if independent or y.ndim != 2 or y.shape[1] == 1:
        return float(np.mean((y > 0.5) == (t.reshape(y.shape) > 0.5)))
    target = t.argmax(axis=1) if t.ndim == 2 else t
    return float(np.mean(y.argmax(axis=1) == target))


def mse(y: Array, t: Array, independent: bool = False) -> float:
    return float(np.mean(np.square(y - t.reshape(y.shape)), dtype=np.float64))


def mae(y: Array, t: Array, independent: bool = False) -> float:
    return float(np.mean(np.abs(y - t.reshape(y.shape)), dtype=np.float64))


def r2(y: Array, t: Array, independent: bool = False) -> float:
    t = t.reshape(y.shape).astype(np.float64)
    residual = np.sum(np.square(y - t), axis=0)
    total = np.sum(np.square(t - t.mean(axis=0)), axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(total > 0, 1 - residual / np.where(total > 0, total, 1), 0.0)
    return float(np.mean(scores))


METRICS = {"accuracy": accuracy, "mse": mse, "mae": mae, "r2": r2}


def default_metrics(classification: bool) -> list[str]:
    return ["accuracy"] if classification else ["mse", "mae", "r2"]
