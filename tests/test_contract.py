"""The contract of every registered layer, activation, loss and optimizer (and, in the last
section, of every metric, schedule and callback).

As scikit-learn's ``parametrize_with_checks`` runs one set of checks over every estimator,
the tests below run one set of checks over every entry of the registries (``LAYERS``,
``ACTIVATIONS``, ``LOSSES``, ``OPTIMIZERS``), read when the tests are collected: a newly
registered entry is tested without writing a test for it. What each entry must do:

* its config survives a round trip through ``net.save`` / ``cb.load`` (and JSON), and
  the loaded network predicts the same;
* its gradients equal central differences in float64 (``gradcheck.central_difference``);
* a float32 network stays float32 through it;
* it survives pickling;
* the ONNX export equals ``predict`` in onnxruntime, or is refused in one clear line
  (skipped when onnx or onnxruntime is missing).

A layer provides ``example()`` (a small instance and one sample's input shape) and, if
it takes something else than normal numbers, ``example_inputs``. The ``check_*``
functions are also what tests/test_extending.py applies to its own toy entries.
"""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pytest

import cartoonbrain as cb
from cartoonbrain.activations import ACTIVATIONS, get_activation
from cartoonbrain.diagnostics.gradcheck import central_difference
from cartoonbrain.initializers import INITIALIZERS
from cartoonbrain.layers import LAYERS, Layer, layer_from_config
from cartoonbrain.losses import LOSSES, Loss
from cartoonbrain.optimizers import OPTIMIZERS, Optimizer, get_optimizer

ONNX_TOLERANCE = {"float32": 1e-5, "float64": 1e-12}


def noise_floor(value):
    """atol for central differences: rounding in L(θ ± h) costs about ε|L|/h ≈ 2e-10 |L|."""
    return 1e-8 * max(1.0, abs(value))


# ---------------------------------------------------------------- example networks
def layer_example(cls: type[Layer]) -> tuple[Layer, tuple[int, ...]]:
    """``cls.example()``, checked: a clear failure for a registered layer without one."""
    layer, shape = cls.example()
    assert type(layer) is cls, f"{cls.__name__}.example() returned a {type(layer).__name__}"
    return layer, tuple(shape)


def layer_network(cls, dtype="float32", loss="mse", seed=0):
    """The example layer + (Flatten) + Dense(·, 2), parameters moved off their start, and a
    batch of 5 of the layer's example inputs."""
    layer, shape = layer_example(cls)
    out = layer.output_shape(shape)
    head = [cb.Flatten()] if len(out) > 1 else []
    layers = [layer, *head, cb.Dense(math.prod(out), 2)]
    net = cb.Network(layers, loss=loss, seed=seed, dtype=dtype, input_shape=shape)
    rng = np.random.default_rng(seed)
    net.flat_parameters += rng.normal(scale=0.1, size=net.n_parameters).astype(net.dtype)
    X = layer.example_inputs(rng, 5, shape).astype(dtype)
    return net, X


def activation_network(name, dtype="float32", seed=0):
    net = cb.Network(
        [cb.Dense(3, 4, activation=name), cb.Dense(4, 2)], loss="mse", seed=seed, dtype=dtype
    )
    rng = np.random.default_rng(seed)
    net.flat_parameters += rng.normal(scale=0.3, size=net.n_parameters).astype(net.dtype)
    return net, rng.normal(size=(5, 3)).astype(dtype)


def example_targets(loss: Loss, rng, n, k):
    """Targets of the kind ``loss`` reads, made from what it predicts for random logits
    (so a new loss needs no table here): the most probable class for a softmax loss,
    0/1 for the other classification losses, the prediction itself for regression."""
    predicted = loss.output(rng.normal(size=(n, k)))
    if loss.classification and loss.output_activation == "softmax":
        return predicted.argmax(axis=1)
    if loss.classification:
        return (predicted > 0.5).astype(np.int64)
    return predicted


def loss_network(name, dtype="float32", seed=0):
    layers = [cb.Dense(3, 4, activation="tanh"), cb.Dense(4, 3)]
    net = cb.Network(layers, loss=name, seed=seed, dtype=dtype)
    rng = np.random.default_rng(seed)
    net.flat_parameters[...] = rng.normal(scale=0.5, size=net.n_parameters)
    X = rng.normal(size=(6, 3)).astype(dtype)
    return net, X, example_targets(net.loss, rng, 6, 3)


