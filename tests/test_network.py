"""Network: whole-network gradients against central differences (hypothesis over depth,
sizes, batch, every activation and loss), a worked example, the blog post's network,
L2, dtypes end to end, data checks at the boundary, predict and evaluate."""

import math
import re

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import cartoonbrain as cb
from cartoonbrain import blog
from cartoonbrain.diagnostics.gradcheck import central_difference
from tolerance import assert_same_maths

ACTIVATIONS = sorted(cb.ACTIVATIONS)
LOSSES = sorted(cb.LOSSES)
KINKED = {"relu", "leaky_relu", "elu"}
H = 1e-6


def noise_floor(value):
    """atol for central differences: rounding in L(θ ± h) costs about ε|L|/h ≈ 2e-10 |L|."""
    return 1e-8 * max(1.0, abs(value))


def central_differences(net, X, t):
    """∂L/∂θ for every parameter θ of a float64 net, by (L(θ + h) − L(θ − h)) / 2h."""

    def L(_):
        return net.loss(net.forward(X), t) + net.penalty(len(X))

    return [central_difference(L, p, H) for p in net.parameters()]


def targets_for(loss, rng, n, k):
    if not cb.LOSSES[loss].classification and cb.LOSSES[loss].output_activation is None:
        return rng.normal(size=(n, k))  # mse, squared_error, huber, ...
    if loss == "cross_entropy":
        return rng.integers(0, k, size=n)
    return rng.integers(0, 2, size=(n, k)).astype(float)


def min_abs_affines(net):
    return min(
        float(np.min(np.abs(layer.affines)))
        for layer in net.layers
        if isinstance(layer, cb.Dense) and layer.activation.name in KINKED
    )


@st.composite
def networks(draw, activation, loss):
    """A float64 net of depth 1..3 (hidden layers use `activation`), sizes 1..6, batch 1..5."""
    depth = draw(st.integers(1, 3))
    sizes = [draw(st.integers(1, 6)) for _ in range(depth)]
    n_out = draw(st.integers(2 if loss == "cross_entropy" else 1, 6))
    sizes.append(n_out)
    if cb.LOSSES[loss].output_activation is not None:
        last = "identity"  # these losses take logits
    else:
        last = draw(st.sampled_from([activation, "identity", "sigmoid"]))
    layers = []
    for i in range(depth):
        act = activation if i < depth - 1 else last
        bias = draw(st.booleans())
        layers.append(cb.Dense(sizes[i], sizes[i + 1], activation=act, bias=bias))
    l2 = draw(st.sampled_from([0.0, 0.0, 0.3]))
    seed = draw(st.integers(0, 2**32 - 1))
    net = cb.Network(layers, loss=loss, seed=seed, dtype="float64", l2=l2)
    rng = np.random.default_rng(seed)
    for p in net.parameters():  # nonzero biases too
        p[...] = rng.normal(size=p.shape)
    batch = draw(st.integers(1, 5))
    X = rng.normal(size=(batch, sizes[0]))
    return net, X, targets_for(loss, rng, batch, n_out)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_loss_and_gradients_equal_central_differences(activation, loss, data):
    net, X, y = data.draw(networks(activation, loss))
    value, grads = net.loss_and_gradients(X, y)
    if any(isinstance(la, cb.Dense) and la.activation.name in KINKED for la in net.layers):
        assume(min_abs_affines(net) > 1e-4)
    t = net.check_targets(y, len(X))
    assert value == pytest.approx(net.loss(net.forward(X), t) + net.penalty(len(X)), rel=1e-14)
    for g, numeric, p in zip(grads, central_differences(net, X, t), net.parameters()):
        assert g.shape == p.shape and g.dtype == np.float64
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=noise_floor(value))


