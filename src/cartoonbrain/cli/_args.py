"""Argument types and options shared by the commands (argparse only; no data, no maths).

The choices of ``--activation``, ``--loss`` and ``--optimizer`` are read from the
registries when the parser is built, so an entry registered before :func:`main` runs is
offered (and listed in ``--help``) without touching this package.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

__all__ = [
    "activation_names",
    "add_model_option",
    "fraction",
    "layer_sizes",
    "loss_names",
    "optimizer_names",
    "or_list",
    "positive_float",
    "positive_int",
    "sample_shape",
]


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text!r}")
    return value


def fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
    return value


def layer_sizes(text: str) -> tuple[int, ...]:
    """``"64,32"`` → (64, 32); ``""``, ``"none"`` or ``"0"`` → () (no layers)."""
    if text.strip().lower() in ("", "none", "0"):
        return ()
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer sizes such as 64,32, got {text!r}"
        ) from None
    if any(size <= 0 for size in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be positive, got {text!r}")
    return sizes


def sample_shape(text: str) -> tuple[int, ...]:
    """``"1,28,28"`` → (1, 28, 28): one sample's shape."""
    try:
        shape = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected one sample's shape such as 1,28,28, got {text!r}"
        ) from None
    if any(size <= 0 for size in shape):
        raise argparse.ArgumentTypeError(f"shape sizes must be positive, got {text!r}")
    return shape


def activation_names() -> list[str]:
    """The registered activations, read now (not when this module was imported)."""
    from ..activations import ACTIVATIONS

    return sorted(ACTIVATIONS)


def loss_names() -> list[str]:
    from ..losses import LOSSES

    return list(LOSSES)


def optimizer_names() -> list[str]:
    from ..optimizers import OPTIMIZERS

    return list(OPTIMIZERS)


def or_list(names: list[str]) -> str:
    """``["a", "b", "c"]`` → ``"a, b or c"``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def add_model_option(p: Any) -> None:
    """``--model PATH``, the saved model every command but train reads."""
    p.add_argument("--model", required=True, help="a model or checkpoint file")


def add_raw_cells_option(p: Any) -> None:
    p.add_argument(
        "--raw-cells",
        action="store_true",
        help="write text cells as they are, even those a spreadsheet would evaluate as a "
        "formula (by default a cell starting with = + - @, a tab or CR is prefixed with ')",
    )


def comma_list(text: str) -> list[str]:
    """``"NA, ?"`` as ``["NA", "?"]``: an option's comma-separated values."""
    return [v.strip() for v in text.split(",")]


def add_reading_options(
    p: Any,
    sep_help: str = "the field separator (default: sniffed)",
    na_help: str = "the cells that mean 'missing' (default: as train)",
) -> None:
    """``--sep`` and ``--na-values``: how a command reads its CSV file."""
    p.add_argument("--sep", metavar="CHAR", help=sep_help)
    p.add_argument("--na-values", type=comma_list, metavar="A,B", help=na_help)
