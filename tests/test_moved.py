"""0.1.0's module paths still import in 0.2.0 (cartoonbrain/_moved.py): each is the module
at its new place, with a DeprecationWarning that names that place; the documented ones
(``cartoonbrain.gradcheck``, ``cartoonbrain.datasets``) without a warning."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from cartoonbrain._moved import MOVED, QUIET

LOUD = sorted(set(MOVED) - set(QUIET))


def _fresh_import(old: str, extra: str = "") -> subprocess.CompletedProcess[str]:
    code = (
        "import warnings, importlib\n"
        "warnings.simplefilter('error')\n"
        "import cartoonbrain\n"
        f"m = importlib.import_module({old!r})\n"
        f"{extra}"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


@pytest.mark.parametrize("old", LOUD)
def test_an_old_path_is_the_new_module_with_a_warning_naming_it(old):
    with pytest.warns(DeprecationWarning, match=f"{old} moved to {MOVED[old]}"):
        sys.modules.pop(old, None)
        module = importlib.import_module(old)
    assert module is importlib.import_module(MOVED[old])
    assert module.__spec__.name == MOVED[old]  # its own relative imports still resolve


@pytest.mark.parametrize("old", sorted(QUIET))
def test_a_documented_old_path_imports_quietly(old):
    done = _fresh_import(old, f"assert m is importlib.import_module({MOVED[old]!r})\n")
    assert done.returncode == 0, done.stderr


def test_from_an_old_path_import_a_name_and_cb_gradcheck_stays_the_function():
    done = _fresh_import(
        "cartoonbrain.gradcheck",
        "from cartoonbrain.gradcheck import central_difference\n"
        "import cartoonbrain as cb\n"
        "assert callable(cb.gradcheck) and cb.gradcheck.__name__ == 'gradcheck'\n",
    )
    assert done.returncode == 0, done.stderr


def test_an_old_path_fails_loudly_under_warnings_as_errors():
    done = _fresh_import("cartoonbrain.csvdata")
    assert done.returncode != 0 and "moved to cartoonbrain.data.csvdata" in done.stderr


def test_every_moved_path_is_gone_from_the_top_and_lives_where_it_says():
    import cartoonbrain

    top = {p.stem for p in __import__("pathlib").Path(cartoonbrain.__file__).parent.glob("*.py")}
    for old, new in MOVED.items():
        assert old.rsplit(".", 1)[1] not in top, f"{old} is still a file at the top"
        assert importlib.util.find_spec(new) is not None
