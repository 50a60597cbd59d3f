"""Training diagnostics: watch each layer while ``fit`` runs, then name what went wrong.

:class:`TrainingMonitor` is a callback. At sample points (every ``every``-th step; by
default about 50 times an epoch) it reads, for each layer l with weights W_l, right after
the optimizer's step:

    gradient norm     ‖∇W_l‖                  (the gradient buffer still holds this step's)
    update ratio      ‖ΔW_l‖ / ‖W_l‖          (ΔW_l: this step's change; ~1e-3 is healthy)
    saturated share   sigmoid: o_l < 0.01 or o_l > 0.99;  tanh: |o_l| > 0.99
                      (there f'(a_l) < 0.02, so g ← g ⊙ f'(a_l) passes almost nothing back)
    dead units        ReLU units whose o_l was 0 for every sample seen in the epoch
                      (f'(a_l) = 0 for all of them: they get no gradient, ever)

The transforms o_l are those of the step's forward pass, before dropout. Layers are
numbered as the post numbers W_l: layer 1 is the first layer with weights.

:func:`diagnose` turns the records into :class:`Finding` s in plain words, each naming the
layer and the usual fix; :func:`format_findings` / :func:`print_findings` are the console
side. NumPy only.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np
from numpy.typing import NDArray

from .train import Callback

Array = NDArray[Any]

__all__ = [
    "Finding",
    "LayerInfo",
    "Records",
    "TrainingMonitor",
    "diagnose",
    "format_findings",
    "print_findings",
]

#: a layer whose gradient norm is below this fraction of the last layer's is "vanishing"
VANISHING_RATIO = 1e-2
#: gradient norms above this, or growing by this factor, or this much larger in the first
#: layer than in the last, are "exploding"
EXPLODING_NORM = 1e3
#: more than this share of a layer's outputs saturated, or of its ReLU units dead
UNHEALTHY_SHARE = 0.5
#: the loss rising this many times above its lowest epoch is "diverging"
DIVERGING_FACTOR = 10.0
SATURATING = {"sigmoid", "tanh"}


@dataclass(frozen=True)
class LayerInfo:
    """A layer with weights: ``number`` is the post's l of W_l, ``index`` its place in
    ``network.layers``."""

    number: int
    index: int
    kind: str
    n_in: int
    n_out: int
    activation: str
    size: int  # entries of W_l

    @property
    def label(self) -> str:
        return f"layer {self.number} ({self.kind} {self.n_in}→{self.n_out}, {self.activation})"


@dataclass
class Records:
    """What a :class:`TrainingMonitor` saw: plain lists, one entry per sample point
    (``[point][layer]`` for the per-layer values) or per epoch (dicts keyed by epoch)."""

    layers: list[LayerInfo] = field(default_factory=list)
    step: list[int] = field(default_factory=list)
    epoch: list[int] = field(default_factory=list)
    batch: list[int] = field(default_factory=list)
    initial_weight_norm: list[float] = field(default_factory=list)  # before training
    grad_norm: list[list[float]] = field(default_factory=list)
    weight_norm: list[list[float]] = field(default_factory=list)
    update_ratio: list[list[float]] = field(default_factory=list)
    saturated: list[list[float]] = field(default_factory=list)  # NaN: not sigmoid/tanh
    dead: dict[int, list[float]] = field(default_factory=dict)  # NaN: not ReLU
    epoch_logs: dict[int, dict[str, float]] = field(default_factory=dict)
    learning_rate: dict[int, float] = field(default_factory=dict)
    batches_per_epoch: int | None = None
    seconds: float = 0.0

    def array(self, name: str) -> Array:
        """A per-point list as a float array of shape (n_points, n_layers)."""
        values = getattr(self, name)
        return np.array(values, dtype=np.float64).reshape(len(values), len(self.layers))

    def positions(self) -> Array:
        """Each sample point's place in epochs: 1.0 is the end of the first epoch."""
        n = self.batches_per_epoch or (max(self.batch, default=0) + 1)
        return np.array(self.epoch, dtype=np.float64) + (np.array(self.batch) + 1.0) / n

    def per_epoch(
        self, name: str, reduce: Callable[..., Array] = np.nanmean
    ) -> tuple[list[int], Array]:
        """The epochs seen and a per-point value reduced over each (by default its mean,
        ignoring NaN), of shape (n_epochs, n_layers)."""
        values, epochs = self.array(name), np.array(self.epoch)
        seen = sorted(set(self.epoch))
        with _quietly():
            reduced = [reduce(values[epochs == e], axis=0) for e in seen]
        return seen, np.array(reduced, dtype=np.float64).reshape(len(seen), len(self.layers))


