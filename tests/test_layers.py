"""Layers (Dense, Dropout, Flatten) and initialisers: each layer's backward against central
differences, worked numbers, inverted dropout, initial scales, configs and bad arguments."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import cartoonbrain as cb
from cartoonbrain.diagnostics.gradcheck import central_difference
from cartoonbrain.initializers import INITIALIZERS, default_for, get_initializer
from cartoonbrain.layers import LAYERS, layer_from_config

ACTIVATIONS = sorted(cb.ACTIVATIONS)
KINKED = {"relu", "leaky_relu", "elu"}
H = 1e-6


def bound(layer, dtype=np.float64, seed=0):
    """Give a layer its own parameter and gradient arrays (as a Network would) and fill them."""
    params = [np.zeros(s, dtype=dtype) for s in layer.parameter_shapes()]
    grads = [np.zeros(s, dtype=dtype) for s in layer.parameter_shapes()]
    layer.bind(params, grads)
    rng = np.random.default_rng(seed)
    layer.attach(rng)
    layer.initialize(rng)
    return params, grads


# ------------------------------------------------------------------ Dense: gradients
@pytest.mark.parametrize("activation", ACTIVATIONS)
@settings(max_examples=25, deadline=None)
@given(
    n_in=st.integers(1, 6),
    n_out=st.integers(1, 6),
    batch=st.integers(1, 5),
    bias=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_dense_backward_equals_central_differences(activation, n_in, n_out, batch, bias, seed):
    """With L = Σ G₀ ⊙ Dense(X): backward fills ∇W, ∇b and returns ∂L/∂X, all as the
    central differences of L say."""
    layer = cb.Dense(n_in, n_out, activation=activation, bias=bias, init="glorot_normal")
    params, grads = bound(layer, seed=seed % 1000)
    rng = np.random.default_rng(seed)
    if bias:
        params[1][...] = rng.normal(size=n_out)
    X = rng.normal(size=(batch, n_in))
    G0 = rng.normal(size=(batch, n_out))
    layer.forward(X)
    if activation in KINKED:
        assume(np.min(np.abs(layer.affines)) > 1e-4)
    g_prev = layer.backward(G0.copy())

    def L(_):  # reads the parameter or input array that central_difference moves
        return float(np.sum(G0 * layer.forward(X)))

    atol = 1e-8 * max(1.0, abs(L(None)))  # rounding in L(θ ± h) costs about ε|L|/h
    for p, g in zip(params, grads):
        np.testing.assert_allclose(g, central_difference(L, p, H), rtol=1e-6, atol=atol)
    np.testing.assert_allclose(g_prev, central_difference(L, X, H), rtol=1e-6, atol=atol)


def test_dense_worked_example():
    """A = X Wᵀ + b;  O = relu(A);  G ← G ⊙ [A > 0];  ∇W = Gᵀ X;  ∇b = Σ_rows G;  G_prev = G W.

    W = [[1, −1], [2, 0.5]], b = [0.5, −1], X = [[1, 2], [−1, 1]]
    A = [[1 − 2 + 0.5, 2 + 1 − 1], [−1 − 1 + 0.5, −2 + 0.5 − 1]] = [[−0.5, 2], [−1.5, −2.5]]
    O = [[0, 2], [0, 0]];  with G = [[1, 2], [3, 4]]:  G ⊙ f'(A) = [[0, 2], [0, 0]]
    ∇W = [[0, 0], [2, 4]],  ∇b = [0, 2],  G_prev = [[4, 1], [0, 0]]
    """
    layer = cb.Dense(2, 2, activation="relu")
    (W, b), (dW, db) = bound(layer)
    W[...] = [[1, -1], [2, 0.5]]
    b[...] = [0.5, -1]
    X = np.array([[1.0, 2.0], [-1.0, 1.0]])
    out = layer.forward(X)
    np.testing.assert_array_equal(layer.affines, [[-0.5, 2], [-1.5, -2.5]])
    np.testing.assert_array_equal(out, [[0, 2], [0, 0]])
    assert layer.o_prev is X and layer.transforms is out
    g_prev = layer.backward(np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(dW, [[0, 0], [2, 4]])
    np.testing.assert_array_equal(db, [0, 2])
    np.testing.assert_array_equal(g_prev, [[4, 1], [0, 0]])
    assert layer.backward(np.ones((2, 2)), need_input_gradient=False) is None


def test_dense_without_bias_is_the_posts_layer():
    layer = cb.Dense(3, 2, activation="sigmoid", bias=False)
    assert layer.parameter_names == ("W",)
    assert layer.parameter_shapes() == [(2, 3)]
    (W,), _ = bound(layer)
    X = np.random.default_rng(0).normal(size=(4, 3))
    np.testing.assert_allclose(
        layer.forward(X), 1 / (1 + np.exp(-(X @ W.T))), rtol=1e-14, atol=1e-16
    )
    assert layer.b is None and layer.db is None


def test_dense_shapes_and_config_round_trip():
    layer = cb.Dense(5, 3, activation="tanh", init="lecun_normal")
    assert layer.parameter_names == ("W", "b")
    assert layer.parameter_shapes() == [(3, 5), (3,)]  # the post's (n_out, n_in)
    config = layer.get_config()
    assert config == {
        "type": "Dense",
        "n_in": 5,
        "n_out": 3,
        "activation": "tanh",
        "init": "lecun_normal",
        "bias": True,
    }
    assert layer_from_config(config).get_config() == config
    assert repr(layer).startswith("Dense(n_in=5, n_out=3, activation='tanh'")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_in": 0, "n_out": 3}, r"n_in must be a positive integer; got 0"),
        ({"n_in": 2, "n_out": -1}, r"n_out must be a positive integer; got -1"),
        ({"n_in": 2.5, "n_out": 3}, r"n_in must be a positive integer; got 2\.5"),
        ({"n_in": True, "n_out": 3}, r"n_in must be a positive integer; got True"),
        ({"n_in": 2, "n_out": 3, "activation": "mish"}, r"unknown activation 'mish'"),
        ({"n_in": 2, "n_out": 3, "init": "orthogonal"}, r"unknown init 'orthogonal'; expected"),
    ],
)
def test_dense_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cb.Dense(**kwargs)


def test_dense_says_which_input_shape_it_takes():
    with pytest.raises(ValueError, match=r"Dense\(3, 4\) takes inputs of shape \(3,\) but gets"):
        cb.Dense(3, 4).output_shape((5,))
    with pytest.raises(
        ValueError, match=r"gets \(2, 4\); .* \(sequences \(time, 3\) are taken one time step"
    ):
        cb.Dense(3, 4).output_shape((2, 4))
    with pytest.raises(ValueError, match=r"add Flatten\(\) before it"):
        cb.Dense(3, 4).output_shape((2, 2, 3))
    assert cb.Dense(3, 4).output_shape((3,)) == (4,)
    assert cb.Dense(3, 4).output_shape((7, 3)) == (7, 4)  # per time step


# ------------------------------------------------------------------ initialisers
@pytest.mark.parametrize(
    ("activation", "expected"),
    [
        ("relu", "he_uniform"),
        ("leaky_relu", "he_uniform"),
        ("elu", "he_uniform"),
        ("identity", "glorot_uniform"),
        ("sigmoid", "glorot_uniform"),
        ("tanh", "glorot_uniform"),
        ("softplus", "glorot_uniform"),
        ("softmax", "glorot_uniform"),
    ],
)
def test_default_init_is_he_for_the_relu_family_and_glorot_otherwise(activation, expected):
    assert default_for(activation) == expected
    assert cb.Dense(4, 3, activation=activation).init == expected
    assert cb.Dense(4, 3, activation=activation, init="zeros").init == "zeros"


FAN_IN, FAN_OUT = 400, 300  # a 300×400 W: 120,000 draws, std known to ~0.3 %


@pytest.mark.parametrize(
    ("init", "kind", "scale"),
    [
        ("standard_normal", "normal", 1.0),
        ("glorot_normal", "normal", math.sqrt(2 / (FAN_IN + FAN_OUT))),
        ("he_normal", "normal", math.sqrt(2 / FAN_IN)),
        ("lecun_normal", "normal", math.sqrt(1 / FAN_IN)),
        ("glorot_uniform", "uniform", math.sqrt(6 / (FAN_IN + FAN_OUT))),
        ("he_uniform", "uniform", math.sqrt(6 / FAN_IN)),
        ("lecun_uniform", "uniform", math.sqrt(3 / FAN_IN)),
        ("fan_in_uniform", "uniform", 1 / math.sqrt(FAN_IN)),
    ],
)
def test_initial_weights_have_the_documented_scale(init, kind, scale):
    """N(0, σ²): std ≈ σ;  U(−r, r): every |w| ≤ r, max |w| ≈ r, std ≈ r/√3. Biases start at 0."""
    net = cb.Network([cb.Dense(FAN_IN, FAN_OUT, init=init)], seed=0, dtype="float64")
    W, b = net.parameters()
    assert W.shape == (FAN_OUT, FAN_IN)
    np.testing.assert_array_equal(b, 0)
    expected_std = scale if kind == "normal" else scale / math.sqrt(3)
    assert W.std() == pytest.approx(expected_std, rel=0.02)
    assert abs(W.mean()) < 0.02 * expected_std * 3
    if kind == "uniform":
        assert np.abs(W).max() <= scale
        assert np.abs(W).max() > 0.999 * scale


def test_zeros_initialiser_and_unknown_name():
    net = cb.Network([cb.Dense(3, 2, init="zeros")], seed=0)
    np.testing.assert_array_equal(net.flat_parameters, 0)
    with pytest.raises(ValueError, match=r"unknown init 'ones'; expected one of"):
        get_initializer("ones")
    assert set(INITIALIZERS) == {
        "standard_normal",
        "glorot_uniform",
        "glorot_normal",
        "he_uniform",
        "he_normal",
        "lecun_normal",
        "lecun_uniform",
        "fan_in_uniform",
        "zeros",
    }


def test_fan_in_uniform_is_pytorchs_default_for_linear_and_conv_weights():
    """nn.Linear's and nn.Conv1d's kaiming_uniform_(a=√5) draw U(±1/√fan_in): the same
    bound as fan_in_uniform, fan_in = n_in (times the kernel's taps for a convolution)."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    for module, fan_in in ((torch.nn.Linear(400, 300), 400), (torch.nn.Conv1d(25, 30, 3), 75)):
        weights = module.weight.detach().double().numpy()
        bound = 1 / math.sqrt(fan_in)
        assert np.abs(weights).max() <= bound and np.abs(weights).max() > 0.99 * bound
    net = cb.Network([cb.Conv1D(25, 30, 3, init="fan_in_uniform")], seed=0, input_shape=(25, 9))
    W = net.parameters()[0]
    assert np.abs(W).max() <= 1 / math.sqrt(75) and np.abs(W).max() > 0.99 / math.sqrt(75)


@pytest.mark.parametrize("init", sorted(INITIALIZERS))
def test_float32_and_float64_nets_with_one_seed_start_from_the_same_numbers(init):
    def make(dtype):
        layers = [cb.Dense(7, 5, "relu", init=init), cb.Dense(5, 3, init=init)]
        return cb.Network(layers, seed=42, dtype=dtype)

    p32, p64 = make("float32").flat_parameters, make("float64").flat_parameters
    assert p32.dtype == np.float32 and p64.dtype == np.float64
    np.testing.assert_array_equal(p32, p64.astype(np.float32))


def test_standard_normal_without_bias_draws_the_posts_weights():
    """Layer by layer from one generator, W_l ~ N(0, 1) of shape (n_out, n_in): blog.make_net."""
    shapes = [(4, 3), (5, 4), (2, 5)]
    layers = [
        cb.Dense(n_in, n_out, "sigmoid", init="standard_normal", bias=False)
        for n_out, n_in in shapes
    ]
    net = cb.Network(layers, loss="squared_error", seed=7, dtype="float64")
    for W, W_blog in zip(net.parameters(), cb.blog.make_net(shapes, rng=7)):
        np.testing.assert_array_equal(W, W_blog)


# ------------------------------------------------------------------ Dropout
@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5, "0.5", True, None])
def test_dropout_rate_must_be_in_zero_one(bad):
    with pytest.raises(ValueError, match=r"Dropout rate must be in \[0, 1\)"):
        cb.Dropout(bad)


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_dropout_is_inverted_scaling_kept_units_by_one_over_one_minus_rate(rate):
    layer = cb.Dropout(rate)
    layer.attach(np.random.default_rng(0))
    x = np.random.default_rng(1).uniform(1, 2, size=(200, 250))
    o = layer.forward(x, training=True)
    kept = o != 0
    np.testing.assert_array_equal(o[kept], x[kept] * (1 / (1 - rate)))  # exact scaling
    # the kept fraction is 1 − rate (50,000 Bernoulli draws: std ≤ 0.0023)
    assert kept.mean() == pytest.approx(1 - rate, abs=0.01)
    # mean preserved in expectation: E[o] = x
    ones = np.ones((200, 250))
    assert layer.forward(ones, training=True).mean() == pytest.approx(1.0, rel=0.03)


