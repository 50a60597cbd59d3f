"""Adam (coupled L2 weight decay) and AdamW (decoupled weight decay)."""

from __future__ import annotations

import math

import numpy as np

from .. import _kernels
from .._validation import fraction as _fraction
from .._validation import positive as _positive
from .base import Array, Optimizer, _blocks, _rounded, _subtract_scaled, register_optimizer
from .formula import check_formula
from .schedules import Schedule

__all__ = ["Adam", "AdamW"]


@register_optimizer
class Adam(Optimizer):
    """Adaptive moment estimation: PyTorch's ``torch.optim.Adam``, defaults and update
    rule (``learning_rate=0.001``, ``beta_1=0.9``, ``beta_2=0.999``, ``epsilon=1e-8``;
    weight decay is coupled L2, as PyTorch's).

        t ← t + 1;   d ← g + λ w
        m ← β₁ m + (1 − β₁) d           v ← β₂ v + (1 − β₂) d²
        m̂ = m / (1 − β₁ᵗ)               v̂ = v / (1 − β₂ᵗ)
        w ← w − lr m̂ / (√v̂ + ε)                          (formula="pytorch")
        w ← w − (lr √(1 − β₂ᵗ) / (1 − β₁ᵗ)) m / (√v + ε)   (formula="keras")

    The two formulas differ in where ε meets the bias correction: PyTorch adds it to √v̂,
    Keras to √v. The PyTorch one is computed as ``w ← w − (lr √(1 − β₂ᵗ) / (1 − β₁ᵗ)) · m
    / (√v + ε √(1 − β₂ᵗ))``, the same value with fewer passes over the arrays. ``t`` is
    :attr:`iterations` + 1. With ``amsgrad``, v in the last line is v_max ← max(v_max, v)
    (both libraries). For ``keras.optimizers.Adam`` from its defaults give
    ``Adam(epsilon=1e-7, formula="keras")`` (and no weight decay: Keras decouples it).

    State: ``m.<i>`` and ``v.<i>``, and ``v_max.<i>`` with amsgrad.
    """

    name = "adam"
    amsgrad, formula = False, "pytorch"  # (class defaults: for an Adam pickled before them)
    buffer_names: tuple[str, ...] = ("m", "v")

    def __init__(
        self,
        learning_rate: float | Schedule = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
        clip_value: float | None = None,
        amsgrad: bool = False,
        formula: str = "pytorch",
    ) -> None:
        super().__init__(learning_rate, weight_decay, clip_norm, clip_value)
        self.beta_1 = _fraction("beta_1", beta_1)
        self.beta_2 = _fraction("beta_2", beta_2)
        self.epsilon = _positive("epsilon", epsilon)
        self.amsgrad = bool(amsgrad)
        self.formula = check_formula(formula)
        self.buffer_names = ("m", "v", "v_max") if self.amsgrad else ("m", "v")

    def _update(self, i: int, w: Array, g: Array, learning_rate: float) -> None:
        if not self._fused(i, w, g, learning_rate):
            self._adam(i, w, self._gradient(i, w, g), learning_rate)

    def _shrink(self, learning_rate: float) -> float | None:
        """1 − lr λ for decoupled weight decay (AdamW), else None."""
        return None

    def _scales(self, learning_rate: float) -> tuple[float, float]:
        """ε' and step = lr √c₂ / c₁, with cᵢ = 1 − βᵢᵗ, for w ← w − step · m / (√v + ε'):
        ε' = ε √c₂ gives PyTorch's lr m̂ / (√v̂ + ε), ε' = ε Keras's."""
        t = self.iterations + 1
        root_c2 = math.sqrt(1.0 - self.beta_2**t)
        eps = self.epsilon * root_c2 if self.formula == "pytorch" else self.epsilon
        return eps, learning_rate * root_c2 / (1.0 - self.beta_1**t)

    def _adam(self, i: int, w: Array, d: Array, learning_rate: float) -> None:
        b1, b2 = self.beta_1, self.beta_2
        eps, step = self._scales(learning_rate)
        m_v = [self._state[name][i] for name in self.buffer_names]  # m, v (, v_max)
        blocks = list(_blocks(w, d, *m_v))
        # one block's worth of scratch space, the same for every block: it stays in cache
        scratch = self._work[i] if len(blocks) == 1 else self._work[i].reshape(-1)
        for w_block, d_block, m, v, *v_max in blocks:
            work = scratch if len(blocks) == 1 else scratch[: m.size]
            np.multiply(d_block, 1.0 - b1, out=work)
            m *= b1
            m += work  # m ← β₁ m + (1 − β₁) d
            np.multiply(d_block, d_block, out=work)
            work *= 1.0 - b2
            v *= b2
            v += work  # v ← β₂ v + (1 − β₂) d²
            if v_max:
                v = np.maximum(v_max[0], v, out=v_max[0])  # v_max ← max(v_max, v)
            np.sqrt(v, out=work)
            work += eps
            np.divide(m, work, out=work)
            _subtract_scaled(w_block, work, step, work)

    def _fused(self, i: int, w: Array, g: Array, learning_rate: float) -> bool:
        """The update as one compiled pass (the accelerator's), if it can take the arrays:
        d = g (+ λ w), then, for AdamW (:meth:`_shrink` = 1 − lr λ), w ← shrink · w, then
        Adam."""
        shrink = self._shrink(learning_rate)
        kernel = _kernels.get("adam", w.size)
        m, v = self._state["m"][i], self._state["v"][i]
        if kernel is None or self.amsgrad or not _kernels.fits(w, g, m, v):
            return False
        eps, step = self._scales(learning_rate)
        b1, b2, stretch = self.beta_1, self.beta_2, 1.0 if shrink is None else shrink
        scalars = (self.weight_decay, stretch, b1, 1.0 - b1, b2, 1.0 - b2, eps, step)
        kernel(w, g, m, v, *_rounded(scalars, w), bool(self._decayed), shrink is not None)
        return True


@register_optimizer
class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): PyTorch's
    ``torch.optim.AdamW``, defaults and update rule (``weight_decay=0.01``, ε = 1e-8, the
    rest as :class:`Adam`).

        w ← w (1 − lr λ)
        then the Adam step with d = g (no λ w term): see :class:`Adam`.

    ``formula="keras"`` puts ε where Keras does (see :class:`Adam`); Keras's AdamW decays
    the same way. For ``keras.optimizers.AdamW`` from its defaults give
    ``AdamW(weight_decay=0.004, epsilon=1e-7, formula="keras")``.

    State: ``m.<i>`` and ``v.<i>``, and ``v_max.<i>`` with amsgrad.
    """

    name = "adamw"
    coupled_weight_decay = False

    def __init__(
        self,
        learning_rate: float | Schedule = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.01,
        clip_norm: float | None = None,
        clip_value: float | None = None,
        amsgrad: bool = False,
        formula: str = "pytorch",
    ) -> None:
        super().__init__(
            learning_rate,
            beta_1,
            beta_2,
            epsilon,
            weight_decay,
            clip_norm,
            clip_value,
            amsgrad,
            formula,
        )

    def _update(self, i: int, w: Array, g: Array, learning_rate: float) -> None:
        if self._fused(i, w, g, learning_rate):
            return
        shrink = self._shrink(learning_rate)
        if shrink is not None:
            w *= shrink
        self._adam(i, w, g, learning_rate)

    def _shrink(self, learning_rate: float) -> float | None:
        return 1.0 - learning_rate * self.weight_decay if self.weight_decay else None
