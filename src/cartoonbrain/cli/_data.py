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

from ..data.csvdata import Columns, CsvFile, DataFileError, Table
from ._columns import MAX_CATEGORIES, column_summary, few, id_like
from ._errors import CommandError

__all__ = [
    "IMPUTE_HINT",
    "MAX_CATEGORIES",
    "CsvOptions",
    "Data",
    "fit_scaler",
    "fit_targets",
    "load_dataset",
    "model_codecs",
    "model_inputs",
    "read_rows_like",
    "read_training_csv",
    "scaled",
    "split_rows",
    "split_test",
]

#: the end of the message for a missing cell in a training file with --impute none
IMPUTE_HINT = " (--impute auto, mean or most_frequent fills missing cells)"


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
    notes: list[str] = field(default_factory=list)  # what was done to the file, for the user
    summary: list[str] = field(default_factory=list)  # the columns' kinds (printed, reported)
    ids: list[str] = field(default_factory=list)  # columns carried through to predictions
    options: CsvOptions | None = None


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


#: the note for a training file with missing cells, by --impute
_IMPUTED = {
    "auto": "missing cells are imputed (numbers: the training mean, with a 0/1 "
    "missing-indicator input; text: the most frequent value); --impute none refuses them",
    "mean": "missing cells are imputed (numbers: the training mean; text: the most frequent)",
    "most_frequent": "missing cells are imputed with the column's most frequent value",
}


@dataclass
class CsvOptions:
    """How a CSV file becomes training rows (train's and sweep's column options).

    ``impute``: "auto" (the mean, a text column's most frequent value, and a
    missing-indicator input for a numeric column with gaps), "mean", "most_frequent" or
    "none" (a missing cell is an error). ``ids``: columns left out of the features and
    carried to the predictions. ``categorical``: columns one-hot encoded even when they
    hold numbers. ``sep`` and ``na_values``: as :class:`~cartoonbrain.data.csvdata.CsvFile`.
    """

    target: str
    task: str = "auto"
    drop: Sequence[str] = ()
    impute: str = "auto"
    categorical: Sequence[str] = ()
    ids: Sequence[str] = ()
    sep: str | None = None
    na_values: Sequence[str] | None = None

    def preprocessor_options(self) -> dict[str, Any]:
        """The Preprocessor's ``impute`` and ``indicator`` for :attr:`impute`."""
        impute = {"auto": "mean", "none": None}.get(self.impute, self.impute)
        return {"impute": impute, "indicator": self.impute == "auto"}

    def open(self, path: str) -> CsvFile:
        return CsvFile(path, sep=self.sep, na_values=self.na_values)


def read_training_csv(path: str, options: CsvOptions) -> Data:
    """The training rows of a CSV file (the one preparation of train, sweep, and their
    --validation-data and --test-data): every column but the target, the dropped ones, the
    IDs and the columns that look like IDs (:mod:`._columns`) as features, text columns
    found, missing cells allowed unless ``impute`` is "none"; rows whose target is missing
    left out (a note says how many); the task decided from the target, with its reason."""
    target = options.target
    with options.open(path) as f:
        _check_target(f, target, path)
        _check_named(f.columns, options.categorical, "--categorical", target)
        _check_named(f.columns, options.ids, "--id", target)
        features = _features(f.columns, target, [*options.drop, *options.ids], path)
        table = f.read(
            features,
            target,
            text=list(options.categorical),
            detect=True,
            empty=options.impute != "none",
            empty_hint=IMPUTE_HINT,
            target_missing=True,
        )
    table, n_missing = table.without_missing_target()
    notes = []
    if n_missing:
        notes.append(f"left out {n_missing} rows whose target {target!r} is missing")
    if not len(table.X):
        raise DataFileError(f"{path}: every row's target {target!r} is missing")
    table, left_out = _leave_out(table, options)
    decided = table.target_task(options.task)
    if decided.classes is not None and len(decided.classes) < 2:
        raise DataFileError(
            f"{path}: the target column {target!r} has only one class ({decided.classes[0]!r}); "
            "a classifier needs at least two"
        )
    summary = column_summary(table, left_out)
    if any("missing cells" in line for line in summary):
        notes.append(_IMPUTED[options.impute])
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
        notes=notes,
        summary=summary,
        ids=[*options.ids, *(n for n, why in left_out.items() if why.startswith("looks like"))],
        options=options,
    )


def _features(columns: list[str], target: str, drop: Sequence[str], path: str) -> list[str]:
    """Every column but the target and the dropped ones, which must be columns."""
    known, dropped = set(columns), set(drop)  # sets: linear in the columns
    unknown = [name for name in drop if name not in known]
    if unknown:
        raise CommandError(
            f"--drop {', '.join(unknown)}: no such column in {path} "
            f"(the columns are {few(columns)})"
        )
    if target in drop:
        raise CommandError(f"--drop {target}: that is the --target column")
    return [c for c in columns if c != target and c not in dropped]


