"""``cartoonbrain train``: build a network for the data, train it, save it.

    cartoonbrain train [--dataset NAME | --data FILE.csv --target COLUMN] [options]

With no arguments: a 64-128-10 ReLU network with dropout on the built-in digits dataset.

From a CSV file the model learns its preprocessing from the training rows and keeps it in
its file (``_data.py``): numbers standardised, text columns one-hot encoded, missing cells
imputed (``--impute``), class labels encoded and a regression target standardised. So
``cb.load(path).predict(rows)`` in Python, ``evaluate``, ``predict`` and the ONNX export
all give what the model gave here. The task (classification or regression) is decided
from the target (``--task auto``) and printed with its reason, even with ``--quiet``.

Training stops early on the validation split (``--patience`` epochs without a better
validation loss; the best epoch's weights kept), the test rows score that model, and the
model saved is then refit on every row of the file (training, validation and test) for the
epochs the validation chose: the printed score is from rows the scored model never saw,
and the saved model has learned from all of them (``--no-refit`` saves the scored one).

What could lose a file or waste a run is refused before training: an output that is the
input (checked with the other commands' in ``_files.py``), a network too large for the
memory, a ``--resume`` whose seed or split settings differ from the checkpoint's (which
would move rows already trained on into the test set). A diverging run never replaces an
existing model: its last finite weights go beside it, to ``NAME.diverged.npz``.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import shlex
from pathlib import Path
from typing import Any

import numpy as np

from ._args import (
    activation_names,
    fraction,
    layer_sizes,
    loss_names,
    optimizer_names,
    or_list,
    positive_float,
    positive_int,
)
from ._cache import CachedData, refuse_options
from ._cache import targets as cache_targets
from ._data import Data, fit_targets, model_inputs
from ._errors import CommandError
from ._files import CHECKPOINT, MODEL, REPORT, REPORT_NAME, Files, beside, naming
from ._fitting import (
    RUN_SETTINGS,
    _epochs_chosen,
    _fit_inputs,
    _network,
    _optimizer,
    _refit,
    _refits,
    _score,
    fit_settings,
)
from ._source import add_columns, training_data

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    """The ``train`` subcommand and its options."""
    p = sub.add_parser(
        "train",
        help="train a network on a built-in dataset or a CSV file",
        description=(
            "Train a network and save it. With no arguments: a 64-128-10 ReLU network with "
            "dropout on the built-in 'digits' dataset, reaching about 97-98% test accuracy "
            "in a few seconds. From a CSV file (--data), the model learns its preprocessing "
            "from the training rows and keeps it in its file (numbers standardised, text "
            "columns one-hot encoded, empty cells imputed with --impute, labels encoded, a "
            "regression target standardised), so Python's cb.load(path).predict and the ONNX "
            "export give what 'cartoonbrain predict' gives. A regression target trains by "
            "default with --dropout 0.5 and --epochs 60."
        ),
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument("--dataset", metavar="NAME", help="a built-in dataset (default digits)")
    source.add_argument("--data", metavar="FILE.csv", help="a CSV file with a header row")
    p.add_argument("--target", metavar="COLUMN", help="the target column of --data")
    p.add_argument(
        "--cache",
        action="store_true",
        help="for a --data file larger than memory: convert it once, a chunk at a time, into "
        "memmappable .npy files beside it (FILE.csv.cache/: features preprocessed, in --dtype) "
        "and train from them; reused while the file and the options are unchanged, else "
        "rebuilt. The model is the one training without --cache gives",
    )
    add_columns(p)
    _add_architecture(p)
    _add_optimization(p)
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--seed", type=int, default=0, help="seed of everything random (default 0)")
    _add_outputs(p)
    p.set_defaults(
        handler=run,
        files=Files(
            inputs=("data",), outputs={"out": MODEL, "checkpoint": CHECKPOINT, "report": REPORT}
        ),
    )


def _add_outputs(p: Any) -> None:
    p.add_argument("--out", default="model.npz", help="where to save the model (default model.npz)")
    p.add_argument(
        "--checkpoint",
        metavar="PATH",
        help="save a checkpoint after every epoch (also a valid model file)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue from --checkpoint if it exists; the result is bit-identical",
    )
    p.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar, epoch lines or column summary (the task line is still printed)",
    )
    p.add_argument(
        "--no-refit",
        action="store_true",
        help="save the model that was scored, trained on the training rows only, instead of "
        "one refit on every row of --data for the epochs early stopping chose",
    )
    p.add_argument(
        "--report",
        metavar="DIR",
        help="also write DIR/report.html (curves, per-layer gradients, diagnostics) and "
        "print the diagnostics; needs matplotlib",
    )


def _add_architecture(p: Any) -> None:
    p.add_argument(
        "--hidden",
        type=layer_sizes,
        default=(128,),
        metavar="64,32",
        help="hidden layer sizes, comma-separated (default 128; 'none' for none)",
    )
    p.add_argument(
        "--conv",
        type=layer_sizes,
        default=(),
        metavar="16,32",
        help="convolutional blocks before the hidden layers, for the image and signal "
        "datasets (digits, mnist5k, mnist1d): per entry a 3-wide convolution with that many "
        "channels and a 2-wide max-pool (default none)",
    )
    p.add_argument(
        "--rnn",
        choices=["rnn", "lstm", "gru"],
        default=None,
        help="a recurrent classifier for the sequence datasets (mnist1d: 40 steps of one "
        "value; digits, mnist5k: one step per image row) instead of --conv: the recurrent "
        "layer, then the hidden layers (default none)",
    )
    p.add_argument("--rnn-units", type=positive_int, default=32, help="units of --rnn (default 32)")
    p.add_argument(
        "--bidirectional", action="store_true", help="--rnn reads each sequence both ways"
    )
    p.add_argument(
        "--all-steps",
        action="store_true",
        help="--rnn passes every step's state on (flattened), not only the last: the "
        "MNIST-1D paper's GRU is --rnn gru --rnn-units 6 --bidirectional --all-steps "
        "--hidden none",
    )
    p.add_argument(
        "--activation",
        default="relu",
        help=f"activation of the hidden layers: {or_list(activation_names())} (default relu)",
    )
    p.add_argument(
        "--dropout",
        type=fraction,
        default=None,
        help="dropout rate after each hidden layer (default 0.2; 0.5 for a regression target)",
    )
    p.add_argument(
        "--loss",
        default="auto",
        help="auto (cross_entropy for class labels, mse for numbers; a loss named here "
        "decides --task auto), " + or_list(loss_names()),
    )


def _add_optimization(p: Any) -> None:
    p.add_argument(
        "--optimizer",
        default="adam",
        help=f"{or_list(optimizer_names())} (default adam)",
    )
    p.add_argument(
        "--learning-rate",
        type=positive_float,
        default=None,
        help="initial learning rate (default 0.003 for adam/adamw/rmsprop, 0.05 for sgd)",
    )
    p.add_argument(
        "--schedule",
        choices=("cosine", "constant"),
        default="cosine",
        help="learning-rate schedule over the run (default cosine)",
    )
    p.add_argument(
        "--epochs",
        type=positive_int,
        default=None,
        help="the most epochs (default 200; early stopping usually ends sooner)",
    )
    p.add_argument(
        "--patience",
        type=int,
        default=None,
        metavar="N",
        help="stop when the validation loss has not improved for N epochs and keep the best "
        "epoch's weights (default 10, or enough epochs for 300 steps in a small file; 0: "
        "train every epoch)",
    )
    p.add_argument(
        "--class-weight",
        choices=("balanced",),
        help="balanced: weigh each class inversely to its frequency (rare classes count more)",
    )
    p.add_argument(
        "--metrics",
        type=lambda text: [m.strip() for m in text.split(",") if m.strip()],
        metavar="M1,M2",
        help="metrics to report, by the library's names (accuracy, f1, f1_macro, auc, "
        "precision, recall, mse, mae, r2, top_5_accuracy, ...); default accuracy or mse/mae/r2",
    )
    p.add_argument(
        "--validation-data",
        metavar="FILE.csv",
        help="validate (and stop early) on this file instead of a split of --data",
    )
    p.add_argument(
        "--test-data",
        metavar="FILE.csv",
        help="score on this file instead of a --test-split of --data",
    )
    p.add_argument("--batch-size", type=positive_int, default=32, help="batch size (default 32)")
    p.add_argument(
        "--validation-split",
        type=fraction,
        default=0.1,
        help="fraction of the training rows held out for validation (default 0.1)",
    )
    p.add_argument(
        "--test-split",
        type=fraction,
        default=0.2,
        help="for --data: fraction of rows held out as the test set (default 0.2)",
    )


# ---------------------------------------------------------------- the run
def run(args: argparse.Namespace) -> int:
    import cartoonbrain as cb

    if args.cache:
        refuse_options(args)
    _check_resume(args)
    data = _data(args)
    net = _network(args, data)
    cached = isinstance(data, CachedData)  # --cache: memmapped rows, already preprocessed
    X, y = (data.X, cache_targets(net, data.y)) if cached else _fit_inputs(net, data)
    settings = fit_settings(args, net, data, len(X))
    monitor = _train_monitor(args, net, y)
    if not args.quiet:
        print(
            f"training on {data.name}: {len(X)} rows, {_n_features(data)} features, "
            f"{data.task}; network {net.n_parameters:,} parameters, loss {net.loss.name}",
            flush=True,
        )
    stopper = settings.pop("stopper")
    callbacks = [c for c in (monitor, stopper) if c is not None]
    # a diverging run overflows: fit reports it as TrainingDiverged, one line, not warnings
    quiet_overflow = np.errstate(over="ignore", invalid="ignore", divide="ignore")
    try:
        with (
            quiet_overflow,
            naming(args.checkpoint) if args.checkpoint else contextlib.nullcontext(),
        ):
            history = net.fit(
                X,
                y,
                verbose=0 if args.quiet else 1,
                checkpoint=args.checkpoint,
                resume=args.resume,
                preprocessed=cached,  # a cache holds the preprocessed rows already
                callbacks=callbacks,
                **settings,
            )
    except cb.TrainingDiverged as exc:
        _diverged(args, net, data, monitor, exc)
    epochs = _epochs_chosen(args, history, stopper)
    _score(args, net, data)
    saved = _refit(args, data, epochs) if _refits(args, data) else net
    _finish(args, saved, net, data, history, monitor)
    return 0


def _check_resume(args: argparse.Namespace) -> None:
    """--resume continues only a run of the same seed and splits (stored in the checkpoint's
    metadata): other settings would move rows between the training and test sets."""
    import os

    import cartoonbrain as cb

    if not (args.resume and args.checkpoint and os.path.exists(args.checkpoint)):
        return
    stored = cb.load(args.checkpoint).metadata.get("run")
    if not isinstance(stored, dict):
        return  # written before the settings were stored: nothing to compare
    changed = [key for key in RUN_SETTINGS if key in stored and stored[key] != getattr(args, key)]
    if changed:
        was = " ".join(f"{_flag(key)} {stored[key]}" for key in changed)
        now = " ".join(f"{_flag(key)} {getattr(args, key)}" for key in changed)
        raise CommandError(
            f"--checkpoint {args.checkpoint} was written with {was}, and this run has {now}; "
            "resuming would move rows between the training, validation and test sets. Resume "
            "with the checkpoint's settings, or start over without --resume (and with --force)"
        )


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def _diverged(
    args: argparse.Namespace, net: Any, data: Data, monitor: Any, exc: BaseException
) -> None:
    """Keep the last finite weights without replacing an existing model, say where, fail."""
    import os

    import cartoonbrain as cb

    path = beside(args.out, "diverged") if os.path.lexists(args.out) else args.out
    with naming(path):
        cb.save(net, path)
    if monitor is not None:
        _write_report(args, net, data, None, monitor, error=exc)
    kept = f"; {args.out} is kept as it was" if str(path) != str(args.out) else ""
    raise CommandError(f"{exc}; the last finite model was saved to {path}{kept}") from None


def _n_features(data: Data) -> int:
    """The columns of the file (or dataset) the network reads, before preprocessing."""
    if isinstance(data, CachedData):
        return len(data.feature_names or [])
    return int(data.X.shape[1])


def _data(args: argparse.Namespace) -> Data:
    """The training data and the task's defaults (:func:`._source.training_data`)."""
    return training_data(args)


