"""The ONNX form of SimpleRNN, LSTM and GRU: ONNX's own RNN, LSTM and GRU operators.

ONNX's recurrent operators take the sequence time-first, ``X`` (time, n, n_in), and
weights with a leading direction axis, ``W`` (D, G·H, n_in), ``R`` (D, G·H, H) and
``B`` (D, 2·G·H) = [b_ih, b_hh]: cartoonbrain's (PyTorch's) weights stacked over the
directions, with the gates reordered where ONNX's order differs::

    SimpleRNN   RNN   activations Tanh (or Relu)          rows as they are
    LSTM        LSTM  gates i, o, f, c (= PyTorch's g)    from i, f, g, o
    GRU         GRU   gates z, r, h (= n), linear_before_reset=1 (PyTorch's form)   from r, z, n

and give ``Y`` (time, D, n, H) and ``Y_h`` (D, n, H), transposed and reshaped here to the
layer's output, ``(n, time, D·H)`` (every step) or ``(n, D·H)`` (the last step of each
direction). ONNX Runtime has these operators in float32 only, so a float64 network with a
recurrent layer is refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..layers import Shape
from .graph import Graph, onnx_exporter

__all__: list[str] = []

_SETTINGS = ("n_in", "n_hidden", "return_sequences", "bidirectional")
#: for each layer type: the ONNX operator and the order of PyTorch's gate blocks in ONNX's
_ONNX = {"SimpleRNN": ("RNN", [0]), "LSTM": ("LSTM", [0, 3, 1, 2]), "GRU": ("GRU", [1, 0, 2])}


def _reordered(array: Any, order: list[int]) -> Any:
    """The gate blocks (rows, split in len(order) equal parts) of ``array`` in ONNX's order."""
    blocks = np.split(np.asarray(array), len(order), axis=0)
    return np.concatenate([blocks[k] for k in order], axis=0)


@onnx_exporter("SimpleRNN", "LSTM", "GRU", settings=(*_SETTINGS, "nonlinearity"))
def _recurrent(g: Graph, layer: Any, x: str, shape: Shape, name: str) -> str:
    """Transpose to time-first, the ONNX operator, then back to the layer's output."""
    if g.dtype == np.float64:
        raise ValueError(
            f"{type(layer).__name__} has no float64 ONNX form (ONNX Runtime's RNN, LSTM and "
            "GRU are float32 only); export a float32 network"
        )
    kind = type(layer).__name__
    op, order = _ONNX[kind]
    named = layer.named_parameters()
    suffixes = ["", "_reverse"][: layer.n_directions]

    def stacked(kind_of: str) -> Any:
        return np.stack([_reordered(named[f"{kind_of}_l0{s}"], order) for s in suffixes])

    W, R = stacked("weight_ih"), stacked("weight_hh")
    B = np.concatenate([stacked("bias_ih"), stacked("bias_hh")], axis=1)
    attributes: dict[str, Any] = {
        "hidden_size": layer.n_hidden,
        "direction": "bidirectional" if layer.bidirectional else "forward",
    }
    if kind == "GRU":
        attributes["linear_before_reset"] = 1
    if kind == "SimpleRNN":
        attributes["activations"] = [layer.nonlinearity.capitalize()] * layer.n_directions
    steps = g.add("Transpose", [x], f"{name}.steps", perm=[1, 0, 2])  # (time, n, n_in)
    inputs = [steps, g.tensor(f"{name}.W", W), g.tensor(f"{name}.R", R), g.tensor(f"{name}.B", B)]
    outputs = [f"{name}.Y", f"{name}.Y_h"]
    g.nodes.append(_node(op, inputs, outputs, f"{name}.{op}", attributes))
    if layer.return_sequences:  # Y (time, D, n, H) → (n, time, D·H)
        y = g.add("Transpose", [outputs[0]], f"{name}.Y_batch_first", perm=[2, 0, 1, 3])
        return g.add("Reshape", [y, g.ints(f"{name}.shape", [0, 0, -1])], f"{name}.output")
    y_h = g.add("Transpose", [outputs[1]], f"{name}.Y_h_batch_first", perm=[1, 0, 2])
    return g.add("Reshape", [y_h, g.ints(f"{name}.shape", [0, -1])], f"{name}.output")


def _node(op: str, inputs: list[str], outputs: list[str], name: str, attributes: dict) -> Any:
    """A node with several outputs (Graph.add makes nodes of one)."""
    from onnx import helper

    return helper.make_node(op, inputs, outputs, name=name, **attributes)
