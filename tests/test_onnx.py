"""ONNX export: onnxruntime's outputs equal predict for every layer, activation and loss."""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import cartoonbrain as cb  # noqa: E402
from cartoonbrain import cli  # noqa: E402
from cartoonbrain import onnx as cbonnx  # noqa: E402
from cartoonbrain.layers import (  # noqa: E402
    AvgPool1D,
    AvgPool2D,
    Conv1D,
    Conv2D,
    Layer,
    MaxPool1D,
    MaxPool2D,
)

ACTIVATIONS = list(cb.ACTIVATIONS)
LOSSES = list(cb.LOSSES)
TOLERANCE = {"float32": 1e-5, "float64": 1e-12}


# ---------------------------------------------------------------- helpers
def refusal(activations, dtype):
    """The words of the refusal expected for these activations in this dtype, or None."""
    if dtype == "float64" and "gelu" in activations:
        return "gelu has no float64 ONNX form"
    return None


def randomize(net, seed=0, scale=0.7):
    """Random weights and biases (the biases start at 0, which would hide a missing bias)."""
    rng = np.random.default_rng(seed)
    net.flat_parameters[...] = rng.normal(scale=scale, size=net.flat_parameters.shape)
    return net


def network(layers, input_shape, n_out=3, loss="mse", dtype="float32", head="identity"):
    """``layers`` + a Dense(·, n_out) head sized for ``input_shape``, random parameters.

    The head applies ``head`` for the regression losses, the identity (logits) otherwise.
    """
    shape = input_shape
    for layer in layers:
        shape = layer.output_shape(shape)
    if cb.get_loss(loss).output_activation:
        head = "identity"
    layers = [*layers, cb.Dense(math.prod(shape), n_out, activation=head)]
    return randomize(cb.Network(layers, loss=loss, dtype=dtype, seed=0))


def run_onnx(path, X):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(["output"], {"input": X})[0]


def assert_exports_exactly(net, path, input_shape=None, seed=1):
    """Export, check the model fully, and compare onnxruntime with predict for n = 1 and 7."""
    cbonnx.export(net, path, input_shape=input_shape)
    assert_matches_predict(net, path, input_shape, seed)


def assert_matches_predict(net, path, input_shape=None, seed=1):
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    shape = input_shape or net.input_shape
    rng = np.random.default_rng(seed)
    tolerance = TOLERANCE[net.dtype.name]
    for n in (1, 7):
        X = rng.normal(scale=2.0, size=(n, *shape)).astype(net.dtype)
        got = run_onnx(path, X)
        assert got.dtype == net.dtype
        np.testing.assert_allclose(got, net.predict(X), rtol=tolerance, atol=tolerance)


# ---------------------------------------------------------------- dense networks
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_dense_networks_match_predict(tmp_path, activation, loss, bias, dtype):
    layers = [
        cb.Dense(5, 6, activation=activation, bias=bias),
        cb.Dropout(0.25),
        cb.Dense(6, 4, activation=activation, bias=bias),
    ]
    net = network(layers, (5,), loss=loss, dtype=dtype, head=activation)
    if reason := refusal({activation}, dtype):
        with pytest.raises(ValueError, match=rf"layer 0 \(Dense\) cannot be .*{reason}"):
            cbonnx.to_onnx(net)
        return
    assert_exports_exactly(net, tmp_path / "m.onnx")


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 9), min_size=2, max_size=5),
    activations=st.lists(st.sampled_from(ACTIVATIONS), min_size=4, max_size=4),
    dropouts=st.lists(st.booleans(), min_size=4, max_size=4),
    bias=st.booleans(),
    loss=st.sampled_from(LOSSES),
    dtype=st.sampled_from(["float32", "float64"]),
    seed=st.integers(0, 2**16),
)
def test_random_dense_stacks_match_predict(
    tmp_path_factory, sizes, activations, dropouts, bias, loss, dtype, seed
):
    assume(not refusal(activations, dtype))
    layers: list[Layer] = [cb.Dropout(0.5)] if dropouts[-1] else []  # input dropout too
    for n_in, n_out, activation, dropout in zip(sizes, sizes[1:], activations, dropouts):
        layers.append(cb.Dense(n_in, n_out, activation=activation, bias=bias))
        if dropout:
            layers.append(cb.Dropout(0.3))
    n_out = 2 if loss == "cross_entropy" else 1 + seed % 3
    net = network(layers, (sizes[0],), n_out=n_out, loss=loss, dtype=dtype)
    randomize(net, seed)
    assert_exports_exactly(net, tmp_path_factory.mktemp("onnx") / "m.onnx", seed=seed)


