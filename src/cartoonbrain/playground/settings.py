"""What a page asks to train, checked: every size bounded, every name known.

A page sends its settings as JSON (``POST /api/reset``); :func:`parse` turns them into
:class:`Settings` or raises a ValueError of one line naming the field, the value and what
was expected, which the server sends back as a 400. The bounds keep one page from taking
a shared machine: at most :data:`MAX_LAYERS` hidden layers of :data:`MAX_UNITS` units and
:data:`MAX_POINTS` points (TensorFlow Playground's own limits, except the points).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from .datasets import DATASETS
from .features import check_features

__all__ = [
    "ACTIVATIONS",
    "MAX_LAYERS",
    "MAX_POINTS",
    "MAX_UNITS",
    "OPTIMIZERS",
    "Settings",
    "parse",
]

MAX_LAYERS, MAX_UNITS, MAX_POINTS = 6, 8, 2000
#: the hidden layers' activations and the optimizers the page offers
ACTIVATIONS = ("tanh", "relu", "sigmoid", "identity", "leaky_relu", "elu")
OPTIMIZERS = ("sgd", "adam", "rmsprop", "adamw")


@dataclass(frozen=True)
class Settings:
    """One training: the data, the network and how it learns (the page's defaults)."""

    dataset: str = "circles"
    noise: float = 0.0
    train_share: float = 0.5
    n_points: int = 500
    features: tuple[str, ...] = ("x1", "x2")
    hidden: tuple[int, ...] = (4, 2)
    activation: str = "tanh"
    learning_rate: float = 0.03
    optimizer: str = "sgd"
    batch_size: int = 10
    l2: float = 0.0
    dropout: float = 0.0
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The settings as JSON-able data (what the page and the exported files show)."""
        d = asdict(self)
        d["features"], d["hidden"] = list(self.features), list(self.hidden)
        return d


def _number(d: dict[str, Any], name: str, low: float, high: float, *, open_low: bool) -> float:
    value = d.get(name, getattr(Settings, name))
    bad = isinstance(value, bool) or not isinstance(value, (int, float))
    if (
        bad
        or not math.isfinite(value)
        or value > high
        or value < low
        or (open_low and value == low)
    ):
        side = "(" if open_low else "["
        raise ValueError(f"{name} must be a number in {side}{low}, {high}]; got {value!r}")
    return float(value)


def _integer(d: dict[str, Any], name: str, low: int, high: int) -> int:
    value = d.get(name, getattr(Settings, name))
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}; got {value!r}")
    return value


def _choice(d: dict[str, Any], name: str, choices: Any) -> str:
    value = d.get(name, getattr(Settings, name))
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return str(value)


def _hidden(d: dict[str, Any]) -> tuple[int, ...]:
    hidden = d.get("hidden", list(Settings.hidden))
    if not isinstance(hidden, list) or len(hidden) > MAX_LAYERS:
        raise ValueError(
            f"hidden must be a list of at most {MAX_LAYERS} layer sizes; got {hidden!r}"
        )
    for units in hidden:
        if isinstance(units, bool) or not isinstance(units, int) or not 1 <= units <= MAX_UNITS:
            raise ValueError(f"each hidden layer has 1 to {MAX_UNITS} units; got {units!r}")
    return tuple(hidden)


def parse(d: Any) -> Settings:
    """:class:`Settings` from the page's JSON object; ValueError (one line) if anything is off."""
    if not isinstance(d, dict):
        raise ValueError(f"the settings must be a JSON object; got {type(d).__name__}")
    known = set(Settings.__dataclass_fields__)
    unknown = sorted(set(d) - known)
    if unknown:
        raise ValueError(
            f"unknown setting {unknown[0]!r}; expected some of {', '.join(sorted(known))}"
        )
    n_points = _integer(d, "n_points", 10, MAX_POINTS)
    return Settings(
        dataset=_choice(d, "dataset", tuple(DATASETS)),
        noise=_number(d, "noise", 0.0, 0.5, open_low=False),
        train_share=_number(d, "train_share", 0.1, 0.9, open_low=False),
        n_points=n_points,
        features=tuple(check_features(d.get("features", list(Settings.features)))),
        hidden=_hidden(d),
        activation=_choice(d, "activation", ACTIVATIONS),
        learning_rate=_number(d, "learning_rate", 0.0, 10.0, open_low=True),
        optimizer=_choice(d, "optimizer", OPTIMIZERS),
        batch_size=_integer(d, "batch_size", 1, n_points),
        l2=_number(d, "l2", 0.0, 1.0, open_low=False),
        dropout=_number(d, "dropout", 0.0, 0.9, open_low=False),
        seed=_integer(d, "seed", 0, 2**31 - 1),
    )
