"""The post's activation, ``stable_sigmoid``, and its derivative ``sigmoid_gradient``.

Values are checked against σ(x) = 1 / (1 + e^(−x)) computed with 50 significant digits by
Python's ``decimal`` module and then rounded once to float64: the correctly rounded answer.
"""

import math
from decimal import Context, Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartoonbrain import sigmoid_gradient, stable_sigmoid
from cartoonbrain.diagnostics.gradcheck import central_difference

_CTX = Context(prec=50)
#: The smallest positive float64 (a subnormal); results below ~1e-308 are spaced by it.
_SUBNORMAL = float(np.nextafter(0.0, 1.0))


def reference_sigmoid(x: float) -> float:
    """σ(x) to 50 digits, rounded once to float64 (only exponents ≤ 0, so Decimal never
    overflows; e^(−1e308) underflows to Decimal zero, which is the right limit)."""
    if math.isnan(x):
        return math.nan
    if math.isinf(x):
        return 1.0 if x > 0 else 0.0
    d = Decimal(x)  # exact: every float is a finite decimal
    if x >= 0:
        return float(_CTX.divide(1, _CTX.add(1, _CTX.exp(-d))))
    e = _CTX.exp(d)
    return float(_CTX.divide(e, _CTX.add(1, e)))


def reference_derivative(x: float) -> float:
    """σ'(x) = e^(−|x|) / (1 + e^(−|x|))², to 50 digits, rounded once to float64."""
    e = _CTX.exp(-abs(Decimal(x)))
    return float(_CTX.divide(e, _CTX.power(_CTX.add(1, e), 2)))


def _no_floating_point_errors() -> np.errstate:
    """Raise on overflow, division by zero and invalid operations.

    Underflow stays allowed: σ(−745) ≈ 5e-324 and σ(−1e308) = 0 are correctly rounded
    results that IEEE arithmetic must flag as underflow, so no correct implementation
    can avoid it (pytest's ``filterwarnings = error`` still turns any warning into a failure).
    """
    return np.errstate(over="raise", divide="raise", invalid="raise", under="ignore")


def assert_correctly_rounded(x: float, got: float) -> None:
    """``got`` is exactly 0 (or 1) iff the correctly rounded σ(x) is; otherwise it is within
    a few ulp of it (an absolute 2 · 5e-324 for subnormal results, where ulps are absolute)."""
    want = reference_sigmoid(x)
    assert (got == 0.0) == (want == 0.0), f"σ({x!r}) = {got!r}, correctly rounded {want!r}"
    assert (got == 1.0) == (want == 1.0), f"σ({x!r}) = {got!r}, correctly rounded {want!r}"
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=2 * _SUBNORMAL, err_msg=f"x = {x!r}")


EXTREME_POINTS = [
    1e308,
    -1e308,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    745.0,
    -745.0,
    -745.2,  # e^x < 2.5e-324: rounds to 0
    -744.0,
    709.0,
    -709.0,
    -720.0,  # a subnormal result
    40.0,
    -40.0,
    36.5,
    20.0,
    -20.0,
    1.0,
    -1.0,
    1e-300,
    -1e-300,
    5e-324,
    -5e-324,
    0.0,
    -0.0,
]


@pytest.mark.parametrize("x", EXTREME_POINTS)
def test_stable_sigmoid_is_correctly_rounded_without_warnings(x):
    """Huge, tiny and ordinary inputs: no overflow or warning, and the correctly rounded value
    (exactly 0 or 1 only where rounding puts it there)."""
    with _no_floating_point_errors():
        got = stable_sigmoid(np.float64(x))
        got_array = stable_sigmoid(np.array([x]))
    assert_correctly_rounded(x, float(got))
    assert_correctly_rounded(x, float(got_array[0]))


@pytest.mark.parametrize("x", [36.0, 36.5, 36.8, 37.0, 37.2, 37.4, 37.5, 38.0])
def test_stable_sigmoid_rounds_to_one_only_where_the_exact_value_does(x):
    """Near the top of the curve: σ(x) = 1 − e^(−x) + …, and the float just below 1 is
    1 − 2⁻⁵³, so σ(x) rounds to exactly 1.0 only once e^(−x) < 2⁻⁵⁴ (x > 54 ln 2 ≈ 37.43).

    Computing 1 / (1 + e^(−x)) rounds 1 + e^(−x) to 1 already when e^(−x) < 2⁻⁵³
    (x > 53 ln 2 ≈ 36.74), one ulp too early; this test pins the correctly rounded value.
    """
    with _no_floating_point_errors():
        got = float(stable_sigmoid(np.float64(x)))
    assert_correctly_rounded(x, got)


@pytest.mark.parametrize("x", [np.inf, -np.inf])
def test_stable_sigmoid_at_infinity(x):
    """σ(+inf) = 1 and σ(−inf) = 0, with no invalid-operation flag (inf − inf, inf / inf)."""
    with _no_floating_point_errors():
        got = stable_sigmoid(np.array([x, -x]))
    np.testing.assert_array_equal(got, [reference_sigmoid(x), reference_sigmoid(-x)])


