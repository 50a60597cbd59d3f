"""Stochastic gradient descent, the post's ``W ← W − lr ∇W``, with momentum and Nesterov."""

from __future__ import annotations

from .. import _kernels
from .._validation import fraction as _fraction
from .base import Array, Optimizer, _rounded, _subtract_scaled, register_optimizer
from .schedules import Schedule

__all__ = ["SGD"]


@register_optimizer
class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum (PyTorch's formulation).

        d ← g + λ w                      (weight_decay λ: coupled L2)
        v ← μ v + d                      (momentum μ > 0; v starts at 0, so v₁ = d)
        w ← w − lr d                     (μ = 0)
        w ← w − lr v                     (μ > 0)
        w ← w − lr (d + μ v)             (nesterov)

    State: ``velocity.<i>`` when momentum > 0.
    """

    name = "sgd"

    def __init__(
        self,
        learning_rate: float | Schedule = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
    ) -> None:
        super().__init__(learning_rate, weight_decay, clip_norm)
        self.momentum = _fraction("momentum", momentum)
        if nesterov and self.momentum == 0:
            raise ValueError(f"nesterov=True needs momentum > 0; got momentum={momentum!r}")
        self.nesterov = bool(nesterov)
        self.buffer_names = ("velocity",) if self.momentum > 0 else ()

    def _update(self, i: int, w: Array, g: Array, learning_rate: float) -> None:
        if self._fused(i, w, g, learning_rate):
            return
        work = self._work[i]
        d = self._gradient(i, w, g)
        if not self.momentum:
            _subtract_scaled(w, d, learning_rate, work)
            return
        v = self._state["velocity"][i]
        v *= self.momentum
        v += d
        if not self.nesterov:
            _subtract_scaled(w, v, learning_rate, work)
            return
        _subtract_scaled(w, d, learning_rate, work)
        _subtract_scaled(w, v, learning_rate * self.momentum, work)

    def _fused(self, i: int, w: Array, g: Array, learning_rate: float) -> bool:
        """The same update as one compiled pass (the accelerator's), if it can take it."""
        kernel = _kernels.get("sgd", w.size)
        velocity = self._state["velocity"][i] if self.momentum else w
        if kernel is None or not _kernels.fits(w, g, velocity):
            return False
        scalars = (learning_rate, self.weight_decay, self.momentum, learning_rate * self.momentum)
        kernel(w, g, velocity, *_rounded(scalars, w), bool(self._decayed), self.nesterov)
        return True
