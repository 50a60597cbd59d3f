"""Reading an ``.npz`` archive without trusting it.

``np.load`` allocates what a member's ``.npy`` header asks for and inflates a compressed
member as far as it goes before anything is checked. Here every size is checked first,
against the file's own size and against :class:`Limits`:

* the zip's end record: how many members it declares (before the directory is parsed);
* each member of the directory: a plain ``NAME.npy`` name, no duplicates, no encryption,
  stored or deflated, its declared extent inside the file, and for compressed members
  their declared inflated size, added up;
* each ``.npy`` header, read by itself (at most ``max_header_bytes``): a plain numeric or
  string dtype (an object dtype would need pickle), a shape of non-negative integers whose
  size in bytes is exactly what the member declares;

and a member is then read in bounded chunks into an array of that size (or into an array
the caller gives, of that dtype and shape), never further. Memory in use is thus at most
the file's size plus ``max_inflated_bytes``.
"""

from __future__ import annotations

import ast
import math
import os
import re
import stat
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO, NamedTuple

import numpy as np
from numpy.typing import NDArray

from .errors import ModelFileError, model_file_error

__all__ = ["Header", "Limits", "NpzReader", "open_npz", "open_regular"]

MEMBER_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,199}")
_CHUNK = 1 << 20
_END = b"PK\x05\x06"


@dataclass(frozen=True)
class Limits:
    """What a file may ask for before it is refused (the sizes of a file's own contents
    are bounded by the file's size; these bound everything else)."""

    #: members in the archive
    max_members: int = 65_536
    #: bytes of one ``.npy`` header (NumPy's own limit is 10,000)
    max_header_bytes: int = 10_000
    #: bytes all compressed members inflate to together (cartoonbrain never compresses)
    max_inflated_bytes: int = 256 << 20
    #: bytes of the JSON config
    max_config_bytes: int = 16 << 20
    #: nesting of the JSON config's lists and objects
    max_config_depth: int = 64
    #: dimensions of one array
    max_dimensions: int = 32


class Header(NamedTuple):
    """A member's checked ``.npy`` header: what the array is, and where its data starts."""

    dtype: np.dtype
    shape: tuple[int, ...]
    fortran_order: bool
    #: bytes before the data (magic, length and header text)
    length: int


def open_regular(path: str | os.PathLike[str], shown: object) -> BinaryIO:
    """``path`` opened for reading if it is a regular file; a FIFO, device, socket or
    folder is refused at once (opening does not wait for a FIFO's writer)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ModelFileError(f"{shown}: no such file") from None
    except IsADirectoryError:
        raise ModelFileError(f"{shown}: is a folder, not a model file") from None
    except OSError as exc:
        raise model_file_error(shown, exc.strerror or str(exc), "cannot be read") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a FIFO, device or socket)"
        raise ModelFileError(f"{shown}: is {kind}, not a model file")
    return os.fdopen(fd, "rb")


def _declared_members(f: BinaryIO, size: int, shown: object) -> int:
    """The number of members the zip's end record declares (zip64 included)."""
    tail = min(size, 22 + 0xFFFF)
    f.seek(size - tail)
    data = f.read(tail)
    at = data.rfind(_END)
    if at < 0 or len(data) - at < 22:
        raise model_file_error(shown, "no zip directory at its end: truncated?")
    count = int.from_bytes(data[at + 10 : at + 12], "little")
    if count == 0xFFFF and at >= 20 and data[at - 20 : at - 16] == b"PK\x06\x07":
        offset = int.from_bytes(data[at - 12 : at - 4], "little")
        if offset + 56 > size:
            raise model_file_error(shown, "its zip64 directory lies beyond the end of the file")
        f.seek(offset)
        record = f.read(56)
        if record[:4] != b"PK\x06\x06":
            raise model_file_error(shown, "bad zip64 end record")
        count = int.from_bytes(record[32:40], "little")
    return count


