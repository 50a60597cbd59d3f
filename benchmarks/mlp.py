"""Benchmarks A–C: cartoonbrain against PyTorch and scikit-learn on multi-layer perceptrons.

A  train on mnist5k (784-256-128-10 ReLU, softmax cross-entropy, Adam 1e-3, batch 64,
   30 epochs, 4,000 train / 1,000 test): time, test accuracy and peak RSS; every run is a
   fresh process that imports only NumPy and the system it measures.
B  train a wide MLP (784-1024-1024-10, Adam 1e-3) for one epoch on random data: training
   FLOP/s (6 × weights × samples / s) as a fraction of NumPy's 1024³ matmul rate measured
   in the same process, at batch sizes 32, 256 and 1024; each run a fresh process.
C  predict with 784-256-128-10: time per call for 1 and 1,000 samples, against a floor of
   three bare NumPy matmuls on the same weights; all systems in this process.

The peers: PyTorch, scikit-learn, and JAX and Keras 3 on JAX (benchmarks/jax_peers.py: a
jitted train step, the whole epoch under ``lax.scan``, ``model.fit``). JAX's figures come
with its compile and without it ("steady"); "process (s)" is the whole worker process's
wall time (start-up, imports, loading the data, compiles or warm-up, training, predicting):
what a user waits for.

cartoonbrain runs twice in every job: with its accelerator (numba's kernels, "cartoonbrain")
and on NumPy alone ("cartoonbrain, NumPy"; CARTOONBRAIN_ACCELERATOR=numpy). A worker with
the accelerator imports numba and loads its cached kernels before the timed call (as the
peers' imports come before theirs) and reports what that cost ("warm-up").

    python3 dev.py bench mlp                  # installs PyTorch into .venv, runs everything
    .venv/bin/python benchmarks/mlp.py --jobs A,B,C --dtype both --repeats 3
    .venv/bin/python benchmarks/mlp.py --jobs C --dtype float32 --repeats 7

Every system gets the same data, dtype, architecture and optimizer, each through its own
idiomatic fast path; the systems take turns (the order rotates every repeat) and each
figure is a median over repeats. Prints the machine, a table per job and dtype, and each
target with PASS/FAIL; writes a plot of job B (``--plot``). A peer that is not installed
is skipped with a note. Job D, the post's experiment, is ``benchmarks/blog.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

import jax_peers
from _common import (
    call_seconds,
    cpu_model,
    fmt,
    gemm_seconds,
    limit_threads,
    load_line,
    machine_lines,
    median,
    peak_rss_kib,
    ratio,
    rotated,
    table,
    verdict,
)

SYSTEMS = ("cartoonbrain", "cb_numpy", "torch", "sklearn", *jax_peers.SYSTEMS)
NAMES = {
    "cartoonbrain": "cartoonbrain",
    "cb_numpy": "cartoonbrain, NumPy",
    "torch": "PyTorch",
    "sklearn": "scikit-learn",
    **jax_peers.NAMES,
}
PEERS = ("torch", "sklearn", *jax_peers.SYSTEMS)
COLORS = {
    "cartoonbrain": "tab:blue",
    "cb_numpy": "tab:purple",
    "torch": "tab:orange",
    "sklearn": "tab:green",
    "jax": "tab:red",
    "jax_scan": "tab:brown",
    "keras": "tab:pink",
}
#: the module each peer needs
MODULES = {"torch": "torch", "sklearn": "sklearn", "jax": "optax", "jax_scan": "optax"}
MODULES["keras"] = "keras"
#: job A's time bars (issue 31): with the accelerator, ≤ 0.7 × the fastest peer with its
#: compile and ≤ 1.0 × JAX's steady state; on NumPy alone ≤ 1.0 × PyTorch
A_FASTEST_BAR, A_STEADY_BAR, A_NUMPY_BAR = 0.7, 1.0, 1.0

A_SIZES = (784, 256, 128, 10)
A_EPOCHS = 30
A_BATCH_SIZE = 64
B_SIZES = (784, 1024, 1024, 10)
B_BATCH_SIZES = (32, 256, 1024)
B_WEIGHTS = sum(n_in * n_out for n_in, n_out in pairwise(B_SIZES))  # biases left out
B_WARMUP_STEPS = 4
GEMM_SIZE = 1024
LEARNING_RATE = 1e-3
DEFAULT_REPEATS = {"A": 5, "B": 3, "C": 7}
RESULT_MARK = "RESULT "  # a worker's last line: RESULT {json}
WORKER_TIMEOUT_S = 1800


@dataclass
class Target:
    """One line of the issue's targets: what is compared, the measured value, the bar."""

    name: str
    value: str
    bar: str
    ok: bool | None

    def row(self) -> list[str]:
        return [self.name, self.value, self.bar, verdict(self.ok)]


def print_targets(targets: list[Target]) -> None:
    if targets:
        print(table(["target", "measured", "bar", "verdict"], [t.row() for t in targets]))


# ---------------------------------------------------------------------- the same model, three ways
def cb_network(sizes: tuple[int, ...], seed: int, dtype: str) -> Any:
    """ReLU Dense layers and a linear last layer, trained on softmax cross-entropy."""
    import cartoonbrain as cb

    *hidden, last = pairwise(sizes)
    layers = [cb.Dense(n_in, n_out, activation="relu") for n_in, n_out in hidden]
    return cb.Network([*layers, cb.Dense(*last)], loss="cross_entropy", seed=seed, dtype=dtype)


