"""Networks pickled by cartoonbrain 0.1.0, read by this version.

0.1.0 pickled a network (``pickle``, ``joblib``) as ``{"config", "parameters",
"rng_state", "optimizer"}``: its config, its flat parameter buffer, its generator's state
and its optimizer object; a scikit-learn estimator kept its fitted network as
``{"config", "flat_parameters", "rng"}``. This version pickles
the state that model files hold (``Network.state``, :mod:`cartoonbrain.saving.saveable`);
:func:`state_from_v0_1_0` turns the old form into it, checking the sizes first, so that
``Network.__setstate__`` reads both. (The optimizers' attributes did not change: the
pickled optimizer object is used as it is.)
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import numpy as np

from ..layers import layer_from_config

__all__ = ["estimator_state_from_v0_1_0", "state_from_v0_1_0"]


def state_from_v0_1_0(state: dict[str, Any]) -> dict[str, Any]:
    """``{"config", "arrays", "optimizer"}`` for ``Network.from_state`` from a 0.1.0 pickle's
    state; ValueError, in one line, when it is not one or its sizes do not fit."""
    if not {"config", "parameters"} <= set(state) or not isinstance(state["config"], dict):
        raise ValueError(
            f"this pickle holds a network state with {sorted(state)}; expected one written "
            "by cartoonbrain 0.1.0 or later"
        )
    network = state["config"]
    flat = np.asarray(state["parameters"])
    layers = [layer_from_config(c) for c in network.get("layers", [])]
    shapes = [tuple(s) for layer in layers for s in layer.parameter_shapes()]
    if flat.ndim != 1 or flat.size != sum(math.prod(s) for s in shapes):
        raise ValueError(
            f"this 0.1.0 pickle holds {flat.size} parameters; its architecture has "
            f"{sum(math.prod(s) for s in shapes)}"
        )
    ends = np.cumsum([math.prod(s) for s in shapes])[:-1]
    parts = np.split(flat, ends) if shapes else []
    arrays = {f"param.{i}": p.reshape(s) for i, (p, s) in enumerate(zip(parts, shapes))}
    config = {"network": network, "rng_state": state.get("rng_state")}
    return {"config": config, "arrays": arrays, "optimizer": state.get("optimizer")}


def estimator_state_from_v0_1_0(cls: type, state: dict[str, Any]) -> dict[str, Any]:
    """A 0.1.0 estimator's pickled state for this version's estimator class ``cls``: its
    network as a 0.1.0 network pickle's state (``Network.__setstate__`` reads it), the
    parameters added since at their defaults (``max_fun``), and ``loss_``, the last
    epoch's loss, which 0.1.0 did not keep."""
    saved = state["network_"]
    network = {
        "config": saved.get("config"),
        "parameters": saved.get("flat_parameters"),
        "rng_state": saved.get("rng"),
    }
    signature = inspect.signature(cls).parameters.values()
    defaults = {p.name: p.default for p in signature if p.default is not p.empty}
    state = {**{k: v for k, v in defaults.items() if k not in state}, **state}
    if "loss_" not in state and state.get("loss_curve_"):
        state["loss_"] = state["loss_curve_"][-1]
    return {**state, "network_": network}
