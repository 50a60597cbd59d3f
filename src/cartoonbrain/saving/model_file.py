"""A network from a model file: what :func:`cartoonbrain.load` does (``Network.save`` is in
:mod:`.saveable`).

A model file is an archive (:mod:`cartoonbrain.io.archive`: a config and named arrays,
knowing nothing of networks) of a network's state (:mod:`cartoonbrain.saving.network_state`: the
network as a config and named arrays, knowing nothing of files). This module joins the
two, and turns whatever a crafted file makes go wrong into one
:class:`~cartoonbrain.io.ModelFileError` naming the file.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..io import ModelFileError, model_file_error, open_archive
from .network_state import build_network

if TYPE_CHECKING:
    from ..network.network import Network

__all__ = ["read_model"]


def read_model(path: str | os.PathLike[str], cls: type[Network]) -> Network:
    """The network of class ``cls`` stored at ``path`` (see :func:`cartoonbrain.load`).

    The config is checked against the arrays' headers before anything is allocated, the
    network is built without running its initialisers, and each parameter is read from
    the file straight into its slot of the network's buffer (:func:`build_network`):
    memory grows by about the parameters' size, not two or three times it. The checksum
    is compared before the network is returned, or before any other error is raised.
    """
    with open_archive(path) as archive:
        try:
            return build_network(cls, archive.config, archive.headers, archive.read)
        except ModelFileError:  # the file itself: a member truncated, ...
            raise
        except Exception as exc:  # whatever a crafted config raises, as one line
            raise model_file_error(path, exc, "the model cannot be rebuilt from it") from None
