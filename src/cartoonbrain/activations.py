"""Activation functions f, each with its derivative f' beside it.

The post writes a layer as ``o_l = f(a_l)`` and carries the error back with
``g ← g ⊙ f'(a_l)``. An :class:`Activation` holds exactly that pair: ``f`` for the
forward pass and ``backward`` for the product ``g ⊙ f'(a)``. The derivative may use
the cached transform ``o = f(a)`` where that is cheaper (``σ'(a) = o (1 − o)``), so the
backward pass never evaluates ``f`` a second time.

Every function takes arrays of any shape; the softmax works along the last axis
(one row per sample, the library's batch-first layout).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import _kernels
from ._kernels.codes import CODES as _KERNEL_CODES
from ._kernels.codes import FORWARD as _KERNEL_FORWARD
from ._registry import claim
from .special import normal_cdf

Array = NDArray[np.floating]
#: ``df(a, o) -> f'(a)``: a float array, or a bool mask where f' is 0 or 1 (ReLU)
Derivative = Callable[[Array, Array], NDArray[np.floating] | NDArray[np.bool_]]

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "get_activation",
    "register_activation",
    "sigmoid_gradient",
    "softmax",
    "stable_sigmoid",
]


def stable_sigmoid(a: Array, out: Array | None = None) -> Array:
    """The logistic function σ(a) = 1 / (1 + e^(−a)), without overflow for any input.

        s = e^(−|a|) / (1 + e^(−|a|))  = σ(−|a|)
        σ(a) = s          for a < 0
        σ(a) = 1 − s      for a ≥ 0   (σ(a) = 1 − σ(−a))

    Only ``e^(−|a|) ≤ 1`` is ever computed, so nothing overflows, and the result is
    correctly rounded to within an ulp on both sides: it is exactly 0 or 1 only where
    the float type rounds σ(a) there (in float64, a < −745.13… and a > 37.43…). ±inf give
    0 and 1; NaN propagates.

    Parameters
    ----------
    a : array_like of any shape
    out : ndarray of the same shape and dtype, optional
        Where to write the result (may not be ``a`` itself).

    Returns
    -------
    ndarray of the same shape and float type as ``a`` (float64 for integer input)
    """
    if type(a) is not np.ndarray or a.dtype.kind != "f" or a.ndim == 0:
        a = np.asarray(a)
        a = a if a.dtype.kind == "f" else a.astype(np.float64)
        if a.ndim == 0 and out is None:
            return stable_sigmoid(a.reshape(1))[0]
    s = np.abs(a, out=out)
    np.negative(s, out=s)
    np.exp(s, out=s)  # e = e^(−|a|) ≤ 1
    np.divide(s, s + 1, out=s)  # s = e / (1 + e) = σ(−|a|) ≤ ½
    # σ(a) = |h − s| with h = 1 for a ≥ 0 and 0 for a < 0: one rounding on either side
    np.subtract(np.heaviside(a, 1), s, out=s)
    return np.abs(s, out=s)


def sigmoid_gradient(a: Array) -> Array:
    """σ'(a) = σ(a) (1 − σ(a)), the post's ``grad_f``, evaluated from the affines ``a``.

    Inside networks the library uses the cached transform instead (``o (1 − o)``) and
    never recomputes σ; this function is the post's own, for learners.
    """
    s = stable_sigmoid(a)
    return s * (1 - s)


#: constant(value, n, dtype) hands out read-only views of one block per (value, dtype),
#: grown when a longer one is asked for: the zeros relu compares with, the ones that sum
#: rows and columns as products
_CONSTANTS: dict[tuple[float, np.dtype], Array] = {}


def constant(value: float, n: int, dtype: np.dtype) -> Array:
    """A read-only array of ``n`` copies of ``value``, shared between calls."""
    block = _CONSTANTS.get((value, dtype))
    if block is None or block.size < n:
        block = np.full(max(n, 1024), value, dtype=dtype)
        block.flags.writeable = False
        _CONSTANTS[(value, dtype)] = block
    return block[:n]


#: up to this many columns, the row reductions below go through a transposed copy and a
#: product with ones: NumPy reduces a short last axis one row at a time, which for 1,000
#: rows of 10 is 3-7x slower (measured); the results are the same maxima and sums.
_FEW_CLASSES = 64


def row_max(a: Array) -> Array:
    """max_k a_ik for a 2-D ``a``, as a column of shape (n, 1)."""
    if a.shape[1] <= _FEW_CLASSES and a.shape[0] > 1:
        return a.T.copy().max(axis=0)[:, None]
    return a.max(axis=1, keepdims=True)


def row_sum(a: Array) -> Array:
    """Σ_k a_ik for a 2-D floating-point ``a``, as a column of shape (n, 1)."""
    if a.shape[1] <= _FEW_CLASSES and a.shape[0] > 1:
        return np.dot(a, constant(1, a.shape[1], a.dtype))[:, None]
    return a.sum(axis=1, keepdims=True)


def softmax(a: Array, out: Array | None = None) -> Array:
    """softmax(a)_k = e^(a_k − max a) / Σ_j e^(a_j − max a), along the last axis.

    ``out`` may be ``a`` itself (the inference path computes it in place).
    """
    a = np.asarray(a)
    kernel = _kernels.get("softmax_rows", a.size)
    if kernel is not None and few_classes(a) and _kernels.fits(a, a if out is None else out):
        return kernel(a, np.empty_like(a) if out is None else out)  # one compiled pass
    if a.ndim == 2 and a.dtype.kind == "f":  # rows of logits: the fast row reductions
        one_row = a.shape[0] == 1  # (a scalar max and sum cost the least there)
        e = np.subtract(a, a.max() if one_row else row_max(a), out=out)
        np.exp(e, out=e)
        e /= e.sum() if one_row else row_sum(e)
        return e
    e = np.subtract(a, a.max(axis=-1, keepdims=True), out=out)
    np.exp(e, out=e)
    e /= e.sum(axis=-1, keepdims=True)
    return e


#: relu compares with at most this many zeros at a time (1 MiB in float32)
_ZERO_BLOCK = 1 << 18


def relu(a: Array, out: Array | None = None) -> Array:
    """max(a, 0), element by element; ``out`` may be ``a`` itself (inference).

    Computed as ``np.maximum(a, zeros)`` against a block of zeros: NumPy's maximum takes a
    SIMD loop for two arrays but not for an array and the scalar 0, which is 2-4x slower
    (measured: 262,144 float32 values, 28 µs against 98 µs; 256 values, 0.4 against 0.8).
    The values, NaN included, are those of ``np.maximum(a, 0)``.
    """
    a = np.asarray(a)
    if a.dtype.kind != "f" or (out is not None and out is not a):
        return np.maximum(a, 0, out=out)
    if a.size <= _ZERO_BLOCK:
        return np.maximum(a, constant(0, a.size, a.dtype).reshape(a.shape), out=out)
    if not a.flags.c_contiguous:
        return np.maximum(a, 0, out=out)
    zeros = constant(0, _ZERO_BLOCK, a.dtype)
    result = np.empty_like(a) if out is None else a
    flat, flat_out = a.reshape(-1), result.reshape(-1)  # views: both are C-contiguous
    for start in range(0, flat.size, _ZERO_BLOCK):
        stop = min(start + _ZERO_BLOCK, flat.size)
        np.maximum(flat[start:stop], zeros[: stop - start], out=flat_out[start:stop])
    return result


def few_classes(a: Array, most: int = 1024) -> bool:
    """Whether the compiled softmax (or cross-entropy) should take ``a``: rows of at most
    ``_FEW_CLASSES``, ``most`` numbers in all. It calls the C library's exp once per
    number (4-5 ns), NumPy's is vectorised: the kernel is faster up to about 1,000
    numbers for the softmax and 2,000 for the cross-entropy (measured: 64 rows of 10,
    softmax 3.9 µs against 5.6 µs, cross-entropy 4.7 µs against 11.8 µs; 512 rows of 10,
    21 µs against 12 µs and 46 µs against 35 µs)."""
    return a.ndim == 2 and 0 < a.shape[1] <= _FEW_CLASSES and a.size <= most


def _elementwise(df: Derivative, name: str = "") -> Callable[[Array, Array, Array], Array]:
    """``backward(g, a, o) = g ⊙ f'(a)``: NumPy's product, or, for a built-in activation
    with the accelerator, the same operations in one compiled pass (the same bits)."""
    code = _KERNEL_CODES.get(name)

    def backward(g: Array, a: Array, o: Array) -> Array:
        kernel = None if code is None else _kernels.get("activation_backward", g.size)
        if kernel is not None and g.shape == a.shape == o.shape and _kernels.fits(g, a, o):
            return kernel(g, a, o, code, LEAKY_SLOPE)
        return g * df(a, o)

    return backward


def bias_and_activation(activation: Activation, a: Array, b: Array | None) -> Array:
    """A ← A + b (when there is a bias), then O = f(A): a layer's forward step, with A
    kept as the affines. ReLU and leaky ReLU do both in one compiled pass with the
    accelerator (the same bits); otherwise ``a += b; return f(a)``, as written."""
    kernel = _fused_forward(activation, a, b, "bias_activation")
    if kernel is not None:
        return kernel(a, *_kernel_arguments(activation, a, b))
    if b is not None:
        a += b
    return activation.f(a)


def bias_and_activation_in_place(
    activation: Activation,
    a: Array,
    b: Array | None,
    f_in_place: Callable[[Array], Array] | None = None,
) -> Array:
    """f(A + b) written over A (inference, which caches nothing); as
    :func:`bias_and_activation`, with ``f_in_place`` (default ``activation.in_place()``)."""
    kernel = _fused_forward(activation, a, b, "bias_activation_in_place")
    if kernel is not None:
        kernel(a, *_kernel_arguments(activation, a, b))
        return a
    if b is not None:
        a += b
    return (activation.in_place() if f_in_place is None else f_in_place)(a)


def _kernel_arguments(activation: Activation, a: Array, b: Array | None) -> tuple[Any, ...]:
    """The bias-and-activation kernels' arguments after ``a``: b (a row of ``a`` when there
    is none: never read), the activation's code, leaky ReLU's slope, whether b is there."""
    bias = a[0] if b is None else b
    return bias, _KERNEL_CODES[activation.name], LEAKY_SLOPE, b is not None


def _fused_forward(activation: Activation, a: Array, b: Array | None, name: str) -> Any:
    """The compiled bias-and-activation kernel ``name``, if it applies to these arrays."""
    kernel = _kernels.get(name, a.size)
    if kernel is None or activation.name not in _KERNEL_FORWARD or a.ndim != 2 or not len(a):
        return None
    if ACTIVATIONS.get(activation.name) is not activation:  # a look-alike: its own f
        return None
    if b is None:
        return kernel if _kernels.fits(a) else None
    return kernel if b.shape == (a.shape[1],) and _kernels.fits(a, b) else None


def _softmax_backward(g: Array, a: Array, o: Array) -> Array:
    # Jacobian-vector product: J = diag(o) − o oᵀ, so gᵀJ = o ⊙ (g − (g·o)).
    return o * (g - (g * o).sum(axis=-1, keepdims=True))


@dataclass(frozen=True)
class Activation:
    """A transform ``o = f(a)`` and its derivative, kept side by side.

    Attributes
    ----------
    name : str
        The name used in configs and model files.
    f : callable
        ``f(a) -> o``, element by element (the softmax row by row).
    df : callable or None
        ``df(a, o) -> f'(a)`` for element-wise activations; ``None`` for the softmax,
        whose Jacobian is not diagonal.
    backward : callable
        ``backward(g, a, o) -> g ⊙ f'(a)``: the post's first backward step, generalised to
        ``gᵀ J_f(a)`` for the softmax.
    """

    name: str
    f: Callable[[Array], Array]
    df: Derivative | None
    backward: Callable[[Array, Array, Array], Array]

    def __call__(self, a: Array) -> Array:
        return self.f(a)

    def in_place(self) -> Callable[[Array], Array]:
        """A function computing f(a) that may overwrite ``a`` (for inference, which caches
        nothing): the built-in activations' in-place forms, else ``f`` itself."""
        if ACTIVATIONS.get(self.name) is self and self.name in _IN_PLACE:
            return _IN_PLACE[self.name]
        return self.f

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"


