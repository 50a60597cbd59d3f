"""A network to and from a model file: what :meth:`Network.save` and :func:`cartoonbrain.load`
do.

A model file is an archive (:mod:`cartoonbrain.io.archive`: a config and named arrays,
knowing nothing of networks) of a network's state (:mod:`cartoonbrain.network_state`: the
network as a config and named arrays, knowing nothing of files). This module joins the
two, and turns whatever a crafted file makes go wrong into one
:class:`~cartoonbrain.io.ModelFileError` naming the file.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .io import model_file_error, read_archive, write_archive

if TYPE_CHECKING:
    from .network import Network

__all__ = ["read_model", "write_model"]


def write_model(
    net: Network, path: str | os.PathLike[str], include_optimizer: bool = False
) -> None:
    """``Network.save(path, include_optimizer)``: write the model to ``path`` atomically, a
    ``.npz`` archive of :meth:`Network.state` (see :mod:`cartoonbrain.io.archive`).

    Parameters
    ----------
    include_optimizer : bool
        Also store the optimizer of the last ``fit`` and its state (to go on training).
    """
    write_archive(path, *net.state(net.optimizer if include_optimizer else None))


def read_model(path: str | os.PathLike[str], cls: type[Network]) -> Network:
    """The network of class ``cls`` stored at ``path`` (see :func:`cartoonbrain.load`)."""
    config, arrays = read_archive(path)
    try:
        return cls.from_state(config, arrays)
    except Exception as exc:  # whatever a crafted config raises, as one line
        raise model_file_error(path, exc, "the model cannot be rebuilt from it") from None
