"""The ONNX form of every built-in activation and layer, each registered where declared.

Each layer becomes the operators of its forward pass at inference, its tensors named after
the post (``layer0.affines``, ``layer0.transforms``) and its parameters as in
:meth:`Network.parameter_names` (``layer0.W``, ``layer0.b``)::

    Dense         a = Gemm(o_prev, W, b, transB=1) = o_prev Wᵀ + b      o = f(a)
    Dense         a = Gemm(o_prev, W, b, transB=1) = o_prev Wᵀ + b      o = f(a)
                  (per time step on (T, n_in): a = MatMul(o_prev, Wᵀ) + b)
    Conv1D/2D     a = Conv(o_prev, W, b, strides=s, pads=p, dilations=d)  o = f(a)
    MaxPool1D/2D  MaxPool(kernel_shape, strides)          (pooling has no padding)
    AvgPool1D/2D  AveragePool(kernel_shape, strides)
    Flatten       Flatten(axis=1)
    Dropout       nothing: the identity at inference
    gelu          a · ½ (1 + Erf(a / √2))
    output        the loss's output_activation: Softmax(axis=-1) for cross_entropy,
                  Sigmoid for binary_cross_entropy, Exp for poisson; for the regression
                  losses the last layer's transforms

The graph keeps the network's dtype (float32 → FLOAT, float64 → DOUBLE). ONNX Runtime has
no float64 kernel for Conv, AveragePool, Elu and Softplus, and LeakyRelu's slope is a
float32 attribute, so a float64 network writes these out in basic operators instead:

    leaky_relu    max(a, 0.01 a)
    elu           max(a, 0) + (e^min(a, 0) − 1)
    softplus      max(a, 0) + log(1 + e^−|a|)
    Conv          im2col: one Slice of the zero-padded input per kernel offset j, stacked
                  into X_col (n, K·C, P), then  a = W_col X_col + b  (one MatMul)
    AveragePool   (Σ_j Slice_j) / K

ONNX Runtime has no float64 Erf either: a float64 network with gelu is refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..activations import LEAKY_SLOPE, Activation
from ..layers import Shape, output_size
from .graph import ACTIVATION_EXPORTERS, ActivationExporter, Graph, onnx_activation, onnx_exporter

__all__: list[str] = []


def _op(op: str, **attributes: Any) -> ActivationExporter:
    def export(g: Graph, a: str, o: str) -> str:
        return g.add(op, [a], o, **attributes)

    return export


@onnx_activation("identity")
def _identity(g: Graph, a: str, o: str) -> str:
    return a  # no node


onnx_activation("sigmoid")(_op("Sigmoid"))
onnx_activation("tanh")(_op("Tanh"))
onnx_activation("relu")(_op("Relu"))
onnx_activation("softmax")(_op("Softmax", axis=-1))
onnx_activation("exp")(_op("Exp"))  # not a layer activation: the poisson loss's output


@onnx_activation("gelu")
def _gelu(g: Graph, a: str, o: str) -> str:
    """a Φ(a) = a · ½ (1 + erf(a / √2)) (opset 17 has no Gelu); float32 only: ONNX
    Runtime has no float64 Erf, and float32's would not match predict in float64."""
    if g.dtype == np.float64:
        raise ValueError("gelu has no float64 ONNX form (ONNX Runtime has no float64 Erf)")
    scaled = g.add("Mul", [a, g.scalar(0.7071067811865476)], f"{o}.scaled")
    erf = g.add("Erf", [scaled], f"{o}.erf")
    half = g.add("Mul", [g.add("Add", [erf, g.scalar(1.0)], f"{o}.sum"), g.scalar(0.5)], f"{o}.cdf")
    return g.add("Mul", [a, half], o)


@onnx_activation("leaky_relu")
def _leaky_relu(g: Graph, a: str, o: str) -> str:
    """LeakyRelu; in float64 max(a, 0.01 a) (LeakyRelu's slope is a float32 attribute)."""
    if g.dtype != np.float64:
        return g.add("LeakyRelu", [a], o, alpha=LEAKY_SLOPE)
    return g.add("Max", [a, g.add("Mul", [a, g.scalar(LEAKY_SLOPE)], f"{o}.scaled")], o)