def test_gradients_align_with_parameters_and_names():
    net = cb.Network([cb.Dense(3, 4, "tanh"), cb.Dense(4, 2, bias=False)], seed=0)
    assert net.parameter_names() == ["layer0.W", "layer0.b", "layer1.W"]
    assert [p.shape for p in net.parameters()] == [(4, 3), (4,), (2, 4)]
    _, grads = net.loss_and_gradients(np.ones((2, 3)), np.zeros((2, 2)))
    assert [g.shape for g in grads] == [(4, 3), (4,), (2, 4)]
    assert [g.shape for g in net.gradients()] == [(4, 3), (4,), (2, 4)]
    assert net.n_parameters == 12 + 4 + 8
    # parameters() are live views into the one flat buffer
    net.parameters()[2][0, 0] = 123.0
    assert net.flat_parameters[16] == 123.0


# ------------------------------------------------------------------ worked example
def test_worked_example_two_layers():
    """Dense(2, 2, relu) → Dense(2, 1), squared_error, one sample (all numbers exact in binary).

    W1 = [[1, −1], [2, 0.5]], b1 = [0.5, −1], W2 = [[3, −1]], b2 = [0.25], x = [1, 2], t = 0.25
    a1 = [1 − 2 + 0.5, 2 + 1 − 1] = [−0.5, 2]      o1 = relu(a1) = [0, 2]
    y = 3·0 − 1·2 + 0.25 = −1.75                   L = ½ (y − t)² = ½ (−2)² = 2
    g = y − t = −2:   ∇W2 = g o1ᵀ = [[0, −4]],  ∇b2 = [−2],  g ← g W2 = [−6, 2]
    g ← g ⊙ [a1 > 0] = [0, 2]:   ∇W1 = gᵀ x = [[0, 0], [2, 4]],  ∇b1 = [0, 2]
    """
    net = cb.Network(
        [cb.Dense(2, 2, "relu"), cb.Dense(2, 1)], loss="squared_error", dtype="float64"
    )
    W1, b1, W2, b2 = net.parameters()
    W1[...] = [[1, -1], [2, 0.5]]
    b1[...] = [0.5, -1]
    W2[...] = [[3, -1]]
    b2[...] = [0.25]
    value, (dW1, db1, dW2, db2) = net.loss_and_gradients([[1.0, 2.0]], [0.25])
    np.testing.assert_array_equal(net.layers[0].affines, [[-0.5, 2]])
    np.testing.assert_array_equal(net.predict([[1.0, 2.0]]), [[-1.75]])
    assert value == 2.0
    np.testing.assert_array_equal(dW2, [[0, -4]])
    np.testing.assert_array_equal(db2, [-2])
    np.testing.assert_array_equal(dW1, [[0, 0], [2, 4]])
    np.testing.assert_array_equal(db1, [0, 2])
    # with l2 = 0.5 the loss gains ¼ Σ‖W‖² = ¼ (1 + 1 + 4 + ¼ + 9 + 1) = 4.0625
    net.l2 = 0.5
    value_l2, (dW1_l2, db1_l2, dW2_l2, db2_l2) = net.loss_and_gradients([[1.0, 2.0]], [0.25])
    assert value_l2 == 2.0 + 4.0625
    np.testing.assert_array_equal(dW1_l2, dW1 + 0.5 * W1)
    np.testing.assert_array_equal(dW2_l2, dW2 + 0.5 * W2)
    np.testing.assert_array_equal(db1_l2, db1)  # biases are not penalised
    np.testing.assert_array_equal(db2_l2, db2)


