"""Checkpoints: everything ``fit`` needs to resume a run bit-identically, in a file that is
also a model file (``cb.load`` reads it)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..io import (
    ModelFileError,
    _arrays_for,
    _build,
    _optimizer_state,
    _read_arrays,
    _read_config,
    _set_rng_state,
    _write_atomic,
)
from ..optimizers import Optimizer
from .callbacks import Callback, History

if TYPE_CHECKING:
    from ..network import Network

__all__ = ["restore_checkpoint", "save_checkpoint"]


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
    training = {
        "epoch": epoch,
        "history": history.history,
        "history_epochs": history.epoch,
        "rng_state": net.rng.bit_generator.state,
        "callbacks": [type(callback).__name__ for callback in callbacks],
    }
    arrays = _arrays_for(net, optimizer, training)
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
    _write_atomic(Path(path), arrays)


def restore_checkpoint(
    net: Network,
    optimizer: Optimizer,
    path: str | os.PathLike[str],
    callbacks: Sequence[Callback] = (),
) -> tuple[int, History, list[dict[str, NDArray[Any]] | None]]:
    """Put a checkpoint's weights, optimizer state and generator state into ``net``.

    Returns the number of epochs already done, the history so far, and for each of
    ``callbacks`` its saved state, or None where the checkpoint has none for a callback
    of that class at that position (a callback added or changed since).
    """
    path = Path(path)
    arrays = _read_arrays(path)
    config = _read_config(arrays, path)
    training = config.get("training")
    if not isinstance(training, dict):
        raise ModelFileError(f"{path}: a model file, but not a checkpoint (no training state)")
    mine, theirs = net.get_config(), config["network"]
    for key in ("layers", "loss", "dtype"):
        if mine[key] != theirs.get(key):
            raise ModelFileError(
                f"{path}: the checkpoint was written for another network ({key}: "
                f"{theirs.get(key)!r}, this one has {mine[key]!r}); use another checkpoint "
                "path or start without --resume"
            )
    if optimizer.get_config().get("name") != config.get("optimizer", {}).get("name"):
        raise ModelFileError(
            f"{path}: the checkpoint was written with optimizer "
            f"{config.get('optimizer', {}).get('name')!r}, "
            f"not {optimizer.get_config().get('name')!r}"
        )
    stored = _build(arrays, config, path)
    net.flat_parameters[...] = stored.flat_parameters
    try:
        optimizer.load_state_dict(_optimizer_state(arrays))
    except (ValueError, KeyError) as exc:
        raise ModelFileError(f"{path}: bad optimizer state: {exc}") from None
    _set_rng_state(net, training.get("rng_state"), path)
    history = History()
    history.history = {k: list(v) for k, v in training.get("history", {}).items()}
    history.epoch = list(training.get("history_epochs", []))
    saved = training.get("callbacks", [])
    states: list[dict[str, NDArray[Any]] | None] = []
    for i, callback in enumerate(callbacks):
        prefix = f"callback.{i}."
        same = i < len(saved) and saved[i] == type(callback).__name__
        state = {k.removeprefix(prefix): v for k, v in arrays.items() if k.startswith(prefix)}
        states.append(state if same and state else None)
    return int(training["epoch"]), history, states
