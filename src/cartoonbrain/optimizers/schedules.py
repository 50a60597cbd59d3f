"""Learning-rate schedules: the learning rate as a function of the step count.

A schedule is called with the optimizer's step count ``t`` (counted from 0, before the
step) and returns that step's rate; an optimizer takes a float or a schedule as its
``learning_rate``. Each one writes its formula in its docstring, and is registered beside
its class (``@register_schedule``, into :data:`SCHEDULES`, by the one rule of
``_registry.claim``), so that a config names it (:func:`get_schedule`).
"""

from __future__ import annotations

import inspect
import math
from typing import Any, TypeVar

import numpy as np

from .._registry import claim
from .._validation import count as _count
from .._validation import is_number as _is_number
from .._validation import known_options as _options
from .._validation import non_negative as _non_negative
from .._validation import positive as _positive

__all__ = [
    "SCHEDULES",
    "Constant",
    "CosineDecay",
    "ExponentialDecay",
    "Schedule",
    "StepDecay",
    "get_schedule",
    "register_schedule",
]


class Schedule:
    """A learning rate that depends on the step count: ``lr = schedule(t)``, t = 0, 1, 2, ...

    ``t`` is the optimizer's :attr:`Optimizer.iterations` before the step is taken, so the
    first step uses ``schedule(0)``.
    """

    name = "schedule"

    def __call__(self, iteration: int) -> float:
        if not (isinstance(iteration, (int, np.integer)) and iteration >= 0):
            raise ValueError(f"iteration must be an integer >= 0; got {iteration!r}")
        return self._rate(int(iteration))

    def _rate(self, t: int) -> float:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """The schedule as a JSON-able dict, ``{"name": ..., <constructor arguments>}``."""
        arguments = inspect.signature(type(self)).parameters
        return {"name": self.name, **{key: getattr(self, key) for key in arguments}}

    @classmethod
    def example(cls) -> Schedule:
        """A small instance, for the contract suite (tests/test_contract.py)."""
        raise NotImplementedError(f"{cls.__name__} has no example() for the contract suite")

    def __repr__(self) -> str:
        config = self.get_config()
        del config["name"]
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in config.items())})"


#: every schedule by name, filled by ``@register_schedule`` on each class
SCHEDULES: dict[str, type[Schedule]] = {}

Schedule_ = TypeVar("Schedule_", bound=type[Schedule])


def register_schedule(cls: Schedule_) -> Schedule_:
    """Class decorator: make the schedule ``cls`` usable by its :attr:`~Schedule.name` in
    configs, checkpoints and model files (:func:`get_schedule`). Raises ValueError when
    ``cls`` is not a Schedule with a lower-case name of its own, or when another class
    holds that name."""
    if not (isinstance(cls, type) and issubclass(cls, Schedule)):
        raise ValueError(f"register_schedule takes a subclass of Schedule; got {cls!r}")
    name = cls.name
    if not isinstance(name, str) or not name or name == Schedule.name or name != name.lower():
        raise ValueError(
            f"{cls.__qualname__} needs a lower-case name of its own (name = '...'); got {name!r}"
        )
    return claim(SCHEDULES, name, cls, "schedule")


@register_schedule
class Constant(Schedule):
    """lr = learning_rate at every step."""

    name = "constant"

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = _positive("learning_rate", learning_rate)

    def _rate(self, t: int) -> float:
        return self.learning_rate

    @classmethod
    def example(cls) -> Constant:
        return cls(0.01)