def _check_members(
    infos: list[zipfile.ZipInfo], size: int, limits: Limits, shown: object
) -> dict[str, zipfile.ZipInfo]:
    members: dict[str, zipfile.ZipInfo] = {}
    inflated = 0
    for info in infos:
        name = info.filename
        if not (name.endswith(".npy") and MEMBER_NAME.fullmatch(name[:-4])):
            raise model_file_error(
                shown,
                f"member {name[:80]!r} is not a NAME.npy array",
                "not a cartoonbrain model file",
            )
        key = name[:-4]
        if key in members:
            raise model_file_error(shown, f"member {name!r} appears twice")
        if info.flag_bits & 0x1:
            raise model_file_error(shown, f"member {name!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise model_file_error(shown, f"member {name!r}: compression {info.compress_type}")
        if info.header_offset + info.compress_size > size:
            raise model_file_error(shown, f"member {name!r} reaches beyond the end of the file")
        if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
            raise model_file_error(shown, f"member {name!r}: inconsistent sizes")
        if info.compress_type == zipfile.ZIP_DEFLATED:
            inflated += info.file_size
            if inflated > limits.max_inflated_bytes:
                raise model_file_error(
                    shown,
                    f"its compressed members would inflate to more than "
                    f"{limits.max_inflated_bytes:,} bytes",
                    "refused",
                )
        members[key] = info
    return members


def _header(member: BinaryIO, info: zipfile.ZipInfo, limits: Limits, shown: object) -> Header:
    """The ``.npy`` header at the start of ``member``, checked, also against the size the
    archive's directory declares for the member."""
    name = info.filename
    magic = member.read(8)
    if len(magic) < 8 or magic[:6] != b"\x93NUMPY" or magic[6] not in (1, 2, 3):
        raise model_file_error(shown, f"member {name!r} is not a .npy array")
    width = 2 if magic[6] == 1 else 4
    length = int.from_bytes(member.read(width), "little")
    if length > limits.max_header_bytes:
        raise model_file_error(
            shown,
            f"member {name!r} has a .npy header of {length:,} bytes; the limit is "
            f"{limits.max_header_bytes:,}",
            "refused",
        )
    text = member.read(length)
    try:
        header = ast.literal_eval(text.decode("latin1" if magic[6] < 3 else "utf-8"))
    except Exception:  # SyntaxError, ValueError, MemoryError, RecursionError...
        raise model_file_error(shown, f"member {name!r}: unreadable .npy header") from None
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise model_file_error(shown, f"member {name!r}: unreadable .npy header")
    dtype = _dtype(header["descr"], name, shown)
    shape = header["shape"]
    if (
        not isinstance(shape, tuple)
        or len(shape) > limits.max_dimensions
        or not all(type(n) is int and n >= 0 for n in shape)
        or not isinstance(header["fortran_order"], bool)
    ):
        raise model_file_error(shown, f"member {name!r}: bad shape {str(shape)[:80]}")
    nbytes = math.prod(shape) * dtype.itemsize
    if 8 + width + length + nbytes != info.file_size:
        raise model_file_error(
            shown,
            f"member {name!r} declares {dtype} {shape} ({nbytes:,} bytes) but holds "
            f"{info.file_size - 8 - width - length:,} bytes",
        )
    return Header(dtype, shape, header["fortran_order"], 8 + width + length)


def _dtype(descr: object, name: str, shown: object) -> np.dtype:
    if descr in ("|O", "O", "<O", ">O"):
        raise model_file_error(
            shown,
            f"member {name!r} holds pickled Python objects, which could run code; "
            "cartoonbrain model files never do",
            "refused",
        )
    try:
        dtype = np.dtype(descr) if isinstance(descr, str) else None  # lists: structured
    except Exception:
        dtype = None
    if dtype is None or dtype.kind not in "biufcSU" or dtype.itemsize == 0:
        raise model_file_error(shown, f"member {name!r}: unsupported dtype {str(descr)[:40]!r}")
    return dtype


def _read_data(member: BinaryIO, name: str, into: memoryview, shown: object) -> None:
    """The member's data, after its header, into ``into`` (its size exactly)."""
    done, nbytes = 0, len(into)
    while done < nbytes:
        chunk = member.read(min(_CHUNK, nbytes - done))
        if not chunk:
            raise model_file_error(shown, f"member {name!r} is truncated")
        into[done : done + len(chunk)] = chunk
        done += len(chunk)
    if member.read(1):
        raise model_file_error(shown, f"member {name!r} is longer than it declares")


def _read_array(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    limits: Limits,
    shown: object,
    out: NDArray[Any] | None = None,
) -> NDArray[Any]:
    name = info.filename
    with archive.open(info) as member:
        header = _header(member, info, limits, shown)  # type: ignore[arg-type]
        if out is not None and (out.dtype, out.shape) != (header.dtype, header.shape):
            raise model_file_error(  # the file changed since its headers were read
                shown, f"member {name!r} is {header.dtype} {header.shape}, not {out.dtype}"
            )
        if out is not None and out.flags.c_contiguous and not header.fortran_order:
            into = out.reshape(-1).view(np.uint8).data  # straight into out
            _read_data(member, name, into, shown)  # type: ignore[arg-type]
            return out
        buffer = bytearray(info.file_size - header.length)
        _read_data(member, name, memoryview(buffer), shown)  # type: ignore[arg-type]
    array = np.frombuffer(buffer, dtype=header.dtype)
    array = array.reshape(header.shape, order="F" if header.fortran_order else "C")
    if out is None:
        return array
    out[...] = array
    return out


class NpzReader:
    """The checked members of an open archive: :attr:`sizes` (declared array bytes, header
    included) by name, :meth:`header` for what one array is, and :meth:`read` for one
    array."""

    def __init__(self, archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]) -> None:
        self._archive, self._members = archive, members
        self.sizes = {name: info.file_size for name, info in members.items()}

    def header(self, name: str, limits: Limits, shown: object) -> Header:
        """The member's checked ``.npy`` header (its data is not read)."""
        info = self._members[name]
        with self._archive.open(info) as member:
            return _header(member, info, limits, shown)  # type: ignore[arg-type]

    def read(
        self, name: str, limits: Limits, shown: object, out: NDArray[Any] | None = None
    ) -> NDArray[Any]:
        """The member's array; with ``out`` (a writable array of the header's dtype and
        shape), read into it, straight from the file when it is C-contiguous, and returned."""
        return _read_array(self._archive, self._members[name], limits, shown, out)


@contextmanager
def open_npz(path: str | os.PathLike[str], shown: object, limits: Limits) -> Iterator[NpzReader]:
    """The archive at ``path`` with its directory checked (see the module docstring).
    ModelFileError for anything wrong, including errors raised while it is open."""
    with open_regular(path, shown) as f:
        size = os.fstat(f.fileno()).st_size
        if f.read(4) != b"PK\x03\x04":
            raise ModelFileError(f"{shown}: not a cartoonbrain model file (not an .npz archive)")
        try:
            count = _declared_members(f, size, shown)
            if count > limits.max_members:
                raise model_file_error(
                    shown, f"{count:,} members; the limit is {limits.max_members:,}", "refused"
                )
            f.seek(0)
            with zipfile.ZipFile(f) as archive:
                infos = archive.infolist()
                if len(infos) > limits.max_members:
                    raise model_file_error(shown, f"{len(infos):,} members", "refused")
                yield NpzReader(archive, _check_members(infos, size, limits, shown))
        except ModelFileError:
            raise
        except Exception as exc:  # BadZipFile, zlib.error, struct.error, OSError, ...
            raise model_file_error(shown, exc) from None