def _finish(
    args: argparse.Namespace, saved: Any, scored: Any, data: Data, history: Any, monitor: Any
) -> None:
    """The saved model, the report (of the scored one)."""
    import cartoonbrain as cb

    if data.X_test is None and not args.quiet:
        print(f"final loss {history['loss'][-1]:.4f}")
    with naming(args.out):
        cb.save(saved, args.out)
    print(f"saved the model to {args.out}", flush=True)
    if monitor is not None:
        _write_report(args, scored, data, history, monitor)


# ---------------------------------------------------------------- --report
def _train_monitor(args: argparse.Namespace, net: Any, y: Any) -> Any:
    """A TrainingMonitor for --report (matplotlib is checked now, not after training),
    given a regression's targets as the network trains on them, so that the diagnostics
    measure their range and scale instead of guessing them."""
    if args.report is None:
        return None
    from ..diagnostics import TrainingMonitor
    from ..report import require_matplotlib

    require_matplotlib()
    targets = None if net.loss.classification else net.targets(y, len(y))
    return TrainingMonitor(targets=targets)


def _write_report(
    args: argparse.Namespace,
    net: Any,
    data: Data,
    history: Any,
    monitor: Any,
    error: BaseException | None = None,
) -> None:
    """Print the diagnostics and write --report DIR/report.html (with the test set); an
    advised learning rate is measured first by a short probe run (:func:`_probe`)."""
    from ..diagnostics import diagnose, print_findings
    from ..report import write_report

    findings = diagnose(monitor, history, error=error, probe=_probe(args, data))
    print_findings(findings)
    skip = ("handler", "debug", "command", "files")
    config = {k: v for k, v in vars(args).items() if k not in skip}
    config["command"] = command_line(args)
    config.update(
        dataset=data.name, task=data.task, n_train_rows=len(data.X), n_features=data.X.shape[1]
    )
    config["task_reason"] = data.reason
    if data.summary or data.notes:
        config["columns"] = "\n".join([*data.summary, *data.notes])
    config["optimizer"] = net.optimizer.get_config()
    X_test = y_test = None
    if error is None and data.X_test is not None and data.y_test is not None:
        X_test, y_test = model_inputs(net, data.X_test), fit_targets(net, data.y_test)
    with naming(Path(args.report) / REPORT_NAME):
        path = write_report(
            args.report,
            net,
            history,
            monitor,
            config=config,
            title=f"cartoonbrain train on {data.name}",
            X_test=X_test,
            y_test=y_test,
            error=error,
            X_train=data.X if data.X.ndim == 2 and data.X.shape[1] == 2 else None,
            y_train=data.y,
            findings=findings,
        )
    print(f"wrote the training report to {path}", flush=True)


