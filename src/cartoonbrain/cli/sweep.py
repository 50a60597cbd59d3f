"""``cartoonbrain sweep``: a grid or random search over ``train``'s options, cross-validated,
each fit a task on a Dask cluster.

    cartoonbrain sweep [--dataset NAME | --data FILE.csv --target COLUMN] [train's options]
                       --grid NAME=V1,V2,… [--grid …] [--random N] [--folds K]
                       [--scheduler ADDRESS | --workers N] [--out results.csv]

Every combination of the ``--grid`` values (or ``--random N`` of them, drawn with
``--seed`` without listing the grid) is trained on K seeded folds of the training rows and
scored on the fold left out: accuracy for classifiers, r2 for regressors (the loss too).
The file is read and prepared by the code ``train`` uses (``_source.training_data``: the
same column options, imputation, IDs, task), and each (combination, fold) is one task
whose network is built as ``train`` builds it: the preprocessing (and a regression
target's scaling) learned from the fold's training rows, the same optimizer, schedule,
early stopping on a validation split and seed. It travels pickled to a worker with the
fold's rows, is trained there by ``Network.fit`` and scored, and only the scores come
back: the network is dropped. A combination that fails or diverges is recorded with its
reason (ranked last) while the others go on, and ``--out`` is written even when the sweep
is interrupted. With ``--workers 0`` the tasks run in this process, one after another;
the scores are the same (docs/scaling.md).

A value of ``--hidden`` or ``--conv`` in a grid writes its layer sizes with ``x``:
``--grid hidden=64,128x64,none`` tries one layer of 64, two of 128 and 64, and none.
"""

from __future__ import annotations

import argparse
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data.csvdata import Columns
from ._args import add_raw_cells_option
from ._data import Data, fit_targets, model_inputs
from ._errors import CommandError
from ._files import CSV, Files, naming
from ._fitting import _network, fit_settings
from ._source import add_columns
from .train import _add_architecture, _add_optimization, _data

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
    add_columns(p)
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
    sizes = [len(values) for values in grid.values()]
    total = math.prod(sizes)
    if random is None:
        picked: Any = range(total)
    elif random <= 0:
        raise CommandError(f"--random {random}: expected a positive number of combinations")
    else:
        picked = _draw(total, random, seed)
    names = list(grid)
    return [{name: grid[name][k] for name, k in zip(names, _digits(i, sizes))} for i in picked]


def _draw(total: int, n: int, seed: int) -> list[int]:
    """``n`` distinct numbers of ``range(total)`` (all of them if fewer), drawn with
    ``seed`` without listing the range: a grid of 10⁸ combinations costs nothing."""
    rng = np.random.default_rng(seed)
    if n >= total:
        return [int(i) for i in rng.permutation(total)]
    drawn: dict[int, None] = {}
    while len(drawn) < n:
        drawn.setdefault(int(rng.integers(total)), None)
    return list(drawn)


def _digits(i: int, sizes: list[int]) -> list[int]:
    """Combination number ``i`` as one index per option (the last option varies fastest,
    as itertools.product orders them)."""
    digits = []
    for size in reversed(sizes):
        i, k = divmod(i, size)
        digits.append(k)
    return digits[::-1]


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
    """One fit: the network as ``train`` builds it for the fold's training rows (its
    preprocessing learned from them), ``fit``'s settings, the fold's rows."""

    config: dict[str, Any]
    fold: int
    net: Any
    settings: dict[str, Any]
    train_rows: np.ndarray
    held_out: np.ndarray


def _take(X: Any, rows: np.ndarray) -> Any:
    return X.take(rows) if isinstance(X, Columns) else X[rows]


