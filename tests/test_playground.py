"""The playground's parts without a server: the datasets, the features, the frames (the
grid forward pass against the network's own predict and loss), the settings' bounds, and
a session's play, pause, step and stop."""

from __future__ import annotations

import base64
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import cartoonbrain as cb
from cartoonbrain.diagnostics import KINDS, diagnose
from cartoonbrain.playground import Session, build_network, datasets, frames, parse
from cartoonbrain.playground.features import FEATURES, check_features, transform
from cartoonbrain.playground.session import DIAGNOSE_EVERY
from cartoonbrain.playground.settings import MAX_LAYERS, MAX_POINTS, MAX_UNITS, Settings


# ---------------------------------------------------------------------- datasets
@pytest.mark.parametrize("name", list(datasets.DATASETS))
def test_each_dataset_is_seeded_balanced_and_inside_the_square(name):
    x, t = datasets.make(name, 400, 0.2, seed=5)
    assert x.shape == (400, 2) and t.shape == (400,)
    assert set(np.unique(t)) == {0.0, 1.0} and 150 < t.sum() < 250
    assert np.abs(x).max() <= datasets.HALF_WIDTH
    again, _ = datasets.make(name, 400, 0.2, seed=5)
    other, _ = datasets.make(name, 400, 0.2, seed=6)
    np.testing.assert_array_equal(x, again)
    assert not np.array_equal(x, other)


def test_without_noise_the_labels_follow_their_rule():
    x, t = datasets.make("xor", 300, 0.0, seed=0)
    np.testing.assert_array_equal(t, (x[:, 0] * x[:, 1] > 0).astype(float))
    x, t = datasets.make("circles", 300, 0.0, seed=0)
    r = np.hypot(x[:, 0], x[:, 1])
    assert r[t == 1].max() <= 2.5 and r[t == 0].min() >= 3.5
    x, t = datasets.make("gaussian", 300, 0.0, seed=0)
    assert (np.sign(x[t == 1].mean(axis=0)) == 1).all() and (
        np.sign(x[t == 0].mean(axis=0)) == -1
    ).all()


@given(n=st.integers(10, 500), share=st.floats(0.1, 0.9))
def test_the_split_keeps_every_point_once(n, share):
    x, t = datasets.make("spiral", n, 0.1, seed=1)
    x_train, _, x_test, _ = datasets.split(x, t, share)
    assert len(x_train) == min(n - 1, max(1, round(share * n))) and len(x_test) == n - len(x_train)
    np.testing.assert_array_equal(np.concatenate([x_train, x_test]), x)


def test_an_unknown_dataset_is_refused():
    with pytest.raises(ValueError, match=r"^unknown dataset 'iris'; expected one of xor, circles"):
        datasets.make("iris", 10, 0.0, 0)


# ---------------------------------------------------------------------- features
def test_the_features_are_their_formulas():
    x = np.array([[0.5, -2.0], [3.0, 1.5]])
    expected = {
        "x1": x[:, 0],
        "x2": x[:, 1],
        "x1sq": x[:, 0] ** 2,
        "x2sq": x[:, 1] ** 2,
        "x1x2": x[:, 0] * x[:, 1],
        "sinx1": np.sin(x[:, 0]),
        "sinx2": np.sin(x[:, 1]),
    }
    for name, values in expected.items():
        np.testing.assert_allclose(transform(x, [name])[:, 0], values, atol=0)
    both = transform(x, ["x2sq", "x1"])
    np.testing.assert_array_equal(both, np.column_stack([x[:, 1] ** 2, x[:, 0]]))


def test_chosen_features_come_in_the_pages_order_and_bad_ones_are_refused():
    assert check_features(["sinx2", "x1"]) == ["x1", "sinx2"]
    assert check_features(list(FEATURES)) == list(FEATURES)
    with pytest.raises(ValueError, match=r"^features must be a non-empty list"):
        check_features([])
    with pytest.raises(ValueError, match=r"^points must have shape"):
        transform(np.zeros((3, 3)), ["x1"])


# ---------------------------------------------------------------------- frames
def _net(hidden=(8, 8), features=("x1", "x2", "x1x2"), **chosen):
    return build_network(Settings(hidden=tuple(hidden), features=tuple(features), **chosen))


def test_the_grid_runs_row_by_row_from_the_top():
    g = frames.grid_points(4, 2.0)
    np.testing.assert_allclose(g[:4, 1], 1.5)  # the top row: x2 largest
    np.testing.assert_allclose(g[:4, 0], [-1.5, -0.5, 0.5, 1.5])
    np.testing.assert_allclose(g[-1], [1.5, -1.5])


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "elu"])
def test_the_frame_forward_pass_is_the_networks(activation):
    net = _net(activation=activation, dropout=0.2)
    o = transform(frames.grid_points(), ["x1", "x2", "x1x2"])
    dense = [layer for layer in net.layers if isinstance(layer, cb.Dense)]
    *hidden, a = frames.forward(dense, o)
    np.testing.assert_allclose(1 / (1 + np.exp(-a)), net.predict(o), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        hidden[0], np.vectorize(dense[0].activation.f)(o @ dense[0].W.T + dense[0].b), atol=1e-12
    )


