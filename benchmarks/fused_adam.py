"""The compiled-helper proposal, measured: a one-pass Adam kernel (numba) in place of
cartoonbrain's NumPy Adam, with the same results bit for bit.

cartoonbrain's engine is NumPy only, and NumPy's Adam is 12 passes over each array (one
ufunc call per operation): job A's 235,146 parameters take about 300 µs per step, more
than half the step's matrix products. The performance issue allows a compiled helper only
as a proposal with its measured gain; this script is that measurement. It does not
change cartoonbrain: it subclasses ``cb.Adam`` here, in the benchmark, and overrides the
one method that updates an array.

    python3 dev.py bench fused_adam            # installs PyTorch and numba into .venv
    .venv/bin/python benchmarks/fused_adam.py --repeats 5

It prints, in one run:
1. agreement: 300 steps of both optimizers (float32 and float64, with and without weight
   decay), and a whole ``fit`` on digits: are parameters and state bit-identical?
2. one step at job A's and job B's parameter counts, NumPy against the kernel;
3. job A (as ``mlp.py`` runs it: fresh processes, systems alternating, medians) for
   cartoonbrain, cartoonbrain with the kernel, and PyTorch, against the ≤ 0.5× target;
4. job B's fraction of sgemm at batch 32 / 256 / 1024 for the same three.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
import tempfile
import traceback
from typing import Any

import numpy as np

import mlp
from _common import call_seconds, fmt, load_line, machine_lines, median, ratio, rotated, table

SYSTEMS = ("cartoonbrain", "fused", "torch")
NAMES = {"cartoonbrain": "cartoonbrain", "fused": "cartoonbrain + kernel", "torch": "PyTorch"}
PARAMETER_COUNTS = {"A": 235_146, "B": 1_863_690}  # 784-256-128-10 and 784-1024-1024-10


# ---------------------------------------------------------------------- the kernel
def make_kernel() -> Any:
    """Compile the one-pass Adam update (numba, IEEE arithmetic: no fastmath, no FMA)."""
    import numba

    @numba.njit(nogil=True, boundscheck=False, error_model="numpy")
    def adam_update(w, d, m, v, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, eps, step):
        # the same operations, in the same order, as cartoonbrain.optimizers.Adam._adam
        for i in range(w.size):
            mi = m[i] * beta_1 + d[i] * one_minus_beta_1
            vi = v[i] * beta_2 + (d[i] * d[i]) * one_minus_beta_2
            m[i] = mi
            v[i] = vi
            w[i] = w[i] - (mi / (np.sqrt(vi) + eps)) * step

    return adam_update


def fused_adam_class(kernel: Any) -> type:
    """``cb.Adam`` whose per-array update is the compiled kernel (same state, same maths)."""
    import cartoonbrain as cb

    class FusedAdam(cb.Adam):
        def _adam(self, i: int, w: Any, d: Any, learning_rate: float) -> None:
            m, v = self._state["m"][i], self._state["v"][i]
            if not all(a.flags.c_contiguous for a in (w, d, m, v)):
                return super()._adam(i, w, d, learning_rate)
            t = self.iterations + 1
            root_c2 = math.sqrt(1.0 - self.beta_2**t)
            f = w.dtype.type  # NumPy casts the Python floats to the array's dtype: so do we
            kernel(
                w.reshape(-1),
                d.reshape(-1),
                m.reshape(-1),
                v.reshape(-1),
                f(self.beta_1),
                f(1.0 - self.beta_1),
                f(self.beta_2),
                f(1.0 - self.beta_2),
                f(self.epsilon * root_c2),
                f(learning_rate * root_c2 / (1.0 - self.beta_1**t)),
            )
            return None

    return FusedAdam


def warm_up(kernel: Any) -> None:
    """Compile for float32 and float64 now, so that no timed call pays for it."""
    for dtype in (np.float32, np.float64):
        a = [np.zeros(4, dtype) for _ in range(4)]
        kernel(*a, *(dtype(x) for x in (0.9, 0.1, 0.999, 0.001, 1e-8, 1e-3)))


# ---------------------------------------------------------------------- 1. agreement
def agreement(fused: type) -> list[list[str]]:
    import cartoonbrain as cb

    rows = []
    for dtype in ("float32", "float64"):
        for weight_decay in (0.0, 1e-2):
            rng = np.random.default_rng(0)
            shapes = [(256, 784), (256,), (10, 256)]
            w0 = [rng.standard_normal(s).astype(dtype) for s in shapes]
            a, b = [w.copy() for w in w0], [w.copy() for w in w0]
            opt_a = cb.Adam(1e-3, weight_decay=weight_decay)
            opt_b = fused(1e-3, weight_decay=weight_decay)
            for _ in range(300):
                grads = [(rng.standard_normal(s) * 1e-2).astype(dtype) for s in shapes]
                opt_a.step(a, grads)
                opt_b.step(b, grads)
            same_w = all(np.array_equal(x, y) for x, y in zip(a, b))
            sa, sb = opt_a.state_dict(), opt_b.state_dict()
            same_state = all(np.array_equal(sa[k], sb[k]) for k in sa)
            rows.append(
                [
                    f"300 steps, {dtype}, weight_decay {weight_decay:g}",
                    "yes" if same_w and same_state else "NO",
                ]
            )
    from cartoonbrain import datasets

    digits = datasets.load("digits")
    X, y = digits.X_train, digits.y_train
    nets = []
    for optimizer in (cb.Adam(5e-3), fused(5e-3)):
        layers = [cb.Dense(64, 64, activation="relu"), cb.Dense(64, 10)]
        net = cb.Network(layers, loss="cross_entropy", seed=0)
        net.fit(X, y, epochs=5, batch_size=32, optimizer=optimizer)
        nets.append(net.flat_parameters)
    rows.append(["fit on digits, 5 epochs", "yes" if np.array_equal(*nets) else "NO"])
    return rows


# ---------------------------------------------------------------------- 2. one step
def _stepper(optimizer: Any, w: np.ndarray, g: np.ndarray) -> Any:
    return lambda: optimizer.step([w], [g])


def step_times(fused: type, repeats: int) -> list[list[str]]:
    import cartoonbrain as cb

    rows = []
    for job, n in PARAMETER_COUNTS.items():
        rng = np.random.default_rng(0)
        arrays = {name: rng.standard_normal(n).astype(np.float32) for name in ("numpy", "fused")}
        g = (rng.standard_normal(n) * 1e-2).astype(np.float32)
        opts = {"numpy": cb.Adam(1e-3), "fused": fused(1e-3)}
        calls = {k: _stepper(opts[k], arrays[k], g) for k in opts}
        times: dict[str, list[float]] = {k: [] for k in calls}
        for r in range(repeats):
            for k in rotated(list(calls), r):
                times[k] += call_seconds(calls[k], calls=20)
        numpy_s, fused_s = median(times["numpy"]), median(times["fused"])
        rows.append(
            [
                f"{job}: {n:,}",
                fmt(1e6 * numpy_s, ".0f"),
                fmt(1e6 * fused_s, ".0f"),
                fmt(ratio(numpy_s, fused_s), ".1f") + "×",
            ]
        )
    return rows


# ---------------------------------------------------------------------- 3, 4. jobs A and B
def worker(args: argparse.Namespace) -> int:
    job, system, dtype = args.worker
    if system == "fused":
        import cartoonbrain as cb

        kernel = make_kernel()
        warm_up(kernel)
        cb.Adam = fused_adam_class(kernel)  # mlp's cartoonbrain runs build cb.Adam(...)
        system = "cartoonbrain"
    if job == "A":
        result = mlp.worker_a(system, dtype, args.seed, args.data)
    else:
        result = mlp.worker_b(system, dtype, args.seed, args.batch_sizes, None)
    result["maxrss_kib"] = mlp.peak_rss_kib()
    print(mlp.RESULT_MARK + json.dumps(result), flush=True)
    return 0


def run_worker(job: str, system: str, seed: int, extra: list[str]) -> dict | None:
    """mlp.py's worker runner, started on this script (which knows the "fused" system)."""
    return mlp.run_worker(job, system, "float32", seed, extra, script=__file__)


