"""``cartoonbrain sweep``: a grid or random search over ``train``'s options, cross-validated,
each fit a task on a Dask cluster.

    cartoonbrain sweep [--dataset NAME | --data FILE.csv --target COLUMN] [train's options]
                       --grid NAME=V1,V2,… [--grid …] [--random N] [--folds K]
                       [--scheduler ADDRESS | --workers N] [--out results.csv]

Every combination of the ``--grid`` values (or ``--random N`` of them, drawn with
``--seed``) is trained on K seeded folds of the training rows and scored on the fold left
out: accuracy for classifiers, r2 for regressors (the loss too). Each (combination, fold)
is one task: the network is built here exactly as ``train`` builds it (same builder, same
optimizer and schedule, same seed), travels pickled to a worker with the fold's rows,
is trained there by ``Network.fit``, and comes back. With ``--workers 0`` the tasks run
in this process, one after another; the scores are the same (docs/scaling.md).

A value of ``--hidden`` or ``--conv`` in a grid writes its layer sizes with ``x``:
``--grid hidden=64,128x64,none`` tries one layer of 64, two of 128 and 64, and none.
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._args import add_raw_cells_option
from ._data import Data, fit_scaler, model_inputs, scaled
from ._errors import CommandError
from ._files import CSV, Files, naming
from ._network import build_network
from .train import _add_architecture, _add_optimization, _data, _optimizer

__all__ = ["SWEEPABLE", "FoldTask", "add_parser", "fit_fold", "grid_configs", "run", "sweep"]

#: the train options a grid may vary
SWEEPABLE = (
    "hidden",
    "conv",
    "activation",
    "dropout",
    "loss",
    "optimizer",
    "learning_rate",
    "schedule",
    "epochs",
    "batch_size",
)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "sweep",
        help="cross-validated grid or random search over train's options, on a Dask cluster",
        description="Train every combination of the --grid values on K folds and rank them "
        "by the score on the held-out fold. Tasks run on a Dask cluster (--scheduler) or "
        "on a local cluster of --workers processes.",
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument("--dataset", metavar="NAME", help="a built-in dataset (default digits)")
    source.add_argument("--data", metavar="FILE.csv", help="a CSV file with a header row")
    p.add_argument("--target", metavar="COLUMN", help="the target column of --data")
    _add_architecture(p)
    _add_optimization(p)
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--seed", type=int, default=0, help="seed of everything random (default 0)")
    _add_search(p)
    p.set_defaults(handler=run, files=Files(inputs=("data",), outputs={"out": CSV}))


def _add_search(p: Any) -> None:
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="NAME=V1,V2",
        help="values to try for a train option, e.g. learning-rate=0.01,0.001 or "
        f"hidden=64,128x64 (repeat for more options; one of {', '.join(SWEEPABLE)})",
    )
    p.add_argument(
        "--random",
        type=int,
        metavar="N",
        help="try N combinations of the grid drawn at random (with --seed) instead of all",
    )
    p.add_argument("--folds", type=int, default=3, help="cross-validation folds (default 3)")
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=2,
        help="worker processes of the local cluster (default 2; 0: run in this process)",
    )
    p.add_argument("--out", metavar="FILE.csv", help="also write the results table as CSV")
    add_raw_cells_option(p)
    p.add_argument("--quiet", action="store_true", help="no line per finished fold")


# ---------------------------------------------------------------- the grid
def grid_configs(
    parser: argparse.ArgumentParser, specs: list[str], random: int | None, seed: int
) -> list[dict[str, Any]]:
    """The combinations to try: every one of the ``NAME=V1,V2`` specs' product, or
    ``random`` of them drawn without replacement with ``seed``; values parsed as ``train``
    parses them."""
    grid: dict[str, list[Any]] = {}
    for spec in specs:
        name, _, values = spec.partition("=")
        dest = name.strip().lstrip("-").replace("-", "_")
        if dest not in SWEEPABLE or not values.strip():
            raise CommandError(
                f"--grid {spec!r}: expected NAME=V1,V2,… with NAME one of "
                + ", ".join(n.replace("_", "-") for n in SWEEPABLE)
            )
        if dest in grid:
            raise CommandError(f"--grid {name.strip()} is given twice; list its values once")
        grid[dest] = [_parse(parser, dest, text.strip()) for text in values.split(",")]
    combos = [dict(zip(grid, values)) for values in itertools.product(*grid.values())]
    if random is None:
        return combos
    if random <= 0:
        raise CommandError(f"--random {random}: expected a positive number of combinations")
    picked = np.random.default_rng(seed).permutation(len(combos))[:random]
    return [combos[i] for i in picked]


def _parse(parser: argparse.ArgumentParser, dest: str, text: str) -> Any:
    """One grid value through the train option's own type and choices."""
    action = next(a for a in parser._actions if a.dest == dest)
    if dest in ("hidden", "conv"):
        text = text.replace("x", ",")
    try:
        value = action.type(text) if callable(action.type) else text
    except (argparse.ArgumentTypeError, ValueError) as exc:
        raise CommandError(f"--grid {dest.replace('_', '-')}: {exc}") from None
    if action.choices is not None and value not in action.choices:
        choices = ", ".join(map(str, action.choices))
        raise CommandError(f"--grid {dest.replace('_', '-')}: {text!r} is not one of {choices}")
    return value