@onnx_activation("elu")
def _elu(g: Graph, a: str, o: str) -> str:
    """Elu; in float64 max(a, 0) + (e^min(a, 0) − 1): exactly a for a > 0."""
    if g.dtype != np.float64:
        return g.add("Elu", [a], o, alpha=1.0)
    negative = g.add("Min", [a, g.scalar(0.0)], f"{o}.negative")
    expm1 = g.add("Sub", [g.add("Exp", [negative], f"{o}.exp"), g.scalar(1.0)], f"{o}.expm1")
    return g.add("Add", [g.add("Relu", [a], f"{o}.positive"), expm1], o)


@onnx_activation("softplus")
def _softplus(g: Graph, a: str, o: str) -> str:
    """Softplus; in float64 max(a, 0) + log(1 + e^−|a|): no overflow for any a."""
    if g.dtype != np.float64:
        return g.add("Softplus", [a], o)
    minus_abs = g.add("Neg", [g.add("Abs", [a], f"{o}.abs")], f"{o}.minus_abs")
    total = g.add("Add", [g.scalar(1.0), g.add("Exp", [minus_abs], f"{o}.exp")], f"{o}.sum")
    return g.add("Add", [g.add("Relu", [a], f"{o}.positive"), g.add("Log", [total], f"{o}.log")], o)


def _activation(g: Graph, activation: Activation, a: str, name: str) -> str:
    """o = f(a), as the node ``{name}.transforms`` (nothing for the identity)."""
    return ACTIVATION_EXPORTERS[activation.name](g, a, f"{name}.transforms")


# ---------------------------------------------------------------- layers
_CONV_KEYS = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation")
_POOL_KEYS = ("pool_size", "stride")


@onnx_exporter("Dense", settings=("n_in", "n_out"))
def _dense(g: Graph, layer: Any, x: str, shape: Shape, name: str) -> str:
    """a = Gemm(o_prev, W, b, transB=1) = o_prev Wᵀ + b;  o = f(a). Per time step on a
    sequence (T, n_in): a = MatMul(o_prev, Wᵀ) + b."""
    if len(shape) > 1:
        a = g.add("MatMul", [x, g.tensor(f"{name}.W_T", layer.W.T)], f"{name}.affine_rows")
        if layer.b is not None:
            a = g.add("Add", [a, g.tensor(f"{name}.b", layer.b)], f"{name}.affines")
        return _activation(g, layer.activation, a, name)
    inputs = [x, g.tensor(f"{name}.W", layer.W)]
    if layer.b is not None:
        inputs.append(g.tensor(f"{name}.b", layer.b))
    return _activation(
        g, layer.activation, g.add("Gemm", inputs, f"{name}.affines", transB=1), name
    )


def _windows(
    g: Graph,
    x: str,
    shape: Shape,
    kernel: Shape,
    stride: Shape,
    pads: tuple[tuple[int, int], ...],
    name: str,
    dilation: Shape | None = None,
) -> list[str]:
    """One Slice per kernel offset j (in W's order): the inputs d·j, d·j + s, …,
    d·j + s·(P − 1).

    ``x`` is (n, C, *size); each slice is (n, C, *P), zero-padded first by ``pads``
    ((before, after) for each axis).
    """
    dilation = dilation or (1,) * len(kernel)
    if any(b or a for b, a in pads):
        befores, afters = [b for b, _ in pads], [a for _, a in pads]
        x = g.add(
            "Pad", [x, g.ints(f"{name}.pads", [0, 0, *befores, 0, 0, *afters])], f"{name}.padded"
        )
    out = [output_size(*args) for args in zip(shape[1:], kernel, stride, pads, dilation)]
    axes = g.ints(f"{name}.axes", range(2, 2 + len(kernel)))
    steps = g.ints(f"{name}.steps", stride)
    slices = []
    for j, offset in enumerate(np.ndindex(*kernel)):
        first = [d * i for i, d in zip(offset, dilation)]
        starts = g.ints(f"{name}.starts{j}", first)
        ends = g.ints(
            f"{name}.ends{j}", [i + s * (p - 1) + 1 for i, s, p in zip(first, stride, out)]
        )
        slices.append(g.add("Slice", [x, starts, ends, axes, steps], f"{name}.window{j}"))
    return slices