def test_dropout_reuses_its_mask_in_backward():
    """G_prev = G ⊙ M / (1 − rate), with the mask M of the last forward pass."""
    layer = cb.Dropout(0.5)
    layer.attach(np.random.default_rng(3))
    x = np.ones((6, 8))
    o = layer.forward(x, training=True)
    g = np.random.default_rng(4).normal(size=(6, 8))
    g_prev = layer.backward(g)
    np.testing.assert_array_equal(g_prev, g * o)  # o = 1 ⊙ M/(1 − rate): the scaled mask
    np.testing.assert_array_equal(layer.backward(g), g_prev)  # same mask again
    assert 0 < np.count_nonzero(o) < o.size
    assert layer.backward(g, need_input_gradient=False) is None


def test_dropout_is_off_in_predict_and_at_rate_zero():
    x = np.random.default_rng(0).normal(size=(5, 4))
    layer = cb.Dropout(0.5)
    layer.attach(np.random.default_rng(0))
    np.testing.assert_array_equal(layer.forward(x), x)
    g = np.ones_like(x)
    np.testing.assert_array_equal(layer.backward(g), g)
    zero = cb.Dropout(0.0)
    np.testing.assert_array_equal(zero.forward(x, training=True), x)


def test_dropout_in_a_network_is_off_in_predict():
    net = cb.Network([cb.Dense(4, 16, "relu"), cb.Dropout(0.5), cb.Dense(16, 2)], seed=0)
    X = np.random.default_rng(0).normal(size=(10, 4))
    np.testing.assert_array_equal(net.predict(X), net.predict(X))
    without = cb.Network([cb.Dense(4, 16, "relu"), cb.Dense(16, 2)], seed=0)
    np.testing.assert_array_equal(net.predict(X), without.predict(X))


