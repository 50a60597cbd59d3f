"""cb.gradcheck: tiny errors for correct networks of every activation and loss, a large one
for a deliberately broken derivative, verbose output, float32 networks checked in float64."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

import cartoonbrain as cb
from cartoonbrain.diagnostics.gradcheck import central_difference, numerical_gradients

KINKED = {"relu", "leaky_relu", "elu"}


def targets_for(loss, rng, n, k):
    if loss in ("mse", "squared_error"):
        return rng.normal(size=(n, k))
    if loss == "cross_entropy":
        return rng.integers(0, k, size=n)
    return rng.integers(0, 2, size=(n, k))


def problem(activation, loss, dtype="float64", seed=0):
    net = cb.Network(
        [cb.Dense(4, 5, activation), cb.Dense(5, 4, activation), cb.Dense(4, 3)],
        loss=loss,
        seed=seed,
        dtype=dtype,
    )
    rng = np.random.default_rng(seed)
    for p in net.parameters():
        p[...] = rng.normal(size=p.shape) * 0.8
    X = rng.normal(size=(6, 4))
    return net, X, targets_for(loss, rng, 6, 3)


@pytest.mark.parametrize("loss", sorted(cb.LOSSES))
@pytest.mark.parametrize("activation", sorted(cb.ACTIVATIONS))
def test_correct_networks_have_tiny_errors(activation, loss):
    net, X, y = problem(activation, loss)
    net.forward(net.check_inputs(X))
    if activation in KINKED:  # no affine within reach of the kink at 0
        assert min(np.min(np.abs(la.affines)) for la in net.layers[:2]) > 1e-4
    assert cb.gradcheck(net, X, y) < 1e-7


def test_a_broken_derivative_is_detected():
    """tanh with f' = ½ (1 − o²) instead of 1 − o² in backward."""
    bad = cb.Activation(
        "bad", np.tanh, lambda a, o: 1 - o * o, lambda g, a, o: g * 0.5 * (1 - o * o)
    )
    net = cb.Network([cb.Dense(3, 4, bad), cb.Dense(4, 2)], seed=0, dtype="float64")
    X = np.random.default_rng(0).normal(size=(5, 3))
    y = np.random.default_rng(1).normal(size=(5, 2))
    errors = cb.gradient_errors(net, X, y)
    assert errors["layer1.W"] > 1e-3 and errors["layer1.b"] > 1e-3
    assert errors["layer2.W"] < 1e-7 and errors["layer2.b"] < 1e-7  # above the bad layer
    assert cb.gradcheck(net, X, y) == max(errors.values()) > 1e-3


def test_a_broken_loss_gradient_is_detected():
    class SignError(cb.Loss):
        name = "mse"

        def mean(self, y, t):
            d = y - t
            return float(np.mean(d * d)), -2 * d / d.size  # lost minus sign

        def prepare_targets(self, t, n_outputs, dtype):
            return np.asarray(t, dtype=dtype).reshape(-1, n_outputs)

    net = cb.Network([cb.Dense(3, 2, "tanh")], loss=SignError(), seed=0, dtype="float64")
    X, y = np.random.default_rng(0).normal(size=(4, 3)), np.ones((4, 2))
    assert cb.gradcheck(net, X, y) > 0.5


