"""Checkpoints: everything ``fit`` needs to resume a run bit-identically, in a file that is
also a model file (``cb.load`` reads it).

A checkpoint is the archive of :meth:`Network.state` with the optimizer, plus

* ``config["training"]``: ``epoch`` (epochs done), ``history`` and ``history_epochs``
  (:class:`History`), ``callbacks`` (the class name of each of ``fit``'s callbacks);
* ``callback.<i>.<key>`` arrays: the i-th callback's :meth:`Callback.state_dict`.

Reading goes as ``cb.load``'s (:func:`~cartoonbrain.saving.network_state.build_network`): every
field and every size is checked before anything is allocated for it, the parameters are
read straight into a network's buffer and the optimizer's buffers into arrays the
optimizer keeps. Nothing is put back before the checksum matches, and any problem is one
line of :class:`~cartoonbrain.io.ModelFileError` naming the file.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..io import ArchiveReader, ModelFileError, model_file_error, open_archive, write_archive
from ..layers import layer_states, load_layer_states
from ..optimizers import Optimizer, get_optimizer
from ..saving.network_state import build_network
from ..saving.optimizer_state import optimizer_state
from .callbacks import Callback, History

if TYPE_CHECKING:
    from ..network.network import Network

__all__ = ["restore_checkpoint", "save_checkpoint"]

Array = NDArray[Any]


def save_checkpoint(
    net: Network,
    optimizer: Optimizer,
    path: str | os.PathLike[str],
    epoch: int,
    history: History,
    callbacks: Sequence[Callback] = (),
) -> None:
    """Everything ``fit`` needs to resume bit-identically, in a file ``load`` also reads:
    weights, optimizer state, generator state, epoch, history, and each callback's
    :meth:`~cartoonbrain.train.Callback.state_dict` (as ``callback.<i>.<name>`` arrays)."""
    config, arrays = net.state(optimizer)
    config["training"] = {
        "epoch": epoch,
        "history": history.history,
        "history_epochs": history.epoch,
        "callbacks": [type(callback).__name__ for callback in callbacks],
    }
    for i, callback in enumerate(callbacks):
        for key, value in callback.state_dict().items():
            array = np.asarray(value)
            if array.dtype.kind not in "biufcUS":  # an object array would need pickle
                raise ValueError(
                    f"callback {i} ({type(callback).__name__}): state_dict()[{key!r}] must be "
                    f"numbers, strings or a numeric array to go into a checkpoint; got "
                    f"{type(value).__name__}"
                )
            arrays[f"callback.{i}.{key}"] = array
    write_archive(path, config, arrays)


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


def _training(config: dict[str, Any], path: object) -> dict[str, Any]:
    """The checkpoint's training fields, each of the type fit needs."""
    training = config.get("training")
    if not isinstance(training, dict):
        raise ModelFileError(f"{path}: a model file, but not a checkpoint (no training state)")
    epoch, history = training.get("epoch"), training.get("history", {})
    epochs, names = training.get("history_epochs", []), training.get("callbacks", [])
    if type(epoch) is not int or not 0 <= epoch < 2**63:
        raise model_file_error(path, f"epoch {str(epoch)[:40]} is not a count of epochs")
    if not isinstance(epochs, list) or not all(type(e) is int for e in epochs):
        raise model_file_error(path, "history_epochs is not a list of epoch numbers")
    if not isinstance(history, dict) or not all(
        isinstance(v, list) and len(v) == len(epochs) and all(map(_is_number, v))
        for v in history.values()
    ):
        raise model_file_error(path, "history is not one list of numbers per metric")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise model_file_error(path, "callbacks is not a list of class names")
    return training