def torch_model(sizes: tuple[int, ...], seed: int, dtype: str) -> Any:
    """``nn.Sequential`` of ``nn.Linear`` and ``nn.ReLU``, PyTorch's default initialisation."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    *hidden, last = pairwise(sizes)
    modules: list[Any] = []
    for n_in, n_out in hidden:
        modules += [nn.Linear(n_in, n_out), nn.ReLU()]
    modules.append(nn.Linear(*last))
    return nn.Sequential(*modules).to(getattr(torch, dtype))


def torch_train(model: Any, optimizer: Any, X: Any, y: Any, epochs: int, batch_size: int) -> None:
    """PyTorch's usual loop without a DataLoader: a ``randperm`` per epoch, index slicing."""
    import torch

    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    n = len(X)
    for _ in range(epochs):
        order = torch.randperm(n)
        for start in range(0, n, batch_size):
            index = order[start : start + batch_size]
            optimizer.zero_grad()
            loss_fn(model(X[index]), y[index]).backward()
            optimizer.step()


def sklearn_classifier(sizes: tuple[int, ...], batch_size: int, seed: int, max_iter: int) -> Any:
    """MLPClassifier with Adam, no L2 (alpha=0, like the others) and no early stopping:
    tol=0 and n_iter_no_change=1000 make ``fit`` run all ``max_iter`` epochs."""
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(
        hidden_layer_sizes=tuple(sizes[1:-1]),
        activation="relu",
        solver="adam",
        alpha=0.0,
        batch_size=batch_size,
        learning_rate_init=LEARNING_RATE,
        max_iter=max_iter,
        shuffle=True,
        tol=0.0,
        n_iter_no_change=1000,
        random_state=seed,
    )


@contextlib.contextmanager
def no_convergence_warnings():
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


# ---------------------------------------------------------------------- job A: one run (a worker)
def load_a_data(path: str | None, dtype: str) -> dict[str, np.ndarray]:
    """The arrays the parent saved (so every worker reads the very same bytes), or, for a
    worker started by hand, mnist5k loaded here."""
    if path is not None:
        with np.load(path) as saved:
            return {name: saved[name] for name in saved.files}
    from cartoonbrain import datasets

    ds = datasets.load("mnist5k")
    return {
        "X_train": ds.X_train.astype(dtype),
        "y_train": np.array(ds.y_train),
        "X_test": ds.X_test.astype(dtype),
        "y_test": np.array(ds.y_test),
    }


def a_cartoonbrain(d: dict[str, np.ndarray], dtype: str, seed: int) -> dict[str, Any]:
    import cartoonbrain as cb

    net = cb_network(A_SIZES, seed, dtype)
    optimizer = cb.Adam(learning_rate=LEARNING_RATE)
    rss_before = peak_rss_kib()
    start = time.perf_counter()
    history = net.fit(
        d["X_train"], d["y_train"], epochs=A_EPOCHS, batch_size=A_BATCH_SIZE, optimizer=optimizer
    )
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "predicted": net.predict_classes(d["X_test"]),
        "epochs": len(history.epoch),
        "weights_dtype": net.flat_parameters.dtype.name,
        "rss_before_kib": rss_before,
    }


def a_torch(d: dict[str, np.ndarray], dtype: str, seed: int) -> dict[str, Any]:
    import torch

    model = torch_model(A_SIZES, seed, dtype)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    X, y = torch.from_numpy(d["X_train"]), torch.from_numpy(d["y_train"])  # no copies
    rss_before = peak_rss_kib()
    start = time.perf_counter()
    torch_train(model, optimizer, X, y, A_EPOCHS, A_BATCH_SIZE)
    seconds = time.perf_counter() - start
    model.eval()
    with torch.inference_mode():
        predicted = model(torch.from_numpy(d["X_test"])).argmax(dim=1).numpy()
    return {
        "seconds": seconds,
        "predicted": predicted,
        "epochs": A_EPOCHS,
        "weights_dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
        "rss_before_kib": rss_before,
    }


def a_sklearn(d: dict[str, np.ndarray], dtype: str, seed: int) -> dict[str, Any]:
    clf = sklearn_classifier(A_SIZES, A_BATCH_SIZE, seed, max_iter=A_EPOCHS)
    rss_before = peak_rss_kib()
    with no_convergence_warnings():
        start = time.perf_counter()
        clf.fit(d["X_train"], d["y_train"])
        seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "predicted": clf.predict(d["X_test"]),
        "epochs": clf.n_iter_,
        "weights_dtype": clf.coefs_[0].dtype.name,
        "rss_before_kib": rss_before,
    }


A_RUNS: dict[str, Callable[[dict[str, np.ndarray], str, int], dict[str, Any]]] = {
    "cartoonbrain": a_cartoonbrain,
    "torch": a_torch,
    "sklearn": a_sklearn,
}


def worker_a(system: str, dtype: str, seed: int, data_path: str | None) -> dict[str, Any]:
    """Train once on job A in this (fresh) process; time only the training call."""
    data = load_a_data(data_path, dtype)
    if system in jax_peers.SYSTEMS:
        settings = {"epochs": A_EPOCHS, "batch_size": A_BATCH_SIZE, "learning_rate": LEARNING_RATE}
        result = jax_peers.job_a(system, data, dtype, seed, A_SIZES, **settings)
    else:
        result = A_RUNS[system](data, dtype, seed)
    result["accuracy"] = float(np.mean(result.pop("predicted") == data["y_test"]))
    return result


