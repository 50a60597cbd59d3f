"""Data preparation for the commands: a built-in dataset or a CSV file turned into the
arrays a network trains on, and back. No argparse here: every function takes plain values.

    CSV text → features X (float64) and targets y (class ids, or numbers)
             → a seeded test split → standardised features  x' = (x − mean) / scale

The mean and scale come from the training rows and are stored in the model's metadata
(``"scaler"``), so ``evaluate`` and ``predict`` scale new rows the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..csvdata import DataFileError, Table, read_table, target_kind
from ._errors import CommandError

__all__ = [
    "Data",
    "encode",
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


def encode(labels: list[Any], classes: list[Any], where: str) -> np.ndarray:
    """Class ids: ``classes.index(label)`` for each label; an unseen label is an error."""
    index = {label: i for i, label in enumerate(classes)}
    ids = np.empty(len(labels), dtype=np.int64)
    for i, label in enumerate(labels):
        if label not in index:
            known = ", ".join(map(str, classes[:10])) + (", ..." if len(classes) > 10 else "")
            raise CommandError(
                f"{where}, data row {i + 1}: label {label!r} was not seen in training "
                f"(known labels: {known})"
            )
        ids[i] = index[label]
    return ids


def read_training_csv(path: str, target: str) -> Data:
    """Every column but ``target`` as features; the target as classes or numbers."""
    table = read_table(path)
    table.index(target)
    features = [c for c in table.columns if c != target]
    if not features:
        raise DataFileError(f"{path}: no feature columns besides the target {target!r}")
    X = table.numbers(features)
    task, values = target_kind(table.column(target))
    if task == "regression":
        y = table.numbers([target])
        return Data(path, X, y, task, None, features, target=target)
    classes = sorted(set(values), key=lambda v: (str(type(v)), v))
    if len(classes) < 2:
        raise DataFileError(
            f"{path}: the target column {target!r} has only one class ({classes[0]!r}); "
            "a classifier needs at least two"
        )
    return Data(path, X, encode(values, classes, path), task, classes, features, target=target)


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


def fit_scaler(X: np.ndarray) -> dict[str, list[float]]:
    """The training rows' statistics for :func:`scaled`: mean and standard deviation per
    column (a constant column gets scale 1)."""
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale == 0] = 1.0
    return {"mean": mean.tolist(), "scale": scale.tolist()}


def scaled(metadata: dict[str, Any], X: np.ndarray) -> np.ndarray:
    """``(X − mean) / scale`` with the statistics stored in the model (CSV data only)."""
    scaler = metadata.get("scaler")
    if not scaler:
        return X
    return (X - np.asarray(scaler["mean"])) / np.asarray(scaler["scale"])


def model_inputs(net: Any, X: np.ndarray) -> np.ndarray:
    """Rows of features, reshaped to each sample's image or signal for convolutional models."""
    shape = net.input_shape
    if shape is not None and len(shape) > 1 and X.ndim == 2:
        return X.reshape(len(X), *shape)
    return X


def features_for(
    net: Any,
    model: str,
    data: str | None,
    dataset: str | None,
    seed: int,
    target: str | None = None,
    need_target: bool = False,
) -> tuple[np.ndarray, Any]:
    """X (scaled as in training) and, when asked, the encoded targets, from the CSV file
    ``data`` or the test split of the built-in ``dataset``."""
    if data is None:
        if dataset is None:
            raise CommandError("give the data: --data FILE.csv (or --dataset NAME)")
        builtin = load_dataset(dataset, seed)
        assert builtin.X_test is not None
        return model_inputs(net, builtin.X_test), builtin.y_test
    table = read_table(data)
    X = model_inputs(
        net, scaled(net.metadata, table.numbers(_feature_names(net, model, table, data)))
    )
    if not need_target:
        return X, None
    return X, _targets(net, table, target or net.metadata.get("target"), data)


def _feature_names(net: Any, model: str, table: Table, data: str) -> list[str]:
    names = net.metadata.get("feature_names")
    if names is None:
        raise CommandError(f"{model}: the model does not record its feature names")
    missing = [n for n in names if n not in table.columns]
    if missing:
        raise CommandError(
            f"{data}: missing feature column(s) {', '.join(missing)} that the model was trained on"
        )
    return list(names)


def _targets(net: Any, table: Table, target: str | None, data: str) -> np.ndarray:
    """The target column, as the model's class ids or as numbers."""
    meta = net.metadata
    if target is None:
        raise CommandError("--target COLUMN is needed to evaluate")
    if meta.get("task") != "classification":
        return table.numbers([target])
    _, labels = target_kind(table.column(target))
    if all(isinstance(c, int) for c in meta["classes"]) and not all(
        isinstance(v, int) for v in labels
    ):
        labels = [v.strip() if isinstance(v, str) else v for v in labels]
    return encode(labels, meta["classes"], data)
