"""The playground's five 2-D datasets, as TensorFlow Playground draws them, in NumPy only.

Every set lies in the square [-6, 6]² the page shows, with labels t ∈ {0, 1} (the page's
orange and blue). ``noise`` ∈ [0, 0.5] is the share of the square's half-width (5) that
each point is moved by:

    xor        x ~ U[-5, 5]²,            t = [x₁ x₂ > 0],        x += noise · 5 · U[-1, 1]²
    circles    t = 1 inside r < 2.5, t = 0 on the ring 3.5 < r < 5, x += noise · 5 · U[-1, 1]²
    moons      two interleaved half circles of radius 3, x += noise · 5 · N(0, I₂) / 2
    spiral     r = 5 s, θ = 1.75 · 2π s + π t, s ~ U[0, 1), x += noise · 5 · U[-1, 1]²
    gaussian   x ~ N(±(2, 2), (0.5 + 3 · noise)² I₂), t = 1 for the cluster at +(2, 2)

The points come from ``numpy.random.default_rng(seed)`` in that order, so a seed in the
page's address gives back the same points; :func:`split` then takes the first
``train_share`` of them (already in random order) for training.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["DATASETS", "HALF_WIDTH", "make", "split"]

Array = NDArray[np.float64]
Maker = Callable[[np.random.Generator, int, float], tuple[Array, Array]]

#: the half-width of the square the page shows, [-HALF_WIDTH, HALF_WIDTH]²
HALF_WIDTH = 6.0
_R = 5.0  # the data's own half-width, inside the shown square


def _jitter(rng: np.random.Generator, n: int, noise: float) -> Array:
    return noise * _R * rng.uniform(-1.0, 1.0, size=(n, 2))


def _xor(rng: np.random.Generator, n: int, noise: float) -> tuple[Array, Array]:
    x = rng.uniform(-_R, _R, size=(n, 2))
    x += np.where(x >= 0, 0.3, -0.3)  # a margin around the axes, as the Playground's
    t = (x[:, 0] * x[:, 1] > 0).astype(np.float64)
    return x + _jitter(rng, n, noise), t


def _circles(rng: np.random.Generator, n: int, noise: float) -> tuple[Array, Array]:
    t = (np.arange(n) % 2).astype(np.float64)
    inner = rng.uniform(0.0, 0.5 * _R, size=n)
    outer = rng.uniform(0.7 * _R, _R, size=n)
    r = np.where(t == 1, inner, outer)
    theta = rng.uniform(0.0, 2 * np.pi, size=n)
    x = np.column_stack([r * np.cos(theta), r * np.sin(theta)])
    return x + _jitter(rng, n, noise), t


def _moons(rng: np.random.Generator, n: int, noise: float) -> tuple[Array, Array]:
    t = (np.arange(n) % 2).astype(np.float64)
    theta = rng.uniform(0.0, np.pi, size=n)
    upper = np.column_stack([np.cos(theta), np.sin(theta)])
    lower = np.column_stack([1 - np.cos(theta), 0.5 - np.sin(theta)])
    x = 3.0 * (np.where(t[:, None] == 1, lower, upper) - [0.5, 0.25])
    return x + noise * _R * rng.standard_normal((n, 2)) / 2, t


def _spiral(rng: np.random.Generator, n: int, noise: float) -> tuple[Array, Array]:
    t = (np.arange(n) % 2).astype(np.float64)
    s = rng.uniform(0.0, 1.0, size=n)
    r, theta = _R * s, 1.75 * 2 * np.pi * s + np.pi * t
    x = np.column_stack([r * np.sin(theta), r * np.cos(theta)])
    return x + _jitter(rng, n, noise), t


def _gaussian(rng: np.random.Generator, n: int, noise: float) -> tuple[Array, Array]:
    t = (np.arange(n) % 2).astype(np.float64)
    centre = np.where(t[:, None] == 1, 2.0, -2.0)
    x = centre + (0.5 + 3.0 * noise) * rng.standard_normal((n, 2))
    return x, t


#: the datasets by the names the page and the exported script use
DATASETS: dict[str, Maker] = {
    "xor": _xor,
    "circles": _circles,
    "moons": _moons,
    "spiral": _spiral,
    "gaussian": _gaussian,
}


def make(name: str, n_points: int, noise: float, seed: int) -> tuple[Array, Array]:
    """``n_points`` points of dataset ``name`` in random order.

    Returns
    -------
    x : ndarray of shape (n_points, 2), the coordinates (x₁, x₂)
    t : ndarray of shape (n_points,), the labels 0.0 or 1.0
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)}")
    rng = np.random.default_rng(seed)
    x, t = DATASETS[name](rng, n_points, float(noise))
    order = rng.permutation(n_points)
    return np.clip(x[order], -HALF_WIDTH, HALF_WIDTH), t[order]


def split(x: Array, t: Array, train_share: float) -> tuple[Any, Any, Any, Any]:
    """(x_train, t_train, x_test, t_test): the first ``train_share`` of the rows train."""
    n_train = min(len(x) - 1, max(1, round(train_share * len(x))))
    return x[:n_train], t[:n_train], x[n_train:], t[n_train:]