# ---------------------------------------------------------------------- job B: one run (a worker)
# one epoch over (X, y); returns the samples trained on and the weights' dtype
Trainer = Callable[[np.ndarray, np.ndarray], tuple[int, str]]


def b_samples(batch_size: int, override: int | None) -> int:
    """Samples per measured epoch: 128 steps, between 4,096 and 16,384 samples (about a
    second or more on a 2-core machine at every batch size), unless ``--b-samples``."""
    return override if override is not None else min(16384, max(4096, 128 * batch_size))


def b_cartoonbrain(dtype: str, seed: int, batch_size: int) -> Trainer:
    import cartoonbrain as cb

    net = cb_network(B_SIZES, seed, dtype)
    optimizer = cb.Adam(learning_rate=LEARNING_RATE)  # kept: its state carries on after warm-up

    def train(X: np.ndarray, y: np.ndarray) -> tuple[int, str]:
        history = net.fit(X, y, epochs=1, batch_size=batch_size, optimizer=optimizer)
        return len(X) * len(history.epoch), net.flat_parameters.dtype.name

    return train


def b_torch(dtype: str, seed: int, batch_size: int) -> Trainer:
    import torch

    model = torch_model(B_SIZES, seed, dtype)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)

    def train(X: np.ndarray, y: np.ndarray) -> tuple[int, str]:
        # torch.from_numpy shares the memory: no copy is timed
        torch_train(model, optimizer, torch.from_numpy(X), torch.from_numpy(y), 1, batch_size)
        return len(X), str(next(model.parameters()).dtype).removeprefix("torch.")

    return train


def b_sklearn(dtype: str, seed: int, batch_size: int) -> Trainer:
    clf = sklearn_classifier(B_SIZES, batch_size, seed, max_iter=1)
    classes = np.arange(B_SIZES[-1])

    def train(X: np.ndarray, y: np.ndarray) -> tuple[int, str]:
        seen = getattr(clf, "t_", 0)
        clf.partial_fit(X, y, classes=classes)  # one shuffled pass over X in mini-batches
        return int(clf.t_ - seen), clf.coefs_[0].dtype.name  # t_ counts the samples seen

    return train


B_TRAINERS: dict[str, Callable[[str, int, int], Trainer]] = {
    "cartoonbrain": b_cartoonbrain,
    "torch": b_torch,
    "sklearn": b_sklearn,
}


def torch_gemm_gflops(dtype: str, calls: int = 5) -> float:
    """torch.mm's 1024³ rate in this process, for information (the fraction uses NumPy's)."""
    import torch

    a, b = (torch.rand(GEMM_SIZE, GEMM_SIZE, dtype=getattr(torch, dtype)) for _ in range(2))
    c = torch.empty_like(a)
    times = call_seconds(lambda: torch.mm(a, b, out=c), calls)
    return 2 * GEMM_SIZE**3 / statistics.median(times) / 1e9


def worker_b(
    system: str, dtype: str, seed: int, batch_sizes: list[int], samples: int | None
) -> dict[str, Any]:
    """One epoch per batch size, after a warm-up of a few steps, between two GEMM-rate
    measurements; fraction = 6 · weights · samples / seconds ÷ the GEMM rate."""
    n_max = max(b_samples(b, samples) for b in batch_sizes)
    rng = np.random.default_rng(seed)
    X = rng.random((n_max, B_SIZES[0]), dtype=np.dtype(dtype).type)
    y = rng.integers(0, B_SIZES[-1], size=n_max)
    rows = []
    for batch_size in batch_sizes:
        n = b_samples(batch_size, samples)
        if system in jax_peers.SYSTEMS:
            train = jax_peers.b_trainer(system, B_SIZES, dtype, seed, batch_size, LEARNING_RATE)
        else:
            train = B_TRAINERS[system](dtype, seed, batch_size)
        warm = B_WARMUP_STEPS * batch_size
        train(X[:warm], y[:warm])
        if hasattr(train, "prepare"):  # JAX: compile the measured epoch's shapes now
            train.prepare(n, batch_size, X[:n], y[:n])
        gemm = gemm_seconds(dtype, GEMM_SIZE)
        start = time.perf_counter()
        trained, weights_dtype = train(X[:n], y[:n])
        seconds = time.perf_counter() - start
        gemm += gemm_seconds(dtype, GEMM_SIZE)
        if trained != n:
            raise RuntimeError(f"{system} trained on {trained} samples, not one epoch of {n}")
        gemm_rate = 2 * GEMM_SIZE**3 / statistics.median(gemm)
        rows.append(
            {
                "batch_size": batch_size,
                "samples": n,
                "seconds": seconds,
                "gemm_gflops": gemm_rate / 1e9,
                "fraction": 6 * B_WEIGHTS * n / seconds / gemm_rate,
                "weights_dtype": weights_dtype,
            }
        )
    result: dict[str, Any] = {"rows": rows}
    if system == "torch":
        result["torch_gemm_gflops"] = torch_gemm_gflops(dtype)
    return result


def prepare_cartoonbrain(system: str, dtype: str) -> tuple[str, dict[str, Any]]:
    """Set a worker's accelerator: NumPy for "cb_numpy"; for "cartoonbrain", import numba
    and load the kernels now (untimed, reported). Returns the system to run and notes."""
    if system not in ("cartoonbrain", "cb_numpy"):
        return system, {}
    from cartoonbrain import _kernels

    if system == "cb_numpy":
        _kernels.use("numpy")
        return "cartoonbrain", {"accelerator": "numpy"}
    return "cartoonbrain", {
        "accelerator": _kernels.active(),
        "warm_up_s": _kernels.warm_up((dtype,)),
    }


