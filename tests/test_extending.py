"""The "where to make a change" paths of docs/architecture.md, each walked with a toy entry
defined here: a Swish activation, a log-cosh loss, a Lion optimizer, a Scale layer and a
callback. Each is registered, trained by ``fit``, saved, loaded, and exported to ONNX
(or refused in one clear line before its exporter is registered), and the contract
suite's checks (tests/test_contract.py) are applied to it.

The fixtures register a toy for one test and take it out again afterwards, so the other
tests, and the contract suite's parametrisation, see the library's own entries only.
"""

from __future__ import annotations

import numpy as np
import pytest

import cartoonbrain as cb
from cartoonbrain import onnx as cbonnx
from cartoonbrain.activations import (
    ACTIVATIONS,
    Activation,
    register_activation,
    stable_sigmoid,
)
from cartoonbrain.initializers import INITIALIZERS, register_initializer
from cartoonbrain.layers import LAYERS, Layer, register_layer
from cartoonbrain.losses import LOSSES, Loss, register_loss
from cartoonbrain.optimizers import OPTIMIZERS, Optimizer, register_optimizer
from test_contract import (
    check_activation_float32,
    check_activation_gradients,
    check_layer_config,
    check_layer_float32,
    check_layer_gradients,
    check_loss_float32,
    check_loss_gradients,
    check_onnx,
    check_optimizer_config_and_state,
    check_optimizer_descends,
    check_optimizer_float32,
    check_optimizer_in_a_model_file,
    check_optimizer_pickle,
    check_pickle,
    check_save_load,
    layer_network,
)


# ---------------------------------------------------------------- a new activation
def swish_df(a, o):
    """f(a) = a σ(a);  f'(a) = σ(a) + a σ(a) (1 − σ(a)) = o + σ(a) (1 − o)."""
    s = stable_sigmoid(a)
    return o + s * (1 - o)


SWISH = Activation(
    "swish", lambda a: a * stable_sigmoid(a), swish_df, lambda g, a, o: g * swish_df(a, o)
)


def export_swish(g, a, o):
    """o = a · Sigmoid(a)."""
    return g.add("Mul", [a, g.add("Sigmoid", [a], f"{o}.sigmoid")], o)


# ---------------------------------------------------------------- a new loss
class LogCosh(Loss):
    """L = (1/(n k)) Σ_ij log cosh(y_ij − t_ij);  ∂L/∂Y = tanh(Y − T) / (n k)."""

    name = "log_cosh"

    def per_sample(self, y, t):
        d = np.abs(np.subtract(y, t, dtype=np.float64))
        # log cosh d = d + log(1 + e^(−2d)) − log 2, without overflow
        return np.mean(d + np.log1p(np.exp(-2 * d)) - np.log(2), axis=1)

    def mean(self, y, t):
        g = np.tanh(y - t)
        g *= g.dtype.type(1 / g.size)
        return float(np.mean(self.per_sample(y, t))), g

    def prepare_targets(self, t, n_outputs, dtype):
        t = np.asarray(t, dtype=dtype)
        t = t.reshape(-1, 1) if t.ndim == 1 and n_outputs == 1 else t
        if t.ndim != 2 or t.shape[1] != n_outputs:
            raise ValueError(f"log_cosh needs targets of shape (n_samples, {n_outputs})")
        return np.ascontiguousarray(t)


# ---------------------------------------------------------------- a new optimizer
class Lion(Optimizer):
    """Lion (Chen et al. 2023), decoupled weight decay λ:

        c = β₁ m + (1 − β₁) g
        w ← w − lr (sign(c) + λ w)
        m ← β₂ m + (1 − β₂) g

    State: ``m.<i>``.
    """

    name = "lion"
    buffer_names = ("m",)
    coupled_weight_decay = False

    def __init__(
        self, learning_rate=1e-4, beta_1=0.9, beta_2=0.99, weight_decay=0.0, clip_norm=None
    ):
        super().__init__(learning_rate, weight_decay, clip_norm)
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)

    def _update(self, i, w, g, learning_rate):
        m, c = self._state["m"][i], self._work[i]
        np.multiply(m, self.beta_1, out=c)
        c += (1 - self.beta_1) * g
        np.sign(c, out=c)
        if self.weight_decay:
            c += self.weight_decay * w
        c *= learning_rate
        w -= c
        m *= self.beta_2
        m += (1 - self.beta_2) * g


