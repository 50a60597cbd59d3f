"""Stochastic gradient descent, the post's ``W ← W − lr ∇W``, with momentum and Nesterov."""

from __future__ import annotations

from .. import _kernels
from .._validation import fraction as _fraction
from .base import Array, Optimizer, _rounded, _subtract_scaled, register_optimizer
from .formula import RateRatio, check_formula
from .schedules import Schedule

__all__ = ["SGD"]


@register_optimizer
class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum: Keras's ``SGD``, defaults and
    update rule (``learning_rate=0.01``, ``momentum=0``, ``nesterov=False``).

        d ← g + λ w                      (weight_decay λ: coupled L2, as PyTorch's)
        w ← w − lr d                     (μ = 0)
        m ← μ m − lr d;  w ← w + m       (momentum μ > 0, ``formula="keras"``; m₀ = 0)
        w ← w + μ m − lr d               (nesterov, ``formula="keras"``)

    ``formula="pytorch"`` is ``torch.optim.SGD``'s rule (dampening 0), whose velocity
    leaves the rate out: v ← μ v + d, w ← w − lr v, or w ← w − lr (d + μ v) with nesterov.
    The two agree while the rate is constant (then m = −lr v) and differ when a schedule
    changes it. Both keep the PyTorch-shaped v = −m / lr as the state, so one checkpoint
    serves both: Keras's m is then v ← μ (lr_prev / lr) v + d with w ← w − lr v (lr_prev
    the previous step's rate, the current one after a resume).

    State: ``velocity.<i>`` when momentum > 0.
    """

    name = "sgd"
    formula = "pytorch"  # the rule of an SGD pickled before `formula` (new ones: keras)

    def __init__(
        self,
        learning_rate: float | Schedule = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
        clip_value: float | None = None,
        formula: str = "keras",
    ) -> None:
        super().__init__(learning_rate, weight_decay, clip_norm, clip_value)
        self.momentum = _fraction("momentum", momentum)
        if nesterov and self.momentum == 0:
            raise ValueError(f"nesterov=True needs momentum > 0; got momentum={momentum!r}")
        self.nesterov = bool(nesterov)
        self.formula = check_formula(formula)
        self.buffer_names = ("velocity",) if self.momentum > 0 else ()
        self._ratio = RateRatio(self.formula)  # lr_prev / lr for Keras's m = −lr v

    def _carry(self, learning_rate: float) -> float:
        """What v is multiplied by: μ (lr_prev / lr) for Keras's m = −lr v, μ for PyTorch's."""
        if self.formula == "pytorch":
            return self.momentum
        return self.momentum * self._ratio(self.iterations, learning_rate, self.learning_rate)

    def _update(self, i: int, w: Array, g: Array, learning_rate: float) -> None:
        if self._fused(i, w, g, learning_rate):
            return
        work = self._work[i]
        d = self._gradient(i, w, g)
        if not self.momentum:
            _subtract_scaled(w, d, learning_rate, work)
            return
        v = self._state["velocity"][i]
        v *= self._carry(learning_rate)
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
        carry = self._carry(learning_rate)
        scalars = (learning_rate, self.weight_decay, carry, learning_rate * self.momentum)
        kernel(w, g, velocity, *_rounded(scalars, w), bool(self._decayed), self.nesterov)
        return True
