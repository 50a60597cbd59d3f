"""SimpleRNN, LSTM and GRU: a worked example, central differences, PyTorch, networks."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

import cartoonbrain as cb
from cartoonbrain.layers import GRU, LSTM, SimpleRNN, from_torch, layer_from_config
from layer_checks import assert_layer_gradients, bind
from tolerance import assert_same_maths

KINDS = {"SimpleRNN": SimpleRNN, "LSTM": LSTM, "GRU": GRU}
SHAPES = [(False, False), (False, True), (True, False), (True, True)]  # (bidirectional, seq)


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


# ---------------------------------------------------------------- worked examples


def test_simple_rnn_by_hand():
    """h_1 = tanh(0.5 · 1) and h_2 = tanh(0.5 · 2 − h_1): W_ih = 0.5, W_hh = −1, no bias."""
    layer = SimpleRNN(1, 1, return_sequences=True)
    bind(layer, np.random.default_rng(0))
    W_ih, W_hh, b_ih, b_hh = layer.params
    W_ih[...], W_hh[...], b_ih[...], b_hh[...] = 0.5, -1.0, 0.0, 0.0
    h = layer.forward(np.array([[[1.0], [2.0]]]))
    h1 = math.tanh(0.5)
    np.testing.assert_allclose(h[0, :, 0], [h1, math.tanh(1.0 - h1)], rtol=1e-15, atol=0)


def test_gru_one_step_by_hand():
    """One step from h_0 = 0: r, z, n from their rows; h_1 = (1 − z) n."""
    layer = GRU(2, 1)
    params, _ = bind(layer, np.random.default_rng(1))
    W_ih, _, b_ih, b_hh = params  # W_hh meets h_0 = 0 only
    x = np.array([0.3, -0.7])
    h1 = layer.forward(x.reshape(1, 1, 2))[0, 0]
    r = sigmoid(W_ih[0] @ x + b_ih[0] + b_hh[0])
    z = sigmoid(W_ih[1] @ x + b_ih[1] + b_hh[1])
    n = np.tanh(W_ih[2] @ x + b_ih[2] + r * b_hh[2])
    np.testing.assert_allclose(h1, (1 - z) * n, rtol=1e-14, atol=0)


def test_lstm_two_steps_by_hand():
    """c_t = f c_{t−1} + i g, h_t = o tanh(c_t), with i, f, g, o from the rows in that order."""
    layer = LSTM(1, 1)
    params, _ = bind(layer, np.random.default_rng(2))
    W_ih, W_hh, b_ih, b_hh = (p.reshape(-1) for p in params)
    h = c = 0.0
    for x in (0.4, -1.2):
        a = W_ih * x + b_ih + W_hh * h + b_hh
        i, f, g, o = sigmoid(a[0]), sigmoid(a[1]), np.tanh(a[2]), sigmoid(a[3])
        c = f * c + i * g
        h = o * np.tanh(c)
    out = layer.forward(np.array([[[0.4], [-1.2]]]))
    np.testing.assert_allclose(out[0, 0], h, rtol=1e-14, atol=0)


# ---------------------------------------------------------------- central differences


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("bidirectional", "sequences"), SHAPES)
def test_gradients_against_central_differences(kind, bidirectional, sequences):
    layer = KINDS[kind](2, 3, return_sequences=sequences, bidirectional=bidirectional)
    rng = np.random.default_rng(3)
    params, grads = bind(layer, rng)
    x = rng.standard_normal((3, 4, 2))
    assert_layer_gradients(layer, x, params, grads)


def test_relu_rnn_gradients():
    layer = SimpleRNN(2, 3, return_sequences=True, nonlinearity="relu")
    rng = np.random.default_rng(4)
    params, grads = bind(layer, rng)
    assert_layer_gradients(layer, rng.standard_normal((3, 4, 2)), params, grads)


@pytest.mark.parametrize("kind", KINDS)
def test_network_gradcheck(kind):
    """The whole network in float64 through cb.gradcheck: layer, Flatten, Dense, cross-entropy."""
    layer = KINDS[kind](2, 3, return_sequences=True, bidirectional=True)
    net = cb.Network(
        [layer, cb.Flatten(), cb.Dense(4 * 6, 3)],
        loss="cross_entropy",
        input_shape=(4, 2),
        seed=0,
    )
    rng = np.random.default_rng(5)
    assert cb.gradcheck(net, rng.standard_normal((5, 4, 2)), rng.integers(0, 3, 5)) < 1e-6


# ---------------------------------------------------------------- PyTorch


TORCH_NAMES = {"SimpleRNN": "RNN", "LSTM": "LSTM", "GRU": "GRU"}


def torch_run(module, x, sequences, G):
    """torch's output for x (all steps, or the last of each direction, side by side) and
    the gradients of Σ G ⊙ output for x and every parameter, by name."""
    import torch

    xt = torch.tensor(x, requires_grad=True)
    out, h_n = module(xt)
    if not sequences:
        h_n = h_n[0] if isinstance(h_n, tuple) else h_n  # the LSTM gives (h_n, c_n)
        out = h_n.transpose(0, 1).reshape(len(x), -1)
    (out * torch.tensor(G)).sum().backward()
    grads = {name: p.grad.numpy() for name, p in module.named_parameters()}
    return out.detach().numpy(), xt.grad.numpy(), grads


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("bidirectional", "sequences"), SHAPES)
def test_equal_to_pytorch(kind, bidirectional, sequences):
    """Weights copied from torch by from_torch: the same outputs and gradients, float64."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    module = getattr(torch.nn, TORCH_NAMES[kind])(
        3, 5, batch_first=True, bidirectional=bidirectional, dtype=torch.float64
    )
    layer = KINDS[kind](3, 5, return_sequences=sequences, bidirectional=bidirectional)
    net = cb.Network([layer], dtype="float64", input_shape=(6, 3))
    from_torch(layer, module)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 6, 3))
    out = net.forward(x)
    G = rng.standard_normal(out.shape)
    expected, g_x, grads = torch_run(module, x, sequences, G)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(layer.backward(G), g_x, rtol=1e-12, atol=1e-14)
    for name, grad in zip(layer.parameter_names, layer.grads):
        np.testing.assert_allclose(grad, grads[name], rtol=1e-12, atol=1e-14, err_msg=name)
    np.testing.assert_allclose(net.predict(x), expected, rtol=1e-12, atol=1e-14)


