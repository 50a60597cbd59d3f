"""CSV files the command-line tests write: one writer, and the shop data (numbers with
empty cells, a text column, text labels) that the cache and preprocessing tests share."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    """``header`` then ``rows`` to ``path``, as the csv module quotes them; returns path."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def shop_csv(
    folder: Path, n: int, seed: int = 0, missing: tuple[float, float, float] = (0.1, 0.05, 0.1)
) -> Path:
    """folder/shop.csv: size, colour (red/green/blue), weight and a label big/small that
    depends on all three; each feature cell empty with the chance ``missing`` gives."""
    rng = np.random.default_rng(seed)
    size, weight = rng.normal(50, 10, n), rng.normal(3, 1, n)
    colour = rng.choice(["red", "green", "blue"], n)
    label = np.where(size + 8 * (colour == "red") - 4 * weight > 40, "big", "small")
    gone = rng.random((n, 3)) < list(missing)
    rows = [
        [
            "" if gone[i, 0] else f"{size[i]:.3f}",
            "" if gone[i, 1] else colour[i],
            "" if gone[i, 2] else f"{weight[i]:.3f}",
            label[i],
        ]
        for i in range(n)
    ]
    return write_csv(folder / "shop.csv", ["size", "colour", "weight", "label"], rows)