def test_verbose_prints_one_line_per_parameter(capsys):
    net, X, y = problem("tanh", "mse")
    worst = cb.gradcheck(net, X, y, verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(net.parameters()) + 1 == 7  # and ∂L/∂X
    names = ["layer1.W", "layer1.b", "layer2.W", "layer2.b", "layer3.W", "layer3.b", "X"]
    for line, name in zip(lines, names, strict=True):
        assert line.startswith(name)
        assert "relative error" in line and line.endswith("ok")
    assert worst < 1e-7


def test_verbose_flags_a_broken_gradient(capsys):
    bad = cb.Activation(
        "bad", np.tanh, lambda a, o: 1 - o * o, lambda g, a, o: g * 0.5 * (1 - o * o)
    )
    net = cb.Network([cb.Dense(3, 4, bad), cb.Dense(4, 2)], seed=0, dtype="float64")
    cb.gradcheck(net, np.ones((2, 3)), np.zeros((2, 2)), verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("layer1.W") and lines[0].endswith("CHECK")
    assert lines[2].startswith("layer2.W") and lines[2].endswith("ok")
    assert lines[-1] == "most likely at fault: layer 1 (Dense, bad): its backward (f'(a_l), " + (
        "∇W_l = gᵀ o_prev), or the input gradient layer 2 (Dense, identity) passes back to it "
        "(g_prev = g W)"
    )


def test_a_float32_network_is_checked_through_float64():
    """float32 rounding alone would give errors near 1e-3; the check copies to float64."""
    net, X, y = problem("tanh", "cross_entropy", dtype="float32")
    before = net.flat_parameters.copy()
    assert cb.gradcheck(net, X, y) < 1e-7
    assert net.dtype == np.float32 and net.flat_parameters.dtype == np.float32
    np.testing.assert_array_equal(net.flat_parameters, before)


def test_the_checked_network_is_left_as_it_was():
    net, X, y = problem("sigmoid", "squared_error")
    before = net.flat_parameters.copy()
    cb.gradcheck(net, X, y)
    np.testing.assert_array_equal(net.flat_parameters, before)


def test_l2_and_dropout_networks_check_out():
    net = cb.Network(
        [cb.Dense(3, 6, "elu"), cb.Dropout(0.5), cb.Dense(6, 2)],
        loss="cross_entropy",
        seed=0,
        dtype="float64",
        l2=0.1,
    )
    X = np.random.default_rng(0).normal(size=(5, 3))
    assert cb.gradcheck(net, X, [0, 1, 1, 0, 1]) < 1e-7  # dropout is off in the check


def test_central_difference_is_exact_for_quadratics_and_restores_x():
    """f(x) = Σ c ⊙ x²: (f(x + h) − f(x − h)) / 2h = 2 c x exactly, up to rounding."""
    rng = np.random.default_rng(0)
    c, x = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    before = x.copy()
    estimate = central_difference(lambda v: np.sum(c * v * v), x)
    np.testing.assert_allclose(estimate, 2 * c * x, rtol=1e-7, atol=1e-8)
    np.testing.assert_array_equal(x, before)
    elementwise = central_difference(lambda v: c * v * v, x, elementwise=True)
    np.testing.assert_allclose(elementwise, 2 * c * x, rtol=1e-7, atol=1e-8)
    np.testing.assert_array_equal(x, before)
    some = central_difference(lambda v: np.sum(c * v * v), x, entries=[0, 5])
    assert np.flatnonzero(~np.isnan(some)).tolist() == [0, 5]
    np.testing.assert_allclose(some.reshape(-1)[[0, 5]], (2 * c * x).reshape(-1)[[0, 5]])


def test_central_difference_refuses_float32():
    with pytest.raises(ValueError, match="float64 array x; got float32"):
        central_difference(np.sum, np.ones(3, dtype=np.float32))


def test_numerical_gradients_are_central_differences():
    """For L = ½ (w x − t)² with one weight: ∂L/∂w = (w x − t) x, exactly quadratic."""
    net = cb.Network([cb.Dense(1, 1, bias=False)], loss="squared_error", dtype="float64")
    net.parameters()[0][...] = 0.5
    (estimate,) = numerical_gradients(net, [[2.0]], [3.0])
    np.testing.assert_allclose(estimate, [[(0.5 * 2 - 3) * 2]], rtol=1e-8, atol=1e-10)


def test_max_entries_checks_a_random_subset():
    net, X, y = problem("tanh", "mse")
    estimates = numerical_gradients(net, X, y, max_entries=3)
    _, grads = net.loss_and_gradients(X, y)
    for estimate, g in zip(estimates, grads):
        checked = ~np.isnan(estimate)
        assert checked.sum() == min(3, g.size)
        np.testing.assert_allclose(estimate[checked], g[checked], rtol=1e-6, atol=1e-8)
    assert cb.gradcheck(net, X, y, max_entries=3) < 1e-7


def test_a_float32_network_with_a_custom_activation_is_checked_too():
    """The float64 copy keeps the layers' own Activation objects (a user's new activation
    is exactly what one wants to check), not just their names."""
    good = cb.Activation(
        "my_tanh", np.tanh, lambda a, o: 1 - o * o, lambda g, a, o: g * (1 - o * o)
    )
    bad = cb.Activation(
        "bad", np.tanh, lambda a, o: 1 - o * o, lambda g, a, o: g * 0.5 * (1 - o * o)
    )
    X = np.random.default_rng(0).normal(size=(5, 3))
    y = np.random.default_rng(1).normal(size=(5, 2))
    for activation, ok in [(good, True), (bad, False)]:
        net = cb.Network([cb.Dense(3, 4, activation), cb.Dense(4, 2)], seed=0)  # float32
        assert (cb.gradcheck(net, X, y) < 1e-7) is ok


def test_the_error_is_the_relative_norm_of_the_difference():
    """error = ‖∇_analytic − ∇_numeric‖ / max(‖∇_analytic‖ + ‖∇_numeric‖, 1e-12), per array."""
    bad = cb.Activation("bad", np.tanh, lambda a, o: 1 - o * o, lambda g, a, o: g * (1 - o))
    net = cb.Network([cb.Dense(3, 4, bad), cb.Dense(4, 2)], seed=0, dtype="float64")
    X = np.random.default_rng(0).normal(size=(5, 3))
    y = np.random.default_rng(1).normal(size=(5, 2))
    _, analytic = net.loss_and_gradients(X, y)
    numeric = numerical_gradients(net, X, y)
    errors = cb.gradient_errors(net, X, y)
    assert list(errors) == ["layer1.W", "layer1.b", "layer2.W", "layer2.b", "X"]
    for name, a, n in zip(errors, analytic, numeric):
        expected = np.linalg.norm(a - n) / max(np.linalg.norm(a) + np.linalg.norm(n), 1e-12)
        assert errors[name] == pytest.approx(expected, rel=1e-9, abs=1e-15)
    # a zero gradient checked against zero differences is no error
    flat = cb.Network([cb.Dense(2, 1, "relu", bias=False)], dtype="float64")
    flat.parameters()[0][...] = -1.0
    assert cb.gradient_errors(flat, [[1.0, 1.0]] * 2, [0.0] * 2) == {"layer1.W": 0.0, "X": 0.0}


# ------------------------------------------------------------------ the input gradient
class WrongInputGradient(cb.Dense):
    """A Dense layer whose returned g_prev = g W is 10% too large (its own ∇W is right)."""

    def backward(self, g, need_input_gradient=True):
        g_prev = super().backward(g, need_input_gradient)
        return None if g_prev is None else 1.1 * g_prev


class MissingBatchSum(cb.Dense):
    """∇b = g[0] instead of Σ_rows g: right on one row, wrong on more."""

    def backward(self, g, need_input_gradient=True):
        first_row = self.activation.backward(g.copy(), self.affines, self.transforms)[0]
        g_prev = super().backward(g, need_input_gradient)
        self.db[...] = first_row
        return g_prev


@pytest.mark.parametrize("position", [0, 1, 2])
def test_a_wrong_input_gradient_is_caught_in_any_layer_first_included(position):
    rng = np.random.default_rng(0)
    sizes = [3, 4, 5, 2]
    layers = [
        (WrongInputGradient if i == position else cb.Dense)(sizes[i], sizes[i + 1], "tanh")
        for i in range(3)
    ]
    net = cb.Network(layers, seed=0, dtype="float64")
    X, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    errors = cb.gradient_errors(net, X, y)
    assert errors["X"] > 1e-3  # every wrong g_prev reaches ∂L/∂X
    for number in range(1, 4):  # layers below the wrong one fail, the rest pass
        assert (errors[f"layer{number}.W"] > 1e-3) is (number <= position)
    with pytest.raises(cb.GradientCheckError, match=f"layer {max(position, 1)} "):
        cb.gradcheck(net, X, y, raise_on_failure=True)
    # without the input gradient the first layer's fault goes unseen
    assert (cb.gradcheck(net, X, y, inputs=False) < 1e-7) is (position == 0)


def test_the_culprit_is_the_failing_layer_nearest_the_output():
    bad = cb.Activation(
        "bad", np.tanh, lambda a, o: 1 - o * o, lambda g, a, o: g * 0.5 * (1 - o * o)
    )
    net = cb.Network(
        [cb.Dense(3, 4, "tanh"), cb.Dense(4, 5, bad), cb.Dense(5, 2)], seed=0, dtype="float64"
    )
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    with pytest.raises(cb.GradientCheckError) as caught:
        cb.gradcheck(net, X, y, raise_on_failure=True)
    text = str(caught.value)
    assert "most likely at fault: layer 2 (Dense, bad)" in text
    assert "layer3.W  relative error" in text and "X         relative error" in text
    worst = cb.gradcheck(net, X, y)
    assert worst == max(cb.gradient_errors(net, X, y).values()) > 1e-3


def test_the_input_gradient_is_in_the_worst_error_and_in_raise_mode_a_pass_returns():
    net, X, y = problem("tanh", "mse")
    assert cb.gradcheck(net, X, y, raise_on_failure=True) < 1e-7
    errors = cb.gradient_errors(net, X, y)
    assert "X" in errors and cb.gradcheck(net, X, y) == max(errors.values())
    wrong = cb.Network([WrongInputGradient(4, 3)], seed=0, dtype="float64")
    assert (
        cb.gradcheck(wrong, X, np.zeros((6, 3)))
        == cb.gradient_errors(wrong, X, np.zeros((6, 3)))["X"]
    )


def test_a_missing_sum_over_the_batch_passes_one_row_with_a_warning_and_fails_two():
    net = cb.Network([MissingBatchSum(3, 2, "tanh")], seed=0, dtype="float64")
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    with pytest.warns(UserWarning, match="one-row batch cannot catch a missing sum"):
        assert cb.gradcheck(net, X[:1], y[:1]) < 1e-7
    assert cb.gradcheck(net, X, y) > 1e-3


def test_embedding_inputs_are_ids_and_get_no_input_check():
    net = cb.Network(
        [cb.Embedding(5, 3), cb.Flatten(), cb.Dense(6, 2)], loss="cross_entropy", seed=0
    )
    ids = np.array([[0, 1], [2, 3], [4, 0]])
    errors = cb.gradient_errors(net, ids, [0, 1, 1])
    assert "X" not in errors and max(errors.values()) < 1e-7


def test_summary_numbers_layers_from_1_as_gradcheck_does():
    net = cb.Network([cb.Dense(3, 4, "tanh"), cb.Dense(4, 2)], seed=0)
    rows = net.summary(print_fn=None).splitlines()[2:4]
    assert [row.split()[0] for row in rows] == ["1", "2"]


@hypothesis_settings(max_examples=15, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 5), min_size=2, max_size=4),
    data=st.data(),
)
def test_a_wrong_input_gradient_anywhere_fails_x_and_every_layer_below(sizes, data):
    """For any stack of Dense layers, a layer k whose g_prev is 10% off spoils ∂L/∂X and
    the gradients of layers 1 … k−1, never those of k and above; the culprit named is the
    failing layer nearest the output (k − 1, or k itself when k is the first)."""
    n_layers = len(sizes) - 1
    k = data.draw(st.integers(1, n_layers), label="wrong layer (from 1)")
    layers = [
        (WrongInputGradient if i + 1 == k else cb.Dense)(sizes[i], sizes[i + 1], "tanh")
        for i in range(n_layers)
    ]
    net = cb.Network(layers, seed=0, dtype="float64")
    rng = np.random.default_rng(len(sizes) * 10 + k)
    X, y = rng.normal(size=(4, sizes[0])), rng.normal(size=(4, sizes[-1]))
    errors = cb.gradient_errors(net, X, y)
    assert errors["X"] > 1e-3
    for number in range(1, n_layers + 1):
        assert (errors[f"layer{number}.W"] > 1e-3) is (number < k), (number, errors)
    fault = cb.diagnostics.gradcheck.likely_fault(net, errors)
    assert fault.startswith(f"layer {max(k - 1, 1)} (")
