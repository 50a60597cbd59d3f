"""What ``evaluate`` and ``predict`` feed a saved model: the rows of a CSV file (or a
built-in dataset's test split), read as the model's preprocessing wants them, and checked
so that nothing is silently wrong.

A model with a Preprocessor (every model ``train`` writes now) gets the raw columns it
was trained on, by name, and prepares them itself; the CSV is read with its text columns
as text and empty cells where the model imputes them. Before the network sees a row, a
number that cannot be standardised into the network's dtype, or a category not seen in
training, is an error naming the file's row and column. A model of 0.1.0 gets its
``metadata["scaler"]`` applied here (:func:`~cartoonbrain.cli._data.scaled`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data.csvdata import CsvFile, DataFileError, Table
from ._columns import few
from ._data import fit_targets, load_dataset, model_inputs, scaled
from ._errors import CommandError

__all__ = [
    "Inputs",
    "feature_names",
    "features_for",
    "predict_rows",
    "read_options",
    "table_inputs",
]


@dataclass
class Inputs:
    """What evaluate and predict feed the model: X, the targets, and how to name a row."""

    X: Any
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
    sep: str | None = None,
    na_values: Any = None,
) -> Inputs:
    """X as the model takes it and, when asked, the targets as its ``evaluate`` takes
    them, from the CSV file ``data`` or the test split of the built-in ``dataset``."""
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
    with CsvFile(data, sep=sep, na_values=na_values) as f:
        names = feature_names(net, model, f.columns, data)
        if target is not None and target not in f.columns:
            raise CommandError(
                f"{data}: no target column {target!r} (give it with --target COLUMN)"
            )
        table = f.read(names, target, target_missing=True, **read_options(net))
    table, n_missing = table.without_missing_target()
    if n_missing:
        print(f"note: left out {n_missing} rows whose target {target!r} is missing")
    y = None if table.target is None else fit_targets(net, _targets(net, table, data))
    return Inputs(table_inputs(net, table), y, lambda i: f"{data}: row {table.lines[i]}")


def feature_names(net: Any, model: str, columns: list[str], data: str) -> list[str]:
    """The model's feature columns, every one of which the file must have."""
    pre = net.preprocessor
    names = pre.feature_names_in_ if pre is not None else net.metadata.get("feature_names")
    if names is None:
        raise CommandError(f"{model}: the model does not record its feature names")
    present = set(columns)
    missing = [n for n in names if n not in present]
    if missing:
        raise CommandError(
            f"{data}: missing feature column(s) {', '.join(missing)} that the model was trained on"
        )
    return list(names)


def read_options(net: Any) -> dict[str, Any]:
    """How to read a CSV for the model (:meth:`CsvFile.read`'s ``text``, ``empty`` and
    ``empty_hint``): its text columns as text, empty cells where it imputes them."""
    pre = net.preprocessor
    if pre is None:
        return {}
    text = [c["name"] for c in pre.columns_ if c["kind"] == "text"]
    empty = [c["name"] for c in pre.columns_ if c["fill"] is not None]
    hint = " (the model was trained without --impute, so every cell needs a value)"
    return {"text": text, "empty": empty, "empty_hint": hint}


def table_inputs(
    net: Any,
    table: Table,
    errors: dict[int, str] | None = None,
    unseen: dict[int, str] | None = None,
) -> Any:
    """The rows of ``table`` as the model takes them: raw columns for a model with a
    Preprocessor (checked first: see :func:`_check_for_model`; with ``errors``, a row that
    fails a check is recorded there, not raised), else scaled as 0.1.0 did."""
    if net.preprocessor is None:
        X = scaled(net, table.X, lambda i, j: table.where(i, table.features[j]))
        return model_inputs(net, X)
    _check_for_model(net, table, errors, unseen)
    return table.frame()


def _check_for_model(
    net: Any,
    table: Table,
    errors: dict[int, str] | None = None,
    unseen: dict[int, str] | None = None,
) -> None:
    """Each number must standardise into the network's dtype, and each text must be a
    category seen in training; the first that does not is named by row and column (with
    ``errors``: every such row's first problem goes there instead)."""
    limit = float(np.finfo(net.dtype).max)
    pre = net.preprocessor

    def wrong(rows: np.ndarray, name: str, problem: Callable[[int], str]) -> None:
        shown = rows[:1] if errors is None else rows
        for i in shown.tolist():
            message = f"{table.where(i, name)}: {problem(i)}"
            if errors is None:
                raise DataFileError(message)
            errors.setdefault(i, message)

    for j, spec in enumerate(pre.columns_):
        name = spec["name"]
        if spec["kind"] == "text":
            rows, _, problem = _unseen(table.text[name], spec)
            if pre.handle_unknown != "ignore":
                wrong(rows, name, problem)
            elif unseen is not None:  # encoded as all zeros: said, not refused
                for i in rows.tolist():
                    unseen.setdefault(i, f"{table.where(i, name)}: {problem(i)}")
            continue
        x = table.X[:, j]
        with np.errstate(over="ignore", invalid="ignore"):
            far = np.abs((x - spec["mean"]) / spec["scale"]) > limit  # NaN: imputed later
        if far.any():
            wrong(np.flatnonzero(far), name, _too_far(x, spec, net.dtype))


def _too_far(x: np.ndarray, spec: dict[str, Any], dtype: Any) -> Callable[[int], str]:
    stats = f"training mean {spec['mean']:g}, standard deviation {spec['scale']:g}"

    def problem(i: int) -> str:
        return f"{x[i]:g} cannot be standardised into {dtype} ({stats}); rescale this column"

    return problem


def _unseen(column: Any, spec: dict[str, Any]) -> tuple[np.ndarray, str, Callable[[int], str]]:
    """The rows of a text column whose category the model has not seen, and the problem."""
    known = set(spec["categories"])
    unseen = [k for k, t in enumerate(column.texts) if t and t not in known]
    rows = np.flatnonzero(np.isin(column.codes, unseen)) if unseen else np.empty(0, np.int64)
    shown = few(list(spec["categories"]))

    def problem(i: int) -> str:
        return f"{column.texts[column.codes[i]]!r} was not seen in training (categories: {shown})"

    return rows, spec["name"], problem


def predict_rows(net: Any, X: Any, row: Callable[[int], str]) -> np.ndarray:
    """``net.predict(X)``; a prediction that is not finite although its inputs are
    (:class:`~cartoonbrain.network.network.NonFinitePrediction`) is named by its file row."""
    from ..network.network import NonFinitePrediction

    try:
        return np.asarray(net.predict(X))
    except NonFinitePrediction as exc:
        raise DataFileError(
            f"{row(exc.row)}: the prediction is {exc.prediction.tolist()} although every input "
            "is finite; the row's values lie too far outside what the model was trained on"
        ) from None


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
    numeric = all(isinstance(c, (int, float)) for c in classes)
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
    """A label as the model's classes hold it: a number for numeric classes, else text."""
    if not numeric:
        return label if isinstance(label, str) else str(label)
    if isinstance(label, str):
        try:
            value = float(label)
        except ValueError:
            return label
        return int(value) if value.is_integer() else value
    return label
