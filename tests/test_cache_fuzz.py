"""Hostile and careless cache folders (``train --cache``): whatever ``FILE.csv.cache``
holds, training rebuilds it, or serves it only when it was made from these very bytes,
or refuses in one line; nothing the cache did not write is ever removed or changed.

* Identity: an edit in place that keeps the size and the modification time rebuilds; a
  manifest whose content hash differs from the file's is not served.
* Ownership: another program's manifest.json, or a file of the user's among the cache's,
  is refused with nothing touched; a damaged cache of our own is rebuilt.
* Hostile manifests (any JSON, nested past the recursion limit, huge, not UTF-8) mean
  "rebuild", never a traceback.
* A full disk names the cache folder and the disk; a kill mid-build and a writer editing
  the CSV during the build leave the old cache (or none), never a half one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cartoonbrain as cb
from cartoonbrain.cli import _cachefolder, main
from csv_files import shop_csv

FUZZ = settings(
    max_examples=10 if os.environ.get("CI") else 30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
ARGV = ["--target", "label", "--impute", "mean", "--cache", "--epochs", "1", "--hidden", "4"]


def _train(data: Path, capsys, *more: str) -> tuple[int, list[str], str]:
    argv = ["train", "--data", str(data), *ARGV, "--out", str(data.parent / "m.npz")]
    status = main([*argv, "--force", *more])
    out, err = capsys.readouterr()
    return status, out.splitlines(), err


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def shop(tmp_path) -> Path:
    return shop_csv(tmp_path, 200)


def test_an_edit_in_place_with_size_and_mtime_kept_rebuilds(shop, capsys):
    assert _train(shop, capsys)[0] == 0
    status = shop.stat()
    with open(shop, "r+b") as f:  # the same inode, the same size
        text = f.read()
        f.seek(0)
        f.write(text.replace(b"big", b"BIG", 1))
    os.utime(shop, ns=(status.st_atime_ns, status.st_mtime_ns))
    after = shop.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        status.st_ino,
        status.st_size,
        status.st_mtime_ns,
    )
    code, out, err = _train(shop, capsys)
    assert code == 0, err
    assert "the CSV file changed" in out[0]
    assert "BIG" in cb.load(shop.parent / "m.npz").metadata["classes"]


def test_a_manifest_whose_content_hash_differs_is_not_served(shop, capsys):
    """The hash alone decides when the times agree (a file system whose times do not
    move, a clock set back): the manifest is told a hash of other bytes."""
    assert _train(shop, capsys)[0] == 0
    manifest_path = shop.parent / "shop.csv.cache" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["key"]["file"]["content"] = "0" * 32
    manifest_path.write_text(json.dumps(manifest))
    code, out, _ = _train(shop, capsys)
    assert code == 0 and "the CSV file changed" in out[0]


@given(position=st.floats(0, 1), byte=st.integers(0, 255))
@settings(max_examples=40, deadline=None)
def test_the_identity_of_a_small_file_sees_any_byte_changed(tmp_path_factory, position, byte):
    path = tmp_path_factory.mktemp("id") / "f.csv"
    data = bytearray(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8))
    path.write_bytes(bytes(data))
    before = _cachefolder.identity(path)
    at = min(int(position * len(data)), len(data) - 1)
    if data[at] == byte:
        byte = (byte + 1) % 256
    data[at] = byte
    path.write_bytes(bytes(data))
    assert _cachefolder.identity(path)["content"] != before["content"]


def test_the_identity_of_a_large_file_samples_its_first_and_last_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(_cachefolder, "FULL_HASH_BYTES", 1000)
    monkeypatch.setattr(_cachefolder, "BLOCK", 100)
    monkeypatch.setattr(_cachefolder, "SAMPLES", 4)
    path = tmp_path / "big.csv"
    for at in (0, 4999):
        data = bytearray(5000)
        path.write_bytes(bytes(data))
        before = _cachefolder.identity(path)["content"]
        data[at] = 1
        path.write_bytes(bytes(data))
        assert _cachefolder.identity(path)["content"] != before, at


def test_another_programs_manifest_loses_nothing(shop, capsys):
    folder = shop.parent / "shop.csv.cache"
    folder.mkdir()
    (folder / "manifest.json").write_text('{"tool": "mine", "version": 3}')
    (folder / "train-X.npy").write_bytes(b"my own data")
    before = _snapshot(folder)
    code, _, err = _train(shop, capsys)
    assert code == 2
    assert err.count("\n") == 1 and "did not write" in err and str(folder) in err
    assert _snapshot(folder) == before


def test_a_file_of_the_users_in_the_cache_is_kept_and_named(shop, capsys):
    assert _train(shop, capsys)[0] == 0
    folder = shop.parent / "shop.csv.cache"
    (folder / "notes.txt").write_text("mine")
    shop.write_text(shop.read_text() + "50.0,red,3.0,big\n")  # stale: a rebuild is due
    before = _snapshot(folder)
    code, _, err = _train(shop, capsys)
    assert code == 2 and "notes.txt" in err and err.count("\n") == 1
    assert _snapshot(folder) == before


def test_a_folder_without_a_manifest_is_refused_untouched(shop, capsys):
    folder = shop.parent / "shop.csv.cache"
    folder.mkdir()
    (folder / "train-X.npy").write_bytes(b"x")
    code, _, err = _train(shop, capsys)
    assert code == 2 and "not a cache folder" in err
    assert _snapshot(folder) == {"train-X.npy": b"x"}


HOSTILE = {
    "nested past the recursion limit": b"[" * 100_000 + b"]" * 100_000,
    "nested objects": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "not UTF-8": b'{"key": "\xff\xfe"}',
    "truncated": b'{"written_by": "cartoonbrain train --cache", "key": {',
    "a list": b"[1, 2, 3]",
    "a number": b"1e999999",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_a_hostile_manifest_means_rebuild_never_a_traceback(kind, shop, capsys):
    assert _train(shop, capsys)[0] == 0
    folder = shop.parent / "shop.csv.cache"
    (folder / "manifest.json").write_bytes(HOSTILE[kind])
    code, out, err = _train(shop, capsys)
    assert code == 0, err
    assert out[0].startswith(f"cache: writing {folder}")
    assert json.loads((folder / "manifest.json").read_text())["written_by"] == _cachefolder.MARK


def _values():
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=12,
    )


@FUZZ
@given(data=st.data())
def test_a_mutated_manifest_is_rebuilt_or_served_as_written(data, tmp_path_factory, capsys):
    """Any field of our own manifest replaced by any JSON value: the run trains (from a
    rebuilt cache, or from the cache when the change does not matter), exit 0; without
    its mark the manifest is another program's: refused, nothing touched."""
    shop = shop_csv(tmp_path_factory.mktemp("cache"), 120)
    assert _train(shop, capsys)[0] == 0
    path = shop.parent / "shop.csv.cache" / "manifest.json"
    manifest = json.loads(path.read_text())
    paths = [(k,) for k in manifest] + [("key", k) for k in manifest["key"]]
    where = data.draw(st.sampled_from(paths))
    value = data.draw(_values())
    inner = manifest
    for k in where[:-1]:
        inner = inner[k]
    inner[where[-1]] = value
    path.write_text(json.dumps(manifest))
    folder = path.parent
    before = _snapshot(folder)
    code, out, err = _train(shop, capsys)
    if where == ("written_by",) and value != _cachefolder.MARK:  # now another program's
        assert code == 2 and "did not write" in err and err.count("\n") == 1
        assert _snapshot(folder) == before
        return
    assert code == 0, err
    assert out[0].startswith("cache: ")