def _conv_float64(g: Graph, layer: Any, x: str, shape: Shape, name: str) -> str:
    """a = W_col X_col + b, X_col (n, K·C, P) holding the window of position p in column p."""
    pads = layer.pads(shape[1:])
    slices = _windows(g, x, shape, layer.kernel_size, layer.stride, pads, name, layer.dilation)
    stacked = g.add("Concat", slices, f"{name}.stacked", axis=1)  # row j·C + c: offset j, channel c
    width = len(slices) * layer.in_channels
    x_col = g.add(
        "Reshape", [stacked, g.ints(f"{name}.X_col_shape", [0, width, -1])], f"{name}.X_col"
    )
    # W[o, c, j] → W_col[o, j·C + c], to match the rows of X_col
    W_col = np.moveaxis(layer.W, 1, -1).reshape(layer.out_channels, width)
    a = g.add("MatMul", [g.tensor(f"{name}.W_col", W_col), x_col], f"{name}.affine_rows")
    if layer.b is not None:
        a = g.add("Add", [a, g.tensor(f"{name}.b_col", layer.b[:, None])], f"{name}.biased")
    affines_shape = g.ints(f"{name}.affines_shape", [0, *layer.output_shape(shape)])
    return g.add("Reshape", [a, affines_shape], f"{name}.affines")


@onnx_exporter("Conv1D", "Conv2D", settings=_CONV_KEYS)
def _conv(g: Graph, layer: Any, x: str, shape: Shape, name: str) -> str:
    """a = Conv(o_prev, W, b) with the layer's strides, dilations and zero padding (the
    padding worked out for the input's size: "same" too);  o = f(a)."""
    pads = layer.pads(shape[1:])
    if g.dtype == np.float64:
        a = _conv_float64(g, layer, x, shape, name)
    else:
        inputs = [x, g.tensor(f"{name}.W", layer.W)]
        if layer.b is not None:
            inputs.append(g.tensor(f"{name}.b", layer.b))
        a = g.add(
            "Conv",
            inputs,
            f"{name}.affines",
            kernel_shape=list(layer.kernel_size),
            strides=list(layer.stride),
            dilations=list(layer.dilation),
            pads=[*(b for b, _ in pads), *(a for _, a in pads)],  # the starts, then the ends
        )
    return _activation(g, layer.activation, a, name)


@onnx_exporter("MaxPool1D", "MaxPool2D", settings=_POOL_KEYS)
def _max_pool(g: Graph, layer: Any, x: str, shape: Shape, name: str) -> str:
    """o[p] = max_j o_prev[s·p + j]."""
    return g.add("MaxPool", [x], f"{name}.output", **_pool_attributes(layer))


@onnx_exporter("AvgPool1D", "AvgPool2D", settings=_POOL_KEYS)
def _avg_pool(g: Graph, layer: Any, x: str, shape: Shape, name: str) -> str:
    """o[p] = (1/K) Σ_j o_prev[s·p + j]."""
    if g.dtype == np.float64:
        zeros = ((0, 0),) * len(layer.pool_size)
        slices = _windows(g, x, shape, layer.pool_size, layer.stride, zeros, name)
        total = g.add("Sum", slices, f"{name}.sum")
        return g.add("Div", [total, g.scalar(float(len(slices)))], f"{name}.output")
    return g.add("AveragePool", [x], f"{name}.output", **_pool_attributes(layer))


def _pool_attributes(layer: Any) -> dict[str, list[int]]:
    return {"kernel_shape": list(layer.pool_size), "strides": list(layer.stride)}


@onnx_exporter("Flatten")
def _flatten(g: Graph, layer: Any, x: str, shape: Shape, name: str) -> str:
    return g.add("Flatten", [x], f"{name}.output", axis=1)


@onnx_exporter("Dropout", settings=("rate",))
def _dropout(g: Graph, layer: Any, x: str, shape: Shape, name: str) -> str:
    return x  # the identity at inference
