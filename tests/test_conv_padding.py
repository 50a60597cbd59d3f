"""Conv1D/Conv2D with ``padding="same"`` (Keras's) and ``dilation``: forward against
PyTorch's convolution on copied weights, backward against central differences in float64,
ONNX Runtime's output equal to predict, configs and messages."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cartoonbrain as cb
from cartoonbrain.layers.windows import output_size, same_pads
from layer_checks import assert_layer_gradients, bind

GEOMETRIES_1D = [
    {"kernel_size": 3, "padding": "same"},
    {"kernel_size": 4, "padding": "same"},  # an even kernel: the odd zero at the end
    {"kernel_size": 3, "padding": "same", "stride": 2},
    {"kernel_size": 3, "padding": "same", "dilation": 2},
    {"kernel_size": 2, "padding": "same", "dilation": 3, "stride": 2},
    {"kernel_size": 3, "dilation": 2},
    {"kernel_size": 2, "dilation": 2, "padding": 1, "stride": 2},
    {"kernel_size": 3, "padding": "valid"},
]
GEOMETRIES_2D = [
    {"kernel_size": 3, "padding": "same"},
    {"kernel_size": (2, 3), "padding": "same", "stride": (2, 1)},
    {"kernel_size": 3, "dilation": (2, 1), "padding": (1, 0)},
    {"kernel_size": (3, 2), "dilation": 2, "padding": "same", "stride": 2},
]


def _layer(n_dims, geometry, channels=(2, 3), activation="tanh"):
    cls = cb.Conv1D if n_dims == 1 else cb.Conv2D
    return cls(*channels, activation=activation, **geometry)


def _torch_forward(torch, layer, x):
    """PyTorch's convolution of x with the layer's W and b: "same" as explicit zeros (the
    pads same_pads gives), so any stride works; PyTorch's own "same" where it takes it."""
    F = torch.nn.functional
    n_dims = x.ndim - 2
    pads = layer.pads(x.shape[2:])
    conv = F.conv1d if n_dims == 1 else F.conv2d
    xt = torch.tensor(x)
    if layer.padding == "same" and all(s == 1 for s in layer.stride):
        with warnings.catch_warnings():  # "an even kernel may need a padded copy": it may
            warnings.simplefilter("ignore", UserWarning)
            out = conv(xt, torch.tensor(layer.W), torch.tensor(layer.b), padding="same",
                       dilation=layer.dilation)  # fmt: skip
    else:
        flat = [p for pair in reversed(pads) for p in pair]  # F.pad: last axis first
        out = conv(F.pad(xt, flat), torch.tensor(layer.W), torch.tensor(layer.b),
                   stride=layer.stride, dilation=layer.dilation)  # fmt: skip
    return torch.tanh(out).numpy()


@pytest.mark.parametrize(
    ("n_dims", "geometry"),
    [(1, g) for g in GEOMETRIES_1D] + [(2, g) for g in GEOMETRIES_2D],
    ids=str,
)
def test_forward_matches_torch_and_backward_matches_central_differences(n_dims, geometry):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    layer = _layer(n_dims, geometry)
    params, grads = bind(layer, rng)
    x = rng.standard_normal((3, 2, *((9,) if n_dims == 1 else (7, 8))))
    out = layer.forward(x)
    assert out.shape[1:] == layer.output_shape(x.shape[1:])
    np.testing.assert_allclose(out, _torch_forward(torch, layer, x), rtol=1e-12, atol=1e-12)
    assert_layer_gradients(layer, x, params, grads)


