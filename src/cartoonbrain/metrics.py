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

__all__ = ["METRICS", "accuracy", "default_metrics", "mae", "mse", "r2"]


def predicted_classes(y: Array, independent: bool = False) -> Array:
    """Class ids from probabilities.

    Softmax rows (``independent=False``): the argmax of each row, shape (n,). Sigmoid
    outputs (``independent=True``, binary or multi-label): y > ½ entry by entry, shape of y.
    """
    if independent or y.ndim != 2 or y.shape[1] == 1:
        return (y > 0.5).astype(np.int64)
    return y.argmax(axis=1)


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
