"""Benchmark: MNIST-1D's table (Greydanus, "Scaling down deep learning"), cartoonbrain and PyTorch.

The paper reports test accuracies of 32% (logistic regression), 68% (MLP), 94% (CNN) and 91%
(GRU) on
MNIST-1D: the mnist1d package's generator with its default arguments, 4,000 training and
1,000 test series of length 40. Its recipe, used for both libraries here: Adam, learning
rate 1e-2, batches of 100 taken in order (the paper's ``train.py`` does not shuffle;
``--shuffle`` reshuffles every epoch), 8,000 steps (200 epochs of 40 batches), float32,
each library's default initialisation. The models:

    logreg   Dense 40 → 10
    mlp      40 → 100 → 100 → 10, ReLU
    cnn      Conv1D 1→25 k5 s2 p1, 25→25 k3 s2 p1, 25→25 k3 s2 p1 (ReLU), Flatten, 125 → 10
    gru      GRU 1→6, bidirectional, every step's output (40 × 12) flattened, 480 → 10; each
             series is given as a sequence of 40 steps of 1 feature, (N, 40, 1)

    .venv/bin/python benchmarks/mnist1d.py                 # needs torch (pip install torch)
    .venv/bin/python benchmarks/mnist1d.py --seeds 1 --models cnn --shuffle

Each model is trained by cartoonbrain and by PyTorch in turn, in this one process, with
the same data and the same threads (PyTorch's default thread count, NumPy's BLAS as it is
set up), after an untimed warm-up of each. The table gives the test accuracy of each, the
mean over ``--seeds`` initialisations (one seed's accuracy varies by about a point either
way), the training time of each (the median over those runs) and cartoonbrain's time
over PyTorch's.

Targets: accuracy within 1 point of PyTorch's for every model; the CNN no slower; the GRU
at least 88% (the mean of 5 seeds) and no slower than PyTorch's ``nn.GRU``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import cartoonbrain as cb
from cartoonbrain.layers import GRU, Conv1D

PAPER = {"logreg": 32.0, "mlp": 68.0, "cnn": 94.0, "gru": 91.0}
BATCH_SIZE, LEARNING_RATE = 100, 1e-2


def load_mnist1d() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """X_train (4000, 40), y_train, X_test (1000, 40), y_test from the package's generator."""
    # This file is called mnist1d.py too: keep its folder from shadowing the package.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    try:
        from cartoonbrain import datasets
    except ImportError:
        datasets = None
    if datasets is not None:
        ds = datasets.load("mnist1d")
        return ds.X_train, ds.y_train, ds.X_test, ds.y_test
    from mnist1d.data import get_dataset_args, make_dataset  # never its download

    data = make_dataset(get_dataset_args())
    return data["x"], data["y"].astype(np.int64), data["x_test"], data["y_test"].astype(np.int64)


# ---------------------------------------------------------------- cartoonbrain


def cartoonbrain_model(name: str, seed: int) -> tuple[cb.Network, tuple[int, ...]]:
    """The network and the shape each sample is given in."""
    if name == "logreg":
        layers: list[Any] = [cb.Dense(40, 10)]
        shape: tuple[int, ...] = (40,)
    elif name == "mlp":
        layers = [cb.Dense(40, 100, "relu"), cb.Dense(100, 100, "relu"), cb.Dense(100, 10)]
        shape = (40,)
    elif name == "gru":
        layers = [
            GRU(1, 6, return_sequences=True, bidirectional=True),
            cb.Flatten(),
            cb.Dense(480, 10),
        ]
        shape = (40, 1)
    else:
        layers = [
            Conv1D(1, 25, 5, stride=2, padding=1, activation="relu"),
            Conv1D(25, 25, 3, stride=2, padding=1, activation="relu"),
            Conv1D(25, 25, 3, stride=2, padding=1, activation="relu"),
            cb.Flatten(),
            cb.Dense(125, 10),
        ]
        shape = (1, 40)
    net = cb.Network(layers, loss="cross_entropy", seed=seed, input_shape=shape)
    return net, shape


def run_cartoonbrain(
    name: str, data: tuple, steps: int, seed: int, shuffle: bool
) -> tuple[float, float]:
    """(test accuracy in %, training seconds)."""
    X, y, X_test, y_test = data
    net, shape = cartoonbrain_model(name, seed)
    X, X_test = X.reshape(-1, *shape), X_test.reshape(-1, *shape)
    epochs = steps * BATCH_SIZE // len(X)
    start = time.perf_counter()
    net.fit(
        X, y, epochs=epochs, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE, shuffle=shuffle
    )
    seconds = time.perf_counter() - start
    return 100 * float(np.mean(net.predict_classes(X_test) == y_test)), seconds