# ---------------------------------------------------------------- convolution and pooling
CONV_NETS = {
    "conv1d-maxpool": (lambda: [Conv1D(2, 3, 3, activation="relu"), MaxPool1D(2)], (2, 11)),
    "strided-padded-avgpool-dropout": (
        lambda: [
            Conv1D(1, 4, 4, stride=2, padding=1, activation="tanh"),
            AvgPool1D(3, stride=2),
            cb.Dropout(0.5),
            Conv1D(4, 2, 1, bias=False),
        ],
        (1, 20),
    ),
    "pool-first": (
        lambda: [
            MaxPool1D(2, stride=1),
            Conv1D(3, 2, 5, stride=3, padding=2, activation="sigmoid"),
        ],
        (3, 16),
    ),
    "conv2d-rectangular": (
        lambda: [
            Conv2D(1, 4, (3, 2), stride=(2, 1), padding=(1, 0), activation="elu"),
            AvgPool2D(2),
        ],
        (1, 9, 7),
    ),
    "conv2d-deep": (
        lambda: [
            Conv2D(3, 2, 1, activation="leaky_relu"),
            MaxPool2D((2, 3), stride=(1, 2)),
            Conv2D(2, 3, 2, stride=2, padding=2, activation="softplus", bias=False),
        ],
        (3, 6, 8),
    ),
    "overlapping-avgpool": (
        lambda: [
            Conv2D(2, 2, 3, padding=1, activation="softmax"),
            AvgPool2D((3, 2), stride=(2, 1)),
        ],
        (2, 7, 5),
    ),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("loss", ["cross_entropy", "binary_cross_entropy", "mse"])
@pytest.mark.parametrize("name", list(CONV_NETS))
def test_conv_networks_match_predict(tmp_path, name, loss, dtype):
    make, input_shape = CONV_NETS[name]
    net = network([*make(), cb.Flatten()], input_shape, loss=loss, dtype=dtype)
    assert_exports_exactly(net, tmp_path / "m.onnx", input_shape=input_shape)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n_dims", [1, 2])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_on_a_convolution(tmp_path, activation, n_dims, dtype):
    if n_dims == 1:
        layers, shape = [Conv1D(2, 3, 3, stride=2, padding=1, activation=activation)], (2, 9)
    else:
        layers, shape = [Conv2D(2, 3, (2, 3), padding=(1, 0), activation=activation)], (2, 5, 6)
    net = network([*layers, cb.Flatten()], shape, dtype=dtype)
    if reason := refusal({activation}, dtype):
        with pytest.raises(ValueError, match=reason):
            cbonnx.to_onnx(net, input_shape=shape)
        return
    assert_exports_exactly(net, tmp_path / "m.onnx", input_shape=shape)


def test_float32_uses_the_onnx_operators_and_float64_the_formulas():
    layers = [Conv1D(1, 2, 3, padding=1, activation="elu"), AvgPool1D(2), cb.Flatten()]
    ops = {}
    for dtype in ("float32", "float64"):
        net = network(list(layers), (1, 8), dtype=dtype)
        ops[dtype] = {node.op_type for node in cbonnx.to_onnx(net, (1, 8)).graph.node}
    assert {"Conv", "Elu", "AveragePool", "Gemm"} <= ops["float32"]
    assert not {"Conv", "Elu", "AveragePool"} & ops["float64"]
    assert {"Pad", "Slice", "MatMul", "Exp", "Sum", "Gemm"} <= ops["float64"]


# ---------------------------------------------------------------- the graph itself
def test_graph_names_types_and_parameters():
    net = randomize(cb.Network([cb.Dense(4, 3, "relu"), cb.Dense(3, 2)], loss="cross_entropy"))
    model = cbonnx.to_onnx(net)
    assert model.ir_version == cbonnx.IR_VERSION
    assert [(o.domain, o.version) for o in model.opset_import] == [("", cbonnx.OPSET)]
    (inp,), (out,) = model.graph.input, model.graph.output
    assert (inp.name, out.name) == ("input", "output")
    for value, size in ((inp, 4), (out, 2)):
        assert value.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
        dims = value.type.tensor_type.shape.dim
        assert [dims[0].dim_param, dims[1].dim_value] == ["batch", size]
    assert [n.op_type for n in model.graph.node] == ["Gemm", "Relu", "Gemm", "Softmax"]
    assert model.graph.node[0].attribute[0].name == "transB"
    stored = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    assert sorted(stored) == sorted(net.parameter_names())
    for name, p in zip(net.parameter_names(), net.parameters()):
        np.testing.assert_array_equal(stored[name], p)


def test_metadata_and_producer_round_trip(tmp_path):
    metadata = {"classes": ["cat", "dog", "eel"], "feature_names": ["a", "b"], "scale": 2.5}
    net = randomize(cb.Network([cb.Dense(2, 3)], loss="cross_entropy", metadata=metadata))
    cbonnx.export(net, tmp_path / "m.onnx")
    model = onnx.load(str(tmp_path / "m.onnx"))
    assert (model.producer_name, model.producer_version) == ("cartoonbrain", cb.__version__)
    props = {p.key: p.value for p in model.metadata_props}
    assert json.loads(props["cartoonbrain.metadata"]) == metadata
    assert net.summary(print_fn=None) in model.doc_string


def test_metadata_that_is_not_json_is_refused():
    net = cb.Network([cb.Dense(2, 1)], metadata={"mean": np.zeros(2)})
    with pytest.raises(ValueError, match="metadata cannot be stored as JSON"):
        cbonnx.to_onnx(net)


# ---------------------------------------------------------------- input shapes
def test_the_networks_own_input_shape_is_used(tmp_path):
    layers = [Conv1D(2, 3, 3), MaxPool1D(2), cb.Flatten(), cb.Dense(3 * 4, 2)]
    if "input_shape" in inspect.signature(cb.Network).parameters:
        net = cb.Network(layers, input_shape=(2, 10))
    else:  # until Network takes input_shape: what it will store
        net = cb.Network(layers)
        net.input_shape = (2, 10)
    assert_exports_exactly(randomize(net), tmp_path / "m.onnx")


def test_leading_dropout_takes_the_input_size_of_the_first_dense(tmp_path):
    net = randomize(cb.Network([cb.Dropout(0.2), cb.Dense(4, 2)]))
    assert_exports_exactly(net, tmp_path / "m.onnx", input_shape=None)


def test_unknown_input_shape_is_asked_for():
    net = cb.Network([Conv2D(1, 2, 3), cb.Flatten(), cb.Dense(2 * 3 * 3, 2)])
    with pytest.raises(ValueError, match=r"first layer is Conv2D.*input_shape=\(channels, height"):
        cbonnx.to_onnx(net)


@pytest.mark.parametrize(
    ("input_shape", "match"),
    [
        ((1, 4), r"input_shape=\(1, 4\), but the network takes inputs of shape \(3,\)"),
        ((0,), "positive integers"),
        ((2.5,), "positive integers"),
        ((), "positive integers"),
    ],
)
def test_bad_input_shapes_are_refused(input_shape, match):
    with pytest.raises(ValueError, match=match):
        cbonnx.to_onnx(cb.Network([cb.Dense(3, 1)]), input_shape=input_shape)


def test_an_input_shape_that_does_not_fit_names_the_layer():
    net = cb.Network([Conv1D(2, 3, 3), cb.Flatten(), cb.Dense(3 * 8, 2)])
    with pytest.raises(ValueError, match=r"\(3, 10\) do not fit layer 0 \(Conv1D\)"):
        cbonnx.to_onnx(net, input_shape=(3, 10))


# ---------------------------------------------------------------- what cannot be exported
class Scale(Layer):
    def forward(self, o_prev, training=False):
        return 2 * o_prev


class MyDense(cb.Dense):
    pass


class MyLoss(cb.Loss):
    name = "mine"


def test_unsupported_layers_are_refused_by_index_and_type():
    net = cb.Network([cb.Dense(3, 2), Scale()])
    with pytest.raises(ValueError, match=r"layer 1 \(Scale\) cannot be exported.*Dense, Dropout"):
        cbonnx.to_onnx(net)
    with pytest.raises(ValueError, match=r"layer 0 \(MyDense\) cannot be exported"):
        cbonnx.to_onnx(cb.Network([MyDense(3, 2)]))


def test_custom_activations_losses_and_settings_are_refused():
    double = cb.Activation("double", lambda a: 2 * a, lambda a, o: 2 + 0 * a, lambda g, a, o: 2 * g)
    with pytest.raises(ValueError, match=r"layer 0 \(Dense\) has the custom activation 'double'"):
        cbonnx.to_onnx(cb.Network([cb.Dense(3, 2, activation=double)]))
    with pytest.raises(ValueError, match=r"loss .*mine.* is not registered"):
        cbonnx.to_onnx(cb.Network([cb.Dense(3, 2)], loss=MyLoss()))
    pool = MaxPool1D(2)
    pool.get_config = lambda: {"type": "MaxPool1D", "pool_size": 2, "stride": 2, "padding": 1}
    net = cb.Network([pool, cb.Flatten(), cb.Dense(2, 1)])
    with pytest.raises(ValueError, match=r"layer 0 \(MaxPool1D\) has settings .*'padding'"):
        cbonnx.to_onnx(net, input_shape=(1, 4))


# ---------------------------------------------------------------- files
def test_a_refused_export_leaves_an_existing_file_untouched(tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"old model")
    with pytest.raises(ValueError, match="cannot be exported"):
        cbonnx.export(cb.Network([cb.Dense(3, 2), Scale()]), path)
    assert path.read_bytes() == b"old model"
    assert os.listdir(tmp_path) == ["m.onnx"]


def test_a_failed_check_on_disk_leaves_an_existing_file_untouched(tmp_path, monkeypatch):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"old model")

    def failing_check(model, full_check=False):
        raise onnx.checker.ValidationError("simulated")

    monkeypatch.setattr(onnx.checker, "check_model", failing_check)
    with pytest.raises(onnx.checker.ValidationError, match="simulated"):
        cbonnx.export(cb.Network([cb.Dense(3, 2)]), path)
    assert path.read_bytes() == b"old model"
    assert os.listdir(tmp_path) == ["m.onnx"]


