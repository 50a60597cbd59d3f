"""Where the accelerator keeps its compiled kernels, and when that folder may be used.

numba's cached machine code is pickled: loading it runs what the file says. So the
kernels are cached only in a folder that nobody else can write to, checked before numba is
imported:

* the folder is ``$CARTOONBRAIN_KERNEL_CACHE`` if set, else
  ``$XDG_CACHE_HOME/cartoonbrain/kernels`` (``~/.cache/cartoonbrain/kernels``);
* it is created with mode 0700 where it is missing (its missing parents too);
* it must be a directory owned by this user, readable and writable by them and writable
  by no one else (no group or other write bit);
* each folder above it must be owned by this user or by root and writable by no one else,
  or carry the sticky bit (as /tmp does: there only an entry's owner may rename it), so
  that no one else can swap the folder for one of their own.

Anything else raises :class:`CacheRefused` with one line naming the folder and what is
wrong; the accelerator then stays on NumPy (``cartoonbrain._kernels`` warns once). This
module imports only the standard library.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["CacheRefused", "folder"]


class CacheRefused(OSError):
    """The kernel cache's folder cannot be used (the message says which and why)."""


def default() -> Path:
    """The folder the kernels are cached in when nothing says otherwise."""
    chosen = os.environ.get("CARTOONBRAIN_KERNEL_CACHE", "").strip()
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or os.path.join("~", ".cache")
    return Path(base).expanduser() / "cartoonbrain" / "kernels"


def folder(path: Path | None = None) -> Path:
    """The kernel cache's folder (``path`` or :func:`default`), made if missing and checked
    as the module's docstring says; returns its resolved path or raises CacheRefused."""
    path = (default() if path is None else Path(path)).absolute()
    try:
        _make(path)
        resolved = path.resolve(strict=True)
        _check_own(resolved)
        for parent in resolved.parents:
            _check_above(parent, resolved)
    except CacheRefused:
        raise
    except OSError as exc:
        raise CacheRefused(f"kernel cache {path}: {exc.strerror or exc}") from exc
    return resolved


def _make(path: Path) -> None:
    """Create ``path`` and its missing parents with mode 0700 (umask may only narrow it)."""
    missing = []
    for p in (path, *path.parents):
        if os.path.lexists(p):
            break
        missing.append(p)
    for p in reversed(missing):
        try:
            os.mkdir(p, 0o700)
        except FileExistsError:  # (made meanwhile by another process: checked below)
            pass


def _check_own(path: Path) -> None:
    info = os.stat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise CacheRefused(f"kernel cache {path} is not a directory")
    if info.st_uid != os.geteuid():
        raise CacheRefused(
            f"kernel cache {path} belongs to user {info.st_uid}, not to this user "
            f"({os.geteuid()}); expected a folder of one's own"
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise CacheRefused(
            f"kernel cache {path} is writable by others (mode {stat.S_IMODE(info.st_mode):o}); "
            "expected mode 0700 (chmod 700 it, or set CARTOONBRAIN_KERNEL_CACHE)"
        )
    if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
        raise CacheRefused(f"kernel cache {path} is not readable and writable by this user")


def _check_above(parent: Path, path: Path) -> None:
    info = os.stat(parent)
    if info.st_uid not in (0, os.geteuid()):
        raise CacheRefused(
            f"kernel cache {path} lies in {parent}, which belongs to user {info.st_uid}; "
            "expected folders of this user's or root's above it"
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not info.st_mode & stat.S_ISVTX:
        raise CacheRefused(
            f"kernel cache {path} lies in {parent}, which others may write to "
            f"(mode {stat.S_IMODE(info.st_mode):o}); expected no group or other write bit"
        )
