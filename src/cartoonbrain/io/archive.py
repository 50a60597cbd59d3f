"""The archive: a JSON-able config dict plus named NumPy arrays, in one checked file.

It knows nothing of networks (as tinygrad's ``safe_save``/``safe_load``): a model, a
checkpoint or anything else is written as ``write_archive(path, config, arrays)`` and read
back as ``config, arrays = read_archive(path)``, or array by array, into arrays of the
reader's own, with :func:`open_archive`. The file is a ``.npz`` archive holding

* ``config.json``: the config, with ``format`` and ``format_version`` added, as UTF-8 JSON
  bytes (a uint8 array);
* one ``NAME.npy`` per array (plain numeric or string arrays: never objects);
* ``checksum``: SHA-256 over everything above (see :func:`digest`), checked on reading.

Writing is atomic (:func:`~cartoonbrain.io.atomic.atomic_write`), and the temporary file
is read back and verified before it replaces anything. Reading never unpickles, checks
every size before allocating (:mod:`cartoonbrain.io.npz`), and turns every problem into a
one-line :class:`ModelFileError` naming the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .atomic import atomic_write
from .errors import ModelFileError, model_file_error
from .npz import MEMBER_NAME, Header, Limits, NpzReader, open_npz

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "LIMITS",
    "ArchiveReader",
    "digest",
    "open_archive",
    "read_archive",
    "write_archive",
]

FORMAT = "cartoonbrain-model"
FORMAT_VERSION = 1
CONFIG, CHECKSUM = "config.json", "checksum"
#: the limits :func:`read_archive` checks by default
LIMITS = Limits()
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def digest(arrays: dict[str, NDArray[Any]]) -> NDArray[np.uint8]:
    """SHA-256 over ``name:dtype:shape;`` and the bytes of each array, in name order (as
    32 uint8): the archive's ``checksum`` of all its other members."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape};".encode())
        h.update(a.reshape(-1).view(np.uint8).data)
    return np.frombuffer(h.digest(), dtype=np.uint8)


def _encode(config: dict[str, Any], path: object) -> NDArray[np.uint8]:
    if not isinstance(config, dict) or {"format", "format_version"} & set(config):
        raise ValueError(f"{path}: the config must be a dict without 'format' keys")
    full = {"format": FORMAT, "format_version": FORMAT_VERSION, **config}
    try:
        text = json.dumps(full, sort_keys=True)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValueError(f"{path}: the config cannot be written as JSON: {exc}") from None
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def _check_arrays(arrays: dict[str, Any], path: object) -> dict[str, NDArray[Any]]:
    checked = {}
    for name, value in arrays.items():
        if (
            not isinstance(name, str)
            or not MEMBER_NAME.fullmatch(name)
            or name in (CONFIG, CHECKSUM)
        ):
            raise ValueError(f"{path}: {name!r} cannot name an array in an archive")
        array = np.asarray(value)
        if array.dtype.kind not in "biufcSU":
            raise ValueError(
                f"{path}: array {name!r} is of dtype {array.dtype}; an archive holds numbers "
                "and strings only (objects would need pickle)"
            )
        checked[name] = array
    return checked


def write_archive(
    path: str | os.PathLike[str], config: dict[str, Any], arrays: dict[str, Any]
) -> None:
    """Write ``config`` (JSON-able) and ``arrays`` (by name) to ``path`` atomically.

    The file is read back with :func:`read_archive` before it replaces ``path``: what
    cannot be read back (a config nested too deep, say) raises ModelFileError and
    leaves ``path`` as it was. ValueError, before anything is written, for a config that
    is not JSON or an array of objects.
    """
    path = Path(path)
    members = _check_arrays(arrays, path)
    members[CONFIG] = _encode(config, path)
    members[CHECKSUM] = digest(members)
    atomic_write(
        path,
        lambda f: np.savez(f, **members),  # type: ignore[arg-type]
        verify=lambda tmp: read_archive(tmp, shown=path),  # what reached the disk
    )


def _json_depth(raw: bytes) -> int:
    """How deeply the JSON text's lists and objects nest (strings skipped)."""
    brackets = re.sub(rb"[^\[\]{}]", b"", _STRINGS.sub(b"", raw))
    if not brackets:
        return 0
    steps = np.frombuffer(brackets, dtype=np.uint8)
    opening = (steps == ord("[")) | (steps == ord("{"))
    return int(np.cumsum(np.where(opening, 1, -1)).max())


