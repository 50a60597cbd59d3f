"""Causes in the targets: values the output layer cannot reach, and a scale far from 1.

An output activation f bounds what the network can predict: σ gives (0, 1), tanh (−1, 1),
ReLU [0, ∞). A target t outside f's range can at best be met by the nearest edge, so for
the squared-error losses (separable, one term per entry) the lowest loss any weights can
reach is the loss of the targets clipped into the range (:func:`target_floor`):

    floor = L(clip(T, low, high), T)      squared_error: (1/n) Σ_i ½ ‖t_i − clip(t_i)‖²

A regression target with a linear output far from unit scale (std ≫ 1 or ≪ 1, or a mean
far from 0) makes the weights travel far from where their initialisation puts them, and
scales every gradient with it: standardising the target, t → (t − mean) / std, removes both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .findings import Finding
from .monitor import Array
from .run import Run, loss_value

__all__ = ["ENTRYWISE", "OUTPUT_RANGES", "TargetFloor", "explain_blog_floor", "target_floor"]

#: (low, high) of each bounded activation's outputs; None: unbounded on that side
OUTPUT_RANGES: dict[str, tuple[float | None, float | None]] = {
    "sigmoid": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
    "relu": (0.0, None),
    "softplus": (0.0, None),
    "elu": (-1.0, None),
}
#: how the output-at-edge share (monitor.edge_share) reads, per activation
_EDGES = {"sigmoid": "within 0.05 of 0 or 1", "tanh": "beyond ±0.9", "relu": "at 0"}
#: losses of one term per entry, least where the output equals the target (y = t): for
#: them the clipped targets give the floor, and the target's own scale is the output's
ENTRYWISE = ("squared_error", "mse", "huber")
#: a column whose std is beyond this factor of 1 (either way), or whose mean is beyond it
SCALE_FACTOR = 10.0
#: a floor below this fraction of the baseline loss is too small to matter
FLOOR_SHARE = 0.01
#: more than this share of the outputs at an edge, with a regression loss: targets beyond
EDGE_SHARE = 0.5


@dataclass(frozen=True)
class TargetFloor:
    """The targets against an output activation's range.

    ``floor`` is the loss of the targets clipped into [low, high]; ``share`` the fraction
    of target entries outside the range, ``column_shares`` the same per column.
    """

    activation: str
    low: float | None
    high: float | None
    floor: float
    share: float
    column_shares: tuple[float, ...]

    @property
    def interval(self) -> str:
        """The range as it reads: '(0, 1)', '[0, ∞)', '(−1, ∞)'."""
        left = "[" if self.activation == "relu" else "("
        low = "−∞" if self.low is None else f"{self.low:g}".replace("-", "−")
        high = "∞" if self.high is None else f"{self.high:g}"
        return f"{left}{low}, {high})"


def target_floor(targets: Any, output_activation: str, loss: str = "squared_error") -> TargetFloor:
    """The lowest loss an output layer with ``output_activation`` can reach on ``targets``.

    Parameters
    ----------
    targets : array of shape (n_samples,) or (n_samples, n_outputs)
    output_activation : a name in :data:`OUTPUT_RANGES`
    loss : "squared_error" (½‖y − t‖² per sample, the post's), "mse" or "huber": a loss of
        one term per entry, least where y = t

    Returns
    -------
    TargetFloor, with ``floor = L(clip(T, low, high), T)``
    """
    if loss not in ENTRYWISE:
        raise ValueError(f"loss {loss!r} has no clipped floor; expected {', '.join(ENTRYWISE)}")
    if output_activation not in OUTPUT_RANGES:
        raise ValueError(
            f"output_activation {output_activation!r} has no bounded range; expected one of "
            f"{', '.join(OUTPUT_RANGES)}"
        )
    T = np.asarray(targets, dtype=np.float64)
    T = T.reshape(len(T), -1)
    low, high = OUTPUT_RANGES[output_activation]
    clipped = np.clip(T, low, high)
    outside = clipped != T
    floor = loss_value(loss, clipped, T)
    shares = tuple(float(s) for s in outside.mean(axis=0))
    return TargetFloor(output_activation, low, high, floor, float(outside.mean()), shares)


def _percent_by_column(shares: tuple[float, ...]) -> str:
    if len(shares) == 1:
        return ""
    parts = [f"column {j}: {s:.0%}" for j, s in enumerate(shares) if s > 0]
    return f" ({', '.join(parts)})"


def target_range(run: Run) -> list[Finding]:
    """Targets outside the output activation's range, and the floor that forces."""
    activation = run.records.output_activation
    if run.records.loss not in ENTRYWISE or activation not in OUTPUT_RANGES or run.fitted:
        return []
    if run.targets is None:
        return _edge_pinned(run)
    found = target_floor(run.targets, activation, run.records.loss)
    if found.share == 0 or not found.floor > FLOOR_SHARE * run.baseline:
        return []
    ended = ""
    if run.losses and math.isfinite(run.losses[-1]):
        above = run.losses[-1] - found.floor
        ended = f"; the training loss ended at {run.losses[-1]:.3g}, {above:.2g} above it"
    message = (
        f"{found.share:.0%} of the targets lie outside {found.interval}, the range of its "
        f"{activation}{_percent_by_column(found.column_shares)}. An output can at best sit "
        f"at the nearest edge of the range, so the {run.records.loss} cannot fall below "
        f"{found.floor:.3g}, its value with the targets clipped into {found.interval}{ended}. "
        "No initialisation, learning rate or number of epochs removes that floor."
    )
    suggestion = (
        "use a linear output layer (activation='identity'), whose outputs can take any value; "
        f"or, if the outputs must stay in {found.interval}, rescale the targets into it"
    )
    columns = tuple(j for j, s in enumerate(found.column_shares) if s > 0)
    fix = {"output_activation": "identity"}
    return [Finding("target_range", run.output_label, message, suggestion, fix, columns)]


def _edge_pinned(run: Run) -> list[Finding]:
    """Without the targets: most outputs pinned at an edge of the range suggest targets
    beyond it (said as a likelihood, with how to measure it)."""
    edge = run.records.output_edge
    epochs = run.records.epoch
    last = [v for v, e in zip(edge, epochs) if e == epochs[-1]] if epochs else []
    share = float(np.nanmean(last)) if last and not np.isnan(last).all() else math.nan
    activation = run.records.output_activation
    if not share > EDGE_SHARE or activation not in _EDGES:
        return []
    interval = TargetFloor(activation, *OUTPUT_RANGES[activation], 0.0, 0.0, ()).interval
    message = (
        f"{share:.0%} of its outputs sit at the edge of the {activation}'s range "
        f"{interval} ({_EDGES[activation]}) at the end of training, with a regression loss: "
        "most likely many targets lie at or beyond the edge, where no output can reach them, "
        "and the loss has a floor it cannot go below. To measure it, give the targets to the "
        "monitor: TrainingMonitor(targets=y)."
    )
    suggestion = (
        f"use a linear output layer (activation='identity'), unless the targets are known to "
        f"lie inside {interval}"
    )
    fix = {"output_activation": "identity"}
    return [Finding("target_range", run.output_label, message, suggestion, fix)]


def target_scale(run: Run) -> list[Finding]:
    """A regression target far from unit scale behind a linear output layer."""
    if run.records.loss not in ENTRYWISE or run.records.output_activation != "identity":
        return []
    if run.fitted:
        return []
    if run.targets is not None:
        return _measured_scale(run, run.targets)
    return _scale_from_first_loss(run)


def _far(mean: float, std: float) -> bool:
    return std > SCALE_FACTOR or 0 < std < 1 / SCALE_FACTOR or abs(mean) > SCALE_FACTOR


def _measured_scale(run: Run, T: Array) -> list[Finding]:
    means, stds = T.mean(axis=0), T.std(axis=0)
    columns = tuple(j for j in range(T.shape[1]) if _far(means[j], stds[j]))
    if not columns:
        return []
    j = columns[0]
    which = f"column {j} has" if T.shape[1] > 1 else "it has"
    start = run.records.first_output_rms
    outputs = f" while the outputs start about {start:.2g} in size" if math.isfinite(start) else ""
    message = (
        f"the target is far from unit scale: {which} mean {means[j]:.4g} and standard "
        f"deviation {stds[j]:.4g}{outputs}. The weights must travel far from where their "
        "initialisation puts them before the outputs reach the targets, and every gradient "
        f"is scaled with the target (the {run.records.loss} is in its units squared)."
    )
    suggestion = (
        f"standardise the target: train on (y − {means[j]:.4g}) / {stds[j]:.4g} and predict "
        f"{means[j]:.4g} + {stds[j]:.4g} · output (keep the mean and scale with the model)"
    )
    fix = {"standardize_target": True}
    return [Finding("target_scale", run.output_label, message, suggestion, fix, columns)]


def _scale_from_first_loss(run: Run) -> list[Finding]:
    """Without the targets: the first batch's loss is the outputs' miss, ‖y − t‖, which is
    at least ‖t‖ − ‖y‖; far above the outputs' own size, the targets are large."""
    r = run.records
    k = max(r.n_outputs, 1)
    per_entry = {"mse": 1.0, "squared_error": 2.0 / k}.get(r.loss)
    if per_entry is None or not (math.isfinite(r.first_loss) and math.isfinite(r.first_output_rms)):
        return []
    miss = math.sqrt(per_entry * r.first_loss)  # RMS of y − t over the first batch
    if not miss - r.first_output_rms > SCALE_FACTOR:
        return []
    message = (
        f"the target is far from unit scale: the first batch's {r.loss} of {r.first_loss:.3g} "
        f"means the outputs missed the targets by about {miss:.3g} (root mean square) while "
        f"they were about {r.first_output_rms:.2g} in size, so the targets are about "
        f"{miss:.2g} in size. The weights must travel far before the outputs reach them, and "
        "every gradient is scaled with the target."
    )
    suggestion = (
        "standardise the target: train on (y − mean) / std and predict mean + std · output "
        "(keep the mean and scale with the model)"
    )
    return [
        Finding("target_scale", run.output_label, message, suggestion, {"standardize_target": True})
    ]


def explain_blog_floor(
    targets: Any,
    output_activation: str = "sigmoid",
    loss: str = "squared_error",
    final_loss: float | None = None,
) -> str:
    """Why the post's network stops where it does, in plain words and with its numbers.

    Parameters
    ----------
    targets : the post's labels, shape (n_samples, n_outputs) (one row per sample)
    output_activation : the last layer's activation (the post's: "sigmoid")
    loss : the post's ½‖y − t‖² per sample, "squared_error"
    final_loss : the last epoch's loss, if known: how far above the floor it ended

    Returns
    -------
    a paragraph: the share of targets outside the range, the floor, and what a linear
    output layer does instead
    """
    found = target_floor(targets, output_activation, loss)
    n, size = len(targets), np.size(targets)
    outside, ended = round(found.share * size), ""
    if final_loss is not None and math.isfinite(final_loss):
        ended = (
            f" The run ended at {final_loss:.3f}, {final_loss - found.floor:.3f} above that "
            f"floor: {min(found.floor / final_loss, 1):.0%} of what is left is the floor."
        )
    return (
        f"Why the post's network stops where it does: its last layer is a {output_activation}, "
        f"so every output lies in {found.interval}, but {found.share:.0%} of its targets "
        f"({outside} of the {size} numbers) lie outside that range. For those the best any "
        "weights can do is put the output at the nearest edge of the range, so part of the "
        f"loss can never go: with the targets clipped into {found.interval} the loss is "
        f"{found.floor:.3f}, and no network of this shape can go below it; no initialisation, "
        f"learning rate or number of epochs changes that.{ended} With a linear output layer "
        "(activation='identity') the outputs can take any value, the floor is 0, and the same "
        f"network memorises the {n} samples: its loss falls towards 0 (below 0.002 within 100 "
        "epochs in runs of the post's settings)."
    )