# ---------------------------------------------------------------- PyTorch


def torch_model(name: str) -> Any:
    import torch
    from torch import nn

    if name == "logreg":
        return nn.Linear(40, 10)
    if name == "mlp":
        return nn.Sequential(
            nn.Linear(40, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 10)
        )

    class GRUBase(nn.Module):  # the paper's model: all 40 steps of both directions, flattened
        def __init__(self) -> None:
            super().__init__()
            self.gru = nn.GRU(1, 6, batch_first=True, bidirectional=True)
            self.linear = nn.Linear(480, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h, _ = self.gru(x.view(x.shape[0], -1, 1))
            return self.linear(h.reshape(h.shape[0], -1))

    if name == "gru":
        return GRUBase()

    class ConvBase(nn.Module):  # the paper's model
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv1d(1, 25, 5, stride=2, padding=1)
            self.conv2 = nn.Conv1d(25, 25, 3, stride=2, padding=1)
            self.conv3 = nn.Conv1d(25, 25, 3, stride=2, padding=1)
            self.linear = nn.Linear(125, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = x.view(-1, 1, x.shape[-1])
            h = self.conv3(self.conv2(self.conv1(x).relu()).relu()).relu()
            return self.linear(h.view(h.shape[0], -1))

    return ConvBase()


def run_torch(name: str, data: tuple, steps: int, seed: int, shuffle: bool) -> tuple[float, float]:
    """(test accuracy in %, training seconds), with the same epochs of batches."""
    import torch

    torch.manual_seed(seed)
    X, y, X_test, y_test = (torch.from_numpy(np.array(a)) for a in data)  # writable copies
    X, X_test = X.float(), X_test.float()
    model = torch_model(name)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    epochs = steps * BATCH_SIZE // len(X)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(X), generator=generator) if shuffle else torch.arange(len(X))
        for i in range(0, len(X), BATCH_SIZE):
            batch = order[i : i + BATCH_SIZE]
            loss = loss_fn(model(X[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        accuracy = (model(X_test).argmax(1) == y_test).float().mean().item()
    return 100 * accuracy, seconds


# ---------------------------------------------------------------- the table

Runner = Callable[[str, tuple, int, int, bool], tuple[float, float]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="logreg,mlp,cnn,gru", help="comma-separated")
    parser.add_argument("--steps", type=int, default=8000, help="optimizer steps (8000)")
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0 … N−1 per model (5)")
    parser.add_argument("--shuffle", action="store_true", help="reshuffle every epoch")
    args = parser.parse_args()
    import torch

    data = load_mnist1d()
    runners: dict[str, Runner] = {"cartoonbrain": run_cartoonbrain, "torch": run_torch}
    print(
        f"MNIST-1D, {len(data[0])} train / {len(data[2])} test; Adam {LEARNING_RATE:g}, "
        f"batch {BATCH_SIZE}{' shuffled' if args.shuffle else ' in order'}, {args.steps} steps, "
        f"float32; mean of {args.seeds} seed(s); "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads)"
    )
    header = (
        f"{'model':<8}{'paper':>7}{'cb acc':>9}{'torch acc':>11}"
        f"{'cb time':>10}{'torch time':>12}{'cb/torch':>10}"
    )
    print(header)
    for name in args.models.split(","):
        accuracy: dict[str, list[float]] = {system: [] for system in runners}
        seconds: dict[str, list[float]] = {system: [] for system in runners}
        for run in runners.values():  # untimed: first calls, thread pools, caches
            run(name, data, 100, 0, args.shuffle)
        for seed in range(args.seeds):
            for system, run in runners.items():  # alternating, so both meet the same load
                acc, sec = run(name, data, args.steps, seed, args.shuffle)
                accuracy[system].append(acc)
                seconds[system].append(sec)
        acc_cb, acc_torch = (statistics.mean(accuracy[s]) for s in runners)
        time_cb, time_torch = (statistics.median(seconds[s]) for s in runners)
        print(
            f"{name:<8}{PAPER[name]:>6.0f}%{acc_cb:>8.1f}%{acc_torch:>10.1f}%"
            f"{time_cb:>9.2f}s{time_torch:>11.2f}s{time_cb / time_torch:>10.2f}"
        )


if __name__ == "__main__":
    main()
