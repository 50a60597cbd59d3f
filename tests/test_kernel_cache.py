"""The accelerator fails soft and loads only where it pays (cartoonbrain._kernels).

* Its cache folder (``_kernels.cache.folder``) is made with mode 0700 and refused where
  someone else could write to it: a refusal is one line naming the folder, and the process
  stays on NumPy without importing numba.
* A cache file that cannot be read (damaged) or written (a full disk, a folder gone
  read-only) gives one AcceleratorWarning, the right result, and NumPy for the rest of
  the process.
* numba is imported only once the work its kernels would save reaches what loading costs:
  a small job never imports it.

Each numba case runs in a fresh process with its own cache folder (the kernels compile
there once per test: a few seconds).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cartoonbrain as cb
from cartoonbrain import _kernels
from cartoonbrain._kernels.cache import CacheRefused, folder

NUMBA = pytest.mark.skipif(not _kernels.available(), reason="numba is not installed")
ROOT = os.geteuid() == 0  # (root writes through any mode bits)

#: a job that steps Adam once on the accelerator (when it is on), then prints whether numba
#: was imported, the accelerator in use, the warnings it gave and the step's result
JOB = """
import sys, warnings, numpy as np, cartoonbrain as cb
from cartoonbrain import _kernels
{setup}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    {load}
    w = np.ones(5)
    cb.Adam(0.5).step([w], [np.arange(5.0) - 2])
    {after}
print('numba' in sys.modules, _kernels.active(), len(caught))
for warning in caught:
    print(warning.category.__name__, str(warning.message))
print(repr(w.tolist()))
"""


def numpy_step() -> str:
    """What the job's Adam step gives on NumPy alone (the kernel gives the same bits)."""
    previous = _kernels.use("numpy")
    try:
        w = np.ones(5)
        cb.Adam(0.5).step([w], [np.arange(5.0) - 2])
    finally:
        _kernels.use(previous)
    return repr(w.tolist())


NUMPY_STEP = numpy_step()


def run(cache: Path, setup: str = "", load: str = "_kernels.get('adam')", after: str = ""):
    """The job in a fresh process with ``cache`` as its kernel cache: (first line, warning
    lines, result line)."""
    env = {k: v for k, v in os.environ.items() if k != "CARTOONBRAIN_ACCELERATOR"}
    env["CARTOONBRAIN_KERNEL_CACHE"] = str(cache)
    code = JOB.format(setup=setup, load=load, after=after or "pass")
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    return lines[0], lines[1:-1], lines[-1]


def test_the_folder_is_made_with_mode_0700_parents_too(tmp_path):
    made = folder(tmp_path / "a" / "b")
    assert made == (tmp_path / "a" / "b").resolve()
    for path in (tmp_path / "a", made):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    assert folder(made) == made  # (and taken as it is the second time)


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o702])
def test_a_folder_others_can_write_to_is_refused(tmp_path, mode):
    cache = tmp_path / "kernels"
    cache.mkdir()
    cache.chmod(mode)
    with pytest.raises(CacheRefused, match=r"kernels is writable by others \(mode 7"):
        folder(cache)