def test_from_torch_refuses_another_kind_or_size():
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match=r"cannot copy a torch LSTM .* into GRU"):
        from_torch(GRU(3, 5), torch.nn.LSTM(3, 5))
    with pytest.raises(ValueError, match="hidden_size"):
        from_torch(GRU(3, 5), torch.nn.GRU(3, 4))
    with pytest.raises(ValueError, match="bidirectional"):
        from_torch(LSTM(3, 5), torch.nn.LSTM(3, 5, bidirectional=True))
    with pytest.raises(ValueError, match="nonlinearity"):
        from_torch(SimpleRNN(3, 5), torch.nn.RNN(3, 5, nonlinearity="relu"))


# ---------------------------------------------------------------- shapes, configs, networks


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("bidirectional", "sequences"), SHAPES)
def test_shapes_and_config(kind, bidirectional, sequences):
    layer = KINDS[kind](3, 5, return_sequences=sequences, bidirectional=bidirectional)
    D = 2 if bidirectional else 1
    assert layer.output_shape((7, 3)) == ((7, 5 * D) if sequences else (5 * D,))
    gates = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}[kind]
    assert layer.parameter_shapes()[:2] == [(gates * 5, 3), (gates * 5, 5)]
    assert layer.parameter_names[:4] == ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
    assert len(layer.parameter_names) == 4 * D
    copy = layer_from_config(layer.get_config())
    assert type(copy) is type(layer) and copy.get_config() == layer.get_config()


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match=r"shape \(time, 3\)"):
        GRU(3, 5).output_shape((7, 4))
    layer = GRU(3, 5)
    bind(layer, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"\(n_samples, time, 3\); got \(2, 3\)"):
        layer.forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="nonlinearity"):
        SimpleRNN(3, 5, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="return_sequences must be True or False"):
        LSTM(3, 5, return_sequences="yes")
    with pytest.raises(ValueError, match="n_hidden must be a positive integer"):
        LSTM(3, 0)


def sequence_task(n, rng):
    """Class 1 when the sequence's first value is positive: the answer must be carried
    through every later step (which are noise)."""
    X = rng.standard_normal((n, 6, 1))
    return X, (X[:, 0, 0] > 0).astype(np.int64)


@pytest.mark.parametrize("kind", KINDS)
def test_learns_to_remember_the_first_step(kind):
    rng = np.random.default_rng(7)
    X, y = sequence_task(400, rng)
    net = cb.Network(
        [KINDS[kind](1, 8), cb.Dense(8, 2)], loss="cross_entropy", input_shape=(6, 1), seed=0
    )
    net.fit(X, y, epochs=40, batch_size=50, learning_rate=0.02)
    X_test, y_test = sequence_task(200, rng)
    assert np.mean(net.predict_classes(X_test) == y_test) > 0.9


def test_float32_stays_float32_and_predict_matches_batches():
    net = cb.Network(
        [GRU(2, 4, return_sequences=True, bidirectional=True), cb.Flatten(), cb.Dense(40, 3)],
        loss="cross_entropy",
        input_shape=(5, 2),
        seed=0,
    )
    X = np.random.default_rng(8).standard_normal((10, 5, 2)).astype(np.float32)
    whole = net.predict(X)
    assert whole.dtype == np.float32
    assert_same_maths(net.predict(X, batch_size=3), whole)
    value, grads = net.loss_and_gradients(X, np.arange(10) % 3)
    assert all(g.dtype == np.float32 for g in grads) and np.isfinite(value)


def test_pickle_and_config_round_trip_keep_predictions(tmp_path):
    net = cb.Network([LSTM(2, 4, bidirectional=True), cb.Dense(8, 2)], input_shape=(5, 2), seed=1)
    X = np.random.default_rng(9).standard_normal((6, 5, 2))
    expected = net.predict(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(net)).predict(X), expected)
    rebuilt = cb.Network.from_config(net.get_config())
    rebuilt.flat_parameters[...] = net.flat_parameters
    np.testing.assert_array_equal(rebuilt.predict(X), expected)
    net.save(tmp_path / "lstm.npz")
    np.testing.assert_array_equal(cb.load(tmp_path / "lstm.npz").predict(X), expected)
