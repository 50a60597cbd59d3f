"""How ``train`` (and ``sweep``, for each of its tasks) builds and fits a network on the
prepared data: the network with the preprocessing learned from the training rows, the
settings ``Network.fit`` gets (epochs, batches, optimizer and schedule, validation, early
stopping, class weights, metrics), the honest test score, and the refit on every row.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from ._cache import CachedData, evaluate_test
from ._data import Data, concat_rows, fit_targets, model_codecs, model_inputs
from ._errors import CommandError
from ._network import build_network, resolve_loss

__all__ = ["RUN_SETTINGS", "fit_settings"]

#: the settings that decide which rows train, validate and test: a resumed run keeps them
RUN_SETTINGS = ("seed", "test_split", "validation_split")


def fit_settings(args: argparse.Namespace, net: Any, data: Data, n_rows: int) -> dict[str, Any]:
    """What ``net.fit`` gets besides the rows, as train and sweep both train: epochs,
    batches, the optimizer and its schedule, the validation rows, early stopping
    (``"stopper"``: the EarlyStopping callback, or None), class weights, metrics."""
    from ..metrics import get_metric
    from ..train.monitor import EarlyStopping

    for name in args.metrics or []:
        get_metric(name)  # an unknown name fails now, naming the known ones
    if args.patience is not None and args.patience < 0:
        raise CommandError(f"--patience {args.patience}: expected 0 (no early stopping) or more")
    settings: dict[str, Any] = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "optimizer": _optimizer(args, n_rows),
        "validation_split": args.validation_split,
        "metrics": args.metrics,
        "class_weight": args.class_weight,
        "stopper": None,
    }
    if getattr(args, "validation_data", None):
        from ._data import read_rows_like

        X_val, y_val = read_rows_like(args.validation_data, data, "--validation-data")
        settings["validation_data"] = (model_inputs(net, X_val), fit_targets(net, y_val))
        settings["validation_split"] = 0.0
    patience = _patience(args, n_rows, settings["validation_split"])
    if patience and (settings["validation_split"] or "validation_data" in settings):
        settings["stopper"] = EarlyStopping("val_loss", patience=patience)
    return settings


#: the default patience: this many epochs, or more in a small file, so that at least
#: PATIENCE_STEPS optimizer steps pass without a better validation loss before stopping
PATIENCE_EPOCHS, PATIENCE_STEPS = 10, 300


def _patience(args: argparse.Namespace, n_rows: int, validation_split: float) -> int:
    """--patience, or by default :data:`PATIENCE_EPOCHS` epochs, more when an epoch is a few
    steps (a small file: the validation loss of a few rows is noisy, one epoch moves little)."""
    if args.patience is not None:
        return int(args.patience)
    n_train = n_rows - round(n_rows * validation_split)
    steps = max(1, -(-n_train // args.batch_size))
    return max(PATIENCE_EPOCHS, -(-PATIENCE_STEPS // steps))


def _epochs_chosen(args: argparse.Namespace, history: Any, stopper: Any) -> int:
    """The epochs the saved model trains for: the best validation epoch when stopping
    early (said in a line), else every epoch run."""
    run = len(history["loss"])
    if stopper is None or stopper.best_epoch < 0:
        return run
    best = stopper.best_epoch + 1
    if not args.quiet:
        how = "stopped" if stopper.stop_training else "ran every epoch"
        print(
            f"early stopping: best validation loss {stopper.best:.4f} at epoch {best} of "
            f"{run} ({how}; patience {stopper.patience} epochs)",
            flush=True,
        )
    return best


def _refits(args: argparse.Namespace, data: Data) -> bool:
    """Whether the saved model is refit on every row: a CSV file read in memory, some of
    whose rows the scored model did not train on, and no checkpoint to continue."""
    held_out = args.validation_split > 0 or data.X_test is not None
    return (
        args.data is not None
        and not isinstance(data, CachedData)
        and not args.no_refit
        and not args.checkpoint
        and not getattr(args, "validation_data", None)
        and not getattr(args, "test_data", None)
        and held_out
    )


def _refit(args: argparse.Namespace, data: Data, epochs: int) -> Any:
    """A new network of the same options, its preprocessing learned from every row of the
    file, trained on all of them for ``epochs`` epochs (no validation), on the scored
    run's learning-rate schedule."""
    everything = Data(**{**vars(data)})
    if data.X_test is not None and data.y_test is not None:
        everything.X = concat_rows(data.X, data.X_test)
        everything.y = np.concatenate([np.asarray(data.y), np.asarray(data.y_test)])
    everything.X_test = everything.y_test = None
    options = argparse.Namespace(**{**vars(args), "validation_split": 0.0, "patience": 0})
    net = _network(options, everything)
    X, y = _fit_inputs(net, everything)
    settings = fit_settings(options, net, everything, len(X))
    settings.pop("stopper")
    # the scored run's learning-rate path (its schedule spans --epochs), stopped where the
    # validation chose: a schedule squeezed into the chosen epochs would decay too soon
    settings["epochs"] = epochs
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        net.fit(X, y, verbose=0, **settings)
    print(f"refit on all {len(X)} rows for {epochs} epochs", flush=True)
    return net