def test_a_folder_inside_one_others_can_write_to_is_refused_unless_sticky(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(CacheRefused, match=r"lies in .*shared, which others may write to"):
        folder(shared / "kernels")
    shared.chmod(0o1777)  # as /tmp: only an entry's owner may rename it
    assert folder(shared / "kernels") == (shared / "kernels").resolve()


def test_a_file_or_a_path_through_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(CacheRefused, match="file is not a directory"):
        folder(tmp_path / "file")
    with pytest.raises(CacheRefused, match=r"kernel cache .*file/kernels: Not a directory"):
        folder(tmp_path / "file" / "kernels")


@pytest.mark.skipif(ROOT, reason="root may write to any folder")
def test_a_folder_this_user_cannot_write_to_is_refused(tmp_path):
    cache = tmp_path / "kernels"
    cache.mkdir(mode=0o500)
    with pytest.raises(CacheRefused, match="not readable and writable by this user"):
        folder(cache)


@NUMBA
def test_a_refused_folder_keeps_numba_out_with_one_warning(tmp_path):
    cache = tmp_path / "kernels"
    cache.mkdir()
    cache.chmod(0o777)
    first, warnings, result = run(cache)
    assert first == "False numpy 1"  # numba was never imported
    assert warnings[0].startswith("AcceleratorWarning the accelerator is off, NumPy does the")
    assert "kernels is writable by others (mode 777)" in warnings[0]
    assert result == NUMPY_STEP


@NUMBA
def test_a_damaged_cache_gives_one_warning_the_right_step_then_numpy(tmp_path):
    cache = tmp_path / "kernels"
    assert run(cache) == ("True numba 0", [], NUMPY_STEP)  # compiles and caches adam
    files = [p for p in cache.rglob("*") if p.suffix in (".nbi", ".nbc")]
    assert {p.suffix for p in files} == {".nbi", ".nbc"}
    assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o700 for p in cache.rglob("*") if p.is_dir())
    for path in files:  # truncated, as by a full disk or a killed write
        path.write_bytes(path.read_bytes()[: os.path.getsize(path) // 2])
    first, warnings, result = run(cache)
    assert first == "True numpy 1"
    assert "could not read the compiled kernel 'adam'" in warnings[0]
    assert result == NUMPY_STEP  # (compiled afresh for the call that found it damaged)
    assert run(cache) == ("True numba 0", [], NUMPY_STEP)  # that compile healed the cache


@NUMBA
@pytest.mark.parametrize(
    "error", ["OSError(errno.ENOSPC, 'No space left on device')", "PermissionError(13, 'no')"]
)
def test_a_cache_that_cannot_be_written_gives_one_warning_then_numpy(tmp_path, error):
    setup = (
        "import errno, numba.core.caching as caching\n"
        f"def full(self, *args): raise {error}\n"
        "caching.IndexDataCacheFile._save_data = full"
    )
    # adam is compiled (nothing can be saved), runs, and then NumPy takes over
    after = "assert _kernels.get('sgd') is None"
    first, warnings, result = run(tmp_path / "kernels", setup=setup, after=after)
    assert first == "True numpy 1"
    assert "could not write the compiled kernel 'adam'" in warnings[0]
    assert result == NUMPY_STEP


@NUMBA
def test_small_jobs_never_import_numba(tmp_path):
    """A fit, predict and evaluate of a small network stay on NumPy: what the kernels
    would save there is far below what loading numba costs."""
    job = (
        "import numpy as np\n"
        "X = np.random.default_rng(0).normal(size=(512, 20)).astype(np.float32)\n"
        "y = (X[:, 0] > 0).astype(np.int64)\n"
        "net = cb.Network([cb.Dense(20, 64, 'relu'), cb.Dense(64, 2)], "
        "loss='cross_entropy', seed=0)\n"
        "net.fit(X, y, epochs=3, batch_size=32, optimizer=cb.Adam(1e-3))\n"
        "net.predict(X); net.predict(X[:1]); net.evaluate(X, y)"
    )
    first, warnings, _ = run(tmp_path / "kernels", load=job.replace("\n", "\n    "))
    assert (first, warnings) == ("False numba 0", [])
    assert _kernels.LOAD_COST > 0.1  # (a threshold, not a switch)


@NUMBA
def test_enough_work_loads_numba_and_the_kernels_run(tmp_path):
    setup = "_kernels.LOAD_COST = 1e-3  # (passed by a million elements, not by five)"
    load = "assert _kernels.get('adam', 5) is None and _kernels.get('adam', 10**6)"
    assert run(tmp_path / "kernels", setup=setup, load=load) == ("True numba 0", [], NUMPY_STEP)
