"""A network as plain data, ``(config, arrays)``, and back: the one serialisation behind
model files, checkpoints and pickling (``Network.state``, ``Network.from_state``, defined
in :mod:`.saveable`): the checks of a state and the building of a network from one.

``config`` is JSON-able::

    {"network": Network.get_config(),          # layers, loss, dtype, l2, seed, metadata
     "rng_state": the generator's state,
     "optimizer": Optimizer.get_config()}      # only when an optimizer is given

and ``arrays`` holds ``param.<i>`` for the i-th array of :meth:`Network.parameters`,
``state.layer<i>.<name>`` for each layer's state arrays (BatchNorm's running statistics,
:mod:`cartoonbrain.layers.state`) and ``optimizer.<key>`` for each entry of the
optimizer's ``state_dict()``.

What comes back is checked before anything is built: every field's type, every layer's
parameter shapes (asked of the layer objects, which allocate nothing) against the stored
arrays, the generator state and the optimizer's buffers, so that a config asking for more
than its arrays hold is refused before a byte is allocated for it (the check needs only
the arrays' dtypes and shapes: ``cb.load`` reads the arrays after it). What ``state``
writes must come back as the same network: classes that ``load`` could not rebuild
exactly (not registered, or a subclass behind a registered name) are refused when saving.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..activations import ACTIVATIONS, Activation
from ..data.preprocessing import Preprocessor, TargetEncoder
from ..layers import LAYERS, Layer, layer_from_config, layer_states, load_layer_states
from ..losses import LOSSES
from ..optimizers import OPTIMIZERS, Optimizer
from .agreement import check_agreement
from .optimizer_state import stored_optimizer

if TYPE_CHECKING:
    from ..network.network import Network

Array = NDArray[Any]

__all__ = [
    "build_network",
    "check_saveable",
    "check_state",
    "network_arguments",
    "stored_rng_state",
]

#: layers a config may list (each built as an object, without arrays, before the check)
MAX_LAYERS = 10_000
#: the largest size a config may give that no stored array has as a dimension
SMALL_SIZE = 1 << 20
_DTYPES = ("float32", "float64")


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


# ------------------------------------------------------------------ the architecture
def network_arguments(config: Any) -> tuple[list[Layer], dict[str, Any]]:
    """The layers and the keyword arguments of ``Network(...)`` that a
    ``Network.get_config()`` describes (what ``Network.from_config`` builds)."""
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ValueError("a network config must be a dict with a list of 'layers'")
    preprocessor, target_encoder = config.get("preprocessor"), config.get("target_encoder")
    return [layer_from_config(c) for c in config["layers"]], {
        "loss": config.get("loss", "mse"),
        "seed": config.get("seed"),
        "dtype": config.get("dtype", "float32"),
        "l2": config.get("l2", 0.0),
        "l2_per_sample": config.get("l2_per_sample", False),
        "metadata": config.get("metadata"),
        "input_shape": config.get("input_shape"),
        "preprocessor": None if preprocessor is None else Preprocessor.from_config(preprocessor),
        "target_encoder": None
        if target_encoder is None
        else TargetEncoder.from_config(target_encoder),
    }


# ------------------------------------------------------------------ saving
def check_saveable(net: Network, optimizer: Optimizer | None = None) -> None:
    """ValueError unless ``load`` rebuilds exactly this network (and optimizer): every
    class must be the one registered under the name its config gives."""
    for i, layer in enumerate(net.layers):
        _check_layer(i, layer)
    loss = type(net.loss)
    if LOSSES.get(net.loss.name) is not loss:
        raise ValueError(
            f"cannot save: the loss {_name(loss)} (name {net.loss.name!r}) is not the registered "
            f"{net.loss.name!r}; give it a name of its own and decorate it with "
            "@cartoonbrain.losses.register_loss"
        )
    if optimizer is not None and OPTIMIZERS.get(optimizer.name) is not type(optimizer):
        raise ValueError(
            f"cannot save: the optimizer {_name(type(optimizer))} (name {optimizer.name!r}) is "
            "not the registered one; give it a name of its own and decorate it with "
            "@cartoonbrain.optimizers.register_optimizer"
        )


def _arguments(cls: type) -> list[str]:
    """The names a class's constructor takes by keyword."""
    try:
        parameters = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):  # no signature to read
        return []
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p.name for p in parameters if p.kind in kinds]


