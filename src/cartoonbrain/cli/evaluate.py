"""``cartoonbrain evaluate``: the loss and metrics of a saved model on labelled data.

    cartoonbrain evaluate --model PATH (--dataset NAME | --data FILE.csv [--target COLUMN])

Classifiers also get a per-class report (precision, recall, F1 and support of each class)
and a confusion matrix (rows: true class, columns: predicted class). Rows whose target is
missing are left out, with a note; the features are read as ``predict`` reads them.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from ._args import add_model_option, add_reading_options
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
    p.add_argument(
        "--metrics",
        type=lambda text: [m.strip() for m in text.split(",") if m.strip()],
        metavar="M1,M2",
        help="metrics by the library's names (f1, f1_macro, auc, precision, recall, r2, ...)",
    )
    add_reading_options(p)
    p.set_defaults(handler=run, files=Files(inputs=("model", "data")))


def run(args: argparse.Namespace) -> int:
    import cartoonbrain as cb

    net = cb.load(args.model)
    inputs = features_for(
        net,
        args.model,
        args.data,
        args.dataset,
        args.seed,
        args.target,
        need_target=True,
        sep=args.sep,
        na_values=args.na_values,
    )
    outputs = predict_rows(net, inputs.X, inputs.row)  # names a row whose prediction overflows
    if args.metrics:
        from ..metrics import get_metric

        for name in args.metrics:
            get_metric(name)
    result = net.evaluate(inputs.X, inputs.y, metrics=args.metrics)
    for key, value in result.items():
        print(f"{key}: {value:.6f}")
    if net.loss.classification:
        encoder = net.target_encoder
        truth = inputs.y if encoder is None else encoder.encode(inputs.y)
        print_class_report(net, outputs, truth)
        print_confusion_matrix(net, outputs, truth)
    return 0


def _matrix(net: Any, outputs: np.ndarray, y: Any) -> tuple[list[Any], np.ndarray]:
    """The class names and the confusion matrix of ``outputs`` against ``y``."""
    from ..metrics import confusion_matrix, predicted_classes

    classes = net.metadata.get("classes") or list(range(max(net.output_shape[0], 2)))
    predicted = predicted_classes(outputs, net.independent_outputs)
    truth = np.asarray(y).reshape(-1) if np.ndim(y) == 1 or net.output_shape[0] == 1 else y
    if truth.ndim == 2:
        truth = truth.argmax(axis=1)
    matrix = confusion_matrix(truth.astype(np.int64), predicted.reshape(-1), len(classes))
    return classes, matrix


def print_class_report(net: Any, outputs: np.ndarray, y: Any) -> None:
    """Per class (as scikit-learn's classification_report): precision = TP / predicted,
    recall = TP / true, F1 = 2PR / (P + R), support = true count; then the macro average."""
    classes, matrix = _matrix(net, outputs, y)
    tp = np.diag(matrix).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.nan_to_num(tp / matrix.sum(axis=0))
        recall = np.nan_to_num(tp / matrix.sum(axis=1))
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    support = matrix.sum(axis=1)
    width = max(9, *(len(str(c)) for c in classes))
    print(f"{'class':>{width}}  precision  recall      f1  support")
    for c, p, r, f, n in zip(classes, precision, recall, f1, support):
        print(f"{c!s:>{width}}  {p:9.4f}  {r:6.4f}  {f:6.4f}  {n:7d}")
    print(
        f"{'macro avg':>{width}}  {precision.mean():9.4f}  {recall.mean():6.4f}  "
        f"{f1.mean():6.4f}  {support.sum():7d}"
    )


def print_confusion_matrix(net: Any, outputs: np.ndarray, y: Any) -> None:
    """The confusion matrix of ``net``'s ``outputs`` (what predict gives) against the
    targets ``y``, labelled with the model's class names."""
    classes, matrix = _matrix(net, outputs, y)
    width = max(5, *(len(str(c)) for c in classes))
    print("confusion matrix (rows: true, columns: predicted)")
    print(" " * width + "".join(f"{c!s:>{width + 1}}" for c in classes))
    for c, row in zip(classes, matrix):
        print(f"{c!s:>{width}}" + "".join(f"{v:>{width + 1}}" for v in row))
