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

Each metric is registered beside its definition (:func:`register_metric`, into
:data:`METRICS`, by the one rule of ``_registry.claim``) and declares its direction,
``greater_is_better`` (Keras's ``_direction``, scikit-learn's ``greater_is_better``):
what the callbacks' ``mode="auto"`` reads (:func:`greater_is_better`).

``y`` is what ``predict`` returns (probabilities for the classification losses). A score
whose denominator is 0 counts 0 (scikit-learn's ``zero_division``'s value, unwarned).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

import numpy as np
from numpy.typing import NDArray

from ._registry import claim

Array = NDArray[Any]
F = TypeVar("F", bound=Callable[..., float])

__all__ = [
    "METRICS",
    "accuracy",
    "auc",
    "confusion_matrix",
    "default_metrics",
    "get_metric",
    "greater_is_better",
    "mae",
    "mse",
    "r2",
    "register_metric",
    "top_k_accuracy",
]


class Metric(Protocol):
    """What :data:`METRICS` holds: ``metric(y, t, independent=False) -> float`` that says
    whether it is maximised, and, for a family, which names it answers to."""

    greater_is_better: bool
    name_pattern: re.Pattern[str] | None

    def __call__(self, y: Array, t: Array, independent: bool = False) -> float: ...


#: every metric by name, filled by :func:`register_metric` beside each definition
METRICS: dict[str, Metric] = {}

#: names a log may use for a metric (Keras's short names)
ALIASES = {"acc": "accuracy"}


def register_metric(
    name: str | None = None, *, greater_is_better: bool, pattern: str | None = None
) -> Callable[[F], F]:
    """Decorator: register a metric under ``name`` (default: the function's name), with
    its direction. ``pattern`` (a regular expression whose named groups are integer
    keyword arguments of the function) makes a family: :func:`get_metric` then builds
    ``"top_3_accuracy"`` as ``top_k_accuracy(..., k=3)``, of the same direction.

    A name held by another metric raises ValueError (``_registry.claim``), as do a
    direction that is not a bool and a name that is not an identifier.
    """
    if not isinstance(greater_is_better, bool):
        raise ValueError(f"greater_is_better must be True or False; got {greater_is_better!r}")
    compiled = None if pattern is None else re.compile(pattern)

    def decorate(function: F) -> F:
        key = function.__name__ if name is None else name
        if not (isinstance(key, str) and key.isidentifier()):
            raise ValueError(f"a metric's name must be an identifier; got {key!r}")
        held = METRICS.get(key)
        if held is function and held.greater_is_better != greater_is_better:
            raise ValueError(f"metric {key!r} is registered already with the other direction")
        claim(METRICS, key, function, "metric")  # refuses a name held by another metric
        metric = cast(Metric, function)
        metric.greater_is_better, metric.name_pattern = greater_is_better, compiled
        return function

    return decorate


def _family_names() -> list[str]:
    """The families' names as a person reads them: ``top_<k>_accuracy``."""
    return [
        re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", m.name_pattern.pattern)
        for m in METRICS.values()
        if m.name_pattern is not None
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


@register_metric(greater_is_better=True)
def accuracy(y: Array, t: Array, independent: bool = False) -> float:
    """Fraction of predictions equal to the targets (class ids or one-hot rows).

    With ``independent`` (sigmoid outputs) every entry is its own yes/no prediction, and
    accuracy is the fraction of entries on the right side of ½ (Keras's binary accuracy).
    """
    if independent or y.ndim != 2 or y.shape[1] == 1:
        return float(np.mean((y > 0.5) == (t.reshape(y.shape) > 0.5)))
    target = t.argmax(axis=1) if t.ndim == 2 else t
    return float(np.mean(y.argmax(axis=1) == target))


@register_metric(greater_is_better=False)
def mse(y: Array, t: Array, independent: bool = False) -> float:
    d = np.asarray(y, dtype=np.float64) - t.reshape(y.shape)  # float64: no overflow of y²
    return float(np.mean(np.square(d)))


@register_metric(greater_is_better=False)
def mae(y: Array, t: Array, independent: bool = False) -> float:
    return float(np.mean(np.abs(np.asarray(y, dtype=np.float64) - t.reshape(y.shape))))


@register_metric(greater_is_better=True)
def r2(y: Array, t: Array, independent: bool = False) -> float:
    y, t = np.asarray(y, dtype=np.float64), t.reshape(y.shape).astype(np.float64)
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


def _register_score(kind: str, average: str) -> None:
    """precision, recall or f1 with one average, registered as "f1", "f1_macro", ..."""

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
    register_metric(greater_is_better=True)(score)


for _kind in ("precision", "recall", "f1"):
    for _average in ("binary", "macro", "micro"):
        _register_score(_kind, _average)


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


@register_metric(greater_is_better=True)
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


@register_metric(greater_is_better=True, pattern=r"top_(?P<k>[1-9][0-9]*)_accuracy")
def top_k_accuracy(y: Array, t: Array, independent: bool = False, k: int = 5) -> float:
    """Fraction of samples whose true class is among the k highest probabilities."""
    if independent or y.shape[1] < 2:
        raise ValueError("top_k_accuracy needs one probability per class (a softmax output)")
    truth = _true_ids(t, y, independent)
    k = min(k, y.shape[1])
    top = np.argpartition(-y, k - 1, axis=1)[:, :k]
    return float(np.mean(np.any(top == truth[:, None], axis=1)))


def get_metric(name: str) -> Metric:
    """A metric by name: one of :data:`METRICS`, or a member of a family registered with a
    ``pattern`` (``"top_<k>_accuracy"`` for any k ≥ 1), of the family's direction."""
    if isinstance(name, str) and name in METRICS:
        return METRICS[name]
    for family in METRICS.values() if isinstance(name, str) else ():
        match = family.name_pattern.fullmatch(name) if family.name_pattern else None
        if match:
            arguments = {key: int(value) for key, value in match.groupdict().items()}
            score = cast(Callable[..., float], family)
            member = cast(Metric, functools.partial(score, **arguments))
            member.greater_is_better, member.name_pattern = family.greater_is_better, None
            return member
    raise ValueError(
        f"unknown metric {name!r}; expected one of {', '.join(METRICS)} or "
        f"{' or '.join(_family_names())}"
    )


def greater_is_better(name: str) -> bool:
    """Whether a logged quantity improves upwards: what ``mode="auto"`` reads.

    ``name`` as ``fit`` logs it: ``"loss"`` (False), a metric's name or a family member
    (``"top_3_accuracy"``), each also with the ``val_`` prefix and Keras's short names
    (``"val_acc"``). ValueError for a name that is none of these.
    """
    base = name.removeprefix("val_") if isinstance(name, str) else name
    base = ALIASES.get(base, base)
    if base == "loss":
        return False
    try:
        metric = get_metric(base)
    except ValueError:
        raise ValueError(
            f"{name!r} is neither 'loss' nor a registered metric (with or without 'val_'), so "
            f"its direction is unknown; expected one of loss, {', '.join(METRICS)}, "
            f"{', '.join(_family_names())}"
        ) from None
    return metric.greater_is_better


def default_metrics(classification: bool) -> list[str]:
    return ["accuracy"] if classification else ["mse", "mae", "r2"]
