"""Files: atomic writing, and the archive of a config plus named arrays that model files
and checkpoints are made of. Nothing here knows what a network is: ``Network.save``,
:func:`cartoonbrain.load` and the checkpoints of :mod:`cartoonbrain.train` turn networks
into ``(config, arrays)`` and back.

* :mod:`~cartoonbrain.io.atomic`: :func:`atomic_write` (temporary file, fsync, verify,
  ``os.replace``), :func:`file_mode`;
* :mod:`~cartoonbrain.io.archive`: :func:`write_archive`, :func:`read_archive`,
  :func:`open_archive` (array by array, into the reader's own arrays), :func:`digest`
  (the checksum), ``FORMAT``/``FORMAT_VERSION``;
* :mod:`~cartoonbrain.io.npz`: reading an ``.npz`` without trusting it, under :class:`Limits`;
* :mod:`~cartoonbrain.io.errors`: :class:`ModelFileError`, :func:`model_file_error`.
"""

from .archive import (
    FORMAT,
    FORMAT_VERSION,
    LIMITS,
    ArchiveReader,
    digest,
    open_archive,
    read_archive,
    write_archive,
)
from .atomic import atomic_write, file_mode
from .errors import ModelFileError, model_file_error
from .npz import Limits

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "LIMITS",
    "ArchiveReader",
    "Limits",
    "ModelFileError",
    "atomic_write",
    "digest",
    "file_mode",
    "model_file_error",
    "open_archive",
    "read_archive",
    "write_archive",
]
