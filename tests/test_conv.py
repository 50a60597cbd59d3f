"""Convolution and pooling layers: naive loops, finite differences, PyTorch, networks."""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cartoonbrain as cb
from cartoonbrain.diagnostics.gradcheck import central_difference
from cartoonbrain.layers import (
    LAYERS,
    AvgPool1D,
    AvgPool2D,
    Conv1D,
    Conv2D,
    MaxPool1D,
    MaxPool2D,
    layer_from_config,
    output_size,
)
from cartoonbrain.layers import conv as conv_module

# ---------------------------------------------------------------- references
# Slow and obvious: one output position at a time, straight from the definitions.


def window_at(p, kernel, stride):
    """The index [:, :, s·p : s·p + k] of the window at position p, on every spatial axis."""
    spatial = tuple(slice(s * q, s * q + k) for s, q, k in zip(stride, p, kernel))
    return (slice(None), slice(None), *spatial)


def naive_conv(x, W, b, stride, padding):
    """a[n, o, p] = Σ_c Σ_j W[o, c, j] · x_pad[n, c, s·p + j] + b[o], position by position."""
    kernel = W.shape[2:]
    x_pad = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in padding])
    out = [(x_pad.shape[2 + i] - k) // s + 1 for i, (k, s) in enumerate(zip(kernel, stride))]
    a = np.zeros((len(x), len(W), *out))
    for p in np.ndindex(*out):
        window = x_pad[window_at(p, kernel, stride)]
        for n in range(len(x)):
            for o in range(len(W)):
                a[(n, o, *p)] = np.sum(W[o] * window[n]) + b[o]
    return a


def naive_pool(x, pool, stride, reduce):
    """o[n, c, p] = reduce(x[n, c, s·p : s·p + k]), position by position."""
    out = [(x.shape[2 + i] - k) // s + 1 for i, (k, s) in enumerate(zip(pool, stride))]
    o = np.zeros((*x.shape[:2], *out))
    for p in np.ndindex(*out):
        window = x[window_at(p, pool, stride)]
        o[(slice(None), slice(None), *p)] = reduce(window.reshape(*x.shape[:2], -1), axis=-1)
    return o


def bind(layer, rng, dtype=np.float64):
    """Give a layer its own parameter and gradient arrays, as the Network would."""
    params = [rng.standard_normal(shape).astype(dtype) for shape in layer.parameter_shapes()]
    grads = [np.full(shape, np.nan, dtype=dtype) for shape in layer.parameter_shapes()]
    layer.bind(params, grads)
    return params, grads


def central_differences(loss, array, epsilon=1e-6):
    """(L(w + h) − L(w − h)) / 2h for every entry w of ``array``: the shared helper."""
    return central_difference(lambda _: loss(), array, epsilon)


def check_gradients(layer, x, rng):
    """The layer's input and parameter gradients against central differences, float64.

    The loss is L = Σ r ⊙ layer(x) for a fixed random r, so ∂L/∂O = r.
    """
    params, grads = bind(layer, rng)
    r = rng.standard_normal(layer.forward(x).shape)

    def loss():
        return float(np.sum(r * layer.forward(x)))

    layer.forward(x)
    g_prev = layer.backward(r)
    assert g_prev.shape == x.shape
    pairs = [(g_prev, x), *zip(grads, params)]
    for analytic, array in pairs:
        numeric = central_differences(loss, array)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------- worked example


def test_conv1d_worked_example():
    """x = [1, 2, 3, 4], W = [2, 1], b = ½, stride 2, padding 1, by hand.

    padded x = [0, 1, 2, 3, 4, 0]; windows at 0, 2, 4: [0, 1], [2, 3], [4, 0]
    a = [2·0 + 1·1, 2·2 + 1·3, 2·4 + 1·0] + ½ = [1.5, 7.5, 8.5]
    with g = [1, 1, 1]:  ∇W = Σ_p g_p · window_p = [0 + 2 + 4, 1 + 3 + 0] = [6, 4],  ∇b = 3
    g_prev: padded positions get W_j g_p = [2, 1, 2, 1, 2, 1]; the inside is [1, 2, 1, 2]
    """
    layer = Conv1D(1, 1, kernel_size=2, stride=2, padding=1)
    W, b = np.array([[[2.0, 1.0]]]), np.array([0.5])
    dW, db = np.zeros_like(W), np.zeros_like(b)
    layer.bind([W, b], [dW, db])
    x = np.array([[[1.0, 2.0, 3.0, 4.0]]])
    np.testing.assert_array_equal(layer.forward(x), [[[1.5, 7.5, 8.5]]])
    g_prev = layer.backward(np.ones((1, 1, 3)))
    np.testing.assert_array_equal(dW, [[[6.0, 4.0]]])
    np.testing.assert_array_equal(db, [3.0])
    np.testing.assert_array_equal(g_prev, [[[1.0, 2.0, 1.0, 2.0]]])


def test_activation_follows_the_affine_as_in_dense():
    rng = np.random.default_rng(0)
    layer = Conv1D(2, 3, kernel_size=3, activation="tanh")
    bind(layer, rng)
    x = rng.standard_normal((4, 2, 7))
    o = layer.forward(x)
    np.testing.assert_allclose(
        layer.affines, naive_conv(x, layer.W, layer.b, (1,), (0,)), atol=1e-12
    )
    np.testing.assert_array_equal(o, np.tanh(layer.affines))
    assert layer.transforms is o


# ---------------------------------------------------------------- forward values

CONV1D_CASES = [
    # (in, out, length, kernel, stride, padding)
    (1, 1, 5, 1, 1, 0),
    (1, 25, 40, 5, 2, 1),
    (3, 4, 9, 3, 1, 1),
    (2, 3, 8, 4, 3, 2),
    (2, 2, 6, 6, 1, 0),  # kernel as large as the input
    (2, 2, 4, 8, 2, 2),  # kernel as large as the padded input
]


@pytest.mark.parametrize(("c_in", "c_out", "length", "kernel", "stride", "padding"), CONV1D_CASES)
def test_conv1d_matches_naive_loops(c_in, c_out, length, kernel, stride, padding):
    rng = np.random.default_rng(1)
    layer = Conv1D(c_in, c_out, kernel, stride=stride, padding=padding)
    bind(layer, rng)
    x = rng.standard_normal((3, c_in, length))
    expected = naive_conv(x, layer.W, layer.b, (stride,), (padding,))
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12, atol=1e-12)
    assert expected.shape[1:] == layer.output_shape((c_in, length))


CONV2D_CASES = [
    # (in, out, (h, w), kernel, stride, padding)
    (1, 2, (5, 6), 3, 1, 0),
    (2, 3, (7, 5), (3, 2), (2, 1), (1, 0)),
    (3, 2, (4, 4), (4, 4), 1, 0),
    (2, 2, (3, 5), (5, 3), (3, 2), (1, 2)),
]


@pytest.mark.parametrize(("c_in", "c_out", "size", "kernel", "stride", "padding"), CONV2D_CASES)
def test_conv2d_matches_naive_loops(c_in, c_out, size, kernel, stride, padding):
    rng = np.random.default_rng(2)
    layer = Conv2D(c_in, c_out, kernel, stride=stride, padding=padding)
    bind(layer, rng)
    x = rng.standard_normal((2, c_in, *size))
    expected = naive_conv(x, layer.W, layer.b, layer.stride, layer.padding)
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12, atol=1e-12)
    assert expected.shape[1:] == layer.output_shape((c_in, *size))


