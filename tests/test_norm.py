"""BatchNorm and LayerNorm: the statistics, both modes, central differences, PyTorch, state."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import cartoonbrain as cb
from cartoonbrain.layers import (
    BatchNorm,
    LayerNorm,
    Residual,
    layer_from_config,
    layer_states,
    load_layer_states,
)
from layer_checks import assert_layer_gradients, bind

BATCH_SHAPES = [(6, 3), (5, 3, 4), (4, 3, 2, 3)]  # (N, F), (N, C, L), (N, C, H, W)


def batch_axes(x):
    return (0, *range(2, x.ndim))


def line(v, x):
    return v.reshape((1, -1) + (1,) * (x.ndim - 2))


# ---------------------------------------------------------------- BatchNorm's maths


@pytest.mark.parametrize("shape", BATCH_SHAPES)
def test_batchnorm_training_standardises_each_channel(shape):
    layer = BatchNorm(3)
    params, _ = bind(layer, np.random.default_rng(0))
    gamma, beta = params
    x = np.random.default_rng(1).normal(2.0, 3.0, shape)
    o = layer.forward(x, training=True)
    x_hat = (o - line(beta, o)) / line(gamma, o)
    np.testing.assert_allclose(x_hat.mean(axis=batch_axes(x)), 0, atol=1e-12)
    np.testing.assert_allclose(x_hat.var(axis=batch_axes(x)), 1, rtol=1e-4)  # ε = 1e-5


def test_running_statistics_follow_pytorchs_rule():
    """μ_run ← 0.9 μ_run + 0.1 μ;  σ²_run ← 0.9 σ²_run + 0.1 σ² m/(m − 1), from (0, 1)."""
    layer = BatchNorm(3)
    bind(layer, np.random.default_rng(0))
    layer.initialize(np.random.default_rng(0))
    rng = np.random.default_rng(2)
    mean, var = np.zeros(3), np.ones(3)
    for _ in range(3):
        x = rng.normal(1.0, 2.0, (5, 3, 4))
        layer.forward(x, training=True)
        mean = 0.9 * mean + 0.1 * x.mean(axis=(0, 2))
        var = 0.9 * var + 0.1 * x.var(axis=(0, 2), ddof=1)
    np.testing.assert_allclose(layer.running_mean, mean, rtol=1e-14)
    np.testing.assert_allclose(layer.running_var, var, rtol=1e-14)


@pytest.mark.parametrize("shape", BATCH_SHAPES)
def test_batchnorm_prediction_uses_running_statistics(shape):
    layer = BatchNorm(3)
    gamma, beta = bind(layer, np.random.default_rng(0))[0]
    layer.load_state_arrays({"running_mean": [0.5, -1.0, 2.0], "running_var": [4.0, 0.25, 1.0]})
    x = np.random.default_rng(3).standard_normal(shape)
    m, v = np.array([0.5, -1.0, 2.0]), np.array([4.0, 0.25, 1.0])
    expected = (x - line(m, x)) / np.sqrt(line(v, x) + 1e-5) * line(gamma, x) + line(beta, x)
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(layer.infer(x), expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("shape", BATCH_SHAPES)
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_gradients_against_central_differences(shape, training):
    layer = BatchNorm(3)
    rng = np.random.default_rng(4)
    params, grads = bind(layer, rng)
    layer.load_state_arrays(
        {"running_mean": rng.standard_normal(3), "running_var": [2.0, 0.5, 1.5]}
    )
    assert_layer_gradients(layer, rng.standard_normal(shape), params, grads, training=training)


def test_batchnorm_refuses_bad_shapes_and_single_values():
    with pytest.raises(ValueError, match=r"BatchNorm\(3\) takes inputs of shape \(3,\)"):
        BatchNorm(3).output_shape((4,))
    layer = BatchNorm(3)
    bind(layer, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"got \(2, 3\)"):
        layer.forward(np.zeros((4, 2, 3)))
    with pytest.raises(ValueError, match="more than 1 value per feature"):
        layer.forward(np.zeros((1, 3)), training=True)
    with pytest.raises(ValueError, match="momentum must be a number in"):
        BatchNorm(3, momentum=1.5)


# ---------------------------------------------------------------- LayerNorm's maths


@pytest.mark.parametrize("shape", [(5, 4), (3, 6, 4)])
def test_layernorm_standardises_each_sample_and_step(shape):
    layer = LayerNorm(4)
    gamma, beta = bind(layer, np.random.default_rng(0))[0]
    x = np.random.default_rng(5).normal(3.0, 2.0, shape)
    mean, var = x.mean(axis=-1, keepdims=True), x.var(axis=-1, keepdims=True)
    expected = (x - mean) / np.sqrt(var + 1e-5) * gamma + beta
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(layer.infer(x), expected, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("shape", [(5, 4), (3, 2, 4)])
def test_layernorm_gradients_against_central_differences(shape):
    layer = LayerNorm(4)
    rng = np.random.default_rng(6)
    params, grads = bind(layer, rng)
    assert_layer_gradients(layer, rng.standard_normal(shape), params, grads)


def test_layernorm_refuses_another_width():
    with pytest.raises(ValueError, match=r"LayerNorm\(4\) takes inputs whose last axis has 4"):
        LayerNorm(4).output_shape((3, 5))


# ---------------------------------------------------------------- PyTorch


@pytest.mark.parametrize("shape", BATCH_SHAPES)
def test_batchnorm_equal_to_pytorch(shape):
    """Two training steps and one prediction, against BatchNorm1d/2d in float64."""
    torch = pytest.importorskip("torch")
    module = (torch.nn.BatchNorm2d if len(shape) == 4 else torch.nn.BatchNorm1d)(
        3, dtype=torch.float64
    )
    layer = BatchNorm(3)
    params, grads = bind(layer, np.random.default_rng(0))
    layer.initialize(np.random.default_rng(0))
    rng = np.random.default_rng(7)
    with torch.no_grad():  # both start with μ_run = 0, σ²_run = 1; γ and β at random
        module.weight.copy_(torch.tensor(1 + rng.standard_normal(3)))
        module.bias.copy_(torch.tensor(rng.standard_normal(3)))
    params[0][...], params[1][...] = module.weight.detach().numpy(), module.bias.detach().numpy()
    for _ in range(2):
        x = rng.normal(1.0, 2.0, shape)
        G = rng.standard_normal(shape)
        xt = torch.tensor(x, requires_grad=True)
        module.zero_grad()
        out = module(xt)
        (out * torch.tensor(G)).sum().backward()
        np.testing.assert_allclose(
            layer.forward(x, training=True), out.detach().numpy(), atol=1e-12
        )
        np.testing.assert_allclose(layer.backward(G), xt.grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(grads[0], module.weight.grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(grads[1], module.bias.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(layer.running_mean, module.running_mean.numpy(), atol=1e-14)
    np.testing.assert_allclose(layer.running_var, module.running_var.numpy(), atol=1e-14)
    module.eval()
    x = rng.standard_normal(shape)
    np.testing.assert_allclose(layer.infer(x), module(torch.tensor(x)).detach().numpy(), atol=1e-12)


def test_layernorm_equal_to_pytorch():
    torch = pytest.importorskip("torch")
    module = torch.nn.LayerNorm(4, dtype=torch.float64)
    layer = LayerNorm(4)
    params, grads = bind(layer, np.random.default_rng(0))
    with torch.no_grad():
        module.weight.copy_(torch.tensor(params[0]))
        module.bias.copy_(torch.tensor(params[1]))
    rng = np.random.default_rng(8)
    x, G = rng.standard_normal((3, 5, 4)), rng.standard_normal((3, 5, 4))
    xt = torch.tensor(x, requires_grad=True)
    out = module(xt)
    (out * torch.tensor(G)).sum().backward()
    np.testing.assert_allclose(layer.forward(x), out.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(layer.backward(G), xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(grads[0], module.weight.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(grads[1], module.bias.grad.numpy(), atol=1e-12)


# ---------------------------------------------------------------- networks and state


def batchnorm_network(seed=0):
    return cb.Network(
        [
            cb.Dense(4, 8, activation="relu"),
            BatchNorm(8),
            Residual([cb.Dense(8, 8, activation="relu"), BatchNorm(8)]),
            cb.Dense(8, 3),
        ],
        loss="cross_entropy",
        seed=seed,
    )


def trained_batchnorm_network():
    rng = np.random.default_rng(9)
    X = rng.normal(3.0, 2.0, (60, 4))
    y = (X[:, 0] > 3).astype(int) + (X[:, 1] > 3).astype(int)
    net = batchnorm_network()
    net.fit(X, y, epochs=5, batch_size=20, learning_rate=0.01)
    return net, X


def test_state_arrays_are_named_like_parameters():
    net, _ = trained_batchnorm_network()
    states = layer_states(net.layers)
    assert list(states) == [
        "layer1.running_mean",
        "layer1.running_var",
        "layer2.1.running_mean",
        "layer2.1.running_var",
    ]
    assert all(a.shape == (8,) and a.dtype == np.float32 for a in states.values())
    assert not np.allclose(states["layer1.running_mean"], 0)  # training moved them


def test_config_parameters_and_state_round_trip():
    """What a model file must hold: the config, the parameters and the state arrays."""
    net, X = trained_batchnorm_network()
    expected = net.predict(X)
    rebuilt = cb.Network.from_config(net.get_config())
    rebuilt.flat_parameters[...] = net.flat_parameters
    assert not np.allclose(rebuilt.predict(X), expected, atol=1e-3)  # state still missing
    load_layer_states(rebuilt.layers, {k: v.copy() for k, v in layer_states(net.layers).items()})
    np.testing.assert_array_equal(rebuilt.predict(X), expected)


def test_loading_state_refuses_wrong_names_and_shapes():
    net = batchnorm_network()
    states = {k: v.copy() for k, v in layer_states(net.layers).items()}
    with pytest.raises(ValueError, match="has shape"):
        load_layer_states(net.layers, {**states, "layer1.running_var": np.ones(7)})
    with pytest.raises(ValueError, match="do not match"):
        load_layer_states(net.layers, {k: v for k, v in states.items() if "layer1." not in k})
    with pytest.raises(ValueError, match="for layer 0, which has no state"):
        load_layer_states(net.layers, {**states, "layer0.running_mean": np.ones(8)})


def test_layer_copies_keep_their_state():
    net, _ = trained_batchnorm_network()
    copy = pickle.loads(pickle.dumps(net.layers[1]))
    np.testing.assert_array_equal(copy.running_var, net.layers[1].running_var)
    assert layer_from_config(net.layers[1].get_config()).get_config() == net.layers[1].get_config()


def test_network_gradcheck_in_prediction_mode():
    net, X = trained_batchnorm_network()
    y = np.arange(len(X)) % 3
    assert cb.gradcheck(net, X[:8], y[:8]) < 1e-6


def test_layernorm_in_a_sequence_network_gradcheck():
    net = cb.Network(
        [LayerNorm(3), cb.GRU(3, 4), cb.Dense(4, 2)], loss="mse", input_shape=(5, 3), seed=0
    )
    rng = np.random.default_rng(10)
    assert cb.gradcheck(net, rng.standard_normal((4, 5, 3)), rng.standard_normal((4, 2))) < 1e-6