def _layer_infos(network: Any) -> list[LayerInfo]:
    infos: list[LayerInfo] = []
    for index, layer in enumerate(network.layers):
        W = getattr(layer, "W", None)
        if W is None or getattr(layer, "dW", None) is None:
            continue
        n_in = getattr(layer, "n_in", getattr(layer, "in_channels", W.shape[-1]))
        n_out = getattr(layer, "n_out", getattr(layer, "out_channels", W.shape[0]))
        activation = getattr(getattr(layer, "activation", None), "name", "identity")
        kind = type(layer).__name__
        infos.append(LayerInfo(len(infos) + 1, index, kind, n_in, n_out, activation, W.size))
    return infos


@contextlib.contextmanager
def _quietly() -> Iterator[None]:
    """No floating-point or all-NaN warnings: an exploding run overflows (and is recorded),
    and layers without a saturating activation have NaN shares."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _weight_segments(network: Any, layers: list[Any]) -> Array:
    """[start_1, stop_1, start_2, stop_2, ...]: where each W_l lies in the flat buffers."""
    bounds, offset = {}, 0
    for p in network.parameters():
        bounds[id(p)] = (offset, offset + p.size)
        offset += p.size
    return np.array([i for layer in layers for i in bounds[id(layer.W)]], dtype=np.intp)


def _segment_norms(flat: Array, segments: Array, squares: Array) -> list[float]:
    """‖flat[start_l:stop_l]‖ for each layer, in one pass and without BLAS (whose threads
    can cost far more than the sums between small training steps). ``squares`` is scratch
    space of ``flat.size + 1`` float64 entries, the last one 0."""
    np.square(flat, out=squares[:-1], dtype=np.float64)
    return np.sqrt(np.add.reduceat(squares, segments)[::2]).tolist()


class TrainingMonitor(Callback):
    """Record per-layer gradient norms, update ratios, saturated and dead units during ``fit``.

    Parameters
    ----------
    samples_per_epoch : int, default 50
        With ``every=None``, sample about this many steps per epoch (during the first
        epoch, whose length is not known yet, the stride doubles whenever it is reached).
    every : int, optional
        Sample every ``every``-th step instead.

    After ``fit``, :attr:`records` holds what was seen (:class:`Records`). The cost is one
    copy of the weights and a few reductions per sample point, nothing on other steps.
    """

    def __init__(self, samples_per_epoch: int = 50, every: int | None = None) -> None:
        for name, value in (("samples_per_epoch", samples_per_epoch), ("every", every)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        self.samples_per_epoch = samples_per_epoch
        self.fixed_every = every
        self.records = Records()

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self, logs: dict[str, float]) -> None:
        self.records = Records(layers=_layer_infos(self.network))
        self._layers: list[Any] = [self.network.layers[i.index] for i in self.records.layers]
        self._segments = _weight_segments(self.network, self._layers)
        self._previous = self.network.flat_parameters.copy()  # before the next step
        self._change = np.empty_like(self._previous)
        self._squares = np.zeros(self._previous.size + 1)
        self.records.initial_weight_norm = _segment_norms(
            self._previous, self._segments, self._squares
        )
        self._alive: list[Array | None] = [None] * len(self._layers)
        self._every = self.fixed_every or 1
        self._step = self._next_sample = 0
        self._epoch = 0
        self._start = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: dict[str, float]) -> None:
        self._epoch = epoch
        self._alive = [None] * len(self._layers)
        optimizer = getattr(self.network, "optimizer", None)
        if optimizer is not None:
            self.records.learning_rate[epoch] = float(optimizer.current_learning_rate())

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        step, self._step = self._step, self._step + 1
        if step == self._next_sample:
            with _quietly():
                self._sample(step, batch)
            self._schedule(step)
        if step + 1 == self._next_sample:
            np.copyto(self._previous, self.network.flat_parameters)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.records.epoch_logs[epoch] = dict(logs)
        if self.records.batches_per_epoch is None:
            self.records.batches_per_epoch = self._step  # the first epoch's length
            if self.fixed_every is None:
                self._every = max(1, -(-self._step // self.samples_per_epoch))
        self.records.seconds = time.perf_counter() - self._start

    def on_train_end(self, logs: dict[str, float]) -> None:
        self.records.seconds = time.perf_counter() - self._start

    # ------------------------------------------------------------------ sampling
    def _sample(self, step: int, batch: int) -> None:
        r = self.records
        r.step.append(step)
        r.epoch.append(self._epoch)
        r.batch.append(batch)
        flat, segments, squares = self.network.flat_parameters, self._segments, self._squares
        weights = _segment_norms(flat, segments, squares)
        np.subtract(flat, self._previous, out=self._change)
        changes = _segment_norms(self._change, segments, squares)
        r.grad_norm.append(_segment_norms(self.network.flat_gradients, segments, squares))
        r.weight_norm.append(weights)
        r.update_ratio.append([c / w if w > 0 else math.nan for c, w in zip(changes, weights)])
        r.saturated.append([_saturated_share(layer) for layer in self._layers])
        r.dead[self._epoch] = self._dead_shares()

    def _dead_shares(self) -> list[float]:
        """Per layer, the share of ReLU units that were 0 for every sample this epoch."""
        shares = []
        for i, layer in enumerate(self._layers):
            o = layer.transforms
            if layer.activation.name != "relu" or o is None:
                shares.append(math.nan)
                continue
            alive = (o.reshape(len(o), -1) > 0).any(axis=0)
            previous = self._alive[i]
            if previous is not None:
                alive |= previous
            self._alive[i] = alive
            shares.append(1.0 - float(np.mean(alive)))
        return shares

    def _schedule(self, step: int) -> None:
        """Set the next sample point; in the first epoch, double the stride when the
        epoch already has ``samples_per_epoch`` points, and keep every other one."""
        r = self.records
        first_epoch = r.batches_per_epoch is None
        if first_epoch and self.fixed_every is None and len(r.step) >= self.samples_per_epoch:
            self._every *= 2
            keep = [i for i, s in enumerate(r.step) if s % self._every == 0]
            r.step, r.epoch, r.batch = ([v[i] for i in keep] for v in (r.step, r.epoch, r.batch))
            r.grad_norm, r.weight_norm, r.update_ratio, r.saturated = (
                [v[i] for i in keep]
                for v in (r.grad_norm, r.weight_norm, r.update_ratio, r.saturated)
            )
            self._next_sample = (step // self._every + 1) * self._every
        else:
            self._next_sample = step + self._every


def _saturated_share(layer: Any) -> float:
    """Share of the outputs o in the flat tails of a sigmoid or tanh; NaN for others."""
    o = layer.transforms
    name = layer.activation.name
    if o is None or name not in SATURATING:
        return math.nan
    if name == "sigmoid":
        flat = np.count_nonzero(o < 0.01) + np.count_nonzero(o > 0.99)
    else:
        flat = np.count_nonzero(np.abs(o) > 0.99)
    return flat / o.size


# ---------------------------------------------------------------------- diagnosis
@dataclass(frozen=True)
class Finding:
    """One problem, in plain words: ``kind`` is "divergence", "exploding", "dead",
    "saturation" or "vanishing"; ``layer`` names the layer (None: the whole network)."""

    kind: str
    layer: str | None
    message: str
    suggestion: str

    def __str__(self) -> str:
        where = f"{self.layer}: " if self.layer else ""
        return f"{where}{self.message}\n    fix: {self.suggestion}"


def _lower_rate(records: Records) -> str:
    """'lower the learning rate (now 0.5)', with the rate of the first epoch seen."""
    rates = [records.learning_rate[e] for e in sorted(records.learning_rate)]
    return "lower the learning rate" + (f" (now {rates[0]:g})" if rates else "")


def _large_weights(records: Records, i: int, fan: str) -> str | None:
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


def _epoch_losses(records: Records, history: Any) -> list[float]:
    if history is not None:
        return list(history.history.get("loss", []))
    return [records.epoch_logs[e].get("loss", math.nan) for e in sorted(records.epoch_logs)]


def _divergence(records: Records, history: Any, error: BaseException | None) -> list[Finding]:
    fix = (
        f"{_lower_rate(records)}, e.g. ten times; clip gradients "
        "(clip_norm=1.0 on the optimizer); scale inputs and targets to about unit size"
    )
    losses = _epoch_losses(records, history)
    if error is not None or not all(math.isfinite(v) for v in losses):
        what = str(error).split(";")[0] if error is not None else "the loss became inf or NaN"
        return [Finding("divergence", None, f"training diverged: {what}.", fix)]
    if len(losses) >= 2:
        low = int(np.argmin(losses))
        if losses[-1] > DIVERGING_FACTOR * losses[low] and losses[low] > 0:
            message = (
                f"the loss is diverging: it rose from {losses[low]:.3g} (epoch {low + 1}) "
                f"to {losses[-1]:.3g} (epoch {len(losses)})."
            )
            return [Finding("divergence", None, message, fix)]
    return []


def _exploding_fix(records: Records, i: int) -> str:
    init = (
        "use He initialisation for ReLU (init='he_uniform'), Glorot for sigmoid/tanh "
        "(init='glorot_uniform')"
    )
    rest = (
        f"{_lower_rate(records)}; clip gradients (clip_norm=1.0 on the optimizer); "
        "scale inputs and targets to about unit size"
    )
    relu = records.layers[i].activation == "relu"
    large = _large_weights(records, i, "he" if relu else "glorot")
    return f"{large}: {init}; {rest}" if large else f"{rest}; {init}"


def _exploding(records: Records, grads: Array) -> list[Finding]:
    """Gradient norms that are huge, grow a thousandfold, or grow flowing backward."""
    with _quietly():
        peak = np.where(np.isnan(grads), -np.inf, grads)
        point, layer = (int(i) for i in np.unravel_index(int(np.argmax(peak)), grads.shape))
        top = grads[point, layer]
        epochs = np.array(records.epoch)
        first = np.nanmedian(grads[epochs == epochs[0]], axis=0)
        last = np.nanmedian(grads[epochs == epochs[-1]], axis=0)
        growth = np.nan_to_num(last / first, nan=0.0, posinf=0.0)
        depth = float(np.nanmedian(grads[:, 0] / grads[:, -1]))
    worst = int(np.argmax(growth))
    if not math.isfinite(top) or top > EXPLODING_NORM:
        message = (
            f"the gradient is exploding: ‖∇W‖ reached {top:.3g} in epoch "
            f"{records.epoch[point] + 1}, from {grads[0, layer]:.3g} at the start."
        )
    elif growth[worst] > EXPLODING_NORM:
        layer = worst
        message = (
            f"the gradient is exploding: ‖∇W‖ grew {growth[worst]:.3g} times, from "
            f"{first[worst]:.3g} in the first epoch to {last[worst]:.3g} in the last."
        )
    elif len(records.layers) > 1 and depth > EXPLODING_NORM:
        layer = 0
        message = (
            f"the gradient grows as it flows back: ‖∇W‖ here is {depth:.3g} times the last "
            "layer's (median over training)."
        )
    else:
        return []
    return [
        Finding("exploding", records.layers[layer].label, message, _exploding_fix(records, layer))
    ]


def _shares(records: Records) -> list[Finding]:
    """Saturated sigmoid/tanh outputs and dead ReLU units, in the last epoch seen."""
    findings: list[Finding] = []
    if not records.epoch:
        return findings
    last = records.epoch[-1]
    with _quietly():
        saturated = np.nanmean(records.array("saturated")[np.array(records.epoch) == last], 0)
    dead = records.dead.get(last, [math.nan] * len(records.layers))
    for i, info in enumerate(records.layers):
        share = saturated[i]
        if share > UNHEALTHY_SHARE:
            findings.append(_saturation_finding(records, i, share))
        if dead[i] > UNHEALTHY_SHARE:
            message = (
                f"{dead[i]:.0%} of its ReLU units are dead: they output 0 for every sample "
                f"seen in epoch {last + 1}, so f'(a) = 0 and they never get a gradient again."
            )
            fix = (
                f"{_lower_rate(records)}; use He initialisation (init='he_uniform') with zero "
                "biases; or activation='leaky_relu' or 'elu'"
            )
            findings.append(Finding("dead", info.label, message, fix))
    return findings


def _saturation_finding(records: Records, i: int, share: float) -> Finding:
    info = records.layers[i]
    tails = "below 0.01 or above 0.99" if info.activation == "sigmoid" else "beyond ±0.99"
    message = (
        f"{share:.0%} of its outputs are saturated ({tails}, in the last epoch), where "
        f"f'(a) < 0.02: g ← g ⊙ f'(a) passes almost nothing back, so these units barely learn."
    )
    large = _large_weights(records, i, "glorot")
    if large:
        fix = (
            f"{large}: use init='glorot_uniform' (Dense's default for sigmoid/tanh), or "
            "better, ReLU with He initialisation (activation='relu', init='he_uniform')"
        )
    else:
        fix = (
            "scale the inputs to about unit size; use ReLU with He initialisation "
            f"(activation='relu', init='he_uniform'); {_lower_rate(records)}"
        )
    return Finding("saturation", info.label, message, fix)


def _vanishing(records: Records, grads: Array) -> list[Finding]:
    """Layers whose gradient is a tiny fraction of the last layer's (median over training)."""
    layers = records.layers
    with _quietly():
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
        if info.activation in SATURATING:
            fix = (
                "use ReLU with He initialisation (activation='relu', init='he_uniform'); "
                "fewer sigmoid/tanh layers; an adaptive optimizer (Adam) lessens the effect"
            )
        else:
            fix = (
                "use He initialisation for ReLU (init='he_uniform'), Glorot otherwise; look "
                "for dead or saturated units in the layers above; try Adam"
            )
        result.append(Finding("vanishing", info.label, message, fix))
    return result