# ---------------------------------------------------------------- a new layer
class Scale(Layer):
    """One factor per feature: o = s ⊙ o_prev;  ∇s = Σ_rows G ⊙ O_prev;  G_prev = G ⊙ s."""

    parameter_names = ("s",)
    keeps_shape = True

    def __init__(self, n_features):
        self.n_features = int(n_features)
        self.s = self.ds = self.o_prev = None

    @classmethod
    def example(cls):
        return cls(4), (4,)

    @property
    def expected_input_shape(self):
        return (self.n_features,)

    def parameter_shapes(self):
        return [(self.n_features,)]

    def bind(self, params, grads):
        self.s, self.ds = params[0], grads[0]

    def initialize(self, rng):
        self.s[...] = 1

    def output_shape(self, input_shape):
        if input_shape is not None and input_shape != (self.n_features,):
            raise ValueError(f"Scale({self.n_features}) takes ({self.n_features},)")
        return (self.n_features,)

    def forward(self, o_prev, training=False):
        self.o_prev = o_prev
        return o_prev * self.s

    def backward(self, g, need_input_gradient=True):
        np.sum(g * self.o_prev, axis=0, out=self.ds)
        return g * self.s if need_input_gradient else None

    def get_config(self):
        return {"type": "Scale", "n_features": self.n_features}


def export_scale(g, layer, x, shape, name):
    """o = Mul(o_prev, s)."""
    return g.add("Mul", [x, g.tensor(f"{name}.s", layer.s)], f"{name}.output")


# ---------------------------------------------------------------- fixtures
def _unregister(*pairs):
    for table, key in pairs:
        table.pop(key, None)


@pytest.fixture
def swish():
    yield register_activation(SWISH)
    _unregister((ACTIVATIONS, "swish"), (cbonnx.ACTIVATION_EXPORTERS, "swish"))


@pytest.fixture
def log_cosh():
    yield register_loss(LogCosh)
    _unregister((LOSSES, "log_cosh"))


@pytest.fixture
def lion():
    yield register_optimizer(Lion)
    _unregister((OPTIMIZERS, "lion"))


def orthogonal(rng, shape, fan_in, fan_out):
    """W with orthonormal rows or columns (Saxe et al. 2014): Q of a Gaussian's QR."""
    q, r = np.linalg.qr(rng.standard_normal((max(shape), min(shape))))
    q = q * np.sign(np.diag(r))
    return q if shape[0] >= shape[1] else q.T


def _named(name, f):
    """A copy of function ``f`` under another name."""
    g = type(f)(f.__code__, f.__globals__, name)
    g.__name__ = name
    return g


@pytest.fixture
def orthogonal_init():
    yield register_initializer(orthogonal)
    _unregister((INITIALIZERS, "orthogonal"))


@pytest.fixture
def scale():
    yield register_layer(Scale)
    _unregister((LAYERS, "Scale"), (cbonnx.LAYER_EXPORTERS, "Scale"))


def regression(seed=0, n=64, n_in=3, n_out=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_in))
    return X, np.tanh(X @ rng.normal(size=(n_in, n_out)))


def trains(net, X, y, **kwargs):
    """fit lowers the training loss."""
    before = net.evaluate(X, y, metrics=[])["loss"]
    history = net.fit(X, y, epochs=30, batch_size=16, **kwargs)
    after = net.evaluate(X, y, metrics=[])["loss"]
    assert after < 0.7 * before, (before, after)
    return history


