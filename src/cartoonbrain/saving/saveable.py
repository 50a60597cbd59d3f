"""Saveable: a network as plain data and as a file, a base of the Network class.

:class:`Saveable` holds what :class:`~cartoonbrain.network.Network` does to become plain
data and to come back from it: :meth:`~Saveable.get_config` (the architecture),
:meth:`~Saveable.state` (the architecture with the arrays: what model files, checkpoints
and pickles hold), :meth:`~Saveable.from_state`, :meth:`~Saveable.save`, and pickling
through the same state. The checks of a state, and the building of a network from one
whose arrays are read as needed, are plain functions of :mod:`.network_state`;
``cb.load`` is :func:`.model_file.read_model`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from numpy.typing import NDArray

from ..io import write_archive
from ..layers import layer_states
from ..losses import loss_config
from . import legacy_pickle
from .network_state import build_network, check_saveable, network_arguments

if TYPE_CHECKING:
    from ..network.network import Network
    from ..optimizers import Optimizer

Array = NDArray[Any]

__all__ = ["Saveable"]


class Saveable:
    """The part of :class:`~cartoonbrain.network.Network` that saves and loads it; ``self``
    is always a ``Network``."""

    def get_config(self: Network) -> dict[str, Any]:
        """Plain data describing the architecture (what a model file stores besides arrays):
        the layers' configs, the loss, dtype, L2, seed, metadata and the preprocessing."""
        return {
            "layers": [layer.get_config() for layer in self.layers],
            "loss": loss_config(self.loss),  # a name, or {"name": "huber", "delta": 2.0}
            "dtype": self.dtype.name,
            "l2": self.l2,
            "l2_per_sample": self.l2_per_sample,
            "seed": self.seed,
            "metadata": self.metadata,
            "input_shape": None if self.input_shape is None else list(self.input_shape),
            "preprocessor": None if self.preprocessor is None else self.preprocessor.get_config(),
            "target_encoder": None
            if self.target_encoder is None
            else self.target_encoder.get_config(),
        }

    @classmethod
    def from_config(
        cls: type[Network], config: dict[str, Any], *, initialize: bool = True
    ) -> Network:
        """The network a :meth:`get_config` describes (``initialize``: as the constructor's)."""
        layers, arguments = network_arguments(config)
        if not initialize:  # passed only then: a subclass's __init__ need not know it
            arguments["initialize"] = False
        return cls(layers, **arguments)

    def state(
        self: Network, optimizer: Optimizer | None = None
    ) -> tuple[dict[str, Any], dict[str, Array]]:
        """The network as ``(config, arrays)``, what model files, checkpoints and pickles
        hold; the arrays are live views.

        ``config`` is ``{"network": get_config(), "rng_state": ..., "optimizer": ...}`` (the
        optimizer's part only when one is given); ``arrays`` holds ``param.<i>`` for the
        i-th array of :meth:`parameters`, ``state.layer<i>.<name>`` for each layer's state
        arrays (BatchNorm's running statistics) and ``optimizer.<key>`` for each entry of
        the optimizer's ``state_dict()``. Raises ValueError for a layer, activation, loss
        or optimizer that :meth:`from_state` could not rebuild exactly (one that is not
        registered).
        """
        check_saveable(self, optimizer)
        config: dict[str, Any] = {
            "network": self.get_config(),
            "rng_state": self.rng.bit_generator.state,
        }
        arrays = {f"param.{i}": p for i, p in enumerate(self.parameters())}
        arrays.update({f"state.{k}": v for k, v in layer_states(self.layers).items()})
        if optimizer is not None:
            config["optimizer"] = optimizer.get_config()
            arrays.update({f"optimizer.{k}": v for k, v in optimizer.state_dict().items()})
        return config, arrays

    @classmethod
    def from_state(cls: type[Network], config: Any, arrays: Mapping[str, Array]) -> Network:
        """The network (and its optimizer, as ``.optimizer``) of a :meth:`state`, its arrays
        copied in. Every size in ``config`` is checked against ``arrays`` before the
        network is allocated; ValueError (or another error, for a malformed state)
        otherwise."""

        def read(name: str, out: Array | None) -> Array:
            if out is None:
                return arrays[name]
            out[...] = arrays[name]
            return out

        return build_network(cls, config, arrays, read)

    def save(self: Network, path: str | os.PathLike[str], include_optimizer: bool = False) -> None:
        """Write the model to ``path`` atomically: a ``.npz`` archive of :meth:`state`
        (:mod:`cartoonbrain.io.archive`), read back by :func:`cartoonbrain.load`.

        Parameters
        ----------
        include_optimizer : bool
            Also store the optimizer of the last ``fit`` and its state (to go on training).
        """
        write_archive(path, *self.state(self.optimizer if include_optimizer else None))

    # pickling (joblib, multiprocessing, copy.deepcopy) goes through the same state
    def __getstate__(self: Network) -> dict[str, Any]:
        config, arrays = self.state(self.optimizer)
        return {"config": config, "arrays": arrays}

    def __setstate__(self: Network, state: dict[str, Any]) -> None:
        if "arrays" not in state:  # pickled by cartoonbrain 0.1.0
            state = legacy_pickle.state_from_v0_1_0(state)
        restored = type(self).from_state(state["config"], state["arrays"])
        if "optimizer" in state:
            restored.optimizer = state["optimizer"]
        self.__dict__.update(restored.__dict__)