def job_a(systems: list[str], repeats: int, seed: int) -> None:
    from cartoonbrain import datasets

    ds = datasets.load("mnist5k")
    runs: dict[str, list[dict]] = {s: [] for s in systems}
    with tempfile.TemporaryDirectory() as tmp:
        path = mlp.save_a_data(ds, tmp, "float32")
        for r in range(repeats):
            for system in rotated(systems, r):
                result = run_worker("A", system, seed + r, ["--data", str(path)])
                if result is not None:
                    runs[system].append(result)
    seconds = {s: median(r["seconds"] for r in runs[s]) for s in systems}
    rows = []
    for s in systems:
        accuracy = median(r["accuracy"] for r in runs[s])
        rows.append(
            [
                NAMES[s],
                fmt(seconds[s], ".3f"),
                fmt(None if accuracy is None else 100 * accuracy, ".1f"),
                fmt(ratio(seconds[s], seconds.get("torch")), ".2f"),
            ]
        )
    print(
        f"3. Job A (float32; as mlp.py: fresh processes, alternating, median of {repeats})\n"
        + table(["system", "train (s)", "test acc (%)", "time / PyTorch (target ≤ 0.5)"], rows)
    )
    print()


def job_b(systems: list[str], repeats: int, seed: int, batch_sizes: list[int]) -> None:
    runs: dict[str, list[dict]] = {s: [] for s in systems}
    for r in range(repeats):
        for system in rotated(systems, r):
            extra = ["--batch-sizes", ",".join(map(str, batch_sizes))]
            result = run_worker("B", system, seed + r, extra)
            if result is not None:
                runs[system].append(result)
    rows = []
    for b in batch_sizes:
        cells = []
        for s in systems:
            values = [row["fraction"] for run in runs[s] for row in run["rows"]]
            batch = [row["batch_size"] for run in runs[s] for row in run["rows"]]
            cells.append(fmt(median(v for v, bs in zip(values, batch) if bs == b)))
        rows.append([str(b), *cells])
    print(
        f"4. Job B (float32): fraction of sgemm, median of {repeats} "
        "(targets: ≥ PyTorch at each batch size, ≥ 0.5 at 32)\n"
        + table(["batch", *(NAMES[s] for s in systems)], rows)
    )
    print()


