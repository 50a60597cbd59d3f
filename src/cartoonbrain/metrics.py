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


def predicted_classes(y: Array) -> Array:
    """Class ids from probabilities: argmax of each row, or y > ½ for one column."""
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    return (y.reshape(len(y), -1) > 0.5).astype(np.int64)


def accuracy(y: Array, t: Array) -> float:
    """Fraction of rows whose predicted class equals the target (ids or one-hot rows)."""
    if y.ndim == 2 and y.shape[1] > 1:
        target = t.argmax(axis=1) if t.ndim == 2 else t
        return float(np.mean(y.argmax(axis=1) == target))
    return float(np.mean((y > 0.5) == (t.reshape(y.shape) > 0.5)))


def mse(y: Array, t: Array) -> float:
    return float(np.mean(np.square(y - t.reshape(y.shape)), dtype=np.float64))


def mae(y: Array, t: Array) -> float:
    return float(np.mean(np.abs(y - t.reshape(y.shape)), dtype=np.float64))


def r2(y: Array, t: Array) -> float:
    t = t.reshape(y.shape).astype(np.float64)
    residual = np.sum(np.square(y - t), axis=0)
    total = np.sum(np.square(t - t.mean(axis=0)), axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(total > 0, 1 - residual / np.where(total > 0, total, 1), 0.0)
    return float(np.mean(scores))


METRICS = {"accuracy": accuracy, "mse": mse, "mae": mae, "r2": r2}


def default_metrics(classification: bool) -> list[str]:
    return ["accuracy"] if classification else ["mse", "mae", "r2"]