def _check_target(f: CsvFile, target: str, path: str) -> None:
    """The target must be a column; a header of one column holding ; or a tab hints --sep."""
    if target in f.columns:
        return
    hint = ""
    if len(f.columns) == 1 and any(c in f.columns[0] for c in ";\t|,"):
        hint = "; the header is one column: give the separator with --sep"
    raise CommandError(
        f"{path}: no column {target!r} for --target; the columns are {few(f.columns)}{hint}"
    )


def _check_named(columns: list[str], names: Sequence[str], flag: str, target: str) -> None:
    unknown = [name for name in names if name not in columns]
    if unknown:
        raise CommandError(
            f"{flag} {', '.join(unknown)}: no such column (the columns are {few(columns)})"
        )
    if target in names:
        raise CommandError(f"{flag} {target}: that is the --target column")


def _leave_out(table: Table, options: CsvOptions) -> tuple[Table, dict[str, str]]:
    """The table without the columns that look like IDs or hold too many texts to one-hot
    encode (not those given with --categorical), and why each went."""
    left_out: dict[str, str] = {}
    for name in table.features:
        if name in options.categorical:
            continue
        why = id_like(table, name)
        if why:
            left_out[name] = f"looks like an ID: {why}; --id {name} copies it to predictions"
        elif name in table.text and len(table.text[name].texts) > MAX_CATEGORIES:
            count = len(table.text[name].texts)
            left_out[name] = f"text with {count:,} distinct values, too many to one-hot encode"
    if not left_out:
        return table, left_out
    if len(left_out) == len(table.features):
        raise DataFileError(
            f"{table.path}: every feature column is left out ({few(list(left_out))}); "
            "expected some columns of numbers or categories"
        )
    keep = [j for j, name in enumerate(table.features) if name not in left_out]
    kept = Table(
        table.path,
        table.columns,
        [table.features[j] for j in keep],
        table.X[:, keep],
        table.lines,
        table.target,
    )
    kept.text = {name: c for name, c in table.text.items() if name not in left_out}
    return kept, left_out


def read_rows_like(path: str, data: Data, flag: str) -> tuple[Any, np.ndarray]:
    """The rows and targets of another CSV file (--validation-data, --test-data) read as
    the training file was: its feature columns by name, the same text columns, the
    targets as the training classes (a label not among them is an error)."""
    options = data.options
    assert options is not None and data.feature_names is not None
    with options.open(path) as f:
        _check_target(f, options.target, path)
        missing = [n for n in data.feature_names if n not in f.columns]
        if missing:
            raise CommandError(f"{flag} {path}: no column {few(missing)} of the training file")
        table = f.read(
            data.feature_names,
            options.target,
            text=data.text_columns,
            empty=options.impute != "none",
            empty_hint=IMPUTE_HINT,
            target_missing=True,
        )
    table, _ = table.without_missing_target()
    if data.task == "regression":
        return table.frame(), table.target_task("regression").y
    assert data.classes is not None and table.target is not None
    numeric = all(isinstance(c, (int, float)) for c in data.classes)
    labels, codes = table.target.labels(prefer_text=not numeric)
    index = {str(c): i for i, c in enumerate(data.classes)}
    ids = np.array([index.get(str(label), -1) for label in labels], dtype=np.int64)[codes]
    if (ids < 0).any():
        i = int(np.flatnonzero(ids < 0)[0])
        raise DataFileError(
            f"{table.where(i, options.target)}: label {labels[codes[i]]!r} is not one of the "
            f"training file's classes ({few(list(map(str, data.classes)))})"
        )
    return table.frame(), ids


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
def model_codecs(data: Data, loss: Any) -> tuple[Any, Any]:
    """The Preprocessor (fitted on the training rows) and TargetEncoder of a CSV's model:
    class labels, or a regression target standardised when the loss predicts the target
    itself (y = t: not poisson, whose outputs are rates)."""
    from ..data.preprocessing import Preprocessor, TargetEncoder

    options = data.options.preprocessor_options() if data.options else {"impute": None}
    # a category the training rows lack (in the test rows, in predict's) is all zeros, as
    # scikit-learn's OneHotEncoder(handle_unknown="ignore"); predict reports such rows
    pre = Preprocessor(categorical=data.text_columns, handle_unknown="ignore", **options)
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


def concat_rows(first: Any, second: Any) -> Any:
    """The rows of ``first`` then those of ``second`` (arrays, or Columns by name)."""
    if isinstance(first, Columns):
        return Columns(
            {n: np.concatenate([first[n].to_numpy(), second[n].to_numpy()]) for n in first.columns}
        )
    return np.concatenate([first, second])
