"""``Network.summary()``: the layers as an aligned table, as Keras's ``model.summary()``."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .network import Network

__all__ = ["summary_table"]


def summary_table(net: Network) -> str:
    """One row per layer (its number, from 1 as in the report and gradcheck, its repr, one
    sample's output shape, its parameter count), ruled above and below, then the loss,
    dtype and total parameter count."""
    rows = [("#", "layer", "output shape", "parameters")]
    shape = net.input_shape
    for i, layer in enumerate(net.layers):
        shape = layer.output_shape(shape)
        count = sum(math.prod(s) for s in layer.parameter_shapes())
        out = "?" if shape is None else "(" + ", ".join(map(str, shape)) + ")"
        rows.append((str(i + 1), repr(layer), out, f"{count:,}"))
    widths = [max(len(row[j]) for row in rows) for j in range(4)]
    rule = "  ".join("-" * w for w in widths)

    def line(row: tuple[str, ...]) -> str:
        cells = [row[0].rjust(widths[0]), row[1].ljust(widths[1])]
        return "  ".join([*cells, row[2].rjust(widths[2]), row[3].rjust(widths[3])])

    table = [line(rows[0]), rule, *map(line, rows[1:]), rule]
    table.append(f"loss={net.loss.name}, dtype={net.dtype.name}, {net.n_parameters:,} parameters")
    return "\n".join(table)
