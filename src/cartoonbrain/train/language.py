"""Training a language model on random windows of a text: nanoGPT's loop.

    for each step:   X, Y = random_windows(train, T, B)      (Y: X shifted by one)
                     L = token_cross_entropy(network(X), Y)   (every position predicts)
                     backward(∂L/∂z);  lr = schedule(step);  optimizer step (clipped)

and every ``eval_every`` steps the mean loss over fixed validation windows. The schedule
is nanoGPT's: a linear warm-up to ``learning_rate``, then a cosine down to ``min_lr``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..data.text import random_windows
from ..losses import token_cross_entropy
from ..optimizers import AdamW, Optimizer

__all__ = ["evaluate_windows", "fit_language_model", "warmup_cosine"]


def warmup_cosine(
    step: int, learning_rate: float, warmup: int, decay_steps: int, min_lr: float
) -> float:
    """lr(s) = learning_rate · (s + 1) / warmup for s < warmup; then
    min_lr + ½ (1 + cos(π r)) (learning_rate − min_lr), r = (s − warmup) / (decay − warmup);
    min_lr after decay_steps (nanoGPT's ``get_lr``)."""
    if step < warmup:
        return learning_rate * (step + 1) / warmup
    if step > decay_steps:
        return min_lr
    ratio = (step - warmup) / max(1, decay_steps - warmup)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (learning_rate - min_lr)


def evaluate_windows(net: Any, windows: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """The mean token cross-entropy over ``windows`` [(X, Y), ...], no dropout."""
    total = 0.0
    for X, Y in windows:
        o = X.astype(net.dtype)
        for layer in net.layers:
            o = layer.infer(o)
        total += token_cross_entropy(o, Y)[0]
    return total / len(windows)


def fit_language_model(
    net: Any,
    train_ids: np.ndarray,
    validation_windows: list[tuple[np.ndarray, np.ndarray]],
    *,
    block_size: int,
    batch_size: int,
    iterations: int,
    learning_rate: float = 1e-3,
    min_lr: float = 1e-4,
    warmup: int = 100,
    optimizer: Optimizer | None = None,
    eval_every: int = 250,
    rng: np.random.Generator | None = None,
    batches: Iterator[tuple[np.ndarray, np.ndarray]] | None = None,
    log: Callable[[str], None] | None = None,
) -> list[dict[str, float]]:
    """Train ``net`` (ids (n, T) → logits (n, T, n_vocab)) on random windows of ``train_ids``.

    ``optimizer`` defaults to nanoGPT's AdamW(β₂ = 0.99, weight decay 0.1, gradients
    clipped to norm 1). Each step draws ``random_windows(train_ids, block_size,
    batch_size, rng)``, unless ``batches`` gives the (X, Y) of every step (a benchmark
    handing two systems the same windows). Returns one record per evaluation: ``{"step", "val_loss",
    "train_loss", "seconds", "cpu_seconds"}`` (train_loss: the mean of the steps since the
    last one; seconds and cpu_seconds: the training's wall-clock and CPU time so far,
    evaluations excluded).
    """
    rng = np.random.default_rng(0) if rng is None else rng
    if optimizer is None:
        optimizer = AdamW(learning_rate, beta_2=0.99, weight_decay=0.1, clip_norm=1.0)
    records: list[dict[str, float]] = []
    seconds, cpu_seconds, losses = 0.0, 0.0, list[float]()
    for step in range(iterations + 1):
        if step % eval_every == 0 or step == iterations:
            val = evaluate_windows(net, validation_windows)
            train = float(np.mean(losses)) if losses else math.nan
            records.append(
                {
                    "step": step,
                    "val_loss": val,
                    "train_loss": train,
                    "seconds": seconds,
                    "cpu_seconds": cpu_seconds,
                }
            )
            if log is not None:
                log(f"step {step}: train {train:.4f}  val {val:.4f}  ({seconds:.1f} s)")
            losses = []
        if step == iterations:
            break
        start, cpu_start = time.perf_counter(), time.process_time()
        if batches is None:
            X, Y = random_windows(train_ids, block_size, batch_size, rng)
        else:
            X, Y = next(batches)
        value, g = token_cross_entropy(net.forward(X.astype(net.dtype), training=True), Y)
        net.backward(g)
        optimizer.learning_rate = warmup_cosine(step, learning_rate, warmup, iterations, min_lr)
        optimizer.step([net.flat_parameters], [net.flat_gradients])
        seconds += time.perf_counter() - start
        cpu_seconds += time.process_time() - cpu_start
        losses.append(value)
    return records
