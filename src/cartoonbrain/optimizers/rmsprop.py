"""RMSprop: each gradient divided by a running root mean square of its recent values."""

from __future__ import annotations

import numpy as np

from .. import _kernels
from .._validation import fraction as _fraction
from .._validation import positive as _positive
from .base import Array, Optimizer, _rounded, _subtract_scaled, register_optimizer
from .formula import RateRatio, check_formula
from .schedules import Schedule

__all__ = ["RMSprop"]


@register_optimizer
class RMSprop(Optimizer):
    """Divide each gradient by a running root mean square of its recent values: Keras's
    ``RMSprop``, defaults and update rule (``learning_rate=0.001``, ``rho=0.9``,
    ``epsilon=1e-7``, ``momentum=0``, ``centered=False``).

        d ← g + λ w                      (weight_decay λ: coupled L2, as PyTorch's)
        s ← ρ s + (1 − ρ) d²
        ḡ ← ρ ḡ + (1 − ρ) d;  s' = s − ḡ²          (centered; else s' = s)
        u = d / √(s' + ε)                (formula="keras")
        u = d / (√s' + ε)                (formula="pytorch", torch.optim.RMSprop's)
        w ← w − lr u                     (momentum μ = 0)
        b ← μ b + u;  w ← w − lr b       (μ > 0)

    Keras keeps lr inside its momentum buffer (b_K ← μ b_K + lr u, w ← w − b_K); here b
    = b_K / lr, so with a schedule the Keras formula carries b as μ (lr_prev / lr) b (see
    :mod:`.formula`). For ``torch.optim.RMSprop`` from its defaults give
    ``RMSprop(0.01, rho=0.99, epsilon=1e-8, formula="pytorch")``.

    State: ``square_average.<i>``, ``momentum_buffer.<i>`` when momentum > 0,
    ``average_gradient.<i>`` when centered.
    """

    name = "rmsprop"
    formula = "pytorch"  # the rule of an RMSprop pickled before `formula` (new ones: keras)
    centered = False

    def __init__(
        self,
        learning_rate: float | Schedule = 0.001,
        rho: float = 0.9,
        epsilon: float = 1e-7,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
        clip_value: float | None = None,
        centered: bool = False,
        formula: str = "keras",
    ) -> None:
        super().__init__(learning_rate, weight_decay, clip_norm, clip_value)
        self.rho = _fraction("rho", rho)
        self.epsilon = _positive("epsilon", epsilon)
        self.momentum = _fraction("momentum", momentum)
        self.centered = bool(centered)
        self.formula = check_formula(formula)
        names = ["square_average"]
        names += ["momentum_buffer"] if self.momentum > 0 else []
        names += ["average_gradient"] if self.centered else []
        self.buffer_names = tuple(names)
        self._ratio = RateRatio(self.formula)

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
        if self.centered:
            mean = self._state["average_gradient"][i]
            np.multiply(d, 1.0 - self.rho, out=work)
            mean *= self.rho
            mean += work  # ḡ ← ρ ḡ + (1 − ρ) d
            np.multiply(mean, mean, out=work)
            np.subtract(s, work, out=work)  # s' = s − ḡ²
        spread = work if self.centered else s  # s'
        if self.formula == "keras":
            np.add(spread, self.epsilon, out=work)
            np.sqrt(work, out=work)  # √(s' + ε)
        else:
            np.sqrt(spread, out=work)
            work += self.epsilon  # √s' + ε
        np.divide(d, work, out=work)  # u
        if not self.momentum:
            _subtract_scaled(w, work, learning_rate, work)
            return
        b = self._state["momentum_buffer"][i]
        ratio = (
            1.0
            if self.formula == "pytorch"
            else self._ratio(self.iterations, learning_rate, self.learning_rate)
        )
        b *= self.momentum * ratio
        b += work
        _subtract_scaled(w, b, learning_rate, work)

    def _fused(self, i: int, w: Array, g: Array, learning_rate: float) -> bool:
        """The uncentered update as one compiled pass (the accelerator's), if it can take
        the arrays: the same operations as the NumPy code, so the same bits."""
        kernel = _kernels.get("rmsprop", w.size)
        if kernel is None or self.centered:
            return False
        s = self._state["square_average"][i]
        b = self._state["momentum_buffer"][i] if self.momentum else s
        if not _kernels.fits(w, g, s, b):
            return False
        rho, decay, momentum = self.rho, self.weight_decay, self.momentum
        if momentum and self.formula == "keras":
            momentum *= self._ratio(self.iterations, learning_rate, self.learning_rate)
        scalars = (learning_rate, decay, rho, 1.0 - rho, self.epsilon, momentum)
        flags = (bool(self._decayed), self.formula == "keras")
        kernel(w, g, s, b, *_rounded(scalars, w), *flags)
        return True
