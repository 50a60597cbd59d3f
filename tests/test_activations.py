"""Activations f and their derivatives: ``Activation.backward(g, a, o)`` against central
differences of f (element-wise and the softmax's full Jacobian), worked values, dtypes."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import cartoonbrain as cb
from cartoonbrain.activations import LEAKY_SLOPE, get_activation
from cartoonbrain.diagnostics.gradcheck import central_difference

NAMES = sorted(cb.ACTIVATIONS)
ELEMENTWISE = [name for name in NAMES if name != "softmax"]
KINKED = {"relu", "leaky_relu", "elu"}  # f' (or f'') jumps at a = 0


def numerical_vjp(f, a, g):
    """∂/∂a of Σ g ⊙ f(a), entry by entry, by central differences: gᵀ J_f(a)."""
    return central_difference(lambda x: np.sum(g * f(x)), a.copy())


@st.composite
def batches(draw):
    """A (batch, width) array of affines a and an upstream error g, float64."""
    n = draw(st.integers(1, 5))
    k = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.sampled_from([0.1, 1.0, 4.0]))
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, k)) * scale, rng.normal(size=(n, k))


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=25, deadline=None)
@given(data=batches())
def test_backward_equals_central_differences(name, data):
    """backward(g, a, o) = gᵀ J_f(a): g ⊙ f'(a) element-wise, the full Jacobian for softmax."""
    a, g = data
    if name in KINKED:
        assume(np.min(np.abs(a)) > 1e-4)
    act = cb.ACTIVATIONS[name]
    o = act.f(a)
    analytic = act.backward(g, a, o)
    assert analytic.shape == a.shape
    np.testing.assert_allclose(analytic, numerical_vjp(act.f, a, g), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ELEMENTWISE)
