"""What the page draws, computed from the network's weights: one frame.

The network's Dense layers are run forward on every point of a grid over the square the
page shows, with the post's equations (dropout is off at inference, so it is skipped):

    o_0 = features(x),   a_l = o_{l-1} W_lᵀ + b_l,   o_l = f(a_l),   p = σ(a_L)

A frame holds the decision map p (in float32) on a ``GRID`` × ``GRID`` grid (the heat
map under the points), each hidden unit's o_l on every ``UNIT_STRIDE``-th row and column of it (the
small maps), every W_l and b_l (the lines of the network drawing), and the training and
test loss, the binary cross-entropy of p against t without the L2 penalty:

    L = mean(log(1 + e^{a_L}) − t a_L)

Maps go to the page as base64 bytes: p as round(255 p), a unit's o_l as
round(127 o_l / m) + 128 with m = max |o_l| over its map (also sent), so the page can
draw each map on its own scale.

(h27's report/boundary.py computes a decision grid for the report; the two are to be
joined at merge.)
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .datasets import HALF_WIDTH
from .features import transform

__all__ = [
    "GRID",
    "UNIT_STRIDE",
    "affines_in_blocks",
    "binary_loss",
    "forward",
    "frame",
    "grid_points",
]

Array = NDArray[np.float64]
#: the decision map's size, and the stride of the units' smaller maps (100 / 5 = 20)
GRID, UNIT_STRIDE = 100, 5


def grid_points(size: int = GRID, half_width: float = HALF_WIDTH) -> Array:
    """The centres of a size × size grid over [-half_width, half_width]², row by row from
    the top (x₂ largest first), x₁ growing along a row: shape (size², 2)."""
    step = 2 * half_width / size
    centres = -half_width + step * (np.arange(size) + 0.5)
    x1, x2 = np.meshgrid(centres, centres[::-1])
    return np.column_stack([x1.ravel(), x2.ravel()])


#: rows per matmul in :func:`affines_in_blocks`
BLOCK = 1000


def affines_in_blocks(o: Array, W: Array, b: Array) -> Array:
    """a = o Wᵀ + b, BLOCK rows at a time: OpenBLAS spreads one (10000, 8) @ (8, 8) over
    its threads, which took 22 ms on this 2-core machine at load 10, against 0.52 ms in
    blocks of 1000 rows, which it keeps on one thread (the grid is 10000 rows)."""
    a = np.empty((o.shape[0], W.shape[0]), dtype=np.result_type(o, W))
    for start in range(0, o.shape[0], BLOCK):
        np.matmul(o[start : start + BLOCK], W.T, out=a[start : start + BLOCK])
    a += b
    return a


def forward(layers: Sequence[Any], o: Array) -> list[Array]:
    """The transforms o_1 … o_{L-1} of the hidden layers and the last layer's affines a_L,
    for the Dense ``layers`` (each with W, b and activation) on inputs o = o_0, in the
    dtype of o."""
    outputs = []
    for i, layer in enumerate(layers):
        a = affines_in_blocks(o, layer.W.astype(o.dtype), layer.b.astype(o.dtype))
        o = a if i == len(layers) - 1 else layer.activation.f(a)
        outputs.append(o)
    return outputs


def binary_loss(logits: Array, t: Array) -> float:
    """The mean binary cross-entropy from the logits: mean(log(1 + e^a) − t a)."""
    a = logits.ravel()
    return float(np.mean(np.logaddexp(0.0, a) - t * a)) if len(a) else float("nan")


def _bytes(values: Array) -> str:
    return base64.b64encode(values.astype(np.uint8).tobytes()).decode("ascii")


def _unit_map(o: Array) -> tuple[str, float]:
    m = float(np.max(np.abs(o))) if o.size else 0.0
    scaled = np.round(127 * o / m) + 128 if m > 0 else np.full(o.shape, 128.0)
    return _bytes(scaled), m


def frame(
    layers: Sequence[Any],
    features: Sequence[str],
    data: tuple[Array, Array, Array, Array],
    grid: Array,
) -> dict[str, Any]:
    """One frame from the Dense ``layers``: maps, weights and losses (see the module).

    Parameters
    ----------
    layers : the network's Dense layers, first to last
    features : the feature names of o_0
    data : (x_train, t_train, x_test, t_test), the points of shape (n, 2) and labels
    grid : the points of :func:`grid_points`, shape (GRID², 2)
    """
    x_train, t_train, x_test, t_test = data
    # the maps in float32: tanh of the (10000, 8) affines took 4.0 ms in float64 and 0.75 ms
    # in float32 on this machine, and a map shows 1/255 steps
    *hidden, a_grid = forward(layers, transform(grid, features).astype(np.float32))
    p = 1.0 / (1.0 + np.exp(-np.clip(a_grid.ravel().astype(np.float64), -40.0, 40.0)))
    units = []
    for o in hidden:
        small = o.reshape(GRID, GRID, -1)[::UNIT_STRIDE, ::UNIT_STRIDE]
        units.append([_unit_map(small[:, :, j]) for j in range(small.shape[2])])
    losses = [
        binary_loss(forward(layers, transform(x, features))[-1], t) if len(x) else None
        for x, t in ((x_train, t_train), (x_test, t_test))
    ]
    return {
        "boundary": _bytes(np.round(255 * p)),
        "units": [[m for m, _ in layer] for layer in units],
        "unit_scales": [[s for _, s in layer] for layer in units],
        "weights": [np.round(layer.W, 4).tolist() for layer in layers],
        "biases": [np.round(layer.b, 4).tolist() for layer in layers],
        "train_loss": losses[0],
        "test_loss": losses[1],
    }
