"""Losses: the value L(Y, T) and its gradient ∂L/∂Y with respect to the network's output.

Every loss is the mean over the batch of n samples. ``Y`` is what the last layer gives:
for the two cross-entropy losses it is the last layer's affines (logits, the last Dense
is ``"identity"``), and the softmax or sigmoid is applied inside the loss, where it can
be done exactly::

    squared_error         L = (1/n) Σ_i ½ ‖y_i − t_i‖²          ∂L/∂Y = (Y − T) / n
                          (the post's E = ½ ‖y − t‖², per sample)
    mse                   L = (1/(n k)) Σ_ij (y_ij − t_ij)²       ∂L/∂Y = 2 (Y − T) / (n k)
                          (as PyTorch's MSELoss: the mean over samples and outputs)
    cross_entropy         L = (1/n) Σ_i [logsumexp(z_i) − z_i,t_i]  ∂L/∂Z = (softmax(Z) − T) / n
    binary_cross_entropy  L = mean over entries of [softplus(z) − t z]   ∂L/∂Z = (σ(Z) − T) / N
    mae                   L = (1/(n k)) Σ_ij |y_ij − t_ij|        ∂L/∂Y = sign(Y − T) / (n k)
    huber, poisson        see :class:`~.regression.Huber` and :class:`~.regression.Poisson`

with T one-hot for ``cross_entropy`` (class ids are accepted and used as such) and
``N`` the number of entries of Z for ``binary_cross_entropy``. Both are finite for any
finite logits (logsumexp is taken after subtracting the row maximum, softplus as
``max(z, 0) + log1p(e^−|z|)``).

The cross-entropy losses take ``label_smoothing`` ε as Keras's do (the targets become
T (1 − ε) + ε / k, k the number of classes, or 2 for binary_cross_entropy), Huber its
``delta``; a loss with options is named by its config dict, ``{"name": "huber",
"delta": 2.0}``. One module each: :mod:`.base` (:class:`Loss`, ``LOSSES``,
:func:`register_loss`, :func:`get_loss`), :mod:`.regression`, :mod:`.classification`.
"""

# isort: off
# each registers where it is declared, in this order: LOSSES is squared_error, mse, mae,
# poisson, huber, cross_entropy, binary_cross_entropy, binary_cross_entropy_sum
from .base import LOSSES, Loss, get_loss, loss_config, register_loss
from .regression import Huber, MeanAbsoluteError, MeanSquaredError, Poisson, SquaredError
from .classification import (
    BinaryCrossEntropy,
    CrossEntropy,
    SummedBinaryCrossEntropy,
    token_cross_entropy,
)

# isort: on

__all__ = [
    "LOSSES",
    "BinaryCrossEntropy",
    "CrossEntropy",
    "Huber",
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "Poisson",
    "SquaredError",
    "SummedBinaryCrossEntropy",
    "get_loss",
    "loss_config",
    "register_loss",
    "token_cross_entropy",
]
