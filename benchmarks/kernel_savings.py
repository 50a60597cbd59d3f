"""What each accelerator kernel saves against its NumPy code, per call and per element.

cartoonbrain._kernels loads numba only once the time its kernels would have saved reaches
what loading costs (``_kernels.LOAD_COST``); ``_kernels.SAVES`` holds the two figures per
kernel that this script measures: each kernel is reached through the function that uses
it, at a small and a large size, on NumPy's path and numba's (alternating, medians of
several calls), and the saving s(n) = t_numpy(n) − t_numba(n) is fitted as a + b·n from
the two sizes. Also the cost of loading: a fresh process importing numba and running a
first kernel, against one that does not.

    python benchmarks/kernel_savings.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np

import cartoonbrain as cb
from _common import load_line, median
from cartoonbrain import _kernels
from cartoonbrain.activations import ACTIVATIONS, bias_and_activation, softmax
from cartoonbrain.losses import get_loss

SMALL, LARGE = 64, 262_144


def cases(n: int) -> dict[str, Callable[[], object]]:
    """One call of each kernel's caller on arrays of n elements (float32)."""
    rng = np.random.default_rng(0)
    w, g = rng.standard_normal((2, n), dtype=np.float32)
    adam, sgd, rms = cb.Adam(1e-3), cb.SGD(0.1, momentum=0.9), cb.RMSprop(1e-3)
    relu = ACTIVATIONS["relu"]
    a = rng.standard_normal((max(n // 64, 1), 64), dtype=np.float32)
    b = np.zeros(64, np.float32)
    logits = rng.standard_normal((max(n // 10, 1), 10), dtype=np.float32)
    labels = rng.integers(0, 10, len(logits))
    cross_entropy, bce = get_loss("cross_entropy"), get_loss("binary_cross_entropy")
    t = (logits > 0).astype(np.float32)
    return {
        "adam": lambda: adam.step([w], [g]),
        "sgd": lambda: sgd.step([w], [g]),
        "rmsprop": lambda: rms.step([w], [g]),
        "activation_backward": lambda: relu.backward(a, a, a),
        "bias_activation": lambda: bias_and_activation(relu, a.copy(), b),
        "softmax_rows": lambda: softmax(logits),
        "softmax_cross_entropy": lambda: cross_entropy.mean(logits, labels),
        "binary_cross_entropy": lambda: bce.mean(logits, t),
    }


def seconds(call: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - start) / calls


def saving(name: str, n: int, repeat: int) -> float:
    """Median over ``repeat`` alternations of t_numpy − t_numba for one call at size n."""
    call = cases(n)[name]
    calls = max(3, 2_000_000 // max(n, 1_000))
    differences = []
    for _ in range(repeat):
        times = {}
        for path in ("numpy", "numba"):
            previous = _kernels.use(path)
            call()
            times[path] = seconds(call, calls)
            _kernels.use(previous)
        differences.append(times["numpy"] - times["numba"])
    return float(median(differences) or 0.0)


def load_cost(repeat: int) -> float:
    """A fresh process's seconds for importing numba and one first kernel call, beyond a
    process that stays on NumPy (median of ``repeat`` pairs)."""
    code = (
        "import time, numpy as np, cartoonbrain as cb; from cartoonbrain import _kernels\n"
        "w = np.ones(8, np.float32); t = time.perf_counter()\n"
        "for name in ('adam', 'bias_activation', 'softmax_cross_entropy'):\n"
        "    k = _kernels.get(name)\n"
        "cb.Adam(0.1).step([w], [w.copy()]); print(time.perf_counter() - t)\n"
    )
    costs = []
    for _ in range(repeat):
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        costs.append(float(run.stdout.split()[-1]))
    return float(median(costs) or 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    options = parser.parse_args()
    if _kernels.active() != "numba" or _kernels.warm_up(("float32",)) < 0:
        sys.exit("numba is not active here: nothing to measure")
    print(load_line())
    print(f"loading numba and three kernels in a fresh process: {load_cost(3):.3f} s")
    print(f"{'kernel':24} {'per call (µs)':>14} {'per element (ns)':>17}  (in _kernels.SAVES)")
    for name in cases(SMALL):
        small, large = saving(name, SMALL, options.repeat), saving(name, LARGE, options.repeat)
        per_element = max(large - small, 0.0) / (LARGE - SMALL)
        per_call = max(small - per_element * SMALL, 0.0)
        kept = _kernels.SAVES[name]
        print(
            f"{name:24} {per_call * 1e6:14.2f} {per_element * 1e9:17.2f}"
            f"  ({kept[0] * 1e6:.1f}, {kept[1] * 1e9:.2f})"
        )


if __name__ == "__main__":
    main()