def assert_refused(net, tmp_path, *fragments):
    pytest.importorskip("onnx")
    with pytest.raises(ValueError) as info:
        cbonnx.export(net, tmp_path / "refused.onnx")
    message = str(info.value)
    assert "\n" not in message and all(f in message for f in fragments), message
    assert not (tmp_path / "refused.onnx").exists()


# ---------------------------------------------------------------- activation
def test_an_activation_is_usable_by_name_once_registered():
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        cb.Dense(3, 4, activation="swish")


def test_a_registered_activation_trains_saves_loads_and_exports(swish, tmp_path):
    X, y = regression()
    net = cb.Network([cb.Dense(3, 8, activation="swish"), cb.Dense(8, 2)], seed=0)
    trains(net, X, y, optimizer="adam", learning_rate=0.02)
    assert net.get_config()["layers"][0]["activation"] == "swish"
    loaded = check_save_load(net, X, tmp_path / "model.npz")
    assert loaded.layers[0].activation is SWISH
    check_pickle(net, X)
    assert_refused(net, tmp_path, "layer 0 (Dense)", "'swish'", "no ONNX exporter")
    cbonnx.onnx_activation("swish")(export_swish)
    for dtype in ("float32", "float64"):
        assert (
            check_onnx(
                cb.Network.from_config({**net.get_config(), "dtype": dtype}),
                X.astype(dtype),
                tmp_path,
            )
            is not None
        )


def test_a_registered_activation_keeps_the_contract(swish):
    check_activation_gradients("swish")
    check_activation_float32("swish")


def test_the_contract_catches_a_wrong_derivative():
    """f'(a) without its second term: the gradient check fails (the suite can fail)."""
    wrong = Activation(
        "wrong_swish",
        SWISH.f,
        lambda a, o: stable_sigmoid(a),
        lambda g, a, o: g * stable_sigmoid(a),
    )
    register_activation(wrong)
    try:
        with pytest.raises(AssertionError):
            check_activation_gradients("wrong_swish")
    finally:
        _unregister((ACTIVATIONS, "wrong_swish"))


# ---------------------------------------------------------------- loss
def test_a_registered_loss_trains_saves_loads_and_exports(log_cosh, tmp_path):
    X, y = regression(1)
    net = cb.Network([cb.Dense(3, 8, activation="tanh"), cb.Dense(8, 2)], loss="log_cosh")
    trains(net, X, y, optimizer="adam", learning_rate=0.02)
    loaded = check_save_load(net, X, tmp_path / "model.npz")
    assert type(loaded.loss) is LogCosh
    check_pickle(net, X)
    assert check_onnx(net, X.astype(np.float32), tmp_path) is not None


def test_a_registered_loss_keeps_the_contract(log_cosh):
    check_loss_gradients("log_cosh")
    check_loss_float32("log_cosh")


# ---------------------------------------------------------------- optimizer
def test_a_registered_optimizer_trains_by_name_and_is_saved_with_the_model(lion, tmp_path):
    X, y = regression(2)
    net = cb.Network([cb.Dense(3, 8, activation="tanh"), cb.Dense(8, 2)], seed=0)
    trains(net, X, y, optimizer={"name": "lion", "learning_rate": 0.003})
    assert isinstance(net.optimizer, Lion) and net.optimizer.iterations == 30 * 4
    check_optimizer_in_a_model_file("lion", tmp_path / "model.npz")


def test_a_registered_optimizer_keeps_the_contract(lion):
    check_optimizer_descends("lion")
    check_optimizer_config_and_state("lion")
    check_optimizer_pickle("lion")
    check_optimizer_float32("lion")