# ---------------------------------------------------------------- shared checks
def check_save_load(net, X, path):
    """net.save → cb.load: the same config, the same predictions (the same computation)."""
    net.save(path)
    loaded = cb.load(path)
    assert loaded.get_config() == net.get_config()
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))
    return loaded


def check_pickle(net, X):
    copy = pickle.loads(pickle.dumps(net))
    assert copy.get_config() == net.get_config()
    np.testing.assert_array_equal(copy.predict(X), net.predict(X))


def check_float32_network(net, X, y):
    """float32 in, float32 everywhere: outputs, predictions, gradients, parameters."""
    assert net.dtype == np.float32
    assert net.forward(net.check_inputs(X), training=True).dtype == np.float32
    assert net.predict(X).dtype == np.float32
    _, grads = net.loss_and_gradients(X, y)
    assert all(g.dtype == np.float32 for g in grads)
    net.fit(X, y, epochs=1, batch_size=2, optimizer="sgd")
    assert net.flat_parameters.dtype == np.float32
    assert np.all(np.isfinite(net.flat_parameters))


def check_onnx(net, X, tmp_path):
    """The ONNX graph computes predict (onnxruntime), or the export is refused in one line
    that says what cannot be exported."""
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from cartoonbrain import onnx as cbonnx

    path = tmp_path / "model.onnx"
    try:
        cbonnx.export(net, path, input_shape=net.input_shape)
    except ValueError as exc:
        message = str(exc)
        assert "\n" not in message and ("ONNX" in message or "export" in message), message
        assert not path.exists()
        return None
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    got = session.run(["output"], {"input": X})[0]
    assert got.dtype == net.dtype
    tolerance = ONNX_TOLERANCE[net.dtype.name]
    np.testing.assert_allclose(got, net.predict(X), rtol=tolerance, atol=tolerance)
    return got


# ---------------------------------------------------------------- layer checks
def bind(layer, dtype, rng):
    """The layer's own parameter and gradient arrays (as a Network gives it), initialised
    and moved off their start (biases too)."""
    params = [np.zeros(s, dtype=dtype) for s in layer.parameter_shapes()]
    grads = [np.zeros(s, dtype=dtype) for s in layer.parameter_shapes()]
    layer.bind(params, grads)
    layer.attach(rng)
    layer.initialize(rng)
    for p in params:
        p += rng.normal(scale=0.1, size=p.shape).astype(dtype)
    return params, grads


def check_layer_gradients(cls, seed=0):
    """With L = Σ R ⊙ layer(X) in training mode (the random draws repeated: a new generator
    of one seed before every forward pass), backward's ∇θ and ∂L/∂X equal central
    differences of L in float64."""
    layer, shape = layer_example(cls)
    rng = np.random.default_rng(seed)
    params, grads = bind(layer, np.float64, rng)
    X = np.ascontiguousarray(layer.example_inputs(rng, 3, shape), dtype=np.float64)

    def forward(_=None):
        layer.attach(np.random.default_rng(seed + 1))
        return layer.forward(X, training=True)

    R = rng.normal(size=forward().shape)

    def L(_):
        return float(np.sum(R * forward()))

    forward()
    g_prev = layer.backward(R.copy(), need_input_gradient=True)
    g_prev = None if g_prev is None else np.array(g_prev)
    analytic = [np.array(g) for g in grads]
    atol = noise_floor(L(None))
    for name, p, g in zip(layer.parameter_names, params, analytic):
        numeric = central_difference(L, p)
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=atol, err_msg=f"∇{name}")
    if layer.continuous_input:
        assert g_prev is not None and g_prev.shape == X.shape
        numeric = central_difference(L, X)
        np.testing.assert_allclose(g_prev, numeric, rtol=1e-6, atol=atol, err_msg="∂L/∂X")


