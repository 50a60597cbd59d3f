"""Metrics reported during training and by ``evaluate``.

    accuracy   fraction of samples whose predicted class equals the target class
    mse        (1/(n k)) Σ (y − t)²        mae   (1/(n k)) Σ |y − t|
    r2         1 − Σ (y − t)² / Σ (t − t̄)²   (averaged over outputs, as scikit-learn)

    precision  tp / (tp + fp)     recall  tp / (tp + fn)     f1  2 tp / (2 tp + fp + fn)
               "precision", "recall", "f1": the positive class 1 of a binary problem;
               "*_macro": the mean over classes (labels) of the per-class score;
               "*_micro": the score of the pooled counts (as scikit-learn's ``average``)
    auc        the area under the ROC curve: P(score of a positive > score of a negative),
               ties counting ½ (one-vs-rest, averaged over classes, for k > 2)
    top_k_accuracy   the fraction of samples whose class is among the k most probable
               (k = 5 as Keras; "top_3_accuracy" for k = 3)

``y`` is what ``predict`` returns (probabilities for the classification losses). A score
whose denominator is 0 counts 0 (scikit-learn's ``zero_division``'s value, unwarned).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]

__all__ = [
    "METRICS",
    "accuracy",
    "auc",
    "confusion_matrix",
    "default_metrics",
    "get_metric",
    "mae",
    "mse",
    "r2",
    "top_k_accuracy",
]


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


def _true_ids(t: Array, y: Array, independent: bool) -> Array:
    """Targets as ids (n,) for one class per sample, or 0/1 indicators for sigmoids."""
    if independent or y.shape[1] == 1:
        return (t.reshape(y.shape) > 0.5).astype(np.int64)
    return t.argmax(axis=1) if t.ndim == 2 else t.astype(np.int64)


def _counts(y: Array, t: Array, independent: bool, binary: bool) -> tuple[Array, Array, Array]:
    """Per class (or label): true positives, false positives, false negatives; of the
    classes present in the targets or the predictions (scikit-learn's labels), or of the
    positive class 1 alone (``binary``)."""
    truth, guess = _true_ids(t, y, independent), predicted_classes(y, independent)
    if independent and y.shape[1] > 1:  # multi-label: each label its own yes/no
        tp = np.sum((guess == 1) & (truth == 1), axis=0)
        fp = np.sum((guess == 1) & (truth == 0), axis=0)
        fn = np.sum((guess == 0) & (truth == 1), axis=0)
        return tp, fp, fn
    truth, guess = truth.reshape(-1), guess.reshape(-1)
    k = max(int(y.shape[1]), 2)
    c = confusion_matrix(truth, guess, k)
    present = [1] if binary else np.union1d(truth, guess)  # the labels averaged over
    tp = np.diag(c)[present]
    return tp, c.sum(axis=0)[present] - tp, c.sum(axis=1)[present] - tp


def _ratio(num: Array, den: Array) -> Array:
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def _score(kind: str, average: str) -> Any:
    def score(y: Array, t: Array, independent: bool = False) -> float:
        binary = average == "binary"
        if binary and (y.shape[1] > 2 or (independent and y.shape[1] > 1)):
            raise ValueError(
                f"{kind} is for two classes; for {y.shape[1]} use {kind}_macro or {kind}_micro"
            )
        tp, fp, fn = _counts(y, t, independent, binary)
        if average == "micro":
            tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
        per_class = {
            "precision": _ratio(tp, tp + fp),
            "recall": _ratio(tp, tp + fn),
            "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        }[kind]
        return float(per_class.mean()) if per_class.size else 0.0

    score.__name__ = kind if average == "binary" else f"{kind}_{average}"
    return score


def _binary_auc(scores: Array, positive: Array) -> float:
    """Mann–Whitney: (Σ ranks of the positives − n₊(n₊+1)/2) / (n₊ n₋), ties averaged."""
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("auc needs samples of both classes (positive and negative)")
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(len(scores))
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], len(scores)]
    for a, b in zip(starts, ends):  # average ranks (1-based) over each run of ties
        ranks[order[a:b]] = (a + b + 1) / 2
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def auc(y: Array, t: Array, independent: bool = False) -> float:
    """ROC AUC; one-vs-rest and averaged over classes (labels) when there are more than 2."""
    y = np.asarray(y, dtype=np.float64)
    truth = _true_ids(t, y, independent)
    if y.shape[1] == 1:
        return _binary_auc(y[:, 0], truth.reshape(-1) == 1)
    if independent:
        return float(np.mean([_binary_auc(y[:, j], truth[:, j] == 1) for j in range(y.shape[1])]))
    if y.shape[1] == 2:
        return _binary_auc(y[:, 1], truth == 1)
    return float(np.mean([_binary_auc(y[:, c], truth == c) for c in range(y.shape[1])]))


def top_k_accuracy(y: Array, t: Array, independent: bool = False, k: int = 5) -> float:
    """Fraction of samples whose true class is among the k highest probabilities."""
    if independent or y.shape[1] < 2:
        raise ValueError("top_k_accuracy needs one probability per class (a softmax output)")
    truth = _true_ids(t, y, independent)
    k = min(k, y.shape[1])
    top = np.argpartition(-y, k - 1, axis=1)[:, :k]
    return float(np.mean(np.any(top == truth[:, None], axis=1)))


METRICS = {
    "accuracy": accuracy,
    "mse": mse,
    "mae": mae,
    "r2": r2,
    "auc": auc,
    "top_k_accuracy": top_k_accuracy,
    **{
        name: _score(kind, average)
        for kind in ("precision", "recall", "f1")
        for average, name in (
            ("binary", kind),
            ("macro", f"{kind}_macro"),
            ("micro", f"{kind}_micro"),
        )
    },
}


def get_metric(name: str) -> Any:
    """A metric by name: one of :data:`METRICS`, or ``"top_<k>_accuracy"`` for any k ≥ 1."""
    if name in METRICS:
        return METRICS[name]
    match = re.fullmatch(r"top_([1-9][0-9]*)_accuracy", name) if isinstance(name, str) else None
    if match:
        k = int(match.group(1))
        return lambda y, t, independent=False: top_k_accuracy(y, t, independent, k=k)
    raise ValueError(
        f"unknown metric {name!r}; expected one of {', '.join(METRICS)} or top_<k>_accuracy"
    )


def default_metrics(classification: bool) -> list[str]:
    return ["accuracy"] if classification else ["mse", "mae", "r2"]