def _make(name: str, f: Callable[[Array], Array], df: Derivative) -> Activation:
    return Activation(name, f, df, _elementwise(df, name))


#: The activations that configs and model files can name, by name: filled by
#: :func:`register_activation`, called beside each definition below.
ACTIVATIONS: dict[str, Activation] = {}


def register_activation(activation: Activation) -> Activation:
    """Make ``activation`` usable by name: in layers (``Dense(..., activation="swish")``),
    configs, and model files that ``save`` writes and ``load`` reads back.

    Returns ``activation``, so a definition can be ``swish = register_activation(...)``.
    Registering the same object again does nothing; a name held by another activation
    raises ValueError (a new activation may not replace a built-in silently).
    """
    if not isinstance(activation, Activation):
        raise ValueError(f"register_activation takes an Activation; got {activation!r}")
    name = activation.name
    if not isinstance(name, str) or not name:
        raise ValueError(f"an activation's name must be a non-empty string; got {name!r}")
    return claim(ACTIVATIONS, name, activation, "activation")


LEAKY_SLOPE = 0.01
_INV_SQRT_2PI = 0.3989422804014327  # 1 / √(2π)

# f(a) = a                        f'(a) = 1
# f'(a) = 1, so g ⊙ f'(a) = g: backward hands g on as it is
register_activation(
    Activation("identity", lambda a: a, lambda a, o: np.ones_like(a), lambda g, a, o: g)
)
# f(a) = σ(a)                     f'(a) = o (1 − o)
register_activation(_make("sigmoid", stable_sigmoid, lambda a, o: o * (1 - o)))
# f(a) = tanh(a)                  f'(a) = 1 − o²
register_activation(_make("tanh", np.tanh, lambda a, o: 1 - o * o))
# f(a) = max(a, 0)                f'(a) = [a > 0]
register_activation(_make("relu", relu, lambda a, o: a > 0))  # g ⊙ [a > 0]
# f(a) = a if a > 0 else 0.01 a   f'(a) = 1 if a > 0 else 0.01
register_activation(
    _make(
        "leaky_relu",
        lambda a: np.where(a > 0, a, a * a.dtype.type(LEAKY_SLOPE)),
        lambda a, o: np.where(a > 0, a.dtype.type(1), a.dtype.type(LEAKY_SLOPE)),
    )
)
# f(a) = a if a > 0 else e^a − 1  f'(a) = 1 if a > 0 else o + 1
register_activation(
    _make(
        "elu",
        lambda a: np.where(a > 0, a, np.expm1(np.minimum(a, 0))),
        lambda a, o: np.where(a > 0, a.dtype.type(1), o + 1),
    )
)
# f(a) = log(1 + e^a)             f'(a) = σ(a)
register_activation(
    _make("softplus", lambda a: np.logaddexp(a.dtype.type(0), a), lambda a, o: stable_sigmoid(a))
)


