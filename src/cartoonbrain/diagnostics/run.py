"""What every check reads: the monitor's records, the loss curves and the targets, with the
few numbers derived from them that several checks share (:class:`Run`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ..losses import get_loss
from .monitor import Array, Records

__all__ = ["FITTED", "GOOD", "Run", "loss_value"]

#: a training loss below this fraction of the baseline's has fitted the training data: a
#: saturated or dead unit there costs nothing on the training loss
FITTED = 0.01
#: a training loss below this fraction of the baseline's is good: the network learned most
#: of what a constant prediction leaves (R² > 0.9 for a regression)
GOOD = 0.1
#: the first batch's loss stands for the loss before training from this many rows on
RELIABLE_BATCH = 32


@dataclass
class Run:
    """One training run as the checks see it.

    Parameters
    ----------
    records : what the TrainingMonitor saw
    losses, val_losses : the training and validation loss per epoch (val: maybe empty)
    error : the TrainingDiverged that stopped ``fit``, if any
    targets : the training targets, float of shape (n_samples, n_outputs), or None
    """

    records: Records
    losses: list[float]
    val_losses: list[float]
    error: BaseException | None = None
    targets: Array | None = None

    @classmethod
    def of(
        cls, records: Records, history: Any, error: BaseException | None, targets: Array | None
    ) -> Run:
        """The run from the records and ``fit``'s History (else the epochs the monitor saw)."""
        if history is not None:
            logs: dict[str, list[float]] = dict(history.history)
        else:
            logs = {}
            for epoch in sorted(records.epoch_logs):
                for key, value in records.epoch_logs[epoch].items():
                    logs.setdefault(key, []).append(float(value))
        losses = [float(v) for v in logs.get("loss", [])]
        val = [float(v) for v in logs.get("val_loss", [])]
        return cls(records, losses, val, error, targets)

    @property
    def regression(self) -> bool:
        return bool(self.records.loss) and not self.records.classification

    @property
    def rate(self) -> float | None:
        """The learning rate of the first epoch seen, the one a run sets (None if unknown)."""
        rates = self.records.learning_rate
        return rates[min(rates)] if rates else None

    def rate_text(self) -> str:
        """'(now 0.5)' with the current learning rate, or ''."""
        return f" (now {self.rate:g})" if self.rate is not None else ""

    @cached_property
    def reference(self) -> float:
        """The loss before training: the first batch's, when it has RELIABLE_BATCH rows or
        is the whole epoch; else the first epoch's (a batch of a few rows is too noisy)."""
        r = self.records
        whole = r.batches_per_epoch == 1 or r.first_batch_size >= RELIABLE_BATCH
        if math.isfinite(r.first_loss) and (whole or not self.losses):
            return r.first_loss
        return self.losses[0] if self.losses else math.nan

    @cached_property
    def baseline(self) -> float:
        """The loss of the best constant prediction when the targets of a regression are
        known (the mean of each column), else the loss before training."""
        if self.targets is None or not self.regression:
            return self.reference
        T = self.targets
        value = loss_value(self.records.loss, np.broadcast_to(T.mean(axis=0), T.shape), T)
        return value if math.isfinite(value) else self.reference

    def below(self, fraction: float) -> bool:
        """The training loss ended below ``fraction`` of the baseline's."""
        if not self.losses or not math.isfinite(self.losses[-1]):
            return False
        return self.losses[-1] <= fraction * self.baseline

    @property
    def fitted(self) -> bool:
        """The training loss ended below FITTED of the baseline: the data is fitted."""
        return self.below(FITTED)

    @property
    def good(self) -> bool:
        """The training loss ended below GOOD of the baseline."""
        return self.below(GOOD)

    @property
    def output_label(self) -> str | None:
        layers = self.records.layers
        return layers[-1].label if layers else None


def loss_value(loss: str, Y: Any, T: Array) -> float:
    """The loss ``loss`` (a registered name) of outputs Y for targets T, both of shape
    (n_samples, n_outputs), in float64; NaN for a loss that is not registered."""
    try:
        function = get_loss(loss)
    except ValueError:
        return math.nan
    return float(function(np.array(Y, dtype=np.float64), np.array(T, dtype=np.float64)))
