"""Text written for people is safe to open: a cell a spreadsheet would evaluate (it
starts with = + - @, a tab or CR: OWASP's "CSV Injection") is written with a ``'``
before it, by ``predict`` (to a file or stdout) and ``sweep --out``; numbers, negative
ones included, are written as they are; ``--raw-cells`` writes every cell raw.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartoonbrain.cli import main
from cartoonbrain.data.csvwrite import FORMULA_STARTS, SafeWriter, spreadsheet_safe
from csv_files import write_csv

EVIL = ["=cmd|' /C calc'!A0", '+HYPERLINK("http://x","y")', "@SUM(1+1)", "-2+3", "\tx", "\rx"]


@given(st.text(max_size=30) | st.sampled_from(EVIL))
def test_a_text_cell_is_neutralised_exactly_when_a_spreadsheet_would_evaluate_it(text):
    safe = spreadsheet_safe(text)
    try:
        float(text)
        number = True
    except ValueError:
        number = False
    if text.startswith(FORMULA_STARTS) and not number:
        assert safe == "'" + text
    else:
        assert safe == text
    assert not safe.startswith(FORMULA_STARTS) or number


@given(st.floats(allow_nan=False) | st.integers())
def test_numbers_are_never_changed_as_numbers_or_as_text(value):
    assert spreadsheet_safe(value) is value
    assert spreadsheet_safe(str(value)) == str(value)  # -1.5, -inf, 1e+300 as written


def test_the_writer_neutralises_headers_and_rows_unless_raw():
    for raw, expected in ((False, "'=1+1,-3\r\n'@x,ok\r\n"), (True, "=1+1,-3\r\n@x,ok\r\n")):
        stream = io.StringIO()
        writer = SafeWriter(stream, raw)
        writer.writerow(["=1+1", "-3"])
        writer.writerows([["@x", "ok"]])
        assert stream.getvalue() == expected


@pytest.fixture(scope="module")
def evil_model(tmp_path_factory):
    """A classifier whose labels are formulas, and the CSV to predict."""
    folder = tmp_path_factory.mktemp("evil")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 2))
    labels = np.array(EVIL[:3])[np.argmax(X @ [[1, -1, 0], [0, 1, -1]], axis=1)]
    data = write_csv(folder / "d.csv", ["a", "b", "label"], [[*x, y] for x, y in zip(X, labels)])
    argv = ["train", "--data", str(data), "--target", "label", "--epochs", "2", "--hidden", "4"]
    assert main([*argv, "--out", str(folder / "m.npz")]) == 0
    return folder, data


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("raw", [False, True])
@pytest.mark.parametrize("to", ["file", "stdout"])
def test_predict_writes_formula_labels_as_text_unless_raw(evil_model, capsys, to, raw):
    folder, data = evil_model
    out = folder / f"p-{to}-{raw}.csv"
    argv = ["predict", "--model", str(folder / "m.npz"), "--data", str(data)]
    argv += ["--raw-cells"] if raw else []
    capsys.readouterr()
    assert main([*argv, "--out", str(out)] if to == "file" else argv) == 0
    text = out.read_text() if to == "file" else capsys.readouterr().out
    rows = _cells(text)
    predicted = {row[0] for row in rows[1:]}
    assert predicted  # at least one label each run
    if raw:
        assert predicted <= set(EVIL[:3])
    else:
        assert predicted <= {"'" + label for label in EVIL[:3]}
    assert all(not cell.startswith("'") for row in rows[1:] for cell in row[1:])  # numbers
    assert rows[0][0] == "prediction"


def test_a_header_cell_that_is_a_formula_is_neutralised(tmp_path):
    from cartoonbrain.data.csvwrite import write_csv_atomic

    write_csv_atomic(tmp_path / "h.csv", ["=y", "-1", "p"], [[-1.5, "=x", "ok"]])
    # a number written as text ("-1") is a number to a spreadsheet too: kept as it is
    assert _cells((tmp_path / "h.csv").read_text()) == [["'=y", "-1", "p"], ["-1.5", "'=x", "ok"]]


def test_negative_regression_predictions_are_written_as_numbers(tmp_path, capsys):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 2))
    y = -100 + 10 * X[:, 0]  # all negative
    data = write_csv(tmp_path / "r.csv", ["a", "b", "=y"], [[*x, t] for x, t in zip(X, y)])
    argv = ["train", "--data", str(data), "--target", "=y", "--epochs", "1", "--hidden", "4"]
    assert main([*argv, "--task", "regression", "--out", str(tmp_path / "r.npz")]) == 0
    out = tmp_path / "p.csv"
    argv = ["predict", "--model", str(tmp_path / "r.npz"), "--data", str(data), "--out", str(out)]
    assert main(argv) == 0
    rows = _cells(out.read_text())
    assert rows[0] == ["prediction"]  # one naming for both tasks (a target's own name aside)
    values = [float(row[0]) for row in rows[1:]]  # every cell a number, none prefixed
    assert len(values) == 80 and max(values) < 0