def check_layer_float32(cls, seed=0):
    """A float32 layer gives float32 outputs and float32 gradients."""
    layer, shape = layer_example(cls)
    rng = np.random.default_rng(seed)
    _, grads = bind(layer, np.float32, rng)
    X = layer.example_inputs(rng, 3, shape).astype(np.float32)
    for training in (True, False):
        out = layer.forward(X, training=training)
        assert out.dtype == np.float32, f"forward(training={training}) gave {out.dtype}"
    assert layer.infer(X.copy()).dtype == np.float32
    layer.forward(X, training=True)
    g_prev = layer.backward(np.ones(out.shape, np.float32), need_input_gradient=True)
    if layer.continuous_input:
        assert g_prev is not None and g_prev.dtype == np.float32
    assert all(g.dtype == np.float32 and np.all(np.isfinite(g)) for g in grads)


def check_layer_config(cls):
    """get_config is plain JSON data that rebuilds the same layer."""
    layer, _ = layer_example(cls)
    config = json.loads(json.dumps(layer.get_config()))
    assert config["type"] == cls.__name__ and LAYERS[config["type"]] is cls
    assert layer_from_config(config).get_config() == layer.get_config()


# ---------------------------------------------------------------- activation checks
def check_activation_gradients(name, seed=0):
    """backward(g, a, o) = gᵀ J_f(a), and df(a, o) = f'(a), by central differences in
    float64 (a kept away from 0, where ReLU-like functions have their kink)."""
    act = get_activation(name)
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.2, 2.0, size=(4, 5)) * rng.choice([-1.0, 1.0], size=(4, 5))
    g = rng.normal(size=a.shape)
    o = act.f(a.copy())
    analytic = act.backward(g, a, o)
    numeric = central_difference(lambda x: np.sum(g * act.f(x)), a.copy())
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)
    if act.df is not None:
        numeric_df = central_difference(act.f, a.copy(), elementwise=True)
        np.testing.assert_allclose(act.df(a, o), numeric_df, rtol=1e-6, atol=1e-8)


def check_activation_float32(name):
    act = get_activation(name)
    a = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)
    o = act.f(a.copy())
    assert o.dtype == np.float32
    assert act.backward(np.ones_like(a), a, o).dtype == np.float32
    in_place = act.in_place()(a.copy())
    assert in_place.dtype == np.float32
    np.testing.assert_allclose(in_place, o, rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------- loss checks
def check_loss_gradients(name, seed=0):
    """∂L/∂Y against central differences in float64, with and without sample weights."""
    loss = LOSSES[name]()
    rng = np.random.default_rng(seed)
    y = rng.normal(scale=2.0, size=(6, 3))
    t = loss.prepare_targets(example_targets(loss, rng, 6, 3), 3, np.dtype(np.float64))
    w = rng.uniform(0.0, 2.0, size=6)
    for weights in (None, w):
        value, g = loss.value_and_gradient(y.copy(), t, weights)
        assert g.shape == y.shape
        numeric = central_difference(lambda x, weights=weights: loss(x, t, weights), y.copy())
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=noise_floor(value))


def check_loss_float32(name, seed=0):
    loss = LOSSES[name]()
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(6, 3)).astype(np.float32)
    t = loss.prepare_targets(example_targets(loss, rng, 6, 3), 3, np.dtype(np.float32))
    value, g = loss.value_and_gradient(y.copy(), t)
    assert g.dtype == np.float32 and isinstance(value, float) and math.isfinite(value)
    assert loss.output(y.copy()).dtype == np.float32


# ---------------------------------------------------------------- optimizer checks
def quadratic(seed=0, dtype=np.float64):
    """f(w) = ½ ‖w − c‖², from w = 0: its gradient is w − c."""
    c = np.random.default_rng(seed).normal(size=50).astype(dtype)
    return np.zeros(50, dtype=dtype), c


def steps(opt, w, c, n):
    for _ in range(n):
        opt.step([w], [w - c])


def check_optimizer_descends(name):
    """Each step from w = 0 goes downhill (Δw · ∇f < 0), and 20 steps lower f."""
    opt = get_optimizer(name)
    w, c = quadratic()
    g = w - c
    opt.step([w], [g.copy()])
    assert float(np.dot(w, g)) < 0, "the first step does not go against the gradient"
    f_first = 0.5 * float(np.sum((w - c) ** 2))
    steps(opt, w, c, 19)
    assert 0.5 * float(np.sum((w - c) ** 2)) < f_first