# ---------------------------------------------------------------- layer
def test_a_registered_layer_trains_saves_loads_and_exports(scale, tmp_path):
    X, y = regression(3)
    net = cb.Network([Scale(3), cb.Dense(3, 2)], seed=0)
    assert net.input_shape == (3,)  # asked of the layer: its expected_input_shape
    trains(net, X, y, optimizer="adam", learning_rate=0.05)
    assert not np.allclose(net.layers[0].s, 1)
    check_save_load(net, X, tmp_path / "model.npz")
    check_pickle(net, X)
    assert_refused(net, tmp_path, "layer 0 (Scale)", "no exporter is registered for Scale")
    cbonnx.onnx_exporter("Scale", settings=("n_features",))(export_scale)
    assert check_onnx(net, X.astype(np.float32), tmp_path) is not None


def test_a_registered_layer_keeps_the_contract(scale, tmp_path):
    check_layer_config(Scale)
    check_layer_gradients(Scale)
    check_layer_float32(Scale)
    cbonnx.onnx_exporter("Scale", settings=("n_features",))(export_scale)
    for dtype in ("float32", "float64"):
        assert check_onnx(*layer_network(Scale, dtype), tmp_path) is not None


def test_an_unregistered_layer_does_not_come_back_from_a_file(tmp_path):
    """Refused when saving, or at the latest when loading, in a message naming it."""
    net = cb.Network([Scale(3), cb.Dense(3, 2)])
    with pytest.raises(ValueError, match="Scale"):
        net.save(tmp_path / "model.npz")
        cb.load(tmp_path / "model.npz")


# ---------------------------------------------------------------- callback
class CountEpochs(cb.Callback):
    """A callback is an object given to fit; it needs no registration."""

    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append((epoch, logs["loss"]))


def test_a_callback_sees_every_epoch():
    X, y = regression(4)
    net = cb.Network([cb.Dense(3, 2)], seed=0)
    counter = CountEpochs()
    history = net.fit(X, y, epochs=3, callbacks=[counter])
    assert [e for e, _ in counter.epochs] == [0, 1, 2]
    assert [loss for _, loss in counter.epochs] == history.history["loss"]


# ---------------------------------------------------------------- initializer
def test_a_registered_initializer_is_used_by_name_saved_and_loaded(orthogonal_init, tmp_path):
    from test_contract import check_initializer

    net = cb.Network([cb.Dense(3, 4, "tanh", init="orthogonal"), cb.Dense(4, 2)], seed=0)
    W = net.parameters()[0]
    np.testing.assert_allclose(W.T @ W, np.eye(3), atol=1e-6)  # orthonormal columns
    X, y = regression()
    trains(net, X, y)
    check_initializer("orthogonal", tmp_path)
    with pytest.raises(ValueError, match=r"unknown init 'orthogonall'"):
        cb.Dense(3, 4, init="orthogonall")


# ---------------------------------------------------------------- names are owned
@pytest.mark.parametrize(
    ("register", "entry", "match"),
    [
        (register_activation, Activation("relu", np.abs, None, lambda g, a, o: g), "'relu'"),
        (register_loss, type("Mse", (LogCosh,), {"name": "mse"}), "'mse'"),
        (register_optimizer, type("Adam2", (Lion,), {"name": "adam"}), "'adam'"),
        (register_layer, type("Dense", (Scale,), {}), "'Dense'"),
        (register_initializer, _named("zeros", orthogonal), "'zeros'"),
    ],
)
def test_a_name_held_by_another_entry_is_refused(register, entry, match):
    with pytest.raises(ValueError, match=f"{match} is already registered"):
        register(entry)


def test_registering_the_same_entry_twice_is_harmless(swish, lion, scale):
    assert register_activation(SWISH) is SWISH
    assert register_optimizer(Lion) is Lion
    assert register_layer(Scale) is Scale
    with pytest.raises(ValueError, match="lower-case name"):
        register_optimizer(type("Loud", (Lion,), {"name": "LOUD"}))
    with pytest.raises(ValueError, match="name of its own"):
        register_loss(type("Nameless", (Loss,), {}))
    with pytest.raises(ValueError, match="an ONNX exporter for the layer 'Dense'"):
        cbonnx.onnx_exporter("Dense")(export_scale)