def test_dropout_masks_come_from_the_networks_seeded_generator():
    def masks(seed):
        net = cb.Network([cb.Dense(3, 20, "relu"), cb.Dropout(0.3), cb.Dense(20, 1)], seed=seed)
        X = np.ones((4, 3))
        net.loss_and_gradients(X, np.zeros(4), training=True)
        return net.layers[1].mask.copy()

    np.testing.assert_array_equal(masks(5), masks(5))
    assert not np.array_equal(masks(5), masks(6))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_keeps_the_dtype(dtype):
    layer = cb.Dropout(0.25)
    layer.attach(np.random.default_rng(0))
    x = np.ones((3, 4), dtype=dtype)
    assert layer.forward(x, training=True).dtype == dtype
    assert layer.mask.dtype == dtype
    assert layer.backward(x).dtype == dtype


def test_dropout_config_round_trip():
    assert cb.Dropout(0.25).get_config() == {"type": "Dropout", "rate": 0.25}
    assert layer_from_config({"type": "Dropout", "rate": 0.25}).rate == 0.25


# ------------------------------------------------------------------ Flatten
def test_flatten_reshapes_each_sample_to_a_row_and_back():
    layer = cb.Flatten()
    x = np.arange(24.0).reshape(2, 3, 4)
    o = layer.forward(x)
    np.testing.assert_array_equal(o, x.reshape(2, 12))
    np.testing.assert_array_equal(layer.backward(o), x)
    assert layer.output_shape((3, 4)) == (12,)
    assert layer.output_shape(None) is None
    assert layer_from_config({"type": "Flatten"}).get_config() == {"type": "Flatten"}


