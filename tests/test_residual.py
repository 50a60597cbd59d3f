"""Residual: o = x + F(x), its backward, shapes, configs and names."""

from __future__ import annotations

import numpy as np
import pytest

import cartoonbrain as cb
from cartoonbrain.layers import BatchNorm, Residual, layer_from_config
from layer_checks import assert_layer_gradients, bind


def test_output_is_input_plus_block():
    block = [cb.Dense(3, 3, activation="tanh"), cb.Dense(3, 3)]
    layer = Residual(block)
    params, _ = bind(layer, np.random.default_rng(0))
    W1, b1, W2, b2 = params
    x = np.random.default_rng(1).standard_normal((4, 3))
    expected = x + np.tanh(x @ W1.T + b1) @ W2.T + b2
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-14, atol=1e-15)
    x_before = x.copy()
    np.testing.assert_allclose(layer.infer(x), expected, rtol=1e-14, atol=1e-15)
    np.testing.assert_array_equal(x, x_before)  # infer leaves its input alone


def test_gradients_against_central_differences():
    layer = Residual([cb.Dense(3, 5, activation="tanh"), cb.Dense(5, 3, activation="sigmoid")])
    rng = np.random.default_rng(2)
    params, grads = bind(layer, rng)
    assert_layer_gradients(layer, rng.standard_normal((4, 3)), params, grads)


def test_identity_block_passes_g_twice():
    """F = Dropout (the identity when predicting): o = 2x, G_prev = 2G."""
    layer = Residual([cb.Dropout(0.5)])
    x = np.ones((2, 3))
    np.testing.assert_array_equal(layer.infer(x), 2 * x)
    layer.forward(x)
    np.testing.assert_array_equal(layer.backward(np.full((2, 3), 0.5)), np.ones((2, 3)))


def test_network_names_config_and_gradcheck():
    net = cb.Network(
        [
            cb.Dense(2, 4, activation="relu"),
            Residual([cb.Dense(4, 4, activation="tanh")]),
            cb.Dense(4, 1),
        ],
        dtype="float64",
        seed=0,
    )
    assert net.parameter_names()[2:4] == ["layer1.0.W", "layer1.0.b"]
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((6, 2)), rng.standard_normal((6, 1))
    assert cb.gradcheck(net, X, y) < 1e-6
    rebuilt = cb.Network.from_config(net.get_config())
    rebuilt.flat_parameters[...] = net.flat_parameters
    np.testing.assert_array_equal(rebuilt.predict(X), net.predict(X))


def test_block_must_keep_the_shape():
    with pytest.raises(ValueError, match=r"turn inputs of shape \(4,\) into \(3,\)"):
        Residual([cb.Dense(4, 3)]).output_shape((4,))
    with pytest.raises(ValueError, match="non-empty list of layers"):
        Residual([])
    with pytest.raises(ValueError, match="not a cartoonbrain layer"):
        Residual([np.tanh])


def test_config_holds_the_block_and_state_is_prefixed():
    layer = Residual([cb.Dense(4, 4), BatchNorm(4)])
    copy = layer_from_config(layer.get_config())
    assert copy.get_config() == layer.get_config()
    assert list(layer.state_arrays()) == ["1.running_mean", "1.running_var"]