#: a probe run trains at most this many epochs
PROBE_EPOCHS = 3


def _probe(args: argparse.Namespace, data: Data) -> Any:
    """``probe(changes) -> score``: the run again, for at most PROBE_EPOCHS epochs, with its
    learning rate changed (``{}``: as it is); the score is its last validation loss (else
    training loss), inf if it diverged. None for --cache (streamed rows: not re-read)."""
    import cartoonbrain as cb

    if isinstance(data, CachedData):
        return None
    epochs = min(args.epochs, PROBE_EPOCHS)

    def probe(changes: dict[str, Any]) -> float:
        rate = changes.get("learning_rate") or args.learning_rate
        short = argparse.Namespace(**{**vars(args), "epochs": epochs, "learning_rate": rate})
        net = _network(short, data)
        X, y = _fit_inputs(net, data)
        optimizer = _optimizer(short, len(X))
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                history = net.fit(
                    X,
                    y,
                    epochs=epochs,
                    batch_size=short.batch_size,
                    optimizer=optimizer,
                    validation_split=short.validation_split,
                    verbose=0,
                )
        except cb.TrainingDiverged:
            return math.inf
        logs = history.history
        value = float((logs.get("val_loss") or logs["loss"])[-1])
        return value if math.isfinite(value) else math.inf

    return probe


def command_line(args: argparse.Namespace) -> str:
    """A ``cartoonbrain train ...`` line that repeats the run (every option spelled out)."""
    skip = ("command", "handler", "debug", "files", "report", "checkpoint", "resume", "quiet")
    parts = ["cartoonbrain", args.command]
    for key, value in vars(args).items():
        if key in skip or value is None or value is False:
            continue
        option = "--" + key.replace("_", "-")
        if value is True:
            parts.append(option)
        elif isinstance(value, list) and value and isinstance(value[0], list):  # --drop ...
            for names in value:
                parts += [option, shlex.quote(",".join(names))]
        elif isinstance(value, list):  # --metrics, --na-values: one comma-separated list
            parts += [option, shlex.quote(",".join(value))]
        else:
            text = ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
            parts += [option, shlex.quote(text)]
    return " ".join(parts)
