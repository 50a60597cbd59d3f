"""The ONNX form of BatchNorm, LayerNorm, Embedding and Residual::

BatchNorm   BatchNormalization(x, γ, β, μ_run, σ²_run, epsilon)     (prediction mode)
LayerNorm   LayerNormalization(x, γ, β, axis=−1, epsilon)
Embedding   Gather(E, Cast(ids, int64), axis=0)     (the graph's input is float, as
            predict's; ids beyond the table are refused by ONNX Runtime)
Residual    Add(x, F(x)), with F's layers exported as they are on their own, their
            tensors named ``{name}.{j}.…``
"""

from __future__ import annotations

from typing import Any

from ..layers import Shape
from .graph import LAYER_EXPORTERS, Graph, onnx_exporter

__all__: list[str] = []


@onnx_exporter("BatchNorm", settings=("n_features", "momentum", "eps"))
def _batch_norm(g: Graph, layer: Any, x: str, shape: Shape, name: str) -> str:
    """o = γ (x − μ_run) / √(σ²_run + ε) + β, over axis 1."""
    inputs = [
        x,
        g.tensor(f"{name}.gamma", layer.gamma),
        g.tensor(f"{name}.beta", layer.beta),
        g.tensor(f"{name}.running_mean", layer.running_mean),
        g.tensor(f"{name}.running_var", layer.running_var),
    ]
    return g.add("BatchNormalization", inputs, f"{name}.output", epsilon=layer.eps)


@onnx_exporter("LayerNorm", settings=("n_features", "eps"))
def _layer_norm(g: Graph, layer: Any, x: str, shape: Shape, name: str) -> str:
    """o = γ (x − μ) / √(σ² + ε) + β, μ and σ² over the last axis."""
    inputs = [x, g.tensor(f"{name}.gamma", layer.gamma), g.tensor(f"{name}.beta", layer.beta)]
    return g.add("LayerNormalization", inputs, f"{name}.output", axis=-1, epsilon=layer.eps)


@onnx_exporter("Embedding", settings=("n_vocab", "n_dim"))
def _embedding(g: Graph, layer: Any, x: str, shape: Shape, name: str) -> str:
    """o = E[ids]: the ids cast to integers, then one row of E each."""
    from onnx import TensorProto

    ids = g.add("Cast", [x], f"{name}.ids", to=TensorProto.INT64)
    return g.add("Gather", [g.tensor(f"{name}.E", layer.E), ids], f"{name}.output", axis=0)


@onnx_exporter("Residual", settings=("layers",))
def _residual(g: Graph, layer: Any, x: str, shape: Shape, name: str) -> str:
    """o = x + F(x)."""
    f, f_shape = x, shape
    for j, inner in enumerate(layer.layers):
        kind = type(inner).__name__
        if kind not in LAYER_EXPORTERS:
            raise ValueError(f"its layer {j} ({kind}) has no ONNX exporter")
        f = LAYER_EXPORTERS[kind][0](g, inner, f, f_shape, f"{name}.{j}")
        f_shape = inner.output_shape(f_shape)
    return g.add("Add", [x, f], f"{name}.output")
