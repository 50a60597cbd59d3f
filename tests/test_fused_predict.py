"""predict for a few rows in one compiled call (cartoonbrain.network.fused_predict) against the
regular path: the same predictions to rounding, the same errors, and the regular path
wherever the kernel does not apply.

The kernel sums its products in another order than BLAS, so the two paths are compared
as two batch sizes are (tests/tolerance.py), never bit for bit; two calls of the same
path are. Skipped where numba is not installed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cartoonbrain as cb
from cartoonbrain import _kernels
from cartoonbrain._kernels.codes import FORWARD
from cartoonbrain.activations import ACTIVATIONS
from cartoonbrain.network import NonFinitePrediction, fused_predict
from tolerance import assert_same_maths

pytestmark = pytest.mark.skipif(not _kernels.available(), reason="numba is not installed")

APPLIED = sorted(FORWARD | {"identity"})
LOSSES = ["cross_entropy", "binary_cross_entropy", "mse", "huber"]


@contextlib.contextmanager
def accelerator(name: str) -> Iterator[None]:
    previous = _kernels.use(name)
    try:
        yield
    finally:
        _kernels.use(previous)


def regular(net: cb.Network, X: np.ndarray) -> np.ndarray:
    """predict on the NumPy path (which never calls the kernel)."""
    with accelerator("numpy"):
        return net.predict(X)


def few(net: cb.Network, X: np.ndarray) -> np.ndarray | None:
    with accelerator("numba"):
        return fused_predict.predict_few(net, X)


@st.composite
def networks(draw: st.DrawFn) -> tuple[cb.Network, np.ndarray]:
    """A chain of Dense layers (any width, with or without bias, Dropout here and there)
    that the kernel runs, with 1..FEW_ROWS rows of input."""
    loss = draw(st.sampled_from(LOSSES))
    widths = draw(st.lists(st.integers(1, 13), min_size=2, max_size=5))
    if loss == "cross_entropy":
        widths[-1] = max(widths[-1], 2)
    layers: list[cb.Layer] = []
    for n_in, n_out in itertools.pairwise(widths):
        if draw(st.booleans()) and layers:
            layers.append(cb.Dropout(0.5))
        activation = draw(st.sampled_from(APPLIED))
        layers.append(cb.Dense(n_in, n_out, activation=activation, bias=draw(st.booleans())))
    last = layers[-1]
    assert isinstance(last, cb.Dense)
    if loss in ("cross_entropy", "binary_cross_entropy"):  # they take logits
        layers[-1] = cb.Dense(last.n_in, last.n_out, bias=last.bias)
    dtype = draw(st.sampled_from(["float32", "float64"]))
    net = cb.Network(layers, loss=loss, seed=draw(st.integers(0, 2**16)), dtype=dtype)
    for p in net.parameters():  # biases too, so that they matter
        p += np.random.default_rng(1).normal(0, 0.3, p.shape).astype(p.dtype)
    rows = draw(st.integers(1, fused_predict.FEW_ROWS))
    X = np.random.default_rng(draw(st.integers(0, 2**16))).normal(0, 2, (rows, widths[0]))
    return net, X.astype(dtype)


def sum_magnitude(net, X):
    """The largest Σ|w||o| + |b| any layer's products run through for X (the scale of
    their rounding: the kernel and BLAS add the same terms in another order)."""
    o, top = X.astype(np.float64), 1.0
    for layer in net.layers:
        if isinstance(layer, cb.Dense):
            terms = np.abs(o) @ np.abs(layer.W.astype(np.float64)).T
            if layer.b is not None:
                terms += np.abs(layer.b)
            top = max(top, float(terms.max()))
        o = layer.infer(o.copy())
    return top


@settings(max_examples=60, deadline=None)
@given(networks())
def test_the_kernel_predicts_what_the_regular_path_does(case):
    net, X = case
    expected = regular(net, X)
    got = few(net, X)
    assert got is not None, "the kernel declined a network it runs"
    assert got.dtype == expected.dtype and got.shape == expected.shape
    assert_same_maths(got, expected, scale=sum_magnitude(net, X))
    with accelerator("numba"):  # and predict takes that path: same bits as the kernel
        np.testing.assert_array_equal(net.predict(X), got)
        np.testing.assert_array_equal(net.predict(X), got)  # the same computation twice


def mlp(loss: str = "cross_entropy", hidden: str = "relu", dtype: str = "float32") -> cb.Network:
    layers = [cb.Dense(6, 5, activation=hidden), cb.Dense(5, 3)]
    return cb.Network(layers, loss=loss, seed=0, dtype=dtype)


class Custom(cb.Dense):
    """A Dense with its own inference: not the kernel's formula any more."""

    def infer(self, o_prev: np.ndarray) -> np.ndarray:
        return super().infer(o_prev) * 2


#: an activation that shares ReLU's name but not its f
LOOK_ALIKE = dataclasses.replace(ACTIVATIONS["relu"], f=lambda a: 2 * np.maximum(a, 0))


