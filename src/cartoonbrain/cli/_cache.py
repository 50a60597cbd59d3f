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

The key is the CSV file's identity (:func:`._cachefolder.identity`: size, times, inode and
a hash of its content) and every option that changes the files (target, drop, impute,
task, seed, test split, dtype). A cache whose key differs is rebuilt, never used; the
folder is replaced only by a complete one (built in ``.FILE.csv.cache.PID.tmp``, then
renamed), so an interrupted build leaves the old cache or none, and only the files its
own manifest lists are removed (:func:`._cachefolder.removable`): a folder holding
anything else is refused, untouched. A manifest that cannot be read means "rebuild".
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import glob
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._cachefolder import FILES, MARK, identity, read_manifest, removable, replace_folder
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
FORMAT = 2
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
    return {
        "format": FORMAT,
        "file": identity(args.data),
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
    manifest, why = read_manifest(folder)
    if why:
        return None, why
    if not isinstance(manifest, dict) or manifest.get("written_by") != MARK:
        return None, "its manifest is not one this version writes"
    if manifest.get("key") != key:
        return None, _stale(manifest.get("key"), key)
    try:
        return _data(folder, manifest, name), ""
    except Exception as exc:  # whatever a crafted manifest makes go wrong: rebuild
        return None, f"its files do not match its manifest: {_shown(exc)}"


def _shown(value: Any, limit: int = 60) -> str:
    """A value from a manifest in a message: one line, cut at ``limit`` characters."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _data(folder: Path, manifest: dict[str, Any], name: str) -> CachedData:
    """The cache's arrays (features as memmaps) and what the manifest says of them, every
    field checked against the others and the files (ValueError: rebuild)."""
    from ..data.preprocessing import Preprocessor

    key, rows = manifest["key"], manifest["rows"]
    task, classes, features = manifest["task"], manifest["classes"], manifest["features"]
    pre = Preprocessor.from_config(manifest["preprocessor"])
    _check_fields(manifest, pre)
    (X, y), (X_test, y_test) = (
        _arrays(folder, part, rows[part], pre.n_features_out, key["dtype"], classes)
        for part in ("train", "test")
    )
    return CachedData(
        name,
        X,
        y,
        task,
        classes,
        features,
        X_test if rows["test"] else None,
        y_test if rows["test"] else None,
        target=key["target"],
        reason=manifest["reason"],
        text_columns=manifest["text_columns"],
        preprocessor=pre,
    )


def _check_fields(manifest: dict[str, Any], pre: Any) -> None:
    """The manifest's fields of the types and sizes a build writes, agreeing with its
    Preprocessor; ValueError naming the first that does not."""
    task, classes, features = manifest["task"], manifest["classes"], manifest["features"]
    rows, texts = manifest["rows"], manifest["text_columns"]
    labels = isinstance(classes, list) and len(classes) >= 2
    checks = {
        "task": task in ("classification", "regression"),
        "classes": (labels and all(type(c) in (str, int, float) for c in classes))
        if task == "classification"
        else classes is None,
        "features": features == pre.feature_names_in_ and bool(features),
        "text_columns": texts == [c["name"] for c in pre.columns_ if c["kind"] == "text"],
        "reason": isinstance(manifest["reason"], str),
        "rows": isinstance(rows, dict)
        and all(type(rows.get(part)) is int and rows[part] >= 0 for part in ("train", "test"))
        and rows["train"] > 0,
        "inputs": manifest["inputs"] == pre.n_features_out,
    }
    wrong = [field for field, ok in checks.items() if not ok]
    if wrong:
        raise ValueError(f"its {wrong[0]} is not what the build writes")


def _arrays(
    folder: Path, part: str, n: int, inputs: int, dtype: str, classes: list[Any] | None
) -> tuple[Any, Any]:
    """``part``-X.npy as a memmap and ``part``-y.npy in memory, checked against the manifest:
    the shape and dtype, and class ids among the classes (or finite numbers)."""
    X = np.load(folder / f"{part}-X.npy", mmap_mode="r", allow_pickle=False)
    y = np.load(folder / f"{part}-y.npy", allow_pickle=False)
    if X.shape != (n, inputs) or X.dtype != np.dtype(dtype) or len(y) != n:
        raise ValueError(
            f"{part}-X.npy has shape {X.shape} of {X.dtype}, {part}-y.npy {len(y)} rows"
        )
    if classes is not None:
        ok = y.dtype.kind in "iu" and y.ndim == 1
        ok = ok and (n == 0 or 0 <= int(y.min()) <= int(y.max()) < len(classes))
    else:
        ok = y.dtype.kind == "f" and bool(np.isfinite(y).all())
    if not ok:
        raise ValueError(f"{part}-y.npy does not hold what the manifest says")
    return X, y


def _stale(old: Any, key: dict[str, Any]) -> str:
    """Why a cache made for ``old`` does not serve ``key``, in words."""
    if not isinstance(old, dict):
        return "its manifest is not one this version writes"
    if old.get("format") != key["format"]:
        return "its manifest is not one this version writes"
    if old.get("file") != key["file"]:
        return "the CSV file changed since it was written"
    changed = [name for name in key if old.get(name) != key[name]]
    return "made with other options: " + ", ".join(
        f"{name.replace('_', '-')} {_shown(old.get(name))} then, {key[name]} now"
        for name in changed
    )


def _build(path: str, folder: Path, key: dict[str, Any]) -> None:
    """Convert ``path`` into a new cache folder, swapped in whole when complete."""
    from ._cachebuild import convert

    remove = removable(folder)  # before any work: a folder not ours is refused, untouched
    _remove_stale(folder)
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        try:
            manifest = {"written_by": MARK, "key": key, **convert(path, tmp, key)}
            manifest["files"] = sorted(p.name for p in tmp.iterdir())
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1))
            _sync(tmp)
        except OSError as exc:
            if not _failed_write(exc):
                raise
            raise _write_error(exc, tmp, folder) from None
        if identity(path) != key["file"]:
            raise CommandError(f"{path} changed while it was being cached; run again")
        replace_folder(tmp, folder, remove)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _failed_write(exc: OSError) -> bool:
    """A write that the disk refused: no room, a quota, a file too large, read-only."""
    full = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS)
    return exc.errno in full or (exc.errno is None and "requested and" in str(exc))


def _write_error(exc: OSError, tmp: Path, folder: Path) -> CommandError:
    """A failed write during a build (a full disk: NumPy's "N requested and M written"),
    naming the cache folder, the disk it is on and the room left there."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    try:
        free = shutil.disk_usage(tmp.parent).free
        room = f"; {free:,} bytes free on the disk holding {tmp.parent}"
    except OSError:
        room = ""
    return CommandError(f"{folder}: cannot write the cache ({reason}){room}")


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

    for leftover in folder.parent.glob(f".{glob.escape(folder.name)}.*.*"):
        pid, _, kind = leftover.name[len(folder.name) + 2 :].partition(".")
        if not pid.isdigit() or _pid_alive(int(pid)):
            continue
        if kind == "tmp":  # a build's own folder
            shutil.rmtree(leftover, ignore_errors=True)
        elif kind == "old":  # an old cache: its files only, anything else stays
            for name in FILES:
                with contextlib.suppress(OSError):
                    (leftover / name).unlink()
            with contextlib.suppress(OSError):
                leftover.rmdir()


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