# ------------------------------------------------------------------ the blog post's network
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_the_blog_posts_forward_and_backward_on_one_sample(seed):
    """Dense(.., bias=False, sigmoid, standard_normal) layers with squared_error in float64
    are the post's network: same weights from the same seed, same loss, same gradients
    (the post works on columns, the Network on rows: x is a column, X = xᵀ)."""
    layers = [
        cb.Dense(n_in, n_out, "sigmoid", init="standard_normal", bias=False)
        for n_out, n_in in blog.BLOG_LAYERS
    ]
    net = cb.Network(layers, loss="squared_error", seed=seed, dtype="float64")
    weights = blog.make_net(blog.BLOG_LAYERS, rng=seed)
    for W, W_blog in zip(net.parameters(), weights):
        np.testing.assert_array_equal(W, W_blog)
    rng = np.random.default_rng(100 + seed)
    x, t = rng.normal(size=(10, 1)), rng.normal(size=(2, 1))
    affines, transforms = blog.forward(x, t, weights)
    y = transforms[-1]
    blog_grads = blog.backward(x, t, y - t, weights, affines, transforms)
    value, grads = net.loss_and_gradients(x.T, t.T)
    assert value == pytest.approx(blog.mse(t, y), rel=1e-12)
    np.testing.assert_allclose(net.predict(x.T), y.T, rtol=1e-12, atol=1e-15)
    for g, g_blog in zip(grads, blog_grads):
        np.testing.assert_allclose(g, g_blog, rtol=1e-10, atol=1e-15)


# ------------------------------------------------------------------ L2 penalty
@pytest.mark.parametrize("l2", [0.1, 2.0])
def test_l2_adds_half_l2_sum_of_squared_weights_and_l2_w_to_weight_gradients(l2):
    layers = [cb.Dense(3, 4, "tanh"), cb.Dense(4, 2)]
    plain = cb.Network(layers, loss="mse", seed=0, dtype="float64")
    penal = cb.Network(
        [cb.Dense(3, 4, "tanh"), cb.Dense(4, 2)], loss="mse", seed=0, dtype="float64", l2=l2
    )
    rng = np.random.default_rng(0)
    plain.flat_parameters[...] = rng.normal(size=plain.n_parameters)
    penal.flat_parameters[...] = plain.flat_parameters
    X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    v0, g0 = plain.loss_and_gradients(X, y)
    v1, g1 = penal.loss_and_gradients(X, y)
    W1, _, W2, _ = plain.parameters()
    penalty = l2 / 2 * (np.sum(W1**2) + np.sum(W2**2))
    assert v1 == pytest.approx(v0 + penalty, rel=1e-13)
    np.testing.assert_allclose(g1[0], g0[0] + l2 * W1, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(g1[2], g0[2] + l2 * W2, rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(g1[1], g0[1])
    np.testing.assert_array_equal(g1[3], g0[3])
    t = penal.check_targets(y, 5)
    for g, numeric in zip(g1, central_differences(penal, X, t)):
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=noise_floor(v1))
    assert penal.evaluate(X, y)["loss"] == pytest.approx(v1, rel=1e-13)


@pytest.mark.parametrize("bad", [-0.1, math.inf, math.nan, "0.1", True])
def test_l2_must_be_a_non_negative_number(bad):
    with pytest.raises(ValueError, match=r"l2 must be a non-negative number"):
        cb.Network([cb.Dense(2, 1)], l2=bad)


# ------------------------------------------------------------------ dtypes
def test_dtype_is_float32_by_default_and_float64_on_request():
    assert cb.Network([cb.Dense(2, 1)]).dtype == np.float32
    assert cb.Network([cb.Dense(2, 1)]).flat_parameters.dtype == np.float32
    for spelling in ["float64", np.float64, np.dtype("float64")]:
        net = cb.Network([cb.Dense(2, 1)], dtype=spelling)
        assert net.flat_parameters.dtype == np.float64
    with pytest.raises(ValueError, match=r"dtype must be 'float32' or 'float64'; got 'float16'"):
        cb.Network([cb.Dense(2, 1)], dtype="float16")
    with pytest.raises(ValueError, match=r"dtype must be 'float32' or 'float64'"):
        cb.Network([cb.Dense(2, 1)], dtype="int64")


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_network_keeps_its_dtype_end_to_end(loss, dtype):
    """Parameters, gradients, forward/predict outputs, the loss's gradient, every layer's
    caches and dropout masks keep the network's dtype, even for float64 inputs."""
    hidden = [cb.Dense(3 if i == 0 else 4, 4, a) for i, a in enumerate(ACTIVATIONS)]
    layers = [*hidden, cb.Dropout(0.3), cb.Dense(4, 3)]  # every activation, then dropout
    net = cb.Network(layers, loss=loss, seed=0, dtype=dtype)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 3))  # float64 on purpose
    y = targets_for(loss, rng, 6, 3)
    value, grads = net.loss_and_gradients(X, y, training=True)
    assert isinstance(value, float) and math.isfinite(value)
    assert all(g.dtype == dtype for g in grads)
    assert all(g.dtype == dtype for g in net.gradients())
    assert all(p.dtype == dtype for p in net.parameters())
    for layer in net.layers:
        if isinstance(layer, cb.Dense):
            for cache in (layer.o_prev, layer.affines, layer.transforms):
                assert cache.dtype == dtype, (layer, cache.dtype)
        else:
            assert layer.mask.dtype == dtype
    t = net.check_targets(y, 6)
    _, g_loss = net.loss.value_and_gradient(net.forward(net.check_inputs(X)), t)
    assert g_loss.dtype == dtype
    assert net.forward(net.check_inputs(X)).dtype == dtype
    assert net.predict(X).dtype == dtype
    assert net.predict(X, batch_size=4).dtype == dtype
    net.fit(X, y, epochs=2, batch_size=4, optimizer="adam")
    assert net.flat_parameters.dtype == dtype
    assert all(p.dtype == dtype for p in net.parameters())
    state = net.optimizer.state_dict()
    assert all(v.dtype == dtype for k, v in state.items() if v.dtype.kind == "f")


