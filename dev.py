#!/usr/bin/env python3
"""Set-up and everyday commands for cartoonbrain, using only the Python standard library.

    python3 dev.py run [ARGS...]    the main job: ``cartoonbrain ARGS`` (default: ``train``)
    python3 dev.py test [PYTEST ARGS...]   ruff format --check, ruff check, mypy, pytest
    python3 dev.py bench NAME       run ``benchmarks/NAME.py`` (installs the peers it needs)

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
# what a benchmark needs beyond PyTorch (which every benchmark gets): not in pyproject,
# since no part of cartoonbrain uses them
BENCH_EXTRAS = {"fused_adam": ["numba"]}


def _pip(*args: str) -> None:
    cmd = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "-q", *args]
    subprocess.run(cmd, check=True, cwd=ROOT)


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
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / f".cartoonbrain-{extras}.stamp"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"dev.py: installing cartoonbrain[{extras}] into {VENV}", flush=True)
    _pip("install", "-e", f".[{extras}]")
    stamp.write_text(digest)


def run(*cmd: str) -> int:
    return subprocess.run(list(cmd), cwd=ROOT).returncode


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
    steps = [
        [str(PYTHON), "-m", "ruff", "format", "--check", "."],
        [str(PYTHON), "-m", "ruff", "check", "."],
        [str(PYTHON), "-m", "mypy"],
        [str(PYTHON), "-m", "pytest", *rest],
    ]
    for step in steps:
        print(
            "dev.py:",
            " ".join(Path(step[0]).name if i == 0 else s for i, s in enumerate(step)),
            flush=True,
        )
        code = run(*step)
        if code != 0:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
