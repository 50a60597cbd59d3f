"""Benchmark D: the post's experiment as `cartoonbrain blog` runs it, against a transcription.

``cartoonbrain blog`` runs ``blog.run_fused`` (the fused fast path) unless given
``--readable``; that is the path timed against the reference and the speed target
(>= 3x) applies to it. With numba installed (``cartoonbrain[fast]``) run_fused can hand
each epoch to the accelerator's compiled loop, and does where that pays for loading numba
(from 15,000 sample steps, or once loaded); else it runs its NumPy steps. Both are timed
("compiled epochs" and "NumPy only"), and in fresh processes also what the CLI chooses
for the run (the post's 100 epochs of 50 samples: the NumPy steps). ``blog.run``, the
post's own loop, is timed too.

Two ways of timing: in one process (alternating runs after a warm-up, median and fastest),
and fresh processes (a new interpreter per run: what a user of ``cartoonbrain blog`` waits
for, with numba's once-per-process import and kernel loading).

The reference is the post's listing transcribed straight into vectorised NumPy: new arrays
at every step, its helper's two-branch sigmoid vectorised with ``np.where``,
``sigmoid_gradient`` recomputing the sigmoid (twice) from the affines in the backward pass,
the whole gradient list built before the SGD step. It draws its data from
the same generator in the same order, so both must print the same losses.

    python3 dev.py bench blog           # or: .venv/bin/python benchmarks/blog.py --repeats 7
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np

from _common import load_line, machine_lines, rotated, table
from cartoonbrain import _kernels, blog


def reference_sigmoid(x):
    """The post's helper ``conv_utils.stable_sigmoid`` with its loop vectorised.

    The helper takes, element by element, z = e^(−x) and 1 / (1 + z) where x ≥ 0, and
    z = e^x and z / (1 + z) elsewhere; ``np.where`` picks the same branches.
    """
    positive = x >= 0
    z = np.exp(np.where(positive, -x, x))
    return np.where(positive, 1 / (1 + z), z / (1 + z))


def reference_sigmoid_gradient(x):
    return reference_sigmoid(x) * (1 - reference_sigmoid(x))


def reference_run(epochs=100, n_samples=50, eps=0.05, layers=blog.BLOG_LAYERS, seed=0):
    """The post's code, line for line, with a vectorised sigmoid and a seeded generator."""
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((w[0], w[1])) for w in layers]
    samples = [rng.standard_normal((layers[0][1], 1)) for _ in range(n_samples)]
    labels = [rng.standard_normal((layers[-1][0], 1)) for _ in range(n_samples)]

    def forward(x, y, weights, f):
        affines = []
        transforms = [x]
        a = x
        for w in range(len(weights)):
            a = np.matmul(weights[w], a)
            affines.append(a)
            a = f(a)
            transforms.append(a)
        return affines, transforms

    def backward(x, y, error, weights, affines, transforms, grad_f):
        grads = []
        g = error
        for n in range(len(weights) - 1, -1, -1):
            g = g * grad_f(affines[n])
            grads.append(np.matmul(g, transforms[n].T))
            g = np.matmul(weights[n].T, g)
        return list(reversed(grads))

    def sgd(weights, grad_weights, eps):
        for n in range(len(weights)):
            weights[n] = weights[n] - (grad_weights[n] * eps)
        return weights

    def mse(y, pred):
        return np.sum(np.power(y - pred, 2)) / 2

    losses = []
    for _ in range(epochs):
        epoch_loss = 0.0
        for s in range(n_samples):
            feature, label = samples[s], labels[s]
            a_s, h_s = forward(feature, label, weights, reference_sigmoid)
            pred = h_s[-1]
            epoch_loss += mse(label, pred)
            grads = backward(
                feature, label, pred - label, weights, a_s, h_s, reference_sigmoid_gradient
            )
            weights = sgd(weights, grads, eps)
        losses.append(float(epoch_loss / n_samples))
    return losses


def torch_run(epochs=100, n_samples=50, eps=0.05, layers=blog.BLOG_LAYERS, seed=0):
    """The same experiment in PyTorch (float64, autograd, torch.optim.SGD), same data."""
    import torch

    rng = np.random.default_rng(seed)
    weights = [torch.tensor(rng.standard_normal(shape), requires_grad=True) for shape in layers]
    samples = [torch.tensor(rng.standard_normal((layers[0][1], 1))) for _ in range(n_samples)]
    labels = [torch.tensor(rng.standard_normal((layers[-1][0], 1))) for _ in range(n_samples)]
    optimizer = torch.optim.SGD(weights, lr=eps)
    losses = []
    for _ in range(epochs):
        epoch_loss = 0.0
        for x, t in zip(samples, labels):
            o = x
            for W in weights:
                o = torch.sigmoid(W @ o)
            loss = ((t - o) ** 2).sum() / 2
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            epoch_loss += loss.item()
        losses.append(epoch_loss / n_samples)
    return losses