# ------------------------------------------------------------------ building
def test_softmax_or_sigmoid_before_a_cross_entropy_loss_is_refused():
    with pytest.raises(ValueError, match=r"applies 'softmax'.*use activation='identity'"):
        cb.Network([cb.Dense(3, 2, "softmax")], loss="cross_entropy")
    with pytest.raises(ValueError, match=r"applies 'sigmoid'.*use activation='identity'"):
        cb.Network([cb.Dense(3, 1, "sigmoid")], loss="binary_cross_entropy")
    with pytest.raises(ValueError, match=r"must have activation='identity', not 'tanh'"):
        cb.Network([cb.Dense(3, 2, "tanh")], loss="cross_entropy")
    # a softmax inside the network is fine, and so is a sigmoid output for squared error
    cb.Network([cb.Dense(3, 4, "softmax"), cb.Dense(4, 2)], loss="cross_entropy")
    cb.Network([cb.Dense(3, 1, "sigmoid")], loss="squared_error")


@pytest.mark.parametrize(
    ("layers", "kwargs", "match"),
    [
        ([], {}, r"at least one layer"),
        (["Dense"], {}, r"layer 0 is 'Dense', not a cartoonbrain layer"),
        ([cb.Dense(3, 4), cb.Dense(5, 1)], {}, r"layer 1 \(Dense\) does not fit.*\(5,\)"),
        ([cb.Dropout(0.5)], {}, r"output size is unknown"),
        ([cb.Dense(3, 1)], {"loss": "hinge"}, r"unknown loss 'hinge'"),
    ],
)
def test_bad_networks_are_refused(layers, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cb.Network(layers, **kwargs)


def test_config_round_trip_and_summary():
    net = cb.Network(
        [cb.Dense(3, 4, "relu"), cb.Dropout(0.2), cb.Dense(4, 2)],
        loss="cross_entropy",
        seed=3,
        dtype="float64",
        l2=0.01,
        metadata={"classes": ["a", "b"]},
    )
    config = net.get_config()
    again = cb.Network.from_config(config)
    assert again.get_config() == config
    np.testing.assert_array_equal(again.flat_parameters, net.flat_parameters)  # same seed
    summary = net.summary(print_fn=None)
    assert "26 parameters" in summary and "cross_entropy" in summary
    assert "Network(" in repr(net)


@pytest.mark.parametrize(
    "layers",
    [
        [cb.Dense(3, 4, "relu"), cb.Dropout(0.2), cb.Dense(4, 2)],
        [cb.Dense(300, 1000, "leaky_relu", init="he_normal"), cb.Dense(1000, 10, bias=False)],
    ],
)
def test_summary_prints_an_aligned_table_and_returns_it(layers, capsys):
    net = cb.Network(layers, seed=0)
    text = net.summary()
    assert capsys.readouterr().out == text + "\n"  # printed, as Keras's
    lines = text.splitlines()
    rules = [i for i, line in enumerate(lines) if set(line) <= {"-", " "}]
    assert rules == [1, len(layers) + 2]
    rows = lines[: rules[1]]
    assert len({len(row) for row in rows}) == 1  # every row as wide as the header
    starts = [m.start() for m in re.finditer(r"(?<=  )\S", lines[1].replace("-", "x"))]
    for row in rows[2:]:
        assert all(row[s - 2 : s] == "  " for s in starts)  # columns start in one place
    counts = [int(row.split()[-1].replace(",", "")) for row in rows[2:]]
    assert sum(counts) == net.n_parameters


# ------------------------------------------------------------------ data at the boundary
def classifier():
    return cb.Network([cb.Dense(3, 4, "relu"), cb.Dense(4, 3)], loss="cross_entropy", seed=0)


def regressor():
    return cb.Network([cb.Dense(3, 2)], loss="mse", seed=0)


def binary():
    return cb.Network([cb.Dense(3, 1)], loss="binary_cross_entropy", seed=0)


GOOD_X = np.arange(12.0).reshape(4, 3) / 10


def with_entry(value, row=2, col=1):
    X = GOOD_X.copy()
    X[row, col] = value
    return X


BAD_DATA = [
    # (network, X, y, message fragment)
    (
        classifier,
        with_entry(np.nan),
        [0, 1, 2, 0],
        r"X contains nan at row 2, column 1; expected fin",
    ),
    (classifier, with_entry(np.inf), [0, 1, 2, 0], r"X contains inf at row 2, column 1"),
    (classifier, with_entry(-np.inf, 0, 0), [0, 1, 2, 0], r"X contains -inf at row 0, column 0"),
    (classifier, np.ones((4, 5)), [0, 1, 2, 0], r"X has 5 features per sample; the network exp"),
    (classifier, np.ones(3), [0], r"X has shape \(3,\); expected \(n_samples, 3\)"),
    (classifier, np.ones((0, 3)), [], r"X is empty \(0 samples\)"),
    (classifier, [["a", "b", "c"]], [0], r"X must be numeric"),
    (classifier, GOOD_X, [0, 1, 3, 0], r"class id 3 at row 2 is out of range.*expected 0\.\.2"),
    (classifier, GOOD_X, [0, -1, 1, 0], r"class id -1 at row 1 is out of range"),
    (classifier, GOOD_X, [0.0, 1.0, 0.5, 2.0], r"integer class ids 0\.\.2; target .* row 2"),
    (classifier, GOOD_X, ["a", "b", "c", "a"], r"integer class ids 0\.\.2; got an array of dt"),
    (classifier, GOOD_X, [0, 1, 2], r"y has 3 rows but X has 4; expected one target per sample"),
    (classifier, GOOD_X, None, r"y is missing"),
    (regressor, GOOD_X, np.ones((4, 3)), r"targets have shape \(4, 3\); expected \(n_samples, 2\)"),
    (regressor, GOOD_X, [[1, np.nan]] * 4, r"y contains nan at row 0; expected finite targets"),
    (regressor, GOOD_X, [[1, 2], [1, 2], [1, 2], [np.inf, 2]], r"y contains inf at row 3"),
    (regressor, GOOD_X, [["a", "b"]] * 4, r"mse needs numeric targets"),
    (binary, GOOD_X, [0, 1, 2, 0], r"binary_cross_entropy needs targets in \[0, 1\].*row 2"),
    (binary, GOOD_X, [0, 1, -0.5, 0], r"targets in \[0, 1\].*row 2 has \[-0\.5\]"),
    (binary, GOOD_X, ["yes", "no", "no", "yes"], r"binary_cross_entropy needs targets 0 or 1"),
]


@pytest.mark.parametrize(("make", "X", "y", "match"), BAD_DATA)
@pytest.mark.parametrize("entry", ["fit", "evaluate", "loss_and_gradients"])
def test_bad_data_is_refused_naming_what_is_wrong(make, X, y, match, entry):
    net = make()
    before = net.flat_parameters.copy()
    with pytest.raises(ValueError, match=match):
        if entry == "fit":
            net.fit(X, y, epochs=1)
        else:
            getattr(net, entry)(X, y)
    np.testing.assert_array_equal(net.flat_parameters, before)


@pytest.mark.parametrize(
    ("X", "match"),
    [
        (with_entry(np.nan), r"X contains nan at row 2, column 1"),
        (np.ones((2, 4)), r"X has 4 features per sample; the network expects 3"),
        (np.ones((0, 3)), r"X is empty"),
    ],
)
def test_predict_checks_its_inputs(X, match):
    with pytest.raises(ValueError, match=match):
        classifier().predict(X)


def test_predict_batch_size_must_be_positive():
    with pytest.raises(ValueError, match=r"batch_size must be a positive integer; got 0"):
        classifier().predict(GOOD_X, batch_size=0)


# ------------------------------------------------------------------ predict and evaluate
def test_predict_returns_probabilities_for_cross_entropy():
    net = classifier()
    X = np.random.default_rng(0).normal(size=(50, 3)) * 5
    p = net.predict(X)
    assert p.shape == (50, 3)
    assert np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-6)
    logits = net.forward(net.check_inputs(X))
    np.testing.assert_allclose(p, cb.softmax(logits), rtol=1e-6, atol=1e-7)
    # another batch size is another computation (a one-row product may take another BLAS
    # path): equal within rounding, not bit for bit; the same batch size is bit-identical
    assert_same_maths(net.predict(X, batch_size=7), p)
    np.testing.assert_array_equal(net.predict(X, batch_size=7), net.predict(X, batch_size=7))
    np.testing.assert_array_equal(net.predict_classes(X), p.argmax(axis=1))


