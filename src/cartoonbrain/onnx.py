"""ONNX export: ``export(net, path)`` writes a graph that computes what ``net.predict`` does.

Needs the ``onnx`` extra (``pip install 'cartoonbrain[onnx]'``). The graph takes ``input``
of shape (batch, *input_shape) and gives ``output``, ``predict``'s output. Each layer
becomes the operators of its forward pass at inference, its tensors named after the
post (``layer0.affines``, ``layer0.transforms``) and its parameters as in
:meth:`Network.parameter_names` (``layer0.W``, ``layer0.b``)::

    Dense         a = Gemm(o_prev, W, b, transB=1) = o_prev Wᵀ + b      o = f(a)
    Conv1D/2D     a = Conv(o_prev, W, b, strides=s, pads=p)             o = f(a)
    MaxPool1D/2D  MaxPool(kernel_shape, strides)          (pooling has no padding)
    AvgPool1D/2D  AveragePool(kernel_shape, strides)
    Flatten       Flatten(axis=1)
    Dropout       nothing: the identity at inference
    output        Softmax(axis=-1) for cross_entropy, Sigmoid for binary_cross_entropy,
                  the last layer's transforms for mse and squared_error

The graph keeps the network's dtype (float32 → FLOAT, float64 → DOUBLE). ONNX Runtime has
no float64 kernel for Conv, AveragePool, Elu and Softplus, and LeakyRelu's slope is a
float32 attribute, so a float64 network writes these out in basic operators instead:

    leaky_relu    max(a, 0.01 a)
    elu           max(a, 0) + (e^min(a, 0) − 1)
    softplus      max(a, 0) + log(1 + e^−|a|)
    Conv          im2col: one Slice of the zero-padded input per kernel offset j, stacked
                  into X_col (n, K·C, P), then  a = W_col X_col + b  (one MatMul)
    AveragePool   (Σ_j Slice_j) / K
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from typing import Any, BinaryIO

import numpy as np

from .activations import ACTIVATIONS, LEAKY_SLOPE, Activation
from .io import atomic_write, load
from .layers import (
    AvgPool1D,
    AvgPool2D,
    Conv1D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Layer,
    MaxPool1D,
    MaxPool2D,
    Shape,
    output_size,
)
from .losses import LOSSES
from .network import Network

try:  # the real package: absolute imports, so not this module
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    _MISSING: ImportError | None = exc
else:
    _MISSING = None

__all__ = ["IR_VERSION", "OPSET", "ONNXMissingError", "export", "export_file", "to_onnx"]

#: ONNX operator set and IR version: opset 17 needs IR 8, which onnxruntime ≥ 1.17 reads
OPSET = 17
IR_VERSION = 8


class ONNXMissingError(ImportError):
    """The ``onnx`` package, needed for export, is not installed."""


def _require_onnx() -> None:
    if _MISSING is not None:
        raise ONNXMissingError(
            "ONNX export needs the onnx package: pip install 'cartoonbrain[onnx]'"
        ) from _MISSING


class _Graph:
    """The nodes and initializers of the graph being built, in the network's float dtype."""

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = dtype
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._scalars: dict[float, str] = {}

    def tensor(self, name: str, value: Any, dtype: Any = None) -> str:
        array = np.asarray(value, dtype=self.dtype if dtype is None else dtype)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def ints(self, name: str, values: Sequence[int]) -> str:
        return self.tensor(name, list(values), np.int64)

    def scalar(self, value: float) -> str:
        """A constant of the graph's dtype, shared by every node that needs it."""
        if value not in self._scalars:
            self._scalars[value] = self.tensor(f"constant.{value:g}", value)
        return self._scalars[value]

    def add(self, op: str, inputs: Sequence[str], output: str, **attributes: Any) -> str:
        """Append the node ``output = op(*inputs)``; returns the output's name."""
        self.nodes.append(helper.make_node(op, list(inputs), [output], name=output, **attributes))
        return output


# ---------------------------------------------------------------- activations f
_ACTIVATION_OPS: dict[str, tuple[str, dict[str, Any]]] = {
    "sigmoid": ("Sigmoid", {}),
    "tanh": ("Tanh", {}),
    "relu": ("Relu", {}),
    "leaky_relu": ("LeakyRelu", {"alpha": LEAKY_SLOPE}),
    "elu": ("Elu", {"alpha": 1.0}),
    "softplus": ("Softplus", {}),
    "softmax": ("Softmax", {"axis": -1}),
}


