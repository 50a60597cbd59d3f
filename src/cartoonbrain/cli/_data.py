"""The training data of ``train`` (and ``sweep``): a built-in dataset or a CSV file, and
the preprocessing that goes into the model with it. No argparse here: plain values only.

    CSV text → feature columns (numbers; text; empty cells) and the target
             → the task (classification or regression, and why)
             → a seeded test split
             → a Preprocessor and a TargetEncoder fitted on the training rows

The Preprocessor (standardise numbers, one-hot encode text columns, impute empty cells)
and the TargetEncoder (labels ↔ class ids; a regression target standardised) go into the
network and its file, so ``cb.load(path).predict(X)`` in Python, ``evaluate``, ``predict``
and the ONNX export all prepare rows the same way. Models written before that (0.1.0)
keep their statistics in ``metadata["scaler"]``, applied by :func:`scaled` here and by
the commands only: they still predict as they did.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..data.csvdata import Columns, CsvFile, DataFileError
from ._errors import CommandError

__all__ = [
    "IMPUTE_HINT",
    "MAX_CATEGORIES",
    "Data",
    "fit_scaler",
    "fit_targets",
    "load_dataset",
    "model_codecs",
    "model_inputs",
    "read_training_csv",
    "scaled",
    "split_rows",
    "split_test",
]

#: a text column with more distinct values than this is not one-hot encoded
MAX_CATEGORIES = 256
#: the end of the message for an empty cell in a training file without --impute
IMPUTE_HINT = " (--impute mean or --impute most_frequent fills empty cells)"


@dataclass
class Data:
    """Features and targets ready for the network, with what is needed to read them back.

    For a CSV file, X is the raw features: float64 (NaN where a cell is empty) or, with
    text columns, :class:`~cartoonbrain.data.csvdata.Columns`; y is class ids or numbers."""

    name: str
    X: Any
    y: np.ndarray | None
    task: str
    classes: list[Any] | None
    feature_names: list[str] | None
    X_test: Any = None
    y_test: np.ndarray | None = None
    target: str | None = None
    input_shape: tuple[int, ...] | None = None
    reason: str = ""
    text_columns: list[str] = field(default_factory=list)


def load_dataset(name: str, seed: int) -> Data:
    """A built-in dataset (:mod:`cartoonbrain.data.datasets`) with its own test split."""
    from .. import datasets

    ds = datasets.load(name, seed=seed)
    classes = list(ds.classes) if ds.classes is not None else None
    names = list(ds.feature_names) if ds.feature_names is not None else None
    return Data(
        name,
        ds.X_train,
        ds.y_train,
        ds.task,
        classes,
        names,
        ds.X_test,
        ds.y_test,
        input_shape=tuple(ds.input_shape),
        reason=f"dataset {name}",
    )


def read_training_csv(
    path: str,
    target: str,
    task: str = "auto",
    drop: Sequence[str] = (),
    impute: str | None = None,
    text: bool = False,
) -> Data:
    """Every column but ``target`` and ``drop`` as features; the target as classes or
    numbers (``task``: "auto", "classification" or "regression"). With ``text`` (for a
    command with train's column options), a column holding text is a text column and an
    empty cell's error suggests --impute; with ``impute``, an empty cell is allowed."""
    with CsvFile(path) as f:
        features = _features(f.columns, target, drop, path)
        hint = IMPUTE_HINT if text and impute is None else ""
        table = f.read(features, target, text=text, empty=impute is not None, empty_hint=hint)
    decided = table.target_task(task)
    if decided.classes is not None and len(decided.classes) < 2:
        raise DataFileError(
            f"{path}: the target column {target!r} has only one class ({decided.classes[0]!r}); "
            "a classifier needs at least two"
        )
    for name, column in table.text.items():
        if len(column.texts) > MAX_CATEGORIES:
            raise DataFileError(
                f"{path}: column {name!r} holds text ({column.first_text()!r}) with "
                f"{len(column.texts):,} distinct values, too many to one-hot encode (at most "
                f"{MAX_CATEGORIES}); --drop {name}, or fix the cells if it holds numbers"
            )
    return Data(
        path,
        table.frame(),
        decided.y,
        decided.task,
        decided.classes,
        table.features,
        target=target,
        reason=decided.reason,
        text_columns=list(table.text),
    )


def _features(columns: list[str], target: str, drop: Sequence[str], path: str) -> list[str]:
    """Every column but the target and the dropped ones, which must be columns."""
    known, dropped = set(columns), set(drop)  # sets: linear in the columns
    unknown = [name for name in drop if name not in known]
    if unknown:
        raise CommandError(
            f"--drop {', '.join(unknown)}: no such column in {path} "
            f"(the columns are {', '.join(columns)})"
        )
    if target in drop:
        raise CommandError(f"--drop {target}: that is the --target column")
    return [c for c in columns if c != target and c not in dropped]


def split_rows(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, test rows) of ``n``: a seeded random ``fraction`` held out."""
    n_test = round(n * fraction)
    if n_test == 0 or n_test >= n - 1:
        raise CommandError(
            f"--test-split {fraction} of {n} rows leaves too few rows to train or test"
        )
    order = np.random.default_rng(seed).permutation(n)
    return order[n_test:], order[:n_test]


def split_test(data: Data, fraction: float, seed: int) -> None:
    """Hold out a seeded random fraction of a CSV's rows as the test set."""
    if fraction == 0 or data.X_test is not None:
        return
    train, test = split_rows(len(data.X), fraction, seed)
    assert data.y is not None
    data.X_test, data.y_test = _take(data.X, test), data.y[test]
    data.X, data.y = _take(data.X, train), data.y[train]


def _take(X: Any, rows: np.ndarray) -> Any:
    return X.take(rows) if isinstance(X, Columns) else X[rows]


# ---------------------------------------------------------------- preprocessing in the model
def model_codecs(data: Data, impute: str | None, loss: Any) -> tuple[Any, Any]:
    """The Preprocessor (fitted on the training rows) and TargetEncoder of a CSV's model:
    class labels, or a regression target standardised when the loss predicts the target
    itself (y = t: not poisson, whose outputs are rates)."""
    from ..data.preprocessing import Preprocessor, TargetEncoder

    pre = Preprocessor(impute=impute, categorical=data.text_columns)
    pre.fit(data.X, feature_names=data.feature_names)
    if data.task == "classification":
        assert data.classes is not None
        encoder = TargetEncoder("classes").fit(np.asarray(data.classes))
        if encoder.classes != data.classes:  # both sorted; a mismatch would mislabel
            raise CommandError(f"class labels {data.classes} do not sort as {encoder.classes}")
        return pre, encoder
    if loss.output_activation is not None:
        return pre, None
    return pre, TargetEncoder("scale").fit(data.y)


def fit_targets(net: Any, y: Any) -> Any:
    """Targets as the network's ``fit`` and ``evaluate`` take them: the user's labels
    when the model has a class encoder (y holds class ids), else y."""
    encoder = net.target_encoder
    if encoder is not None and encoder.kind == "classes" and y is not None:
        return encoder.decode(np.asarray(y))
    return y


# ---------------------------------------------------------------- 0.1.0's scaler
def fit_scaler(X: np.ndarray) -> dict[str, list[float]]:
    """The training rows' mean and standard deviation per column, for :func:`scaled`.

    Computed on the column divided by a power of two near its largest magnitude (exact),
    then multiplied back, so values near 1e154 or 1e300 do not overflow the squares; a
    constant column gets scale 1.
    """
    _, exponent = np.frexp(np.max(np.abs(X), axis=0))
    unit = np.ldexp(1.0, exponent)  # 2^e ≥ max |x|; 1 for a column of zeros
    U = X / unit
    mean, scale = U.mean(axis=0) * unit, U.std(axis=0) * unit
    scale[scale == 0] = 1.0
    return {"mean": mean.tolist(), "scale": scale.tolist()}


def scaled(net: Any, X: np.ndarray, where: Callable[[int, int], str] | None = None) -> np.ndarray:
    """``(X − mean) / scale`` with the statistics of ``metadata["scaler"]`` (models of
    0.1.0, and ``sweep``'s folds); X unchanged for a model without them.

    A result that is not finite, or too large for the network's dtype, is an error naming
    the row and column (``where(i, j)``), never a silently infinite input.
    """
    scaler = net.metadata.get("scaler")
    if not scaler or net.preprocessor is not None:
        return X
    mean, scale = np.asarray(scaler["mean"]), np.asarray(scaler["scale"])
    with np.errstate(over="ignore", invalid="ignore"):
        Z = (X - mean) / scale
    limit = float(np.finfo(net.dtype).max)
    if Z.size and not (Z.max() <= limit and Z.min() >= -limit):  # NaN fails both
        i, j = np.argwhere(~(np.abs(Z) <= limit))[0]
        place = where(int(i), int(j)) if where is not None else f"column {int(j) + 1}"
        raise DataFileError(
            f"{place}: {X[i, j]:g} cannot be standardised into {net.dtype} (training mean "
            f"{mean[j]:g}, standard deviation {scale[j]:g}); rescale this column"
        )
    return Z


def model_inputs(net: Any, X: Any) -> Any:
    """Rows of features, reshaped to each sample's image or signal for convolutional models."""
    shape = net.input_shape
    if shape is not None and len(shape) > 1 and getattr(X, "ndim", 0) == 2:
        return X.reshape(len(X), *shape)
    return X
