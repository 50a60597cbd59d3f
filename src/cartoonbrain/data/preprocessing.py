"""Preprocessing that is part of the model: what it does to raw rows before its first
layer, and to its outputs after the last, learned from the training data and saved in
the model file (Keras's ``Normalization``/``StringLookup``/``CategoryEncoding`` layers,
scikit-learn's ``ColumnTransformer`` with ``feature_names_in_``).

:class:`Preprocessor`, for the inputs, column by column::

    numeric column j   x̃_j = (x_j − μ_j) / σ_j      a missing cell first becomes the
                                                   column's mean or most frequent value;
                       m_j = [x_j missing]         with ``indicator``, one more 0/1 column
                                                   for a column with gaps in training
    text column j      one 0/1 column per category seen in training (an unknown one:
                       an error, or all zeros with ``handle_unknown="ignore"``)

:class:`TargetEncoder`, for the targets: class labels ↔ ids 0..k−1, or a regression target
standardised for training, t̃ = (t − μ_t) / σ_t, and put back in its units by ``predict``,
y = ỹ σ_t + μ_t.

Both are fitted (``fit``, as Keras's ``adapt``) before the network is built, so the first
layer's size is known: ``Network(layers, preprocessor=p, target_encoder=e)``. The network
then applies them in ``fit``, ``evaluate``, ``predict`` and ``predict_classes``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._validation import is_number
from .columnchecks import categorical_names, check_categorical, check_distinct, check_real

Array = NDArray[Any]

__all__ = ["Preprocessor", "TargetEncoder", "columns_of"]

_IMPUTE = (None, "mean", "most_frequent")


def columns_of(X: Any, names: list[str] | None = None) -> tuple[list[Array], list[str] | None]:
    """The columns of X as 1-D arrays, and their names when X has them (a pandas
    DataFrame); with ``names``, a DataFrame's columns are taken by name, in that order,
    and any other column is left out (as ``cartoonbrain predict`` leaves out a file's
    other columns): only a missing one is an error."""
    if hasattr(X, "columns") and hasattr(X, "to_numpy"):  # a DataFrame, without pandas
        given = [str(c) for c in X.columns]
        check_distinct(given, "X's columns")  # X[name] would be a frame of them all
        if names is not None:
            missing = [n for n in names if n not in given]
            if missing:
                raise ValueError(
                    f"X's columns do not match the model's features: missing {missing[:10]} "
                    f"(expected {names[:10]}{', ...' if len(names) > 10 else ''})"
                )
            return [X[c].to_numpy() for c in names], list(names)
        return [X[c].to_numpy() for c in X.columns], given
    rows = np.asarray(X, dtype=object if _has_text(X) else None)
    if rows.ndim != 2:
        raise ValueError(f"X has shape {rows.shape}; expected (n_samples, n_features)")
    return [rows[:, j] for j in range(rows.shape[1])], None


def _few(names: list[str], n: int = 8) -> str:
    """Up to ``n`` names for a message, then how many there are in all."""
    return ", ".join(names[:n]) + (f", ... ({len(names)} in all)" if len(names) > n else "")


def _has_text(X: Any) -> bool:
    try:
        return np.asarray(X).dtype.kind in "OUS"
    except (TypeError, ValueError):
        return True  # ragged or mixed: let object arrays say what is wrong


def _missing(column: Array) -> Array:
    """Where a cell is missing: NaN, None, or an empty or blank string."""
    if column.dtype.kind == "f":
        return np.isnan(column)
    return np.array(
        [
            v is None
            or (isinstance(v, float) and math.isnan(v))
            or (isinstance(v, str) and not v.strip())
            for v in column
        ],
        dtype=bool,
    )


def _as_numbers(column: Array) -> Array | None:
    """The column as float64, or None if some present cell is not a number."""
    if column.dtype.kind in "biuf":
        return column.astype(np.float64)
    try:
        return np.array([np.nan if m else float(v) for v, m in zip(column, _missing(column))])
    except (TypeError, ValueError):
        return None


def _mean_and_scale(values: Array, name: str) -> tuple[float, float]:
    """μ and σ of a column without overflow (values near 1e154 square to inf): both are
    taken of the values divided by their largest magnitude, then scaled back."""
    big = float(np.max(np.abs(values))) if values.size else 0.0
    if not math.isfinite(big):
        bad = values[~np.isfinite(values)][0]  # NaN is not called infinite
        raise ValueError(f"column {name!r} holds {bad}; expected finite numbers")
    unit = big if big > 0 else 1.0
    mean_u, std_u = float(np.mean(values / unit)), float(np.std(values / unit))
    mean, std = mean_u * unit, std_u * unit
    if not (math.isfinite(mean) and math.isfinite(std)):
        raise ValueError(f"column {name!r}: its mean or spread overflows ({big:g})")
    return mean, std if std > 0 else 1.0


class Preprocessor:
    """Standardise numeric columns, one-hot encode text columns, impute missing cells.

    Parameters
    ----------
    impute : None (default: a missing cell is an error), "mean" or "most_frequent"
        (a text column's missing cells take its most frequent category either way)
    handle_unknown : "error" (default) or "ignore" (an unseen category: all zeros)
    standardize : bool, default True
    categorical : list of column names or indices, optional
        Columns to one-hot encode; by default every column with a cell that is not a
        number.
    indicator : bool, default False
        With ``impute``: a numeric column with missing cells in training gets one more
        input, 1 where the cell was missing and 0 elsewhere (scikit-learn's
        ``SimpleImputer(add_indicator=True)``), so the network can tell a gap from the mean.
    """

    def __init__(
        self,
        impute: str | None = None,
        handle_unknown: str = "error",
        standardize: bool = True,
        categorical: list[Any] | None = None,
        indicator: bool = False,
    ) -> None:
        if impute not in _IMPUTE:
            raise ValueError(f"impute must be None, 'mean' or 'most_frequent'; got {impute!r}")
        if handle_unknown not in ("error", "ignore"):
            raise ValueError(f"handle_unknown must be 'error' or 'ignore'; got {handle_unknown!r}")
        check_categorical(categorical)
        self.impute, self.handle_unknown = impute, handle_unknown
        self.standardize, self.categorical = bool(standardize), categorical
        self.indicator = bool(indicator)
        self.feature_names_in_: list[str] = []
        self.columns_: list[dict[str, Any]] = []  # per input column: kind and statistics

    @property
    def fitted(self) -> bool:
        return bool(self.columns_)

    @property
    def n_features_in(self) -> int:
        return len(self.columns_)

    @property
    def n_features_out(self) -> int:
        return sum(
            len(c["categories"]) if c["kind"] == "text" else 1 + c.get("indicator", False)
            for c in self.columns_
        )

    @property
    def has_text(self) -> bool:
        return any(c["kind"] == "text" for c in self.columns_)

    def fit(self, X: Any, feature_names: list[str] | None = None) -> Preprocessor:
        """Learn each column's kind, its statistics or categories, from training rows."""
        given = "feature_names" if feature_names else "X's columns"
        columns, names = columns_of(X)
        names = [str(n) for n in (feature_names or names or range(len(columns)))]
        if len(names) != len(columns):
            raise ValueError(f"{len(names)} feature names for {len(columns)} columns")
        check_distinct(names, given)
        chosen = categorical_names(self.categorical or [], names)
        self.feature_names_in_ = names
        self.columns_ = [
            self._fit_column(col, name, name in chosen) for col, name in zip(columns, names)
        ]
        return self

    def _fit_column(self, column: Array, name: str, text: bool) -> dict[str, Any]:
        check_real(column, name)
        missing = _missing(column)
        numbers = None if text else _as_numbers(column)
        if numbers is None:  # a text column
            present = [str(v) for v, m in zip(column, missing) if not m]
            if not present:
                raise ValueError(f"column {name!r} has no values to learn from")
            categories, counts = np.unique(present, return_counts=True)
            # a category has no mean: with either imputation, the most frequent one
            mode = str(categories[np.argmax(counts)]) if self.impute else None
            return {"name": name, "kind": "text", "categories": categories.tolist(), "fill": mode}
        values = numbers[~missing]
        if values.size == 0:
            raise ValueError(f"column {name!r} has no values to learn from")
        mean, scale = _mean_and_scale(values, name) if self.standardize else (0.0, 1.0)
        fill: float | None = float(np.mean(values)) if self.impute == "mean" else None
        if self.impute == "most_frequent":
            uniques, counts = np.unique(values, return_counts=True)
            fill = float(uniques[np.argmax(counts)])
        spec = {"name": name, "kind": "number", "mean": mean, "scale": scale, "fill": fill}
        if self.indicator and fill is not None and missing.any():
            spec["indicator"] = True
        return spec

    def transform(self, X: Any) -> NDArray[np.float64]:
        """Raw rows (an array in training column order, or a DataFrame with the training
        columns in any order) as the network's input features, float64."""
        if not self.fitted:
            raise ValueError("this Preprocessor is not fitted: call fit(X_train) first")
        named = hasattr(X, "columns")
        columns, _ = columns_of(X, self.feature_names_in_ if named else None)
        if len(columns) != self.n_features_in:
            raise ValueError(
                f"X has {len(columns)} features per sample; the model expects "
                f"{self.n_features_in} ({', '.join(self.feature_names_in_)})"
            )
        parts = [self._transform_column(col, spec) for col, spec in zip(columns, self.columns_)]
        return np.column_stack(parts) if parts else np.empty((0, 0))

    def _transform_column(self, column: Array, spec: dict[str, Any]) -> Array:
        check_real(column, spec["name"])
        missing, name = _missing(column), spec["name"]
        if missing.any() and spec["fill"] is None:
            row = int(np.flatnonzero(missing)[0])
            raise ValueError(
                f"column {name!r} is missing a value at row {row}; impute it (impute='mean' "
                "or 'most_frequent' when fitting, --impute on the command line) or drop the row"
            )
        if spec["kind"] == "number":
            numbers = _as_numbers(column)
            if numbers is None:
                bad = next(
                    v
                    for v, m in zip(column, missing)
                    if not m and _as_numbers(np.array([v], dtype=object)) is None
                )
                raise ValueError(f"column {name!r} holds {bad!r}; expected numbers")
            numbers = np.where(missing, spec["fill"] if spec["fill"] is not None else 0.0, numbers)
            standard = (numbers - spec["mean"]) / spec["scale"]
            if spec.get("indicator"):
                return np.column_stack([standard, missing.astype(np.float64)])
            return standard
        text = np.array([spec["fill"] if m else str(v) for v, m in zip(column, missing)])
        categories = np.asarray(spec["categories"])
        hot = text[:, None] == categories[None, :]
        unknown = ~hot.any(axis=1)
        if unknown.any() and self.handle_unknown == "error":
            row = int(np.flatnonzero(unknown)[0])
            raise ValueError(
                f"column {name!r} has category {str(text[row])!r} at row {row}, not seen in "
                f"training ({_few(spec['categories'])}); refit, or use "
                "handle_unknown='ignore' for all zeros"
            )
        return hot.astype(np.float64)

    def get_config(self) -> dict[str, Any]:
        """Plain JSON-able data: the options and everything learned."""
        return {
            "impute": self.impute,
            "handle_unknown": self.handle_unknown,
            "standardize": self.standardize,
            "feature_names": self.feature_names_in_,
            "columns": self.columns_,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Preprocessor:
        """Rebuild from :meth:`get_config` (a model file's), checking every field."""
        if not isinstance(config, dict) or not isinstance(config.get("columns"), list):
            raise ValueError("a preprocessor config must be a dict with a list of 'columns'")
        pre = cls(
            config.get("impute"),
            config.get("handle_unknown", "error"),
            config.get("standardize", True),
        )
        pre.columns_ = [_checked_column(c) for c in config["columns"]]
        pre.feature_names_in_ = [c["name"] for c in pre.columns_]
        if len(set(pre.feature_names_in_)) != len(pre.feature_names_in_):
            raise ValueError("preprocessor columns must have distinct names")
        return pre

    def __repr__(self) -> str:
        kinds = [c["kind"] for c in self.columns_]
        return (
            f"Preprocessor({kinds.count('number')} numeric, {kinds.count('text')} text "
            f"columns, impute={self.impute!r})"
        )


def _checked_column(spec: Any) -> dict[str, Any]:
    """One column's config, checked for the types and sizes a model file may hold."""
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise ValueError(
            f"a preprocessor column must be a dict with a 'name'; got {type(spec).__name__}"
        )
    kind = spec.get("kind")
    if kind == "number":
        for key in ("mean", "scale"):
            value = spec.get(key)
            if not is_number(value) or not math.isfinite(value):
                raise ValueError(
                    f"preprocessor column {spec['name']!r}: {key} must be a finite number"
                )
        if spec["scale"] == 0:
            raise ValueError(f"preprocessor column {spec['name']!r}: scale must not be 0")
        fill = spec.get("fill")
        if fill is not None and not is_number(fill):
            raise ValueError(f"preprocessor column {spec['name']!r}: fill must be a number")
        checked = {
            "name": spec["name"],
            "kind": kind,
            "mean": float(spec["mean"]),
            "scale": float(spec["scale"]),
            "fill": None if fill is None else float(fill),
        }
        if spec.get("indicator", False) is not False:
            if spec["indicator"] is not True or fill is None:
                raise ValueError(
                    f"preprocessor column {spec['name']!r}: indicator must be true, with a fill"
                )
            checked["indicator"] = True
        return checked
    if kind == "text":
        categories = spec.get("categories")
        if (
            not isinstance(categories, list)
            or not categories
            or not all(isinstance(c, str) for c in categories)
        ):
            raise ValueError(f"preprocessor column {spec['name']!r}: categories must be strings")
        fill = spec.get("fill")
        if (fill is not None and fill not in categories) or len(set(categories)) < len(categories):
            raise ValueError(
                f"preprocessor column {spec['name']!r}: its categories must be distinct and "
                "its fill one of them"
            )
        return {"name": spec["name"], "kind": kind, "categories": list(categories), "fill": fill}
    raise ValueError(f"preprocessor column kind must be 'number' or 'text'; got {kind!r}")


class TargetEncoder:
    """Targets as the loss wants them, and predictions back in the user's terms.

    ``TargetEncoder("classes").fit(labels)``: labels (text or numbers) ↔ ids 0..k−1, in
    sorted order (``classes``). ``TargetEncoder("scale").fit(t)``: t̃ = (t − μ) / σ per
    output, and ``decode`` puts predictions back in the target's units.
    """

    def __init__(self, kind: str = "classes") -> None:
        if kind not in ("classes", "scale"):
            raise ValueError(f"kind must be 'classes' or 'scale'; got {kind!r}")
        self.kind = kind
        self.classes: list[Any] = []
        self.mean: list[float] = []
        self.scale: list[float] = []

    def fit(self, y: Any) -> TargetEncoder:
        y = np.asarray(y)
        if self.kind == "classes":
            labels = np.unique(y.astype(str) if y.dtype.kind in "OUS" else y)
            self.classes = [v.item() if hasattr(v, "item") else v for v in labels]
            return self
        t = y.astype(np.float64).reshape(len(y), -1)
        stats = [_mean_and_scale(t[:, j], f"target {j}") for j in range(t.shape[1])]
        self.mean, self.scale = [m for m, _ in stats], [s for _, s in stats]
        return self

    def encode(self, y: Any) -> Array:
        y = np.asarray(y)
        if self.kind == "classes":
            keys = y.astype(str) if y.dtype.kind in "OUS" else y
            lookup = {c: i for i, c in enumerate(self.classes)}
            ids = np.array(
                [lookup.get(v.item() if hasattr(v, "item") else v, -1) for v in keys.reshape(-1)]
            )
            if (ids < 0).any():
                row = int(np.flatnonzero(ids < 0)[0])
                raise ValueError(
                    f"label {keys.reshape(-1)[row]!r} at row {row} is not one of the "
                    f"model's classes {self.classes}"
                )
            return ids
        t = y.astype(np.float64).reshape(len(y), -1)
        return (t - np.asarray(self.mean)) / np.asarray(self.scale)

    def decode(self, outputs: Array) -> Array:
        """Predictions in the target's units (regression), or labels from ids (classes)."""
        if self.kind == "classes":
            return np.asarray(
                self.classes,
                dtype=object if any(isinstance(c, str) for c in self.classes) else None,
            )[outputs]
        return outputs * np.asarray(self.scale, dtype=outputs.dtype) + np.asarray(
            self.mean, dtype=outputs.dtype
        )

    def get_config(self) -> dict[str, Any]:
        return {"kind": self.kind, "classes": self.classes, "mean": self.mean, "scale": self.scale}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TargetEncoder:
        if not isinstance(config, dict):
            raise ValueError("a target encoder config must be a dict")
        enc = cls(config.get("kind", "classes"))
        classes, mean, scale = (
            config.get("classes", []),
            config.get("mean", []),
            config.get("scale", []),
        )
        if not isinstance(classes, list) or not all(
            isinstance(c, (str, int, float)) and not isinstance(c, bool) for c in classes
        ):
            raise ValueError("target encoder classes must be a list of strings or numbers")
        for name, values in (("mean", mean), ("scale", scale)):
            if not isinstance(values, list) or not all(
                is_number(v) and math.isfinite(v) for v in values
            ):
                raise ValueError(f"target encoder {name} must be a list of finite numbers")
        if len(mean) != len(scale) or any(s == 0 for s in scale):
            raise ValueError("target encoder mean and scale must match, with no zero scale")
        enc.classes, enc.mean, enc.scale = (
            list(classes),
            [float(v) for v in mean],
            [float(v) for v in scale],
        )
        return enc

    def check_width(self, n_out: int, independent: bool = False) -> None:
        """ValueError unless this encoder decodes ``n_out`` outputs: k classes for k
        softmax outputs or 2 for one sigmoid output (``independent``), one (μ, σ) per
        regression output; a class listed twice is refused too."""
        if self.kind == "scale":
            if self.mean and len(self.mean) != n_out:
                raise ValueError(
                    f"the target encoder scales {len(self.mean)} targets but the network has "
                    f"{n_out} outputs"
                )
            return
        k, wanted = len(self.classes), 2 if independent and n_out == 1 else n_out
        if len({str(c) for c in self.classes}) != k:
            raise ValueError(f"the class list names a class twice: {self.classes[:10]}")
        if k and not (independent and n_out > 1) and k != wanted:
            raise ValueError(f"{k} classes for {n_out} output(s), which predict {wanted}")

    def __repr__(self) -> str:
        return f"TargetEncoder({self.kind!r}, {len(self.classes) or len(self.mean)} entries)"
