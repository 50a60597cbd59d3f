"""Ready-made stacks of layers: the multi-layer perceptron and convolutional blocks.

One builder for every front end (the command line, the scikit-learn estimators), so the
same options give the same network wherever they are given:

    mlp(n_in, (h_1, …, h_k), n_out)  →  Dense(n_in, h_1, f) [Dropout] … Dense(h_k, n_out)

Each hidden layer computes ``o_l = f(W_l o_{l-1} + b_l)``; the last layer is affine
(``activation="identity"`` by default), as the cross-entropy losses take logits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..layers import (
    Conv1D,
    Conv2D,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    Layer,
    LayerNorm,
    MaxPool1D,
    MaxPool2D,
    PositionalEmbedding,
    transformer_block,
)

__all__ = ["RECURRENT", "conv_blocks", "gpt", "mlp", "recurrent"]


def mlp(
    n_in: int,
    hidden_layer_sizes: Sequence[int],
    n_out: int,
    activation: str = "relu",
    dropout: float = 0.0,
    output_activation: str = "identity",
) -> list[Layer]:
    """The layers of a multi-layer perceptron.

    Parameters
    ----------
    n_in : int
        Features per sample.
    hidden_layer_sizes : sequence of int
        Units of each hidden layer, e.g. ``(64, 32)``; empty for a single affine layer.
    n_out : int
        Outputs per sample.
    activation : str
        ``f`` of every hidden layer, a name in :data:`cartoonbrain.activations.ACTIVATIONS`.
    dropout : float in [0, 1)
        When above zero, a :class:`~cartoonbrain.layers.Dropout` after every hidden layer.
    output_activation : str
        ``f`` of the last layer; "identity" for the losses that take logits.

    Returns
    -------
    list of Layer
        ``[Dense(n_in, h_1, activation), (Dropout(dropout),) …, Dense(h_k, n_out)]``.
    """
    layers: list[Layer] = []
    for size in hidden_layer_sizes:
        layers.append(Dense(n_in, size, activation=activation))
        if dropout:
            layers.append(Dropout(dropout))
        n_in = size
    layers.append(Dense(n_in, n_out, activation=output_activation))
    return layers


def conv_blocks(
    input_shape: Sequence[int],
    channels: Sequence[int],
    activation: str = "relu",
    kernel_size: int = 3,
    pool_size: int = 2,
) -> tuple[list[Layer], int]:
    """Convolutional blocks over one sample's signal (C, L) or image (C, H, W), then Flatten.

    Each entry of ``channels`` adds a ``kernel_size``-wide convolution with that many
    output channels ("same" padding for an odd kernel, ``f = activation``) and, while every
    spatial side is at least ``pool_size``, a ``pool_size``-wide max-pool.

    Returns
    -------
    layers : list of Layer
        The blocks, ending with :class:`~cartoonbrain.layers.Flatten`.
    n_features : int
        Features per sample after Flatten (the ``n_in`` of a following :func:`mlp`).
    """
    shape = tuple(int(n) for n in input_shape)
    if len(shape) not in (2, 3):
        raise ValueError(
            f"convolutional blocks need one sample's shape (C, L) or (C, H, W); got {shape}"
        )
    conv, pool = (Conv2D, MaxPool2D) if len(shape) == 3 else (Conv1D, MaxPool1D)
    layers: list[Layer] = []
    current: tuple[int, ...] = shape
    for n_channels in channels:
        same = kernel_size // 2
        block: list[Layer] = [conv(current[0], n_channels, kernel_size, 1, same, activation)]
        if min(current[1:]) >= pool_size:
            block.append(pool(pool_size))
        for layer in block:
            after = layer.output_shape(current)
            assert after is not None
            current = after
        layers += block
    layers.append(Flatten())
    return layers, math.prod(current)


#: the recurrent layers a builder can name
RECURRENT = {"rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}


def recurrent(
    kind: str,
    sequence_shape: Sequence[int],
    units: int,
    bidirectional: bool = False,
    all_steps: bool = False,
) -> tuple[list[Layer], int]:
    """A recurrent layer over sequences of shape (time, features), then (``all_steps``)
    Flatten of every step's hidden state, as the MNIST-1D paper's GRU; or only the last.

    Returns the layers and the number of features they give to the layers after them:
    ``units`` × (2 if ``bidirectional``) × (time if ``all_steps``).
    """
    from .. import layers as layer_types

    if kind not in RECURRENT:
        raise ValueError(f"recurrent kind must be one of {', '.join(RECURRENT)}; got {kind!r}")
    if len(sequence_shape) != 2:
        raise ValueError(f"sequences must be (time, features); got {tuple(sequence_shape)}")
    time, features = (int(n) for n in sequence_shape)
    cls = getattr(layer_types, RECURRENT[kind])
    stack: list[Layer] = [
        cls(features, units, return_sequences=all_steps, bidirectional=bidirectional)
    ]
    width = units * (2 if bidirectional else 1)
    if all_steps:
        stack.append(Flatten())
        width *= time
    return stack, width


def gpt(
    n_vocab: int, block_size: int, n_layers: int, n_heads: int, d_model: int, dropout: float = 0.0
) -> list[Layer]:
    """A GPT as nanoGPT's: token and position embeddings, ``n_layers`` pre-norm causal
    transformer blocks, a last LayerNorm and the logits per position.

        Embedding(n_vocab, d) → PositionalEmbedding(block_size, d) → n_layers ×
        [x + MHA(LN(x)), x + MLP(LN(x))] → LayerNorm(d) → Dense(d, n_vocab) per time step

    Ids (n, T ≤ block_size) in, logits (n, T, n_vocab) out (no weight tying). The token
    table starts as N(0, 0.02²), as GPT-2's.
    """
    layers: list[Layer] = [Embedding(n_vocab, d_model), PositionalEmbedding(block_size, d_model)]
    for _ in range(n_layers):
        layers += transformer_block(d_model, n_heads, causal=True, dropout=dropout)
    return [*layers, LayerNorm(d_model), Dense(d_model, n_vocab)]
