"""Where ``train`` (and ``sweep``) get their rows: the options that say which columns of a
CSV file are used and how (``--task``, ``--drop``, ``--impute``), and the data they give,
with the defaults that depend on the task filled in (:data:`TASK_DEFAULTS`).
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from ._cache import CachedData, cached_data
from ._data import Data, load_dataset, read_training_csv, split_test
from ._errors import CommandError

__all__ = ["TASK_DEFAULTS", "add_columns", "training_data"]

#: defaults that depend on the task: (classification, regression)
TASK_DEFAULTS = {"dropout": (0.2, 0.5), "epochs": (30, 60)}


def add_columns(p: Any) -> None:
    """--task, --drop and --impute: which columns, and how, a CSV file gives the model."""
    p.add_argument(
        "--task",
        choices=("auto", "classification", "regression"),
        default="auto",
        help="what to learn from --target: auto (default: text labels, and integers with at "
        "most 100 distinct values, are classes; other numbers a regression target; the "
        "decision is printed with its reason), classification or regression",
    )
    p.add_argument(
        "--drop",
        action="append",
        type=lambda text: [name.strip() for name in text.split(",") if name.strip()],
        default=[],
        metavar="COLUMN",
        help="a column of --data not to use as a feature (repeat, or separate by commas)",
    )
    p.add_argument(
        "--impute",
        choices=("mean", "most_frequent"),
        help="fill empty cells of --data with the column's mean or most frequent value "
        "(a text column: its most frequent text), learned from the training rows and kept "
        "in the model; without it an empty cell is an error",
    )


def training_data(args: argparse.Namespace) -> Data:
    """The training data: --data (with its test split) or a built-in --dataset; then the
    defaults that depend on the task (:data:`TASK_DEFAULTS`) fill the options not given.

    Text columns and empty cells are read for a command with ``--impute`` (train); for
    another (sweep) every feature cell must hold a number."""
    task, why = _asked_task(args)
    if args.data is not None:
        if args.target is None:
            raise CommandError("--data needs --target COLUMN, the column to predict")
        columns = hasattr(args, "impute")
        drop = [name for names in getattr(args, "drop", []) for name in names]
        impute = getattr(args, "impute", None)
        data: Data
        if getattr(args, "cache", False):
            data = cached_data(args, task, drop, impute)
        else:
            data = read_training_csv(args.data, args.target, task, drop, impute, text=columns)
            split_test(data, args.test_split, args.seed)
    elif args.target is not None or getattr(args, "drop", []) or getattr(args, "impute", None):
        given = "--target" if args.target is not None else "--drop" if args.drop else "--impute"
        raise CommandError(f"{given} goes with --data FILE.csv, not with a built-in dataset")
    else:
        data = load_dataset(args.dataset or "digits", args.seed)
        if task not in ("auto", data.task):
            raise CommandError(f"{why}: the dataset {data.name} is for {data.task}")
    for key, (classes, numbers) in TASK_DEFAULTS.items():
        if getattr(args, key, 0) is None:
            setattr(args, key, numbers if data.task == "regression" else classes)
    if not getattr(args, "quiet", False):
        _describe(data, why or data.reason)
    return data


def _asked_task(args: argparse.Namespace) -> tuple[str, str]:
    """--task, or the task an explicit --loss implies, with the option that asked."""
    from ..losses import LOSSES

    task = getattr(args, "task", "auto")
    if task != "auto":
        return task, f"--task {task}"
    loss = LOSSES.get(args.loss)
    if loss is None:
        return "auto", ""
    return ("classification" if loss.classification else "regression"), f"--loss {args.loss}"


def _describe(data: Data, reason: str) -> None:
    """The task and why; the text columns that will be one-hot encoded."""
    print(f"task: {data.task} ({reason})", flush=True)
    categories: Any
    for name in data.text_columns:
        if isinstance(data, CachedData):  # the preprocessed rows: the model's categories
            categories = data.categories(name)
        else:
            values = data.X[name].to_numpy()
            categories = np.unique(values[values != ""])
        shown = ", ".join(map(str, categories[:8])) + (", ..." if len(categories) > 8 else "")
        print(f"column {name!r}: text, one-hot encoded ({len(categories)} values: {shown})")