def _check_matches(
    net: Network, optimizer: Optimizer, config: dict[str, Any], path: object
) -> None:
    mine, theirs = net.get_config(), config.get("network")
    theirs = theirs if isinstance(theirs, dict) else {}
    for key in ("layers", "loss", "dtype"):
        if mine[key] != theirs.get(key):
            raise ModelFileError(
                f"{path}: the checkpoint was written for another network ({key}: "
                f"{str(theirs.get(key))[:200]}, this one has {mine[key]!r}); use another "
                "checkpoint path or start without --resume"
            )
    stored = config.get("optimizer")
    name = stored.get("name") if isinstance(stored, dict) else None
    if optimizer.get_config().get("name") != name:
        raise ModelFileError(
            f"{path}: the checkpoint was written with optimizer {str(name)[:40]!r}, "
            f"not {optimizer.get_config().get('name')!r}"
        )


def _callback_states(
    callbacks: Sequence[Callback], saved: list[str], arrays: dict[str, Array], path: object
) -> list[dict[str, Array] | None]:
    """Each callback's saved state, or None where the checkpoint has none for a callback of
    that class at that position. Each state is tried on a shallow copy of its callback, so
    that one the callback refuses is refused here, as a ModelFileError."""
    states: list[dict[str, Array] | None] = []
    for i, callback in enumerate(callbacks):
        prefix = f"callback.{i}."
        same = i < len(saved) and saved[i] == type(callback).__name__
        state = {k.removeprefix(prefix): v for k, v in arrays.items() if k.startswith(prefix)}
        if same and state:
            try:
                copy.copy(callback).load_state_dict(state)
            except Exception as exc:
                raise model_file_error(path, exc, f"bad state of callback {i}") from None
        states.append(state if same and state else None)
    return states


def restore_checkpoint(
    net: Network,
    optimizer: Optimizer,
    path: str | os.PathLike[str],
    callbacks: Sequence[Callback] = (),
) -> tuple[int, History, list[dict[str, Array] | None]]:
    """Put a checkpoint's weights, layer state (BatchNorm's running statistics), optimizer
    state and generator state into ``net`` and ``optimizer``.

    Returns the number of epochs already done, the history so far, and for each of
    ``callbacks`` its saved state, or None where the checkpoint has none for a callback
    of that class at that position (a callback added or changed since). Nothing is put
    back unless the whole checkpoint is readable and its checksum matches.

    The file is read as :func:`cartoonbrain.load` reads it (:func:`build_network`): the
    config is checked against the arrays' headers before anything is allocated, the
    parameters are read straight into a network's buffer, and the optimizer's buffers
    (Adam's m and v) into arrays that ``optimizer`` then keeps, not copies.
    """
    with open_archive(path) as archive:
        config = archive.config
        training = _training(config, path)
        _check_matches(net, optimizer, config, path)
        stored, state = _read_state(type(net), optimizer, archive, path)
        arrays = {n: archive.read(n) for n in archive.headers if n.startswith("callback.")}
        states = _callback_states(callbacks, training.get("callbacks", []), arrays, path)
    # the checksum matched: put everything back
    net.flat_parameters[...] = stored.flat_parameters
    load_layer_states(net.layers, layer_states(stored.layers))
    net.rng.bit_generator.state = stored.rng.bit_generator.state
    optimizer.load_state_dict(state, copy=False)
    history = History()
    history.history = {k: list(v) for k, v in training.get("history", {}).items()}
    history.epoch = list(training.get("history_epochs", []))
    return training["epoch"], history, states


def _read_state(
    cls: type[Network], optimizer: Optimizer, archive: ArchiveReader, path: object
) -> tuple[Network, dict[str, Array]]:
    """The checkpoint's network (built as ``cb.load`` builds it, without its optimizer)
    and the optimizer's state, each buffer in an array of its own, tried on a shallow copy
    of ``optimizer`` (which keeps the arrays, allocating nothing) so that a state it
    refuses is refused here."""
    config = archive.config
    try:
        get_optimizer(config["optimizer"])  # its config is checked as load checks it
        network = {key: value for key, value in config.items() if key != "optimizer"}
        stored = build_network(cls, network, archive.headers, archive.read)
        state = optimizer_state(archive.headers, archive.read, stored)
        copy.copy(optimizer).load_state_dict(state, copy=False)
    except ModelFileError:  # the file itself: a member truncated, ...
        raise
    except Exception as exc:
        raise model_file_error(path, exc, "bad checkpoint") from None
    return stored, state
