"""Atomic file writing: a path only ever holds its old content or the complete new one.

The new content goes to a temporary file in the same folder (``.NAME.PID.tmp``), which is
flushed, fsync'ed, checked, and only then renamed over the destination with
``os.replace`` (atomic on POSIX and Windows within one file system). A failed or
interrupted write leaves the destination untouched; temporaries of writers that were
killed are removed by the next write to the same path.
"""

from __future__ import annotations

import contextlib
import glob
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_write", "file_mode"]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: alive, someone else's
        return True
    return True


def _remove_stale_temporaries(path: Path) -> None:
    """Delete temporaries of ``path`` left by writers that were killed (SIGKILL, power loss)."""
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = tmp.name[len(path.name) + 2 : -len(".tmp")]
        if pid.isdigit() and not _pid_alive(int(pid)):
            with contextlib.suppress(OSError):
                tmp.unlink()


def file_mode(path: Path) -> int:
    """The permissions a new file at ``path`` should get: the old file's, else 0o666 & ~umask."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _naming(exc: OSError, path: Path) -> OSError:
    """The same error, naming the user's path instead of the hidden temporary file."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    try:
        if exc.errno is None:
            return type(exc)(f"cannot write {path}: {reason}")
        return type(exc)(exc.errno, f"cannot write {path}: {reason}")
    except Exception:  # a subclass with another constructor
        return OSError(exc.errno, f"cannot write {path}: {reason}")


def atomic_write(
    path: str | os.PathLike[str],
    write: Callable[[BinaryIO], None],
    verify: Callable[[Path], object] | None = None,
) -> None:
    """Write a file so that ``path`` only ever holds its old content or the complete new one.

    ``write`` fills a temporary file in the same folder (named ``.NAME.PID.tmp``), which
    is flushed and fsync'ed, checked by ``verify`` (if given), then renamed over ``path``
    with ``os.replace``. On any failure the temporary is removed and ``path`` is untouched;
    an OSError (a full disk, a folder that cannot be written) names ``path``, never the
    temporary. Temporaries of writers that were killed are removed by the next write.
    """
    path = Path(path)
    folder = path.parent
    _remove_stale_temporaries(path)
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, file_mode(path))
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if verify is not None:
            verify(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise _naming(exc, path) from exc
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