def test_predict_returns_sigmoid_probabilities_for_binary_cross_entropy():
    net = binary()
    X = np.random.default_rng(0).normal(size=(20, 3)) * 5
    p = net.predict(X)
    logits = net.forward(net.check_inputs(X)).astype(np.float64)
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-logits)), rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(net.predict_classes(X), (p > 0.5).astype(int))


def test_predict_returns_raw_outputs_for_regression():
    net = regressor()
    X = np.random.default_rng(0).normal(size=(5, 3))
    W, b = net.parameters()
    np.testing.assert_allclose(net.predict(X), X @ W.T + b, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match=r"predict_classes needs a classification loss"):
        net.predict_classes(X)


def test_evaluate_returns_the_loss_and_accuracy_for_classifiers():
    net = classifier()
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(30, 3)), rng.integers(0, 3, size=30)
    result = net.evaluate(X, y)
    assert set(result) == {"loss", "accuracy"}
    value, _ = net.loss_and_gradients(X, y)
    assert result["loss"] == pytest.approx(value, rel=1e-6)
    assert result["accuracy"] == np.mean(net.predict_classes(X) == y)
    small_batches = net.evaluate(X, y, batch_size=7)
    assert small_batches["loss"] == pytest.approx(value, rel=1e-6)
    with pytest.raises(ValueError, match=r"unknown metric 'f2'"):
        net.evaluate(X, y, metrics=["f2"])


