"""Sampling text from a language model, one token at a time, with the context cached.

A causal network (Embedding, PositionalEmbedding, transformer blocks, LayerNorm, Dense per
time step) gives at position t the logits of token t + 1. Running the whole context again
for every new token costs a pass over t positions per token; instead each layer keeps
what it needs of the positions already seen (attention its keys and values, positions
their count) and takes only the new ones, so that one token is one call per layer:

    z = network(x_t | cache)        p = softmax(z / temperature), top k kept
    x_{t+1} ~ p                     (the cache now holds t + 1 positions)

When the context reaches the positional table's length, it restarts from its last half
(one pass over those positions), so any length can be generated.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..activations import softmax
from ..layers import Dense, Dropout, Embedding, Layer, LayerNorm, PositionalEmbedding, Residual
from ..layers.base import Array

__all__ = ["generate", "infer_cached", "next_token"]

#: the layers that treat every position alone: their inference needs no cache
_PER_POSITION = (Dense, Dropout, Embedding, LayerNorm)


def infer_cached(layer: Layer, x: Array, cache: dict[Any, Any]) -> Array:
    """The layer's outputs at the new positions ``x`` (n, m, …), given ``cache``: the state
    it left there for the positions before (filled here; an empty dict at the start)."""
    if isinstance(layer, Residual):
        f = x
        for j, inner in enumerate(layer.layers):
            f = infer_cached(inner, f, cache.setdefault(j, {}))
        return x + f
    if isinstance(layer, _PER_POSITION):
        return layer.infer(x.copy())
    step = getattr(layer, "infer_cached", None)
    if step is None:
        raise ValueError(f"{layer!r} has no cached inference; generate needs a causal network")
    return step(x, cache)


def next_token(
    logits: Array, temperature: float, top_k: int | None, rng: np.random.Generator
) -> Array:
    """One id per row of ``logits`` (n, n_vocab), drawn from softmax(logits / temperature)
    with all but the ``top_k`` largest logits removed (None keeps them all)."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    if top_k is not None and top_k < z.shape[-1]:
        kth = np.partition(z, -top_k, axis=-1)[:, -top_k, None]
        z = np.where(z < kth, -np.inf, z)
    p = softmax(z)
    return np.array([rng.choice(len(row), p=row) for row in p])


def generate(
    net: Any,
    prompt: Array,
    n_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    rng: np.random.Generator | None = None,
) -> Array:
    """``prompt`` (n, t₀) of ids followed by ``n_tokens`` sampled ids: shape (n, t₀ + n_tokens).

    Parameters
    ----------
    net : Network
        A causal language model whose layers are Embedding, PositionalEmbedding, Residual
        blocks of LayerNorm, MultiHeadAttention(causal=True) and Dense, LayerNorm, Dense.
    temperature : float, default 1.0
        Below 1 sharpens the distribution (safer text), above 1 flattens it.
    top_k : int or None
        Sample among the k most likely tokens only.
    rng : Generator, optional
        The draws; default ``np.random.default_rng()``.
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be positive; got {temperature!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"top_k must be a positive integer or None; got {top_k!r}")
    rng = np.random.default_rng() if rng is None else rng
    max_len = min(
        (layer.max_len for layer in net.layers if isinstance(layer, PositionalEmbedding)),
        default=None,
    )
    ids = np.asarray(prompt, dtype=np.int64)
    if ids.ndim != 2 or ids.shape[1] < 1:
        raise ValueError(f"prompt must be ids of shape (n, t) with t ≥ 1; got {ids.shape}")
    context = ids[:, -max_len:] if max_len else ids
    caches: list[dict[Any, Any]] = [{} for _ in net.layers]
    new = context
    out = [ids]
    for _ in range(n_tokens):
        o = new.astype(net.dtype)
        for layer, cache in zip(net.layers, caches):
            o = infer_cached(layer, o, cache)
        token = next_token(o[:, -1], temperature, top_k, rng)[:, None]
        out.append(token)
        context = np.concatenate([context, token], axis=1)
        if max_len and context.shape[1] > max_len:  # the table is full: restart from half
            context = context[:, -(max_len // 2 + 1) :]
            caches = [{} for _ in net.layers]
            new = context
        else:
            new = token
    return np.concatenate(out, axis=1)
