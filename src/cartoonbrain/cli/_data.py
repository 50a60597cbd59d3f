"""Data preparation for the commands: a built-in dataset or a CSV file turned into the
arrays a network trains on, and back. No argparse here: every function takes plain values.

    CSV text → features X (float64) and targets y (class ids, or numbers)
             → a seeded test split → standardised features  x' = (x − mean) / scale

The mean and scale come from the training rows and are stored in the model's metadata
(``"scaler"``), so ``evaluate`` and ``predict`` scale new rows the same way. Nothing is
silently wrong: a statistic that cannot be computed, a value that cannot be scaled into
the network's dtype, or a prediction that turns non-finite is an error naming the place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..csvdata import CsvFile, DataFileError, Table, read_table
from ._errors import CommandError

__all__ = [
    "Data",
    "Inputs",
    "check_predictions",
    "features_for",
    "fit_scaler",
    "load_dataset",
    "model_inputs",
    "read_training_csv",
    "scaled",
    "split_test",
]


@dataclass
class Data:
    """Features and targets ready for the network, with what is needed to read them back."""

    name: str
    X: np.ndarray
    y: np.ndarray | None
    task: str
    classes: list[Any] | None
    feature_names: list[str] | None
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    target: str | None = None
    input_shape: tuple[int, ...] | None = None


def load_dataset(name: str, seed: int) -> Data:
    """A built-in dataset (:mod:`cartoonbrain.datasets`) with its own test split."""
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
    )


def read_training_csv(path: str, target: str) -> Data:
    """Every column but ``target`` as features; the target as classes or numbers."""
    table = read_table(path, target=target)
    task, classes, y = table.target_kind()
    if classes is not None and len(classes) < 2:
        raise DataFileError(
            f"{path}: the target column {target!r} has only one class ({classes[0]!r}); "
            "a classifier needs at least two"
        )
    return Data(path, table.X, y, task, classes, table.features, target=target)


def split_test(data: Data, fraction: float, seed: int) -> None:
    """Hold out a seeded random fraction of a CSV's rows as the test set."""
    if fraction == 0 or data.X_test is not None:
        return
    n_test = round(len(data.X) * fraction)
    if n_test == 0 or n_test >= len(data.X) - 1:
        raise CommandError(
            f"--test-split {fraction} of {len(data.X)} rows leaves too few rows to train or test"
        )
    order = np.random.default_rng(seed).permutation(len(data.X))
    test, train = order[:n_test], order[n_test:]
    assert data.y is not None
    data.X_test, data.y_test = data.X[test], data.y[test]
    data.X, data.y = data.X[train], data.y[train]


# ---------------------------------------------------------------- standardising
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
    """``(X − mean) / scale`` with the statistics stored in the model (CSV data only).

    A result that is not finite, or too large for the network's dtype, is an error naming
    the row and column (``where(i, j)``), never a silently infinite input.
    """
    scaler = net.metadata.get("scaler")
    if not scaler:
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


def model_inputs(net: Any, X: np.ndarray) -> np.ndarray:
    """Rows of features, reshaped to each sample's image or signal for convolutional models."""
    shape = net.input_shape
    if shape is not None and len(shape) > 1 and X.ndim == 2:
        return X.reshape(len(X), *shape)
    return X


def check_predictions(outputs: np.ndarray, row: Callable[[int], str]) -> None:
    """Finite inputs must give finite predictions: the first row that did not is named."""
    with np.errstate(over="ignore", invalid="ignore"):  # one sum first; exact check after
        if np.isfinite(np.add.reduce(outputs, axis=None, dtype=np.float64)):
            return
    bad = ~np.isfinite(outputs.reshape(len(outputs), -1)).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataFileError(
            f"{row(i)}: the prediction is {outputs[i].tolist()} although every input is finite; "
            "the row's values lie too far outside what the model was trained on"
        )


# ---------------------------------------------------------------- evaluate, predict
@dataclass
class Inputs:
    """What evaluate and predict feed the model: X, the targets, and how to name a row."""

    X: np.ndarray
    y: Any
    row: Callable[[int], str]


def features_for(
    net: Any,
    model: str,
    data: str | None,
    dataset: str | None,
    seed: int,
    target: str | None = None,
    need_target: bool = False,
) -> Inputs:
    """X (scaled as in training) and, when asked, the encoded targets, from the CSV file
    ``data`` or the test split of the built-in ``dataset``."""
    if data is None:
        if dataset is None:
            raise CommandError("give the data: --data FILE.csv (or --dataset NAME)")
        builtin = load_dataset(dataset, seed)
        assert builtin.X_test is not None
        X = model_inputs(net, builtin.X_test)
        return Inputs(X, builtin.y_test, lambda i: f"{dataset}: test row {i + 1}")
    target = (target or net.metadata.get("target")) if need_target else None
    if need_target and target is None:
        raise CommandError("--target COLUMN is needed to evaluate")
    with CsvFile(data) as f:
        table = f.read(_feature_names(net, model, f.columns, data), target)
    X = scaled(net, table.X, lambda i, j: table.where(i, table.features[j]))
    y = None if table.target is None else _targets(net, table, data)
    return Inputs(model_inputs(net, X), y, lambda i: f"{data}: row {table.lines[i]}")


def _feature_names(net: Any, model: str, columns: list[str], data: str) -> list[str]:
    names = net.metadata.get("feature_names")
    if names is None:
        raise CommandError(f"{model}: the model does not record its feature names")
    missing = [n for n in names if n not in columns]
    if missing:
        raise CommandError(
            f"{data}: missing feature column(s) {', '.join(missing)} that the model was trained on"
        )
    return list(names)


def _targets(net: Any, table: Table, data: str) -> np.ndarray:
    """The target column, as the model's class ids or as finite numbers."""
    target = table.target
    assert target is not None
    if net.metadata.get("task") != "classification":
        if target.numbers is None:
            raise DataFileError(f"{data}: the target column {target.name!r} holds text")
        bad = np.flatnonzero(~np.isfinite(target.numbers))
        if len(bad):
            raise DataFileError(
                f"{table.where(int(bad[0]), target.name)}: {target.numbers[bad[0]]} is not a "
                "finite number; remove or impute missing values"
            )
        return target.numbers.reshape(-1, 1)
    classes = list(net.metadata["classes"])
    numeric = all(isinstance(c, int) for c in classes)
    labels, codes = target.labels(prefer_text=not numeric)
    index = {c: i for i, c in enumerate(classes)}
    ids = np.array([index.get(_as_class(label, numeric), -1) for label in labels], np.int64)
    if (ids < 0).any():
        i = int(np.flatnonzero(ids[codes] < 0)[0])
        known = ", ".join(map(str, classes[:10])) + (", ..." if len(classes) > 10 else "")
        raise CommandError(
            f"{data}, data row {i + 1}: label {labels[codes[i]]!r} was not seen in training "
            f"(known labels: {known})"
        )
    return ids[codes]


def _as_class(label: Any, numeric: bool) -> Any:
    """A label as the model's classes hold it: an int for integer classes, else text."""
    if not numeric:
        return label if isinstance(label, str) else str(label)
    if isinstance(label, str):
        try:
            value = float(label)
        except ValueError:
            return label
        return int(value) if value.is_integer() else label
    return label