def test_evaluate_returns_the_loss_mse_mae_and_r2_for_regression():
    net = cb.Network([cb.Dense(3, 2)], loss="mse", seed=0, dtype="float64")
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(40, 3)), rng.normal(size=(40, 2))
    result = net.evaluate(X, y)
    assert set(result) == {"loss", "mse", "mae", "r2"}
    p = net.predict(X)
    assert result["loss"] == pytest.approx(np.mean((p - y) ** 2), rel=1e-12)
    assert result["mse"] == pytest.approx(np.mean((p - y) ** 2), rel=1e-12)
    assert result["mae"] == pytest.approx(np.mean(np.abs(p - y)), rel=1e-12)
    r2 = 1 - ((p - y) ** 2).sum(axis=0) / ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    assert result["r2"] == pytest.approx(r2.mean(), rel=1e-12)
    assert net.evaluate(X, y, metrics=[]) == {"loss": result["loss"]}


def test_accuracy_of_several_sigmoid_outputs_counts_each_output_against_its_label():
    """binary_cross_entropy with k outputs is k yes/no questions (multi-label): accuracy is
    the fraction of entries on the right side of ½, as Keras's binary accuracy. Here every
    output is right (σ(−10) < ½ for label 0, σ(10), σ(20) > ½ for labels 1), so accuracy = 1."""
    net = cb.Network([cb.Dense(1, 3)], loss="binary_cross_entropy", dtype="float64")
    W, b = net.parameters()
    W[...] = [[-10.0], [10.0], [20.0]]
    b[...] = 0
    X, y = np.array([[1.0]]), np.array([[0, 1, 1]])
    np.testing.assert_array_equal(net.predict_classes(X), [[0, 1, 1]])
    assert net.evaluate(X, y)["accuracy"] == 1.0


