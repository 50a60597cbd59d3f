"""The optimizer's part of a stored network state (:mod:`cartoonbrain.saving.network_state`), read
back: its config (``config["optimizer"]``) and its ``state_dict()`` as ``optimizer.<key>``
arrays (Adam's ``m.0`` and ``v.0``, each as large as the parameters, and ``iterations``).

Each buffer is checked against the network's parameters before it is read (only the
stored dtype and shape are asked: a ``.npy`` header will do), then read into a new array
of its own, which the optimizer keeps as its buffer (``load_state_dict(state,
copy=False)``): ``cb.load`` and a resumed checkpoint hold each buffer once, never a
second copy of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..optimizers import Optimizer, get_optimizer

if TYPE_CHECKING:
    from ..network.network import Network

Array = NDArray[Any]
Reader = Callable[[str, "Array | None"], Array]

__all__ = ["optimizer_state", "stored_optimizer"]


def optimizer_state(stored: Mapping[str, Any], read: Reader, net: Network) -> dict[str, Array]:
    """The optimizer's ``state_dict()`` that a state holds, each buffer checked against
    ``net``'s parameters and then read into a new array of its own.

    Parameters
    ----------
    stored : mapping of name to array or ``.npy`` header
        Every stored array's ``dtype`` and ``shape`` (as in
        :func:`~cartoonbrain.saving.network_state.build_network`).
    read : callable ``read(name, out)``
        The array ``name``, read into ``out`` when given.
    net : Network
        The network the state belongs to: a buffer of a flat state (``m.0``, as ``fit``
        steps the flat buffer) must be like ``net.flat_parameters``, one of a state per
        parameter (``m.<i>``) like ``net.parameters()[i]``; ValueError otherwise.
    """
    names = {k.removeprefix("optimizer."): k for k in stored if k.startswith("optimizer.")}
    buffers = {key: stored[name] for key, name in names.items() if key != "iterations"}
    flat = {k.rpartition(".")[2] for k in buffers} == {"0"}
    params = net.parameters()
    for key, buffer in buffers.items():
        index = key.rpartition(".")[2]
        targets = [net.flat_parameters] if flat else []
        if index.isdigit() and int(index) < len(params):
            targets.append(params[int(index)])
        if not any(buffer.shape == t.shape and buffer.dtype == t.dtype for t in targets):
            raise ValueError(
                f"optimizer state {key!r} is {buffer.dtype} {buffer.shape}; it does not match "
                "the network's parameters"
            )
    return {
        key: read(
            name, np.empty(buffers[key].shape, buffers[key].dtype) if key in buffers else None
        )
        for key, name in names.items()
    }


def stored_optimizer(
    config: Any, stored: Mapping[str, Any], read: Reader, net: Network
) -> Optimizer:
    """The optimizer that ``config`` (an ``Optimizer.get_config()``) describes, holding the
    state of :func:`optimizer_state` (its buffers kept, not copied)."""
    if not isinstance(config, dict):
        raise ValueError("the optimizer's config must be a dict")
    if config.get("name") in ("sgd", "rmsprop") and "formula" not in config:
        config = {**config, "formula": "pytorch"}  # written before `formula`: PyTorch's rule
    optimizer = get_optimizer(config)
    optimizer.load_state_dict(optimizer_state(stored, read, net), copy=False)
    return optimizer
