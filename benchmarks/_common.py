"""Helpers shared by the benchmark scripts: the machine description, tables and verdicts.

Nothing here imports a peer library at module level, so a script that only needs NumPy
stays light; the machine description imports PyTorch only when asked to describe it.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

MISSING = "—"


# ---------------------------------------------------------------------- the machine
def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def cpu_flags() -> str:
    """The vector instruction sets the CPU reports (AVX2, FMA, AVX-512F), from /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = next(
                (set(line.split(":", 1)[1].split()) for line in f if line.startswith("flags")),
                set(),
            )
    except OSError:
        return "flags unknown"
    shown = [
        name
        for flag, name in (("avx2", "AVX2"), ("fma", "FMA"), ("avx512f", "AVX-512F"))
        if flag in flags
    ]
    return ", ".join(shown) or "no AVX2"


def accelerator() -> str:
    """cartoonbrain's accelerator in this process, with numba's version."""
    from cartoonbrain import _kernels

    numba = version("numba")
    return f"{_kernels.active()} (numba {numba or 'not installed'})"


def cores() -> str:
    """Logical cores, and how many of them this process may use when that differs."""
    total = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else total
    return f"{total} logical cores" + ("" if usable == total else f" ({usable} usable)")


def version(distribution: str) -> str | None:
    """The installed version of a distribution, or None when it is not installed."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def numpy_blas() -> str:
    """NumPy's BLAS: from threadpoolctl when installed (library, version, kernel, threads),
    else from ``numpy.show_config``."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        threadpool_info = None
    if threadpool_info is not None:
        found = [
            f"{i['internal_api']} {i.get('version')} ({i.get('architecture')} kernels, "
            f"{i['num_threads']} threads)"
            for i in threadpool_info()
            if i["user_api"] == "blas" and "numpy" in i["filepath"]
        ]
        if found:
            return "; ".join(found)
    try:
        config: Any = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except (TypeError, KeyError):  # NumPy < 1.25 has no mode="dicts"
        return "unknown (install threadpoolctl to see it)"


def torch_blas() -> str | None:
    """PyTorch's BLAS and CPU kernels, threads; None when PyTorch is not installed."""
    if importlib.util.find_spec("torch") is None:
        return None
    import torch

    shown = torch.__config__.show()
    blas = next((p.split("=", 1)[1] for p in shown.split(", ") if "BLAS_INFO=" in p), "?")
    capability = torch.backends.cpu.get_cpu_capability()
    return f"{blas} ({capability} kernels, {torch.get_num_threads()} threads)"


def machine_lines() -> list[str]:
    """Lines that say what ran the benchmark: CPU, cores, versions, BLAS, environment."""
    versions = ", ".join(
        f"{name} {version(dist) or 'not installed'}"
        for name, dist in (
            ("numpy", "numpy"),
            ("torch", "torch"),
            ("scikit-learn", "scikit-learn"),
            ("jax", "jax"),
            ("keras", "keras"),
            ("cartoonbrain", "cartoonbrain"),
            ("numba", "numba"),
        )
    )
    lines = [
        f"machine: {cpu_model()} ({cpu_flags()}), {cores()}, {platform.system()} "
        f"{platform.release()}",
        f"python {platform.python_version()}; {versions}",
        f"NumPy BLAS: {numpy_blas()}",
        f"cartoonbrain's accelerator: {accelerator()}",
    ]
    blas = torch_blas()
    if blas is not None:
        lines.append(f"PyTorch BLAS: {blas}")
    variables = [
        f"{name}={os.environ[name]}"
        for name in (
            "OPENBLAS_CORETYPE",
            "OPENBLAS_L2_SIZE",
            "OPENBLAS_NUM_THREADS",
            "OMP_NUM_THREADS",
            "MKL_NUM_THREADS",
            "XLA_FLAGS",
            "CARTOONBRAIN_ACCELERATOR",
        )
        if name in os.environ
    ]
    lines.append("environment: " + (" ".join(variables) or "no thread or core-type variables set"))
    lines.append(load_line())
    return lines