@register_schedule
class StepDecay(Schedule):
    """lr = initial_learning_rate · gamma^⌊t / step_size⌋: times gamma every step_size steps."""

    name = "step_decay"

    def __init__(self, initial_learning_rate: float, step_size: int, gamma: float = 0.1) -> None:
        self.initial_learning_rate = _positive("initial_learning_rate", initial_learning_rate)
        self.step_size = _count("step_size", step_size, 1)
        self.gamma = _positive("gamma", gamma)

    def _rate(self, t: int) -> float:
        return self.initial_learning_rate * self.gamma ** (t // self.step_size)

    @classmethod
    def example(cls) -> StepDecay:
        return cls(0.1, step_size=3, gamma=0.5)


@register_schedule
class ExponentialDecay(Schedule):
    """lr = initial_learning_rate · decay_rate^(t / decay_steps), decaying smoothly; with
    ``staircase``, the exponent is ⌊t / decay_steps⌋ (Keras's signature and formula)."""

    name = "exponential_decay"

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int = 1,
        decay_rate: float = 0.96,
        staircase: bool = False,
    ) -> None:
        self.initial_learning_rate = _positive("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _count("decay_steps", decay_steps, 1)
        self.decay_rate = _positive("decay_rate", decay_rate)
        self.staircase = bool(staircase)

    def _rate(self, t: int) -> float:
        exponent = t // self.decay_steps if self.staircase else t / self.decay_steps
        return self.initial_learning_rate * self.decay_rate**exponent

    @classmethod
    def example(cls) -> ExponentialDecay:
        return cls(0.1, decay_steps=3, decay_rate=0.9, staircase=True)


@register_schedule
class CosineDecay(Schedule):
    """Half a cosine from the peak rate down to ``alpha`` times it, after an optional
    warm-up (Keras's ``CosineDecay(initial_learning_rate, decay_steps, alpha=0.0,
    warmup_target=None, warmup_steps=0)``, in its argument order)::

        peak = warmup_target, or initial_learning_rate without one
        t < warmup_steps:  lr = initial + (warmup_target − initial) · t / warmup_steps
                           (no warmup_target: lr = initial · (t + 1) / warmup_steps, from 0)
        otherwise:         p  = min(t − warmup_steps, decay_steps) / decay_steps
                           lr = peak · ((1 − alpha) · ½ (1 + cos(π p)) + alpha)

    After ``warmup_steps + decay_steps`` steps the rate stays at ``alpha · peak`` (which may
    be 0: those steps then leave the parameters unchanged). ``initial_learning_rate`` may
    be 0 when a warm-up leads to a ``warmup_target`` (Keras's example, a warm-up from 0).
    ``minimum_learning_rate`` (the
    name of cartoonbrain 0.1, kept for its files) is ``alpha · initial_learning_rate``.
    """

    name = "cosine_decay"

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        warmup_target: float | None = None,
        warmup_steps: int = 0,
        minimum_learning_rate: float | None = None,
    ) -> None:
        self.decay_steps = _count("decay_steps", decay_steps, 1)
        self.warmup_steps = _count("warmup_steps", warmup_steps, 0)
        self.warmup_target = (
            None if warmup_target is None else _positive("warmup_target", warmup_target)
        )
        if self.warmup_target is not None and self.warmup_steps > 0:  # may start from 0
            initial = _non_negative("initial_learning_rate", initial_learning_rate)
        else:
            initial = _positive("initial_learning_rate", initial_learning_rate)
        self.initial_learning_rate = initial
        if minimum_learning_rate is not None:
            low = _non_negative("minimum_learning_rate", minimum_learning_rate)
            if self.initial_learning_rate == 0 or low > self.initial_learning_rate:
                raise ValueError(
                    f"minimum_learning_rate must not exceed initial_learning_rate "
                    f"{self.initial_learning_rate!r}; got {minimum_learning_rate!r}"
                )
            alpha = low / self.initial_learning_rate
        self.alpha = _non_negative("alpha", alpha)
        if self.alpha > 1:
            raise ValueError(f"alpha must be in [0, 1]; got {alpha!r}")

    @property
    def minimum_learning_rate(self) -> float:
        return self.alpha * (self.warmup_target or self.initial_learning_rate)

    def get_config(self) -> dict[str, Any]:
        keys = ("initial_learning_rate", "decay_steps", "alpha", "warmup_target", "warmup_steps")
        return {"name": self.name, **{key: getattr(self, key) for key in keys}}

    def _rate(self, t: int) -> float:
        initial, target = self.initial_learning_rate, self.warmup_target
        if t < self.warmup_steps:
            if target is None:
                return initial * (t + 1) / self.warmup_steps
            return initial + (target - initial) * t / self.warmup_steps
        peak = initial if target is None else target
        progress = min(t - self.warmup_steps, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return peak * ((1 - self.alpha) * cosine + self.alpha)

    @classmethod
    def example(cls) -> CosineDecay:
        return cls(0.0, decay_steps=5, alpha=0.1, warmup_target=0.2, warmup_steps=3)


def get_schedule(spec: str | dict[str, Any] | float | Schedule, **overrides: Any) -> Schedule:
    """Build a schedule from a name (``"cosine_decay"`` plus keyword arguments), a config
    dict from :meth:`Schedule.get_config`, a float (a :class:`Constant` rate), or pass a
    :class:`Schedule` through."""
    if isinstance(spec, Schedule) and not overrides:
        return spec
    if _is_number(spec):
        return Constant(**{"learning_rate": spec, **overrides})
    config = dict(spec) if isinstance(spec, dict) else {"name": spec}
    name = config.pop("name", None)
    if not (isinstance(name, str) and name in SCHEDULES):
        raise ValueError(f"unknown schedule {name!r}; expected one of {', '.join(SCHEDULES)}")
    cls = SCHEDULES[name]
    return cls(**_options(cls, {**config, **overrides}, f"schedule {name!r}"))
