"""The files a command reads and writes, checked before the command does any work.

Each command declares its file options once, as :class:`Files` in its parser's defaults:
the options naming files it reads, and those naming files it writes with the kind of file
each writes. Before the command runs, :func:`check_files` makes sure that

* every input is a regular file (a folder, a FIFO or a device is refused at once, and
  nothing is opened, so a FIFO never blocks);
* no output is one of the inputs or another output: the same file by device and inode,
  so a link or another spelling of the path is caught;
* an existing output is a regular file of the kind written (a model file where a model
  goes, text where a CSV goes), unless ``--force``; an existing ``--checkpoint`` is only
  replaced with ``--resume`` (continue) or ``--force`` (start over);
* every output's folder exists (a report's may be created) and can be written in.

So a mistyped path costs nothing: it is refused before any training starts. While
writing, :func:`naming` makes an OSError name the user's path (a full disk, say), never
the temporary file the atomic write goes through.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import os
import re
import stat
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..data.csvdata import file_type
from ._errors import CommandError

__all__ = [
    "CHECKPOINT",
    "CSV",
    "MODEL",
    "ONNX",
    "REPORT",
    "REPORT_NAME",
    "Files",
    "beside",
    "check_files",
    "naming",
    "output_path",
    "user_path",
]

#: kinds of output file
MODEL, CHECKPOINT, CSV, ONNX, REPORT = "model", "checkpoint", "csv", "onnx", "report"
#: the file a ``--report DIR`` option writes in DIR
REPORT_NAME = "report.html"
#: what an existing file must hold to be replaced by each kind, and the kind in words
_EXPECTED = {
    MODEL: ("npz", "a model file"),
    CHECKPOINT: ("npz", "a checkpoint"),
    CSV: ("text", "a CSV file"),
    ONNX: ("binary", "an ONNX file"),
    REPORT: ("text", "an HTML report"),
}
_HOLDS = {
    "npz": "a NumPy .npz archive (a model file)",
    "zip": "a zip archive",
    "text": "text (such as a CSV file)",
    "binary": "binary data",
}
_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.\d+\.tmp$")  # io.atomic_write's .NAME.PID.tmp


@dataclass(frozen=True)
class Files:
    """A command's file options: ``inputs`` are read, ``outputs`` (option → kind) written."""

    inputs: tuple[str, ...] = ()
    outputs: Mapping[str, str] = field(default_factory=dict)


def flag(option: str) -> str:
    return "--" + option.replace("_", "-")


def output_path(kind: str, value: str) -> Path:
    """The file an output option names: ``DIR/report.html`` for a report, else the value."""
    return Path(value) / REPORT_NAME if kind == REPORT else Path(value)


def beside(path: str | os.PathLike[str], tag: str) -> Path:
    """``NAME.TAG.SUFFIX`` next to ``NAME.SUFFIX`` (e.g. ``model.diverged.npz``)."""
    path = Path(path)
    return path.with_name(f"{path.stem}.{tag}{path.suffix}")


def check_files(args: argparse.Namespace) -> None:
    """Refuse, before any work, every input or output that would fail or lose a file."""
    files: Files | None = getattr(args, "files", None)
    if files is None:
        return
    resuming = getattr(args, "resume", False)
    inputs = [(o, getattr(args, o)) for o in files.inputs if getattr(args, o, None) is not None]
    for option, value in inputs:
        _check_input(option, value)
    written: list[tuple[str, Path]] = []
    for option, kind in files.outputs.items():
        value = getattr(args, option, None)
        if value is None:
            continue
        path = output_path(kind, value)
        for other, other_path in [*inputs, *written]:
            if _same_file(path, Path(other_path)):
                what = "an input" if (other, other_path) in inputs else "another output"
                raise CommandError(
                    f"{flag(option)} {path} is the same file as {flag(other)} {other_path}; "
                    f"writing it would replace {what}: give {flag(option)} another path"
                )
        if kind == CHECKPOINT and resuming and os.path.lexists(path):
            _check_input(option, value)  # read first, then written again
        else:
            _check_existing(option, kind, path, getattr(args, "force", False))
        _check_folder(option, kind, path)
        written.append((option, path))


def _check_input(option: str, value: str) -> None:
    try:
        mode = os.stat(value).st_mode
    except FileNotFoundError:
        raise CommandError(f"{value}: no such file (given as {flag(option)})") from None
    except OSError as exc:
        raise CommandError(f"{value}: cannot be read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(mode):
        raise CommandError(
            f"{value}: is {file_type(mode)}, not a regular file ({flag(option)} reads a file)"
        )


def _check_existing(option: str, kind: str, path: Path, force: bool) -> None:
    """An existing output: a regular file, of the kind written (or --force); a checkpoint
    only with --resume or --force."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return  # nothing there (the folder is checked next)
    except OSError as exc:
        raise CommandError(f"{flag(option)} {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise CommandError(
            f"{flag(option)} {path}: is {file_type(mode)}, not a regular file; "
            "give the path of a file to write"
        )
    holds = _holds(path)
    wanted, what = _EXPECTED[kind]
    if force or holds == "empty":
        return
    if holds != wanted:
        raise CommandError(
            f"{flag(option)} {path} exists and holds {_HOLDS[holds]}, not {what}; choose "
            "another path, or add --force to replace it"
        )
    if kind == CHECKPOINT:
        raise CommandError(
            f"--checkpoint {path} already holds a checkpoint; add --resume to continue that "
            "run, or --force to start over and replace it"
        )


def _holds(path: Path) -> str:
    """What a regular file holds, from its first bytes: empty, npz, zip, text or binary."""
    with open(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb") as f:
        head = f.read(4096)
    if not head:
        return "empty"
    if head.startswith(b"PK\x03\x04"):
        name_length = int.from_bytes(head[26:28], "little")
        return "npz" if head[30 : 30 + name_length].endswith(b".npy") else "zip"
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "binary"
    controls = set(map(chr, range(32))) - set("\t\n\r\f")  # protobuf tags, NUL, ...
    return "binary" if controls.intersection(text) else "text"


def _same_file(a: Path, b: Path) -> bool:
    """The same file: by device and inode when both exist, else by resolved path."""
    try:
        sa, sb = os.stat(a), os.stat(b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def _check_folder(option: str, kind: str, path: Path) -> None:
    """The output's folder exists (a report's may be created) and can be written in."""
    folder = path.parent
    if kind == REPORT:  # write_report creates the folder: the nearest existing one counts
        if folder.exists() and not folder.is_dir():
            raise CommandError(f"{flag(option)} {folder}: is a file, not a folder")
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
    if not folder.exists():
        raise CommandError(f"{flag(option)} {path}: the folder {folder} does not exist")
    if not folder.is_dir():
        raise CommandError(f"{flag(option)} {path}: {folder} is not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise CommandError(
            f"{flag(option)} {path}: cannot write in the folder {folder} ({exc.strerror or exc})"
        ) from None


def user_path(name: str | os.PathLike[str]) -> str:
    """The user's path for a file name, mapping ``.NAME.PID.tmp`` back to ``NAME``."""
    path = Path(name)
    match = _TEMPORARY.match(path.name)
    return str(path.with_name(match["name"])) if match else str(name)


@contextlib.contextmanager
def naming(path: str | os.PathLike[str]) -> Iterator[None]:
    """Re-raise an OSError while writing ``path`` as one that names ``path``: a full disk
    or a write error inside a library call reports the user's file."""
    try:
        yield
    except OSError as exc:
        if exc.filename is None or user_path(exc.filename) != str(exc.filename):
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
        raise