@pytest.mark.parametrize(
    "net",
    [
        mlp(hidden="sigmoid"),  # a transcendental activation: NumPy's is vectorised
        cb.Network([cb.Dense(6, 5, activation=LOOK_ALIKE), cb.Dense(5, 3)], seed=0),
        mlp(loss="poisson"),  # an output the kernel does not have
        cb.Network([Custom(6, 5, activation="relu"), cb.Dense(5, 3)], seed=0),
        cb.Network([cb.Conv1D(1, 2, 3), cb.Flatten(), cb.Dense(8, 3)], input_shape=(1, 6)),
    ],
    ids=["sigmoid", "look-alike", "poisson", "subclass", "conv"],
)
def test_what_the_kernel_does_not_run_goes_the_regular_way(net):
    X = np.random.default_rng(0).normal(size=(3, *net.input_shape)).astype(net.dtype)
    assert fused_predict.layout(net) is None and few(net, X) is None
    with accelerator("numba"):
        np.testing.assert_array_equal(net.predict(X), net.predict(X))
        assert_same_maths(net.predict(X), regular(net, X))


def test_more_rows_than_few_go_the_regular_way():
    net = mlp()
    X = np.ones((fused_predict.FEW_ROWS + 1, 6), np.float32)
    assert few(net, X) is None and few(net, X[:-1]) is not None


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_non_finite_input_gets_the_regular_error(bad, dtype):
    net = mlp(dtype=dtype)  # ReLU: a −inf input can vanish in it, the check must not
    X = np.ones((2, 6), dtype)
    X[1, 4] = bad
    assert few(net, X) is None
    with accelerator("numpy"), pytest.raises(ValueError) as numpy_error:
        net.predict(X)
    with accelerator("numba"), pytest.raises(ValueError) as numba_error:
        net.predict(X)
    assert str(numba_error.value) == str(numpy_error.value)
    assert "row 1, column 4" in str(numba_error.value)


def test_an_overflow_gets_the_regular_error():
    net = mlp(loss="mse", hidden="identity")
    for p in net.parameters():
        np.abs(p, out=p)  # no cancelling: the sums overflow float32
    X = np.full((1, 6), 1e38, np.float32)
    assert few(net, X) is None
    with accelerator("numba"), pytest.raises(NonFinitePrediction, match="overflow"):
        net.predict(X)


def test_weights_changed_in_place_are_used_at_once():
    net = mlp()
    X = np.random.default_rng(0).normal(size=(2, 6)).astype(np.float32)
    before = few(net, X)
    for p in net.parameters():
        p *= 3
    after = few(net, X)
    assert after is not None and before is not None and not np.allclose(after, before)
    assert_same_maths(after, regular(net, X))


def test_inputs_are_converted_as_on_the_regular_path():
    net = mlp()
    X = np.random.default_rng(0).normal(size=(2, 6))  # float64 for a float32 network
    got = few(net, X)
    assert got is not None and got.dtype == np.float32
    assert_same_maths(got, regular(net, X))
    read_only = X.astype(np.float32)
    read_only.flags.writeable = False
    assert few(net, read_only) is None  # (another compiled version: not worth one)
    with accelerator("numba"):
        assert_same_maths(net.predict(read_only), got)
    with accelerator("numba"), pytest.raises(ValueError, match="expects 6"):
        net.predict(np.ones((1, 5)))


def test_a_saved_and_loaded_model_predicts_the_same(tmp_path):
    net = mlp()
    X = np.random.default_rng(0).normal(size=(1, 6)).astype(np.float32)
    cb.save(net, tmp_path / "m.cbm")
    loaded = cb.load(tmp_path / "m.cbm")
    np.testing.assert_array_equal(few(loaded, X), few(net, X))


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 9),
    st.integers(1, 40),
    st.integers(1, 11),
    st.sampled_from([np.float32, np.float64]),
    st.integers(0, 2**16),
)
def test_the_products_are_matmul_to_rounding(rows, n_in, n_out, dtype, seed):
    from cartoonbrain._kernels.inference import _affine_rows  # imports numba

    rng = np.random.default_rng(seed)
    o, W = rng.normal(size=(rows, n_in)).astype(dtype), rng.normal(size=(n_out, n_in)).astype(dtype)
    a = np.empty((rows, n_out), dtype)
    _affine_rows(o, W, a)
    bound = np.abs(o) @ np.abs(W).T * n_in * np.finfo(dtype).eps  # the rounding of a sum
    assert np.all(np.abs(a - o @ W.T) <= bound)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 50), st.data())
def test_finiteness_is_found_wherever_it_is(size, data):
    from cartoonbrain._kernels.inference import _all_finite

    a = np.random.default_rng(size).normal(size=size) * 1e30
    assert _all_finite(a.reshape(1, -1))
    where = data.draw(st.integers(0, size - 1))
    a[where] = data.draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    assert not _all_finite(a.reshape(1, -1))
