"""Symptoms inside the network: exploding and vanishing gradients, dead and saturated units.

And one cause: initial weights so large that the signal grows a hundredfold flowing
forward at the first step (:func:`weight_scale`). Each is read from the monitor's
per-layer records and is scale-free: gradients are compared with themselves (over
training, or layer with layer), never with a fixed norm, sizes with the inputs' size, and
units are counted as shares of their layer. A symptom says where the trouble shows,
not always why: when a cause is found (:mod:`.targets`, :mod:`.curves`), ``diagnose``
marks the symptoms as following from it rather than offering their own fix.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .findings import Finding
from .monitor import SATURATING, Array, Records, quietly
from .run import Run

__all__ = ["dead", "exploding", "saturation", "vanishing", "weight_scale"]

#: a layer whose gradient norm is below this fraction of the last layer's is "vanishing"
VANISHING_RATIO = 1e-2
#: gradient norms growing by this factor over training, or this much larger in the first
#: layer than in the last, are "exploding"
EXPLODING_GROWTH = 1e3
#: the transforms at the first step this many times the size of the inputs: the signal
#: explodes flowing forward
FORWARD_GROWTH = 1e2
#: more than this share of a layer's outputs saturated, or of its ReLU units dead
UNHEALTHY_SHARE = 0.5
#: activations whose layers want He's initialisation
RELU_FAMILY = ("relu", "leaky_relu", "elu")
#: inputs with a root mean square above this are not scaled to about unit size
LARGE_INPUTS = 3.0


def large_weights(records: Records, i: int, fan: str) -> str | None:
    """A phrase saying layer i's initial weights are over twice the RMS of Glorot's or He's
    initialisation; None if they are not (or are not known)."""
    info = records.layers[i]
    if len(records.initial_weight_norm) != len(records.layers):
        return None
    if fan == "he":
        name, scale = "He", math.sqrt(2.0 / info.n_in)
    else:
        name, scale = "Glorot", math.sqrt(2.0 / (info.n_in + info.n_out))
    rms = records.initial_weight_norm[i] / math.sqrt(info.size)
    if not rms > 2 * scale:
        return None
    return (
        f"its initial weights are large for {info.n_in} inputs (RMS {rms:.2g}; "
        f"{name}'s is {scale:.2g})"
    )


def _growth(records: Records, grads: Array) -> tuple[Array, Array, Array, float]:
    """Per layer: the first and last epochs' median ‖∇W‖ and their ratio; and the median
    over training of ‖∇W_1‖ / ‖∇W_L‖."""
    with quietly():
        epochs = np.array(records.epoch)
        first = np.nanmedian(grads[epochs == epochs[0]], axis=0)
        last = np.nanmedian(grads[epochs == epochs[-1]], axis=0)
        growth = np.nan_to_num(last / first, nan=0.0, posinf=0.0)
        depth = float(np.nanmedian(grads[:, 0] / grads[:, -1]))
    return first, last, growth, depth


def exploding(run: Run) -> list[Finding]:
    """Gradient norms that overflow, grow a thousandfold, or grow flowing backward; or a
    signal that grows a hundredfold flowing forward at the first step."""
    records = run.records
    grads = records.array("grad_norm")
    first, last, growth, depth = _growth(records, grads)
    worst = int(np.argmax(growth))
    if not np.isfinite(grads).all():
        point, layer = (int(v) for v in np.argwhere(~np.isfinite(grads))[0])
        message = (
            f"the gradient is exploding: ‖∇W‖ became {grads[point, layer]} in epoch "
            f"{records.epoch[point] + 1}, from {grads[0, layer]:.3g} at the start."
        )
    elif growth[worst] > EXPLODING_GROWTH:
        layer = worst
        message = (
            f"the gradient is exploding: ‖∇W‖ grew {growth[worst]:.3g} times, from "
            f"{first[worst]:.3g} in the first epoch to {last[worst]:.3g} in the last."
        )
    elif len(records.layers) > 1 and depth > EXPLODING_GROWTH:
        layer = 0
        message = (
            f"the gradient grows as it flows back: ‖∇W‖ here is {depth:.3g} times the last "
            "layer's (median over training)."
        )
    else:
        return []
    suggestion, fix = _exploding_fix(run, layer)
    return [Finding("exploding", records.layers[layer].label, message, suggestion, fix)]


def weight_scale(run: Run) -> list[Finding]:
    """A cause: the transforms at the first step far larger than the inputs, each layer
    multiplying the size of the signal (initial weights too large, before any gradient)."""
    records = run.records
    sizes = np.array(records.first_transform_rms, dtype=np.float64)
    inputs = records.first_input_rms
    if sizes.size != len(records.layers) or not (math.isfinite(inputs) and inputs > 0):
        return []
    with quietly():
        growth = np.nan_to_num(sizes / inputs, nan=0.0)
    layer = int(np.argmax(growth))
    if not growth[layer] > FORWARD_GROWTH:
        return []
    per_layer = growth[layer] ** (1 / (layer + 1))
    message = (
        f"the initial weights are too large: at the first step this layer's transforms were "
        f"{growth[layer]:.3g} times the size of the inputs (root mean square {sizes[layer]:.3g} "
        f"against {inputs:.3g}), about {per_layer:.2g} times more per layer, so outputs, loss "
        "and gradients start out huge."
    )
    init = _init_for(records)
    large = large_weights(records, layer, "he" if init == "he_uniform" else "glorot")
    if large:
        suggestion, fix = f"{large}: use init='{init}'", {"init": init}
    else:
        suggestion, fix = f"uncertain: look for the layer that multiplies it; init='{init}'", None
    return [Finding("weight_scale", records.layers[layer].label, message, suggestion, fix)]


def _init_for(records: Records) -> str:
    """He's initialisation for a network of the ReLU family, Glorot's otherwise."""
    hidden = [layer.activation for layer in records.layers[:-1]] or [records.layers[-1].activation]
    return "he_uniform" if any(name in RELU_FAMILY for name in hidden) else "glorot_uniform"


def _exploding_fix(run: Run, i: int) -> tuple[str, dict[str, Any] | None]:
    records = run.records
    init = _init_for(records)
    relu = init == "he_uniform"
    large = large_weights(records, i, "he" if relu else "glorot")
    rest = (
        f"lower the learning rate{run.rate_text()}; clip gradients (clip_norm=1.0 on the "
        "optimizer); scale inputs and targets to about unit size"
    )
    if large:
        return f"{large}: use init='{init}' ({'He' if relu else 'Glorot'}'s); {rest}", {
            "init": init
        }
    rate = run.rate
    return f"{rest}; use init='{init}'", ({"learning_rate": rate / 10} if rate else None)


def dead(run: Run) -> list[Finding]:
    """ReLU layers most of whose units output 0 for every sample of the last epoch."""
    records = run.records
    if not records.epoch:
        return []
    last = records.epoch[-1]
    shares = records.dead.get(last, [math.nan] * len(records.layers))
    findings = []
    for info, share in zip(records.layers, shares):
        if not share > UNHEALTHY_SHARE:
            continue
        message = (
            f"{share:.0%} of its ReLU units are dead: they output 0 for every sample seen in "
            f"epoch {last + 1}, so f'(a) = 0 and they never get a gradient again."
        )
        suggestion = (
            "activation='leaky_relu' (or 'elu'), whose units always pass some gradient; He "
            f"initialisation (init='he_uniform') with zero biases; a lower learning rate"
            f"{run.rate_text()} if they died during training"
        )
        findings.append(
            Finding("dead", info.label, message, suggestion, {"activation": "leaky_relu"})
        )
    return findings


def saturation(run: Run) -> list[Finding]:
    """Sigmoid/tanh layers with most outputs in the flat tails in the last epoch."""
    records = run.records
    saturated = records.last_epoch("saturated")
    findings = []
    for i in range(len(records.layers)):
        if saturated[i] > UNHEALTHY_SHARE:
            findings.append(_saturation_finding(run, i, float(saturated[i])))
    return findings


def _saturation_finding(run: Run, i: int, share: float) -> Finding:
    records = run.records
    info = records.layers[i]
    tails = "below 0.01 or above 0.99" if info.activation == "sigmoid" else "beyond ±0.99"
    message = (
        f"{share:.0%} of its outputs are saturated ({tails}, in the last epoch), where "
        f"f'(a) < 0.02: g ← g ⊙ f'(a) passes almost nothing back, so these units barely learn."
    )
    large = large_weights(records, i, "glorot")
    deep = sum(layer.activation in SATURATING for layer in records.layers) > 2
    fix: dict[str, Any] | None
    if large and not deep:
        suggestion = f"{large}: use init='glorot_uniform' (Dense's default for sigmoid/tanh)"
        fix = {"init": "glorot_uniform"}
    elif large:
        suggestion = (
            f"{large}, but in a stack of sigmoid/tanh layers Glorot's smaller weights make "
            "the gradient vanish instead (σ' ≤ ¼ per layer): use ReLU with He initialisation "
            "(activation='relu', init='he_uniform')"
        )
        fix = {"activation": "relu", "init": "he_uniform"}
    elif i == 0 and records.first_input_rms > LARGE_INPUTS:
        suggestion = (
            f"the inputs are large (root mean square {records.first_input_rms:.3g}): "
            "standardise them, column by column, with the training rows' mean and std"
        )
        fix = {"standardize_inputs": True}
    else:
        suggestion = (
            "uncertain: neither the initial weights nor the inputs are large; the units were "
            "driven there by training. Try ReLU with He initialisation (activation='relu', "
            f"init='he_uniform') or a lower learning rate{run.rate_text()}"
        )
        fix = None
    return Finding("saturation", info.label, message, suggestion, fix)


def vanishing(run: Run) -> list[Finding]:
    """Layers whose gradient is a tiny fraction of the last layer's (median over training)."""
    records = run.records
    layers = records.layers
    if len(layers) < 2:
        return []
    grads = records.array("grad_norm")
    with quietly():
        ratios = grads[:, :-1] / grads[:, -1:]
        ratios[~np.isfinite(ratios)] = np.nan
        medians = np.nanmedian(ratios, axis=0)
    result = []
    for info, ratio in zip(layers[:-1], medians):
        if not ratio < VANISHING_RATIO:  # NaN too: no usable gradients
            continue
        message = (
            f"the gradient vanishes: ‖∇W‖ here is {ratio:.2g} times the last layer's "
            f"(median over training), so g fades on its way back and this layer barely learns."
        )
        fix: dict[str, Any] | None
        adam = records.optimizer == "adam"  # no fix names what the run already uses
        if info.activation in SATURATING:
            suggestion = (
                "use ReLU with He initialisation (activation='relu', init='he_uniform'); "
                "fewer sigmoid/tanh layers"
                + ("" if adam else "; an adaptive optimizer (Adam) lessens the effect")
            )
            fix = {"activation": "relu", "init": "he_uniform"}
        else:
            suggestion = (
                "uncertain: look for dead or saturated units in the layers above; He "
                "initialisation for ReLU (init='he_uniform'), Glorot otherwise"
                + ("" if adam else "; try Adam")
            )
            fix = None
        result.append(Finding("vanishing", info.label, message, suggestion, fix))
    return result