def _check_layer(i: int, layer: Layer) -> None:
    config = layer.get_config()
    kind, cls = config.get("type"), type(layer)
    if LAYERS.get(kind) is not cls:  # type: ignore[arg-type]
        held = LAYERS.get(kind)  # type: ignore[arg-type]
        why = (
            "is not registered" if held is None else f"is saved as {kind!r}, which is {_name(held)}"
        )
        raise ValueError(
            f"cannot save: layer {i} ({_name(cls)}) {why}, so load could not rebuild it; give "
            "it a name of its own and decorate it with @cartoonbrain.layers.register_layer"
        )
    activation = getattr(layer, "activation", None)
    if isinstance(activation, Activation) and ACTIVATIONS.get(activation.name) is not activation:
        why = "not registered" if activation.name not in ACTIVATIONS else "not the registered one"
        raise ValueError(
            f"cannot save: layer {i}'s activation {activation.name!r} is {why}, so load could "
            "not rebuild it; give it a name of its own and register it with "
            "cartoonbrain.activations.register_activation"
        )
    missing = [name for name in _arguments(cls) if name not in config]
    if missing:
        raise ValueError(
            f"cannot save: layer {i}'s get_config() {config!r} lacks {', '.join(missing)}, "
            f"arguments of {cls.__qualname__}(); load would rebuild it with their defaults"
        )
    try:
        rebuilt = layer_from_config(config).get_config()
    except Exception as exc:
        raise ValueError(
            f"cannot save: layer {i}'s config {config!r} does not rebuild it: {exc}"
        ) from None
    if rebuilt != config:
        raise ValueError(
            f"cannot save: layer {i}'s config {config!r} rebuilds as {rebuilt!r}; its "
            "get_config() must list every argument of its constructor"
        )


# ------------------------------------------------------------------ loading
def _is_int(value: Any, low: int = 0, high: float = math.inf) -> bool:
    return type(value) is int and low <= value < high


def _check_fields(network: dict[str, Any]) -> str:
    """The dtype name; ValueError for any field of the wrong type or range."""
    dtype = network.get("dtype", "float32")
    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be 'float32' or 'float64'; got {str(dtype)[:40]!r}")
    loss = network.get("loss", "mse")
    if not (
        isinstance(loss, str) or (isinstance(loss, dict) and isinstance(loss.get("name"), str))
    ):
        raise ValueError("the loss must be a name or a config dict with a 'name'")
    seed = network.get("seed")
    if seed is not None and not _is_int(seed, 0, 2**128):
        raise ValueError(f"seed must be None or an integer in [0, 2**128); got {str(seed)[:40]}")
    l2 = network.get("l2", 0.0)
    if type(l2) not in (int, float) or not 0 <= l2 < math.inf:
        raise ValueError(f"l2 must be a non-negative number; got {str(l2)[:40]}")
    for key in ("l2_per_sample",):
        if key in network and type(network[key]) is not bool:
            raise ValueError(f"{key} must be true or false; got {str(network[key])[:40]}")
    metadata = network.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise ValueError(f"metadata must be a dict; got {type(metadata).__name__}")
    shape = network.get("input_shape")
    if shape is not None and not (
        isinstance(shape, list) and 0 < len(shape) <= 32 and all(_is_int(n, 1) for n in shape)
    ):
        raise ValueError(f"input_shape must be a list of positive sizes; got {str(shape)[:80]}")
    return str(dtype)


