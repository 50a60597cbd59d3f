"""Saving: a network, its optimizer and its preprocessing as plain data and files.

    network_state.py    a network as ``(config, arrays)`` and back: the one serialisation
                        behind model files, checkpoints and pickling
    optimizer_state.py  an optimizer's buffers checked against the parameters, read back
    saveable.py         Saveable, a base of Network: get_config, state, from_state, save,
                        pickling
    model_file.py       ``cb.load``: network_state joined to io/
    legacy_pickle.py    pickles written by 0.1.0, turned into this version's state

The file layer itself (archives, atomic writes, untrusted .npz reading) is ``io/``, which
knows no model; nothing here imports the network or the training loop: the class to
build is passed in.
"""

from __future__ import annotations

from .model_file import read_model
from .network_state import build_network, check_state
from .saveable import Saveable

__all__ = ["Saveable", "build_network", "check_state", "read_model"]
