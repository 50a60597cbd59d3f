"""The training monitor: a callback that watches each layer while ``fit`` runs.

At sample points (every ``every``-th step; by default about 50 times an epoch) it reads,
for each layer l with weights W_l, right after the optimizer's step:

    gradient norm     ‖∇W_l‖                  (the gradient buffer still holds this step's)
    update ratio      ‖ΔW_l‖ / ‖W_l‖          (ΔW_l: this step's change; ~1e-3 is healthy)
    saturated share   sigmoid: o_l < 0.01 or o_l > 0.99;  tanh: |o_l| > 0.99
                      (there f'(a_l) < 0.02, so g ← g ⊙ f'(a_l) passes almost nothing back)
    dead units        ReLU units whose o_l was 0 for every sample seen in the epoch
                      (f'(a_l) = 0 for all of them: they get no gradient, ever)
    output at edge    the share of the last layer's outputs y within 5% of the range's
                      width of an edge: sigmoid y < 0.05 or y > 0.95, tanh |y| > 0.9,
                      ReLU y = 0 (a regression whose targets lie beyond the range pins them)

and, at the first step (before any update): the batch's loss, and the root mean square of
its inputs, of each layer's transforms and of its outputs. The transforms o_l are those of
the step's forward pass, before dropout. Layers are numbered as the post numbers W_l:
layer 1 is the first layer with weights. The targets, when given, are kept as they are
for the checks that need them (:mod:`.targets`).
"""

from __future__ import annotations

import contextlib
import math
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import is_integer
from ..train import Callback

Array = NDArray[Any]

__all__ = ["LayerInfo", "Records", "TrainingMonitor"]

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
    (``[point][layer]`` for the per-layer values) or per epoch (dicts keyed by epoch).

    ``loss`` is the loss's name, ``classification`` whether its targets are classes,
    ``output_activation`` the activation the network's outputs pass through (the loss's
    own softmax or sigmoid for the cross-entropy losses). ``first_loss``,
    ``first_output_rms``, ``first_input_rms``, ``first_batch_size`` and
    ``first_transform_rms`` (per layer) describe the first batch, before any update (NaN,
    0, [] when not seen). ``targets`` are the training targets
    given to the monitor, as a float array of shape (n_samples, n_outputs), or None.
    ``optimizer`` is the optimizer's name, so that no fix suggests what the run uses.
    """

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
    output_edge: list[float] = field(default_factory=list)  # NaN: an unbounded output
    batch_loss: list[float] = field(default_factory=list)
    epoch_logs: dict[int, dict[str, float]] = field(default_factory=dict)
    learning_rate: dict[int, float] = field(default_factory=dict)
    batches_per_epoch: int | None = None
    seconds: float = 0.0
    loss: str = ""
    classification: bool = False
    output_activation: str = "identity"
    n_outputs: int = 0
    first_loss: float = math.nan
    first_output_rms: float = math.nan
    first_input_rms: float = math.nan
    first_batch_size: int = 0
    first_transform_rms: list[float] = field(default_factory=list)
    targets: Array | None = None
    optimizer: str = ""  # the optimizer's registered name ("sgd", "adam"), "" if unknown

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
        with quietly():
            reduced = [reduce(values[epochs == e], axis=0) for e in seen]
        return seen, np.array(reduced, dtype=np.float64).reshape(len(seen), len(self.layers))

    def last_epoch(self, name: str) -> Array:
        """A per-point value's median over the last epoch seen, per layer (NaN ignored)."""
        if not self.epoch:
            return np.full(len(self.layers), math.nan)
        values = self.array(name)[np.array(self.epoch) == self.epoch[-1]]
        with quietly():
            return np.asarray(np.nanmedian(values, axis=0), dtype=np.float64)


