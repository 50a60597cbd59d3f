"""``cartoonbrain predict``: one prediction per row of a CSV file, in the file's order.

    cartoonbrain predict --model PATH --data FILE.csv [--out predictions.csv]
                         [--id COLUMN] [--on-error skip|fail]

Every row of the file gets a row of output, in order: a missing cell is imputed by the
model (as in training), and a row that cannot be predicted (an unseen category, a cell
that is not a number, a gap in a column the model cannot impute, a wrong number of
fields) keeps its place with empty prediction cells, and what is wrong with it is
reported on stderr, by file row and column (``--on-error fail`` stops at the first
instead). The output's columns: the ID columns (``--id``, and those the model was trained
with, when the file has them), ``prediction`` (the user's label for a classifier, the
number in the target's units for a regressor; ``prediction_0``, ... for several outputs)
and a classifier's ``p_<class>`` probabilities. The exit status is 1 when some rows could
not be predicted (the output is complete all the same), 2 on an error that stops it. The
file's other columns are left out, as ``Network.predict`` leaves out a DataFrame's. The
model file carries its preprocessing, so this gives what ``cb.load(PATH).predict`` gives.
A label a spreadsheet would evaluate (``=cmd|' /C calc'!A0``) is written with a ``'``
before it unless ``--raw-cells`` (:func:`cartoonbrain.data.csvwrite.spreadsheet_safe`).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, cast

import numpy as np

from ._args import add_model_option, add_raw_cells_option, add_reading_options
from ._columns import few
from ._errors import CommandError
from ._files import CSV, Files, naming
from ._inputs import feature_names, predict_rows, read_options, table_inputs

__all__ = ["add_parser", "prediction_rows", "run"]

#: rows whose errors the report on stderr shows
_SHOWN = 10


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "predict",
        help="predict with a saved model on a CSV file",
        description="Write one prediction per row of --data, in order (the user's own "
        "labels for classifiers, with class probabilities).",
    )
    add_model_option(p)
    p.add_argument("--data", required=True, metavar="FILE.csv", help="rows to predict")
    p.add_argument("--out", help="write predictions here (CSV) instead of to stdout")
    p.add_argument(
        "--id",
        action="append",
        default=[],
        metavar="COLUMN",
        help="a column of --data to copy to the output (repeat; the model's own ID columns "
        "are copied when the file has them)",
    )
    p.add_argument(
        "--on-error",
        choices=("skip", "fail"),
        default="skip",
        help="a row that cannot be predicted: skip (default: keep its place with an empty "
        "prediction, the reason on stderr) or fail (stop there)",
    )
    add_reading_options(p)
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
    skip = args.on_error == "skip"
    failed: list[str] = []
    unseen: list[str] = []
    with CsvFile(args.data, sep=args.sep, na_values=args.na_values) as f:
        names = feature_names(net, args.model, f.columns, args.data)
        ids = _id_columns(net, args, f.columns, names)
        options = read_options(net)
        options["text"] = [*options.get("text", []), *ids]
        options["empty"] = [*options.get("empty", []), *ids]
        tables = f.chunks(
            [*names, *ids],
            _rows(net, [*names, *ids]),
            on_error="collect" if skip else "raise",
            **options,
        )
        chunks = (
            _predict_chunk(net, t, args.data, names, ids, (failed, unseen), skip) for t in tables
        )
        header, first = next(chunks)  # a file without data rows has failed already
        rows = itertools.chain(first, itertools.chain.from_iterable(r for _, r in chunks))
        count = itertools.count()
        counted = (row for row, _ in zip(rows, count))
        if args.out:
            with naming(args.out):  # writerows takes any iterable of rows
                write_csv_atomic(
                    args.out, header, cast("list[list[Any]]", counted), raw=args.raw_cells
                )
            n_rows = next(count)
            print(f"wrote {n_rows} predictions to {args.out}")
        else:
            writer = SafeWriter(sys.stdout, args.raw_cells)
            writer.writerow(header)
            writer.writerows(counted)
            n_rows = next(count)
            sys.stdout.flush()
    total = n_rows
    if unseen:
        print(
            f"cartoonbrain predict: note: {len(unseen)} of {total} rows hold a category not seen "
            f"in training, encoded as all zeros (first: {unseen[0]})",
            file=sys.stderr,
        )
    if failed:
        print(
            f"cartoonbrain predict: {len(failed)} of {total} rows could not be predicted "
            "(their prediction cells are empty; --on-error fail stops at the first):",
            file=sys.stderr,
        )
        for message in failed[:_SHOWN]:
            print(f"  {message}", file=sys.stderr)
        if len(failed) > _SHOWN:
            print(f"  ... and {len(failed) - _SHOWN} more rows", file=sys.stderr)
        return 1  # the output is complete; some of its rows have no prediction
    return 0


def _rows(net: Any, names: list[str]) -> int:
    """Rows per chunk, from the widest a row becomes: its raw columns, the model's input
    (one-hot encoded) or its outputs (:func:`cartoonbrain.data.stream.chunk_rows`)."""
    from ..data import stream

    pre = net.preprocessor
    encoded = pre.n_features_out if pre is not None else 0
    return stream.chunk_rows(max(len(names), encoded, net.output_shape[-1]))


def _id_columns(
    net: Any, args: argparse.Namespace, columns: list[str], names: list[str]
) -> list[str]:
    """--id columns (each must be in the file) and the model's own, when the file has them."""
    unknown = [name for name in args.id if name not in columns]
    if unknown:
        raise CommandError(
            f"--id {', '.join(unknown)}: no such column in {args.data} (the columns are "
            f"{few(columns)})"
        )
    own = [n for n in net.metadata.get("id_columns", []) if n in columns and n not in args.id]
    return [n for n in [*args.id, *own] if n not in names]


