"""What a network on two input features computes at every point of the plane: its decision
boundary (:func:`decision_grid`) and each hidden unit's output (:func:`unit_maps`).

For inputs x = (x_1, x_2), the plane around the data is cut into a grid of
``resolution × resolution`` points; each point goes through the network as a row of raw
input (its preprocessor, if any, is applied as in ``predict``):

    decision grid    y(x) = net.predict(x): the class probabilities (or the regression's
                     output) at every point; the decision boundary is where the predicted
                     class changes (p = ½ for two classes)
    unit maps        o_l,i(x) for each hidden layer l and unit i: the layer's transforms
                     o_l = f(W_l o_{l-1} + b_l), as TensorFlow Playground draws its neurons

NumPy only (no matplotlib): the report draws these arrays (:mod:`.figures`), and any other
front end (a browser playground) can use the same computation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..network.network import Network

Array = NDArray[Any]

__all__ = ["Grid", "UnitMap", "decision_grid", "plane", "two_features", "unit_maps"]

#: the grid reaches this fraction of the data's range beyond it on every side
MARGIN = 0.1


def two_features(X: Any) -> Array | None:
    """X as a float array of shape (n, 2) when it is rows of two numbers; else None."""
    try:
        values = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if values.ndim != 2 or values.shape[1] != 2 or len(values) == 0:
        return None
    return values if np.isfinite(values).all() else None


def plane(X: Array, resolution: int, margin: float = MARGIN) -> tuple[Array, Array, Array]:
    """(xs, ys, points): the grid's coordinates along x_1 and x_2, each of length
    ``resolution``, and its points as rows of shape (resolution², 2), x_1 varying fastest."""
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)):
        raise ValueError(f"resolution must be an integer of at least 2; got {resolution!r}")
    if resolution < 2:
        raise ValueError(f"resolution must be an integer of at least 2; got {resolution}")
    low, high = X.min(axis=0), X.max(axis=0)
    pad = np.where(high > low, (high - low) * margin, 0.5)
    xs = np.linspace(low[0] - pad[0], high[0] + pad[0], resolution)
    ys = np.linspace(low[1] - pad[1], high[1] + pad[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, np.column_stack([gx.ravel(), gy.ravel()])


@dataclass(frozen=True)
class Grid:
    """The network's outputs over the plane.

    Attributes
    ----------
    xs, ys : ndarray of shape (resolution,), the coordinates along x_1 and x_2
    outputs : ndarray of shape (resolution, resolution, n_outputs), ``predict`` at
        (ys[i], xs[j]) in ``outputs[i, j]`` (probabilities for a classifier)
    classes : ndarray of int of shape (resolution, resolution), or None for a regression:
        the predicted class id (0 … k−1) at each point
    score : ndarray of shape (resolution, resolution): what to colour the plane by, the
        probability of class 1 for two classes, the predicted class's probability for more,
        the (first) output for a regression
    """

    xs: Array
    ys: Array
    outputs: Array
    classes: Array | None
    score: Array


def decision_grid(net: Network, X: Any, resolution: int = 100, margin: float = MARGIN) -> Grid:
    """The network's prediction at every point of a grid around the data ``X`` (n, 2).

    Raises ValueError unless X is rows of two numbers.
    """
    values = _two(X)
    xs, ys, points = plane(values, resolution, margin)
    outputs = np.asarray(net.predict(points), dtype=np.float64).reshape(len(points), -1)
    shape = (resolution, resolution)
    classes = score = None
    if net.loss.classification:
        if outputs.shape[1] == 1:  # one sigmoid output: p(class 1)
            score = outputs[:, 0]
            classes = (score > 0.5).astype(np.int64)
        else:
            classes = outputs.argmax(axis=1)
            score = outputs[:, 1] if outputs.shape[1] == 2 else outputs.max(axis=1)
    else:
        score = outputs[:, 0]
    grid_classes = None if classes is None else classes.reshape(shape)
    return Grid(xs, ys, outputs.reshape(*shape, -1), grid_classes, score.reshape(shape))


@dataclass(frozen=True)
class UnitMap:
    """One hidden unit's output over the plane: unit ``unit`` (0-based) of the layer
    numbered ``layer`` as the post numbers W_l (layers with weights, from 1)."""

    layer: int
    unit: int
    label: str
    values: Array  # (resolution, resolution), o_l,unit at (ys[i], xs[j])


def unit_maps(
    net: Network,
    X: Any,
    resolution: int = 40,
    *,
    max_units: int = 8,
    max_layers: int = 4,
    margin: float = MARGIN,
) -> tuple[Array, Array, list[UnitMap]]:
    """(xs, ys, maps): each hidden unit's output o_l,i over the grid around ``X`` (n, 2).

    The hidden layers are the layers with weights before the last one (the last is the
    output, which :func:`decision_grid` shows); at most ``max_units`` units of each of the
    first ``max_layers`` of them. Layers without weights (Dropout: off, as in predict)
    pass their input on.
    """
    values = _two(X)
    xs, ys, points = plane(values, resolution, margin)
    o = net.check_inputs(net.preprocess(points))
    weighted = [i for i, layer in enumerate(net.layers) if layer.parameter_shapes()]
    hidden = weighted[:-1][:max_layers]
    maps: list[UnitMap] = []
    for i, layer in enumerate(net.layers[: hidden[-1] + 1] if hidden else []):
        o = np.array(layer.infer(o))  # a copy: the next layer may write over its input
        if i not in hidden:
            continue
        number, f = weighted.index(i) + 1, layer.output_activation or "no f"
        flat = o.reshape(len(points), -1).astype(np.float64)
        for unit in range(min(flat.shape[1], max_units)):
            label = f"layer {number} ({f}), unit {unit + 1}"
            maps.append(UnitMap(number, unit, label, flat[:, unit].reshape(resolution, -1)))
    return xs, ys, maps


def _two(X: Any) -> Array:
    values = two_features(X)
    if values is None:
        shape = getattr(X, "shape", None)
        raise ValueError(
            f"the maps of the plane need rows of two finite numbers, (n_samples, 2); got {shape}"
        )
    return values
