"""The Huber loss (δ = 1): worked example, central differences, weights, PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import cartoonbrain as cb
from layer_checks import central_differences


def test_huber_by_hand():
    """d = 0.5, −2, 3: ℓ = ½ 0.5², 1 (2 − ½), 1 (3 − ½) = 0.125, 1.5, 2.5; g = clip(d, ±1)/3."""
    loss = cb.get_loss("huber")
    y, t = np.array([[0.5, -2.0, 3.0]]), np.zeros((1, 3))
    value, g = loss.value_and_gradient(y.copy(), t)
    assert value == pytest.approx((0.125 + 1.5 + 2.5) / 3, abs=1e-15)
    np.testing.assert_allclose(g, [[0.5 / 3, -1 / 3, 1 / 3]], rtol=1e-15, atol=0)


def test_gradient_against_central_differences_and_weights():
    loss = cb.get_loss("huber")
    rng = np.random.default_rng(0)
    y, t, w = rng.normal(0, 2, (6, 3)), rng.standard_normal((6, 3)), rng.random(6)
    for weights in (None, w):
        _, g = loss.value_and_gradient(y.copy(), t, weights)
        numeric = central_differences(lambda weights=weights: loss(y, t, weights), y)
        np.testing.assert_allclose(g, numeric, rtol=1e-7, atol=1e-10)
    per_sample = loss.per_sample(y, t)
    assert loss(y, t, w) == pytest.approx(np.dot(w, per_sample) / w.sum(), rel=1e-14)


def test_network_trains_with_huber():
    net = cb.Network([cb.Dense(2, 8, activation="tanh"), cb.Dense(8, 1)], loss="huber", seed=0)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((8, 2))
    assert cb.gradcheck(net, X, rng.standard_normal(8)) < 1e-6
    assert cb.Network.from_config(net.get_config()).loss.name == "huber"


def test_equal_to_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    y, t = rng.normal(0, 2, (7, 4)), rng.standard_normal((7, 4))
    yt = torch.tensor(y, requires_grad=True)
    expected = torch.nn.HuberLoss()(yt, torch.tensor(t))
    expected.backward()
    value, g = cb.get_loss("huber").value_and_gradient(y.copy(), t)
    assert value == pytest.approx(expected.item(), rel=1e-14)
    np.testing.assert_allclose(g, yt.grad.numpy(), rtol=1e-14, atol=1e-16)
