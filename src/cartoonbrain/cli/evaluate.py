"""``cartoonbrain evaluate``: the loss and metrics of a saved model on labelled data.

    cartoonbrain evaluate --model PATH (--dataset NAME | --data FILE.csv [--target COLUMN])

Classifiers also get a confusion matrix (rows: true class, columns: predicted class).
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from ._args import add_model_option
from ._files import Files
from ._inputs import features_for, predict_rows

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "evaluate",
        help="loss and metrics of a saved model on labelled data",
        description="Print the loss and metrics (accuracy and a confusion "
        "matrix for classifiers) of a saved model.",
    )
    add_model_option(p)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", metavar="NAME", help="a built-in dataset's test split")
    source.add_argument("--data", metavar="FILE.csv", help="a CSV file with the target column")
    p.add_argument("--target", metavar="COLUMN", help="the target column (default: as trained)")
    p.add_argument("--seed", type=int, default=0, help="dataset seed (default 0)")
    p.set_defaults(handler=run, files=Files(inputs=("model", "data")))


def run(args: argparse.Namespace) -> int:
    import cartoonbrain as cb

    net = cb.load(args.model)
    inputs = features_for(
        net, args.model, args.data, args.dataset, args.seed, args.target, need_target=True
    )
    outputs = predict_rows(net, inputs.X, inputs.row)  # names a row whose prediction overflows
    result = net.evaluate(inputs.X, inputs.y)
    for key, value in result.items():
        print(f"{key}: {value:.6f}")
    if net.loss.classification:
        encoder = net.target_encoder
        truth = inputs.y if encoder is None else encoder.encode(inputs.y)
        print_confusion_matrix(net, outputs, truth)
    return 0


def print_confusion_matrix(net: Any, outputs: np.ndarray, y: Any) -> None:
    """The confusion matrix of ``net``'s ``outputs`` (what predict gives) against the
    targets ``y``, labelled with the model's class names."""
    from ..metrics import confusion_matrix, predicted_classes

    classes = net.metadata.get("classes") or list(range(max(net.output_shape[0], 2)))
    predicted = predicted_classes(outputs, net.independent_outputs)
    truth = np.asarray(y).reshape(-1) if np.ndim(y) == 1 or net.output_shape[0] == 1 else y
    if truth.ndim == 2:
        truth = truth.argmax(axis=1)
    matrix = confusion_matrix(truth.astype(np.int64), predicted.reshape(-1), len(classes))
    width = max(5, *(len(str(c)) for c in classes))
    print("confusion matrix (rows: true, columns: predicted)")
    print(" " * width + "".join(f"{c!s:>{width + 1}}" for c in classes))
    for c, row in zip(classes, matrix):
        print(f"{c!s:>{width}}" + "".join(f"{v:>{width + 1}}" for v in row))