def _network(args: argparse.Namespace, data: Data) -> Any:
    """The network the options ask for, with the run's settings and, for a CSV file, the
    preprocessing learned from its training rows."""
    pre = encoder = None
    if args.data is not None:
        from ..losses import LOSSES

        loss = LOSSES[resolve_loss(args.loss, data)]
        if isinstance(data, CachedData):
            pre, encoder = data.codecs(loss)
        else:
            pre, encoder = model_codecs(data, loss)
    net = build_network(
        data,
        loss=args.loss,
        hidden=args.hidden,
        conv=args.conv,
        rnn=_rnn(args),
        activation=args.activation,
        dropout=args.dropout,
        seed=args.seed,
        dtype=args.dtype,
        preprocessor=pre,
        target_encoder=encoder,
    )
    net.metadata["run"] = {key: getattr(args, key) for key in RUN_SETTINGS}
    if data.ids:
        net.metadata["id_columns"] = list(data.ids)
    return net


def _fit_inputs(net: Any, data: Data) -> tuple[Any, Any]:
    """The rows and targets as ``fit`` takes them: raw rows, the user's labels."""
    return model_inputs(net, data.X), fit_targets(net, data.y)


def _optimizer(args: argparse.Namespace, n_rows: int) -> Any:
    """--optimizer with --learning-rate, decayed by --schedule over the run's steps."""
    import cartoonbrain as cb

    optimizer = cb.get_optimizer(args.optimizer)
    rate = args.learning_rate or (0.05 if args.optimizer == "sgd" else 0.003)
    if args.schedule == "cosine":
        n_train = n_rows - round(n_rows * args.validation_split)
        steps = args.epochs * -(-n_train // args.batch_size)
        optimizer.learning_rate = cb.CosineDecay(rate, steps)
    else:
        optimizer.learning_rate = rate
    return optimizer


def _score(args: argparse.Namespace, net: Any, data: Data) -> None:
    """The test score of the trained network, on rows it never saw."""
    if isinstance(data, CachedData) and data.X_test is not None:
        result = evaluate_test(net, data)
    elif data.X_test is not None and data.y_test is not None:
        X_test, y_test = model_inputs(net, data.X_test), fit_targets(net, data.y_test)
        result = net.evaluate(X_test, y_test, metrics=args.metrics)
    else:
        return
    scores = "  ".join(f"{k} {v:.4f}" for k, v in result.items())
    print(f"test {scores} ({len(data.X_test)} rows the model never trained on)", flush=True)


def _rnn(args: argparse.Namespace) -> Any:
    """--rnn and its options as one record, or None (and --conv with --rnn refused)."""
    if getattr(args, "rnn", None) is None:
        return None
    if args.conv:
        raise CommandError("--rnn and --conv build different networks; give one of them")
    return argparse.Namespace(
        kind=args.rnn,
        units=args.rnn_units,
        bidirectional=args.bidirectional,
        all_steps=args.all_steps,
    )