def check_optimizer_config_and_state(name):
    """The config through JSON rebuilds the optimizer; with its state_dict loaded, the
    rebuilt one takes the same next step as the original (bit for bit)."""
    opt = get_optimizer(name)
    w, c = quadratic()
    steps(opt, w, c, 3)
    config = json.loads(json.dumps(opt.get_config()))
    assert config["name"] == name and OPTIMIZERS[name] is type(opt)
    again = get_optimizer(config)
    assert again.get_config() == opt.get_config()
    again.load_state_dict(opt.state_dict())
    w2 = w.copy()
    steps(opt, w, c, 1)
    steps(again, w2, c, 1)
    np.testing.assert_array_equal(w2, w)


def check_optimizer_pickle(name):
    opt = get_optimizer(name)
    w, c = quadratic()
    steps(opt, w, c, 3)
    copy = pickle.loads(pickle.dumps(opt))
    w2 = w.copy()
    steps(opt, w, c, 2)
    steps(copy, w2, c, 2)
    np.testing.assert_array_equal(w2, w)


def check_optimizer_float32(name):
    opt = get_optimizer(name)
    w, c = quadratic(dtype=np.float32)
    steps(opt, w, c, 3)
    assert w.dtype == np.float32 and np.all(np.isfinite(w))
    state = opt.state_dict()
    assert all(v.dtype == np.float32 for k, v in state.items() if k != "iterations")


def check_optimizer_in_a_model_file(name, path):
    """fit by name, save with the optimizer, load: the same optimizer config and state."""
    net, X = activation_network("tanh")
    y = np.random.default_rng(1).normal(size=(5, 2))
    net.fit(X, y, epochs=2, batch_size=2, optimizer=name)
    assert isinstance(net.optimizer, Optimizer) and net.optimizer.name == name
    net.save(path, include_optimizer=True)
    loaded = cb.load(path)
    assert loaded.optimizer is not None
    assert loaded.optimizer.get_config() == net.optimizer.get_config()
    saved, restored = net.optimizer.state_dict(), loaded.optimizer.state_dict()
    assert saved.keys() == restored.keys()
    for key in saved:
        np.testing.assert_array_equal(restored[key], saved[key])


# ---------------------------------------------------------------- the suite
LAYER_TYPES = [LAYERS[name] for name in sorted(LAYERS)]
ACTIVATION_NAMES = sorted(ACTIVATIONS)
LOSS_NAMES = sorted(LOSSES)
OPTIMIZER_NAMES = sorted(OPTIMIZERS)
INITIALIZER_NAMES = sorted(INITIALIZERS)
DTYPES = ["float32", "float64"]

by_layer = pytest.mark.parametrize("cls", LAYER_TYPES, ids=lambda cls: cls.__name__)
by_activation = pytest.mark.parametrize("name", ACTIVATION_NAMES)
by_loss = pytest.mark.parametrize("name", LOSS_NAMES)
by_optimizer = pytest.mark.parametrize("name", OPTIMIZER_NAMES)
by_initializer = pytest.mark.parametrize("name", INITIALIZER_NAMES)


def test_the_registries_hold_the_built_ins():
    """The suite sees what the library registers (so a lost registration fails here)."""
    assert {"Dense", "Dropout", "Flatten", "Conv1D", "Conv2D", "MaxPool2D"} <= set(LAYERS)
    assert {"identity", "relu", "tanh", "sigmoid", "softmax"} <= set(ACTIVATIONS)
    assert {"mse", "squared_error", "cross_entropy", "binary_cross_entropy"} <= set(LOSSES)
    assert {"sgd", "adam", "adamw", "rmsprop"} <= set(OPTIMIZERS)
    assert {"glorot_uniform", "he_uniform", "standard_normal", "zeros"} <= set(INITIALIZERS)


@by_layer
def test_layer_config_round_trip(cls, tmp_path):
    check_layer_config(cls)
    net, X = layer_network(cls)
    check_save_load(net, X, tmp_path / "model.npz")


@by_layer
def test_layer_gradients(cls):
    check_layer_gradients(cls)


@by_layer
def test_layer_float32(cls):
    check_layer_float32(cls)
    net, X = layer_network(cls)
    check_float32_network(net, X, np.random.default_rng(1).normal(size=(len(X), 2)))