# ---------------------------------------------------------------------- main
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per system (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--parts", default="1,2,3,4", help="which of the four parts to run")
    parser.add_argument("--batch-sizes", default=",".join(map(str, mlp.B_BATCH_SIZES)))
    parser.add_argument("--worker", nargs=3, metavar=("JOB", "SYSTEM", "DTYPE"), help="internal")
    parser.add_argument("--data", help="internal: job A's arrays, saved by the parent")
    args = parser.parse_args(argv)
    args.batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    args.parts = {p.strip() for p in args.parts.split(",")}
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker(args)
    print("The compiled-helper proposal: a one-pass Adam kernel (benchmarks/fused_adam.py)")
    print("\n".join(machine_lines()), end="\n\n")
    if importlib.util.find_spec("numba") is None:
        print("numba is not installed: nothing to measure (python3 dev.py bench fused_adam)")
        return 0
    kernel = make_kernel()
    warm_up(kernel)
    fused = fused_adam_class(kernel)
    systems = [s for s in SYSTEMS if s != "torch" or importlib.util.find_spec("torch")]
    parts = [
        (
            "1",
            lambda: print(
                "1. Bit-identical to cb.Adam?\n"
                + table(["run", "identical"], agreement(fused))
                + "\n"
            ),
        ),
        (
            "2",
            lambda: print(
                "2. One Adam step, float32, µs (median over alternating rounds)\n"
                + table(
                    ["parameters", "NumPy (cb.Adam)", "kernel", "speed-up"],
                    step_times(fused, max(args.repeats, 5)),
                )
                + "\n"
            ),
        ),
        ("3", lambda: job_a(systems, args.repeats, args.seed)),
        ("4", lambda: job_b(systems, args.repeats, args.seed, args.batch_sizes)),
    ]
    for name, part in parts:
        if name in args.parts:
            try:
                part()
            except Exception:  # report what broke and go on to the next part
                print(f"part {name} failed:\n{traceback.format_exc()}")
            sys.stdout.flush()
    print(load_line() + " (at the end)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
