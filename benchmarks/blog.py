"""Benchmark D: the post's experiment as `cartoonbrain blog` runs it, against a transcription.

``cartoonbrain blog`` runs ``blog.run_fused`` (the fused fast path) unless given
``--readable``; that is the path timed against the reference and the speed target
(>= 3x) applies to it. ``blog.run``, the post's own loop (``--readable``), is timed too.

The reference is the post's listing transcribed straight into vectorised NumPy: new arrays
at every step, its helper's two-branch sigmoid vectorised with ``np.where``,
``sigmoid_gradient`` recomputing the sigmoid (twice) from the affines in the backward pass,
the whole gradient list built before the SGD step. It draws its data from
the same generator in the same order, so both must print the same losses.

    python3 dev.py bench blog           # or: .venv/bin/python benchmarks/blog.py --repeats 7

Prints each system's median time over alternating runs, and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from cartoonbrain import blog


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=100)
    args = parser.parse_args()

    runs = {
        "reference": reference_run,
        "cartoonbrain": lambda epochs: blog.run_fused(epochs=epochs, log=lambda line: None),
        "readable": lambda epochs: blog.run(epochs=epochs, log=lambda line: None),
    }
    try:
        import torch  # noqa: F401

        runs["pytorch"] = torch_run
    except ImportError:
        print("(PyTorch is not installed: pip install torch==2.13.0 to compare with it)")
    times: dict[str, list[float]] = {name: [] for name in runs}
    results: dict[str, list[float]] = {}
    for _ in range(args.repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            results[name] = run(epochs=args.epochs)
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(t) for name, t in times.items()}
    cb = medians["cartoonbrain"]
    print(f"post's experiment, {args.epochs} epochs, median of {args.repeats} alternating runs")
    print(f"{'system':<28}{'time (s)':>10}{'× cartoonbrain':>16}{'worst loss diff':>17}")
    labels = {
        "reference": "plain NumPy transcription",
        "cartoonbrain": "blog.run_fused (CLI default)",
        "readable": "blog.run (--readable)",
        "pytorch": "PyTorch (autograd, SGD)",
    }
    for name, seconds in medians.items():
        worst = max(abs(a - b) / abs(a) for a, b in zip(results["reference"], results[name]))
        print(f"{labels[name]:<28}{seconds:>10.3f}{seconds / cb:>16.2f}{worst:>17.1e}")
    print(
        f"speed-up of `cartoonbrain blog` (blog.run_fused) over the plain transcription: "
        f"{medians['reference'] / cb:.2f}x (target >= 3x); losses must agree to 1e-12 relative"
    )


if __name__ == "__main__":
    main()
