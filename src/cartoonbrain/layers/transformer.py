"""The pre-norm transformer block, built from the layers that exist: two residual blocks.

    x ← x + MHA(LN₁(x))                    every position looks at the others (attention)
    x ← x + W₂ gelu(W₁ LN₂(x) + b₁) + b₂   then each position alone (an MLP per time step)

as in GPT-2 and nanoGPT. Each line is a :class:`Residual` (o = x + F(x)), so the backward
pass is Residual's: G_prev = G + (G carried back through F's layers).
"""

from __future__ import annotations

from .attention import MultiHeadAttention
from .base import Layer, _positive_int
from .dense import Dense
from .norm import LayerNorm
from .residual import Residual

__all__ = ["transformer_block"]


def transformer_block(
    d_model: int, n_heads: int, causal: bool = True, expansion: int = 4, dropout: float = 0.0
) -> list[Layer]:
    """The two residual blocks of a pre-norm transformer block on (n, T, d_model).

    Parameters
    ----------
    d_model, n_heads : int
        As :class:`MultiHeadAttention`'s.
    causal : bool, default True
        Whether position t attends to positions ≤ t only (a language model).
    expansion : int, default 4
        The MLP's hidden width is ``expansion · d_model``.
    dropout : float, default 0.0
        The attention weights' dropout.

    Returns
    -------
    list of Layer
        ``[Residual([LayerNorm, MultiHeadAttention]), Residual([LayerNorm, Dense(gelu),
        Dense])]``: put them in a :class:`~cartoonbrain.network.Network` with ``*``.
    """
    hidden = _positive_int("expansion", expansion) * d_model
    return [
        Residual([LayerNorm(d_model), MultiHeadAttention(d_model, n_heads, causal, dropout)]),
        Residual(
            [LayerNorm(d_model), Dense(d_model, hidden, activation="gelu"), Dense(hidden, d_model)]
        ),
    ]
