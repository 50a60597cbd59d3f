"""The graph being built and the registries of exporters: the extension API of the export.

Each layer type's exporter is registered by name with :func:`onnx_exporter`, each
activation's with :func:`onnx_activation`, where the exporter is declared
(:mod:`cartoonbrain.onnx.operators` for the built-in ones). A new layer becomes
exportable by registering a function ``(graph, layer, x, shape, name) -> output name``
that adds its nodes to the :class:`Graph`::

    @onnx_exporter("Scale", settings=("n_features",))
    def scale(g, layer, x, shape, name):
        return g.add("Mul", [x, g.tensor(f"{name}.s", layer.s)], f"{name}.output")
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import numpy as np

from ..layers import Shape

try:  # the real package: absolute imports, so not cartoonbrain.onnx
    import onnx
    from onnx import helper, numpy_helper
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    _MISSING: ImportError | None = exc
else:
    _MISSING = None

__all__ = [
    "ACTIVATION_EXPORTERS",
    "LAYER_EXPORTERS",
    "ActivationExporter",
    "Graph",
    "LayerExporter",
    "ONNXMissingError",
    "onnx_activation",
    "onnx_exporter",
]


class ONNXMissingError(ImportError):
    """The ``onnx`` package, needed for export, is not installed."""


def require_onnx() -> None:
    """Raise :class:`ONNXMissingError`, saying what to install, when onnx is missing."""
    if _MISSING is not None:
        raise ONNXMissingError(
            "ONNX export needs the onnx package: pip install 'cartoonbrain[onnx]'"
        ) from _MISSING


class Graph:
    """The nodes and initializers of the graph being built, in the network's float dtype:
    what an exporter adds its layer's operators to."""

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = dtype
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._scalars: dict[float, str] = {}

    def tensor(self, name: str, value: Any, dtype: Any = None) -> str:
        """A constant (a parameter) named ``name``, of the graph's dtype unless ``dtype``."""
        array = np.asarray(value, dtype=self.dtype if dtype is None else dtype)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def ints(self, name: str, values: Sequence[int]) -> str:
        """A constant int64 vector (shapes, axes, pads)."""
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


#: ``exporter(graph, a, o) -> name``: the nodes computing ``o = f(a)``; returns the name of
#: the result (``o``, or ``a`` itself for the identity)
ActivationExporter = Callable[[Graph, str, str], str]
#: ``exporter(graph, layer, x, shape, name) -> name``: the nodes of ``layer`` at inference,
#: from input ``x`` of per-sample ``shape``, with tensors named ``{name}.…``; returns the
#: name of its output
LayerExporter = Callable[[Graph, Any, str, Shape, str], str]
#: activation name → its exporter
ACTIVATION_EXPORTERS: dict[str, ActivationExporter] = {}
#: layer type name (as in :data:`~cartoonbrain.layers.LAYERS`) → (its exporter, the config
#: keys it understands besides type, activation, init and bias)
LAYER_EXPORTERS: dict[str, tuple[LayerExporter, frozenset[str]]] = {}

A_ = TypeVar("A_", bound=ActivationExporter)
E_ = TypeVar("E_", bound=LayerExporter)


def _claim(table: dict[str, Any], kind: str, name: str, value: Any, same: Any) -> None:
    held = table.get(name)
    if held is not None and same(held) is not same(value):
        raise ValueError(f"an ONNX exporter for the {kind} {name!r} is already registered")
    table[name] = value


def onnx_activation(*names: str) -> Callable[[A_], A_]:
    """Decorator: register ``exporter(graph, a, o) -> name`` as the ONNX form of the
    registered activations ``names``. A name that has another exporter raises ValueError."""

    def register(exporter: A_) -> A_:
        for name in names:
            _claim(ACTIVATION_EXPORTERS, "activation", name, exporter, lambda e: e)
        return exporter

    return register


def onnx_exporter(*layer_types: str, settings: Iterable[str] = ()) -> Callable[[E_], E_]:
    """Decorator: register ``exporter(graph, layer, x, shape, name) -> name`` as the ONNX
    form of the registered layer types ``layer_types`` (class names, as in ``LAYERS``).

    ``settings`` are the config keys the exporter understands besides type, activation,
    init and bias; a layer whose config has others is refused. A type that has another
    exporter raises ValueError.
    """
    keys = frozenset(settings)

    def register(exporter: E_) -> E_:
        for kind in layer_types:
            _claim(LAYER_EXPORTERS, "layer", kind, (exporter, keys), lambda e: e[0])
        return exporter

    return register