@settings(max_examples=15, deadline=None)
@given(data=batches())
def test_df_is_the_derivative_and_backward_multiplies_by_it(name, data):
    """df(a, o) = f'(a) entry by entry, and backward(g, a, o) = g ⊙ df(a, o)."""
    a, g = data
    if name in KINKED:
        assume(np.min(np.abs(a)) > 1e-4)
    act = cb.ACTIVATIONS[name]
    o = act.f(a)
    numeric = central_difference(act.f, a.copy(), elementwise=True)
    np.testing.assert_allclose(act.df(a, o), numeric, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(act.backward(g, a, o), g * act.df(a, o))


def test_softmax_has_no_elementwise_derivative():
    assert cb.ACTIVATIONS["softmax"].df is None


def test_softmax_jacobian_is_diag_o_minus_o_o_transposed():
    """J = diag(o) − o oᵀ, written out for one row; gᵀ J is what backward returns."""
    a = np.array([[0.5, -1.0, 2.0]])
    o = cb.softmax(a)
    J = np.diag(o[0]) - np.outer(o[0], o[0])
    g = np.array([[1.0, -2.0, 0.25]])
    np.testing.assert_allclose(
        cb.ACTIVATIONS["softmax"].backward(g, a, o), g @ J, rtol=1e-14, atol=1e-16
    )


# ------------------------------------------------------------------ worked values
E = math.e
WORKED = [
    ("identity", [-2.0, 0.0, 3.0], [-2.0, 0.0, 3.0], [1.0, 1.0, 1.0]),
    ("sigmoid", [0.0, math.log(3)], [0.5, 0.75], [0.25, 0.1875]),
    ("tanh", [0.0, math.log(2)], [0.0, 0.6], [1.0, 0.64]),
    ("relu", [-2.0, 3.0], [0.0, 3.0], [0.0, 1.0]),
    ("leaky_relu", [-2.0, 3.0], [-2.0 * LEAKY_SLOPE, 3.0], [LEAKY_SLOPE, 1.0]),
    ("elu", [-1.0, 3.0], [1 / E - 1, 3.0], [1 / E, 1.0]),
    ("softplus", [0.0, math.log(3)], [math.log(2), math.log(4)], [0.5, 0.75]),
]


@pytest.mark.parametrize(("name", "a", "f", "df"), WORKED)
def test_worked_values(name, a, f, df):
    """f and f' at points where both are known in closed form."""
    act = cb.ACTIVATIONS[name]
    a = np.array([a])
    o = act.f(a)
    np.testing.assert_allclose(o, [f], rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(act.df(a, o), [df], rtol=1e-14, atol=1e-15)


def test_leaky_relu_slope_is_one_hundredth():
    assert LEAKY_SLOPE == 0.01


def test_softmax_worked_value_and_rows_sum_to_one():
    """softmax([0, log 2]) = [1/3, 2/3], row by row (last axis)."""
    a = np.array([[0.0, math.log(2)], [5.0, 5.0]])
    np.testing.assert_allclose(cb.softmax(a), [[1 / 3, 2 / 3], [0.5, 0.5]], rtol=1e-15, atol=0)


@pytest.mark.parametrize("shift", [-1e4, -30.0, 0.0, 700.0, 1e4])
def test_softmax_is_shift_invariant_and_finite_for_huge_inputs(shift):
    a = np.array([[1.0, 2.0, -3.0]])
    out = cb.softmax(a + shift)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, cb.softmax(a), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, rtol=0, atol=1e-15)


def _softmax_reference(a):
    """The textbook formula, one row at a time, in float64."""
    a = np.asarray(a, dtype=np.float64)
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.sampled_from([1, 2, 7, 300]),
    cols=st.sampled_from([2, 3, 10, 64, 65, 200]),
    scale=st.sampled_from([1.0, 30.0, 1e4]),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**32 - 1),
    in_place=st.booleans(),
)
def test_softmax_every_path_matches_the_formula(rows, cols, scale, dtype, seed, in_place):
    """One row, many rows of a few classes (transposed max, sum by a product with ones)
    and many classes (the plain reductions) all give the formula's values, in place too."""
    a = (np.random.default_rng(seed).standard_normal((rows, cols)) * scale).astype(dtype)
    expected = _softmax_reference(a)
    out = cb.softmax(a.copy() if in_place else a, out=None)
    if in_place:
        b = a.copy()
        out = cb.softmax(b, out=b)
        assert out is b
    assert out.dtype == dtype and out.shape == a.shape
    tol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(out, expected, rtol=tol, atol=tol * 1e-3)
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, rtol=0, atol=tol)


def test_relu_of_the_infinities_and_nan():
    """f(a) = max(a, 0) in training and in place (inference): relu(−inf) = 0, relu(inf) = inf
    and NaN stays NaN, so a NaN that reaches a layer shows in the output."""
    relu = cb.ACTIVATIONS["relu"]
    a = np.array([-2.0, -0.0, 0.0, 3.5, np.inf, -np.inf, np.nan], dtype=np.float32)
    for out in (relu.f(a.copy()), relu.in_place()(a.copy())):
        np.testing.assert_array_equal(out[:6], [0.0, 0.0, 0.0, 3.5, np.inf, 0.0])
        assert np.isnan(out[6])


