"""Cost as work grows: time per training step against batch size and against width.

An MLP 784-w-w-10 (ReLU, softmax cross-entropy, Adam 1e-3, float32) trained by each
system's own loop — cartoonbrain's ``fit`` with its accelerator ("cartoonbrain") and on
NumPy alone ("cartoonbrain, NumPy"), PyTorch's loop of ``mlp.py``, JAX's jitted step and
its epoch under ``lax.scan`` and Keras 3's ``model.fit`` (benchmarks/jax_peers.py; their
compiles happen before the clock: steady state) — on random data:

    batch sweep   w = 256, batch 1, 4, 16, 64, 256, 1024
    width sweep   batch 64, w = 32, 64, 128, 256, 512, 1024, 2048

Each point is the time of enough steps to take about 0.3 s, divided by the steps, after a
warm-up of a few steps. Every (system, repeat) is a fresh process running
both sweeps (``--worker``); the systems alternate, and each point keeps the fastest of the
repeats (the least disturbed by the rest of the machine). Prints a table of the times and
of each cartoonbrain's ratio to PyTorch, and plots both sweeps on log-log axes (``--plot``):
where a line runs parallel to another, the two scale alike; at small sizes the fixed cost
of a step (Python, calls, the optimizer's passes) dominates, at large ones the products.

    python3 dev.py bench scaling          # installs PyTorch, then runs this
    .venv/bin/python benchmarks/scaling.py --repeats 3 --plot benchmarks/scaling.png
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import jax_peers
import mlp
from _common import (
    cpu_model,
    fmt,
    limit_threads,
    load_line,
    machine_lines,
    ratio,
    rotated,
    table,
)

SYSTEMS = ("cartoonbrain", "cb_numpy", "torch", *jax_peers.SYSTEMS)
NAMES = {key: mlp.NAMES[key] for key in SYSTEMS}
COLORS = {key: mlp.COLORS[key] for key in SYSTEMS}
BATCH_SIZES = (1, 4, 16, 64, 256, 1024)
WIDTHS = (32, 64, 128, 256, 512, 1024, 2048)
BATCH_WIDTH, WIDTH_BATCH = 256, 64
SECONDS_PER_POINT = 0.3
WARMUP_STEPS = 3
MARK = "RESULT "


# ---------------------------------------------------------------------- one point
def trainer(system: str, width: int, batch_size: int) -> Any:
    """A function ``train(X, y)`` running one epoch of ``system``'s loop over (X, y)."""
    sizes = (784, width, width, 10)
    if system in jax_peers.SYSTEMS:
        return jax_peers.b_trainer(system, sizes, "float32", 0, batch_size, mlp.LEARNING_RATE)
    if system == "torch":
        import torch

        model = mlp.torch_model(sizes, 0, "float32")
        optimizer = torch.optim.Adam(model.parameters(), lr=mlp.LEARNING_RATE)
        return lambda X, y: mlp.torch_train(
            model, optimizer, torch.from_numpy(X), torch.from_numpy(y), 1, batch_size
        )
    import cartoonbrain as cb

    net = mlp.cb_network(sizes, 0, "float32")
    optimizer = cb.Adam(learning_rate=mlp.LEARNING_RATE)
    return lambda X, y: net.fit(X, y, epochs=1, batch_size=batch_size, optimizer=optimizer)


def step_seconds(system: str, width: int, batch_size: int, rng: np.random.Generator) -> float:
    """Seconds per step: a warm-up, a probe of a few steps to size the run, then passes
    over a pool of at most 8,192 samples (64 steps or fewer each) for about
    SECONDS_PER_POINT in all."""
    train = trainer(system, width, batch_size)
    pool = min(64 * batch_size, 8192)
    X = rng.random((pool, 784), dtype=np.float32)
    y = rng.integers(0, 10, pool)
    train(X[: WARMUP_STEPS * batch_size], y[: WARMUP_STEPS * batch_size])
    start = time.perf_counter()
    train(X[: 4 * batch_size], y[: 4 * batch_size])
    per_step = (time.perf_counter() - start) / 4
    per_pass = pool // batch_size
    passes = max(1, round(SECONDS_PER_POINT / per_step / per_pass))
    if hasattr(train, "prepare"):  # JAX: compile for the pool's shapes before the clock
        train.prepare(pool, batch_size, X, y)
    start = time.perf_counter()
    for _ in range(passes):
        train(X, y)
    return (time.perf_counter() - start) / (passes * per_pass)


