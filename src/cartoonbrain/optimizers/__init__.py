"""Optimizers: turn the gradients ∇W from backpropagation into parameter updates.

The post's plain update is gradient descent, ``W ← W − lr ∇W``. Each optimizer writes its
own rule in its docstring, with ``w`` a parameter, ``g`` its gradient, ``lr`` the learning
rate and ``λ`` the weight decay; the formulations follow PyTorch's ``torch.optim`` so that
results can be compared with it. One module each: :mod:`.sgd`, :mod:`.rmsprop`,
:mod:`.adam` (Adam and AdamW); their common part :class:`Optimizer`, the registry
``OPTIMIZERS`` and :func:`get_optimizer` are in :mod:`.base`, and
:func:`clip_by_global_norm` in :mod:`.clipping`.

A learning rate is a float or a :class:`~cartoonbrain.optimizers.schedules.Schedule`, a function of
the step count ``t`` (counted from 0), from :mod:`cartoonbrain.optimizers.schedules` (re-exported
here): :class:`StepDecay`, :class:`ExponentialDecay`, :class:`CosineDecay`.
"""

from .base import OPTIMIZERS, Optimizer, get_optimizer, register_optimizer
from .clipping import clip_by_global_norm
from .schedules import (
    SCHEDULES,
    Constant,
    CosineDecay,
    ExponentialDecay,
    Schedule,
    StepDecay,
    get_schedule,
)

# isort: off
# each registers where it is declared, in this order: OPTIMIZERS is sgd, rmsprop, adam, adamw
from .sgd import SGD
from .rmsprop import RMSprop
from .adam import Adam, AdamW

# isort: on

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "SGD",
    "Adam",
    "AdamW",
    "Constant",
    "CosineDecay",
    "ExponentialDecay",
    "Optimizer",
    "RMSprop",
    "Schedule",
    "StepDecay",
    "clip_by_global_norm",
    "get_optimizer",
    "get_schedule",
    "register_optimizer",
]
