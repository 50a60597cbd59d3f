"""Layers, one module each; every built-in layer is registered where it is declared.

Arrays are batch-first: ``O_prev`` has shape ``(n_samples, n_in)`` (or channels-first
``(n_samples, channels, ...)`` for the convolutions), and ``W`` keeps the post's
``(n_out, n_in)``. docs/architecture.md says how to add a layer.
"""

from .base import LAYERS, AffineLayer, Layer, Shape, layer_from_config, register_layer
from .conv import Conv1D, Conv2D, output_size
from .dense import Dense
from .dropout import Dropout
from .flatten import Flatten
from .pool import AvgPool1D, AvgPool2D, MaxPool1D, MaxPool2D

__all__ = [
    "LAYERS",
    "AffineLayer",
    "AvgPool1D",
    "AvgPool2D",
    "Conv1D",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "Layer",
    "MaxPool1D",
    "MaxPool2D",
    "Shape",
    "layer_from_config",
    "output_size",
    "register_layer",
]