def _predict_chunk(
    net: Any,
    table: Any,
    data: str,
    names: list[str],
    ids: list[str],
    reports: tuple[list[str], list[str]],
    skip: bool,
) -> tuple[list[str], list[list[Any]]]:
    """One chunk of rows, prepared as in training, predicted, checked, as CSV rows: every
    row of the chunk, in order (a row that cannot be predicted: its error, with ``skip``)."""
    from ..data.csvdata import Table

    k = len(names)
    features = Table(table.path, table.columns, names, table.X[:, :k], table.lines)
    features.text = {n: c for n, c in table.text.items() if n in names}
    id_cells = [table.text[n].values() for n in ids]
    failed, unseen = reports
    errors: dict[int, str] = dict(table.errors)
    noted: dict[int, str] = {}
    X = table_inputs(net, features, errors if skip else None, noted)
    unseen.extend(message for i, message in sorted(noted.items()) if i not in errors)
    outputs = _predictions(net, X, errors, lambda i: f"{data}: row {table.lines[i]}", skip)
    header, predicted = prediction_rows(net, outputs)
    width = len(header)
    good = iter(predicted)
    rows = []
    for i in range(len(table.X)):
        cells = [c[i] for c in id_cells]
        if i in errors:
            failed.append(errors[i])
            rows.append([*cells, *([""] * width)])
        else:
            rows.append([*cells, *next(good)])
    return [*ids, *header], rows


def _predictions(net: Any, X: Any, errors: dict[int, str], row: Any, skip: bool) -> np.ndarray:
    """The outputs for the rows without an error; a row whose prediction is not finite
    becomes an error too (with ``skip``), and the others are predicted again without it."""
    from ..data.csvdata import DataFileError

    while True:
        good = np.array([i for i in range(len(X)) if i not in errors], dtype=np.int64)
        if not len(good):
            return np.empty((0, int(np.prod(net.output_shape))))
        rows = X.take(good) if hasattr(X, "take") and not isinstance(X, np.ndarray) else X[good]
        try:
            return predict_rows(net, rows, _naming(row, good))
        except DataFileError as exc:
            if not skip:
                raise
            bad = _row_of(exc, good, row)
            if bad is None:
                raise
            errors[bad] = str(exc)


def _naming(row: Any, good: np.ndarray) -> Any:
    """How to name row i of the predicted rows: by its place in the chunk."""

    def name(i: int) -> str:
        return str(row(int(good[i])))

    return name


def _row_of(exc: Exception, good: np.ndarray, row: Any) -> int | None:
    """Which row a prediction error names (its "FILE: row LINE" prefix)."""
    text = str(exc)
    for i in good.tolist():
        if text.startswith(row(i) + ":"):
            return int(i)
    return None


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
    if outputs.ndim < 2 or outputs.shape[1] <= 1:
        header = ["prediction"]  # one name in both tasks
    else:
        header = [f"prediction_{j}" for j in range(outputs.shape[1])]
    # str of a NumPy float: the shortest text that reads back as the same number
    return header, [[str(v) for v in row] for row in outputs]
