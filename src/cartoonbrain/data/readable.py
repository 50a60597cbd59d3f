"""Opening a user's file for reading: a regular file only, refused before anything is
read when it is a folder, a FIFO or a device (so nothing ever blocks or reads forever);
and what real CSV files hold besides their values: the separator (sniffed) and the
markers of missing cells."""

from __future__ import annotations

import csv
import os
import stat
from typing import BinaryIO

from .csvcolumns import DataFileError

__all__ = ["NA_VALUES", "SEPARATORS", "file_type", "open_regular", "sniff_separator"]

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


#: cells read as missing by default (after stripping): what R, spreadsheets, pandas and UCI
#: files write for a gap
NA_VALUES = frozenset(["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "?", "."])
#: the field separators :func:`sniff_separator` chooses from, most usual first
SEPARATORS = (",", ";", "\t", "|")
#: characters of the file's start read to sniff the separator
_SNIFF_CHARS = 1 << 16


def sniff_separator(sample: str) -> str:
    """The separator of the CSV text ``sample`` (its first lines): the one of
    :data:`SEPARATORS` that splits the header into the most fields while the rows after it
    have as many (quotes respected); ``,`` when none splits the header."""
    lines = sample.splitlines()
    if len(sample) >= _SNIFF_CHARS and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut short
    best, most = ",", 1
    for sep in SEPARATORS:
        try:
            rows = [r for r in csv.reader(lines[:50], delimiter=sep) if any(f.strip() for f in r)]
        except csv.Error:
            continue
        if not rows or len(rows[0]) <= most:
            continue
        if all(len(r) == len(rows[0]) for r in rows[1:]) or len(rows) == 1:
            best, most = sep, len(rows[0])
    return best


def _separator(sep: str | None) -> str | None:
    """``sep`` as csv takes it: ``"tab"`` or ``"\\t"`` for a tab; one character."""
    if sep is None:
        return None
    sep = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}.get(sep, sep)
    if len(sep) != 1 or sep in '"\r\n':
        raise ValueError(f"sep must be one character such as , ; | or tab; got {sep!r}")
    return sep


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip().lower() not in ("nan", "+nan", "-nan")