def worker(args: argparse.Namespace) -> int:
    job, system, dtype = args.worker
    if system in jax_peers.SYSTEMS:
        jax_peers.setup(system, dtype)
    system, notes = prepare_cartoonbrain(system, dtype)
    if job == "A":
        result = worker_a(system, dtype, args.seed, args.data)
    else:
        result = worker_b(system, dtype, args.seed, args.batch_sizes, args.b_samples)
    result.update(notes)
    result["maxrss_kib"] = peak_rss_kib()
    print(RESULT_MARK + json.dumps(result), flush=True)
    return 0


def run_worker(
    job: str, system: str, dtype: str, seed: int, extra: list[str], script: str = __file__
) -> dict | None:
    """Run one measurement in a fresh Python process (``script --worker ...``, this one by
    default); its result, or None (with a note)."""
    path = str(Path(script).resolve())
    command = [sys.executable, path, "--worker", job, system, dtype, "--seed", str(seed)]
    name = NAMES.get(system, system)
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [*command, *extra], capture_output=True, text=True, timeout=WORKER_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        print(f"note: {name} job {job} {dtype} ran past {WORKER_TIMEOUT_S} s; skipped")
        return None
    process_s = time.perf_counter() - start
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            return {**json.loads(line[len(RESULT_MARK) :]), "process_s": process_s}
    tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
    print(f"note: {name} job {job} {dtype} failed (exit {done.returncode}): {tail}")
    return None


def save_a_data(ds: Any, folder: str, dtype: str) -> Path:
    """mnist5k's arrays in ``dtype``, saved once so that every worker reads the same bytes."""
    path = Path(folder) / f"mnist5k-{dtype}.npz"
    np.savez(
        path,
        X_train=ds.X_train.astype(dtype),
        y_train=ds.y_train,
        X_test=ds.X_test.astype(dtype),
        y_test=ds.y_test,
    )
    return path


# ---------------------------------------------------------------------- job A: the report
def job_a(dtypes: list[str], repeats: int, systems: list[str], seed: int) -> list[Target]:
    try:
        from cartoonbrain import datasets

        ds = datasets.load("mnist5k")
    except ImportError as exc:
        print(f"job A skipped: mnist5k could not be loaded ({exc})\n")
        return []
    targets = []
    with tempfile.TemporaryDirectory() as tmp:
        for dtype in dtypes:
            path = save_a_data(ds, tmp, dtype)
            runs: dict[str, list[dict]] = {s: [] for s in systems}
            for r in range(repeats):
                for system in rotated(systems, r):
                    extra = ["--data", str(path), "--a-epochs", str(A_EPOCHS)]
                    result = run_worker("A", system, dtype, seed + r, extra)
                    if result is not None:
                        runs[system].append(result)
            targets += report_a(dtype, runs, repeats)
    return targets


def summarize_a(runs: list[dict]) -> dict[str, Any] | None:
    if not runs:
        return None
    return {
        "seconds": median(r["seconds"] for r in runs),
        "fastest": min(r["seconds"] for r in runs),
        "slowest": max(r["seconds"] for r in runs),
        "accuracy": median(r["accuracy"] for r in runs),
        "peak_mib": max(r["maxrss_kib"] for r in runs) / 1024,
        "before_mib": max(r["rss_before_kib"] for r in runs) / 1024,
        "epochs": "/".join(sorted({str(r["epochs"]) for r in runs})),
        "weights": "/".join(sorted({r["weights_dtype"] for r in runs})),
        "warm_up": median(r.get("warm_up_s") for r in runs),
        "steady": median(r.get("steady_s") for r in runs),
        "compile": median(r.get("compile_s") for r in runs),
        "process": median(r.get("process_s") for r in runs),
        "runs": len(runs),
    }


def steady_rows(s: dict[str, dict | None]) -> dict[str, dict]:
    """A row "…, compile excluded" for each system that timed its compile apart (JAX)."""
    return {
        f"{system}:steady": {
            **v,
            "seconds": v["steady"],
            "fastest": v["steady"],
            "slowest": v["steady"],
            "process": None,
            "warm_up": v["compile"],
        }
        for system, v in s.items()
        if v is not None and v.get("steady") is not None
    }