def check_l2_acts_on_the_declared_weights(cls):
    """With l2 = λ, ∇θ gains λθ exactly for the parameters the layer calls weights
    (Layer.is_weight) and nothing for the others, and the loss gains (λ/2) Σ‖W‖²."""
    net, X = layer_network(cls, dtype="float64")
    y = np.random.default_rng(2).normal(size=(len(X), 2))
    penal = cb.Network.from_config({**net.get_config(), "l2": 0.5})
    penal.flat_parameters[...] = net.flat_parameters
    v0, g0 = net.loss_and_gradients(X, y)
    v1, g1 = penal.loss_and_gradients(X, y)
    flags = [lay.is_weight(n) for lay in net.layers for n in lay.parameter_names]
    squares = 0.0
    for flag, p, a, b, name in zip(flags, net.parameters(), g0, g1, net.parameter_names()):
        expected = a + 0.5 * p if flag else a
        np.testing.assert_allclose(b, expected, rtol=1e-12, atol=1e-14, err_msg=name)
        squares += float(np.sum(p**2)) if flag else 0.0
    assert v1 == pytest.approx(v0 + 0.25 * squares, rel=1e-12)


@by_layer
def test_layer_l2_acts_on_its_weights(cls):
    check_l2_acts_on_the_declared_weights(cls)


@by_layer
def test_layer_pickle(cls):
    check_pickle(*layer_network(cls))


@pytest.mark.parametrize("dtype", DTYPES)
@by_layer
def test_layer_onnx(cls, dtype, tmp_path):
    check_onnx(*layer_network(cls, dtype), tmp_path)


@by_activation
def test_activation_config_round_trip(name, tmp_path):
    assert get_activation(name) is ACTIVATIONS[name] and ACTIVATIONS[name].name == name
    check_save_load(*activation_network(name), tmp_path / "model.npz")


@by_activation
def test_activation_gradients(name):
    check_activation_gradients(name)


@by_activation
def test_activation_float32(name):
    check_activation_float32(name)
    net, X = activation_network(name)
    check_float32_network(net, X, np.random.default_rng(1).normal(size=(len(X), 2)))


@by_activation
def test_activation_pickle(name):
    check_pickle(*activation_network(name))


@pytest.mark.parametrize("dtype", DTYPES)
@by_activation
def test_activation_onnx(name, dtype, tmp_path):
    check_onnx(*activation_network(name, dtype), tmp_path)


@by_loss
def test_loss_config_round_trip(name, tmp_path):
    net, X, y = loss_network(name)
    loaded = check_save_load(net, X, tmp_path / "model.npz")
    assert type(loaded.loss) is LOSSES[name]
    assert loaded.evaluate(X, y) == net.evaluate(X, y)


@by_loss
def test_loss_gradients(name):
    check_loss_gradients(name)
    net, X, y = loss_network(name, "float64")
    assert cb.gradcheck(net, X, y) < 1e-7


@by_loss
def test_loss_float32(name):
    check_loss_float32(name)
    check_float32_network(*loss_network(name))


@by_loss
def test_loss_pickle(name):
    loss = LOSSES[name]()
    assert type(pickle.loads(pickle.dumps(loss))) is LOSSES[name]
    net, X, _ = loss_network(name)
    check_pickle(net, X)


@pytest.mark.parametrize("dtype", DTYPES)
@by_loss
def test_loss_onnx(name, dtype, tmp_path):
    net, X, _ = loss_network(name, dtype)
    check_onnx(net, X, tmp_path)


@by_optimizer
def test_optimizer_config_round_trip(name, tmp_path):
    check_optimizer_config_and_state(name)
    check_optimizer_in_a_model_file(name, tmp_path / "model.npz")


@by_optimizer
def test_optimizer_descends(name):
    check_optimizer_descends(name)


@by_optimizer
def test_optimizer_float32(name):
    check_optimizer_float32(name)


@by_optimizer
def test_optimizer_pickle(name):
    check_optimizer_pickle(name)


