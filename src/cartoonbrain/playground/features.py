"""The input features the playground offers, computed from a point's (x₁, x₂).

    x1 = x₁   x2 = x₂   x1sq = x₁²   x2sq = x₂²   x1x2 = x₁ x₂   sinx1 = sin x₁   sinx2 = sin x₂

The network's first layer sees the chosen features in the order of :data:`FEATURES`
(o_0 = features(x)). An exported model stores them in its metadata
(``metadata["playground"]["features"]``): a model file takes the features, not the raw
point, so feed ``cb.load(path).predict(transform(x, features))``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["FEATURES", "LABELS", "check_features", "transform"]

Array = NDArray[np.float64]

#: each feature by name, as a function of the points x of shape (n, 2)
FEATURES: dict[str, Callable[[Array], Array]] = {
    "x1": lambda x: x[:, 0],
    "x2": lambda x: x[:, 1],
    "x1sq": lambda x: x[:, 0] ** 2,
    "x2sq": lambda x: x[:, 1] ** 2,
    "x1x2": lambda x: x[:, 0] * x[:, 1],
    "sinx1": lambda x: np.sin(x[:, 0]),
    "sinx2": lambda x: np.sin(x[:, 1]),
}
#: how the page writes each feature
LABELS = {
    "x1": "x₁",
    "x2": "x₂",
    "x1sq": "x₁²",
    "x2sq": "x₂²",
    "x1x2": "x₁x₂",
    "sinx1": "sin x₁",
    "sinx2": "sin x₂",
}


def check_features(names: object) -> list[str]:
    """The chosen feature names in :data:`FEATURES` order; ValueError for anything else."""
    if not isinstance(names, (list, tuple)) or not names:
        raise ValueError(f"features must be a non-empty list of {', '.join(FEATURES)}")
    unknown = [n for n in names if n not in FEATURES]
    if unknown:
        raise ValueError(f"unknown feature {unknown[0]!r}; expected some of {', '.join(FEATURES)}")
    return [n for n in FEATURES if n in names]


def transform(x: Array, names: Sequence[str]) -> Array:
    """o_0: the features ``names`` of the points ``x``.

    Parameters
    ----------
    x : ndarray of shape (n_samples, 2), the points (x₁, x₂)
    names : the feature names, e.g. ``["x1", "x2", "x1x2"]``

    Returns
    -------
    ndarray of shape (n_samples, len(names)), float64
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"points must have shape (n_samples, 2); got {x.shape}")
    return np.column_stack([FEATURES[name](x) for name in names])
