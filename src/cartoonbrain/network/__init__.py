"""The network: the Network class and what it needs to be built and used.

network.py        Network: layers, a loss, one flat parameter buffer, the post's
                  forward and backward passes
prediction.py     using a network on data (predict, evaluate, predict_classes)
architecture.py   the checks made when a network is built (each layer fits the next)
summary.py        the ``summary()`` table
builders.py       the one MLP builder, convolutional and recurrent blocks
fused_predict.py  the accelerator's one-call predict for a few rows of Dense layers
"""

from __future__ import annotations

from .network import Network, NonFinitePrediction, as_dtype, load, save

__all__ = ["Network", "NonFinitePrediction", "as_dtype", "load", "save"]
