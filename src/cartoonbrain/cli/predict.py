"""``cartoonbrain predict``: one prediction per row of a CSV file.

    cartoonbrain predict --model PATH --data FILE.csv [--out predictions.csv]

Classifiers write the user's own label and one probability column per class; regressors
write the predicted numbers under the target's name, in its units. A label a spreadsheet
would evaluate (``=cmd|' /C calc'!A0``) is written with a ``'`` before it unless
``--raw-cells`` (:func:`cartoonbrain.data.csvwrite.spreadsheet_safe`). The model file carries
its preprocessing, so this gives what ``cb.load(PATH).predict`` gives in Python.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

from ._args import add_model_option, add_raw_cells_option
from ._files import CSV, Files, naming
from ._inputs import feature_names, predict_rows, read_options, table_inputs

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
    add_raw_cells_option(p)
    p.set_defaults(
        handler=run, dataset=None, target=None, files=Files(("model", "data"), {"out": CSV})
    )


def run(args: argparse.Namespace) -> int:
    """Predict chunk by chunk (:func:`_rows` rows at a time): memory holds one chunk of
    rows, encoded, and its predictions, whatever the file's length or its one-hot width."""
    import itertools

    import cartoonbrain as cb

    from ..data.csvdata import CsvFile
    from ..data.csvwrite import SafeWriter, write_csv_atomic

    net = cb.load(args.model)
    with CsvFile(args.data) as f:
        names = feature_names(net, args.model, f.columns, args.data)
        tables = f.chunks(names, _rows(net, names), **read_options(net))
        chunks = (_predict_chunk(net, table, args.data) for table in tables)
        header, first = next(chunks)  # a file without data rows has failed already
        rows = itertools.chain(first, itertools.chain.from_iterable(r for _, r in chunks))
        count = itertools.count()
        counted = (row for row, _ in zip(rows, count))
        if args.out:
            with naming(args.out):  # writerows takes any iterable of rows
                write_csv_atomic(args.out, header, counted, raw=args.raw_cells)
            print(f"wrote {next(count)} predictions to {args.out}")
        else:
            writer = SafeWriter(sys.stdout, args.raw_cells)
            writer.writerow(header)
            writer.writerows(counted)
    return 0


def _rows(net: Any, names: list[str]) -> int:
    """Rows per chunk, from the widest a row becomes: its raw columns, the model's input
    (one-hot encoded) or its outputs (:func:`cartoonbrain.data.stream.chunk_rows`)."""
    from ..data import stream

    pre = net.preprocessor
    encoded = pre.n_features_out if pre is not None else 0
    return stream.chunk_rows(max(len(names), encoded, net.output_shape[-1]))


def _predict_chunk(net: Any, table: Any, data: str) -> tuple[list[str], list[list[Any]]]:
    """One chunk of rows, prepared as in training, predicted, checked, as CSV rows."""
    X = table_inputs(net, table)
    outputs = predict_rows(net, X, lambda i: f"{data}: row {table.lines[i]}")
    return prediction_rows(net, outputs)


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
    # str of a NumPy float: the shortest text that reads back as the same number
    return header, [[str(v) for v in row] for row in outputs]