@contextlib.contextmanager
def quietly() -> Iterator[None]:
    """No floating-point or all-NaN warnings: an exploding run overflows (and is recorded),
    and layers without a saturating activation have NaN shares."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


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


def _rms(values: Any) -> float:
    if values is None or np.size(values) == 0:
        return math.nan
    with quietly():
        return float(np.sqrt(np.mean(np.square(values, dtype=np.float64))))


def _as_targets(targets: ArrayLike | None) -> Array | None:
    """Targets as float64 of shape (n_samples, n_outputs); class ids stay one column."""
    if targets is None:
        return None
    t = np.asarray(targets)
    if t.dtype.kind not in "biuf" or t.ndim == 0:
        raise ValueError(f"targets must be numbers, one row per sample; got {t.dtype}, {t.shape}")
    return np.array(t.reshape(len(t), -1), dtype=np.float64)


class TrainingMonitor(Callback):
    """Record per-layer gradient norms, update ratios, saturated and dead units during ``fit``.

    Parameters
    ----------
    samples_per_epoch : int, default 50
        With ``every=None``, sample about this many steps per epoch (during the first
        epoch, whose length is not known yet, the stride doubles whenever it is reached).
    every : int, optional
        Sample every ``every``-th step instead.
    targets : array of shape (n_samples,) or (n_samples, n_outputs), optional
        The training targets ``y`` given to ``fit``. With them :func:`.diagnose` also
        checks them against the output layer's range and their scale (a callback does
        not see the data otherwise).

    After ``fit``, :attr:`records` holds what was seen (:class:`Records`). The cost is one
    copy of the weights and a few reductions per sample point, nothing on other steps.
    """

    def __init__(
        self,
        samples_per_epoch: int = 50,
        every: int | None = None,
        *,
        targets: ArrayLike | None = None,
    ) -> None:
        for name, value in (("samples_per_epoch", samples_per_epoch), ("every", every)):
            if value is not None and not (is_integer(value) and value > 0):
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        self.samples_per_epoch = int(samples_per_epoch)
        self.fixed_every = None if every is None else int(every)
        self.targets = _as_targets(targets)
        self.records = Records(targets=self.targets)

    def get_config(self) -> dict[str, Any]:
        """The sampling settings as JSON data (the targets, an array, are not part of it)."""
        return {
            "name": type(self).__name__,
            "samples_per_epoch": self.samples_per_epoch,
            "every": self.fixed_every,
        }

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self, logs: dict[str, float]) -> None:
        self.records = Records(layers=_layer_infos(self.network), targets=self.targets)
        self._describe_network()
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

    def _describe_network(self) -> None:
        """The loss, its kind and the activation the outputs pass through."""
        r, loss = self.records, self.network.loss
        r.loss, r.classification = loss.name, bool(loss.classification)
        own = getattr(loss, "output_activation", None)
        r.output_activation = own or (r.layers[-1].activation if r.layers else "identity")
        r.n_outputs = int(np.prod(self.network.output_shape or (0,)))

    def on_epoch_begin(self, epoch: int, logs: dict[str, float]) -> None:
        self._epoch = epoch
        self._alive = [None] * len(self._layers)
        optimizer = getattr(self.network, "optimizer", None)
        if optimizer is not None:
            self.records.learning_rate[epoch] = float(optimizer.current_learning_rate())
            self.records.optimizer = str(getattr(optimizer, "name", "") or "")

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        step, self._step = self._step, self._step + 1
        if step == 0:
            self._first_batch(logs)
        if step == self._next_sample:
            with quietly():
                self._sample(step, batch, logs)
            self._schedule(step)
        if step + 1 == self._next_sample:
            np.copyto(self._previous, self.network.flat_parameters)

    def _first_batch(self, logs: dict[str, float]) -> None:
        """The first batch's loss and the size of its outputs and inputs, before any update."""
        r = self.records
        r.first_loss = float(logs.get("loss", math.nan))
        if self._layers:
            r.first_output_rms = _rms(getattr(self._layers[-1], "transforms", None))
            inputs = getattr(self._layers[0], "o_prev", None)
            r.first_input_rms = _rms(inputs)
            r.first_batch_size = 0 if inputs is None else len(inputs)
            r.first_transform_rms = [_rms(layer.transforms) for layer in self._layers]

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
    def _sample(self, step: int, batch: int, logs: dict[str, float]) -> None:
        r = self.records
        r.step.append(step)
        r.epoch.append(self._epoch)
        r.batch.append(batch)
        r.batch_loss.append(float(logs.get("loss", math.nan)))
        flat, segments, squares = self.network.flat_parameters, self._segments, self._squares
        weights = _segment_norms(flat, segments, squares)
        np.subtract(flat, self._previous, out=self._change)
        changes = _segment_norms(self._change, segments, squares)
        r.grad_norm.append(_segment_norms(self.network.flat_gradients, segments, squares))
        r.weight_norm.append(weights)
        r.update_ratio.append([c / w if w > 0 else math.nan for c, w in zip(changes, weights)])
        r.saturated.append([saturated_share(layer) for layer in self._layers])
        r.output_edge.append(edge_share(self._layers[-1], r.output_activation))
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
            for name in _PER_POINT:
                values = getattr(r, name)
                setattr(r, name, [values[i] for i in keep])
            self._next_sample = (step // self._every + 1) * self._every
        else:
            self._next_sample = step + self._every


#: the Records lists with one entry per sample point
_PER_POINT = (
    "step",
    "epoch",
    "batch",
    "batch_loss",
    "grad_norm",
    "weight_norm",
    "update_ratio",
    "saturated",
    "output_edge",
)


def saturated_share(layer: Any) -> float:
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


def edge_share(layer: Any, activation: str) -> float:
    """Share of the output layer's y within 5% of the range's width of an edge:
    sigmoid y < 0.05 or y > 0.95; tanh |y| > 0.9; ReLU y = 0. NaN for other outputs
    (and for the cross-entropy losses, whose layer gives logits)."""
    y = getattr(layer, "transforms", None)
    name = getattr(getattr(layer, "activation", None), "name", None)
    if y is None or name != activation or y.size == 0:
        return math.nan
    if name == "sigmoid":
        return (np.count_nonzero(y < 0.05) + np.count_nonzero(y > 0.95)) / y.size
    if name == "tanh":
        return np.count_nonzero(np.abs(y) > 0.9) / y.size
    if name == "relu":
        return np.count_nonzero(y <= 0) / y.size
    return math.nan
