"""Keras's own loss tests for mae, Huber's ``delta`` and ``label_smoothing``, ported with
Keras's expected numbers (keras-team/keras, ``keras/src/losses/losses_test.py``, each test
naming its class and test), with gradients against central differences in float64 and
PyTorch's numbers where PyTorch has the loss.

Keras's ``assertAlmostEqual`` checks 3 decimals; the tolerances here are Keras's or tighter.
A deliberate difference, tested as such: with ``sample_weight`` our losses are the
weighted mean Σ w ℓ / Σ w (scikit-learn's, and Keras's ``reduction="mean_with_sample_weight"``),
where Keras's default reduction divides Σ w ℓ by the batch size.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import cartoonbrain as cb
from cartoonbrain.losses import get_loss

Y_TRUE = np.array([[1.0, 9.0, 2.0], [-5.0, -2.0, 6.0]])
Y_PRED = np.array([[4.0, 8.0, 12.0], [8.0, 1.0, 3.0]])


def value(loss, y, t, sample_weight=None):
    loss = get_loss(loss)
    t = loss.prepare_targets(t, np.asarray(y).shape[1], np.dtype(np.float64))
    return loss.value_and_gradient(np.array(y, dtype=np.float64), t, sample_weight)[0]


# ------------------------------------------------------------------------------- mae
def test_mae_unweighted():
    # losses_test.py::MeanAbsoluteErrorTest::test_unweighted
    assert value("mae", Y_PRED, Y_TRUE) == pytest.approx(5.5, abs=1e-6)


def test_mae_all_correct_unweighted():
    # losses_test.py::MeanAbsoluteErrorTest::test_all_correct_unweighted
    assert value("mae", Y_TRUE, Y_TRUE) == 0.0


def test_mae_mean_with_sample_weight_reduction():
    # losses_test.py::MeanAbsoluteErrorTest::test_mean_with_sample_weight_reduction
    expected = (14 / 3 * 1.2 + 19 / 3 * 3.4) / (1.2 + 3.4)
    assert value("mae", Y_PRED, Y_TRUE, np.array([1.2, 3.4])) == pytest.approx(expected)


def test_sample_weights_make_a_weighted_mean_where_keras_divides_by_the_batch():
    """Deliberate difference: losses_test.py::MeanAbsoluteErrorTest::test_sample_weighted
    expects 81.4 / 6 (Keras's default "sum_over_batch_size" reduction); ours is the
    weighted mean Σ w ℓ / Σ w, the "mean_with_sample_weight" numbers above."""
    weighted = value("mae", Y_PRED, Y_TRUE, np.array([1.2, 3.4]))
    assert weighted != pytest.approx(81.4 / 6, abs=1e-3)
    assert weighted * (1.2 + 3.4) / 2 == pytest.approx(81.4 / 6)


# ------------------------------------------------------------------------------- huber
HUBER_PRED = np.array([[0.9, 0.2, 0.2], [0.8, 0.4, 0.6]])
HUBER_TRUE = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]])


def keras_huber(y_true, y_pred, delta=1.0):
    """losses_test.py::HuberLossTest::huber_loss, Keras's reference."""
    abs_error = np.abs(y_pred - y_true)
    quadratic = np.minimum(abs_error, delta)
    return 0.5 * quadratic * quadratic + delta * (abs_error - quadratic)


@pytest.mark.parametrize("delta", [1.0, 0.8, 0.25])
def test_huber_unweighted_and_non_default_delta(delta):
    # losses_test.py::HuberLossTest::test_unweighted and ::test_non_default_delta
    # (Keras's weighted one: 2.3 × the unweighted, a scalar weight; ours: the same loss)
    expected = np.sum(keras_huber(HUBER_TRUE, HUBER_PRED, delta)) / 6
    loss = {"name": "huber", "delta": delta}
    assert value(loss, HUBER_PRED, HUBER_TRUE) == pytest.approx(expected, abs=1e-12)
    assert delta != 0.8 or value(loss, HUBER_PRED, HUBER_TRUE) == pytest.approx(
        0.10416666, abs=1e-6
    )


def test_huber_delta_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    y, t = rng.normal(size=(5, 3)) * 3, rng.normal(size=(5, 3))
    for delta in (0.5, 2.0):
        yt = torch.tensor(y, requires_grad=True)
        expected = torch.nn.HuberLoss(delta=delta)(yt, torch.tensor(t))
        expected.backward()
        got, g = get_loss({"name": "huber", "delta": delta}).value_and_gradient(y.copy(), t)
        assert got == pytest.approx(expected.item(), rel=1e-12)
        np.testing.assert_allclose(g, yt.grad.numpy(), rtol=1e-12, atol=1e-15)


# ------------------------------------------------------------------------------- label smoothing
def test_binary_cross_entropy_label_smoothing():
    # losses_test.py::BinaryCrossentropyTest::test_label_smoothing
    loss = {"name": "binary_cross_entropy", "label_smoothing": 0.1}
    got = value(loss, [[10.0, -10.0, -10.0]], [[1, 0, 1]])
    # Keras's assertAlmostEqual checks 3 decimals; the exact value has 3 softplus(-10) more
    assert got == pytest.approx((10.0 + 5.0 * 0.1) / 3.0, abs=1e-3)
    assert got == pytest.approx((10.5 + 3 * np.log1p(np.exp(-10.0))) / 3.0, rel=1e-12)


def test_binary_cross_entropy_from_logits_unweighted():
    # losses_test.py::BinaryCrossentropyTest::test_unweighted (with logits)
    got = value("binary_cross_entropy", [[10.0, -10.0, 10.0], [10.0, 10.0, -10.0]],
                [[1, 0, 1], [0, 1, 1]])  # fmt: skip
    assert got == pytest.approx(3.3333, abs=1e-4)


@pytest.mark.parametrize("targets", [[[1, 0, 0]], [0]], ids=["one-hot", "class ids"])
def test_cross_entropy_label_smoothing(targets):
    # losses_test.py::CategoricalCrossentropyTest::test_label_smoothing (Keras smooths
    # one-hot rows only: its sparse loss has no label_smoothing; ids smooth the same here)
    loss = {"name": "cross_entropy", "label_smoothing": 0.1}
    got = value(loss, [[100.0, -100.0, -100.0]], targets)
    assert got == pytest.approx(400.0 * 0.1 / 3.0, rel=1e-6)


def test_cross_entropy_from_logits_unweighted():
    # losses_test.py::CategoricalCrossentropyTest::test_unweighted (with logits)
    logits = [[8.0, 1.0, 1.0], [0.0, 9.0, 1.0], [2.0, 3.0, 5.0]]
    assert value("cross_entropy", logits, [0, 1, 2]) == pytest.approx(0.0573, abs=1e-4)


@pytest.mark.parametrize("epsilon", [0.1, 0.3])
def test_cross_entropy_label_smoothing_matches_torch(epsilon):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    z, ids = rng.normal(size=(6, 4)) * 2, rng.integers(0, 4, size=6)
    zt = torch.tensor(z, requires_grad=True)
    expected = torch.nn.CrossEntropyLoss(label_smoothing=epsilon)(zt, torch.tensor(ids))
    expected.backward()
    loss = get_loss({"name": "cross_entropy", "label_smoothing": epsilon})
    got, g = loss.value_and_gradient(z.copy(), ids)
    assert got == pytest.approx(expected.item(), rel=1e-12)
    np.testing.assert_allclose(g, zt.grad.numpy(), rtol=1e-12, atol=1e-15)


# ------------------------------------------------------------------------------- gradients
CONFIGS = [
    "mae",
    {"name": "huber", "delta": 0.3},
    {"name": "huber", "delta": 3.0},
    {"name": "cross_entropy", "label_smoothing": 0.2},
    {"name": "binary_cross_entropy", "label_smoothing": 0.2},
    {"name": "binary_cross_entropy_sum", "label_smoothing": 0.1},
]


def _targets(loss, rng, shape):
    if loss.name == "cross_entropy":
        return rng.integers(0, shape[1], size=shape[0])
    if loss.classification:
        return rng.integers(0, 2, size=shape).astype(np.float64)
    return rng.normal(size=shape)


@pytest.mark.parametrize("config", CONFIGS, ids=str)
@settings(max_examples=15, deadline=None)
@given(
    y=arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(2, 4)),
             elements=st.floats(-3, 3)),
    seed=st.integers(0, 2**16),
    weighted=st.booleans(),
)  # fmt: skip
def test_gradient_matches_central_differences(config, y, seed, weighted):
    """∂L/∂Y against (L(y + h) − L(y − h)) / 2h for every entry, in float64 (entries
    within 1e-3 of a kink of mae or Huber are moved off it)."""
    loss = get_loss(config)
    rng = np.random.default_rng(seed)
    t = _targets(loss, rng, y.shape)
    if loss.name in ("mae", "huber"):
        delta = getattr(loss, "delta", 0.0)
        for kink in {delta, -delta}:
            near = np.abs(y - t - kink) < 1e-3
            y = np.where(near, y + 0.01, y)
    w = rng.uniform(0.5, 2.0, size=y.shape[0]) if weighted else None
    _, g = loss.value_and_gradient(y.copy(), t, w)
    h = 1e-6
    numeric = np.zeros_like(y)
    for index in np.ndindex(y.shape):
        up, down = y.copy(), y.copy()
        up[index] += h
        down[index] -= h
        numeric[index] = (loss(up, t, w) - loss(down, t, w)) / (2 * h)
    np.testing.assert_allclose(g, numeric, rtol=1e-5, atol=1e-7)


def test_a_network_keeps_its_loss_options_through_save_and_load(tmp_path):
    net = cb.Network([cb.Dense(2, 3)], {"name": "cross_entropy", "label_smoothing": 0.2}, seed=0)
    net.save(tmp_path / "m.npz")
    loaded = cb.load(tmp_path / "m.npz")
    assert loaded.loss.label_smoothing == 0.2
    assert net.get_config()["loss"] == {"name": "cross_entropy", "label_smoothing": 0.2}
    plain = cb.Network([cb.Dense(2, 1)], "huber", seed=0)
    assert plain.get_config()["loss"] == "huber"  # defaults: the name, as before
    huber = cb.Network.from_config({**plain.get_config(), "loss": {"name": "huber", "delta": 2}})
    assert huber.loss.delta == 2.0


def test_bad_loss_options_are_refused_in_one_line():
    with pytest.raises(ValueError, match=r"delta must be a positive finite number; got 0"):
        get_loss({"name": "huber", "delta": 0})
    with pytest.raises(ValueError, match=r"label_smoothing must be a number in \[0, 1\)"):
        get_loss({"name": "cross_entropy", "label_smoothing": 1.5})
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['alpha'\] for loss 'mae'"):
        get_loss({"name": "mae", "alpha": 1})
