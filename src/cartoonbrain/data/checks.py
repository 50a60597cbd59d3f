"""Inputs checked once at the door (``fit``, ``predict``, ``evaluate``): each check says
in one line what is wrong and what was expected, never a traceback from inside NumPy.

The checks know no network: they are given what to check against (a dtype, one sample's
shape, a loss); ``Network.check_inputs`` and its siblings pass the network's own.

A SciPy sparse matrix (CSR, CSC, ...) is accepted as X and kept sparse (as CSR): the
network densifies it a batch of rows at a time (:func:`dense_rows`), never as a whole.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from ..losses import Loss

Array = NDArray[Any]

__all__ = ["check_inputs", "check_sample_weight", "check_targets", "dense_rows", "is_sparse"]


def all_finite(X: Array) -> bool:
    """Whether every entry is finite; for big float32 arrays, through one float64 sum
    (which cannot overflow), so without a temporary array of booleans."""
    if X.dtype == np.float32 and X.size > 4096:
        return bool(np.isfinite(np.add.reduce(X, axis=None, dtype=np.float64)))
    return bool(np.isfinite(X).all())


def is_sparse(X: Any) -> bool:
    """Whether X is a SciPy sparse matrix or array (duck-typed: NumPy stays the engine's
    only import)."""
    return hasattr(X, "tocsr") and hasattr(X, "toarray") and hasattr(X, "nnz")


def dense_rows(X: Any, rows: Any) -> Array:
    """``X[rows]`` as a dense C-contiguous array (rows: a slice or an index array)."""
    if is_sparse(X):
        return np.ascontiguousarray(X[rows].toarray())
    return X[rows]


def _check_sparse(
    X: Any, dtype: np.dtype, input_shape: tuple[int, ...] | None, name: str, check_finite: bool
) -> Any:
    shape = tuple(X.shape)
    if len(shape) != 2 or shape[0] == 0:
        raise ValueError(
            f"{name} is a sparse matrix of shape {shape}; expected (n_samples, n_features)"
        )
    if input_shape != shape[1:]:
        raise ValueError(
            f"{name} has {shape[1]} features per sample; the network expects "
            f"{input_shape} (a sparse X suits a first Dense layer)"
        )
    X = X.tocsr().astype(dtype)
    if check_finite and not np.isfinite(X.data).all():
        k = int(np.flatnonzero(~np.isfinite(X.data))[0])
        row = int(np.searchsorted(X.indptr, k, side="right") - 1)
        raise ValueError(
            f"{name} contains {X.data[k]} at row {row}, column {int(X.indices[k])}; "
            "expected finite numbers"
        )
    return X


def check_inputs(
    X: Any,
    dtype: np.dtype,
    input_shape: tuple[int, ...] | None,
    input_size: int | None,
    name: str = "X",
    check_finite: bool = True,
) -> Any:
    """X as a C-contiguous array of ``dtype`` whose samples have ``input_shape`` (or, when
    only that is known, ``input_size`` entries), or a ValueError saying why not; a sparse
    X stays sparse, as CSR."""
    if is_sparse(X):
        return _check_sparse(X, dtype, input_shape, name, check_finite)
    if (  # the common case, checked in a few attribute reads
        type(X) is np.ndarray
        and X.dtype == dtype
        and X.ndim == 2
        and X.shape[0]
        and X.shape[1:] == input_shape
        and X.flags.c_contiguous
        and (not check_finite or all_finite(X))
    ):
        return X
    try:
        X = np.asarray(X)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} could not be read as a numeric array: {exc}") from None
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric; got an array of dtype {X.dtype}")
    if X.ndim == 1 and input_shape is not None and input_shape != (1,):
        raise ValueError(
            f"{name} has shape {X.shape}; expected (n_samples, {input_shape[0]}) "
            f"(for one sample use {name}.reshape(1, -1))"
        )
    if X.ndim < 2:
        raise ValueError(f"{name} has shape {X.shape}; expected (n_samples, n_features)")
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty (0 samples); expected at least one sample")
    if input_size is not None and math.prod(X.shape[1:]) != input_size:
        raise ValueError(
            f"{name} has {math.prod(X.shape[1:])} features per sample; the network "
            f"expects {input_size} (each sample of {name} has shape {X.shape[1:]})"
        )
    if input_shape is not None and X.shape[1:] != input_shape:
        got = X.shape[1] if X.ndim == 2 else X.shape[1:]
        want = input_shape[0] if len(input_shape) == 1 else input_shape
        raise ValueError(f"{name} has {got} features per sample; the network expects {want}")
    X = np.ascontiguousarray(X, dtype=dtype)
    if check_finite and not all_finite(X):
        bad = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(
            f"{name} contains {X[tuple(bad)]} at row {bad[0]}"
            + (f", column {bad[1]}" if len(bad) > 1 else "")
            + "; expected finite numbers (drop or impute missing values first)"
        )
    return X


def check_targets(
    y: Any, n_samples: int, loss: Loss, n_outputs: int, dtype: np.dtype, name: str = "y"
) -> Array:
    """y checked against ``loss`` and the number of outputs, in the form the loss uses."""
    if y is None:
        raise ValueError(f"{name} is missing; the loss {loss.name!r} needs targets")
    try:
        y_arr = np.asarray(y)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} could not be read as an array: {exc}") from None
    if y_arr.ndim == 0 or len(y_arr) != n_samples:
        raise ValueError(
            f"{name} has {0 if y_arr.ndim == 0 else len(y_arr)} rows but X has {n_samples}; "
            "expected one target per sample"
        )
    if y_arr.dtype.kind == "f" and not np.isfinite(y_arr).all():
        at = tuple(np.argwhere(~np.isfinite(y_arr))[0])
        raise ValueError(f"{name} contains {y_arr[at]} at row {at[0]}; expected finite targets")
    return loss.prepare_targets(y_arr, n_outputs, dtype)


def check_sample_weight(sample_weight: Any, n_samples: int) -> Array | None:
    """``sample_weight`` as float64 of shape (n_samples,), or None; a ValueError for
    negative, non-finite or all-zero weights, or a wrong length."""
    if sample_weight is None:
        return None
    try:
        w = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"sample_weight could not be read as numbers: {exc}") from None
    if w.shape != (n_samples,):
        raise ValueError(
            f"sample_weight has shape {w.shape}; expected ({n_samples},), one per sample"
        )
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if bad.size:
        raise ValueError(f"sample_weight {w[bad[0]]} at row {bad[0]}; expected finite weights >= 0")
    if not w.sum() > 0:
        raise ValueError("sample_weight is zero for every sample; nothing to learn from")
    return w
