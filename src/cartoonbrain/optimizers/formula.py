"""Which library's update rule an optimizer follows: its ``formula`` argument.

Each optimizer reproduces one named library from its defaults (formula and default values
together, said in its docstring) and offers the other library's rule through
``formula="keras"`` or ``formula="pytorch"``. Where the two libraries differ:

* RMSprop: Keras divides by √(s + ε), PyTorch by √s + ε;
* Adam, AdamW: Keras adds ε to √v before the bias correction, lr √(1 − β₂ᵗ)/(1 − β₁ᵗ) ·
  m / (√v + ε); PyTorch after it, lr m̂ / (√v̂ + ε);
* momentum (SGD, RMSprop): Keras's buffer holds the rate, m ← μ m − lr d, PyTorch's does
  not, v ← μ v + d then w ← w − lr v. They agree while the rate is constant; with a
  schedule Keras's is v ← μ (lr_prev / lr) v + d on PyTorch's v = −m / lr, which
  :class:`RateRatio` gives, so one state (and one checkpoint) serves both.
"""

from __future__ import annotations

from .schedules import Schedule

__all__ = ["FORMULAS", "RateRatio", "check_formula"]

#: The libraries whose update rule an optimizer's ``formula`` argument names.
FORMULAS = ("keras", "pytorch")


def check_formula(value: object) -> str:
    if value not in FORMULAS:
        raise ValueError(f"formula must be one of {', '.join(map(repr, FORMULAS))}; got {value!r}")
    return str(value)


class RateRatio:
    """lr_prev / lr: the rate of the previous step over this one's (1 on the first step
    and for the PyTorch formula). Asking twice in one step gives the same answer: the rates
    are kept by step count. After a resume the previous rate is the schedule's at t − 1
    (a constant rate: the same), so a resumed run takes the same steps."""

    def __init__(self, formula: str) -> None:
        self.formula = formula
        self.rates: dict[int, float] = {}  # step count -> its rate, the last two steps

    def __call__(self, step: int, learning_rate: float, schedule: float | Schedule) -> float:
        self.rates = {t: rate for t, rate in self.rates.items() if t == step - 1}
        self.rates[step] = learning_rate
        if self.formula == "pytorch" or step == 0:
            return 1.0
        if step - 1 not in self.rates and isinstance(schedule, Schedule):
            self.rates[step - 1] = float(schedule(step - 1))
        return self.rates.get(step - 1, learning_rate) / learning_rate
