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

import numpy as np
from numpy.typing import NDArray

Initializer = Callable[[np.random.Generator, tuple[int, ...], int, int], NDArray[np.float64]]

__all__ = ["INITIALIZERS", "default_for", "get_initializer"]


def standard_normal(rng, shape, fan_in, fan_out):
    return rng.standard_normal(shape)


def glorot_uniform(rng, shape, fan_in, fan_out):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, shape)


def glorot_normal(rng, shape, fan_in, fan_out):
    return rng.standard_normal(shape) * np.sqrt(2.0 / (fan_in + fan_out))


def he_uniform(rng, shape, fan_in, fan_out):
    limit = np.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, shape)


def he_normal(rng, shape, fan_in, fan_out):
    return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)


def lecun_normal(rng, shape, fan_in, fan_out):
    return rng.standard_normal(shape) * np.sqrt(1.0 / fan_in)


def lecun_uniform(rng, shape, fan_in, fan_out):
    """W ~ U(−r, r), r = √(3 / fan_in): LeCun's variance 1 / fan_in, uniform."""
    limit = np.sqrt(3.0 / fan_in)
    return rng.uniform(-limit, limit, shape)


def fan_in_uniform(rng, shape, fan_in, fan_out):
    """W ~ U(−r, r), r = 1 / √fan_in (variance 1 / (3 fan_in)): PyTorch's default for
    nn.Linear and nn.Conv*, ``kaiming_uniform_(a=√5)``, whose gain √(2 / (1 + a²)) = √(1/3)
    makes r = √(1/3) · √(3 / fan_in)."""
    limit = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-limit, limit, shape)


def zeros(rng, shape, fan_in, fan_out):
    return np.zeros(shape)


INITIALIZERS: dict[str, Initializer] = {
    f.__name__: f
    for f in (
        standard_normal,
        glorot_uniform,
        glorot_normal,
        he_uniform,
        he_normal,
        lecun_normal,
        lecun_uniform,
        fan_in_uniform,
        zeros,
    )
}

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