def test_export_file_reads_a_saved_model(tmp_path):
    net = network([cb.Dense(4, 5, "tanh")], (4,), loss="binary_cross_entropy", dtype="float64")
    net.save(tmp_path / "m.npz")
    cbonnx.export_file(tmp_path / "m.npz", tmp_path / "m.onnx")
    assert_matches_predict(cb.load(tmp_path / "m.npz"), tmp_path / "m.onnx")
    with pytest.raises(cb.ModelFileError, match="no such file"):
        cbonnx.export_file(tmp_path / "missing.npz", tmp_path / "x.onnx")


def test_without_the_onnx_package_the_error_says_what_to_install():
    code = (
        "import sys; sys.modules['onnx'] = None\n"
        "import cartoonbrain as cb, cartoonbrain.onnx as m\n"
        "try:\n"
        "    m.export(cb.Network([cb.Dense(2, 1)]), 'never.onnx')\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == (
        "ONNXMissingError ONNX export needs the onnx package: pip install 'cartoonbrain[onnx]'"
    )


def _cli_has_export():
    with contextlib.redirect_stderr(io.StringIO()), contextlib.suppress(SystemExit):
        cli.build_parser().parse_args(["export", "--model", "m.npz", "--out", "m.onnx"])
        return True
    return False


@pytest.mark.skipif(not _cli_has_export(), reason="cli.py has no export command yet")
def test_cli_export(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    net = network([Conv1D(1, 2, 3), cb.Flatten()], (1, 6), loss="cross_entropy")
    net.save("m.npz")
    assert cli.main(["export", "--model", "m.npz", "--out", "m.onnx"]) == 2
    assert "input_shape" in capsys.readouterr().err
    assert cli.main(["export", "--model", "m.npz", "--out", "m.onnx", "--input-shape", "1,6"]) == 0
    assert "m.onnx" in capsys.readouterr().out
    assert_matches_predict(net, tmp_path / "m.onnx", input_shape=(1, 6))
