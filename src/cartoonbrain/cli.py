"""The ``cartoonbrain`` command line: argparse in front of the library, no maths here.

    cartoonbrain train [--dataset NAME | --data FILE.csv --target COLUMN] [options]
    cartoonbrain evaluate --model PATH (--dataset NAME | --data FILE.csv --target COLUMN)
    cartoonbrain predict --model PATH --data FILE.csv [--out predictions.csv]
    cartoonbrain export --model PATH --out FILE.onnx [--input-shape C,H,W]
    cartoonbrain datasets
    cartoonbrain blog [--epochs N] [--samples N] [--learning-rate F] [--seed S] [--report DIR]

``train --report DIR`` and ``blog --report DIR`` also write ``DIR/report.html`` (curves,
per-layer gradients, diagnostics) and print the diagnostics.

Every expected failure (a bad file, a bad option, a diverging run) ends with exit status 2
and one line on stderr; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import shlex
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import __version__, blog


class CommandError(Exception):
    """A user-facing error: printed as one line on stderr, exit status 2."""


# ---------------------------------------------------------------- argument types
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text!r}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
    return value


def _sizes(text: str) -> tuple[int, ...]:
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


def _shape(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected one sample's shape such as 1,28,28, got {text!r}"
        ) from None
    if any(size <= 0 for size in shape):
        raise argparse.ArgumentTypeError(f"shape sizes must be positive, got {text!r}")
    return shape


# ---------------------------------------------------------------- data
@dataclass
class Data:
    """Features and targets ready for the network, with what is needed to read them back."""

    name: str
    X: np.ndarray
    y: np.ndarray | None
    task: str
    classes: list[Any] | None
    feature_names: list[str] | None
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    target: str | None = None
    input_shape: tuple[int, ...] | None = None


def _load_dataset(name: str, seed: int) -> Data:
    from . import datasets

    ds = datasets.load(name, seed=seed)
    classes = list(ds.classes) if ds.classes is not None else None
    names = list(ds.feature_names) if ds.feature_names is not None else None
    return Data(
        name,
        ds.X_train,
        ds.y_train,
        ds.task,
        classes,
        names,
        ds.X_test,
        ds.y_test,
        input_shape=tuple(ds.input_shape),
    )


def _encode(labels: list[Any], classes: list[Any], where: str) -> np.ndarray:
    index = {label: i for i, label in enumerate(classes)}
    ids = np.empty(len(labels), dtype=np.int64)
    for i, label in enumerate(labels):
        if label not in index:
            known = ", ".join(map(str, classes[:10])) + (", ..." if len(classes) > 10 else "")
            raise CommandError(
                f"{where}, data row {i + 1}: label {label!r} was not seen in training "
                f"(known labels: {known})"
            )
        ids[i] = index[label]
    return ids


def _read_training_csv(path: str, target: str) -> Data:
    from .csvdata import DataFileError, read_table, target_kind

    table = read_table(path)
    table.index(target)
    features = [c for c in table.columns if c != target]
    if not features:
        raise DataFileError(f"{path}: no feature columns besides the target {target!r}")
    X = table.numbers(features)
    raw = table.column(target)
    task, values = target_kind(raw)
    if task == "regression":
        y = table.numbers([target])
        return Data(path, X, y, task, None, features, target=target)
    classes = sorted(set(values), key=lambda v: (str(type(v)), v))
    if len(classes) < 2:
        raise DataFileError(
            f"{path}: the target column {target!r} has only one class ({classes[0]!r}); "
            "a classifier needs at least two"
        )
    return Data(path, X, _encode(values, classes, path), task, classes, features, target=target)


def _split_test(data: Data, fraction: float, seed: int) -> None:
    """Hold out a seeded random fraction of a CSV's rows as the test set."""
    if fraction == 0 or data.X_test is not None:
        return
    n_test = round(len(data.X) * fraction)
    if n_test == 0 or n_test >= len(data.X) - 1:
        raise CommandError(
            f"--test-split {fraction} of {len(data.X)} rows leaves too few rows to train or test"
        )
    order = np.random.default_rng(seed).permutation(len(data.X))
    test, train = order[:n_test], order[n_test:]
    assert data.y is not None
    data.X_test, data.y_test = data.X[test], data.y[test]
    data.X, data.y = data.X[train], data.y[train]