def diagnose(
    monitor: TrainingMonitor | Records, history: Any = None, *, error: BaseException | None = None
) -> list[Finding]:
    """The problems a :class:`TrainingMonitor` saw, most serious first.

    Parameters
    ----------
    monitor : TrainingMonitor or its Records
    history : History, optional
        ``fit``'s; without it the epoch losses the monitor saw are used.
    error : exception, optional
        The :class:`~cartoonbrain.train.TrainingDiverged` that stopped ``fit``, if any.

    Returns
    -------
    list of Finding, kinds in the order divergence, exploding, dead/saturation, vanishing
    """
    records = monitor.records if isinstance(monitor, TrainingMonitor) else monitor
    findings = _divergence(records, history, error)
    if not records.step or not records.layers:
        return findings
    grads = records.array("grad_norm")
    findings += _exploding(records, grads)
    findings += _shares(records)
    if len(records.layers) > 1:
        findings += _vanishing(records, grads)
    return findings


def format_findings(findings: list[Finding]) -> str:
    """The findings as console text: a headline, then each finding and its fix."""
    if not findings:
        return "diagnostics: no problems found (gradient norms, saturated and dead units, the loss)"
    count = f"{len(findings)} problem{'s' if len(findings) > 1 else ''}"
    lines = [f"diagnostics: {count} found"]
    lines += [f"  [{f.kind}] {f}" for f in findings]
    return "\n".join(lines)


def print_findings(findings: list[Finding], file: TextIO | None = None) -> None:
    """Print :func:`format_findings` to ``file`` (default stdout)."""
    print(format_findings(findings), file=file or sys.stdout, flush=True)
