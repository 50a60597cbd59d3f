"""Weight initialisers: where each W_l starts.

Each initialiser draws an array of the given shape from ``rng`` (always in float64, then
cast, so a float32 and a float64 network with the same seed start from the same numbers)
and scales it by the layer's fan-in and fan-out::

    standard_normal   W ~ N(0, 1)                                  (the post's choice)
    glorot_uniform    W ~ U(−r, r),  r = √(6 / (fan_in + fan_out))   (Glorot & Bengio 2010)
    glorot_normal     W ~ N(0, σ²),  σ = √(2 / (fan_in + fan_out))
    he_uniform        W ~ U(−r, r),  r = √(6 / fan_in)              (He et al. 2015)
    he_normal         W ~ N(0, σ²),  σ = √(2 / fan_in)
    lecun_normal      W ~ N(0, σ²),  σ = √(1 / fan_in)
    lecun_uniform     W ~ U(−r, r),  r = √(3 / fan_in)              (variance 1 / fan_in)
    fan_in_uniform    W ~ U(−r, r),  r = 1 / √fan_in                (PyTorch's nn.Linear and
                                                                     nn.Conv*: kaiming_uniform
                                                                     with a = √5)
    zeros             W = 0                                         (biases)

Layers default to He for the ReLU family and Glorot otherwise (:func:`default_for`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from ._registry import claim

Initializer = Callable[[np.random.Generator, tuple[int, ...], int, int], NDArray[np.float64]]

__all__ = ["INITIALIZERS", "default_for", "get_initializer", "register_initializer"]

#: The initialisers that configs (``Dense(..., init="he_uniform")``) and model files can
#: name, by function name: filled by :func:`register_initializer` on each definition.
INITIALIZERS: dict[str, Initializer] = {}

I_ = TypeVar("I_", bound=Initializer)


def register_initializer(init: I_) -> I_:
    """Decorator: make ``init(rng, shape, fan_in, fan_out)`` usable by its function name in
    layers' ``init=`` and in model files. A name held by another function raises
    ValueError; registering the same function again does nothing."""
    if not callable(init) or not getattr(init, "__name__", ""):
        raise ValueError(f"register_initializer takes a named function; got {init!r}")
    return claim(INITIALIZERS, init.__name__, init, "initializer")


@register_initializer
def standard_normal(rng, shape, fan_in, fan_out):
    return rng.standard_normal(shape)


@register_initializer
def glorot_uniform(rng, shape, fan_in, fan_out):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, shape)


@register_initializer
def glorot_normal(rng, shape, fan_in, fan_out):
    return rng.standard_normal(shape) * np.sqrt(2.0 / (fan_in + fan_out))


@register_initializer
def he_uniform(rng, shape, fan_in, fan_out):
    limit = np.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, shape)


@register_initializer
def he_normal(rng, shape, fan_in, fan_out):
    return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)


@register_initializer
def lecun_normal(rng, shape, fan_in, fan_out):
    return rng.standard_normal(shape) * np.sqrt(1.0 / fan_in)


@register_initializer
def lecun_uniform(rng, shape, fan_in, fan_out):
    """W ~ U(−r, r), r = √(3 / fan_in): LeCun's variance 1 / fan_in, uniform."""
    limit = np.sqrt(3.0 / fan_in)
    return rng.uniform(-limit, limit, shape)


@register_initializer
def fan_in_uniform(rng, shape, fan_in, fan_out):
    """W ~ U(−r, r), r = 1 / √fan_in (variance 1 / (3 fan_in)): PyTorch's default for
    nn.Linear and nn.Conv*, ``kaiming_uniform_(a=√5)``, whose gain √(2 / (1 + a²)) = √(1/3)
    makes r = √(1/3) · √(3 / fan_in)."""
    limit = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-limit, limit, shape)


@register_initializer
def zeros(rng, shape, fan_in, fan_out):
    return np.zeros(shape)


_RELU_FAMILY = {"relu", "leaky_relu", "elu"}


def default_for(activation_name: str) -> str:
    """He initialisation for the ReLU family, Glorot for everything else."""
    return "he_uniform" if activation_name in _RELU_FAMILY else "glorot_uniform"


def get_initializer(name: str) -> Initializer:
    if name not in INITIALIZERS:
        raise ValueError(
            f"unknown init {name!r}; expected one of {', '.join(sorted(INITIALIZERS))}"
        )
    return INITIALIZERS[name]