# ------------------------------------------------------------------ initializers
def check_initializer(name, tmp_path):
    """An initialiser draws float64 numbers of the asked shape from the generator it is
    given (the same seed, the same numbers), and a layer that names it keeps it through
    its config, a model file and a pickle, starting from the same weights."""
    init = INITIALIZERS[name]
    first = init(np.random.default_rng(3), (5, 4), 4, 5)
    again = init(np.random.default_rng(3), (5, 4), 4, 5)
    assert isinstance(first, np.ndarray) and first.shape == (5, 4)
    assert first.dtype == np.float64 and np.isfinite(first).all()
    np.testing.assert_array_equal(first, again)
    net = cb.Network([cb.Dense(4, 5, "tanh", init=name), cb.Dense(5, 2)], seed=3)
    net.save(tmp_path / "model.npz")
    for back in (cb.load(tmp_path / "model.npz"), pickle.loads(pickle.dumps(net))):
        assert back.layers[0].init == name
        np.testing.assert_array_equal(back.flat_parameters, net.flat_parameters)
    rebuilt = cb.Network.from_config(json.loads(json.dumps(net.get_config())))
    np.testing.assert_array_equal(rebuilt.flat_parameters, net.flat_parameters)


@by_initializer
def test_initializer_draws_and_round_trips(name, tmp_path):
    check_initializer(name, tmp_path)


# ================================================================ metrics, schedules, callbacks
# The same rule for what else a config names (issue #24): every registered metric,
# schedule and callback, read from METRICS, SCHEDULES and CALLBACKS when the tests are
# collected. A metric declares its direction, and the direction is checked against its
# values: a perfect prediction scores better than a wrong one, in that direction.
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from cartoonbrain import metrics as metrics_module  # noqa: E402
from cartoonbrain.metrics import METRICS, get_metric, greater_is_better  # noqa: E402
from cartoonbrain.optimizers.schedules import SCHEDULES, Schedule, get_schedule  # noqa: E402
from cartoonbrain.train import CALLBACKS, Callback, get_callback  # noqa: E402


def family_members(k: int = 3) -> list[str]:
    """A member of every metric family, ``top_<k>_accuracy`` → ``top_3_accuracy``."""
    return [
        name.replace("<k>", str(k)).replace("<", "").replace(">", "")
        for name in metrics_module._family_names()
    ]


METRIC_NAMES = sorted(METRICS) + family_members()
SCHEDULE_NAMES = sorted(SCHEDULES)
CALLBACK_NAMES = sorted(CALLBACKS)


def metric_examples(rng):
    """(y, t, independent) forms a metric may take, most specific first: 8-class softmax
    rows with class ids, 2-class rows, one sigmoid output, regression outputs."""
    n = 24
    for k in (8, 2):
        t = np.arange(n) % k
        yield k, t, False
    yield 1, (np.arange(n) % 2).astype(float)[:, None], True
    yield 0, rng.normal(size=(n, 2)), False


def perfect_and_wrong(k, t, rng):
    """Predictions that are right for every sample, and wrong for every sample."""
    if k == 0:  # regression
        return t.copy(), t + 1.0 + rng.uniform(size=t.shape)
    if k == 1:  # one sigmoid output
        return np.where(t > 0.5, 0.9, 0.1), np.where(t > 0.5, 0.1, 0.9)
    right = np.full((len(t), k), 0.1 / k)
    right[np.arange(len(t)), t] = 0.9
    wrong = np.full((len(t), k), 0.5 / k)
    wrong[np.arange(len(t)), t] = 0.0  # the true class is the least likely
    wrong[np.arange(len(t)), (t + 1) % k] = 0.5
    return right, wrong


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_metric_declares_a_direction_its_values_agree_with(name):
    metric = get_metric(name)
    assert isinstance(metric.greater_is_better, bool)
    assert greater_is_better(name) is metric.greater_is_better
    assert greater_is_better(f"val_{name}") is metric.greater_is_better
    rng = np.random.default_rng(0)
    for k, t, independent in metric_examples(rng):
        right, wrong = perfect_and_wrong(k, t, rng)
        try:
            good, bad = metric(right, t, independent), metric(wrong, t, independent)
        except ValueError:
            continue  # not this metric's kind of prediction
        assert math.isfinite(good) and math.isfinite(bad)
        assert (good > bad) if metric.greater_is_better else (good < bad), (k, good, bad)
        return
    pytest.fail(f"metric {name!r} took none of the example predictions")


