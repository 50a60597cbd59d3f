"""Losses L(Y, T) and ∂L/∂Y: central differences, worked values, extreme logits against
a float64 logsumexp written here, targets checked at the boundary, dtypes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cartoonbrain as cb
from cartoonbrain.diagnostics.gradcheck import central_difference
from cartoonbrain.losses import get_loss


def numerical_gradient(loss, y, t):
    """∂L/∂Y by central differences (shared helper, float64)."""
    return central_difference(lambda x: loss(x, t), y.copy())


def logsumexp(z):
    """log Σ_k e^{z_k} per row, in float64, the textbook-stable way."""
    z = np.asarray(z, dtype=np.float64)
    m = z.max(axis=1)
    return m + np.log(np.exp(z - m[:, None]).sum(axis=1))


def draw_targets(name, rng, n, k, one_hot=False):
    if name in ("mse", "squared_error"):
        return rng.normal(size=(n, k))
    if name == "cross_entropy":
        ids = rng.integers(0, k, size=n)
        return np.eye(k)[ids] if one_hot else ids
    return rng.uniform(0, 1, size=(n, k))  # binary_cross_entropy: soft or hard labels


@st.composite
def problems(draw, name):
    n = draw(st.integers(1, 5))
    k = draw(st.integers(2 if name == "cross_entropy" else 1, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.sampled_from([0.1, 1.0, 5.0]))
    one_hot = draw(st.booleans())
    return rng.normal(size=(n, k)) * scale, draw_targets(name, rng, n, k, one_hot)


@pytest.mark.parametrize("name", sorted(cb.LOSSES))
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_gradient_equals_central_differences(name, data):
    y, t = data.draw(problems(name))
    loss = get_loss(name)
    value, grad = loss.value_and_gradient(y.copy(), t)
    assert grad.shape == y.shape
    assert value == pytest.approx(loss(y.copy(), t), rel=1e-15)
    atol = 1e-8 * max(1.0, abs(value))  # rounding in L(y ± h) costs about ε|L|/h
    np.testing.assert_allclose(grad, numerical_gradient(loss, y, t), rtol=1e-6, atol=atol)


@pytest.mark.parametrize("name", sorted(cb.LOSSES))
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_weighted_loss_is_the_weighted_mean_of_the_samples_losses(name, data):
    """L = Σ w_i ℓ_i / Σ w,  ∂L/∂y_i = (w_i / Σ w) ∂ℓ_i/∂y_i, each ℓ_i taken alone."""
    y, t = data.draw(problems(name))
    w = np.asarray(
        data.draw(
            st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0]), min_size=len(y), max_size=len(y))
        )
    )
    if not w.sum() > 0:
        w[0] = 1.0
    loss = get_loss(name)
    alone = [loss.value_and_gradient(y[i : i + 1].copy(), t[i : i + 1]) for i in range(len(y))]
    value, g = loss.value_and_gradient(y.copy(), t, w)
    expected = sum(w_i * v for w_i, (v, _) in zip(w, alone)) / w.sum()
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-15)
    expected_g = np.vstack([w_i / w.sum() * g_i for w_i, (_, g_i) in zip(w, alone)])
    np.testing.assert_allclose(g, expected_g, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(value, loss(y.copy(), t, w), rtol=1e-15)


@pytest.mark.parametrize("name", sorted(cb.LOSSES))
def test_integer_weights_repeat_rows_and_unit_weights_change_nothing(name):
    rng = np.random.default_rng(3)
    y = rng.normal(size=(6, 3))
    t = draw_targets(name, rng, 6, 3)
    w = np.array([0, 1, 2, 3, 1, 0])
    loss = get_loss(name)
    value, _ = loss.value_and_gradient(y.copy(), t, w)
    repeated, _ = loss.value_and_gradient(np.repeat(y, w, axis=0), np.repeat(t, w, axis=0))
    np.testing.assert_allclose(value, repeated, rtol=1e-12)
    plain, g_plain = loss.value_and_gradient(y.copy(), t)
    ones, g_ones = loss.value_and_gradient(y.copy(), t, np.ones(6))
    np.testing.assert_allclose(ones, plain, rtol=1e-12)
    np.testing.assert_allclose(g_ones, g_plain, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("weights", [np.zeros(4), np.ones(3), -np.ones(4)])
def test_bad_sample_weights_are_refused(weights):
    with pytest.raises(ValueError, match=r"sample_weight must hold one non-negative weight"):
        get_loss("mse").value_and_gradient(np.zeros((4, 1)), np.zeros((4, 1)), weights)


# ------------------------------------------------------------------ worked values
Y = np.array([[1.0, 2.0], [3.0, -1.0]])
T = np.array([[0.0, 1.0], [1.0, 1.0]])
# d = Y − T = [[1, 1], [2, −2]];  Σ d² = 1 + 1 + 4 + 4 = 10


def test_squared_error_is_the_posts_half_norm_averaged_over_samples():
    """L = (1/n) Σ_i ½ ‖y_i − t_i‖² = (½·2 + ½·8) / 2 = 2.5;  ∂L/∂Y = (Y − T) / n."""
    value, grad = get_loss("squared_error").value_and_gradient(Y.copy(), T)
    assert value == 2.5
    np.testing.assert_array_equal(grad, [[0.5, 0.5], [1.0, -1.0]])


def test_mse_is_the_mean_over_samples_and_outputs():
    """L = (1/(n k)) Σ (y − t)² = 10 / 4 = 2.5;  ∂L/∂Y = 2 (Y − T) / (n k)."""
    value, grad = get_loss("mse").value_and_gradient(Y.copy(), T)
    assert value == 2.5
    np.testing.assert_array_equal(grad, [[0.5, 0.5], [1.0, -1.0]])
    value3, _ = get_loss("mse").value_and_gradient(np.array([[3.0]]), np.array([[1.0]]))
    assert value3 == 4.0


def test_squared_error_does_not_modify_its_inputs():
    y, t = Y.copy(), T.copy()
    get_loss("squared_error").value_and_gradient(y, t)
    get_loss("mse").value_and_gradient(y, t)
    np.testing.assert_array_equal(y, Y)
    np.testing.assert_array_equal(t, T)


def test_cross_entropy_worked_value():
    """z = [0, log 3] → softmax = [¼, ¾]; for class 1, L = −log ¾; ∂L/∂z = [¼, −¼]."""
    z = np.array([[0.0, np.log(3)]])
    value, grad = get_loss("cross_entropy").value_and_gradient(z, np.array([1]))
    assert value == pytest.approx(-np.log(0.75), rel=1e-15)
    np.testing.assert_allclose(grad, [[0.25, -0.25]], rtol=1e-15, atol=1e-16)


def test_binary_cross_entropy_worked_value():
    """z = log 3 → σ = ¾; for t = 1, L = −log ¾, for t = 0, L = −log ¼; ∂L/∂z = (σ − t)/N."""
    z = np.array([[np.log(3)], [np.log(3)]])
    value, grad = get_loss("binary_cross_entropy").value_and_gradient(z, np.array([[1.0], [0.0]]))
    assert value == pytest.approx((-np.log(0.75) - np.log(0.25)) / 2, rel=1e-15)
    np.testing.assert_allclose(grad, [[-0.125], [0.375]], rtol=1e-15, atol=1e-16)


# ------------------------------------------------------------------ extreme logits
LOGITS = np.array(
    [
        [1e4, -1e4, 0.0],
        [-1e4, -1e4, -1e4],
        [1e4, 1e4 - 1.0, -1e4],
        [0.5, 3e3, -7e3],
    ]
)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("target", [0, 1, 2])
def test_cross_entropy_is_finite_and_exact_for_logits_of_1e4(dtype, target):
    """Value = mean(logsumexp(z) − z_t) and gradient = (softmax(z) − onehot)/n, both finite,
    compared with a float64 logsumexp written here."""
    t = np.full(len(LOGITS), target)
    z = LOGITS.astype(dtype)
    value, grad = get_loss("cross_entropy").value_and_gradient(z, t)
    z64 = z.astype(np.float64)
    expected = np.mean(logsumexp(z64) - z64[np.arange(len(t)), t])
    p = np.exp(z64 - logsumexp(z64)[:, None])
    expected_grad = (p - np.eye(3)[t]) / len(t)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    assert value == pytest.approx(expected, rel=rtol)
    np.testing.assert_allclose(grad, expected_grad, rtol=rtol, atol=1e-7)
    assert grad.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_binary_cross_entropy_is_finite_for_logits_of_1e4(dtype):
    """softplus(z) − t z, computed here as logaddexp(0, z) − t z in float64."""
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 30.0]], dtype=dtype)
    t = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.5]], dtype=dtype)
    value, grad = get_loss("binary_cross_entropy").value_and_gradient(z, t)
    z64, t64 = z.astype(np.float64), t.astype(np.float64)
    expected = np.mean(np.logaddexp(0, z64) - t64 * z64)
    expected_grad = (1 / (1 + np.exp(-np.clip(z64, -700, 700))) - t64) / z.size
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert value == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-6, atol=1e-8)


def test_binary_cross_entropy_matches_the_textbook_formula():
    """−[t log σ(z) + (1 − t) log(1 − σ(z))] for moderate z."""
    rng = np.random.default_rng(1)
    z, t = rng.normal(size=(6, 3)), rng.uniform(size=(6, 3))
    s = 1 / (1 + np.exp(-z))
    expected = np.mean(-(t * np.log(s) + (1 - t) * np.log(1 - s)))
    assert get_loss("binary_cross_entropy")(z, t) == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_hot_targets_give_the_same_loss_and_gradient_as_class_ids(seed):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(7, 4)) * 3
    ids = rng.integers(0, 4, size=7)
    loss = get_loss("cross_entropy")
    v_ids, g_ids = loss.value_and_gradient(z.copy(), ids)
    v_hot, g_hot = loss.value_and_gradient(z.copy(), np.eye(4)[ids])
    assert v_ids == pytest.approx(v_hot, rel=1e-14)
    np.testing.assert_allclose(g_ids, g_hot, rtol=1e-14, atol=1e-16)


def test_outputs_are_probabilities():
    z = np.random.default_rng(0).normal(size=(5, 3)) * 10
    p = get_loss("cross_entropy").output(z)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    s = get_loss("binary_cross_entropy").output(z)
    np.testing.assert_allclose(s, 1 / (1 + np.exp(-z)), rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(get_loss("mse").output(z), z)


# ------------------------------------------------------------------ dtypes
@pytest.mark.parametrize("name", sorted(cb.LOSSES))
def test_float32_gradient_stays_float32(name):
    rng = np.random.default_rng(0)
    y = rng.normal(size=(4, 3)).astype(np.float32)
    t = draw_targets(name, rng, 4, 3)
    loss = get_loss(name)
    t = loss.prepare_targets(t, 3, np.dtype(np.float32))
    value, grad = loss.value_and_gradient(y, t)
    assert grad.dtype == np.float32
    assert isinstance(value, float)


# ------------------------------------------------------------------ targets at the boundary
F32 = np.dtype(np.float32)


@pytest.mark.parametrize(
    ("name", "targets", "n_outputs", "match"),
    [
        ("cross_entropy", [0, 3, 1], 3, r"class id 3 at row 1 is out of range.*expected 0\.\.2"),
        ("cross_entropy", [0, -1], 3, r"class id -1 at row 1 is out of range"),
        ("cross_entropy", [0.0, 1.5], 3, r"integer class ids 0\.\.2; target 1\.5 at row 1"),
        ("cross_entropy", [0.0, np.nan], 3, r"integer class ids 0\.\.2; target nan at row 1"),
        ("cross_entropy", ["cat", "dog"], 3, r"integer class ids 0\.\.2; got an array of dtype"),
        ("cross_entropy", [0, 1], 1, r"at least 2 outputs.*binary_cross_entropy"),
        ("cross_entropy", [[0.5, 0.6, 0.0]], 3, r"one-hot .*sum to 1"),
        ("cross_entropy", [[-1.0, 2.0, 0.0]], 3, r"one-hot .*non-negative"),
        ("cross_entropy", [[1.0, 0.0]], 3, r"shape \(1, 2\).*\(n_samples, 3\)"),
        ("binary_cross_entropy", [[0.0], [1.5]], 1, r"targets in \[0, 1\].*row 1 has \[1\.5\]"),
        ("binary_cross_entropy", [[-0.1]], 1, r"targets in \[0, 1\].*row 0"),
        ("binary_cross_entropy", ["yes", "no"], 1, r"targets 0 or 1; got an array of dtype"),
        ("mse", ["1.0", "2.0"], 1, r"mse needs numeric targets"),
        ("mse", [[1.0, 2.0]], 3, r"shape \(1, 2\); expected \(n_samples, 3\)"),
        ("squared_error", np.zeros((2, 2, 2)), 2, r"expected \(n_samples, 2\)"),
    ],
)
def test_bad_targets_are_refused_naming_what_is_wrong(name, targets, n_outputs, match):
    with pytest.raises(ValueError, match=match):
        get_loss(name).prepare_targets(np.array(targets), n_outputs, F32)


def test_good_targets_are_returned_ready_to_use():
    ce = get_loss("cross_entropy")
    ids = ce.prepare_targets(np.array([0.0, 2.0, 1.0]), 3, F32)
    assert ids.dtype == np.int64
    np.testing.assert_array_equal(ids, [0, 2, 1])
    np.testing.assert_array_equal(ce.prepare_targets(np.array([[2], [0]]), 3, F32), [2, 0])
    hot = ce.prepare_targets(np.eye(3)[[1, 2]], 3, F32)
    assert hot.dtype == np.float32 and hot.shape == (2, 3)
    column = get_loss("mse").prepare_targets([1, 2, 3], 1, F32)
    assert column.shape == (3, 1) and column.dtype == np.float32


@pytest.mark.parametrize("bad", ["MSE", "hinge", None])
def test_unknown_loss_is_refused(bad):
    with pytest.raises(ValueError, match=r"unknown loss .*expected one of"):
        get_loss(bad)


def test_get_loss_passes_a_loss_through():
    loss = get_loss("mse")
    assert get_loss(loss) is loss
    assert repr(loss) == "get_loss('mse')"
    assert {"mse", "squared_error", "cross_entropy", "binary_cross_entropy"} <= set(cb.LOSSES)


def test_poisson_and_summed_binary_cross_entropy_equal_scikit_learns():
    base = pytest.importorskip("sklearn.neural_network._base")
    rng = np.random.default_rng(0)
    z, counts = rng.normal(size=(9, 2)), rng.poisson(2.0, size=(9, 2)).astype(float)
    w = rng.uniform(0, 2, size=9)
    value = get_loss("poisson")(z, counts, w)
    assert value == pytest.approx(base.poisson_loss(counts, np.exp(z), w), rel=1e-12)
    labels = rng.integers(0, 2, size=(9, 3)).astype(float)
    p = 1 / (1 + np.exp(-z[:, :1] - rng.normal(size=(9, 3))))
    logits = np.log(p / (1 - p))
    value = get_loss("binary_cross_entropy_sum")(logits, labels, w)
    assert value == pytest.approx(base.binary_log_loss(labels, p, w), rel=1e-10)
