"""The network ``cartoonbrain train`` builds: an MLP sized for the data, after optional
convolutional blocks, with the loss that fits the target (no argparse here).

Its size is checked against the memory before anything is allocated, so a huge
``--hidden`` fails at once in one line instead of after gigabytes of initialisation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._data import Data
from ._errors import CommandError

__all__ = ["COPIES", "build_network", "resolve_loss"]

#: copies of the parameters training holds: weights, gradients, the optimizer's state
#: (two for Adam), the weights before the last step
COPIES = 5


def build_network(
    data: Data,
    *,
    loss: str = "auto",
    hidden: Sequence[int] = (128,),
    conv: Sequence[int] = (),
    rnn: Any = None,
    activation: str = "relu",
    dropout: float = 0.0,
    seed: int | None = 0,
    dtype: str = "float32",
    preprocessor: Any = None,
    target_encoder: Any = None,
) -> Any:
    """An MLP (after convolutional blocks with ``conv``) sized for the data, with its loss
    ("auto": cross-entropy for class labels, mse for numbers), the data's metadata and
    the preprocessing that goes with the model (its first layer takes the
    ``preprocessor``'s features)."""
    import cartoonbrain as cb

    from ..network.builders import mlp

    loss = resolve_loss(loss, data)
    assert data.y is not None
    if data.task == "classification":
        assert data.classes is not None
        n_out = 1 if loss == "binary_cross_entropy" else len(data.classes)
    else:
        n_out = 1 if data.y.ndim == 1 else data.y.shape[1]
    n_features = data.X.shape[1] if preprocessor is None else preprocessor.n_features_out
    if rnn is not None:
        layers, input_shape, n_in = _recurrent_blocks(rnn, data)
    else:
        layers, input_shape, n_in = _conv_blocks(conv, activation, data, n_features)
    layers += mlp(n_in, hidden, n_out, activation=activation, dropout=dropout)
    _check_size(layers, hidden, dtype)
    metadata = {"task": data.task, "classes": data.classes, "feature_names": data.feature_names}
    metadata.update(target=data.target, source=data.name)
    return cb.Network(
        layers,
        loss=loss,
        seed=seed,
        dtype=dtype,
        metadata=metadata,
        input_shape=input_shape,
        preprocessor=preprocessor,
        target_encoder=target_encoder,
    )


def _check_size(layers: list[Any], hidden: Sequence[int], dtype: str) -> None:
    """A network too large to train here fails now, in one line, before any allocation."""
    n = sum(math.prod(shape) for layer in layers for shape in layer.parameter_shapes())
    need = n * np.dtype(dtype).itemsize * COPIES
    available = _memory_available()
    if available is not None and need > available:
        sizes = ",".join(map(str, hidden)) or "none"
        raise CommandError(
            f"--hidden {sizes} makes a network of {n:,} parameters, which needs about "
            f"{need / 2**30:,.1f} GiB to train ({COPIES} copies of {dtype}: weights, "
            f"gradients, optimizer state); {available / 2**30:,.1f} GiB of memory is available"
        )


def _memory_available() -> int | None:
    """Bytes of memory available (MemAvailable on Linux, else the physical memory)."""
    import os

    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def resolve_loss(name: str, data: Data) -> str:
    """--loss, with "auto" resolved, checked against the target's kind."""
    from ..losses import LOSSES

    classification = data.task == "classification"
    loss = ("cross_entropy" if classification else "mse") if name == "auto" else name
    if loss not in LOSSES:
        raise CommandError(f"unknown --loss {loss!r}; expected auto or one of {', '.join(LOSSES)}")
    if LOSSES[loss].classification != classification:
        kind = "class labels" if classification else "continuous numbers"
        raise CommandError(f"--loss {loss} does not fit a target of {kind}; try --loss auto")
    if loss == "binary_cross_entropy" and data.classes is not None and len(data.classes) != 2:
        raise CommandError(
            f"--loss binary_cross_entropy needs 2 classes; the target has {len(data.classes)}"
        )
    return loss


def _conv_blocks(
    channels: Sequence[int], activation: str, data: Data, n_features: int
) -> tuple[list[Any], Any, int]:
    """--conv 16,32: per entry a 3-wide convolution (ReLU, 'same' padding) and a 2-wide
    max-pool, over each sample's image (C, H, W) or signal (C, L); then Flatten."""
    from ..network.builders import conv_blocks

    if not channels:
        return [], None, n_features
    shape = data.input_shape
    if shape is None or len(shape) not in (2, 3):
        raise CommandError(
            "--conv needs a built-in image or signal dataset (digits, mnist5k, mnist1d); "
            f"{data.name} has plain feature rows"
        )
    layers, n_features = conv_blocks(shape, channels, activation=activation)
    return layers, shape, n_features


def _recurrent_blocks(rnn: Any, data: Data) -> tuple[list[Any], Any, int]:
    """--rnn gru: each sample as a sequence, one step per position of the signal (a
    signal of shape (1, L) is L steps of one feature; an image (1, H, W), H steps of W
    features), then the recurrent layer (``rnn``: kind, units, bidirectional, all_steps)."""
    from ..network.builders import recurrent

    shape = data.input_shape
    if shape is None or len(shape) not in (2, 3) or shape[0] != 1:
        raise CommandError(
            "--rnn needs a built-in one-channel signal or image dataset (mnist1d, digits, "
            f"mnist5k), whose samples are sequences; {data.name} has plain feature rows"
        )
    sequence = (shape[1], 1) if len(shape) == 2 else (shape[1], shape[2])
    layers, width = recurrent(rnn.kind, sequence, rnn.units, rnn.bidirectional, rnn.all_steps)
    return layers, sequence, width
