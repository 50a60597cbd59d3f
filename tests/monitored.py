"""Training runs watched by a TrainingMonitor, shared by the diagnostics and report tests."""

from __future__ import annotations

import numpy as np

import cartoonbrain as cb
from cartoonbrain.diagnostics import TrainingMonitor


def fit_monitored(net, X, y, targets=None, **kwargs):
    """fit with a TrainingMonitor; (monitor, history, error) with error the TrainingDiverged."""
    monitor = TrainingMonitor(every=kwargs.pop("every", None), targets=targets)
    try:
        history = net.fit(X, y, callbacks=[monitor], **kwargs)
    except cb.TrainingDiverged as exc:
        return monitor, None, exc
    return monitor, history, None


def regression_data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 8))
    return X, X @ rng.standard_normal((8, 1))


def relu_net(depth=4, width=32, seed=0):
    layers = [cb.Dense(8, width, activation="relu")]
    layers += [cb.Dense(width, width, activation="relu") for _ in range(depth - 1)]
    return cb.Network([*layers, cb.Dense(width, 1)], loss="mse", seed=seed, dtype="float64")
