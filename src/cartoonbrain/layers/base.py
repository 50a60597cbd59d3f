"""What every layer is: the Layer protocol, AffineLayer (W, b, f), and the registry of
layer types that model files can name.

Arrays are batch-first, one sample per row: ``O_prev`` has shape ``(n_samples, n_in)``.
``W`` keeps the post's shape ``(n_out, n_in)``, so the post's ``a = W o`` for one column
becomes, for a batch of rows,

    A = O_prev Wᵀ + b        O = f(A)

and the backward pass, with ``G = ∂L/∂O`` (docs/backprop.md, "Batch form"),

    G ← G ⊙ f'(A)      ∇W = Gᵀ O_prev      ∇b = Σ_rows G      G_prev = G W

A layer does not own its parameter memory: the :class:`~cartoonbrain.network.network.Network`
keeps every parameter (and every gradient) of the network in one flat buffer and hands
each layer views into it (:meth:`Layer.bind`), so an optimizer updates the whole network
in one pass over one array.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from .._registry import claim
from ..activations import Activation, get_activation
from ..initializers import default_for, get_initializer

Array = NDArray[Any]
Shape = tuple[int, ...]

__all__ = [
    "LAYERS",
    "AffineLayer",
    "Array",
    "Layer",
    "Shape",
    "layer_from_config",
    "register_layer",
]


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


class Layer:
    """What every layer provides to the network.

    A layer with parameters lists their shapes in :meth:`parameter_shapes`; the network
    then calls :meth:`bind` with views of that shape into its flat buffers and
    :meth:`initialize` to fill them.

    What the network needs to know about a layer it asks the layer, never its class:
    :attr:`expected_input_shape`, :attr:`keeps_shape`, :attr:`flattens`,
    :attr:`output_activation` and :attr:`continuous_input`.
    A new layer sets those that apply, provides :meth:`example`, and is registered with
    :func:`register_layer`.
    """

    #: names of the parameters, aligned with :meth:`parameter_shapes`
    parameter_names: tuple[str, ...] = ()
    #: True when the output always has the input's shape, whatever it is (Dropout): the
    #: network looks past such a layer for the input shape
    keeps_shape: bool = False
    #: True when any per-sample shape becomes one row of as many features (Flatten)
    flattens: bool = False
    #: False when the inputs are labels, not quantities (Embedding's ids): no gradient
    #: flows to them, and the contract tests check none
    continuous_input: bool = True

    @property
    def expected_input_shape(self) -> Shape | None:
        """One sample's shape when this layer alone fixes it (Dense: ``(n_in,)``); None
        when it takes many (convolutions and pooling take any length)."""
        return None

    @property
    def output_activation(self) -> str | None:
        """The name of the activation ``f`` this layer applies last, or None (no ``f``):
        the network checks it against the loss (the cross-entropy losses take logits)."""
        return None

    @classmethod
    def example(cls) -> tuple[Layer, Shape]:
        """A small instance and one sample's input shape for it: what the contract tests
        (tests/test_contract.py) build a network around. Every registered layer has one."""
        raise NotImplementedError(
            f"{cls.__qualname__} has no example(); give it a classmethod example() returning "
            f"(a small {cls.__name__}, one sample's input shape)"
        )

    def example_inputs(self, rng: np.random.Generator, n_samples: int, input_shape: Shape) -> Array:
        """A batch of ``n_samples`` inputs of ``input_shape`` for :meth:`example`'s layer:
        standard normal numbers, unless the layer takes other values (Embedding: ids)."""
        return rng.standard_normal((n_samples, *input_shape))

    def is_weight(self, name: str) -> bool:
        """Whether the parameter ``name`` is a weight, which the network's L2 penalty acts
        on (not a bias, a scale or a shift): ``W`` unless a layer says otherwise."""
        return name == "W"

    def parameter_shapes(self) -> list[Shape]:
        return []

    def bind(self, params: list[Array], grads: list[Array]) -> None:
        """Take views into the network's flat parameter and gradient buffers."""

    def initialize(self, rng: np.random.Generator) -> None:
        """Fill the bound parameters with their initial values."""

    def attach(self, rng: np.random.Generator) -> None:
        """Receive the network's random generator (used by Dropout)."""

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        """Per-sample output shape for a per-sample input shape (``None``: not known yet).

        Raises ValueError, naming both shapes, when the input does not fit this layer.
        """
        return input_shape

    def forward(self, o_prev: Array, training: bool = False) -> Array:
        raise NotImplementedError

    def infer(self, o_prev: Array) -> Array:
        """The forward pass for prediction: nothing cached, and ``o_prev`` may be overwritten
        when it is not the user's array (the network passes the previous layer's output)."""
        return self.forward(o_prev, training=False)

    def backward(self, g: Array, need_input_gradient: bool = True) -> Array | None:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {"type": type(self).__name__}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "type")
        return f"{type(self).__name__}({args})"


class AffineLayer(Layer):
    """A layer with weights W, optional biases b and an activation f: Dense and the
    convolutions. It keeps the post's caches of its last forward pass."""

    activation: Activation
    f_in_place: Callable[[Array], Array]
    init: str
    bias: bool
    W: Array | None
    b: Array | None
    dW: Array | None
    db: Array | None
    o_prev: Array | None
    affines: Array | None
    transforms: Array | None

    def _set_affine(self, activation: str | Activation, init: str | None, bias: bool) -> None:
        self.activation = get_activation(activation)
        self.f_in_place = self.activation.in_place()  # inference's f, resolved once
        self.init = default_for(self.activation.name) if init is None else init
        get_initializer(self.init)  # fail now, not at build time
        self.bias = bool(bias)
        self.parameter_names = ("W", "b") if self.bias else ("W",)
        self.W = self.b = self.dW = self.db = None
        # caches of the last forward pass, named as in the post
        self.o_prev = self.affines = self.transforms = None

    @property
    def output_activation(self) -> str | None:
        return self.activation.name


#: The only layer types a model file can name: configs are mapped through this table,
#: filled by :func:`register_layer` where each layer class is declared.
LAYERS: dict[str, type[Layer]] = {}

L_ = TypeVar("L_", bound=type[Layer])


def register_layer(cls: L_) -> L_:
    """Class decorator: make ``cls`` loadable from model files under its class name.

    Raises ValueError when another class already holds that name (a subclass may not
    stand in for a built-in silently).
    """
    return claim(LAYERS, cls.__name__, cls, "layer")


def layer_from_config(config: dict[str, Any]) -> Layer:
    """Build a layer from :meth:`Layer.get_config`'s plain-data dict (no code is run)."""
    if not isinstance(config, dict) or not isinstance(config.get("type"), str):
        raise ValueError(f"a layer config must be a dict with a 'type'; got {config!r}")
    kind = config["type"]
    if kind not in LAYERS:
        raise ValueError(f"unknown layer type {kind!r}; expected one of {', '.join(LAYERS)}")
    kwargs = {k: v for k, v in config.items() if k != "type"}
    try:
        return LAYERS[kind](**kwargs)
    except TypeError as exc:
        raise ValueError(f"bad {kind} config {kwargs!r}: {exc}") from None