def test_wrong_feature_count_is_named_when_dropout_comes_first():
    net = cb.Network([cb.Dropout(0.2), cb.Dense(3, 2)], seed=0)
    with pytest.raises(ValueError, match=r"X has 5 features per sample; the network expects 3"):
        net.predict(np.ones((2, 5)))
    with pytest.raises(ValueError, match=r"X has 5 features per sample; the network expects 3"):
        net.fit(np.ones((2, 5)), np.zeros((2, 2)))
    assert net.predict(np.ones((2, 3))).shape == (2, 2)


def test_wrong_feature_count_is_named_when_flatten_comes_first():
    """Flatten() then Dense(6, ·) takes any per-sample shape of 6 entries, and says so."""
    net = cb.Network([cb.Flatten(), cb.Dense(6, 2)], seed=0)
    assert net.predict(np.ones((2, 2, 3))).shape == (2, 2)
    with pytest.raises(ValueError, match=r"X has .*features per sample; the network expects 6"):
        net.predict(np.ones((2, 7, 2)))


def test_one_hot_targets_train_like_class_ids():
    rng = np.random.default_rng(3)
    X, ids = rng.normal(size=(12, 3)), rng.integers(0, 3, size=12)
    net = classifier()
    v_ids, g_ids = net.loss_and_gradients(X, ids)
    v_hot, g_hot = net.loss_and_gradients(X, np.eye(3)[ids])
    assert v_ids == pytest.approx(v_hot, rel=1e-6)
    for a, b in zip(g_ids, g_hot):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert net.evaluate(X, ids) == pytest.approx(net.evaluate(X, np.eye(3)[ids]), rel=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n_rows", [3, 30_000])  # the small path and the large one
def test_a_prediction_that_overflows_from_finite_inputs_is_an_error_naming_the_row(dtype, n_rows):
    net = cb.Network([cb.Dense(2, 8, "relu"), cb.Dense(8, 1)], seed=0, dtype=dtype)
    X = np.ones((n_rows, 2))
    X[n_rows - 1] = 3e38 if dtype == "float32" else 1e308
    with pytest.raises(ValueError, match=rf"prediction for row {n_rows - 1} is .* although"):
        net.predict(X)
    X[n_rows - 1] = 1.0
    assert np.isfinite(net.predict(X)).all()
    X[0, 1] = np.nan
    with pytest.raises(ValueError, match=r"X contains nan at row 0, column 1"):
        net.predict(X)
