"""The post's network looked inside: rebuilt from cb.Dense layers, trained by ``fit`` with a
TrainingMonitor, and written up as a training report (``cartoonbrain blog --report DIR``).

:func:`blog_network` holds the weights and data of :func:`.experiment.draw_experiment`;
:func:`blog_report` runs the experiment (printing its lines), trains that network the same
way and hands the records to :func:`cartoonbrain.report.write_report`. Not imported by
``cartoonbrain.blog`` itself, since it needs the whole library.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..diagnostics import TrainingMonitor, diagnose, format_findings
from ..layers import Dense
from ..network.network import Network
from ..optimizers import SGD
from ..report import require_matplotlib, write_report
from ..train import History, TrainingDiverged
from .experiment import draw_experiment, run
from .fused import run_fused
from .post import BLOG_LAYERS

__all__ = ["blog_network", "blog_report"]


def blog_network(
    n_samples: int = 50, seed: int | None = 0, layers: Sequence[tuple[int, int]] = BLOG_LAYERS
) -> tuple[Network, np.ndarray, np.ndarray]:
    """The post's network as a cb.Network, with blog.run's weights and data.

    Draws with :func:`.experiment.draw_experiment` (the weights, layer by layer, then the
    samples, then the labels) and builds ``Dense(n_in, n_out, "sigmoid", bias=False)``
    layers holding exactly those weights; float64, loss ``squared_error`` (½‖y − t‖² per
    sample). Trained with ``SGD(learning_rate)``, ``batch_size=1``, ``shuffle=False``, each
    epoch's ``loss`` is blog.run's: the mean of each sample's loss before its update.

    Returns
    -------
    network, X of shape (n_samples, n_in), T of shape (n_samples, n_out)
    """
    weights, samples, labels = draw_experiment(n_samples, layers, seed)
    X, T = np.hstack(samples).T, np.hstack(labels).T
    dense = [
        Dense(W.shape[1], W.shape[0], activation="sigmoid", init="standard_normal", bias=False)
        for W in weights
    ]
    network = Network(dense, loss="squared_error", seed=seed, dtype="float64")
    for layer, W in zip(dense, weights):
        assert layer.W is not None
        layer.W[...] = W
    return network, X, T


def _fit_monitored(
    network: Network, X: np.ndarray, T: np.ndarray, epochs: int, learning_rate: float
) -> tuple[TrainingMonitor, History | None, TrainingDiverged | None, list[float]]:
    """fit one sample at a time, in order, watched: (monitor, history, error, losses)."""
    monitor = TrainingMonitor(targets=T)  # diagnose checks them against the sigmoid's range
    try:
        history = network.fit(
            X,
            T,
            epochs=epochs,
            batch_size=1,
            shuffle=False,
            optimizer=SGD(learning_rate=learning_rate),
            callbacks=[monitor],
        )
    except TrainingDiverged as exc:
        logs = monitor.records.epoch_logs
        return monitor, None, exc, [float(logs[e]["loss"]) for e in sorted(logs)]
    return monitor, history, None, [float(v) for v in history["loss"]]


#: a probe run of the post's network trains at most this many epochs
PROBE_EPOCHS = 3


def _probe(n_samples: int, seed: int, epochs: int, learning_rate: float) -> Any:
    """``probe(changes) -> score`` for :func:`diagnose`: the post's network trained again
    from the same weights, for at most PROBE_EPOCHS epochs, at the learning rate the
    advice names; the score is its last epoch's loss, inf if it diverged."""

    def probe(changes: dict[str, Any]) -> float:
        rate = changes.get("learning_rate") or learning_rate
        network, X, T = blog_network(n_samples, seed)
        _, _, error, losses = _fit_monitored(network, X, T, min(epochs, PROBE_EPOCHS), rate)
        return float("inf") if error is not None or not losses else losses[-1]

    return probe


def _config(epochs: int, n_samples: int, learning_rate: float, seed: int) -> dict[str, Any]:
    return {
        "experiment": "the blog post's: cartoonbrain blog / blog.run",
        "layers (n_out, n_in)": [list(shape) for shape in BLOG_LAYERS],
        "layer": "Dense(n_in, n_out, activation='sigmoid', bias=False), W ~ N(0, 1)",
        "loss": "squared_error, ½‖y − t‖² per sample",
        "optimizer": SGD(learning_rate=learning_rate).get_config(),
        "epochs": epochs,
        "batch_size": "1 (one sample at a time, in order: shuffle=False)",
        "data": f"{n_samples} samples x ~ N(0, I), labels t ~ N(0, I), drawn after the weights",
        "seed": seed,
    }


def blog_report(
    directory: str | Path,
    epochs: int = 100,
    n_samples: int = 50,
    learning_rate: float = 0.05,
    seed: int | None = 0,
    *,
    log: Callable[[str], object] | None = None,
    readable: bool = False,
) -> tuple[Path, list[float]]:
    """Run the post's experiment and write its training report to ``directory``.

    ``log`` (default ``print``) gets the experiment's ``Epoch e / E; Loss L`` lines, exactly
    as ``cartoonbrain blog`` prints them (from :func:`.fused.run_fused`, or from
    :func:`.experiment.run` with ``readable``), then the diagnostics. The report comes from
    the same maths through :func:`blog_network` and ``fit`` with a TrainingMonitor.

    Returns
    -------
    the report's path, and the per-epoch losses of the network's run (equal to blog.run's
    to rounding)
    """
    require_matplotlib()
    if seed is None:  # one seed for both runs, and for the report
        seed = int(np.random.default_rng().integers(2**31))
    emit = print if log is None else log
    experiment = run if readable else run_fused
    reference = experiment(epochs, n_samples, learning_rate, seed=seed, log=emit)
    network, X, T = blog_network(n_samples, seed)
    monitor, history, error, losses = _fit_monitored(network, X, T, epochs, learning_rate)
    probe = _probe(n_samples, seed, epochs, learning_rate)  # an advised rate, measured
    findings = diagnose(monitor, history, error=error, probe=probe)
    emit(format_findings(findings))
    gap = max((abs(a - b) / abs(b) for a, b in zip(losses, reference) if b), default=0.0)
    notes = [
        "The post's network and data, rebuilt from cb.Dense layers and trained by fit; its "
        f"per-epoch losses agree with blog.run's to a relative {gap:.1e}"
        + (f" (over {len(losses)} of {epochs} epochs)." if len(losses) < epochs else ".")
    ]
    path = write_report(
        directory,
        network,
        history,
        monitor,
        config=_config(epochs, n_samples, learning_rate, seed),
        notes=notes,
        title="The blog post's network",
        error=error,
        findings=findings,
    )
    return path, losses