def _leaky_relu_float64(g: _Graph, a: str, o: str) -> str:
    """max(a, 0.01 a)."""
    return g.add("Max", [a, g.add("Mul", [a, g.scalar(LEAKY_SLOPE)], f"{o}.scaled")], o)


def _elu_float64(g: _Graph, a: str, o: str) -> str:
    """max(a, 0) + (e^min(a, 0) − 1): exactly a for a > 0."""
    negative = g.add("Min", [a, g.scalar(0.0)], f"{o}.negative")
    expm1 = g.add("Sub", [g.add("Exp", [negative], f"{o}.exp"), g.scalar(1.0)], f"{o}.expm1")
    return g.add("Add", [g.add("Relu", [a], f"{o}.positive"), expm1], o)


def _softplus_float64(g: _Graph, a: str, o: str) -> str:
    """max(a, 0) + log(1 + e^−|a|): no overflow for any a."""
    minus_abs = g.add("Neg", [g.add("Abs", [a], f"{o}.abs")], f"{o}.minus_abs")
    total = g.add("Add", [g.scalar(1.0), g.add("Exp", [minus_abs], f"{o}.exp")], f"{o}.sum")
    return g.add("Add", [g.add("Relu", [a], f"{o}.positive"), g.add("Log", [total], f"{o}.log")], o)


_FLOAT64_ACTIVATIONS: dict[str, Callable[[_Graph, str, str], str]] = {
    "leaky_relu": _leaky_relu_float64,
    "elu": _elu_float64,
    "softplus": _softplus_float64,
}


def _activation(g: _Graph, activation: Activation, a: str, name: str) -> str:
    """o = f(a), as the node ``{name}.transforms`` (nothing for the identity)."""
    if activation.name == "identity":
        return a
    o = f"{name}.transforms"
    if g.dtype == np.float64 and activation.name in _FLOAT64_ACTIVATIONS:
        return _FLOAT64_ACTIVATIONS[activation.name](g, a, o)
    op, attributes = _ACTIVATION_OPS[activation.name]
    return g.add(op, [a], o, **attributes)


# ---------------------------------------------------------------- layers
def _dense(g: _Graph, layer: Any, x: str, shape: Shape, name: str) -> str:
    """a = Gemm(o_prev, W, b, transB=1) = o_prev Wᵀ + b;  o = f(a)."""
    inputs = [x, g.tensor(f"{name}.W", layer.W)]
    if layer.b is not None:
        inputs.append(g.tensor(f"{name}.b", layer.b))
    return _activation(
        g, layer.activation, g.add("Gemm", inputs, f"{name}.affines", transB=1), name
    )


def _windows(
    g: _Graph, x: str, shape: Shape, kernel: Shape, stride: Shape, padding: Shape, name: str
) -> list[str]:
    """One Slice per kernel offset j (in W's order): the inputs j, j + s, …, j + s·(P − 1).

    ``x`` is (n, C, *size); each slice is (n, C, *P), zero-padded first if ``padding``.
    """
    if any(padding):
        pads = g.ints(f"{name}.pads", [0, 0, *padding, 0, 0, *padding])
        x = g.add("Pad", [x, pads], f"{name}.padded")
    out = [output_size(*args) for args in zip(shape[1:], kernel, stride, padding)]
    axes = g.ints(f"{name}.axes", range(2, 2 + len(kernel)))
    steps = g.ints(f"{name}.steps", stride)
    slices = []
    for j, offset in enumerate(np.ndindex(*kernel)):
        starts = g.ints(f"{name}.starts{j}", offset)
        ends = g.ints(
            f"{name}.ends{j}", [i + s * (p - 1) + 1 for i, s, p in zip(offset, stride, out)]
        )
        slices.append(g.add("Slice", [x, starts, ends, axes, steps], f"{name}.window{j}"))
    return slices


def _conv_float64(g: _Graph, layer: Any, x: str, shape: Shape, name: str) -> str:
    """a = W_col X_col + b, X_col (n, K·C, P) holding the window of position p in column p."""
    slices = _windows(g, x, shape, layer.kernel_size, layer.stride, layer.padding, name)
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


def _conv(g: _Graph, layer: Any, x: str, shape: Shape, name: str) -> str:
    """a = Conv(o_prev, W, b) with the layer's strides and zero padding;  o = f(a)."""
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
            pads=[*layer.padding, *layer.padding],  # all the starts, then all the ends
        )
    return _activation(g, layer.activation, a, name)


