"""Where the windows of a convolution or a pooling layer lie: sizes, padding (numbers of
zeros, or Keras's "same"), dilation, the output positions, and the checks with their
messages. Conv1D/Conv2D (:mod:`.conv`) and the pools (:mod:`.pool`) share them.

Along one axis of ``size`` inputs, with ``before`` and ``after`` zeros, stride s and a
kernel of k taps d apart (it spans e = d·(k − 1) + 1 inputs), the windows start at
s·p for p = 0 … P − 1, P = ⌊(size + before + after − e) / s⌋ + 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .base import Array, Layer, Shape

__all__ = ["Pads", "output_size", "same_pads"]


_ALL_SAMPLES_AND_CHANNELS = (slice(None), slice(None))  # the index [:, :]
_AXES = {1: "(channels, length)", 2: "(channels, height, width)"}  # one sample's axes


def _sizes(name: str, value: Any, n_dims: int, minimum: int) -> Shape:
    """``value`` (an int, or one int per spatial axis) as a tuple of ``n_dims`` ints."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n_dims
    if len(values) != n_dims or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= minimum
        for v in values
    ):
        kind = "a positive integer" if minimum > 0 else "an integer >= 0"
        many = "" if n_dims == 1 else f" or {n_dims} of them"
        raise ValueError(f"{name} must be {kind}{many}; got {value!r}")
    return tuple(int(v) for v in values)


def _plain(sizes: Shape) -> int | list[int]:
    """For configs: an int in 1-D, a list in 2-D (JSON has no tuples)."""
    return sizes[0] if len(sizes) == 1 else list(sizes)


Pads = tuple[tuple[int, int], ...]  # (zeros before, zeros after) for each spatial axis


def output_size(
    size: int, kernel: int, stride: int = 1, padding: int | tuple[int, int] = 0, dilation: int = 1
) -> int:
    """The number of window positions along one axis:

        ⌊(size + before + after − e) / stride⌋ + 1,    e = dilation·(kernel − 1) + 1

    with ``padding`` zeros at both ends (an int) or ``(before, after)``."""
    before, after = padding if isinstance(padding, tuple) else (padding, padding)
    return (size + before + after - dilation * (kernel - 1) - 1) // stride + 1


def same_pads(size: Shape, kernel: Shape, stride: Shape, dilation: Shape) -> Pads:
    """``padding="same"`` as Keras (TensorFlow) pads: P = ⌈size / s⌉ positions, from
    max((P − 1)·s + e − size, 0) zeros, the odd one at the end (PyTorch's "same", for
    stride 1, pads alike)."""
    pads = []
    for n, k, s, d in zip(size, kernel, stride, dilation):
        total = max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def _pairs(padding: Shape | Pads) -> Pads:
    """Symmetric padding (an int per axis) as (before, after) pairs."""
    return tuple(p if isinstance(p, tuple) else (p, p) for p in padding)


def _taps(
    kernel: Shape, stride: Shape, out: Shape, dilation: Shape | None = None
) -> Iterator[tuple[slice, ...]]:
    """For each kernel tap j, in ``W``'s order: the input positions d·j, d·j + s, …,
    d·j + s·(P − 1).

    One slice per spatial axis: the inputs that tap j of the kernel meets, one for each
    output position.
    """
    dilation = dilation or (1,) * len(kernel)
    for offset in np.ndindex(*kernel):
        yield tuple(
            slice(d * j, d * j + s * (p - 1) + 1, s)
            for j, s, p, d in zip(offset, stride, out, dilation)
        )


def _describe(layer: Layer) -> str:
    """A layer's name and its window geometry, for error messages."""
    config = layer.get_config()
    keep = ["in_channels", "out_channels", "kernel_size", "pool_size", "stride", "padding"]
    if config.get("dilation") not in (None, 1, [1, 1]):
        keep.append("dilation")  # said only when the kernel is dilated
    return f"{config['type']}({', '.join(f'{k}={config[k]!r}' for k in keep if k in config)})"


def _windows(x: Array, kernel: Shape, stride: Shape) -> Array:
    """Every window of ``x`` (n, C, *size) as a view of shape (n, C, *P, *kernel): no copy."""
    view = sliding_window_view(x, kernel, axis=tuple(range(2, 2 + len(kernel))))
    every_stride = (slice(None), slice(None), *(slice(None, None, s) for s in stride))
    return view[every_stride]


def _check_batch(layer: Layer, x: Array, n_dims: int) -> None:
    """A batch of a shape not seen before: (n, C, *size) that fits ``layer``, or a ValueError."""
    if x.ndim != 2 + n_dims:
        axes = "(n_samples, " + _AXES[n_dims][1:]
        raise ValueError(f"{_describe(layer)} takes batches of shape {axes}; got {x.shape}")
    layer.output_shape(x.shape[1:])


def _check_spatial(
    layer: Layer,
    input_shape: Shape,
    kernel: Shape,
    stride: Shape,
    padding: Shape | Pads,
    dilation: Shape | None = None,
) -> Shape:
    """The output positions P for a per-sample ``input_shape`` (C, *size), or a ValueError."""
    if len(input_shape) != 1 + len(kernel):
        axes = _AXES[len(kernel)]
        raise ValueError(f"{_describe(layer)} takes inputs of shape {axes}; got {input_shape}")
    dilation = dilation or (1,) * len(kernel)
    pads = _pairs(padding)
    padded = tuple(size + b + a for size, (b, a) in zip(input_shape[1:], pads))
    spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(e > size for e, size in zip(spans, padded)):
        window = f"{kernel}" if spans == kernel else f"{kernel} (spanning {spans}, dilated)"
        shown = tuple(b for b, _ in pads) if all(b == a for b, a in pads) else pads
        raise ValueError(
            f"{_describe(layer)}: the window {window} is larger than the padded input "
            f"{padded} (input {input_shape}, padding {shown})"
        )
    return tuple(
        output_size(*args) for args in zip(input_shape[1:], kernel, stride, pads, dilation)
    )
