"""The numbers by which the kernels know the activations (no numba here: the engine's
modules read them without importing numba)."""

from __future__ import annotations

__all__ = ["CODES", "FORWARD"]

IDENTITY, RELU, LEAKY_RELU, SIGMOID, TANH, ELU = range(6)

#: activation name -> the code the kernels take (activation_backward knows all of them)
CODES = {
    "identity": IDENTITY,
    "relu": RELU,
    "leaky_relu": LEAKY_RELU,
    "sigmoid": SIGMOID,
    "tanh": TANH,
    "elu": ELU,
}

#: those that bias_activation and bias_activation_in_place apply: the ones without a
#: transcendental function. NumPy's own tanh and exp are vectorised, and a compiled loop
#: calling the C library's is slower (measured: tanh of 16,384 float32 values, 260 µs
#: against NumPy's 3 µs); identity needs no kernel (A += b is one pass already).
FORWARD = frozenset(("relu", "leaky_relu"))