def _max_pool(g: _Graph, layer: Any, x: str, shape: Shape, name: str) -> str:
    """o[p] = max_j o_prev[s·p + j]."""
    return g.add("MaxPool", [x], f"{name}.output", **_pool_attributes(layer))


def _avg_pool(g: _Graph, layer: Any, x: str, shape: Shape, name: str) -> str:
    """o[p] = (1/K) Σ_j o_prev[s·p + j]."""
    if g.dtype == np.float64:
        zeros = (0,) * len(layer.pool_size)
        slices = _windows(g, x, shape, layer.pool_size, layer.stride, zeros, name)
        total = g.add("Sum", slices, f"{name}.sum")
        return g.add("Div", [total, g.scalar(float(len(slices)))], f"{name}.output")
    return g.add("AveragePool", [x], f"{name}.output", **_pool_attributes(layer))


def _pool_attributes(layer: Any) -> dict[str, list[int]]:
    return {"kernel_shape": list(layer.pool_size), "strides": list(layer.stride)}


def _flatten(g: _Graph, layer: Any, x: str, shape: Shape, name: str) -> str:
    return g.add("Flatten", [x], f"{name}.output", axis=1)


def _dropout(g: _Graph, layer: Any, x: str, shape: Shape, name: str) -> str:
    return x  # the identity at inference


_CONV_KEYS = {"in_channels", "out_channels", "kernel_size", "stride", "padding"}
_POOL_KEYS = {"pool_size", "stride"}
#: layer type → (its exporter, the config keys it understands besides type/activation/init/bias)
_EXPORTERS: dict[type[Layer], tuple[Callable[[_Graph, Any, str, Shape, str], str], set[str]]] = {
    Dense: (_dense, {"n_in", "n_out"}),
    Dropout: (_dropout, {"rate"}),
    Flatten: (_flatten, set()),
    Conv1D: (_conv, _CONV_KEYS),
    Conv2D: (_conv, _CONV_KEYS),
    MaxPool1D: (_max_pool, _POOL_KEYS),
    MaxPool2D: (_max_pool, _POOL_KEYS),
    AvgPool1D: (_avg_pool, _POOL_KEYS),
    AvgPool2D: (_avg_pool, _POOL_KEYS),
}


def _exporter(i: int, layer: Layer) -> Callable[[_Graph, Any, str, Shape, str], str]:
    """The exporter of exactly this layer type, or a ValueError saying why there is none."""
    where = f"layer {i} ({type(layer).__name__})"
    if type(layer) not in _EXPORTERS:
        supported = ", ".join(t.__name__ for t in _EXPORTERS)
        raise ValueError(f"{where} cannot be exported to ONNX; supported layers: {supported}")
    exporter, keys = _EXPORTERS[type(layer)]
    unknown = set(layer.get_config()) - keys - {"type", "activation", "init", "bias"}
    if unknown:
        raise ValueError(f"{where} has settings the ONNX export does not know: {sorted(unknown)}")
    activation = getattr(layer, "activation", None)
    if activation is not None and ACTIVATIONS.get(activation.name) is not activation:
        raise ValueError(
            f"{where} has the custom activation {activation.name!r}, which cannot be exported; "
            f"supported: {', '.join(ACTIVATIONS)}"
        )
    return exporter


# ---------------------------------------------------------------- the network
def _input_shape(net: Network, input_shape: Sequence[int] | None) -> Shape:
    """One sample's shape: the network's own, else ``input_shape``, else a ValueError."""
    known = net.input_shape
    if known is None:  # Dropout layers before a Dense: the Dense's input size
        first = next((layer for layer in net.layers if not isinstance(layer, Dropout)), None)
        known = (first.n_in,) if isinstance(first, Dense) else None
    if input_shape is None:
        if known is None:
            first = net.layers[0]
            n_dims = len(getattr(first, "kernel_size", getattr(first, "pool_size", ())))
            example = {1: "(channels, length)", 2: "(channels, height, width)"}.get(n_dims, "")
            raise ValueError(
                f"the network's input shape is unknown (its first layer is "
                f"{type(first).__name__}): give one sample's shape, "
                f"input_shape={example or '(n_features,)'} (--input-shape on the command line)"
            )
        return tuple(known)
    shape = tuple(input_shape)
    if not shape or not all(
        isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0 for s in shape
    ):
        raise ValueError(f"input_shape must be a tuple of positive integers; got {input_shape!r}")
    shape = tuple(int(s) for s in shape)
    if known is not None and shape != tuple(known):
        raise ValueError(f"input_shape={shape}, but the network takes inputs of shape {known}")
    return shape