def report_a(dtype: str, runs: dict[str, list[dict]], repeats: int) -> list[Target]:
    s = {system: summarize_a(r) for system, r in runs.items()}
    print(
        f"Job A ({dtype}): mnist5k, 784-256-128-10 ReLU, softmax cross-entropy, Adam 1e-3, "
        f"batch {A_BATCH_SIZE}, {A_EPOCHS} epochs, 4,000 train / 1,000 test\n"
        f"median of {repeats} runs (seeds differ between runs), each a fresh process, systems "
        f"alternating; RSS: largest over the runs; scikit-learn with alpha=0 (no L2)"
    )
    rows = []
    for system, v in {**s, **steady_rows(s)}.items():
        name = NAMES[system.split(":")[0]] + (", compile excluded" if ":" in system else "")
        if v is None:
            rows.append([name, *["failed"] * 9])
            continue
        rows.append(
            [
                name,
                fmt(v["seconds"], ".3f"),
                f"{v['fastest']:.2f}–{v['slowest']:.2f}",
                fmt(v["process"], ".2f"),
                fmt(100 * v["accuracy"], ".1f"),
                fmt(v["peak_mib"], ".0f"),
                fmt(v["before_mib"], ".0f"),
                fmt(v["warm_up"], ".2f"),
                v["epochs"],
                v["weights"],
            ]
        )
    headers = [
        "system",
        "train (s)",
        "runs (s)",
        "process (s)",
        "test acc (%)",
        "peak RSS (MiB)",
        "RSS before fit (MiB)",
        "warm-up (s)",
    ]
    print(table([*headers, "epochs", "weights"], rows))
    print(
        "warm-up: cartoonbrain: importing numba and loading the cached kernels, once per "
        "process, before the timed fit (not counted in it); JAX: its compile (counted in "
        "train, not in the compile-excluded row); process: the worker's whole wall time"
    )
    for system, v in s.items():
        if v is not None and v["weights"] != dtype:
            print(f"note: {NAMES[system]} trained in {v['weights']}, not {dtype}")
    targets = a_targets(dtype, s)
    print_targets(targets)
    print()
    return targets


def a_targets(dtype: str, s: dict[str, dict | None]) -> list[Target]:
    """Issue 31's bars: with the accelerator ≤ 0.7 × the fastest peer (JAX with its
    compile) and ≤ JAX's steady state; on NumPy alone ≤ PyTorch; accuracy within a point
    of the best; peak RSS ≤ the leanest peer's. float64: ≤ scikit-learn."""
    peers = {p: s[p] for p in PEERS if s.get(p) is not None}
    ours = {c: s[c] for c in ("cartoonbrain", "cb_numpy") if s.get(c) is not None}
    if not ours or not peers:
        return [Target(f"A {dtype}", "no cartoonbrain or no peer result", "", None)]
    targets = []
    if dtype == "float64":
        sk = peers.get("sklearn")
        for c, v in ours.items():
            t = ratio(v["seconds"], sk["seconds"]) if sk else None
            name = f"A float64 time: {NAMES[c]} / scikit-learn"
            targets.append(Target(name, fmt(t), "≤ 1.0", _le(t, 1)))
        return targets
    fast = min(peers, key=lambda p: peers[p]["seconds"])
    good = max(peers, key=lambda p: peers[p]["accuracy"])
    lean = min(peers, key=lambda p: peers[p]["peak_mib"])
    steady = {p: v["steady"] for p, v in peers.items() if v.get("steady") is not None}
    if "cartoonbrain" in ours:
        v = ours["cartoonbrain"]
        t = ratio(v["seconds"], peers[fast]["seconds"])
        name = f"A time: cartoonbrain / fastest peer ({NAMES[fast]}), medians"
        targets.append(Target(name, fmt(t), f"≤ {A_FASTEST_BAR}", _le(t, A_FASTEST_BAR)))
        if steady:
            best = min(steady, key=lambda p: steady[p])
            t = ratio(v["seconds"], steady[best])
            name = f"A time: cartoonbrain / {NAMES[best]}, compile excluded"
            targets.append(Target(name, fmt(t), f"≤ {A_STEADY_BAR}", _le(t, A_STEADY_BAR)))
    if "cb_numpy" in ours and "torch" in peers:
        t = ratio(ours["cb_numpy"]["seconds"], peers["torch"]["seconds"])
        name = "A time: cartoonbrain, NumPy / PyTorch"
        targets.append(Target(name, fmt(t), f"≤ {A_NUMPY_BAR}", _le(t, A_NUMPY_BAR)))
    for c, v in ours.items():
        points = 100 * (v["accuracy"] - peers[good]["accuracy"])
        memory = ratio(v["peak_mib"], peers[lean]["peak_mib"])
        targets += [
            Target(
                f"A accuracy: {NAMES[c]} − best peer ({NAMES[good]}), points",
                f"{points:+.1f}",
                "≥ −1.0",
                points >= -1.0,
            ),
            Target(
                f"A peak RSS: {NAMES[c]} / leanest peer ({NAMES[lean]})",
                fmt(memory),
                "≤ 1.0",
                _le(memory, 1.0),
            ),
        ]
    return targets


def _le(value: float | None, bar: float) -> bool | None:
    return None if value is None else value <= bar


def _ge(value: float | None, bar: float | None) -> bool | None:
    return None if value is None or bar is None else value >= bar


# ---------------------------------------------------------------------- job B: the report
def job_b(
    dtypes: list[str],
    repeats: int,
    systems: list[str],
    seed: int,
    batch_sizes: list[int],
    samples: int | None,
) -> tuple[list[Target], dict[str, dict[str, dict[int, float | None]]]]:
    extra = ["--batch-sizes", ",".join(map(str, batch_sizes))]
    if samples is not None:
        extra += ["--b-samples", str(samples)]
    targets, fractions = [], {}
    for dtype in dtypes:
        runs: dict[str, list[dict]] = {s: [] for s in systems}
        for r in range(repeats):
            for system in rotated(systems, r):
                result = run_worker("B", system, dtype, seed + r, extra)
                if result is not None:
                    runs[system].append(result)
        fractions[dtype], new = report_b(dtype, runs, repeats, batch_sizes)
        targets += new
    return targets, fractions