def limit_threads(threads: int | None) -> None:
    """Give every system ``threads`` threads: the variables that NumPy's OpenBLAS, PyTorch
    (OpenMP, MKL) and JAX (XLA's Eigen pool) read when they start, set for the worker
    processes; this process's BLAS and PyTorch, already loaded, are limited through
    threadpoolctl and ``torch.set_num_threads``. None leaves each its default (every core).
    On a machine shared with other work, one thread each avoids BLAS threads waiting for
    each other (an OpenBLAS 16×784·784×64 product: 0.4 ms on one thread, 17 ms on two, at a
    load of 11 on 2 cores)."""
    if threads is None:
        return
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)
    xla = f"--xla_cpu_multi_thread_eigen={'true' if threads > 1 else 'false'}"
    os.environ["XLA_FLAGS"] = f"{xla} intra_op_parallelism_threads={threads}"
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
    except ImportError:
        pass
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def load_line() -> str:
    """The 1-minute load average: above ~0.5 on an idle machine, timings are noisy."""
    if not hasattr(os, "getloadavg"):
        return "load average: unknown"
    one, five, _ = os.getloadavg()
    return f"load average: {one:.2f} (1 min), {five:.2f} (5 min)"


def peak_rss_kib() -> int:
    """This process's peak resident set size, in KiB.

    On Linux, ``VmHWM`` from /proc/self/status: ``getrusage(RUSAGE_SELF).ru_maxrss`` would
    do in a process started from a shell, but a process started by ``subprocess`` inherits
    its parent's peak through fork and exec (the kernel carries ``maxrss`` over exec), so
    every worker would report at least the parent's size. Elsewhere, ``ru_maxrss`` (macOS
    gives bytes).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])  # "VmHWM:   123456 kB"
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


# ---------------------------------------------------------------------- measuring
def call_seconds(call: Callable[[], object], calls: int = 5) -> list[float]:
    """Seconds of each of ``calls`` calls of ``call``, after one untimed call."""
    call()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def gemm_seconds(dtype: Any, size: int = 1024, calls: int = 5) -> list[float]:
    """Seconds of each of ``calls`` ``np.matmul(A, B, out=C)`` of two size×size matrices,
    after one untimed call. The rate is ``2 size³ / seconds``."""
    rng = np.random.default_rng(0)
    a = rng.random((size, size)).astype(dtype)
    b = rng.random((size, size)).astype(dtype)
    c = np.empty_like(a)
    return call_seconds(lambda: np.matmul(a, b, out=c), calls)


def rotated(items: Sequence[str], shift: int) -> list[str]:
    """``items`` started at position ``shift``: repeat r runs the systems in this order,
    so that none is always first (warm caches) or always last (a tired machine)."""
    shift %= max(len(items), 1)
    return [*items[shift:], *items[:shift]]


def median(values: Iterable[float | None]) -> float | None:
    """The median of the values that are not None, or None when there are none."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


# ---------------------------------------------------------------------- printing
def fmt(value: float | None, spec: str = ".2f") -> str:
    """``value`` formatted by ``spec``, or a dash when it is missing."""
    return MISSING if value is None else format(value, spec)


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A plain-text table: the first column left-aligned, the others right-aligned."""
    rows = [list(map(str, row)) for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        first, *rest = cells
        parts = [f"{first:<{widths[0]}}"] + [f"{c:>{w}}" for c, w in zip(rest, widths[1:])]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


#: the start of a child script that measures its own peak memory: ``status(key)`` reads
#: /proc/self/status; ``path, traced`` come from argv; ``base`` is the resident size now
#: and ``peak_rss()`` the peak since (VmHWM reset on Linux, ru_maxrss elsewhere);
#: tracemalloc is started when ``traced``
PEAK_PRELUDE = r"""
def status(key):
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith(key + ":"))


path, traced = sys.argv[1], sys.argv[2] == "1"
try:  # Linux: reset the peak (VmHWM) to the current resident size
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    base, peak_rss = status("VmRSS"), lambda: status("VmHWM")
except OSError:  # elsewhere: the peak so far, which imports may have raised
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    peak_rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
if traced:
    tracemalloc.start()
"""