def cb_run(accelerator: str, compiled: bool | None) -> Callable[..., list[float]]:
    """``blog.run_fused`` (what ``cartoonbrain blog`` runs) with the accelerator given,
    its epochs compiled or not (None: as the CLI chooses, where it pays)."""

    def run(epochs: int = 100) -> list[float]:
        previous = _kernels.use(accelerator)
        try:
            return blog.run_fused(epochs=epochs, log=lambda line: None, compiled=compiled)
        finally:
            _kernels.use(previous)

    return run


RUNS: dict[str, Callable[..., list[float]]] = {
    "reference": reference_run,
    "cartoonbrain": cb_run(_kernels.active(), True),  # numba where it is installed
    "cb_numpy": cb_run("numpy", False),
    "cli": cb_run(_kernels.active(), None),  # fresh processes only: what the CLI runs
    "readable": lambda epochs=100: blog.run(epochs=epochs, log=lambda line: None),
    "pytorch": torch_run,
}
LABELS = {
    "reference": "plain NumPy transcription",
    "cartoonbrain": f"blog.run_fused, {_kernels.active()} (compiled epochs)",
    "cb_numpy": "blog.run_fused, NumPy only",
    "cli": "cartoonbrain blog (run_fused, as it chooses)",
    "readable": "blog.run (--readable)",
    "pytorch": "PyTorch (autograd, SGD)",
}


def in_process(systems: list[str], epochs: int, repeats: int) -> None:
    """Alternating runs in this process, after one untimed run of each (numba's import
    and kernel loading, PyTorch's first-call set-up): median and fastest of ``repeats``."""
    results = {name: RUNS[name](epochs=epochs) for name in systems}  # warm-up
    times: dict[str, list[float]] = {name: [] for name in systems}
    for r in range(repeats):
        for name in rotated(systems, r):
            start = time.perf_counter()
            results[name] = RUNS[name](epochs=epochs)
            times[name].append(time.perf_counter() - start)
    ref = statistics.median(times["reference"]), min(times["reference"])
    print(f"1. In one process: {epochs} epochs, {repeats} alternating runs after a warm-up")
    rows = []
    for name in systems:
        med, fast = statistics.median(times[name]), min(times[name])
        worst = max(abs(a - b) / abs(a) for a, b in zip(results["reference"], results[name]))
        rows.append(
            [
                LABELS[name],
                f"{med:.3f}",
                f"{fast:.3f}",
                f"{ref[0] / med:.2f}×",
                f"{ref[1] / fast:.2f}×",
                f"{worst:.1e}",
            ]
        )
    headers = [
        "system",
        "median (s)",
        "fastest (s)",
        "speed-up (median)",
        "(fastest)",
        "worst loss diff",
    ]
    print(table(headers, rows))
    print(
        "speed-up: the plain transcription's time / the system's (target ≥ 3× for "
        "run_fused, which the CLI runs: compiled epochs where they pay, else NumPy's)\n"
    )


def fresh_processes(systems: list[str], epochs: int, repeats: int) -> None:
    """Wall time of a new Python process that runs the experiment once (``--once``):
    interpreter start, imports, numba's import and kernel loading included."""
    times: dict[str, list[float]] = {name: [] for name in systems}
    for r in range(repeats):
        for name in rotated(systems, r):
            command = [sys.executable, __file__, "--once", name, "--epochs", str(epochs)]
            start = time.perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - start)
    print(f"2. Fresh processes: one run of {epochs} epochs each, fastest of {repeats} (wall time)")
    ref = min(times["reference"])
    rows = [[LABELS[n], f"{min(times[n]):.3f}", f"{ref / min(times[n]):.2f}×"] for n in systems]
    print(table(["system", "fastest (s)", "speed-up"], rows) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--fresh", type=int, default=5, help="fresh-process runs (0: none)")
    parser.add_argument("--once", choices=sorted(RUNS), help="internal: one run, then exit")
    args = parser.parse_args()
    if args.once:
        RUNS[args.once](epochs=args.epochs)
        return
    systems = [name for name in RUNS if name != "pytorch" or importlib.util.find_spec("torch")]
    if "pytorch" not in systems:
        print("(PyTorch is not installed: pip install torch==2.13.0 to compare with it)")
    print("The post's experiment (benchmarks/blog.py)")
    print("\n".join(machine_lines()), end="\n\n")
    # in one process the CLI's choice would follow whatever loaded the kernel before it
    in_process([s for s in systems if s != "cli"], args.epochs, args.repeats)
    if args.fresh:
        fresh_processes([s for s in systems if s != "readable"], args.epochs, args.fresh)
    print(load_line() + " (at the end)")


if __name__ == "__main__":
    main()
