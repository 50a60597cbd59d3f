"""A released package's conventions: one version, read everywhere from one place; the
typing marker shipped; ``python -m cartoonbrain``; a CHANGELOG entry for the version."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

import cartoonbrain as cb
from cartoonbrain._version import __version__

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(cb.__file__).resolve().parent


def test_the_version_is_written_once_and_read_from_there():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    attr = project["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "cartoonbrain._version.__version__"
    assert cb.__version__ == __version__ == "0.2.0"
    assert importlib.metadata.version("cartoonbrain") == __version__


def test_python_dash_m_cartoonbrain_is_the_command():
    done = subprocess.run(
        [sys.executable, "-m", "cartoonbrain", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.strip() == f"cartoonbrain {__version__}"


def test_the_package_is_marked_as_typed():
    assert (PACKAGE / "py.typed").is_file()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "py.typed" in project["tool"]["setuptools"]["package-data"]["cartoonbrain"]


def test_the_changelog_describes_this_version():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## {__version__}" in text and "## 0.1.0" in text
