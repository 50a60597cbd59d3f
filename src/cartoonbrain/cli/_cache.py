"""``cartoonbrain train --data FILE.csv --cache``: train from a CSV file larger than memory.

The file is converted once (:mod:`._cachebuild`) into a folder beside it,
``FILE.csv.cache/``::

    manifest.json   what the files hold, and the key they were made for
    train-X.npy     the training rows' features, preprocessed, in the network's dtype
    train-y.npy     their targets: class ids, or the numbers
    test-X.npy      the same for the test rows (--test-split)
    test-y.npy

and ``fit`` reads the features through ``np.load(..., mmap_mode="r")``: one batch of rows
at a time, the operating system's page cache deciding what stays in memory. The model
learns its Preprocessor from the training rows as ``train`` does in memory, with the same
split, order and statistics, so it is the model that training without ``--cache`` gives.

The key is the CSV file's size, modification time and inode, and every option that
changes the files (target, drop, impute, task, seed, test split, dtype). A cache whose key
differs is rebuilt, never used; the folder is replaced only by a complete one (built in
``.FILE.csv.cache.PID.tmp``, then renamed), so an interrupted build leaves the old cache or
none.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._data import Data
from ._errors import CommandError

__all__ = [
    "CachedData",
    "cache_folder",
    "cached_data",
    "evaluate_test",
    "refuse_options",
    "targets",
]

#: the version of the files' layout: a cache of another version is rebuilt
FORMAT = 1
#: options that the cache cannot honour, and why
REFUSED = {
    "dataset": "the built-in datasets are in memory already",
    "report": "the report evaluates the test set in memory",
    "conv": "convolutions need a built-in image dataset",
    "rnn": "recurrent layers need a built-in sequence dataset",
}


def refuse_options(args: argparse.Namespace) -> None:
    """--cache with an option it cannot honour: one line naming them all."""
    given = [name for name in REFUSED if getattr(args, name, None) not in (None, (), False)]
    if given:
        flags = ", ".join(f"--{name} ({REFUSED[name]})" for name in given)
        raise CommandError(f"--cache trains from --data FILE.csv; it cannot be used with {flags}")
    if args.data is None:
        raise CommandError("--cache goes with --data FILE.csv, the file to convert")


def cache_folder(path: str | os.PathLike[str]) -> Path:
    """Where the cache of the CSV file ``path`` lives: ``path`` + ``.cache``."""
    path = Path(path)
    return path.with_name(path.name + ".cache")


@dataclass
class CachedData(Data):
    """:class:`._data.Data` from a cache: X and X_test are memmaps of the preprocessed
    features, y and y_test class ids or numbers, with the fitted ``preprocessor``."""

    preprocessor: Any = None

    def codecs(self, loss: Any) -> tuple[Any, Any]:
        """The Preprocessor and the TargetEncoder, as ``model_codecs`` makes them."""
        from ..data.preprocessing import TargetEncoder

        if self.task == "classification":
            assert self.classes is not None
            encoder = TargetEncoder("classes").fit(np.asarray(self.classes))
            if encoder.classes != self.classes:
                raise CommandError(f"class labels {self.classes} do not sort as {encoder.classes}")
            return self.preprocessor, encoder
        if loss.output_activation is not None:
            return self.preprocessor, None
        return self.preprocessor, TargetEncoder("scale").fit(self.y)

    def categories(self, name: str) -> list[str]:
        """The categories the model one-hot encodes for text column ``name``."""
        return next(c["categories"] for c in self.preprocessor.columns_ if c["name"] == name)


def cached_data(
    args: argparse.Namespace, task: str, drop: list[str], impute: str | None
) -> CachedData:
    """The training data of ``--data`` from its cache, built first if missing or stale."""
    key = _key(args, task, drop, impute)
    folder = cache_folder(args.data)
    data, why = _load(folder, key, args.data)
    if data is not None:
        _say(args, f"cache: reading {folder} (made for this file and these options)")
        return data
    _say(args, f"cache: writing {folder} ({why})")
    began = time.perf_counter()
    _build(args.data, folder, key)
    data, why = _load(folder, key, args.data)
    if data is None:
        raise CommandError(f"{folder}: the cache just written cannot be read ({why})")
    _say(
        args, f"cache: {len(data.X):,} training rows written in {time.perf_counter() - began:.1f} s"
    )
    return data


def _say(args: argparse.Namespace, line: str) -> None:
    if not getattr(args, "quiet", False):
        print(line, flush=True)


def _key(
    args: argparse.Namespace, task: str, drop: list[str], impute: str | None
) -> dict[str, Any]:
    """What the cache's files depend on: the CSV file as it is, and the options."""
    status = os.stat(args.data)
    return {
        "format": FORMAT,
        "file": {"size": status.st_size, "mtime_ns": status.st_mtime_ns, "inode": status.st_ino},
        "target": args.target,
        "drop": sorted(set(drop)),
        "impute": impute,
        "task": task,
        "seed": args.seed,
        "test_split": args.test_split,
        "dtype": args.dtype,
    }


