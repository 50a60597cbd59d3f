"""cartoonbrain: a small, fast, dependable neural-network library in pure NumPy.

It grows out of a blog post that derives backpropagation and codes it in NumPy; the
post's names are kept throughout, so each equation can be found in the code.

Glossary (docs/backprop.md derives every line)
----------------------------------------------
x, o_0      the input                      W_l   layer l's weights, shape (n_out, n_in)
a_l         the affines,  a_l = W_l o_{l-1} (+ b_l)
o_l         the transforms, o_l = f(a_l); f is the layer's *activation* (a function)
y = o_L     the prediction;  t the target
g           the error carried backward, ∂L/∂o_l, then ∂L/∂a_l after g ← g ⊙ f'(a_l)

Quick start
-----------
>>> import cartoonbrain as cb
>>> net = cb.Network([cb.Dense(64, 32, activation="relu"), cb.Dense(32, 10)],
...                  loss="cross_entropy", seed=0)
"""

from . import _moved, blog
from ._version import __version__
from .activations import (
    ACTIVATIONS,
    Activation,
    register_activation,
    relu,
    sigmoid_gradient,
    softmax,
    stable_sigmoid,
)
from .data import datasets
from .data.preprocessing import Preprocessor, TargetEncoder
from .diagnostics import TrainingMonitor, diagnose
from .diagnostics.gradcheck import GradientCheckError, gradcheck, gradient_errors
from .io import ModelFileError
from .layers import (
    GRU,
    LSTM,
    AvgPool1D,
    AvgPool2D,
    BatchNorm,
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
    MultiHeadAttention,
    PositionalEmbedding,
    Residual,
    SimpleRNN,
    register_layer,
    transformer_block,
)
from .losses import LOSSES, Loss, get_loss, register_loss
from .network import Network, load, save
from .optimizers import (
    SGD,
    Adam,
    AdamW,
    CosineDecay,
    ExponentialDecay,
    Optimizer,
    RMSprop,
    StepDecay,
    get_optimizer,
    register_optimizer,
)
from .train import (
    Callback,
    CSVLogger,
    EarlyStopping,
    History,
    LambdaCallback,
    ModelCheckpoint,
    Monitor,
    ReduceLROnPlateau,
    TerminateOnNaN,
    TrainingDiverged,
)

_moved.install()  # the module paths of 0.1.0, served from their new places

__all__ = [
    "ACTIVATIONS",
    "GRU",
    "LOSSES",
    "LSTM",
    "SGD",
    "Activation",
    "Adam",
    "AdamW",
    "AvgPool1D",
    "AvgPool2D",
    "BatchNorm",
    "CSVLogger",
    "Callback",
    "Conv1D",
    "Conv2D",
    "CosineDecay",
    "Dense",
    "Dropout",
    "EarlyStopping",
    "Embedding",
    "ExponentialDecay",
    "Flatten",
    "GradientCheckError",
    "History",
    "LambdaCallback",
    "Layer",
    "LayerNorm",
    "Loss",
    "MaxPool1D",
    "MaxPool2D",
    "ModelCheckpoint",
    "ModelFileError",
    "Monitor",
    "MultiHeadAttention",
    "Network",
    "Optimizer",
    "PositionalEmbedding",
    "Preprocessor",
    "RMSprop",
    "ReduceLROnPlateau",
    "Residual",
    "SimpleRNN",
    "StepDecay",
    "TargetEncoder",
    "TerminateOnNaN",
    "TrainingDiverged",
    "TrainingMonitor",
    "__version__",
    "blog",
    "datasets",
    "diagnose",
    "get_loss",
    "get_optimizer",
    "gradcheck",
    "gradient_errors",
    "load",
    "register_activation",
    "register_layer",
    "register_loss",
    "register_optimizer",
    "relu",
    "save",
    "sigmoid_gradient",
    "softmax",
    "stable_sigmoid",
    "transformer_block",
]
