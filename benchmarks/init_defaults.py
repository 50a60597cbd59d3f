"""Which default initialisation reaches PyTorch's accuracy on the same recipe (issue 31).

Two recipes, each over seeds 0 … N−1, cartoonbrain with each candidate initialisation and
PyTorch with its own defaults:

* MNIST-1D's CNN (benchmarks/mnist1d.py: the paper's model and recipe, Adam 1e-2, batch
  100 in order, 8,000 steps, float32);
* mnist5k's MLP 784-256-128-10 ReLU (benchmarks/mlp.py's job A: Adam 1e-3, batch 64,
  30 epochs, float32, shuffled).

The candidates (``init`` of every Conv1D and Dense layer; biases start at 0 unless "+ b"):

    default          He uniform for ReLU layers, Glorot uniform for the linear last one
    lecun_normal     N(0, 1/fan_in) everywhere
    fan_in_uniform   U(±1/√fan_in) everywhere: PyTorch's weights
    ... + b          and U(±1/√fan_in) biases: PyTorch's biases too

    python benchmarks/init_defaults.py [--seeds 3] [--recipes cnn,mlp] [--steps 8000]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import cartoonbrain as cb
from _common import load_line

HERE = Path(__file__).parent
CANDIDATES = ("default", "lecun_normal", "fan_in_uniform", "fan_in_uniform + b")


def _module(name: str) -> Any:
    """A benchmark script as a module (mnist1d.py under another name: the package's)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (dataclasses look their module up)
    spec.loader.exec_module(module)
    return module


def with_init(layers: list[Any], candidate: str) -> list[Any]:
    """The same layers, rebuilt from their configs with the candidate's ``init``."""
    if candidate == "default":
        return layers
    init = candidate.split(" ")[0]
    rebuilt = []
    for layer in layers:
        config = layer.get_config()
        if "init" in config:
            config["init"] = init
        rebuilt.append(cb.layers.layer_from_config(config))
    return rebuilt


def fan_in_biases(net: cb.Network, seed: int) -> None:
    """b ~ U(±1/√fan_in) in every layer with biases (PyTorch's nn.Linear/nn.Conv*)."""
    rng = np.random.default_rng(seed + 1000)
    for layer in net.layers:
        b, W = getattr(layer, "b", None), getattr(layer, "W", None)
        if b is not None and W is not None:
            bound = 1 / np.sqrt(W[0].size)  # fan_in: one output's weights
            b[...] = rng.uniform(-bound, bound, b.shape)


def cnn(candidate: str, seed: int, data: tuple, steps: int, mnist1d: Any) -> float:
    X, y, X_test, y_test = data
    net, shape = mnist1d.cartoonbrain_model("cnn", seed)
    net = cb.Network(
        with_init(net.layers, candidate), loss="cross_entropy", seed=seed, input_shape=shape
    )
    if candidate.endswith("+ b"):
        fan_in_biases(net, seed)
    epochs = steps * mnist1d.BATCH_SIZE // len(X)
    net.fit(
        X.reshape(-1, *shape),
        y,
        epochs=epochs,
        batch_size=mnist1d.BATCH_SIZE,
        learning_rate=mnist1d.LEARNING_RATE,
        shuffle=False,
    )
    return 100 * float(np.mean(net.predict_classes(X_test.reshape(-1, *shape)) == y_test))


def mlp(candidate: str, seed: int, data: dict, mlp_module: Any) -> float:
    base = mlp_module.cb_network(mlp_module.A_SIZES, seed, "float32")
    net = cb.Network(
        with_init(base.layers, candidate), loss="cross_entropy", seed=seed, dtype="float32"
    )
    if candidate.endswith("+ b"):
        fan_in_biases(net, seed)
    net.fit(
        data["X_train"],
        data["y_train"],
        epochs=mlp_module.A_EPOCHS,
        batch_size=mlp_module.A_BATCH_SIZE,
        optimizer=cb.Adam(mlp_module.LEARNING_RATE),
    )
    return 100 * float(np.mean(net.predict_classes(data["X_test"]) == data["y_test"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--recipes", default="cnn,mlp")
    parser.add_argument("--steps", type=int, default=8000, help="the CNN's optimizer steps")
    parser.add_argument("--candidates", default=",".join(CANDIDATES))
    args = parser.parse_args()
    candidates = args.candidates.split(",")
    print(load_line())
    for recipe in args.recipes.split(","):
        start = time.perf_counter()
        results: dict[str, list[float]] = {c: [] for c in [*candidates, "PyTorch"]}
        if recipe == "cnn":
            m = _module("mnist1d")
            data = m.load_mnist1d()
            for seed in range(args.seeds):
                for c in candidates:
                    results[c].append(cnn(c, seed, data, args.steps, m))
                    print(f"  cnn seed {seed} {c}: {results[c][-1]:.1f}", flush=True)
                results["PyTorch"].append(m.run_torch("cnn", data, args.steps, seed, False)[0])
        else:
            m = _module("mlp")
            d = m.load_a_data(None, "float32")
            for seed in range(args.seeds):
                for c in candidates:
                    results[c].append(mlp(c, seed, d, m))
                results["PyTorch"].append(
                    100 * float(np.mean(m.a_torch(d, "float32", seed)["predicted"] == d["y_test"]))
                )
        print(
            f"\n{recipe}: test accuracy (%), seeds 0–{args.seeds - 1} "
            f"({time.perf_counter() - start:.0f} s)"
        )
        for name, values in results.items():
            shown = " ".join(f"{v:5.1f}" for v in values)
            print(f"  {name:<20} mean {statistics.mean(values):5.1f}   ({shown})")
    print(load_line() + " (at the end)")


if __name__ == "__main__":
    sys.exit(main())