def report_b(
    dtype: str, runs: dict[str, list[dict]], repeats: int, batch_sizes: list[int]
) -> tuple[dict[str, dict[int, float | None]], list[Target]]:
    gemm = "sgemm" if dtype == "float32" else "dgemm"

    def rows_for(system: str, b: int) -> list[dict]:
        return [row for run in runs[system] for row in run["rows"] if row["batch_size"] == b]

    fraction = {
        s: {b: median(r["fraction"] for r in rows_for(s, b)) for b in batch_sizes} for s in runs
    }
    seconds = {
        s: {b: median(r["seconds"] for r in rows_for(s, b)) for b in batch_sizes} for s in runs
    }
    print(
        f"Job B ({dtype}): 784-1024-1024-10 ReLU, softmax cross-entropy, Adam 1e-3, random "
        f"data; one epoch after {B_WARMUP_STEPS} warm-up steps\n"
        f"fraction = 6 × {B_WEIGHTS:,} weights (biases not counted) × samples / s, divided by "
        f"NumPy's {GEMM_SIZE}³ {gemm} rate measured in the same process just before and after;\n"
        f"median of {repeats} runs, each a fresh process, systems alternating; "
        f"cell: fraction (seconds for the epoch)"
    )
    rows = []
    for b in batch_sizes:
        n = next((r["samples"] for s in runs for r in rows_for(s, b)), None)
        cells = [f"{fmt(fraction[s][b])} ({fmt(seconds[s][b], '.2f')} s)" for s in runs]
        rows.append([str(b), fmt(n, "d"), *cells])
    print(table(["batch", "samples", *(NAMES[s] for s in runs)], rows))
    for system in runs:
        trained_in = {r["weights_dtype"] for run in runs[system] for r in run["rows"]}
        if trained_in - {dtype}:
            print(f"note: {NAMES[system]} trained in {'/'.join(sorted(trained_in))}, not {dtype}")
    rates = [r["gemm_gflops"] for s in runs for run in runs[s] for r in run["rows"]]
    line = f"NumPy {GEMM_SIZE}³ {gemm}: {fmt(median(rates), '.0f')} GFLOP/s (median over all runs)"
    torch_rates = [run["torch_gemm_gflops"] for run in runs.get("torch", [])]
    if torch_rates:
        line += f"; torch.mm {GEMM_SIZE}³: {fmt(median(torch_rates), '.0f')} GFLOP/s (information)"
    print(line)
    targets = b_targets(dtype, fraction, batch_sizes)
    print_targets(targets)
    print()
    return fraction, targets


def b_targets(
    dtype: str, fraction: dict[str, dict[int, float | None]], batch_sizes: list[int]
) -> list[Target]:
    peer = "torch" if dtype == "float32" else "sklearn"
    if "cartoonbrain" not in fraction or peer not in fraction:
        return [Target(f"B {dtype}", f"no cartoonbrain or no {NAMES[peer]} result", "", None)]
    targets = []
    for c in ("cartoonbrain", "cb_numpy"):
        for b in batch_sizes if c in fraction else []:
            cb, other = fraction[c][b], fraction[peer][b]
            targets.append(
                Target(
                    f"B {dtype} batch {b}: {NAMES[c]}'s fraction vs {NAMES[peer]}'s",
                    f"{fmt(cb)} vs {fmt(other)}",
                    f"≥ {NAMES[peer]}",
                    _ge(cb, other),
                )
            )
    if dtype == "float32" and 32 in batch_sizes:
        cb = fraction["cartoonbrain"][32]
        targets.append(
            Target("B float32 batch 32: cartoonbrain's fraction", fmt(cb), "≥ 0.5", _ge(cb, 0.5))
        )
    return targets


def plot_b(
    fractions: dict[str, dict[str, dict[int, float | None]]], batch_sizes: list[int], path: str
) -> None:
    """Job B's fraction against batch size: a line per system, dashed for float64."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("note: matplotlib is not installed; no plot written")
        return
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for dtype, by_system in fractions.items():
        style = "-" if dtype == "float32" else "--"
        for system, by_batch in by_system.items():
            xs = [b for b in batch_sizes if by_batch.get(b) is not None]
            ys = [by_batch[b] for b in xs]
            label = f"{NAMES[system]} ({dtype})"
            ax.plot(xs, ys, style, marker="o", color=COLORS[system], label=label)
    ax.axhline(1.0, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xscale("log", base=2)
    ax.set_xticks(batch_sizes, labels=[str(b) for b in batch_sizes])
    highest = max(
        (f for d in fractions.values() for s in d.values() for f in s.values() if f), default=0
    )
    ax.set_ylim(0, max(1.1, 1.05 * highest))
    ax.set_xlabel("batch size")
    ax.set_ylabel("training FLOP/s ÷ NumPy 1024³ GEMM FLOP/s")
    ax.set_title(f"Job B: 784-1024-1024-10, Adam\n{cpu_model()}", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"plot of job B written to {path}\n")


# ---------------------------------------------------------------------- job C
def c_calls(dtype: str, seed: int, systems: list[str]) -> dict[str, tuple[Callable, Callable]]:
    """For each system, (make the call for an input x, the context to time it in); the
    peers get cartoonbrain's weights, so all compute the same function."""
    from cartoonbrain import _kernels

    _kernels.warm_up((dtype,))  # nothing on the NumPy path
    net = cb_network(A_SIZES, seed, dtype)
    weights, biases = net.parameters()[0::2], net.parameters()[1::2]  # W_l is (n_out, n_in)
    calls: dict[str, tuple[Callable, Callable]] = {
        "cartoonbrain": (lambda x: lambda: net.predict(x), contextlib.nullcontext)
    }
    if "cb_numpy" in systems:
        calls["cb_numpy"] = (lambda x: lambda: net.predict(x), numpy_only)
    if "torch" in systems:
        calls["torch"] = torch_calls(dtype, seed, weights, biases)
    if "sklearn" in systems:
        calls["sklearn"] = sklearn_calls(dtype, seed, weights, biases)
    for system in ("jax", "keras"):  # (the scan epoch is a training path: predict as "jax")
        if system in systems:
            make = jax_peers.c_calls(system, dtype, weights, biases)
            calls[system] = (make, contextlib.nullcontext)
    W1t, W2t, W3t = (W.T for W in weights)  # views, made once: the floor's best case
    calls["floor"] = (lambda x: lambda: x @ W1t @ W2t @ W3t, contextlib.nullcontext)
    return calls


