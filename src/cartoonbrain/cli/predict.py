"""``cartoonbrain predict``: one prediction per row of a CSV file.

    cartoonbrain predict --model PATH --data FILE.csv [--out predictions.csv]

Classifiers write the user's own label and one probability column per class; regressors
write the predicted numbers under the target's name.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

from ._args import add_model_option
from ._data import features_for

__all__ = ["add_parser", "prediction_rows", "run"]


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "predict",
        help="predict with a saved model on a CSV file",
        description="Write one prediction per row of --data (the user's own "
        "labels for classifiers, with class probabilities).",
    )
    add_model_option(p)
    p.add_argument("--data", required=True, metavar="FILE.csv", help="rows to predict")
    p.add_argument("--out", help="write predictions here (CSV) instead of to stdout")
    p.set_defaults(handler=run, dataset=None, target=None)


def run(args: argparse.Namespace) -> int:
    import cartoonbrain as cb

    from ..csvdata import write_csv_atomic

    net = cb.load(args.model)
    X, _ = features_for(net, args.model, args.data, None, 0)
    header, rows = prediction_rows(net, net.predict(X))
    if args.out:
        write_csv_atomic(args.out, header, rows)
        print(f"wrote {len(rows)} predictions to {args.out}")
    else:
        import csv

        writer = csv.writer(sys.stdout)
        writer.writerow(header)
        writer.writerows(rows)
    return 0


def prediction_rows(net: Any, outputs: np.ndarray) -> tuple[list[str], list[list[Any]]]:
    """The header and rows of the predictions CSV for ``predict``'s ``outputs``."""
    meta = net.metadata
    if net.loss.classification:
        from ..metrics import predicted_classes

        classes = meta.get("classes") or list(range(max(outputs.shape[1], 2)))
        ids = predicted_classes(outputs, net.independent_outputs).reshape(-1)
        probs = outputs if outputs.shape[1] > 1 else np.hstack([1 - outputs, outputs])
        header = ["prediction", *(f"p_{c}" for c in classes)]
        return header, [[classes[i], *(f"{p:.6g}" for p in row)] for i, row in zip(ids, probs)]
    target = meta.get("target") or "prediction"
    if outputs.shape[1] == 1:
        header = [target]
    else:
        header = [f"{target}_{j}" for j in range(outputs.shape[1])]
    return header, [[f"{v:.8g}" for v in row] for row in outputs]