def test_a_full_disk_names_the_cache_folder_and_the_disk(shop, capsys, monkeypatch):
    """The writing of the features refused as NumPy reports a full disk ("N requested and
    M written", naming nothing): one line naming the folder and the room left on its disk;
    the old cache as it was, no temporary left."""
    import cartoonbrain.cli._cachebuild as build

    assert _train(shop, capsys)[0] == 0
    folder = shop.parent / "shop.csv.cache"
    before = _snapshot(folder)
    shop.write_text(shop.read_text() + "50.0,red,3.0,big\n")

    def full(*args):
        raise OSError("1048576 requested and 410624 written")

    monkeypatch.setattr(build, "_write", full)
    code, _, err = _train(shop, capsys)
    assert code == 2, err
    assert f"{folder}: cannot write the cache (1048576 requested and 410624 written)" in err
    assert "bytes free on the disk holding" in err and err.count("\n") == 1
    assert _snapshot(folder) == before
    assert not [p for p in shop.parent.iterdir() if p.name.startswith(".")]


_LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (3000, 3000))
from cartoonbrain.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="POSIX file size limits")
def test_a_real_refused_write_names_the_cache_folder(shop):
    """The kernel refuses every write past 3,000 bytes (RLIMIT_FSIZE, as a full disk
    refuses them), in a child process: one line, exit 2, nothing left behind."""
    argv = ["train", "--data", str(shop), *ARGV, "--out", str(shop.parent / "m.npz")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    run = subprocess.run(
        [sys.executable, "-c", _LIMITED, *argv], capture_output=True, text=True, env=env
    )
    assert run.returncode == 2, run.stderr
    assert run.stderr.count("\n") == 1, run.stderr
    assert f"{shop.parent / 'shop.csv.cache'}: cannot write the cache (" in run.stderr
    assert sorted(p.name for p in shop.parent.iterdir()) == ["shop.csv"]


_BUILD = """
import sys, time
import cartoonbrain.cli._cachebuild as build
real = build._write
def slow(*args):
    print("building", flush=True)
    time.sleep(30)
    return real(*args)
build._write = slow
from cartoonbrain.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _start_build(shop: Path) -> subprocess.Popen[str]:
    argv = ["train", "--data", str(shop), *ARGV, "--out", str(shop.parent / "k.npz")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen(
        [sys.executable, "-c", _BUILD, *argv], stdout=subprocess.PIPE, text=True, env=env
    )
    assert child.stdout is not None
    for line in child.stdout:
        if line.strip() == "building":
            return child
    raise AssertionError("the build did not start")


def test_a_build_killed_midway_leaves_the_old_cache_and_the_next_run_cleans_up(shop, capsys):
    assert _train(shop, capsys)[0] == 0
    folder = shop.parent / "shop.csv.cache"
    before = _snapshot(folder)
    shop.write_text(shop.read_text() + "50.0,red,3.0,big\n")
    child = _start_build(shop)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.stdout is not None
    child.stdout.close()
    assert _snapshot(folder) == before
    assert [p for p in shop.parent.iterdir() if p.name.endswith(".tmp")]  # left by the kill
    code, out, err = _train(shop, capsys)
    assert code == 0 and "changed" in out[0], err
    assert not [p for p in shop.parent.iterdir() if p.name.startswith(".")]


def test_a_writer_editing_the_csv_during_the_build_is_caught(shop, capsys, monkeypatch):
    """The file is identified again after the build: an edit that lands meanwhile (here
    one keeping the size and modification time) fails the run, and no cache is made."""
    import cartoonbrain.cli._cachebuild as build

    real = build._write

    def edited(*args):
        status = shop.stat()
        with open(shop, "r+b") as f:
            text = f.read()
            f.seek(0)
            f.write(text.replace(b"small", b"SMALL", 1))
        os.utime(shop, ns=(status.st_atime_ns, status.st_mtime_ns))
        time.sleep(0.01)
        return real(*args)

    monkeypatch.setattr(build, "_write", edited)
    code, _, err = _train(shop, capsys)
    assert code == 2 and "changed while it was being cached" in err
    assert not (shop.parent / "shop.csv.cache").exists()
    assert not [p for p in shop.parent.iterdir() if p.name.startswith(".")]