@contextlib.contextmanager
def numpy_only():
    """cartoonbrain without its accelerator while timing (switched outside the calls)."""
    from cartoonbrain import _kernels

    previous = _kernels.use("numpy")
    try:
        yield
    finally:
        _kernels.use(previous)


def torch_calls(dtype: str, seed: int, weights: list, biases: list) -> tuple[Callable, Callable]:
    import torch

    model = torch_model(A_SIZES, seed, dtype).eval()
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for linear, W, b in zip(linears, weights, biases):
            linear.weight.copy_(torch.from_numpy(W))  # nn.Linear keeps (n_out, n_in) too
            linear.bias.copy_(torch.from_numpy(b))

    def make(x: np.ndarray) -> Callable:
        tensor = torch.from_numpy(x)  # made beforehand: no conversion is timed
        return lambda: model(tensor)

    return make, torch.inference_mode


def sklearn_calls(dtype: str, seed: int, weights: list, biases: list) -> tuple[Callable, Callable]:
    clf = sklearn_classifier(A_SIZES, A_BATCH_SIZE, seed, max_iter=1)
    rng = np.random.default_rng(seed)
    X = rng.random((100, A_SIZES[0])).astype(dtype)
    with no_convergence_warnings():
        clf.fit(X, np.arange(100) % A_SIZES[-1])  # sets up the estimator; weights replaced next
    clf.coefs_ = [np.ascontiguousarray(W.T) for W in weights]  # scikit-learn's (n_in, n_out)
    clf.intercepts_ = [b.copy() for b in biases]
    return (lambda x: lambda: clf.predict_proba(x)), contextlib.nullcontext


def check_agreement(calls: dict[str, tuple[Callable, Callable]], x: np.ndarray) -> str:
    """The largest difference from cartoonbrain's probabilities: the same weights?"""
    reference = calls["cartoonbrain"][0](x)()
    parts = []
    for name in ("cb_numpy", "torch", "sklearn", "jax", "keras"):
        if name not in calls:
            continue
        make, context = calls[name]
        with context():
            out = make(x)()
        if name == "torch":
            out = out.softmax(dim=1).numpy()
        out = np.asarray(out)
        parts.append(f"{NAMES[name]} {np.max(np.abs(out - reference)):.1e}")
    return ", ".join(parts) or "no peer"


def time_calls(calls: dict[str, tuple[Callable, Callable]], x: np.ndarray, repeats: int) -> dict:
    """Seconds per call, median over ``repeats`` alternating rounds; each round times a
    number of back-to-back calls taking at least 0.2 s (timeit's autorange, which also warms up)."""
    timers = {name: (timeit.Timer(make(x)), context) for name, (make, context) in calls.items()}
    numbers = {}
    for name, (timer, context) in timers.items():
        with context():
            numbers[name] = timer.autorange()[0]
    per_call: dict[str, list[float]] = {name: [] for name in timers}
    for r in range(repeats):
        for name in rotated(list(timers), r):
            timer, context = timers[name]
            with context():
                per_call[name].append(timer.timeit(numbers[name]) / numbers[name])
    return {name: median(values) for name, values in per_call.items()}


def job_c(dtypes: list[str], repeats: int, systems: list[str], seed: int) -> list[Target]:
    targets = []
    for dtype in dtypes:
        if {"jax", "keras"} & set(systems):
            jax_peers.setup("keras", dtype)
        calls = c_calls(dtype, seed, systems)
        X = np.random.default_rng(seed).random((1000, A_SIZES[0])).astype(dtype)
        agreement = check_agreement(calls, X)
        seconds = {n: time_calls(calls, np.ascontiguousarray(X[:n]), repeats) for n in (1, 1000)}
        targets += report_c(dtype, seconds, repeats, agreement)
    return targets


