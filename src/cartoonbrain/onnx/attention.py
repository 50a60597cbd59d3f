"""The ONNX form of MultiHeadAttention and PositionalEmbedding (and so of a transformer
block, whose Residual, LayerNorm and per-time-step Dense export as they are)::

    MultiHeadAttention   A = MatMul(x, W_inᵀ) + b_in;  Q, K, V = Slice(A) as (n, h, T, d_head)
                         S = MatMul(Q, Kᵀ) / √d_head (+ −∞ above the diagonal when causal)
                         P = Softmax(S, axis=−1);  Y = MatMul(P, V), heads joined (n, T, d)
                         o = MatMul(Y, W_outᵀ) + b_out
    PositionalEmbedding  o = Add(x, P[:T])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..layers import Shape
from ..layers.attention import causal_mask
from .graph import Graph, onnx_exporter

__all__: list[str] = []


def _heads(g: Graph, layer: Any, a: str, j: int, time: int, name: str, perm: list[int]) -> str:
    """The j-th third of A (Q, K or V) as (n, h, T, d_head), or transposed by ``perm``."""
    d = layer.d_model
    part = g.add(
        "Slice",
        [a, g.ints(f"{name}.start{j}", [j * d]), g.ints(f"{name}.end{j}", [(j + 1) * d]),
         g.ints(f"{name}.last_axis{j}", [2])],
        f"{name}.part{j}",
    )  # fmt: skip
    shape = g.ints(f"{name}.heads_shape{j}", [0, time, layer.n_heads, layer.d_head])
    split = g.add("Reshape", [part, shape], f"{name}.split{j}")
    return g.add("Transpose", [split], f"{name}.{'qkv'[j]}", perm=perm)


@onnx_exporter("MultiHeadAttention", settings=("d_model", "n_heads", "causal", "dropout"))
def _attention(g: Graph, layer: Any, x: str, shape: Shape, name: str) -> str:
    """softmax(Q Kᵀ / √d_head) V per head, then the output projection."""
    time = shape[0]
    W_in = g.tensor(f"{name}.in_proj_weight_T", layer.W_in.T)
    a = g.add("MatMul", [x, W_in], f"{name}.affine_rows")
    a = g.add("Add", [a, g.tensor(f"{name}.in_proj_bias", layer.b_in)], f"{name}.affines")
    q = _heads(g, layer, a, 0, time, name, [0, 2, 1, 3])
    k_t = _heads(g, layer, a, 1, time, name, [0, 2, 3, 1])  # Kᵀ: (n, h, d_head, T)
    v = _heads(g, layer, a, 2, time, name, [0, 2, 1, 3])
    s = g.add("MatMul", [q, k_t], f"{name}.QK")
    s = g.add("Mul", [s, g.scalar(1 / math.sqrt(layer.d_head))], f"{name}.scores")
    if layer.causal:
        mask = np.where(causal_mask(time, time), -np.inf, 0.0)
        s = g.add("Add", [s, g.tensor(f"{name}.causal_mask", mask)], f"{name}.masked")
    p = g.add("Softmax", [s], f"{name}.transforms", axis=-1)
    y = g.add("MatMul", [p, v], f"{name}.y")
    joined = g.add("Transpose", [y], f"{name}.y_steps", perm=[0, 2, 1, 3])
    Y = g.add("Reshape", [joined, g.ints(f"{name}.Y_shape", [0, time, layer.d_model])], f"{name}.Y")
    o = g.add("MatMul", [Y, g.tensor(f"{name}.out_proj_weight_T", layer.W_out.T)], f"{name}.out")
    return g.add("Add", [o, g.tensor(f"{name}.out_proj.bias", layer.b_out)], f"{name}.output")


@onnx_exporter("PositionalEmbedding", settings=("max_len", "d_model"))
def _positions(g: Graph, layer: Any, x: str, shape: Shape, name: str) -> str:
    """o = x + P[:T]."""
    return g.add("Add", [x, g.tensor(f"{name}.P", layer.P[: shape[0]])], f"{name}.output")
