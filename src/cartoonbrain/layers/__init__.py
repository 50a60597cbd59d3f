"""Layers, one module each; every built-in layer is registered where it is declared.

Arrays are batch-first: ``O_prev`` has shape ``(n_samples, n_in)`` (or channels-first
``(n_samples, channels, ...)`` for the convolutions), and ``W`` keeps the post's
``(n_out, n_in)``. docs/architecture.md says how to add a layer.
"""

from .attention import MultiHeadAttention
from .base import LAYERS, AffineLayer, Layer, Shape, layer_from_config, register_layer
from .conv import Conv1D, Conv2D, output_size
from .dense import Dense
from .dropout import Dropout
from .embedding import Embedding, PositionalEmbedding
from .flatten import Flatten
from .gru import GRU
from .lstm import LSTM
from .norm import BatchNorm, LayerNorm
from .pool import AvgPool1D, AvgPool2D, MaxPool1D, MaxPool2D
from .recurrent import SimpleRNN, from_torch
from .residual import Residual
from .state import layer_states, load_layer_states
from .transformer import transformer_block

__all__ = [
    "GRU",
    "LAYERS",
    "LSTM",
    "AffineLayer",
    "AvgPool1D",
    "AvgPool2D",
    "BatchNorm",
    "Conv1D",
    "Conv2D",
    "Dense",
    "Dropout",
    "Embedding",
    "Flatten",
    "Layer",
    "LayerNorm",
    "MaxPool1D",
    "MaxPool2D",
    "MultiHeadAttention",
    "PositionalEmbedding",
    "Residual",
    "Shape",
    "SimpleRNN",
    "from_torch",
    "layer_from_config",
    "layer_states",
    "load_layer_states",
    "output_size",
    "register_layer",
    "transformer_block",
]