def _gelu_derivative(a: Array, o: Array) -> Array:
    """f'(a) = Φ(a) + a φ(a), with Φ(a) = o / a read back from the forward's o = a Φ(a):
    one erfc per number in a training step, not two (measured: GELU's share of a small
    GPT's step, 32 ms of 110, falls by 12 ms). Where |a| is below the smallest normal
    number (o / a would lose its digits), Φ(a) = ½ to the last bit."""
    with np.errstate(divide="ignore", invalid="ignore"):
        cdf = np.where(np.abs(a) >= np.finfo(a.dtype).tiny, o / a, a.dtype.type(0.5))
    return cdf + a * np.exp(-0.5 * a * a) * a.dtype.type(_INV_SQRT_2PI)


# f(a) = a Φ(a), Φ the normal CDF    f'(a) = Φ(a) + a φ(a),  φ(a) = e^(−a²/2) / √(2π)
# (GELU in the exact, erf form: PyTorch's default; Φ(a) = ½ (1 + erf(a/√2)), cartoonbrain.special)
register_activation(_make("gelu", lambda a: a * normal_cdf(a), _gelu_derivative))
# softmax(a)_k = e^(a_k) / Σ_j e^(a_j)   gᵀJ = o ⊙ (g − Σ_k g_k o_k)
register_activation(Activation("softmax", softmax, None, _softmax_backward))


#: activations that can overwrite their input: used by inference, which caches nothing
_IN_PLACE: dict[str, Callable[[Array], Array]] = {
    "identity": lambda a: a,
    "relu": lambda a: relu(a, out=a),
    "tanh": lambda a: np.tanh(a, out=a),
    "softmax": lambda a: softmax(a, out=a),
}


def get_activation(activation: str | Activation) -> Activation:
    """Look an activation up by name (``"relu"``) or pass an :class:`Activation` through."""
    if isinstance(activation, Activation):
        return activation
    if isinstance(activation, str) and activation in ACTIVATIONS:
        return ACTIVATIONS[activation]
    raise ValueError(
        f"unknown activation {activation!r}; expected one of {', '.join(sorted(ACTIVATIONS))}"
    )