@pytest.mark.parametrize(
    ("n_dims", "geometry"),
    [(1, g) for g in GEOMETRIES_1D[:3]] + [(2, g) for g in GEOMETRIES_2D[:2]],
    ids=str,
)
def test_backward_matches_torch_autograd(n_dims, geometry):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    layer = _layer(n_dims, geometry, activation="identity")
    bind(layer, rng)
    x = rng.standard_normal((2, 2, *(8,) * n_dims))
    G = rng.standard_normal(layer.forward(x).shape)
    g_x = layer.backward(G)
    xt = torch.tensor(x, requires_grad=True)
    Wt = torch.tensor(layer.W, requires_grad=True)
    F = torch.nn.functional
    flat = [p for pair in reversed(layer.pads(x.shape[2:])) for p in pair]
    conv = F.conv1d if n_dims == 1 else F.conv2d
    out = conv(F.pad(xt, flat), Wt, stride=layer.stride, dilation=layer.dilation)
    (out * torch.tensor(G)).sum().backward()
    np.testing.assert_allclose(g_x, xt.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.dW, Wt.grad.numpy(), rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    size=st.integers(1, 20),
    kernel=st.integers(1, 5),
    stride=st.integers(1, 4),
    dilation=st.integers(1, 3),
)
def test_same_gives_ceil_of_size_over_stride_positions(size, kernel, stride, dilation):
    """Keras's "same": ⌈size / stride⌉ positions whatever the kernel and dilation, from
    the fewest zeros, the odd one at the end (TensorFlow's rule)."""
    ((before, after),) = same_pads((size,), (kernel,), (stride,), (dilation,))
    assert output_size(size, kernel, stride, (before, after), dilation) == math.ceil(size / stride)
    assert after - before in (0, 1)
    if before + after:  # one zero fewer would lose a position
        assert output_size(size, kernel, stride, (before, after - 1), dilation) < math.ceil(
            size / stride
        )


def test_same_with_stride_one_keeps_the_size_as_torch_and_keras():
    layer = cb.Conv2D(1, 1, kernel_size=(3, 4), padding="same", dilation=(1, 2))
    assert layer.output_shape((1, 5, 6)) == (1, 5, 6)
    assert layer.pads((5, 6)) == ((1, 1), (3, 3))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_onnx_export_equals_predict(tmp_path, dtype):
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from cartoonbrain import onnx as cbonnx
    from test_onnx_layers import randomize, run_onnx

    net = cb.Network(
        [
            cb.Conv2D(2, 3, kernel_size=3, padding="same", stride=2, dilation=2,
                      activation="relu"),
            cb.Conv2D(3, 2, kernel_size=(2, 3), padding="same", activation="tanh"),
            cb.Flatten(),
            cb.Dense(2 * 4 * 5, 3),
        ],
        "cross_entropy",
        input_shape=(2, 7, 9),
        dtype=dtype,
        seed=0,
    )  # fmt: skip
    randomize(net)
    X = np.random.default_rng(1).normal(size=(5, 2, 7, 9)).astype(dtype)
    cbonnx.export(net, tmp_path / "conv.onnx")
    onnx.checker.check_model(onnx.load(str(tmp_path / "conv.onnx")), full_check=True)
    tolerance = 2e-5 if dtype == "float32" else 1e-12
    for rows in (X[:1], X):
        got = run_onnx(tmp_path / "conv.onnx", rows)
        np.testing.assert_allclose(got, net.predict(rows), rtol=tolerance, atol=tolerance)


def test_onnx_export_of_a_dilated_conv1d(tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from test_onnx_layers import assert_matches_predict, randomize

    net = cb.Network(
        [cb.Conv1D(1, 2, kernel_size=3, dilation=3, padding=2), cb.Flatten(), cb.Dense(2 * 8, 1)],
        input_shape=(1, 10),
        seed=0,
    )
    assert_matches_predict(randomize(net), tmp_path / "c1.onnx", np.ones((2, 1, 10)))


def test_config_round_trip_and_save_load(tmp_path):
    net = cb.Network(
        [cb.Conv1D(1, 2, kernel_size=3, padding="same", dilation=2), cb.Flatten(),
         cb.Dense(2 * 6, 1)],
        input_shape=(1, 6),
        seed=0,
    )  # fmt: skip
    config = net.layers[0].get_config()
    assert (config["padding"], config["dilation"]) == ("same", 2)
    net.save(tmp_path / "m.npz")
    X = np.random.default_rng(0).normal(size=(3, 1, 6))
    np.testing.assert_array_equal(cb.load(tmp_path / "m.npz").predict(X), net.predict(X))
    plain = cb.Conv1D(1, 2, kernel_size=3, padding="valid").get_config()
    assert (plain["padding"], plain["dilation"]) == (0, 1)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: cb.Conv1D(1, 1, 3, padding="full"),
         r"padding must be 'same', 'valid' or a number of zeros; got 'full'"),
        (lambda: cb.Conv2D(1, 1, 3, dilation=0), r"dilation must be a positive integer"),
        (lambda: cb.Conv1D(1, 1, 3, dilation=4).output_shape((1, 8)),
         r"the window \(3,\) \(spanning \(9,\), dilated\) is larger than the padded input \(8,\)"),
    ],
)  # fmt: skip
def test_bad_geometry_is_refused_in_one_line(build, match):
    with pytest.raises(ValueError, match=match):
        build()
