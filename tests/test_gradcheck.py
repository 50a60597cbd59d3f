"""cb.gradcheck: tiny errors for correct networks of every activation and loss, a large one
for a deliberately broken derivative, verbose output, float32 networks checked in float64."""

import numpy as np
import pytest

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
    assert errors["layer0.W"] > 1e-3 and errors["layer0.b"] > 1e-3
    assert errors["layer1.W"] < 1e-7 and errors["layer1.b"] < 1e-7  # above the bad layer
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
    assert len(lines) == len(net.parameters()) == 6
    for line, name in zip(lines, net.parameter_names()):
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
    assert lines[0].startswith("layer0.W") and lines[0].endswith("CHECK")
    assert lines[2].startswith("layer1.W") and lines[2].endswith("ok")


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
    assert list(errors) == net.parameter_names()
    for name, a, n in zip(net.parameter_names(), analytic, numeric):
        expected = np.linalg.norm(a - n) / max(np.linalg.norm(a) + np.linalg.norm(n), 1e-12)
        assert errors[name] == pytest.approx(expected, rel=1e-9, abs=1e-15)
    # a zero gradient checked against zero differences is no error
    flat = cb.Network([cb.Dense(2, 1, "relu", bias=False)], dtype="float64")
    flat.parameters()[0][...] = -1.0
    assert cb.gradient_errors(flat, [[1.0, 1.0]], [0.0]) == {"layer0.W": 0.0}