def fit_fold(task: FoldTask, X: Any, y: np.ndarray) -> dict[str, Any]:
    """Train ``task.net`` on the fold's training rows as ``train`` does and score it on the
    held-out rows; the scores only (the network is dropped), or the reason it failed."""
    import cartoonbrain as cb

    net = task.net
    start = time.perf_counter()
    X_fit, X_out = (
        model_inputs(net, _take(X, task.train_rows)),
        model_inputs(net, _take(X, task.held_out)),
    )
    settings = dict(task.settings)
    stopper = settings.pop("stopper")
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            net.fit(
                X_fit,
                fit_targets(net, y[task.train_rows]),
                callbacks=[c for c in [stopper] if c],
                **settings,
            )
            scores = net.evaluate(X_out, fit_targets(net, y[task.held_out]))
    except (cb.TrainingDiverged, ValueError, FloatingPointError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return {"fold": task.fold, "seconds": time.perf_counter() - start, "error": reason}
    if not all(np.isfinite(v) for v in scores.values()):
        reason = "the scores are not finite (diverged)"
        return {"fold": task.fold, "seconds": time.perf_counter() - start, "error": reason}
    return {"fold": task.fold, "seconds": time.perf_counter() - start, **scores}


def fold_tasks(args: argparse.Namespace, data: Data, configs: Any) -> Any:
    """Every (combination, fold) task, built when it is needed (a generator): its network
    and settings built as train builds them; a bad value of the first fails at once."""
    folds = fold_rows(len(data.X), args.folds, args.seed)
    assert data.y is not None
    for config in configs:
        options = argparse.Namespace(**{**vars(args), **config})
        for fold, (train_rows, held_out) in enumerate(folds):
            part = Data(**{**vars(data)})
            part.X, part.y = _take(data.X, train_rows), data.y[train_rows]
            part.X_test = part.y_test = None
            net = _network(options, part)
            settings = fit_settings(options, net, part, len(train_rows))
            yield FoldTask(config, fold, net, settings, train_rows, held_out)


# ---------------------------------------------------------------- running them
def sweep(
    tasks: Any,
    X: Any,
    y: np.ndarray,
    client: Any = None,
    done: Callable[[FoldTask, dict[str, Any]], None] | None = None,
    window: int = 8,
) -> list[dict[str, Any]]:
    """Every task's result (in the tasks' order), each with its ``config``: on
    ``client``'s cluster, X and y sent once to every worker and at most ``window`` tasks
    (each with its network) out at a time; or, with ``client=None``, here one after
    another. ``done`` hears of each finished task. No network is kept once scored."""
    results: list[dict[str, Any]] = []
    if client is None:
        for task in tasks:
            result = {**fit_fold(task, X, y), "config": task.config}
            results.append(result)
            if done is not None:
                done(task, result)
        return results
    from distributed import as_completed

    X_future, y_future = client.scatter([X, y], broadcast=True)
    queue = iter(enumerate(tasks))
    pending: dict[str, tuple[int, FoldTask]] = {}
    finished: dict[int, dict[str, Any]] = {}

    def submit() -> Any:
        for i, task in queue:
            future = client.submit(fit_fold, task, X_future, y_future, pure=False)
            pending[future.key] = (i, task)
            return future
        return None

    first = [f for f in (submit() for _ in range(window)) if f is not None]
    running = as_completed(first)
    for future in running:
        i, task = pending.pop(future.key)
        finished[i] = {**future.result(), "config": task.config}
        if done is not None:
            done(task, finished[i])
        more = submit()
        if more is not None:
            running.add(more)
    return [finished[i] for i in sorted(finished)]


def summarize(results: list[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    """One row per combination: its values, the metric's and the loss's mean and standard
    deviation over the folds, each fold's metric, the seconds of fitting, and ``error``
    (the first failed fold's reason: such a combination ranks last); best first."""
    rows: dict[int, dict[str, Any]] = {}
    for result in results:
        config = result["config"]
        row = rows.setdefault(id(config), {"config": config, "scores": [], "loss": [], "error": ""})
        if "error" in result:
            row["error"] = row["error"] or f"fold {result['fold'] + 1}: {result['error']}"
            row["scores"].append(np.nan)
            row["loss"].append(np.nan)
        else:
            row["scores"].append(result[metric])
            row["loss"].append(result["loss"])
        row["seconds"] = row.get("seconds", 0.0) + result["seconds"]
    table = []
    for row in rows.values():
        scores, losses = np.array(row["scores"]), np.array(row["loss"])
        failed = bool(row["error"])
        table.append(
            {
                **{name: _text(value) for name, value in row["config"].items()},
                f"mean_{metric}": np.nan if failed else scores.mean(),
                f"std_{metric}": np.nan if failed else scores.std(),
                "mean_loss": np.nan if failed else losses.mean(),
                "std_loss": np.nan if failed else losses.std(),
                **{f"{metric}_fold{k + 1}": v for k, v in enumerate(scores)},
                "seconds": row["seconds"],
                "error": row["error"],
            }
        )
    table.sort(key=lambda r: (bool(r["error"]), -np.nan_to_num(r[f"mean_{metric}"], nan=-np.inf)))
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
    n_tasks = len(configs) * args.folds
    results: list[dict[str, Any]] = []
    done = _progress(n_tasks, metric, results, args.quiet)
    try:
        with contextlib.nullcontext() if local else connect(args.scheduler, args.workers) as client:
            sweep(tasks, data.X, data.y, client, done)
    finally:  # interrupted or failed: the finished combinations are written all the same
        _write(args, results, configs, metric, partial=len(results) < n_tasks)
    return 0


def _write(
    args: argparse.Namespace,
    results: list[dict[str, Any]],
    configs: list[dict[str, Any]],
    metric: str,
    partial: bool,
) -> None:
    """The table, printed and written to --out (the finished tasks, when ``partial``)."""
    if not results:
        return
    table = summarize(results, metric)
    print(format_table(table, list(configs[0]), metric))
    if args.out:
        from ..data.csvwrite import write_csv_atomic

        header = list(table[0])
        with naming(args.out):
            rows = [[_cell(row[k]) for k in header] for row in table]
            write_csv_atomic(args.out, header, rows, raw=args.raw_cells)
        what = "the finished tasks' " if partial else ""
        print(f"wrote {what}{len(table)} rows to {args.out}", flush=True)


def _options_parser() -> argparse.ArgumentParser:
    """train's architecture and optimization options, whose types parse grid values."""
    parser = argparse.ArgumentParser(add_help=False)
    _add_architecture(parser)
    _add_optimization(parser)
    return parser


def _progress(
    n_tasks: int, metric: str, results: list[dict[str, Any]], quiet: bool
) -> Callable[[FoldTask, dict[str, Any]], None]:
    finished = itertools.count(1)

    def done(task: FoldTask, result: dict[str, Any]) -> None:
        results.append(result)
        if quiet:
            return
        values = " ".join(f"{k}={_text(v)}" for k, v in task.config.items()) or "(train's)"
        how = (
            f"failed: {result['error']}"
            if "error" in result
            else f"{metric} {result[metric]:.4f}, loss {result['loss']:.4f}"
        )
        print(
            f"[{next(finished)}/{n_tasks}] {values} fold {task.fold + 1}: {how} "
            f"({result['seconds']:.1f} s)",
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
        if row.get("error"):
            score, loss = "failed", row["error"][:60]
        lines.append(
            [str(row["rank"]), *(row[n] for n in names), score, loss, f"{row['seconds']:.1f}"]
        )
    widths = [max(len(line[j]) for line in lines) for j in range(len(header))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(line, widths)) for line in lines)


def _cell(value: Any) -> Any:
    return f"{value:.10g}" if isinstance(value, float) else value