def _output(g: _Graph, net: Network, o: str) -> str:
    """``output``: what predict returns from the last transforms (probabilities or o)."""
    loss = net.loss
    if type(loss) is not LOSSES.get(loss.name):
        raise ValueError(
            f"the loss {loss!r} is not one of cartoonbrain's, so what predict returns from "
            f"it is unknown; supported losses: {', '.join(LOSSES)}"
        )
    if loss.output_activation == "softmax":
        return g.add("Softmax", [o], "output", axis=-1)
    if loss.output_activation == "sigmoid":
        return g.add("Sigmoid", [o], "output")
    return g.add("Identity", [o], "output")


def to_onnx(net: Network, input_shape: Sequence[int] | None = None) -> onnx.ModelProto:
    """The ONNX model of ``net``: ``output = net.predict(input)`` (see the module docstring).

    Parameters
    ----------
    net : Network
    input_shape : tuple of int, optional
        One sample's shape, e.g. ``(1, 28, 28)``; needed when the network does not know it
        (its first layer is a convolution or pooling layer and it was built without one).

    Returns
    -------
    onnx.ModelProto
        Input ``input`` of shape (batch, *input_shape) and output ``output``, both of the
        network's dtype, with opset :data:`OPSET` and IR version :data:`IR_VERSION`.

    Raises
    ------
    ValueError
        For a layer, activation or loss that cannot be exported (naming it and listing
        what can), or an unknown or wrong ``input_shape``.
    ONNXMissingError
        When the ``onnx`` package is not installed.
    """
    _require_onnx()
    from . import __version__

    exporters = [_exporter(i, layer) for i, layer in enumerate(net.layers)]
    shape = first_shape = _input_shape(net, input_shape)
    g = _Graph(net.dtype)
    o = "input"
    for i, (layer, exporter) in enumerate(zip(net.layers, exporters)):
        try:
            next_shape = layer.output_shape(shape)
        except ValueError as exc:
            raise ValueError(
                f"inputs of shape {first_shape} do not fit layer {i} "
                f"({type(layer).__name__}): {exc}"
            ) from None
        assert next_shape is not None
        o = exporter(g, layer, o, shape, f"layer{i}")
        shape = next_shape
    _output(g, net, o)
    element = TensorProto.DOUBLE if net.dtype == np.float64 else TensorProto.FLOAT
    graph = helper.make_graph(
        g.nodes,
        "cartoonbrain",
        [helper.make_tensor_value_info("input", element, ["batch", *first_shape])],
        [helper.make_tensor_value_info("output", element, ["batch", *shape])],
        initializer=g.initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="cartoonbrain",
        producer_version=__version__,
        doc_string=f"{net.summary()}\ninput: (batch, {', '.join(map(str, first_shape))})",
    )
    model.ir_version = IR_VERSION
    try:
        metadata = json.dumps(net.metadata, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the network's metadata cannot be stored as JSON: {exc}") from None
    helper.set_model_props(model, {"cartoonbrain.metadata": metadata})
    return model


def export(
    net: Network, path: str | os.PathLike[str], input_shape: Sequence[int] | None = None
) -> None:
    """Write ``net`` as an ONNX model to ``path``, atomically (see :func:`to_onnx`).

    The file on disk is checked with ``onnx.checker.check_model(full_check=True)`` before it
    replaces ``path``; on any failure an existing file at ``path`` is left untouched.
    The network's metadata (class labels, feature names, ...) is stored as JSON in the
    model's ``metadata_props`` under ``"cartoonbrain.metadata"``.
    """
    data = to_onnx(net, input_shape).SerializeToString()

    def write(f: BinaryIO) -> None:
        f.write(data)

    atomic_write(
        path, write, verify=lambda tmp: onnx.checker.check_model(str(tmp), full_check=True)
    )


def export_file(
    model_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    input_shape: Sequence[int] | None = None,
) -> None:
    """Export the model file ``model_path`` (written by ``save``) to ONNX at ``out_path``."""
    _require_onnx()
    export(load(model_path), out_path, input_shape)