def fold_rows(n: int, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """K folds of rows 0..n-1, shuffled with ``seed``: (training rows, held-out rows)."""
    if not 2 <= k <= n:
        raise CommandError(f"--folds {k}: expected 2 to {n} (the training rows)")
    parts = np.array_split(np.random.default_rng(seed).permutation(n), k)
    return [
        (np.sort(np.concatenate(parts[:i] + parts[i + 1 :])), np.sort(parts[i])) for i in range(k)
    ]


# ---------------------------------------------------------------- one task
@dataclass
class FoldTask:
    """One fit: the network and optimizer as ``train`` builds them, the fold's rows."""

    config: dict[str, Any]
    fold: int
    net: Any
    optimizer: Any
    epochs: int
    batch_size: int
    train_rows: np.ndarray
    held_out: np.ndarray
    scale: bool


def fit_fold(task: FoldTask, X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Train ``task.net`` on the fold's training rows (standardised with their own
    statistics for CSV data, as ``train`` does) and score it on the held-out rows."""
    net = task.net
    X_fit, X_out = X[task.train_rows], X[task.held_out]
    if task.scale:
        net.metadata["scaler"] = fit_scaler(X_fit)
    X_fit, X_out = model_inputs(net, scaled(net, X_fit)), model_inputs(net, scaled(net, X_out))
    start = time.perf_counter()
    y_fit = y[task.train_rows]
    net.fit(X_fit, y_fit, epochs=task.epochs, batch_size=task.batch_size, optimizer=task.optimizer)
    scores = net.evaluate(X_out, y[task.held_out])
    return {"fold": task.fold, "seconds": time.perf_counter() - start, **scores, "network": net}


def fold_tasks(
    args: argparse.Namespace, data: Data, configs: list[dict[str, Any]]
) -> list[FoldTask]:
    """Every (combination, fold) task, its network and optimizer built here: a bad value
    fails now, not on a worker."""
    folds = fold_rows(len(data.X), args.folds, args.seed)
    tasks = []
    for config in configs:
        options = argparse.Namespace(**{**vars(args), **config, "validation_split": 0.0})
        for fold, rows in enumerate(folds):
            net = build_network(
                data,
                loss=options.loss,
                hidden=options.hidden,
                conv=options.conv,
                activation=options.activation,
                dropout=options.dropout,
                seed=options.seed,
                dtype=options.dtype,
            )
            optimizer = _optimizer(options, len(rows[0]))
            batches = (options.epochs, options.batch_size)
            scale = args.data is not None
            tasks.append(FoldTask(config, fold, net, optimizer, *batches, *rows, scale))
    return tasks


# ---------------------------------------------------------------- running them
def sweep(
    tasks: list[FoldTask],
    X: np.ndarray,
    y: np.ndarray,
    client: Any = None,
    done: Callable[[FoldTask, dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Every task's result (in the tasks' order): on ``client``'s cluster, X and y sent
    once to every worker and each task (its network with it) pickled to a worker and back;
    or, with ``client=None``, here one after another. ``done`` hears of each finished task."""
    results: list[dict[str, Any]] = [{} for _ in tasks]
    if client is None:
        for i, task in enumerate(tasks):
            results[i] = fit_fold(task, X, y)
            if done is not None:
                done(task, results[i])
        return results
    from distributed import as_completed

    X_future, y_future = client.scatter([X, y], broadcast=True)
    futures = [client.submit(fit_fold, task, X_future, y_future, pure=False) for task in tasks]
    where = {future.key: i for i, future in enumerate(futures)}
    for future in as_completed(futures):
        i = where[future.key]
        results[i] = future.result()
        if done is not None:
            done(tasks[i], results[i])
    return results


def summarize(
    tasks: list[FoldTask], results: list[dict[str, Any]], metric: str
) -> list[dict[str, Any]]:
    """One row per combination: its values, the metric's and the loss's mean and standard
    deviation over the folds, each fold's metric, the seconds of fitting; best first."""
    rows: dict[int, dict[str, Any]] = {}
    for task, result in zip(tasks, results):
        row = rows.setdefault(id(task.config), {"config": task.config, "scores": [], "loss": []})
        row["scores"].append(result[metric])
        row["loss"].append(result["loss"])
        row["seconds"] = row.get("seconds", 0.0) + result["seconds"]
    table = []
    for row in rows.values():
        scores, losses = np.array(row["scores"]), np.array(row["loss"])
        table.append(
            {
                **{name: _text(value) for name, value in row["config"].items()},
                f"mean_{metric}": scores.mean(),
                f"std_{metric}": scores.std(),
                "mean_loss": losses.mean(),
                "std_loss": losses.std(),
                **{f"{metric}_fold{k + 1}": v for k, v in enumerate(scores)},
                "seconds": row["seconds"],
            }
        )
    table.sort(key=lambda r: -r[f"mean_{metric}"])
    return [{"rank": i + 1, **r} for i, r in enumerate(table)]


def _text(value: Any) -> str:
    """A grid value as the table shows it: layer sizes as 64x32 (none for no layers)."""
    if isinstance(value, tuple):
        return "x".join(map(str, value)) or "none"
    return str(value)


# ---------------------------------------------------------------- the command
def run(args: argparse.Namespace) -> int:
    import contextlib

    from ..cluster import connect

    data = _data(args)
    assert data.y is not None
    configs = grid_configs(_options_parser(), args.grid, args.random, args.seed)
    tasks = fold_tasks(args, data, configs)
    metric = "accuracy" if data.task == "classification" else "r2"
    local = args.scheduler is None and args.workers == 0
    if args.scheduler is None and args.workers < 0:
        raise CommandError(f"--workers {args.workers}: expected 0 (this process) or more")
    where = "this process" if local else args.scheduler or f"{args.workers} local workers"
    print(f"sweep on {data.name}: {len(configs)} combinations × {args.folds} folds on {where}")
    done = None if args.quiet else _progress(len(tasks), metric)
    with contextlib.nullcontext() if local else connect(args.scheduler, args.workers) as client:
        results = sweep(tasks, data.X, data.y, client, done)
    table = summarize(tasks, results, metric)
    print(format_table(table, list(configs[0]), metric))
    if args.out:
        from ..data.csvwrite import write_csv_atomic

        header = list(table[0])
        with naming(args.out):
            rows = [[_cell(row[k]) for k in header] for row in table]
            write_csv_atomic(args.out, header, rows, raw=args.raw_cells)
        print(f"wrote {len(table)} rows to {args.out}")
    return 0


def _options_parser() -> argparse.ArgumentParser:
    """train's architecture and optimization options, whose types parse grid values."""
    parser = argparse.ArgumentParser(add_help=False)
    _add_architecture(parser)
    _add_optimization(parser)
    return parser


def _progress(n_tasks: int, metric: str) -> Callable[[FoldTask, dict[str, Any]], None]:
    finished = itertools.count(1)

    def done(task: FoldTask, result: dict[str, Any]) -> None:
        values = " ".join(f"{k}={_text(v)}" for k, v in task.config.items()) or "(train's)"
        print(
            f"[{next(finished)}/{n_tasks}] {values} fold {task.fold + 1}: {metric} "
            f"{result[metric]:.4f}, loss {result['loss']:.4f} ({result['seconds']:.1f} s)",
            flush=True,
        )

    return done


def format_table(table: list[dict[str, Any]], names: list[str], metric: str) -> str:
    """The results as aligned text: rank, the swept values, metric ± std, loss, seconds."""
    header = ["rank", *(n.replace("_", "-") for n in names), metric, "loss", "seconds"]
    lines = [header]
    for row in table:
        score = f"{row[f'mean_{metric}']:.4f} ± {row[f'std_{metric}']:.4f}"
        loss = f"{row['mean_loss']:.4f} ± {row['std_loss']:.4f}"
        lines.append(
            [str(row["rank"]), *(row[n] for n in names), score, loss, f"{row['seconds']:.1f}"]
        )
    widths = [max(len(line[j]) for line in lines) for j in range(len(header))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(line, widths)) for line in lines)


def _cell(value: Any) -> Any:
    return f"{value:.10g}" if isinstance(value, float) else value