def worker(system: str, seed: int) -> dict[str, Any]:
    warm_up = None
    if system in jax_peers.SYSTEMS:
        jax_peers.setup(system, "float32")
    if system in ("cartoonbrain", "cb_numpy"):
        from cartoonbrain import _kernels

        if system == "cb_numpy":
            _kernels.use("numpy")
        warm_up = _kernels.warm_up(("float32",))
    rng = np.random.default_rng(seed)
    step_seconds(system, BATCH_WIDTH, WIDTH_BATCH, rng)  # the process's own warm-up: dropped
    batch = {b: step_seconds(system, BATCH_WIDTH, b, rng) for b in BATCH_SIZES}
    width = {w: step_seconds(system, w, WIDTH_BATCH, rng) for w in WIDTHS}
    return {"batch": batch, "width": width, "warm_up_s": warm_up}


# ---------------------------------------------------------------------- the report
def run_worker(system: str, seed: int) -> dict[str, Any] | None:
    command = [sys.executable, __file__, "--worker", system, "--seed", str(seed)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(MARK):
            result = json.loads(line[len(MARK) :])
            return {
                k: {int(x): s for x, s in v.items()} if k != "warm_up_s" else v
                for k, v in result.items()
            }
    print(f"note: {NAMES[system]} failed: {(done.stderr or done.stdout).strip()[-300:]}")
    return None


def fastest(runs: list[dict[str, Any]], sweep: str) -> dict[int, float]:
    points = runs[0][sweep]
    return {x: min(run[sweep][x] for run in runs) for x in points}


def report(results: dict[str, dict[str, dict[int, float]]], sweep: str, label: str) -> None:
    systems = list(results)
    xs = list(next(iter(results.values()))[sweep])
    ours = [s for s in ("cartoonbrain", "cb_numpy") if s in systems]
    rows = []
    for x in xs:
        times = [fmt(1e3 * results[s][sweep][x], ".3f") for s in systems]
        ratios = [
            fmt(ratio(results[s][sweep][x], results.get("torch", {}).get(sweep, {}).get(x)))
            for s in ours
        ]
        rows.append([str(x), *times, *ratios])
    headers = [
        label,
        *(f"{NAMES[s]} (ms)" for s in systems),
        *(f"{NAMES[s]} / PyTorch" for s in ours),
    ]
    print(table(headers, rows) + "\n")


def plot(results: dict[str, dict[str, dict[int, float]]], path: str) -> None:
    """Both sweeps on log-log axes: ms per step, one line per system."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    panels = (
        ("batch", f"batch size (width {BATCH_WIDTH})", axes[0]),
        ("width", f"width w of 784-w-w-10 (batch {WIDTH_BATCH})", axes[1]),
    )
    for sweep, xlabel, ax in panels:
        for system, result in results.items():
            xs = list(result[sweep])
            ys = [1e3 * result[sweep][x] for x in xs]
            ax.plot(xs, ys, marker="o", color=COLORS[system], label=NAMES[system])
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))  # 0.5, 2: not 5×10⁻¹
        ax.yaxis.set_minor_formatter(ticker.FormatStrFormatter("%g"))
        ax.set_xticks(xs, labels=[str(x) for x in xs])
        ax.set_xlabel(xlabel)
        ax.set_ylabel("ms per training step (Adam, float32)")
        ax.grid(True, which="both", linewidth=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"Time per step as work grows: 784-w-w-10 ReLU MLP\n{cpu_model()}", fontsize=10)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"plot written to {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per system")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default=str(Path(__file__).parent / "scaling.png"))
    parser.add_argument("--worker", choices=SYSTEMS, help="internal: one system's sweeps")
    parser.add_argument("--threads", type=int, help="threads for every system (default: all)")
    args = parser.parse_args(argv)
    limit_threads(args.threads)
    if args.worker:
        print(MARK + json.dumps(worker(args.worker, args.seed)), flush=True)
        return 0
    print("Cost as work grows (benchmarks/scaling.py)")
    print("\n".join(machine_lines()), end="\n\n")
    modules = {**mlp.MODULES, "cartoonbrain": "numpy", "cb_numpy": "numpy"}
    systems = [s for s in SYSTEMS if importlib.util.find_spec(modules[s])]
    runs: dict[str, list[dict[str, Any]]] = {s: [] for s in systems}
    for r in range(args.repeats):
        for system in rotated(systems, r):
            result = run_worker(system, args.seed + r)
            if result is not None:
                runs[system].append(result)
    results = {
        s: {sweep: fastest(v, sweep) for sweep in ("batch", "width")} for s, v in runs.items() if v
    }
    print(f"Time per step, fastest of {args.repeats} fresh processes per system")
    report(results, "batch", f"batch (w={BATCH_WIDTH})")
    report(results, "width", f"width (batch {WIDTH_BATCH})")
    if importlib.util.find_spec("matplotlib") is not None:
        plot(results, args.plot)
    print(load_line() + " (at the end)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