POOLS = [(MaxPool1D, np.max), (AvgPool1D, np.mean), (MaxPool2D, np.max), (AvgPool2D, np.mean)]


@pytest.mark.parametrize(("cls", "reduce"), POOLS)
@pytest.mark.parametrize(("pool", "stride"), [(1, None), (2, None), (3, 1), (2, 3), (5, 2)])
def test_pooling_matches_naive_loops(cls, reduce, pool, stride):
    rng = np.random.default_rng(3)
    layer = cls(pool, stride)
    x = rng.standard_normal((2, 3, *(7,) * cls.n_dims))
    expected = naive_pool(x, layer.pool_size, layer.stride, reduce)
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12, atol=1e-15)
    assert expected.shape[1:] == layer.output_shape(x.shape[1:])


def test_max_pool_sends_the_gradient_to_the_first_maximum_only():
    layer = MaxPool1D(4)
    x = np.array([[[1.0, 3.0, 3.0, 2.0, 5.0, 5.0, 5.0, 5.0]]])
    np.testing.assert_array_equal(layer.forward(x), [[[3.0, 5.0]]])
    g_prev = layer.backward(np.array([[[10.0, 20.0]]]))
    np.testing.assert_array_equal(g_prev, [[[0, 10, 0, 0, 20, 0, 0, 0]]])


