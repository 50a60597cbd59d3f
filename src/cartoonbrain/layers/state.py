"""Layer state: the arrays a layer keeps that are not parameters (BatchNorm's running
statistics), gathered by name for model files and checkpoints.

A layer with state has two methods (no gradient, no optimizer touches these arrays):

    layer.state_arrays() -> {name: array}     the live arrays (writes go through)
    layer.load_state_arrays({name: array})    set them, checking names and shapes

Layers without state have neither. A network's state is named like its parameters
(:meth:`Network.parameter_names`): ``"layer{i}.{name}"``, e.g. ``"layer2.running_mean"``;
a :class:`~cartoonbrain.layers.Residual` block names its inner layers' state
``"{j}.{name}"``, so the full name is ``"layer3.0.running_var"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .base import Array, Layer

__all__ = ["has_state", "layer_states", "load_layer_states"]


def has_state(layer: Layer) -> bool:
    """Whether ``layer`` keeps state arrays besides its parameters."""
    return callable(getattr(layer, "state_arrays", None))


def layer_states(layers: Sequence[Layer]) -> dict[str, Array]:
    """Every layer's state arrays, named ``"layer{i}.{name}"`` (live arrays, not copies)."""
    states: dict[str, Array] = {}
    for i, layer in enumerate(layers):
        if has_state(layer):
            for name, array in layer.state_arrays().items():  # type: ignore[attr-defined]
                states[f"layer{i}.{name}"] = array
    return states


def load_layer_states(layers: Sequence[Layer], arrays: Mapping[str, Any]) -> None:
    """Set every layer's state from :func:`layer_states`' names.

    Raises ValueError when a layer's arrays are missing or an array names no layer's state.
    """
    by_layer: dict[int, dict[str, Any]] = {}
    for key, value in arrays.items():
        layer_name, _, name = key.partition(".")
        index = layer_name[len("layer") :]
        if not layer_name.startswith("layer") or not index.isdigit() or not name:
            raise ValueError(f"state array {key!r} is not named 'layer<i>.<name>'")
        by_layer.setdefault(int(index), {})[name] = value
    for i, layer in enumerate(layers):
        if has_state(layer):
            layer.load_state_arrays(by_layer.pop(i, {}))  # type: ignore[attr-defined]
    if by_layer:
        i = min(by_layer)
        raise ValueError(
            f"state arrays {sorted(by_layer[i])} for layer {i}, which has no state "
            f"(the network has {len(layers)} layers)"
        )
