"""erf and erfc for arrays, which NumPy lacks (the GELU activation needs them).

    erf(x) = (2/√π) ∫₀ˣ e^(−t²) dt      erfc(x) = 1 − erf(x)      Φ(x) = ½ erfc(−x/√2)

``math.erf`` and ``math.erfc`` are exact to the last bit but take one Python call per
number (about 100 ns each). Here both are polynomials fitted to them when this module is
imported, in two forms that keep every result accurate relative to its own size:

    |x| < ½          erf(x) = x P(x²)              (P of degree 10, fitted to erf(x)/x)
    ½ ≤ |x| < 8      erfc(|x|) = e^(−x²) R(|x|)    (R = e^(x²) erfc(x): slowly varying;
                                                    one polynomial of degree 9 per 1/4)
    |x| ≥ 8          erfc(|x|) = 0                 (it is below 1.2·10⁻²⁹)

each through ``math.erf``/``math.erfc`` at Chebyshev points. Against ``math.erf`` and
``math.erfc`` the error is below 1e-15 in absolute terms and about 1e-14 relative
(tests/test_special.py checks both on fine grids); an array takes about 40 NumPy passes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.polynomial import polynomial
from numpy.typing import NDArray

from . import _kernels

__all__ = ["erf", "erfc", "normal_cdf"]

Array = NDArray[Any]

_SMALL = 0.5  # below: erf(x) = x P(x²)
_LARGE = 8.0  # from here: erfc(x) = 0
_WIDTH = 0.25  # of each piece of [½, 8) for R
_PIECES = round((_LARGE - _SMALL) / _WIDTH)
_DEGREE = 9


def _chebyshev_points(low: float, high: float, n: int) -> Array:
    k = np.arange(n)
    return (low + high) / 2 + np.cos(np.pi * (k + 0.5) / n) * (high - low) / 2


def _tables() -> tuple[Array, Array, Array]:
    """P's coefficients in s = x²; R's (pieces, degree + 1) in u = x − centre; the centres."""
    s = _chebyshev_points(0.0, _SMALL**2, 11)
    p = polynomial.polyfit(s, [math.erf(math.sqrt(v)) / math.sqrt(v) for v in s], 10)
    centres = _SMALL + (np.arange(_PIECES) + 0.5) * _WIDTH
    u = _chebyshev_points(-_WIDTH / 2, _WIDTH / 2, _DEGREE + 1)
    r = [
        polynomial.polyfit(u, [math.erfc(c + v) * math.exp((c + v) ** 2) for v in u], _DEGREE)
        for c in centres
    ]
    return p, np.array(r), centres


_P, _R, _CENTRES = _tables()


def _horner(coefficients: Array, u: Array) -> Array:
    """Σ_j c_j u^j, with the coefficients along the last axis."""
    value = coefficients[..., -1] * u
    for j in range(coefficients.shape[-1] - 2, 0, -1):
        value += coefficients[..., j]
        value *= u
    value += coefficients[..., 0]
    return value


def _both(x: Any) -> tuple[Array, Array, Array, np.dtype]:
    """|x|, erf(|x|) and erfc(|x|) in float64, and the float type of the result."""
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    a = np.abs(x, dtype=np.float64)
    inside = np.fmax(np.fmin(a, _LARGE), _SMALL)  # NaN becomes 8 here; put right below
    piece = np.minimum(((inside - _SMALL) * (1 / _WIDTH)).astype(np.intp), _PIECES - 1)
    tail = np.exp(-inside * inside) * _horner(_R[piece], inside - _CENTRES[piece])
    tail[a >= _LARGE] = 0.0
    small = a < _SMALL
    head = a * _horner(_P, a * a)
    erf_a = np.where(small, head, 1 - tail)
    erfc_a = np.where(small, 1 - head, tail)
    erf_a[np.isnan(a)] = erfc_a[np.isnan(a)] = np.nan
    return a, erf_a, erfc_a, dtype


def erf(x: Any) -> NDArray[np.floating]:
    """erf(x), element by element, in ``x``'s float type (float64 for integers).

    Odd, erf(−x) = −erf(x); ±1 from |x| = 6 on (in float64); NaN stays NaN.
    """
    _, erf_a, _, dtype = _both(x)
    return np.copysign(erf_a, x).astype(dtype, copy=False)


def erfc(x: Any) -> NDArray[np.floating]:
    """erfc(x) = 1 − erf(x), accurate relative to its size for large x (no cancellation)."""
    _, _, erfc_a, dtype = _both(x)
    return np.where(np.signbit(x), 2 - erfc_a, erfc_a).astype(dtype, copy=False)


def normal_cdf(x: Any) -> NDArray[np.floating]:
    """Φ(x) = ½ erfc(−x/√2): the probability that a standard normal is below x.

    One compiled pass with the accelerator (:mod:`cartoonbrain._kernels.special`).
    """
    x = np.asarray(x)
    x = x if x.dtype.kind == "f" else x.astype(np.float64)
    kernel = _kernels.get("normal_cdf")
    if kernel is not None and x.ndim and _kernels.fits(x):
        return kernel(x)
    return 0.5 * erfc(x * x.dtype.type(-1 / math.sqrt(2)))