def test_flatten_as_first_layer_takes_multidimensional_inputs():
    """Network([Flatten(), Dense(6, 2)]) is for inputs of shape (n, 2, 3) (or any 6 features)."""
    net = cb.Network([cb.Flatten(), cb.Dense(6, 2)], seed=0, dtype="float64")
    X = np.random.default_rng(0).normal(size=(4, 2, 3))
    out = net.predict(X)
    np.testing.assert_allclose(out, net.predict(X.reshape(4, 6)), rtol=1e-15, atol=0)
    value, grads = net.loss_and_gradients(X, np.zeros((4, 2)))
    assert np.isfinite(value) and grads[0].shape == (2, 6)


# ------------------------------------------------------------------ configs
def test_only_known_layer_types_are_built_from_configs():
    assert {"Dense", "Dropout", "Flatten"} <= set(LAYERS)
    assert all(isinstance(kind, type) and issubclass(kind, cb.Layer) for kind in LAYERS.values())
    with pytest.raises(ValueError, match=r"unknown layer type 'Lambda'; expected one of .*Dense"):
        layer_from_config({"type": "Lambda", "function": "print"})
    with pytest.raises(ValueError, match=r"must be a dict with a 'type'"):
        layer_from_config(["Dense"])
    with pytest.raises(ValueError, match=r"bad Dense config"):
        layer_from_config({"type": "Dense", "n_in": 2, "n_out": 3, "code": "x"})


# ------------------------------------------------------------------ the speed helpers
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 2, 33])
def test_the_backward_products_are_their_equations(dtype, n):
    """layers/products.py: ∇W = gᵀ O_prev and ∇b = Σ_rows g, as the plain expressions give
    them (within the rounding of two BLAS calls), for one row and for many."""
    from cartoonbrain.layers.products import column_sums, weight_gradient

    rng = np.random.default_rng(n)
    g, o_prev = rng.standard_normal((n, 5)).astype(dtype), rng.standard_normal((n, 7)).astype(dtype)
    dW, db = np.empty((5, 7), dtype), np.empty(5, dtype)
    weight_gradient(g, o_prev, out=dW)
    column_sums(g, out=db)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(dW, g.T @ o_prev, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(db, g.sum(axis=0), rtol=rtol, atol=rtol)