@pytest.mark.parametrize("name", sorted(METRICS))
def test_metric_registered_under_its_name(name):
    assert get_metric(name) is METRICS[name] and name.isidentifier()
    assert METRICS[name].name_pattern is None or METRICS[name].name_pattern.pattern


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(METRICS))
    | st.builds(lambda k: f"top_{k}_accuracy", st.integers(1, 10_000)),
    prefix=st.sampled_from(["", "val_"]),
    kind=st.sampled_from(["EarlyStopping", "ReduceLROnPlateau", "ModelCheckpoint"]),
)
def test_auto_mode_reads_the_metrics_direction(name, prefix, kind):
    """mode="auto" of every Monitor, for every registered metric and family member, with
    and without val_: max exactly when the metric declares greater_is_better."""
    options = {"filepath": "m.npz"} if kind == "ModelCheckpoint" else {}
    monitor = CALLBACKS[kind](monitor=prefix + name, **options)
    assert monitor.mode == ("max" if get_metric(name).greater_is_better else "min")


@pytest.mark.parametrize("monitor", ["loss", "val_loss"])
def test_auto_mode_minimises_the_loss(monitor):
    assert cb.EarlyStopping(monitor=monitor).mode == "min"


def check_refuses_a_held_name(table, register, make_other, name):
    """register(other object under a held name) → ValueError, the table unchanged."""
    before = dict(table)
    with pytest.raises(ValueError, match=r"already registered"):
        register(make_other(name))
    assert table == before


def test_the_registries_refuse_a_name_held_by_another_entry():
    from cartoonbrain.metrics import register_metric
    from cartoonbrain.optimizers.schedules import register_schedule
    from cartoonbrain.train import register_callback

    def metric_named(name):
        def accuracy(y, t, independent=False):
            return 0.0

        return accuracy

    check_refuses_a_held_name(
        METRICS, register_metric(greater_is_better=True), metric_named, "accuracy"
    )
    check_refuses_a_held_name(
        SCHEDULES, register_schedule, lambda n: type("Mine", (Schedule,), {"name": n}), "constant"
    )
    check_refuses_a_held_name(
        CALLBACKS, register_callback, lambda n: type(n, (Callback,), {}), "EarlyStopping"
    )
    # registering the same entry again does nothing
    assert register_schedule(SCHEDULES["constant"]) is SCHEDULES["constant"]
    assert register_metric(greater_is_better=True)(METRICS["auc"]) is METRICS["auc"]
    with pytest.raises(ValueError, match=r"other direction"):
        register_metric(greater_is_better=False)(METRICS["auc"])


def test_the_new_registries_hold_the_built_ins():
    assert {"accuracy", "mse", "mae", "r2", "auc", "f1", "top_k_accuracy"} <= set(METRICS)
    assert {"constant", "step_decay", "exponential_decay", "cosine_decay"} <= set(SCHEDULES)
    assert {
        "EarlyStopping",
        "ReduceLROnPlateau",
        "ModelCheckpoint",
        "CSVLogger",
        "TerminateOnNaN",
    } <= set(CALLBACKS)


@pytest.mark.parametrize("name", SCHEDULE_NAMES)
def test_schedule_contract(name, tmp_path):
    """example() is the class; the config through JSON rebuilds the same rates; pickling
    too; rates are finite and >= 0; an optimizer with it survives a model file."""
    cls = SCHEDULES[name]
    schedule = cls.example()
    assert type(schedule) is cls and cls.name == name
    rates = [schedule(t) for t in range(40)]
    assert all(math.isfinite(r) and r >= 0 for r in rates)
    config = json.loads(json.dumps(schedule.get_config()))
    assert config["name"] == name
    assert [get_schedule(config)(t) for t in range(40)] == rates
    assert [pickle.loads(pickle.dumps(schedule))(t) for t in range(40)] == rates
    net, X = activation_network("tanh")
    y = np.random.default_rng(1).normal(size=(5, 2))
    net.fit(X, y, epochs=2, batch_size=2, optimizer=cb.SGD(learning_rate=schedule))
    net.save(tmp_path / "model.npz", include_optimizer=True)
    loaded = cb.load(tmp_path / "model.npz").optimizer
    assert loaded is not None and isinstance(loaded.learning_rate, cls)
    assert [loaded.learning_rate(t) for t in range(40)] == rates


