"""Embedding: lookups, the scatter-added gradient, refused ids, PyTorch, networks."""

from __future__ import annotations

import numpy as np
import pytest

import cartoonbrain as cb
from cartoonbrain.layers import Embedding
from layer_checks import assert_layer_gradients, bind


def test_rows_of_the_table_are_looked_up():
    layer = Embedding(5, 3)
    (E,), _ = bind(layer, np.random.default_rng(0))
    ids = np.array([[4, 0, 4], [1, 2, 3]])
    np.testing.assert_array_equal(layer.forward(ids), E[ids])
    np.testing.assert_array_equal(layer.infer(ids.astype(np.float32)), E[ids])
    assert layer.output_shape((3,)) == (3, 3)


def test_gradient_is_the_one_hot_product():
    """∇E = onehot(x)ᵀ G: a repeated id receives the sum of its rows of G."""
    layer = Embedding(5, 3)
    params, grads = bind(layer, np.random.default_rng(1))
    ids = np.array([[4, 0, 4, 4], [1, 1, 3, 0]])
    G = np.random.default_rng(2).standard_normal((2, 4, 3))
    layer.forward(ids)
    g_ids = layer.backward(G)
    one_hot = np.eye(5)[ids.reshape(-1)]
    np.testing.assert_allclose(grads[0], one_hot.T @ G.reshape(-1, 3), rtol=1e-14, atol=0)
    np.testing.assert_array_equal(g_ids, np.zeros(ids.shape))
    assert_layer_gradients(layer, ids.astype(float), params, grads, input_gradient=False)


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (np.array([[0, 5]]), r"got 5 at row 0, position \(1,\)"),
        (np.array([[0, 1], [-1, 2]]), "got -1 at row 1"),
        (np.array([[0.0, 1.5]]), "got 1.5 at row 0"),
        (np.array([[0.0], [np.nan]]), "got nan at row 1"),
        (np.array([["a"]]), "takes integer ids; got an array of dtype <U1"),
    ],
)
def test_bad_ids_are_refused_naming_the_row(ids, message):
    layer = Embedding(5, 3)
    bind(layer, np.random.default_rng(0))
    with pytest.raises(ValueError, match=message):
        layer.forward(ids)


def embedding_network(dtype="float32"):
    return cb.Network(
        [Embedding(6, 3), cb.Flatten(), cb.Dense(12, 2)],
        loss="cross_entropy",
        input_shape=(4,),
        dtype=dtype,
        seed=0,
    )


def test_network_takes_integer_ids_and_refuses_bad_ones():
    net = embedding_network()
    ids = np.random.default_rng(3).integers(0, 6, (7, 4))
    assert net.predict(ids).shape == (7, 2)
    with pytest.raises(ValueError, match=r"Embedding\(n_vocab=6, n_dim=3\) takes integer ids 0..5"):
        net.predict(np.where(ids == ids[2, 1], 6, ids))


def test_network_gradcheck_and_learning():
    net = embedding_network("float64")
    rng = np.random.default_rng(4)
    ids = rng.integers(0, 6, (8, 4))
    assert cb.gradcheck(net, ids, rng.integers(0, 2, 8)) < 1e-6
    X = rng.integers(0, 6, (200, 4))
    y = (X[:, 0] >= 3).astype(int)  # the class is in the first id
    net = embedding_network()
    net.fit(X, y, epochs=30, batch_size=20, learning_rate=0.05)
    assert np.mean(net.predict_classes(X) == y) > 0.95


def test_equal_to_pytorch():
    torch = pytest.importorskip("torch")
    module = torch.nn.Embedding(6, 3, dtype=torch.float64)
    layer = Embedding(6, 3)
    params, grads = bind(layer, np.random.default_rng(0))
    params[0][...] = module.weight.detach().numpy()
    rng = np.random.default_rng(5)
    ids = rng.integers(0, 6, (4, 5))
    G = rng.standard_normal((4, 5, 3))
    out = module(torch.tensor(ids))
    (out * torch.tensor(G)).sum().backward()
    np.testing.assert_array_equal(layer.forward(ids), out.detach().numpy())
    layer.backward(G)
    np.testing.assert_allclose(grads[0], module.weight.grad.numpy(), rtol=1e-14, atol=1e-15)