def report_c(dtype: str, seconds: dict[int, dict], repeats: int, agreement: str) -> list[Target]:
    names = list(seconds[1])
    ours = [c for c in ("cartoonbrain", "cb_numpy") if c in names]
    print(
        f"Job C ({dtype}): predict with 784-256-128-10; µs per call, median of {repeats} "
        f"alternating rounds, each at least 0.2 s of back-to-back calls"
    )
    rows = []
    for n, s in seconds.items():
        micro = [fmt(1e6 * s[name], ".1f") for name in names]
        ratios = [fmt(ratio(s[c], s.get(other))) for c in ours for other in ("torch", "floor")]
        rows.append([str(n), *micro, *ratios])
    headers = [NAMES.get(name, "NumPy floor") for name in names]
    ratio_headers = [f"{NAMES[c]} / {o}" for c in ours for o in ("PyTorch", "floor")]
    print(table(["samples", *headers, *ratio_headers], rows))
    print(
        "cartoonbrain: net.predict(x), probabilities; PyTorch: model(x) on a tensor made "
        "beforehand, logits,\ninside one torch.inference_mode() block; scikit-learn: "
        "predict_proba(x); floor: x @ W1.T @ W2.T @ W3.T\n(no biases, no activations). "
        f"Largest difference from cartoonbrain's probabilities: {agreement}"
    )
    targets = []
    if dtype == "float32":
        one, many = seconds[1], seconds[1000]
        for c in ours:
            vs_torch = ratio(one[c], one.get("torch"))
            vs_floor = ratio(one[c], one["floor"])
            vs_floor_many = ratio(many[c], many["floor"])
            targets += [
                Target(
                    f"C 1 sample: {NAMES[c]} / PyTorch", fmt(vs_torch), "≤ 0.7", _le(vs_torch, 0.7)
                ),
                Target(
                    f"C 1 sample: {NAMES[c]} / floor", fmt(vs_floor), "≤ 1.3", _le(vs_floor, 1.3)
                ),
                Target(
                    f"C 1,000 samples: {NAMES[c]} / floor",
                    fmt(vs_floor_many),
                    "≤ 1.1",
                    _le(vs_floor_many, 1.1),
                ),
            ]
        print_targets(targets)
    print()
    return targets


# ---------------------------------------------------------------------- main
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", default="A,B,C", help="comma-separated, of A, B, C")
    parser.add_argument("--repeats", type=int, help="runs per system (default: A 5, B 3, C 7)")
    parser.add_argument("--dtype", choices=("float32", "float64", "both"), default="both")
    parser.add_argument("--plot", default=str(Path(__file__).parent / "job_b.png"))
    parser.add_argument("--no-plot", action="store_true", help="do not write job B's plot")
    parser.add_argument("--seed", type=int, default=0, help="first seed; run r uses seed + r")
    parser.add_argument(
        "--batch-sizes", default=",".join(map(str, B_BATCH_SIZES)), help="job B's batch sizes"
    )
    parser.add_argument("--b-samples", type=int, help="job B's samples per epoch (quick checks)")
    parser.add_argument("--a-epochs", type=int, help="job A's epochs (quick checks; default 30)")
    parser.add_argument("--threads", type=int, help="threads for every system (default: all)")
    parser.add_argument(
        "--systems",
        default=",".join(SYSTEMS),
        help=f"comma-separated, of {', '.join(SYSTEMS)} (default: all that are installed)",
    )
    parser.add_argument("--worker", nargs=3, metavar=("JOB", "SYSTEM", "DTYPE"), help="internal")
    parser.add_argument("--data", help="internal: job A's arrays, saved by the parent")
    args = parser.parse_args(argv)
    args.jobs = [j.strip().upper() for j in args.jobs.split(",") if j.strip()]
    args.batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    if "cartoonbrain" not in args.systems or set(args.systems) - set(SYSTEMS):
        parser.error(f"--systems takes cartoonbrain and any of {', '.join(SYSTEMS[1:])}")
    if any(j not in DEFAULT_REPEATS for j in args.jobs):
        parser.error(f"--jobs takes A, B and C; got {','.join(args.jobs)}")
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.worker and (args.worker[0] not in ("A", "B") or args.worker[1] not in SYSTEMS):
        parser.error(f"--worker takes A|B and one of {', '.join(SYSTEMS)}")
    return args


def available_systems(wanted: list[str]) -> list[str]:
    systems = [s for s in ("cartoonbrain", "cb_numpy") if s in wanted]
    for system, module in MODULES.items():
        if system not in wanted:
            continue
        if importlib.util.find_spec(module) is None:
            print(
                f"note: {NAMES[system]} is not installed; it is skipped (see benchmarks/README.md)"
            )
        else:
            systems.append(system)
    return systems


def main(argv: list[str] | None = None) -> int:
    global A_EPOCHS
    args = parse_args(argv)
    A_EPOCHS = args.a_epochs or A_EPOCHS
    limit_threads(args.threads)
    if args.worker:
        return worker(args)
    dtypes = ["float32", "float64"] if args.dtype == "both" else [args.dtype]
    print("cartoonbrain MLP benchmarks (benchmarks/mlp.py)")
    print("\n".join(machine_lines()), end="\n\n")
    systems = available_systems(args.systems)
    targets: list[Target] = []
    for job in ("A", "B", "C"):
        if job not in args.jobs:
            continue
        repeats = args.repeats or DEFAULT_REPEATS[job]
        try:
            if job == "A":
                targets += job_a(dtypes, repeats, systems, args.seed)
            elif job == "B":
                new, fractions = job_b(
                    dtypes, repeats, systems, args.seed, args.batch_sizes, args.b_samples
                )
                targets += new
                if not args.no_plot:
                    plot_b(fractions, args.batch_sizes, args.plot)
            else:
                targets += job_c(dtypes, repeats, systems, args.seed)
        except Exception:  # a benchmark reports what broke and goes on to the next job
            print(f"job {job} failed:\n{traceback.format_exc()}")
    if targets:
        print("Targets (issue): all jobs")
        print_targets(targets)
    print(load_line() + " (at the end)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