@pytest.mark.parametrize("name", CALLBACK_NAMES)
def test_callback_contract(name, tmp_path):
    """example(folder) is the class; its config through JSON rebuilds the same config;
    pickling too; it runs in a fit of 3 epochs with validation, and its state_dict, as a
    checkpoint gives it back (arrays), loads into a fresh copy."""
    cls = CALLBACKS[name]
    callback = cls.example(str(tmp_path))
    assert type(callback) is cls
    config = json.loads(json.dumps(callback.get_config()))
    assert config["name"] == name
    assert get_callback(config).get_config() == callback.get_config()
    assert pickle.loads(pickle.dumps(callback)).get_config() == callback.get_config()
    net, X = activation_network("tanh", dtype="float64")
    y = np.random.default_rng(1).normal(size=(5, 2))
    history = net.fit(
        X, y, epochs=3, batch_size=2, validation_data=(X, y), optimizer="sgd", callbacks=[callback]
    )
    assert 1 <= len(history.epoch) <= 3 and np.isfinite(net.flat_parameters).all()
    state = {key: np.asarray(value) for key, value in callback.state_dict().items()}
    fresh = get_callback(config)
    fresh.network = net
    fresh.load_state_dict(state)


def as_numpy_scalars(config):
    """Every bool, int and float of a config as the NumPy scalar of that kind."""

    def convert(value):
        if isinstance(value, bool):
            return np.bool_(value)
        if isinstance(value, int):
            return np.int64(value)
        if isinstance(value, float):
            return np.float64(value)
        return value

    return {key: convert(value) for key, value in config.items()}


@pytest.mark.parametrize("name", CALLBACK_NAMES)
def test_callback_takes_numpy_scalars(name, tmp_path):
    """NumPy numbers work wherever Python numbers do, and the config stays plain JSON."""
    config = CALLBACKS[name].example(str(tmp_path)).get_config()
    rebuilt = get_callback(as_numpy_scalars(config)).get_config()
    assert json.loads(json.dumps(rebuilt)) == config


@pytest.mark.parametrize("name", SCHEDULE_NAMES)
def test_schedule_takes_numpy_scalars(name):
    schedule = SCHEDULES[name].example()
    config = schedule.get_config()
    rebuilt = get_schedule(as_numpy_scalars(config))
    assert json.loads(json.dumps(rebuilt.get_config())) == config
    assert [rebuilt(t) for t in range(20)] == [schedule(t) for t in range(20)]


def callback_run(cls, folder, epochs, **kwargs):
    """A fit of the example network with cls's example callback writing into folder."""
    net, X = activation_network("tanh", dtype="float64")
    y = np.random.default_rng(1).normal(size=(5, 2))
    callback = cls.example(str(folder))
    history = net.fit(
        X,
        y,
        epochs=epochs,
        batch_size=2,
        validation_data=(X, y),
        optimizer=cb.SGD(learning_rate=0.3),
        callbacks=[callback],
        **kwargs,
    )
    return net, history


@pytest.mark.parametrize("name", CALLBACK_NAMES)
def test_callback_resumes_bit_identically(name, tmp_path):
    """A run stopped after 2 of 5 epochs and resumed from its checkpoint ends as the run
    that never stopped: weights, history, and the files the callback wrote."""
    cls = CALLBACKS[name]
    straight, split = tmp_path / "straight", tmp_path / "split"
    straight.mkdir(), split.mkdir()
    net, history = callback_run(cls, straight, 5)
    callback_run(cls, split, 2, checkpoint=split / "run.npz")
    resumed, resumed_history = callback_run(
        cls, split, 5, checkpoint=split / "run.npz", resume=True
    )
    np.testing.assert_array_equal(resumed.flat_parameters, net.flat_parameters)
    assert resumed_history.history == history.history and resumed_history.epoch == history.epoch
    (split / "run.npz").unlink()
    files = sorted(p.relative_to(straight) for p in straight.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(split) for p in split.rglob("*") if p.is_file())
    for path in files:
        if path.suffix == ".tsv":
            assert (split / path).read_text() == (straight / path).read_text()
