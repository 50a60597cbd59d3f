"""``cartoonbrain datasets``: the built-in datasets with their sizes."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "datasets",
        help="list the built-in datasets",
        description="List the built-in datasets with their sizes.",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from .. import datasets

    print(f"{'name':<10}{'train':>7}{'test':>7}{'features':>10}  task            needs")
    for info in datasets.available():
        needs = f"pip install 'cartoonbrain[{info.extra}]'" if info.extra else "-"
        print(
            f"{info.name:<10}{info.n_train:>7}{info.n_test:>7}{info.n_features:>10}  "
            f"{info.task:<16}{needs}"
        )
        print(f"{'':<10}{info.description}")
    return 0
