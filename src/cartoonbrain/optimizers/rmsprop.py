"""RMSprop: each gradient divided by a running root mean square of its recent values."""

from __future__ import annotations

import numpy as np

from .. import _kernels
from .._validation import fraction as _fraction
from .._validation import positive as _positive
from .base import Array, Optimizer, _rounded, _subtract_scaled, register_optimizer
from .schedules import Schedule

__all__ = ["RMSprop"]


@register_optimizer
class RMSprop(Optimizer):
    """Divide each gradient by a running root mean square of its recent values.

        d ← g + λ w                      (weight_decay λ: coupled L2)
        s ← ρ s + (1 − ρ) d²
        w ← w − lr d / (√s + ε)          (momentum μ = 0)
        b ← μ b + d / (√s + ε);  w ← w − lr b     (μ > 0)

    State: ``square_average.<i>``, and ``momentum_buffer.<i>`` when momentum > 0.
    """

    name = "rmsprop"

    def __init__(
        self,
        learning_rate: float | Schedule = 0.001,
        rho: float = 0.9,
        epsilon: float = 1e-7,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
    ) -> None:
        super().__init__(learning_rate, weight_decay, clip_norm)
        self.rho = _fraction("rho", rho)
        self.epsilon = _positive("epsilon", epsilon)
        self.momentum = _fraction("momentum", momentum)
        names = ("square_average", "momentum_buffer")
        self.buffer_names = names if self.momentum > 0 else names[:1]

    def _update(self, i: int, w: Array, g: Array, learning_rate: float) -> None:
        if self._fused(i, w, g, learning_rate):
            return
        work = self._work[i]
        d = self._gradient(i, w, g)
        s = self._state["square_average"][i]
        np.multiply(d, d, out=work)
        work *= 1.0 - self.rho
        s *= self.rho
        s += work  # s ← ρ s + (1 − ρ) d²
        np.sqrt(s, out=work)
        work += self.epsilon
        np.divide(d, work, out=work)  # d / (√s + ε)
        if not self.momentum:
            _subtract_scaled(w, work, learning_rate, work)
            return
        b = self._state["momentum_buffer"][i]
        b *= self.momentum
        b += work
        _subtract_scaled(w, b, learning_rate, work)

    def _fused(self, i: int, w: Array, g: Array, learning_rate: float) -> bool:
        """The same update as one compiled pass (the accelerator's), if it can take it."""
        kernel = _kernels.get("rmsprop", w.size)
        s = self._state["square_average"][i]
        b = self._state["momentum_buffer"][i] if self.momentum else s
        if kernel is None or not _kernels.fits(w, g, s, b):
            return False
        rho, decay = self.rho, self.weight_decay
        scalars = (learning_rate, decay, rho, 1.0 - rho, self.epsilon, self.momentum)
        kernel(w, g, s, b, *_rounded(scalars, w), bool(self._decayed))
        return True