def _load(folder: Path, key: dict[str, Any], name: str) -> tuple[CachedData | None, str]:
    """The cache in ``folder`` if it was made for ``key``, else None and why not."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except FileNotFoundError:
        return None, "no cache yet"
    except (OSError, ValueError):
        return None, "its manifest cannot be read"
    if not isinstance(manifest, dict) or manifest.get("key") != key:
        return None, _stale(manifest.get("key") if isinstance(manifest, dict) else None, key)
    try:
        return _data(folder, manifest, name), ""
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return None, f"its files do not match its manifest: {exc}"


def _data(folder: Path, manifest: dict[str, Any], name: str) -> CachedData:
    """The cache's arrays (features as memmaps) and what the manifest says of them."""
    from ..data.preprocessing import Preprocessor

    key, rows = manifest["key"], manifest["rows"]
    (X, y), (X_test, y_test) = (
        _arrays(folder, part, rows[part], manifest["inputs"], key["dtype"])
        for part in ("train", "test")
    )
    return CachedData(
        name,
        X,
        y,
        manifest["task"],
        manifest["classes"],
        manifest["features"],
        X_test if rows["test"] else None,
        y_test if rows["test"] else None,
        target=key["target"],
        reason=manifest["reason"],
        text_columns=manifest["text_columns"],
        preprocessor=Preprocessor.from_config(manifest["preprocessor"]),
    )


def _arrays(folder: Path, part: str, n: int, inputs: int, dtype: str) -> tuple[Any, Any]:
    """``part``-X.npy as a memmap and ``part``-y.npy in memory, checked against the manifest."""
    X = np.load(folder / f"{part}-X.npy", mmap_mode="r", allow_pickle=False)
    y = np.load(folder / f"{part}-y.npy", allow_pickle=False)
    if X.shape != (n, inputs) or X.dtype != np.dtype(dtype) or len(y) != n:
        raise ValueError(
            f"{part}-X.npy has shape {X.shape} of {X.dtype}, {part}-y.npy {len(y)} rows"
        )
    return X, y


def _stale(old: Any, key: dict[str, Any]) -> str:
    """Why a cache made for ``old`` does not serve ``key``, in words."""
    if not isinstance(old, dict):
        return "its manifest is not one this version writes"
    if old.get("file") != key["file"]:
        return "the CSV file changed since it was written"
    changed = [name for name in key if old.get(name) != key[name]]
    return "made with other options: " + ", ".join(
        f"{name.replace('_', '-')} {old.get(name)} then, {key[name]} now" for name in changed
    )


def _build(path: str, folder: Path, key: dict[str, Any]) -> None:
    """Convert ``path`` into a new cache folder, swapped in whole when complete."""
    from ._cachebuild import convert

    if folder.exists() and not (folder / "manifest.json").is_file():
        raise CommandError(f"{folder} exists and is not a cache folder; move it away")
    _remove_stale(folder)
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        manifest = {"key": key, **convert(path, tmp, key)}
        if _key_of_file(path) != key["file"]:
            raise CommandError(f"{path} changed while it was being cached; run again")
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1))
        _sync(tmp)
        old = folder.with_name(f".{folder.name}.{os.getpid()}.old")
        if folder.exists():
            os.replace(folder, old)
        os.replace(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _key_of_file(path: str) -> dict[str, int]:
    status = os.stat(path)
    return {"size": status.st_size, "mtime_ns": status.st_mtime_ns, "inode": status.st_ino}


def _sync(folder: Path) -> None:
    """Every file of ``folder`` on the disk before the folder is renamed into place."""
    for path in folder.iterdir():
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove_stale(folder: Path) -> None:
    """Folders left by builds that were killed (``.NAME.PID.tmp`` and ``.old``)."""
    from ..io.atomic import _pid_alive

    for leftover in folder.parent.glob(f".{folder.name}.*.*"):
        pid = leftover.name[len(folder.name) + 2 :].split(".")[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True)


# ---------------------------------------------------------------- training from it
def targets(net: Any, y: Any) -> Any:
    """The cache's targets as the loss takes them: a regression target through the
    model's scaling (what ``net.targets`` would do); class ids as they are."""
    encoder = net.target_encoder
    return encoder.encode(y) if encoder is not None and encoder.kind == "scale" else y


def evaluate_test(net: Any, data: CachedData) -> dict[str, float]:
    """``net.evaluate`` on the cache's test rows, read a batch at a time from the memmap."""
    from ..train.sources import check_large_inputs

    X = check_large_inputs(net, data.X_test, "X_test")
    t = net.check_targets(targets(net, data.y_test), len(X), "y_test")
    return dict(net.evaluate_arrays(X, t))
