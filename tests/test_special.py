"""erf against math.erf, and the GELU activation built on it (exact, erf form)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import cartoonbrain as cb
from cartoonbrain.activations import get_activation
from cartoonbrain.special import erf, erfc, normal_cdf
from layer_checks import central_differences


def test_erf_equals_math_erf():
    x = np.concatenate([np.linspace(-7, 7, 70001), np.random.default_rng(0).normal(0, 3, 5000)])
    expected = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(erf(x), expected, rtol=1e-14, atol=2e-15)
    np.testing.assert_array_equal(erf(-x), -erf(x))  # odd


def test_erfc_is_accurate_relative_to_its_size():
    """erfc(x) down to 1e-29 (x < 8), where 1 − erf(x) would have lost every digit."""
    x = np.linspace(-2, 7.99, 40001)
    expected = np.array([math.erfc(v) for v in x])
    np.testing.assert_allclose(erfc(x), expected, rtol=2e-14, atol=0)


def test_erf_special_values_and_types():
    np.testing.assert_array_equal(
        erf(np.array([0.0, np.inf, -np.inf, 6.0, -30.0])), [0, 1, -1, 1, -1]
    )
    assert np.isnan(erf(np.array([np.nan]))[0])
    assert erf(np.ones(3, dtype=np.float32)).dtype == np.float32
    assert erf(np.arange(3)).dtype == np.float64
    np.testing.assert_allclose(
        normal_cdf(np.array([0.0, 1.0, -1.96])),
        [0.5, 0.8413447460685429, 0.024997895148220435],
        rtol=1e-13,
    )


def test_gelu_is_a_times_phi():
    gelu = get_activation("gelu")
    a = np.linspace(-8, 8, 1601)
    expected = np.array([v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in a])
    np.testing.assert_allclose(gelu.f(a), expected, rtol=1e-13, atol=1e-15)


def test_gelu_derivative_against_central_differences():
    gelu = get_activation("gelu")
    a = np.random.default_rng(1).normal(0, 2, 200)
    G = np.random.default_rng(2).standard_normal(200)
    numeric = central_differences(lambda: float(np.vdot(G, gelu.f(a))), a, epsilon=1e-5)
    # the numeric side is good to about 1e-15 / 1e-5 per entry: erf's own rounding
    np.testing.assert_allclose(gelu.backward(G, a, gelu.f(a)), numeric, rtol=1e-7, atol=1e-8)


def test_gelu_network_gradcheck():
    net = cb.Network([cb.Dense(3, 5, activation="gelu"), cb.Dense(5, 2)], seed=0)
    rng = np.random.default_rng(3)
    assert cb.gradcheck(net, rng.standard_normal((6, 3)), rng.standard_normal((6, 2))) < 1e-6


def test_gelu_equal_to_pytorch():
    torch = pytest.importorskip("torch")
    gelu = get_activation("gelu")
    a = np.random.default_rng(4).normal(0, 3, 1000)
    at = torch.tensor(a, requires_grad=True)
    out = torch.nn.functional.gelu(at)  # approximate="none": the erf form
    out.sum().backward()
    np.testing.assert_allclose(gelu.f(a), out.detach().numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(
        gelu.backward(np.ones(1000), a, gelu.f(a)), at.grad.numpy(), rtol=1e-12, atol=1e-14
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gelu_derivative_reads_phi_back_from_the_output(dtype):
    """f'(a) = o / a + a φ(a) with o = a Φ(a) from the forward pass: Φ(a) + a φ(a) to
    rounding, also at 0, for subnormal a (Φ = ½ there) and far in the tails."""
    gelu = get_activation("gelu")
    tiny = np.finfo(dtype).tiny
    a = np.array([0.0, -0.0, tiny / 4, -tiny / 4, tiny, 1e-20, -3.0, 2.5, -12.0, 12.0, -40.0])
    a = a.astype(dtype)
    expected = normal_cdf(a.astype(np.float64)) + a * np.exp(-0.5 * a.astype(np.float64) ** 2) / (
        math.sqrt(2 * math.pi)
    )
    got = gelu.df(a, gelu.f(a.copy()))
    assert got.dtype == dtype
    np.testing.assert_allclose(got, expected, rtol=4 * np.finfo(dtype).eps, atol=1e-30)
