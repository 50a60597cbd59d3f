"""What a ``train --cache`` folder was made from, and which of its files it may remove.

*Identity.* A cache serves a CSV file only if it was made from these very bytes:
:func:`identity` is the file's size, modification and change times and inode (cheap, and
the change time moves on every write, even one that puts the modification time back)
together with a BLAKE2b hash of its content: of every byte for a file up to
:data:`FULL_HASH_BYTES`, of its size and :data:`SAMPLES` blocks spread evenly over it
(first and last included) for a larger one. A file edited in place with its size and
modification time kept gets another change time and, when the edit is sampled or the
file small, another hash: rebuilt, never served stale.

*Ownership.* The manifest says which files the build wrote (``"files"``) and that it is
``train --cache``'s (``"written_by"``). Only a folder whose manifest says so, and which
holds nothing else, is replaced, and only the files it lists are removed; a folder with
another program's ``manifest.json`` or with files of the user's is refused, nothing
touched. A manifest that cannot be read (damaged, too large, nested too deeply to parse, not a JSON
object) in a folder holding nothing but the names a cache writes is a damaged cache:
rebuilt. Reading a manifest never raises: anything wrong with it means "rebuild".
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ._errors import CommandError

__all__ = [
    "FILES",
    "FULL_HASH_BYTES",
    "MARK",
    "SAMPLES",
    "identity",
    "read_manifest",
    "removable",
    "replace_folder",
]

#: the ``written_by`` of every manifest a cache build writes
MARK = "cartoonbrain train --cache"
#: the names a cache folder may hold, all written by the build
FILES = ("manifest.json", "train-X.npy", "train-y.npy", "test-X.npy", "test-y.npy")
#: a file up to this size is hashed whole; a larger one by SAMPLES blocks of BLOCK bytes
FULL_HASH_BYTES = 1 << 26
SAMPLES = 256
BLOCK = 1 << 16
#: a manifest larger than this is not one a build wrote (its preprocessor: ~100 B a column)
MAX_MANIFEST_BYTES = 1 << 26


def identity(path: str | os.PathLike[str]) -> dict[str, Any]:
    """What the file at ``path`` is now: size, times, inode and a hash of its content."""
    with open(path, "rb") as f:
        status = os.fstat(f.fileno())
        digest = hashlib.blake2b(digest_size=16)
        size = status.st_size
        digest.update(size.to_bytes(8, "little"))
        if size <= FULL_HASH_BYTES:
            while block := f.read(1 << 20):
                digest.update(block)
        else:
            for k in range(SAMPLES):
                f.seek((size - BLOCK) * k // (SAMPLES - 1))
                digest.update(f.read(BLOCK))
    return {
        "size": size,
        "mtime_ns": status.st_mtime_ns,
        "ctime_ns": status.st_ctime_ns,
        "inode": status.st_ino,
        "content": digest.hexdigest(),
    }


def read_manifest(folder: Path) -> tuple[Any, str]:
    """The manifest of ``folder`` (any JSON value) and ``""``, or None and why it cannot be
    read: missing, too large, not UTF-8 JSON, nested too deeply. Never raises."""
    path = folder / "manifest.json"
    try:
        with open(path, "rb") as f:
            text = f.read(MAX_MANIFEST_BYTES + 1)
    except FileNotFoundError:
        return None, "no cache yet"
    except OSError as exc:
        return None, f"its manifest cannot be read ({exc.strerror or exc})"
    if len(text) > MAX_MANIFEST_BYTES:
        return None, "its manifest is larger than any this version writes"
    try:
        return json.loads(text), ""
    except (ValueError, RecursionError, MemoryError):  # RecursionError: nested too deeply
        return None, "its manifest cannot be read"


def _entries(folder: Path) -> list[str]:
    try:
        return sorted(p.name for p in folder.iterdir())
    except FileNotFoundError:
        return []


def removable(folder: Path) -> list[str]:
    """The files of ``folder`` that replacing it may remove: those its own manifest lists
    as written by a cache build (or, for a manifest that cannot be read, the cache's own
    names). CommandError, touching nothing, for a folder holding anything else."""
    if not folder.exists() and not folder.is_symlink():
        return []
    if folder.is_symlink() or not folder.is_dir():
        raise CommandError(f"{folder} exists and is not a cache folder; move it away")
    entries = _entries(folder)
    manifest, why = read_manifest(folder)
    if why == "no cache yet":
        raise CommandError(f"{folder} exists and is not a cache folder; move it away")
    listed = _listed(manifest)
    if listed is None:
        raise CommandError(
            f"{folder} holds a manifest.json that {MARK} did not write; move the folder away "
            "(nothing in it was touched)"
        )
    others = [name for name in entries if name not in listed]
    if others:
        shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        raise CommandError(
            f"{folder} holds files the cache did not write ({shown}); move them away "
            "(nothing in it was touched)"
        )
    return entries


def _listed(manifest: Any) -> list[str] | None:
    """The files a manifest says a cache build wrote (with itself); the cache's own names
    for one of ours that is damaged (not a JSON object, not readable, a bad list, or of
    the first format, which kept no list); None for another program's (a JSON object
    without the mark)."""
    if not isinstance(manifest, dict):
        return list(FILES)
    key, files = manifest.get("key"), manifest.get("files")
    if manifest.get("written_by") == MARK:
        if isinstance(files, list) and all(isinstance(f, str) and f in FILES for f in files):
            return ["manifest.json", *files]
        return list(FILES)
    if isinstance(key, dict) and key.get("format") == 1 and "written_by" not in manifest:
        return list(FILES)
    return None


def replace_folder(tmp: Path, folder: Path, remove: list[str]) -> None:
    """Put the complete build ``tmp`` in place of ``folder``, removing only ``remove`` (the
    old folder's files, as :func:`removable` allowed) and then the emptied folder."""
    if folder.exists():
        old = folder.with_name(f".{folder.name}.{os.getpid()}.old")
        os.replace(folder, old)
        os.replace(tmp, folder)
        for name in remove:
            with contextlib.suppress(FileNotFoundError):
                (old / name).unlink()
        with contextlib.suppress(OSError):  # not empty: something appeared; it stays
            old.rmdir()
    else:
        os.replace(tmp, folder)