@settings(max_examples=40, deadline=None)
@given(
    shape=st.sampled_from([(1,), (3, 5), (1, 256), (513, 1024), (2, 300_000)]),
    dtype=st.sampled_from([np.float16, np.float32, np.float64]),
    layout=st.sampled_from(["C", "F", "strided"]),
    in_place=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_relu_equals_np_maximum_with_0(shape, dtype, layout, in_place, seed):
    """relu works against a block of zeros (and block by block past 262,144 values);
    it must give np.maximum(a, 0) bit for bit, for any layout, in place or not."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape).astype(dtype)
    a.flat[rng.integers(0, a.size, 3)] = [np.nan, np.inf, -np.inf]
    if layout == "F":
        a = np.asfortranarray(a)
    elif layout == "strided":
        a = np.repeat(a, 2, axis=-1)[..., ::2]
    expected = np.maximum(a, 0)
    out = cb.relu(a, out=a) if in_place else cb.relu(a)
    assert out.shape == a.shape and out.dtype == dtype
    assert (out is a) == in_place
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("name", NAMES)
def test_no_overflow_for_huge_affines(name):
    """±1e4 gives finite transforms and finite derivatives (warnings are errors here)."""
    act = cb.ACTIVATIONS[name]
    a = np.array([[-1e4, -800.0, 0.5, 800.0, 1e4]])
    o = act.f(a)
    g = act.backward(np.ones_like(a), a, o)
    assert np.all(np.isfinite(o)) and np.all(np.isfinite(g))


def test_sigmoid_gradient_is_sigma_times_one_minus_sigma():
    a = np.linspace(-6, 6, 13)
    s = 1 / (1 + np.exp(-a))
    np.testing.assert_allclose(cb.sigmoid_gradient(a), s * (1 - s), rtol=1e-13, atol=1e-16)


# ------------------------------------------------------------------ dtypes and lookup
@pytest.mark.parametrize("name", NAMES)
def test_float32_stays_float32(name):
    """f(a) and backward(g, a, o) of float32 arrays are float32 (no silent upcast)."""
    act = cb.ACTIVATIONS[name]
    a = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    o = act.f(a)
    assert o.dtype == np.float32
    assert act.backward(np.ones_like(a), a, o).dtype == np.float32


def test_get_activation_by_name_and_passthrough():
    assert get_activation("tanh") is cb.ACTIVATIONS["tanh"]
    custom = cb.Activation("mine", np.tanh, lambda a, o: 1 - o * o, lambda g, a, o: g)
    assert get_activation(custom) is custom
    assert repr(cb.ACTIVATIONS["relu"]) == "Activation('relu')"


@pytest.mark.parametrize("bad", ["ReLU", "swish", 3, None])
def test_unknown_activation_is_refused_with_the_known_names(bad):
    with pytest.raises(
        ValueError, match=r"unknown activation .*expected one of elu, gelu, identity"
    ):
        get_activation(bad)


def test_every_activation_is_listed():
    assert set(NAMES) == {
        "identity",
        "sigmoid",
        "tanh",
        "relu",
        "leaky_relu",
        "elu",
        "gelu",
        "softplus",
        "softmax",
    }


def test_constant_blocks_are_shared_read_only_and_grow():
    """relu's zeros and the row/column sums' ones come from one read-only block per value
    and dtype: no caller can write into another's zeros, and a longer request grows it."""
    from cartoonbrain.activations import constant

    small = constant(0, 5, np.dtype(np.float32))
    assert small.shape == (5,) and small.dtype == np.float32 and not small.any()
    with pytest.raises(ValueError, match="read-only"):
        small[0] = 1
    big = constant(1, 5000, np.dtype(np.float64))
    np.testing.assert_array_equal(big, np.ones(5000))
    assert constant(1, 10, np.dtype(np.float64)).base is big.base


@pytest.mark.parametrize("shape", [(1, 3), (5, 10), (300, 64), (7, 65), (4, 200)])
def test_row_max_and_row_sum_are_the_docstrings_reductions(shape):
    """row_max = max_k a_ik and row_sum = Σ_k a_ik as (n, 1) columns, on both paths
    (few columns: transposed copy and product with ones; many: NumPy's reductions)."""
    from cartoonbrain.activations import row_max, row_sum

    a = np.random.default_rng(1).standard_normal(shape)
    np.testing.assert_array_equal(row_max(a), a.max(axis=1, keepdims=True))
    np.testing.assert_allclose(row_sum(a), a.sum(axis=1, keepdims=True), rtol=1e-13, atol=1e-13)
    assert row_max(a).shape == row_sum(a).shape == (shape[0], 1)
