"""ONNX export: ``export(net, path)`` writes a graph that computes what ``net.predict`` does.

Needs the ``onnx`` extra (``pip install 'cartoonbrain[onnx]'``). The graph takes ``input``
of shape (batch, *input_shape) and gives ``output``, ``predict``'s output, in the
network's dtype. :mod:`~cartoonbrain.onnx.operators` says which operators each layer and
activation becomes; :mod:`~cartoonbrain.onnx.graph` holds the registries
(:func:`onnx_exporter`, :func:`onnx_activation`) through which a new layer or activation
becomes exportable. A layer or activation without an exporter is refused with a
ValueError naming it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from ..activations import ACTIVATIONS
from ..io import atomic_write
from ..layers import LAYERS, Layer, Shape
from ..losses import LOSSES
from ..network.network import Network, load
from . import attention as attention
from . import blocks as blocks
from . import operators as operators
from . import recurrent as recurrent
from .graph import (
    ACTIVATION_EXPORTERS,
    LAYER_EXPORTERS,
    Graph,
    LayerExporter,
    ONNXMissingError,
    onnx_activation,
    onnx_exporter,
    require_onnx,
)

if TYPE_CHECKING:
    import onnx

__all__ = [
    "ACTIVATION_EXPORTERS",
    "IR_VERSION",
    "LAYER_EXPORTERS",
    "OPSET",
    "Graph",
    "ONNXMissingError",
    "export",
    "export_file",
    "onnx_activation",
    "onnx_exporter",
    "to_onnx",
]

#: ONNX operator set and IR version: opset 17 needs IR 8, which onnxruntime ≥ 1.17 reads
OPSET = 17
IR_VERSION = 8


def _exporter(i: int, layer: Layer) -> LayerExporter:
    """The exporter of exactly this layer type, or a ValueError saying why there is none."""
    kind = type(layer).__name__
    where = f"layer {i} ({kind})"
    if LAYERS.get(kind) is not type(layer) or kind not in LAYER_EXPORTERS:
        supported = ", ".join(sorted(LAYER_EXPORTERS))
        raise ValueError(
            f"{where} cannot be exported to ONNX: no exporter is registered for {kind} "
            f"(cartoonbrain.onnx.onnx_exporter); supported layers: {supported}"
        )
    exporter, keys = LAYER_EXPORTERS[kind]
    unknown = set(layer.get_config()) - keys - {"type", "activation", "init", "bias"}
    if unknown:
        raise ValueError(f"{where} has settings the ONNX export does not know: {sorted(unknown)}")
    name = layer.output_activation
    if name is not None:
        own = getattr(layer, "activation", None)  # the Activation object, if it keeps one
        registered = ACTIVATIONS.get(name)
        if registered is None or (own is not None and own is not registered):
            raise ValueError(
                f"{where} has the custom activation {name!r}, which cannot be exported; "
                f"register it (register_activation) and its ONNX form (onnx_activation)"
            )
        if name not in ACTIVATION_EXPORTERS:
            supported = ", ".join(sorted(ACTIVATION_EXPORTERS))
            raise ValueError(
                f"{where} has the activation {name!r}, which has no ONNX exporter "
                f"(cartoonbrain.onnx.onnx_activation); supported: {supported}"
            )
    return exporter


# ---------------------------------------------------------------- the network
def _input_shape(net: Network, input_shape: Sequence[int] | None) -> Shape:
    """One sample's shape: the network's own, else ``input_shape``, else a ValueError."""
    known = net.input_shape
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


def _output(g: Graph, net: Network, o: str) -> str:
    """``output``: what predict returns from the last transforms (probabilities or o), put
    back in the target's units by the model's target encoder, y = ỹ σ_t + μ_t."""
    loss = net.loss
    if type(loss) is not LOSSES.get(loss.name):
        raise ValueError(
            f"the loss {loss!r} is not registered (register_loss), so what predict returns "
            f"from it is unknown; registered losses: {', '.join(LOSSES)}"
        )
    name = loss.output_activation or "identity"
    if name not in ACTIVATION_EXPORTERS:
        raise ValueError(
            f"loss={loss.name!r} applies the activation {name!r}, which has no ONNX exporter"
        )
    encoder = net.target_encoder
    scaled = encoder is not None and encoder.kind == "scale"
    last = "predicted" if scaled else "output"
    o = ACTIVATION_EXPORTERS[name](g, o, last)
    if o != last:
        o = g.add("Identity", [o], last)
    if scaled:
        assert encoder is not None
        o = g.add("Mul", [o, g.tensor("target.scale", encoder.scale)], "predicted.scaled")
        o = g.add("Add", [o, g.tensor("target.mean", encoder.mean)], "output")
    return o


def _preprocessing(g: Graph, net: Network) -> str:
    """The model's preprocessing of raw numeric features in training order:

        x ← x where present, else the column's imputed value;   x ← (x − μ) / σ

    A text (one-hot) column is refused, naming it: the graph takes numbers only."""
    pre = net.preprocessor
    if pre is None:
        return "input"
    text = [c["name"] for c in pre.columns_ if c["kind"] == "text"]
    if text:
        raise ValueError(
            f"column {text[0]!r} is a text column, one-hot encoded by the model; the ONNX "
            "graph takes numeric features only: encode it before export, or predict with "
            "cartoonbrain"
        )
    flagged = [c["name"] for c in pre.columns_ if c.get("indicator")]
    if flagged:
        raise ValueError(
            f"column {flagged[0]!r} has a missing-indicator input; the ONNX graph does not "
            "make one: train with --impute mean (no indicator) to export"
        )
    fills = [c["fill"] for c in pre.columns_]
    x = "input"
    if any(f is not None for f in fills):
        missing = g.add("IsNaN", [x], "preprocess.missing")
        values = g.tensor("preprocess.fill", [0.0 if f is None else f for f in fills])
        x = g.add("Where", [missing, values, x], "preprocess.imputed")
    x = g.add(
        "Sub",
        [x, g.tensor("preprocess.mean", [c["mean"] for c in pre.columns_])],
        "preprocess.centred",
    )
    return g.add(
        "Div",
        [x, g.tensor("preprocess.scale", [c["scale"] for c in pre.columns_])],
        "preprocess.scaled",
    )


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
    require_onnx()
    from onnx import TensorProto, helper

    from .._version import __version__

    exporters = [_exporter(i, layer) for i, layer in enumerate(net.layers)]
    shape = first_shape = _input_shape(net, input_shape)
    g = Graph(net.dtype)
    o = _preprocessing(g, net)
    for i, (layer, exporter) in enumerate(zip(net.layers, exporters)):
        try:
            next_shape = layer.output_shape(shape)
        except ValueError as exc:
            raise ValueError(
                f"inputs of shape {first_shape} do not fit layer {i} "
                f"({type(layer).__name__}): {exc}"
            ) from None
        assert next_shape is not None
        try:
            o = exporter(g, layer, o, shape, f"layer{i}")
        except ValueError as exc:  # an exporter's own refusal, e.g. of a dtype
            raise ValueError(
                f"layer {i} ({type(layer).__name__}) cannot be exported to ONNX: {exc}"
            ) from None
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
        doc_string=net.summary(print_fn=None)
        + f"\ninput: (batch, {', '.join(map(str, first_shape))})",
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
    import onnx.checker

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
    require_onnx()
    export(load(model_path), out_path, input_shape)