def _integers(value: Any, where: str) -> Iterator[tuple[str, int]]:
    """Every integer in a config value (lists and dicts walked), with where it is."""
    if type(value) is int:
        yield where, value
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _integers(item, f"{where}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _integers(item, f"{where}.{key}")


def _check_sizes(network: dict[str, Any], arrays: Mapping[str, Any]) -> None:
    """Refuse, before any layer is built, a size in the layers' configs or the input shape
    larger than every dimension of every stored array (and than :data:`SMALL_SIZE`): a
    layer's constructor may allocate by its sizes (BatchNorm's running statistics), and a
    size that large cannot be a parameter's. What a constructor allocates is thus bounded
    by the file's own arrays, which are bounded by the file's size."""
    largest = max([SMALL_SIZE, *(n for a in arrays.values() for n in a.shape)])
    fields = {"input_shape": network.get("input_shape"), "layers": network.get("layers")}
    for where, value in _integers(fields, "network"):
        if value > largest:
            raise ValueError(
                f"{where} = {str(value)[:40]} is larger than any stored array's dimension "
                f"({largest:,}); refused before building anything"
            )


def check_state(config: Any, arrays: Mapping[str, Any]) -> dict[str, Any]:
    """The network config of ``config``, once every field and every parameter shape has
    been checked against ``arrays`` (nothing is allocated here); ValueError otherwise.
    Only each array's ``dtype`` and ``shape`` are asked: an ndarray or a ``.npy`` header
    (:class:`cartoonbrain.io.npz.Header`, before the array is read) will do."""
    network = config.get("network") if isinstance(config, dict) else None
    if not isinstance(network, dict):
        raise ValueError("the model's architecture cannot be built: no network config")
    layers = network.get("layers")
    if not isinstance(layers, list) or not layers or len(layers) > MAX_LAYERS:
        raise ValueError(
            f"a network config must be a dict with a list of 'layers' (1 to {MAX_LAYERS})"
        )
    dtype = _check_fields(network)
    _check_sizes(network, arrays)
    built = [layer_from_config(layer) for layer in layers]  # objects: sizes, no arrays
    _check_layer_states(built, arrays)
    shapes = [tuple(s) for layer in built for s in layer.parameter_shapes()]
    for i, shape in enumerate(shapes):
        stored = arrays.get(f"param.{i}")
        if stored is None or stored.shape != shape or stored.dtype != np.dtype(dtype):
            found = "missing" if stored is None else f"{stored.dtype} {stored.shape}"
            raise ValueError(f"parameter {i} is {found}; the architecture needs {dtype} {shape}")
    if f"param.{len(shapes)}" in arrays:
        raise ValueError("more parameters than the architecture has")
    return network


def _stored_states(arrays: Mapping[str, Any]) -> dict[str, Any]:
    return {k.removeprefix("state."): v for k, v in arrays.items() if k.startswith("state.")}


def _check_layer_states(layers: list[Layer], arrays: Mapping[str, Any]) -> None:
    expected, stored = layer_states(layers), _stored_states(arrays)
    if set(expected) != set(stored):
        raise ValueError(
            f"the layers' state arrays are {sorted(stored)[:8]}; the architecture has "
            f"{sorted(expected)[:8]}"
        )
    for name, array in expected.items():
        if stored[name].shape != array.shape or stored[name].dtype.kind != "f":
            raise ValueError(
                f"state array {name!r} is {stored[name].dtype} {stored[name].shape}; the "
                f"architecture needs a float array of shape {array.shape}"
            )


def _set_rng_state(rng: np.random.Generator, state: Any) -> None:
    bit_generator = rng.bit_generator
    if not isinstance(state, dict) or state.get("bit_generator") != type(bit_generator).__name__:
        raise ValueError(f"bad generator state: not a {type(bit_generator).__name__} state")
    if state["bit_generator"] == "PCG64":
        inner = state.get("state")
        if not (
            isinstance(inner, dict)
            and _is_int(inner.get("state"), 0, 2**128)
            and _is_int(inner.get("inc"), 0, 2**128)
            and _is_int(state.get("has_uint32"), 0, 2)
            and _is_int(state.get("uinteger"), 0, 2**32)
        ):
            raise ValueError("bad generator state: PCG64 needs 128-bit state and inc")
    try:
        bit_generator.state = state
    except Exception as exc:
        raise ValueError(f"bad generator state: {exc}") from None


def stored_rng_state(config: dict[str, Any]) -> Any:
    """The generator's state that a state holds, or None (0.1.0 model files have none)."""
    training = config.get("training")
    rng_state = config.get("rng_state")
    if rng_state is None and isinstance(training, dict):  # 0.1.0 checkpoints kept it there
        rng_state = training.get("rng_state")
    return rng_state


def build_network(
    cls: type[Network],
    config: Any,
    stored: Mapping[str, Any],
    read: Callable[[str, Array | None], Array],
) -> Network:
    """The network of class ``cls`` (with its optimizer) of a state whose arrays are read
    as needed: ``stored`` gives each array's dtype and shape, checked by
    :func:`check_state` before anything is allocated; ``read(name, out)`` returns the
    array ``name``, read into ``out`` when given (each parameter into its slot of the
    network's buffer; the optimizer's buffers into arrays it keeps, see
    :mod:`cartoonbrain.saving.optimizer_state`). A state holding the generator's state is built
    without running the initialisers (the generator is then set to the saved one's
    state); one without (0.1.0 model files) is initialised from its seed, leaving the
    generator where it left the saved network's."""
    network = check_state(config, stored)
    rng_state = stored_rng_state(config)
    net = cls.from_config(network, initialize=rng_state is None)
    check_agreement(net)
    for i, p in enumerate(net.parameters()):
        read(f"param.{i}", p)
    states = {name: read(name, None) for name in stored if name.startswith("state.")}
    load_layer_states(net.layers, _stored_states(states))
    if rng_state is not None:
        _set_rng_state(net.rng, rng_state)
    if "optimizer" in config:
        net.optimizer = stored_optimizer(config["optimizer"], stored, read, net)
    return net
