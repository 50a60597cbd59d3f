"""Opening a user's file for reading: a regular file only, refused before anything is
read when it is a folder, a FIFO or a device (so nothing ever blocks or reads forever)."""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

from .csvcolumns import DataFileError

__all__ = ["file_type", "open_regular"]

#: bytes read from the file at a time
_CHUNK = 1 << 20


def file_type(mode: int) -> str:
    """What a non-regular file is, in words: "a folder", "a FIFO (named pipe)", …"""
    kinds = [
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]
    return next((text for test, text in kinds if test(mode)), "not a regular file")


def open_regular(path: str | os.PathLike[str], what: str = "file") -> BinaryIO:
    """Open a regular file for reading; a folder, FIFO or device is refused at once.

    The file is opened with O_NONBLOCK and checked with fstat before anything is read,
    so a FIFO with no writer never blocks and ``/dev/zero`` is never read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise DataFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataFileError(f"{path}: is a folder, not a {what}") from None
    except OSError as exc:
        raise DataFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise DataFileError(f"{path}: is {file_type(mode)}, not a {what}")
    return open(fd, "rb", buffering=_CHUNK)  # the caller closes it
