"""Where ``train`` and ``sweep`` get their rows: the options that say how a CSV file is
read and which of its columns are used how (``--task``, ``--drop``, ``--impute``,
``--categorical``, ``--id``, ``--sep``, ``--na-values``), and the data they give, with
the defaults that depend on the task filled in (:data:`TASK_DEFAULTS`). Both commands
read through the same :func:`training_data`, so a sweep's task is built as train's.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..data.readable import NA_VALUES
from ._args import add_reading_options
from ._cache import CachedData, cached_data
from ._data import CsvOptions, Data, load_dataset, read_training_csv, split_test
from ._errors import CommandError

__all__ = ["TASK_DEFAULTS", "add_columns", "training_data"]

#: defaults that depend on the task: (classification, regression)
TASK_DEFAULTS = {"dropout": (0.2, 0.5), "epochs": (200, 200)}


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def add_columns(p: Any) -> None:
    """The options that say how a CSV file is read and what its columns give the model."""
    p.add_argument(
        "--task",
        choices=("auto", "classification", "regression"),
        default="auto",
        help="what to learn from --target: auto (default: text labels, and integers with at "
        "most 10 distinct values, are classes; numbers written as decimals, or integers with "
        "more than 30 distinct values, a regression target; in between: give --task; the "
        "decision is always printed with its reason), classification or regression",
    )
    add_reading_options(
        p,
        sep_help="the field separator of --data: , ; | or tab (default: sniffed from the file)",
        na_help="the cells that mean 'missing', comma-separated (default: empty, "
        + " ".join(sorted(v for v in NA_VALUES if v))
        + ")",
    )
    p.add_argument(
        "--categorical",
        action="append",
        type=_names,
        default=[],
        metavar="COLUMN",
        help="a column to one-hot encode although it holds numbers (codes of categories; "
        "repeat, or separate by commas)",
    )
    p.add_argument(
        "--id",
        action="append",
        type=_names,
        default=[],
        metavar="COLUMN",
        help="a column that identifies the row: not a feature, copied to predict's output "
        "(columns that look like IDs are left out with a note and copied the same way)",
    )
    p.add_argument(
        "--drop",
        action="append",
        type=_names,
        default=[],
        metavar="COLUMN",
        help="a column of --data not to use as a feature (repeat, or separate by commas)",
    )
    p.add_argument(
        "--impute",
        choices=("auto", "mean", "most_frequent", "none"),
        default="auto",
        help="missing cells of --data: auto (default: the training mean, with a 0/1 "
        "missing-indicator input for a numeric column with gaps; a text column's most "
        "frequent value), mean, most_frequent, or none (a missing cell is an error); "
        "learned from the training rows and kept in the model",
    )


def csv_options(args: argparse.Namespace, task: str) -> CsvOptions:
    """The column options of a command (train's, sweep's) as one record."""

    def flat(key: str) -> list[str]:
        return [name for names in getattr(args, key, []) for name in names]

    return CsvOptions(
        args.target,
        task,
        flat("drop"),
        getattr(args, "impute", "auto"),
        flat("categorical"),
        flat("id"),
        getattr(args, "sep", None),
        getattr(args, "na_values", None),
    )


def training_data(args: argparse.Namespace) -> Data:
    """The training data: --data (with its test split, or --test-data) or a built-in
    --dataset; then the defaults that depend on the task (:data:`TASK_DEFAULTS`) fill the
    options not given. The task and its reason are printed even with --quiet."""
    task, why = _asked_task(args)
    if args.data is not None:
        if args.target is None:
            raise CommandError("--data needs --target COLUMN, the column to predict")
        options = csv_options(args, task)
        data: Data
        if getattr(args, "cache", False):
            _refuse_with_cache(args)
            impute = options.preprocessor_options()["impute"]
            data = cached_data(args, task, list(options.drop), impute)
        else:
            data = read_training_csv(args.data, options)
            if getattr(args, "test_data", None):
                from ._data import read_rows_like

                data.X_test, data.y_test = read_rows_like(args.test_data, data, "--test-data")
            else:
                split_test(data, args.test_split, args.seed)
    elif args.target is not None or any(getattr(args, k, None) for k in _CSV_ONLY):
        given = "--target" if args.target is not None else _flag(args)
        raise CommandError(f"{given} goes with --data FILE.csv, not with a built-in dataset")
    else:
        data = load_dataset(args.dataset or "digits", args.seed)
        if task not in ("auto", data.task):
            raise CommandError(f"{why}: the dataset {data.name} is for {data.task}")
    for key, (classes, numbers) in TASK_DEFAULTS.items():
        if getattr(args, key, 0) is None:
            setattr(args, key, numbers if data.task == "regression" else classes)
    print(f"task: {data.task} ({why or data.reason})", flush=True)
    if not getattr(args, "quiet", False):
        _describe(data)
    return data


def _refuse_with_cache(args: argparse.Namespace) -> None:
    """The column options the cache does not take yet: one line naming them."""
    given = [
        k for k in ("categorical", "id", "sep", "na_values", "test_data") if getattr(args, k, None)
    ]
    if given:
        flags = ", ".join("--" + k.replace("_", "-") for k in given)
        raise CommandError(f"--cache does not take {flags} yet; train without --cache")


#: the options that read a CSV file
_CSV_ONLY = ("drop", "categorical", "id", "sep", "na_values", "test_data", "validation_data")


def _flag(args: argparse.Namespace) -> str:
    key = next(k for k in _CSV_ONLY if getattr(args, k, None))
    return "--" + key.replace("_", "-")


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


def _describe(data: Data) -> None:
    """What was done to the file, and the columns' kinds (the text columns with their
    categories, for a cache)."""
    for line in [*data.summary, *(f"note: {note}" for note in data.notes)]:
        print(line, flush=True)
    if not isinstance(data, CachedData):
        return
    categories: Any
    for name in data.text_columns:
        categories = data.categories(name)  # the preprocessed rows: the model's categories
        shown = ", ".join(map(str, categories[:8])) + (", ..." if len(categories) > 8 else "")
        print(f"column {name!r}: text, one-hot encoded ({len(categories)} values: {shown})")