def _parse_config(raw: NDArray[Any], shown: object, limits: Limits) -> dict[str, Any]:
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise model_file_error(shown, "config is not UTF-8 JSON bytes")
    if raw.size > limits.max_config_bytes:
        raise model_file_error(
            shown, f"its config is over the {limits.max_config_bytes:,}-byte limit", "refused"
        )
    text = raw.tobytes()
    depth = _json_depth(text)
    if depth > limits.max_config_depth:
        raise model_file_error(
            shown,
            f"its config nests {depth} deep; the limit is {limits.max_config_depth}",
            "refused",
        )
    try:
        config = json.loads(text.decode("utf-8"))
    except Exception as exc:  # UnicodeDecodeError, JSONDecodeError, RecursionError...
        raise model_file_error(shown, f"config: {exc}") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelFileError(f"{shown}: not a cartoonbrain model file")
    version = config.get("format_version")
    if type(version) is not int or version != FORMAT_VERSION:
        raise ModelFileError(
            f"{shown}: model file format version {version!r}; this cartoonbrain reads version "
            f"{FORMAT_VERSION} (save it again with a matching cartoonbrain)"
        )
    return {k: v for k, v in config.items() if k not in ("format", "format_version")}


class ArchiveReader:
    """An archive opened by :func:`open_archive`: its :attr:`config` and the
    :attr:`headers` (dtype and shape) of its arrays by name, all checked, and :meth:`read`
    to read one array, into an array of the caller's when given."""

    def __init__(self, npz: NpzReader, limits: Limits, shown: object) -> None:
        self._npz, self._limits, self._shown = npz, limits, shown
        if CONFIG not in npz.sizes or CHECKSUM not in npz.sizes:
            raise ModelFileError(
                f"{shown}: not a cartoonbrain model file (no {CONFIG} or checksum)"
            )
        if npz.sizes[CONFIG] > limits.max_config_bytes + limits.max_header_bytes:
            raise model_file_error(
                shown, f"its config is over the {limits.max_config_bytes:,}-byte limit", "refused"
            )
        #: every array's checked ``.npy`` header (dtype, shape), by name; nothing read yet
        self.headers: dict[str, Header] = {
            name: npz.header(name, limits, shown)
            for name in npz.sizes
            if name not in (CONFIG, CHECKSUM)
        }
        self._done: dict[str, NDArray[Any]] = {}  # every array read, for the checksum
        self.config: dict[str, Any] = {}

    def read(self, name: str, out: NDArray[Any] | None = None) -> NDArray[Any]:
        """The array ``name``; with ``out`` (a writable array of its dtype and shape), read
        straight into it. Trust it once the ``with`` block has ended without an error."""
        self._done[name] = self._npz.read(name, self._limits, self._shown, out)
        return self._done[name]

    def verify(self) -> None:
        """ModelFileError unless the checksum matches (every array not read yet is read)."""
        for name in self._npz.sizes:
            if name not in self._done:
                self.read(name)
        arrays = dict(self._done)
        stored = arrays.pop(CHECKSUM)
        if stored.shape != (32,) or not np.array_equal(stored, digest(arrays)):
            raise ModelFileError(f"{self._shown}: damaged model file (checksum mismatch)")


@contextmanager
def open_archive(
    path: str | os.PathLike[str], *, limits: Limits = LIMITS, shown: object = None
) -> Iterator[ArchiveReader]:
    """The archive at ``path``, open for reading array by array: its config and the headers
    of its arrays are checked first (nothing else is read), so that what the config asks
    for can be checked against the arrays' shapes before anything is allocated.

    The checksum is compared when the ``with`` block ends; an error raised inside it is
    passed on only once the checksum matches (else the checksum's ModelFileError is), so
    that a damaged file says so whatever went wrong first. ModelFileError (naming
    ``shown``, default ``path``) for any problem of the file."""
    shown = path if shown is None else shown
    with open_npz(path, shown, limits) as npz:
        archive = ArchiveReader(npz, limits, shown)
        try:
            archive.config = _parse_config(archive.read(CONFIG), shown, limits)
            yield archive
        except Exception:
            archive.verify()
            raise
        archive.verify()


def read_archive(
    path: str | os.PathLike[str], *, limits: Limits = LIMITS, shown: object = None
) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
    """``(config, arrays)`` of the archive at ``path``, every size and the checksum
    checked; ModelFileError (naming ``shown``, default ``path``) for any problem."""
    with open_archive(path, limits=limits, shown=shown) as archive:
        arrays = {name: archive.read(name) for name in archive.headers}
    return archive.config, arrays