def test_the_frames_loss_is_the_networks_binary_cross_entropy():
    net = _net(hidden=(4,), features=("x1", "x2"))
    x, t = datasets.make("moons", 200, 0.1, 0)
    X = transform(x, ["x1", "x2"])
    dense = [layer for layer in net.layers if isinstance(layer, cb.Dense)]
    value, _ = net.loss_and_gradients(X, t)
    np.testing.assert_allclose(
        frames.binary_loss(frames.forward(dense, X)[-1], t), value, rtol=1e-12
    )


def test_a_frame_holds_the_maps_weights_and_losses():
    net = _net(hidden=(3, 2), features=("x1", "x2"))
    data = datasets.split(*datasets.make("xor", 100, 0.0, 0), 0.5)
    dense = [layer for layer in net.layers if isinstance(layer, cb.Dense)]
    f = frames.frame(dense, ["x1", "x2"], data, frames.grid_points())
    p = np.frombuffer(base64.b64decode(f["boundary"]), np.uint8) / 255
    X = transform(frames.grid_points(), ["x1", "x2"])
    np.testing.assert_allclose(
        p, net.predict(X).ravel(), atol=0.5 / 255 + 1e-5
    )  # p in float32, rounded to 1/255
    unit = np.frombuffer(base64.b64decode(f["units"][1][0]), np.uint8).astype(float)
    o = frames.forward(dense, X)[1][:, 0].reshape(100, 100)[::5, ::5].ravel()
    np.testing.assert_allclose(
        (unit - 128) / 127 * f["unit_scales"][1][0], o, atol=f["unit_scales"][1][0] / 127
    )
    np.testing.assert_allclose(f["weights"][0], np.round(dense[0].W, 4))
    assert f["test_loss"] > 0 and f["train_loss"] > 0


# ---------------------------------------------------------------------- settings
@given(
    hidden=st.lists(st.integers(1, MAX_UNITS), max_size=MAX_LAYERS),
    n_points=st.integers(10, MAX_POINTS),
    rate=st.floats(1e-6, 10.0),
    features=st.lists(st.sampled_from(list(FEATURES)), min_size=1, unique=True),
)
def test_every_setting_in_bounds_is_taken(hidden, n_points, rate, features):
    s = parse({"hidden": hidden, "n_points": n_points, "learning_rate": rate, "features": features})
    assert s.hidden == tuple(hidden) and s.n_points == n_points and s.learning_rate == rate
    assert set(s.features) == set(features)
    assert parse(s.as_dict()) == s


@given(units=st.integers().filter(lambda u: not 1 <= u <= MAX_UNITS))
def test_units_out_of_bounds_are_refused(units):
    with pytest.raises(ValueError, match=f"^each hidden layer has 1 to 8 units; got {units}$"):
        parse({"hidden": [2, units]})


def test_booleans_are_not_numbers():
    for name in ("n_points", "batch_size", "seed", "noise", "l2"):
        with pytest.raises(ValueError, match=f"^{name} must be"):
            parse({name: True})


# ---------------------------------------------------------------------- a session
def _wait(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_session_starts_paused_steps_one_epoch_plays_and_stops():
    session = Session(parse({"dataset": "xor", "hidden": [4], "n_points": 100}))
    try:
        sequence, first = session.wait_frame(0, timeout=30)
        assert sequence >= 1 and first["epoch"] == 0 and first["playing"] is False
        time.sleep(0.2)
        assert session.epoch == 0  # paused
        session.step()
        _wait(lambda: session.epoch == 1 and not session._playing)
        time.sleep(0.2)
        assert session.epoch == 1
        session.play()
        _wait(lambda: session.epoch > 3)
        session.pause()
    finally:
        session.stop()
    assert not session.alive


def test_the_diagnostics_findings_come_with_the_frames_as_the_report_gives_them():
    chosen = {
        "dataset": "spiral",
        "hidden": [8, 8],
        "learning_rate": 3.0,
        "features": list(FEATURES),
    }
    session = Session(parse(chosen))
    try:
        session.play()
        _wait(lambda: session.wait_frame(0, timeout=1)[1]["findings"], timeout=60)
        session.pause()
        time.sleep(2 * DIAGNOSE_EVERY)
        _, frame = session.wait_frame(0, timeout=1)
        report = diagnose(session._monitor)
    finally:
        session.stop()
    kinds = [f["kind"] for f in frame["findings"]]
    assert set(kinds) <= set(KINDS) and "saturation" in kinds
    assert frame["findings"] == [
        {"kind": f.kind, "layer": f.layer, "message": f.message, "suggestion": f.suggestion}
        for f in report
    ]


def test_no_hidden_layer_and_the_smallest_data_train_too():
    session = Session(parse({"hidden": [], "n_points": 10, "train_share": 0.1, "batch_size": 10}))
    try:
        session.play()
        _wait(lambda: session.epoch >= 3)
        session.pause()
        time.sleep(0.2)
        _, frame = session.wait_frame(0, timeout=1)
    finally:
        session.stop()
    assert frame["units"] == [] and [np.shape(W) for W in frame["weights"]] == [(1, 2)]
    assert np.isfinite(frame["train_loss"]) and np.isfinite(frame["test_loss"])