def test_overlapping_max_pool_windows_add_their_gradients():
    layer = MaxPool1D(3, stride=1)
    x = np.array([[[0.0, 9.0, 1.0, 2.0]]])  # 9 is the maximum of both windows
    layer.forward(x)
    np.testing.assert_array_equal(layer.backward(np.array([[[1.0, 2.0]]])), [[[0, 3, 0, 0]]])


def test_matches_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(4)
    for torch_conv, layer, x_shape in [
        (F.conv1d, Conv1D(3, 4, 5, stride=2, padding=2), (2, 3, 11)),
        (F.conv2d, Conv2D(3, 4, (3, 2), stride=(2, 1), padding=(1, 2)), (2, 3, 7, 6)),
    ]:
        W, b = bind(layer, rng)[0]
        x = rng.standard_normal(x_shape)
        xt, Wt, bt = (torch.tensor(v, requires_grad=True) for v in (x, W, b))
        yt = torch_conv(xt, Wt, bt, stride=layer.stride, padding=layer.padding)
        y = layer.forward(x)
        g = rng.standard_normal(y.shape)
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(y, yt.detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(layer.backward(g), xt.grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(layer.dW, Wt.grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(layer.db, bt.grad.numpy(), atol=1e-12)
    for pool, layer, x_shape in [
        (F.max_pool1d, MaxPool1D(3, 2), (2, 3, 10)),
        (F.avg_pool1d, AvgPool1D(2, 1), (2, 3, 10)),
        (F.max_pool2d, MaxPool2D((2, 3), (2, 1)), (2, 3, 6, 7)),
        (F.avg_pool2d, AvgPool2D(3, 2), (2, 3, 7, 7)),
    ]:
        x = np.round(rng.standard_normal(x_shape), 1)  # ties: both take the first maximum
        xt = torch.tensor(x, requires_grad=True)
        yt = pool(xt, layer.pool_size, layer.stride)
        y = layer.forward(x)
        g = rng.standard_normal(y.shape)
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(y, yt.detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(layer.backward(g), xt.grad.numpy(), atol=1e-12)


# ---------------------------------------------------------------- gradients


def conv1d_grid():
    """Every stride 1–3, padding 0–2 and kernel from 1 up to the padded input, length 5."""
    for stride in (1, 2, 3):
        for padding in (0, 1, 2):
            for kernel in range(1, 5 + 2 * padding + 1):
                yield kernel, stride, padding


@pytest.mark.parametrize(("kernel", "stride", "padding"), list(conv1d_grid()))
def test_conv1d_gradients_match_central_differences(kernel, stride, padding):
    rng = np.random.default_rng(kernel * 100 + stride * 10 + padding)
    layer = Conv1D(2, 3, kernel, stride=stride, padding=padding)
    check_gradients(layer, rng.standard_normal((2, 2, 5)), rng)


@settings(max_examples=40, deadline=None)
@given(
    size=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    data=st.data(),
)
def test_conv2d_gradients_match_central_differences(size, padding, stride, data):
    kernel = tuple(data.draw(st.integers(1, s + 2 * p)) for s, p in zip(size, padding))
    rng = np.random.default_rng(0)
    layer = Conv2D(2, 2, kernel, stride=stride, padding=padding)
    check_gradients(layer, rng.standard_normal((2, 2, *size)), rng)


@pytest.mark.parametrize(("activation", "bias"), [("tanh", True), ("sigmoid", False)])
def test_conv_gradients_through_the_activation(activation, bias):
    rng = np.random.default_rng(5)
    layer = Conv1D(2, 3, 3, stride=2, padding=1, activation=activation, bias=bias)
    check_gradients(layer, rng.standard_normal((3, 2, 8)), rng)
    assert layer.parameter_names == (("W", "b") if bias else ("W",))


@pytest.mark.parametrize("cls", [MaxPool1D, AvgPool1D, MaxPool2D, AvgPool2D])
@pytest.mark.parametrize(("pool", "stride"), [(1, 1), (2, None), (3, 1), (2, 3), (4, 2), (5, 1)])
def test_pooling_gradients_match_central_differences(cls, pool, stride):
    rng = np.random.default_rng(pool * 10 + (stride or 0))
    layer = cls(pool, stride)
    check_gradients(layer, rng.standard_normal((2, 2, *(5,) * cls.n_dims)), rng)


# ---------------------------------------------------------------- shapes and bad configurations


def test_output_size():
    assert output_size(40, 5, 2, 1) == 19
    assert output_size(19, 3, 2, 1) == 10
    assert output_size(10, 3, 2, 1) == 5
    assert output_size(4, 4) == 1


def test_output_shapes_chain_through_a_network():
    net = cb.Network(
        [
            Conv2D(1, 4, 3, padding=1, activation="relu"),
            MaxPool2D(2),
            Conv2D(4, 6, (3, 2), stride=(1, 2)),
            AvgPool2D((2, 1)),
            cb.Flatten(),
            cb.Dense(6 * 1 * 1, 3),
        ],
        input_shape=(1, 8, 6),
    )
    shapes = [(1, 8, 6)]
    for layer in net.layers:
        shapes.append(layer.output_shape(shapes[-1]))
    assert shapes[1:] == [(4, 8, 6), (4, 4, 3), (6, 2, 1), (6, 1, 1), (6,), (3,)]
    X = np.random.default_rng(0).standard_normal((2, 1, 8, 6))
    assert net.predict(X).shape == (2, 3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kernel_size": 0}, "kernel_size must be a positive integer"),
        ({"kernel_size": (3, 3)}, "kernel_size must be a positive integer; got \\(3, 3\\)"),
        ({"kernel_size": 3, "stride": 0}, "stride must be a positive integer"),
        ({"kernel_size": 3, "padding": -1}, "padding must be an integer >= 0"),
        ({"kernel_size": 2.5}, "kernel_size must be"),
        ({"kernel_size": 3, "activation": "swish"}, "unknown activation"),
        ({"kernel_size": 3, "init": "nope"}, "unknown init"),
    ],
)
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Conv1D(1, 2, **kwargs)


def test_bad_pool_arguments_are_refused():
    with pytest.raises(ValueError, match="pool_size must be a positive integer or 2 of them"):
        MaxPool2D((2, 2, 2))
    with pytest.raises(ValueError, match="stride must be"):
        AvgPool1D(2, stride=0)


@pytest.mark.parametrize(
    ("layers", "input_shape", "match"),
    [
        (
            [Conv1D(1, 4, 9), cb.Flatten(), cb.Dense(4, 2)],
            (1, 6),
            r"layer 0 \(Conv1D\) does not fit: Conv1D\(in_channels=1, out_channels=4, "
            r"kernel_size=9, stride=1, padding=0\): the window \(9,\) is larger than the "
            r"padded input \(6,\) \(input \(1, 6\), padding \(0,\)\)",
        ),
        (
            [Conv1D(2, 4, 3), cb.Flatten(), cb.Dense(4, 2)],
            (1, 40),
            r"takes 2 input channels; got inputs of shape \(1, 40\) \(1 channels\)",
        ),
        (
            [Conv1D(1, 4, 3, stride=2), cb.Dense(76, 2)],
            (1, 40),
            r"layer 1 \(Dense\) does not fit: .* gets \(4, 19\); add Flatten\(\)",
        ),
        (
            [Conv1D(1, 4, 3, stride=2), cb.Flatten(), cb.Dense(70, 2)],
            (1, 40),
            r"layer 2 \(Dense\) does not fit: Dense\(70, 2\) takes inputs of shape \(70,\) "
            r"but gets \(76,\)",
        ),
        (
            [Conv2D(1, 4, 3), cb.Flatten(), cb.Dense(4, 2)],
            (1, 40),
            r"takes inputs of shape \(channels, height, width\); got \(1, 40\)",
        ),
        (
            [Conv1D(1, 4, 3), MaxPool1D(5), MaxPool1D(8), cb.Flatten(), cb.Dense(4, 2)],
            (1, 40),
            r"layer 2 \(MaxPool1D\) does not fit: MaxPool1D\(pool_size=8, stride=8\): the window "
            r"\(8,\) is larger than the padded input \(7,\)",
        ),
    ],
)
def test_networks_that_do_not_chain_are_refused_with_the_shapes(layers, input_shape, match):
    with pytest.raises(ValueError, match=match):
        cb.Network(layers, input_shape=input_shape)


def test_without_input_shape_the_first_forward_checks_it():
    net = cb.Network([Conv1D(2, 3, 5), cb.Flatten(), cb.Dense(3 * 4, 2)], seed=0)
    assert net.input_shape is None
    assert net.predict(np.zeros((2, 2, 8))).shape == (2, 2)
    with pytest.raises(ValueError, match=r"takes 2 input channels; got inputs of shape \(1, 8\)"):
        net.predict(np.zeros((2, 1, 8)))
    with pytest.raises(ValueError, match=r"larger than the padded input \(3,\)"):
        net.predict(np.zeros((2, 2, 3)))
    with pytest.raises(
        ValueError, match=r"batches of shape \(n_samples, channels, length\); got \(2, 16\)"
    ):
        net.predict(np.zeros((2, 16)))


# ---------------------------------------------------------------- configs


@pytest.mark.parametrize(
    "layer",
    [
        Conv1D(1, 25, 5, stride=2, padding=1, activation="relu"),
        Conv2D(3, 8, (3, 2), stride=(2, 1), padding=(0, 1), bias=False, init="he_normal"),
        MaxPool1D(2),
        MaxPool2D((2, 3), stride=1),
        AvgPool1D(3, 2),
        AvgPool2D(2),
    ],
)
def test_configs_survive_json(layer):
    config = layer.get_config()
    rebuilt = layer_from_config(json.loads(json.dumps(config)))
    assert type(rebuilt) is type(layer)
    assert rebuilt.get_config() == config
    assert LAYERS[config["type"]] is type(layer)


def test_conv2d_config_uses_lists_and_1d_uses_ints():
    assert Conv2D(1, 2, 3).get_config()["kernel_size"] == [3, 3]
    assert Conv1D(1, 2, 3).get_config()["kernel_size"] == 3
    assert MaxPool2D(2).get_config() == {"type": "MaxPool2D", "pool_size": [2, 2], "stride": [2, 2]}


def test_initialization_uses_the_fans_of_the_kernel():
    """he_uniform draws from U(−r, r), r = √(6 / fan_in), fan_in = in_channels · kernel."""
    net = cb.Network(
        [Conv2D(3, 64, (5, 4), init="he_uniform"), cb.Flatten(), cb.Dense(64, 1)],
        input_shape=(3, 5, 4),
        seed=0,
    )
    W = net.layers[0].W
    limit = math.sqrt(6 / (3 * 5 * 4))
    assert W.shape == (64, 3, 5, 4)
    assert np.abs(W).max() <= limit
    assert np.abs(W).max() > 0.95 * limit
    np.testing.assert_array_equal(net.layers[0].b, 0)


# ---------------------------------------------------------------- in a network


def bumps(n, length=16, seed=0):
    """A bump of width 3 at a random place; the class says whether it is up or down."""
    rng = np.random.default_rng(seed)
    X = 0.1 * rng.standard_normal((n, 1, length))
    y = rng.integers(0, 2, n)
    start = rng.integers(0, length - 3, n)
    for i in range(n):
        X[i, 0, start[i] : start[i] + 3] += 1.0 if y[i] else -1.0
    return X, y


def small_cnn(seed=0, dtype="float32", l2=0.0):
    return cb.Network(
        [
            Conv1D(1, 4, 3, stride=1, padding=1, activation="relu"),
            MaxPool1D(2),
            Conv1D(4, 4, 3, stride=2, activation="tanh"),
            AvgPool1D(1),
            cb.Flatten(),
            cb.Dense(4 * 3, 2),
        ],
        loss="cross_entropy",
        seed=seed,
        dtype=dtype,
        l2=l2,
        input_shape=(1, 16),
    )


def test_a_small_cnn_learns_and_survives_save_and_load(tmp_path):
    X, y = bumps(200)
    net = small_cnn()
    history = net.fit(X, y, epochs=15, batch_size=20, learning_rate=0.02)
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert net.evaluate(X, y)["accuracy"] > 0.9
    net.save(tmp_path / "cnn.npz")
    loaded = cb.load(tmp_path / "cnn.npz")
    assert loaded.get_config() == net.get_config()
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(net)).predict(X), net.predict(X))


def test_whole_network_gradcheck():
    X, y = bumps(6, seed=1)
    assert cb.gradcheck(small_cnn(dtype="float64"), X, y) < 1e-6


def test_l2_penalises_convolution_weights():
    X, y = bumps(10, seed=2)
    plain, penalised = small_cnn(dtype="float64"), small_cnn(dtype="float64", l2=0.1)
    weights = [layer.W for layer in plain.layers if hasattr(layer, "W")]
    expected = 0.05 * sum(float(np.sum(W * W)) for W in weights)
    difference = penalised.loss_and_gradients(X, y)[0] - plain.loss_and_gradients(X, y)[0]
    assert difference == pytest.approx(expected, rel=1e-12)
    assert cb.gradcheck(penalised, X, y) < 1e-6


def test_float32_stays_float32():
    X, y = bumps(8)
    net = small_cnn()
    net.loss_and_gradients(X, y)
    for layer in net.layers:
        for name in ("affines", "transforms", "argmax"):
            array = getattr(layer, name, None)
            if array is not None and name != "argmax":
                assert array.dtype == np.float32, (layer, name)
    conv = net.layers[2]
    g = np.ones((8, 4, 3), dtype=np.float32)
    assert conv.backward(g).dtype == np.float32
    assert net.predict(X).dtype == np.float32
    assert net.flat_gradients.dtype == np.float32


def test_gradients_land_in_the_networks_buffer():
    X, y = bumps(8)
    net = small_cnn()
    net.flat_gradients[...] = np.nan
    _, grads = net.loss_and_gradients(X, y)
    assert np.isfinite(net.flat_gradients).all()
    conv = net.layers[0]
    assert np.shares_memory(conv.dW, net.flat_gradients)
    assert np.shares_memory(conv.W, net.flat_parameters)
    np.testing.assert_array_equal(grads[0], conv.dW)


def test_prediction_matches_the_forward_pass_and_leaves_training_alone():
    X, y = bumps(8)
    net = small_cnn(dtype="float64")
    _, expected = net.loss_and_gradients(X, y)
    o = X
    for layer in net.layers:
        o = layer.forward(o)
    np.testing.assert_allclose(net.predict(X), net.loss.output(o), rtol=1e-12)
    out = net.forward(X)
    net.predict(X[::-1])  # between a forward pass and its backward pass, same shape
    net.backward(net.loss.value_and_gradient(out, net.check_targets(y, 8))[1])
    for got, want in zip(net.gradients(), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_batches_of_other_sizes_give_the_same_predictions(monkeypatch):
    X, _ = bumps(23)
    net = small_cnn()
    whole = net.predict(X)
    monkeypatch.setattr(conv_module, "PREDICT_COLUMNS", 16 * 3 * 5)  # blocks of 5 samples
    np.testing.assert_allclose(small_cnn().predict(X), whole, rtol=1e-6)
    np.testing.assert_allclose(net.predict(X, batch_size=5), whole, rtol=1e-6)
    np.testing.assert_allclose(net.predict(X[:1]), whole[:1], rtol=1e-6)
