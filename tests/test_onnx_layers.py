"""ONNX export of BatchNorm, LayerNorm, Embedding, Residual, SimpleRNN, LSTM and GRU:
onnxruntime's output equal to predict."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import cartoonbrain as cb  # noqa: E402
from cartoonbrain import onnx as cbonnx  # noqa: E402
from cartoonbrain.layers import BatchNorm, Embedding, LayerNorm, Residual  # noqa: E402

TOLERANCE = {"float32": 2e-5, "float64": 1e-12}


def run_onnx(path, X):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(["output"], {"input": X})[0]


def randomize(net, seed=0):
    """Parameters (and BatchNorm's running statistics) away from their initial values."""
    rng = np.random.default_rng(seed)
    net.flat_parameters[...] = rng.normal(scale=0.7, size=net.n_parameters)
    for array in cb.layers.layer_states(net.layers).values():
        array[...] = rng.uniform(0.5, 2.0, array.shape)
    return net


def assert_matches_predict(net, path, X):
    cbonnx.export(net, path)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    for rows in (X[:1], X):
        got = run_onnx(path, rows.astype(net.dtype))
        tolerance = TOLERANCE[net.dtype.name]
        np.testing.assert_allclose(got, net.predict(rows), rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(6,), (6, 5), (6, 3, 4)])
def test_batchnorm(tmp_path, dtype, shape):
    net = cb.Network(
        [BatchNorm(6), cb.Flatten(), cb.Dense(int(np.prod(shape)), 3)],
        input_shape=shape,
        dtype=dtype,
        seed=0,
    )
    X = np.random.default_rng(1).normal(size=(7, *shape))
    assert_matches_predict(randomize(net), tmp_path / "bn.onnx", X)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layernorm_and_residual(tmp_path, dtype):
    block = Residual([cb.Dense(4, 4, activation="tanh"), LayerNorm(4), BatchNorm(4)])
    net = cb.Network(
        [LayerNorm(4), block, cb.Dense(4, 3)], loss="cross_entropy", dtype=dtype, seed=0
    )
    X = np.random.default_rng(2).normal(size=(7, 4))
    assert_matches_predict(randomize(net), tmp_path / "ln.onnx", X)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_embedding(tmp_path, dtype):
    net = cb.Network(
        [Embedding(9, 3), cb.Flatten(), cb.Dense(15, 2)], input_shape=(5,), dtype=dtype, seed=0
    )
    X = np.random.default_rng(3).integers(0, 9, (7, 5)).astype(dtype)
    assert_matches_predict(randomize(net), tmp_path / "embedding.onnx", X)


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("sequences", [False, True])
def test_recurrent(tmp_path, kind, bidirectional, sequences):
    layer = getattr(cb, kind)(3, 4, return_sequences=sequences, bidirectional=bidirectional)
    width = (2 if bidirectional else 1) * 4 * (6 if sequences else 1)
    head = [cb.Flatten(), cb.Dense(width, 2)] if sequences else [cb.Dense(width, 2)]
    net = cb.Network([layer, *head], input_shape=(6, 3), seed=0)
    X = np.random.default_rng(4).normal(size=(7, 6, 3))
    assert_matches_predict(randomize(net), tmp_path / "rnn.onnx", X)


def test_relu_rnn(tmp_path):
    net = cb.Network(
        [cb.SimpleRNN(3, 4, nonlinearity="relu"), cb.Dense(4, 2)], input_shape=(6, 3), seed=0
    )
    X = np.random.default_rng(5).normal(size=(7, 6, 3))
    assert_matches_predict(randomize(net), tmp_path / "relu.onnx", X)


def test_float64_recurrent_layers_are_refused():
    net = cb.Network([cb.GRU(3, 4), cb.Dense(4, 2)], input_shape=(6, 3), dtype="float64")
    with pytest.raises(ValueError, match="GRU has no float64 ONNX form"):
        cbonnx.to_onnx(net)
