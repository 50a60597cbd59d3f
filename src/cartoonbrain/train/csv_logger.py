"""CSVLogger: each epoch's logs as a row of a CSV file (Keras's ``CSVLogger``).

The file is the user's: appending never drops a value and never merges two rows. A new
file (or ``append=False``) gets the header ``epoch, <the first epoch's keys, sorted>``;
appending to a file that has a header writes under that header, in its order, and
refuses, in one line and before writing anything, logs with a column the header lacks;
a last line without its newline gets one before the first new row.
"""

from __future__ import annotations

import csv
import io
import os
from typing import Any

import numpy as np

from .callbacks import Callback, register_callback

__all__ = ["CSVLogger", "check_separator", "read_header"]


def check_separator(separator: Any) -> str:
    """A separator the csv module writes and reads back: one character that is not a line
    break, the quote character or NUL."""
    if not (isinstance(separator, str) and len(separator) == 1):
        raise ValueError(f"CSVLogger's separator must be one character; got {separator!r}")
    if separator in '\r\n"\x00':
        raise ValueError(
            f"CSVLogger's separator must not be a line break, '\"' or NUL; got {separator!r}"
        )
    return separator


def _check_filename(filename: Any) -> str:
    if not isinstance(filename, (str, os.PathLike)):
        raise ValueError(f"CSVLogger's filename must be a path; got {filename!r}")
    path = os.fspath(filename)
    if not isinstance(path, str) or not path or "\x00" in path:
        raise ValueError(f"CSVLogger's filename must be a non-empty path; got {filename!r}")
    if os.path.isdir(path):
        raise ValueError(f"CSVLogger's filename {path!r} is a folder; expected a file")
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise ValueError(f"CSVLogger's folder {folder!r} does not exist (for {path!r})")
    return path


def read_header(path: str, separator: str) -> list[str] | None:
    """The header of an existing log (None for an empty file), checked: its first column
    is ``epoch`` and its names are distinct."""
    with open(path, newline="", encoding="utf-8") as f:
        header = next(csv.reader(f, delimiter=separator), None)
    if not header:
        return None
    if header[0] != "epoch" or len(set(header)) != len(header):
        raise ValueError(
            f"CSVLogger cannot append to {path!r}: its header {header[:6]!r} is not a log's "
            f"(distinct columns starting with 'epoch', separated by {separator!r})"
        )
    return header[1:]


def _ends_with_newline(path: str) -> bool:
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        if f.tell() == 0:
            return True
        f.seek(-1, os.SEEK_END)
        return f.read(1) in (b"\n", b"\r")


@register_callback
class CSVLogger(Callback):
    """Write each epoch's logs as a row of a CSV file (Keras's ``CSVLogger``).

    Parameters
    ----------
    filename : path, in a folder that exists (checked now)
    separator : str, default ","
        One character, not a line break, ``"`` or NUL (checked now).
    append : bool, default False
        Add rows to an existing file under its own header (not written again) instead of
        starting a new file. Logs with a column that header lacks are refused (one line,
        nothing written); a header column these logs lack is left empty.
    """

    def __init__(
        self, filename: str | os.PathLike[str], separator: str = ",", append: bool = False
    ) -> None:
        self.filename = _check_filename(filename)
        self.separator = check_separator(separator)
        if not isinstance(append, (bool, np.bool_)):
            raise ValueError(f"CSVLogger's append must be True or False; got {append!r}")
        self.append = bool(append)
        self.keys: list[str] | None = None
        self.needs_newline = False

    def get_config(self) -> dict[str, Any]:
        return {
            "name": "CSVLogger",
            "filename": self.filename,
            "separator": self.separator,
            "append": self.append,
        }

    @classmethod
    def example(cls, folder: str) -> CSVLogger:
        return cls(os.path.join(folder, "log.tsv"), separator="\t", append=True)

    def on_train_begin(self, logs: dict[str, float]) -> None:
        self.keys, self.needs_newline = None, False
        if self.append and os.path.isfile(self.filename):
            self.keys = read_header(self.filename, self.separator)
            self.needs_newline = not _ends_with_newline(self.filename)
        else:
            open(self.filename, "w", encoding="utf-8").close()

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        header = None
        if self.keys is None:
            self.keys = sorted(logs)
            header = ["epoch", *self.keys]
        missing = sorted(set(logs) - set(self.keys))
        if missing:
            raise ValueError(
                f"CSVLogger cannot append to {self.filename!r}: its header has no column "
                f"for {', '.join(missing)} (it has {', '.join(['epoch', *self.keys])}); "
                "write to a new file"
            )
        text = io.StringIO()
        writer = csv.writer(text, delimiter=self.separator)  # rows end "\r\n", as before
        if header is not None:
            writer.writerow(header)
        writer.writerow([epoch, *(logs.get(k, "") for k in self.keys)])
        try:  # one write of whole rows: an appending writer beside it never splits one
            with open(self.filename, "a", newline="", encoding="utf-8") as f:
                f.write(("\r\n" if self.needs_newline else "") + text.getvalue())
        except OSError as exc:  # a full disk, a file made read-only: say which file
            raise OSError(
                exc.errno,
                f"CSVLogger could not write epoch {epoch} to {self.filename!r}: "
                f"{exc.strerror or exc}",
            ) from None
        self.needs_newline = False