def test_stable_sigmoid_propagates_nan():
    """NaN in gives NaN out, in the same place, and raises nothing."""
    with _no_floating_point_errors():
        got = stable_sigmoid(np.array([np.nan, 0.0, -np.nan, 3.0]))
        got_scalar = stable_sigmoid(np.float64(np.nan))
    np.testing.assert_array_equal(np.isnan(got), [True, False, True, False])
    np.testing.assert_allclose(got[[1, 3]], [0.5, reference_sigmoid(3.0)], rtol=1e-15, atol=0)
    assert np.isnan(got_scalar)


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_stable_sigmoid_matches_the_reference_for_every_finite_float(x):
    """Any finite float64: no warning and the correctly rounded value, within a few ulp."""
    with _no_floating_point_errors():
        got = float(stable_sigmoid(np.float64(x)))
    assert_correctly_rounded(x, got)


@pytest.mark.parametrize("shape", [(), (7,), (2, 3, 4)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_stable_sigmoid_keeps_shape_and_float_type(shape, dtype):
    """Any shape, element by element; float32 stays float32 (as accurate as float32 allows)."""
    x = np.linspace(-50.0, 50.0, num=max(1, math.prod(shape))).reshape(shape).astype(dtype)
    got = stable_sigmoid(x)
    assert np.shape(got) == shape
    assert got.dtype == dtype
    want = np.vectorize(reference_sigmoid)(x.astype(np.float64))
    rtol = 1e-15 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(got, want, rtol=rtol, atol=2 * _SUBNORMAL)


def test_stable_sigmoid_float32_extremes():
    """float32 inputs near its own overflow (3.4e38) stay finite and float32, with no warning."""
    x = np.array([-3e38, -104.0, -100.0, 0.0, 100.0, 3e38], dtype=np.float32)
    with _no_floating_point_errors():
        got = stable_sigmoid(x)
    assert got.dtype == np.float32
    want = np.vectorize(reference_sigmoid)(x.astype(np.float64)).astype(np.float32)
    tiny32 = float(np.nextafter(np.float32(0), np.float32(1)))  # 1.4e-45
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=2 * tiny32)
    np.testing.assert_array_equal(got[[0, 5]], [0.0, 1.0])


@pytest.mark.parametrize(
    "x", [np.arange(-3, 4), [-2, 0, 2], 5, np.array([[1, -1]], dtype=np.int8)], ids=repr
)
def test_stable_sigmoid_of_integers_is_float64(x):
    """Integer input (arrays, lists, Python ints) is computed in float64."""
    got = stable_sigmoid(x)
    assert got.dtype == np.float64
    assert np.shape(got) == np.shape(x)
    want = np.vectorize(reference_sigmoid)(np.asarray(x, dtype=np.float64))
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=0)


def test_stable_sigmoid_writes_into_out():
    """``out=`` receives the result and is returned, as the library's training loop expects."""
    x = np.array([-2.0, 0.0, 2.0])
    out = np.full(3, np.nan)
    got = stable_sigmoid(x, out=out)
    assert got is out
    np.testing.assert_allclose(out, [reference_sigmoid(v) for v in x], rtol=1e-15, atol=0)


GRADIENT_POINTS = np.linspace(-30.0, 30.0, num=121)


def test_sigmoid_gradient_is_sigma_times_one_minus_sigma():
    """σ'(a) = σ(a)(1 − σ(a)), checked against the exact derivative e^(−|a|) / (1 + e^(−|a|))².

    The formula's 1 − σ(a) is exact only to the ulp of 1 (2.2e-16), hence that atol.
    """
    got = sigmoid_gradient(GRADIENT_POINTS)
    want = [reference_derivative(a) for a in GRADIENT_POINTS]
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=np.finfo(np.float64).eps)


def test_sigmoid_gradient_matches_central_differences_of_stable_sigmoid():
    """σ'(a) ≈ (σ(a + h) − σ(a − h)) / 2h, so the derivative belongs to this very σ.

    Rounding σ near 1 limits the quotient to about ε/h absolute (where σ' < 1e-10 it is 0).
    """
    h = 1e-6
    a = GRADIENT_POINTS
    numeric = central_difference(stable_sigmoid, np.array(a, dtype=np.float64), h, elementwise=True)
    rounding = 2 * np.finfo(np.float64).eps / h
    np.testing.assert_allclose(sigmoid_gradient(a), numeric, rtol=1e-6, atol=rounding)


@pytest.mark.parametrize("x", [1e308, -1e308, 745.0, -745.0, np.inf, -np.inf, 0.0])
def test_sigmoid_gradient_at_extremes(x):
    """No warning at the extremes, and σ'(0) = 1/4 exactly; far out σ' is tiny but ≥ 0."""
    with _no_floating_point_errors():
        got = float(sigmoid_gradient(np.float64(x)))
    assert 0.0 <= got <= 0.25
    if x == 0.0:
        assert got == 0.25
    else:
        np.testing.assert_allclose(got, 0.0, rtol=0, atol=1e-300)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_gradient_keeps_shape_and_float_type(dtype):
    """Element by element on a 3-d array; float32 stays float32 (1 − σ is exact only to the
    type's ulp of 1, hence atol = eps of the type)."""
    a = np.linspace(-5, 5, 24).reshape(2, 3, 4).astype(dtype)
    got = sigmoid_gradient(a)
    assert got.shape == a.shape
    assert got.dtype == dtype
    want = np.vectorize(reference_derivative)(a.astype(np.float64))
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(got, want, rtol=rtol, atol=float(np.finfo(dtype).eps))
