"""The shared builders: mlp and conv_blocks give the layers their docstrings promise."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cartoonbrain as cb
from cartoonbrain.network.builders import conv_blocks, mlp


@settings(max_examples=40, deadline=None)
@given(
    n_in=st.integers(1, 6),
    hidden=st.lists(st.integers(1, 6), max_size=3),
    n_out=st.integers(1, 4),
    dropout=st.sampled_from([0.0, 0.3]),
    activation=st.sampled_from(["relu", "tanh", "sigmoid"]),
)
def test_mlp_is_dense_layers_with_dropout_after_each_hidden_one(
    n_in, hidden, n_out, dropout, activation
):
    layers = mlp(n_in, hidden, n_out, activation=activation, dropout=dropout)
    dense = [layer for layer in layers if isinstance(layer, cb.Dense)]
    sizes = [n_in, *hidden, n_out]
    assert [(d.n_in, d.n_out) for d in dense] == list(itertools.pairwise(sizes))
    assert [d.activation.name for d in dense] == [activation] * len(hidden) + ["identity"]
    kinds = [type(layer).__name__ for layer in layers]
    assert kinds == (["Dense", "Dropout"] if dropout else ["Dense"]) * len(hidden) + ["Dense"]
    net = cb.Network(layers, seed=0)
    # parameters: Σ (n_in + 1) n_out over the affine layers
    assert net.n_parameters == sum((a + 1) * b for a, b in itertools.pairwise(sizes))


def test_mlp_output_activation_is_passed_on():
    (last,) = mlp(3, (), 2, output_activation="sigmoid")
    assert last.activation.name == "sigmoid" and (last.n_in, last.n_out) == (3, 2)


@pytest.mark.parametrize(
    "shape, channels",
    [((1, 8, 8), (4,)), ((1, 8, 8), (4, 6)), ((2, 5, 7), (3,)), ((1, 40), (2, 3)), ((1, 1), (2,))],
)
def test_conv_blocks_feed_an_mlp_of_the_size_they_report(shape, channels):
    layers, n_features = conv_blocks(shape, channels)
    assert isinstance(layers[-1], cb.Flatten)
    convs = [layer for layer in layers if isinstance(layer, (cb.Conv1D, cb.Conv2D))]
    assert [c.out_channels for c in convs] == list(channels)
    net = cb.Network([*layers, *mlp(n_features, (5,), 3)], seed=0, input_shape=shape)
    X = np.random.default_rng(0).normal(size=(2, *shape))
    assert net.predict(X).shape == (2, 3)
    pooled = sum(isinstance(layer, (cb.MaxPool1D, cb.MaxPool2D)) for layer in layers)
    sides = [max(side // 2**pooled, 1) for side in shape[1:]]
    assert n_features == channels[-1] * math.prod(sides)


def test_conv_blocks_refuse_plain_feature_rows():
    with pytest.raises(ValueError, match=r"\(C, L\) or \(C, H, W\)"):
        conv_blocks((10,), (4,))