# ---------------------------------------------------------------- train
def _add_train(sub: Any) -> None:
    p = sub.add_parser(
        "train",
        help="train a network on a built-in dataset or a CSV file",
        description=(
            "Train a network and save it. With no arguments: a 64-128-10 ReLU network with "
            "dropout on the built-in 'digits' dataset, reaching about 97-98%% test accuracy "
            "in a few seconds."
        ),
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument("--dataset", metavar="NAME", help="a built-in dataset (default digits)")
    source.add_argument("--data", metavar="FILE.csv", help="a CSV file with a header row")
    p.add_argument("--target", metavar="COLUMN", help="the target column of --data")
    p.add_argument(
        "--hidden",
        type=_sizes,
        default=(128,),
        metavar="64,32",
        help="hidden layer sizes, comma-separated (default 128; 'none' for none)",
    )
    p.add_argument(
        "--conv",
        type=_sizes,
        default=(),
        metavar="16,32",
        help="convolutional blocks before the hidden layers, for the image and signal "
        "datasets (digits, mnist5k, mnist1d): per entry a 3-wide convolution with that many "
        "channels and a 2-wide max-pool (default none)",
    )
    p.add_argument(
        "--activation", default="relu", help="activation of the hidden layers (default relu)"
    )
    p.add_argument(
        "--dropout",
        type=_fraction,
        default=0.2,
        help="dropout rate after each hidden layer (default 0.2)",
    )
    p.add_argument(
        "--loss",
        default="auto",
        help="auto (cross_entropy for class labels, mse for numbers), mse, "
        "squared_error, cross_entropy or binary_cross_entropy",
    )
    p.add_argument("--optimizer", default="adam", help="adam, sgd, rmsprop or adamw (default adam)")
    p.add_argument(
        "--learning-rate",
        type=_positive_float,
        default=None,
        help="initial learning rate (default 0.003 for adam/adamw/rmsprop, 0.05 for sgd)",
    )
    p.add_argument(
        "--schedule",
        choices=("cosine", "constant"),
        default="cosine",
        help="learning-rate schedule over the run (default cosine)",
    )
    p.add_argument("--epochs", type=_positive_int, default=30, help="epochs (default 30)")
    p.add_argument("--batch-size", type=_positive_int, default=32, help="batch size (default 32)")
    p.add_argument(
        "--validation-split",
        type=_fraction,
        default=0.1,
        help="fraction of the training rows held out for validation (default 0.1)",
    )
    p.add_argument(
        "--test-split",
        type=_fraction,
        default=0.2,
        help="for --data: fraction of rows held out as the test set (default 0.2)",
    )
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--seed", type=int, default=0, help="seed of everything random (default 0)")
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
    p.add_argument("--quiet", action="store_true", help="no progress bar or epoch lines")
    p.add_argument(
        "--report",
        metavar="DIR",
        help="also write DIR/report.html (curves, per-layer gradients, diagnostics) and "
        "print the diagnostics; needs matplotlib",
    )
    p.set_defaults(handler=_run_train)


def _build_network(args: argparse.Namespace, data: Data) -> Any:
    import cartoonbrain as cb

    classification = data.task == "classification"
    loss = args.loss
    if loss == "auto":
        loss = "cross_entropy" if classification else "mse"
    if loss not in cb.LOSSES:
        raise CommandError(
            f"unknown --loss {loss!r}; expected auto or one of {', '.join(cb.LOSSES)}"
        )
    if cb.LOSSES[loss].classification != classification:
        kind = "class labels" if classification else "continuous numbers"
        raise CommandError(f"--loss {loss} does not fit a target of {kind}; try --loss auto")
    if loss == "binary_cross_entropy" and data.classes is not None and len(data.classes) != 2:
        raise CommandError(
            f"--loss binary_cross_entropy needs 2 classes; the target has {len(data.classes)}"
        )
    assert data.y is not None
    n_in = data.X.shape[1]
    if classification:
        assert data.classes is not None
        n_out = 1 if loss == "binary_cross_entropy" else len(data.classes)
    else:
        n_out = 1 if data.y.ndim == 1 else data.y.shape[1]
    layers, input_shape, n_in = _conv_blocks(args, data)
    for size in args.hidden:
        layers.append(cb.Dense(n_in, size, activation=args.activation))
        if args.dropout:
            layers.append(cb.Dropout(args.dropout))
        n_in = size
    layers.append(cb.Dense(n_in, n_out))
    metadata = {
        "task": data.task,
        "classes": data.classes,
        "feature_names": data.feature_names,
        "target": data.target,
        "source": data.name,
    }
    return cb.Network(
        layers,
        loss=loss,
        seed=args.seed,
        dtype=args.dtype,
        metadata=metadata,
        input_shape=input_shape,
    )


def _conv_blocks(args: argparse.Namespace, data: Data) -> tuple[list[Any], Any, int]:
    """--conv 16,32: per entry a 3-wide convolution (ReLU, 'same' padding) and a 2-wide
    max-pool, over each sample's image (C, H, W) or signal (C, L); then Flatten."""
    import cartoonbrain as cb

    if not args.conv:
        return [], None, data.X.shape[1]
    shape = data.input_shape
    if shape is None or len(shape) not in (2, 3):
        raise CommandError(
            "--conv needs a built-in image or signal dataset (digits, mnist5k, mnist1d); "
            f"{data.name} has plain feature rows"
        )
    conv, pool = (cb.Conv2D, cb.MaxPool2D) if len(shape) == 3 else (cb.Conv1D, cb.MaxPool1D)
    layers: list[Any] = []
    current: tuple[int, ...] = shape
    for channels in args.conv:
        block: list[Any] = [conv(current[0], channels, 3, padding=1, activation=args.activation)]
        if min(current[1:]) >= 2:
            block.append(pool(2))
        for layer in block:
            current = layer.output_shape(current)
            assert current is not None
        layers += block
    layers.append(cb.Flatten())
    return layers, shape, math.prod(current)


def _model_inputs(net: Any, X: np.ndarray) -> np.ndarray:
    """Rows of features, reshaped to each sample's image or signal for convolutional models."""
    shape = net.input_shape
    if shape is not None and len(shape) > 1 and X.ndim == 2:
        return X.reshape(len(X), *shape)
    return X


def _scaler(net: Any, X: np.ndarray) -> np.ndarray:
    """Standardise with the mean and scale stored in the model (CSV data only)."""
    scaler = net.metadata.get("scaler")
    if not scaler:
        return X
    return (X - np.asarray(scaler["mean"])) / np.asarray(scaler["scale"])


def _run_train(args: argparse.Namespace) -> int:
    import cartoonbrain as cb

    if args.data is not None:
        if args.target is None:
            raise CommandError("--data needs --target COLUMN, the column to predict")
        data = _read_training_csv(args.data, args.target)
        _split_test(data, args.test_split, args.seed)
    else:
        if args.target is not None:
            raise CommandError("--target goes with --data FILE.csv, not with a built-in dataset")
        data = _load_dataset(args.dataset or "digits", args.seed)
    net = _build_network(args, data)
    if args.data is not None:  # CSV features: standardise with the training rows' statistics
        mean, scale = data.X.mean(axis=0), data.X.std(axis=0)
        scale[scale == 0] = 1.0
        net.metadata["scaler"] = {"mean": mean.tolist(), "scale": scale.tolist()}
    X = _model_inputs(net, _scaler(net, data.X))
    optimizer = cb.get_optimizer(args.optimizer)
    rate = args.learning_rate or (0.05 if args.optimizer == "sgd" else 0.003)
    if args.schedule == "cosine":
        n_train = len(X) - round(len(X) * args.validation_split)
        steps = args.epochs * -(-n_train // args.batch_size)
        optimizer.learning_rate = cb.CosineDecay(rate, steps)
    else:
        optimizer.learning_rate = rate
    monitor = _train_monitor(args)
    if not args.quiet:
        print(
            f"training on {data.name}: {len(X)} rows, {data.X.shape[1]} features, "
            f"{data.task}; network {net.n_parameters:,} parameters, loss {net.loss.name}",
            flush=True,
        )
    try:
        history = net.fit(
            X,
            data.y,
            epochs=args.epochs,
            batch_size=args.batch_size,
            optimizer=optimizer,
            validation_split=args.validation_split,
            verbose=0 if args.quiet else 1,
            checkpoint=args.checkpoint,
            resume=args.resume,
            callbacks=[] if monitor is None else [monitor],
        )
    except cb.TrainingDiverged as exc:
        cb.save(net, args.out)
        if monitor is not None:
            _write_train_report(args, net, data, None, monitor, error=exc)
        raise CommandError(f"{exc}; the last finite model was saved to {args.out}") from None
    if data.X_test is not None and data.y_test is not None:
        result = net.evaluate(_model_inputs(net, _scaler(net, data.X_test)), data.y_test)
        print("test " + "  ".join(f"{k} {v:.4f}" for k, v in result.items()), flush=True)
    elif not args.quiet:
        print(f"final loss {history['loss'][-1]:.4f}")
    cb.save(net, args.out)
    print(f"saved the model to {args.out}", flush=True)
    if monitor is not None:
        _write_train_report(args, net, data, history, monitor)
    return 0


def _train_monitor(args: argparse.Namespace) -> Any:
    """A TrainingMonitor for --report (matplotlib is checked now, not after training)."""
    if args.report is None:
        return None
    from .diagnostics import TrainingMonitor
    from .report import require_matplotlib

    require_matplotlib()
    return TrainingMonitor()


def _write_train_report(
    args: argparse.Namespace,
    net: Any,
    data: Data,
    history: Any,
    monitor: Any,
    error: BaseException | None = None,
) -> None:
    """Print the diagnostics and write --report DIR/report.html (with the test set)."""
    from .diagnostics import diagnose, print_findings
    from .report import write_report

    print_findings(diagnose(monitor, history, error=error))
    config = {k: v for k, v in vars(args).items() if k not in ("handler", "debug", "command")}
    config["command"] = _command_line(args)
    config.update(
        dataset=data.name, task=data.task, n_train_rows=len(data.X), n_features=data.X.shape[1]
    )
    config["optimizer"] = net.optimizer.get_config()
    X_test = y_test = None
    if error is None and data.X_test is not None and data.y_test is not None:
        X_test, y_test = _model_inputs(net, _scaler(net, data.X_test)), data.y_test
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
    )
    print(f"wrote the training report to {path}", flush=True)


def _command_line(args: argparse.Namespace) -> str:
    """A ``cartoonbrain train ...`` line that repeats the run (every option spelled out)."""
    skip = ("command", "handler", "debug", "report", "checkpoint", "resume", "quiet")
    parts = ["cartoonbrain", args.command]
    for key, value in vars(args).items():
        if key in skip or value is None or value is False:
            continue
        option = "--" + key.replace("_", "-")
        if value is True:
            parts.append(option)
        else:
            text = ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
            parts += [option, shlex.quote(text)]
    return " ".join(parts)


# ---------------------------------------------------------------- evaluate / predict
def _load_model(path: str) -> Any:
    import cartoonbrain as cb

    return cb.load(path)


def _features_for(net: Any, args: argparse.Namespace, need_target: bool) -> tuple[np.ndarray, Any]:
    """X (scaled as in training) and, when asked, the encoded targets from --data or --dataset."""
    from .csvdata import read_table, target_kind

    meta = net.metadata
    if args.data is None:
        if getattr(args, "dataset", None) is None:
            raise CommandError("give the data: --data FILE.csv (or --dataset NAME)")
        data = _load_dataset(args.dataset, args.seed)
        assert data.X_test is not None
        return _model_inputs(net, data.X_test), data.y_test
    table = read_table(args.data)
    names = meta.get("feature_names")
    if names is None:
        raise CommandError(f"{args.model}: the model does not record its feature names")
    missing = [n for n in names if n not in table.columns]
    if missing:
        raise CommandError(
            f"{args.data}: missing feature column(s) {', '.join(missing)} that the model was "
            f"trained on"
        )
    X = _model_inputs(net, _scaler(net, table.numbers(names)))
    if not need_target:
        return X, None
    target = args.target or meta.get("target")
    if target is None:
        raise CommandError("--target COLUMN is needed to evaluate")
    if meta.get("task") == "classification":
        _, labels = target_kind(table.column(target))
        if all(isinstance(c, int) for c in meta["classes"]) and not all(
            isinstance(v, int) for v in labels
        ):
            labels = [v.strip() if isinstance(v, str) else v for v in labels]
        return X, _encode(labels, meta["classes"], args.data)
    return X, table.numbers([target])


def _add_evaluate(sub: Any) -> None:
    p = sub.add_parser(
        "evaluate",
        help="loss and metrics of a saved model on labelled data",
        description="Print the loss and metrics (accuracy and a confusion "
        "matrix for classifiers) of a saved model.",
    )
    p.add_argument("--model", required=True, help="a model or checkpoint file")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", metavar="NAME", help="a built-in dataset's test split")
    source.add_argument("--data", metavar="FILE.csv", help="a CSV file with the target column")
    p.add_argument("--target", metavar="COLUMN", help="the target column (default: as trained)")
    p.add_argument("--seed", type=int, default=0, help="dataset seed (default 0)")
    p.set_defaults(handler=_run_evaluate)


def _run_evaluate(args: argparse.Namespace) -> int:
    net = _load_model(args.model)
    X, y = _features_for(net, args, need_target=True)
    result = net.evaluate(X, y)
    for key, value in result.items():
        print(f"{key}: {value:.6f}")
    if net.loss.classification:
        from .metrics import predicted_classes

        classes = net.metadata.get("classes") or list(range(max(net.output_shape[0], 2)))
        predicted = predicted_classes(net.predict(X), net.independent_outputs)
        truth = np.asarray(y).reshape(-1) if np.ndim(y) == 1 or net.output_shape[0] == 1 else y
        if truth.ndim == 2:
            truth = truth.argmax(axis=1)
        k = len(classes)
        matrix = np.zeros((k, k), dtype=np.int64)
        np.add.at(matrix, (truth.astype(np.int64), predicted.reshape(-1)), 1)
        width = max(5, *(len(str(c)) for c in classes))
        print("confusion matrix (rows: true, columns: predicted)")
        print(" " * width + "".join(f"{c!s:>{width + 1}}" for c in classes))
        for c, row in zip(classes, matrix):
            print(f"{c!s:>{width}}" + "".join(f"{v:>{width + 1}}" for v in row))
    return 0


def _add_predict(sub: Any) -> None:
    p = sub.add_parser(
        "predict",
        help="predict with a saved model on a CSV file",
        description="Write one prediction per row of --data (the user's own "
        "labels for classifiers, with class probabilities).",
    )
    p.add_argument("--model", required=True, help="a model or checkpoint file")
    p.add_argument("--data", required=True, metavar="FILE.csv", help="rows to predict")
    p.add_argument("--out", help="write predictions here (CSV) instead of to stdout")
    p.set_defaults(handler=_run_predict, dataset=None, target=None)


def _run_predict(args: argparse.Namespace) -> int:
    from .csvdata import write_csv_atomic

    net = _load_model(args.model)
    X, _ = _features_for(net, args, need_target=False)
    outputs = net.predict(X)
    meta = net.metadata
    if net.loss.classification:
        from .metrics import predicted_classes

        classes = meta.get("classes") or list(range(max(outputs.shape[1], 2)))
        ids = predicted_classes(outputs, net.independent_outputs).reshape(-1)
        probs = outputs if outputs.shape[1] > 1 else np.hstack([1 - outputs, outputs])
        header = ["prediction", *(f"p_{c}" for c in classes)]
        rows = [[classes[i], *(f"{p:.6g}" for p in row)] for i, row in zip(ids, probs)]
    else:
        target = meta.get("target") or "prediction"
        header = (
            [target]
            if outputs.shape[1] == 1
            else [f"{target}_{j}" for j in range(outputs.shape[1])]
        )
        rows = [[f"{v:.8g}" for v in row] for row in outputs]
    if args.out:
        write_csv_atomic(args.out, header, rows)
        print(f"wrote {len(rows)} predictions to {args.out}")
    else:
        import csv

        writer = csv.writer(sys.stdout)
        writer.writerow(header)
        writer.writerows(rows)
    return 0


# ---------------------------------------------------------------- export
def _add_export(sub: Any) -> None:
    p = sub.add_parser(
        "export",
        help="export a saved model to ONNX (needs the onnx extra)",
        description="Write a saved model as an ONNX graph whose output is what predict gives "
        "(class probabilities for classifiers). Needs pip install 'cartoonbrain[onnx]'.",
    )
    p.add_argument("--model", required=True, help="a model or checkpoint file")
    p.add_argument("--out", required=True, metavar="FILE.onnx", help="where to write it")
    p.add_argument(
        "--input-shape",
        type=_shape,
        metavar="C,H,W",
        help="one sample's shape, for a model that starts with a convolution or pooling "
        "layer and does not record it (e.g. 1,28,28)",
    )
    p.set_defaults(handler=_run_export)


def _run_export(args: argparse.Namespace) -> int:
    from .onnx import export_file

    export_file(args.model, args.out, input_shape=args.input_shape)
    print(f"wrote the ONNX model to {args.out}")
    return 0


# ---------------------------------------------------------------- datasets / blog
def _add_datasets(sub: Any) -> None:
    p = sub.add_parser(
        "datasets",
        help="list the built-in datasets",
        description="List the built-in datasets with their sizes.",
    )
    p.set_defaults(handler=_run_datasets)


def _run_datasets(args: argparse.Namespace) -> int:
    from . import datasets

    print(f"{'name':<10}{'train':>7}{'test':>7}{'features':>10}  task            needs")
    for info in datasets.available():
        needs = f"pip install 'cartoonbrain[{info.extra}]'" if info.extra else "-"
        print(
            f"{info.name:<10}{info.n_train:>7}{info.n_test:>7}{info.n_features:>10}  "
            f"{info.task:<16}{needs}"
        )
        print(f"{'':<10}{info.description}")
    return 0


def _add_blog(sub: Any) -> None:
    p = sub.add_parser(
        "blog",
        help="run the blog post's experiment (six sigmoid layers, SGD on random data)",
        description=(
            "Reproduce the post's experiment exactly: a 10-100-150-80-40-10-2 network with "
            "standard-normal weights, no biases and a sigmoid on every layer, trained by SGD "
            "one sample at a time on random data. Prints 'Epoch e / E; Loss L' per epoch."
        ),
    )
    p.add_argument("--epochs", type=_positive_int, default=100, help="epochs (default 100)")
    p.add_argument("--samples", type=_positive_int, default=50, help="samples (default 50)")
    p.add_argument(
        "--learning-rate", type=_positive_float, default=0.05, help="SGD step ε (default 0.05)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the data and weights (default 0)")
    p.add_argument(
        "--report",
        metavar="DIR",
        help="also write DIR/report.html (the same run through cb.Network: curves, per-layer "
        "gradients, diagnostics) and print the diagnostics; needs matplotlib",
    )
    p.set_defaults(handler=_run_blog)


def _run_blog(args: argparse.Namespace) -> int:
    def log(line: str) -> None:
        print(line, flush=True)

    if args.report is not None:
        from .report import blog_report

        path, _ = blog_report(
            args.report, args.epochs, args.samples, args.learning_rate, args.seed, log=log
        )
        print(f"wrote the training report to {path}", flush=True)
        return 0
    blog.run(
        epochs=args.epochs,
        n_samples=args.samples,
        learning_rate=args.learning_rate,
        seed=args.seed,
        log=log,
    )
    return 0


# ---------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cartoonbrain",
        description="Neural networks in pure NumPy, from the blog post's backpropagation.",
    )
    parser.add_argument("--version", action="version", version=f"cartoonbrain {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback when something fails"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in (_add_train, _add_evaluate, _add_predict, _add_export, _add_datasets, _add_blog):
        add(sub)
    return parser


def _report(command: str, exc: BaseException) -> int:
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, OSError) and exc.filename:
        message = f"{exc.filename}: {exc.strerror or exc}"
    print(f"cartoonbrain {command}: error: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cartoonbrain`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    previous = None
    with contextlib.suppress(ValueError):  # not in the main thread: leave SIGTERM alone
        # SIGTERM unwinds like Ctrl-C, so half-written files are removed on the way out
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        return _dispatch(args)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _dispatch(args: argparse.Namespace) -> int:
    try:
        try:
            return int(args.handler(args))
        except BrokenPipeError:
            raise
        except (CommandError, ValueError, OSError, ImportError) as exc:
            if args.debug:
                raise
            return _report(args.command, exc)
    except BrokenPipeError:  # e.g. `cartoonbrain predict ... | head`
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"cartoonbrain {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
