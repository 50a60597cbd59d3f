"""The streaming CSV reader: the same numbers as the csv module, errors at the right row and
column, memory within a few times the file's size, never a blocking or endless read; and
the scaler's statistics, which must not overflow."""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cartoonbrain.cli._data import fit_scaler
from cartoonbrain.data.csvdata import CsvFile, DataFileError, read_table

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@st.composite
def tables(draw):
    """A table of numbers and text labels, written with random but valid CSV formatting."""
    n_rows, n_cols = draw(st.integers(1, 8)), draw(st.integers(1, 4))
    row = st.lists(finite, min_size=n_cols, max_size=n_cols)
    X = draw(st.lists(row, min_size=n_rows, max_size=n_rows))
    label = st.sampled_from(["cat", "dog", "a,b", 'say "hi"', " pad "])
    labels = draw(st.lists(label, min_size=n_rows, max_size=n_rows))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=newline, quoting=quoting)
    writer.writerow([f"x{j}" for j in range(n_cols)] + ["label"])
    for row, label in zip(X, labels):
        writer.writerow([repr(v) for v in row] + [label])
        if draw(st.booleans()):
            out.write(draw(st.sampled_from(["", " ", ",,", " , "])) + newline)  # blank rows
    return np.array(X, dtype=np.float64).reshape(len(X), n_cols), labels, out.getvalue()


@SETTINGS
@given(table=tables(), bom=st.booleans())
def test_the_numbers_and_labels_are_what_the_csv_module_reads(table, bom, tmp_path):
    X, labels, text = table
    path = tmp_path / "t.csv"
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode())
    result = read_table(path, target="label")
    np.testing.assert_array_equal(result.X, X)  # float() of the same text on both sides
    kind, classes, ids = result.target_kind()
    assert kind == "classification"
    assert [classes[i] for i in ids] == [label.strip() for label in labels]


@SETTINGS
@given(data=st.data(), n_rows=st.integers(1, 6), n_cols=st.integers(2, 4))
def test_an_empty_target_cell_is_an_error_naming_its_row_and_column(data, n_rows, n_cols, tmp_path):
    at = data.draw(st.integers(0, n_cols - 1), label="target column")
    bad = data.draw(st.integers(0, n_rows - 1), label="row")
    blank = data.draw(st.sampled_from(["", " ", "\t", '""']))
    names = [f"c{j}" for j in range(n_cols)]
    rows = [[str(i + j) for j in range(n_cols)] for i in range(n_rows)]
    rows[bad][at] = blank
    path = tmp_path / "t.csv"
    path.write_text("\n".join(",".join(r) for r in [names, *rows]) + "\n")
    with pytest.raises(DataFileError) as info:
        read_table(path, target=names[at])
    assert str(info.value) == (
        f"{path}: row {bad + 2}, column {names[at]!r}: empty target cell; every row needs a "
        "target value"
    )


@SETTINGS
@given(data=st.data(), n_rows=st.integers(2, 8))
def test_an_unclosed_quote_is_reported_at_the_row_it_opens(data, n_rows, tmp_path):
    bad = data.draw(st.integers(0, n_rows - 1), label="row")
    column = data.draw(st.integers(0, 2), label="column")
    rows = [[str(i), str(i + 1), "cat" if i % 2 else "dog"] for i in range(n_rows)]
    rows[bad][column] = '"' + rows[bad][column]
    path = tmp_path / "t.csv"
    path.write_text("\n".join(",".join(r) for r in [["a", "b", "y"], *rows]) + "\n")
    with pytest.raises(DataFileError, match=rf"^{re.escape(str(path))}: row {bad + 2}[:, ]"):
        read_table(path, target="y")


def _alarm(seconds):
    def timeout(signum, frame):
        raise TimeoutError("the read blocked")

    signal.signal(signal.SIGALRM, timeout)
    signal.alarm(seconds)


@pytest.mark.parametrize("what", ["a folder", "a FIFO (named pipe)", "a character device"])
def test_only_regular_files_are_read_and_nothing_blocks(what, tmp_path):
    path = {"a folder": tmp_path, "a character device": "/dev/zero"}.get(what, tmp_path / "p")
    if what.startswith("a FIFO"):
        os.mkfifo(path)
    _alarm(10)
    try:
        message = f"{path}: is {what}, not a CSV file"
        with pytest.raises(DataFileError, match=f"^{re.escape(message)}$"):
            CsvFile(path)
    finally:
        signal.alarm(0)


def test_reading_peaks_within_three_times_the_file_size(tmp_path):
    """Typical data (8 numbers with 6 decimals and a text label per row): the reader keeps
    one float64 buffer and the label codes (the old reader peaked at about 18x)."""
    rng = np.random.default_rng(0)
    path = tmp_path / "big.csv"
    with open(path, "w") as f:
        f.write("x0,x1,x2,x3,x4,x5,x6,x7,label\n")
        for _ in range(6):
            X = rng.normal(size=(5000, 8))
            labels = rng.choice(["cat", "dog", "bird"], size=len(X))
            f.writelines(
                ",".join(f"{v:.6f}" for v in row) + f",{label}\n" for row, label in zip(X, labels)
            )
    size = path.stat().st_size
    tracemalloc.start()
    try:
        table = read_table(path, target="label")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert table.X.shape == (30000, 8)
    assert peak < 3 * size, f"peak {peak / size:.2f}x the file's size"


@settings(max_examples=80, deadline=None)
@given(
    exponent=st.integers(-300, 307),
    offset=st.floats(-3, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_scaler_standardises_any_finite_column(exponent, offset, seed):
    """mean and scale finite, (x - mean) / scale of mean 0 and standard deviation 1, at any
    magnitude (the plain formula overflows from about 1e154 and zeroed such a column)."""
    rng = np.random.default_rng(seed)
    u = rng.uniform(-1, 1, size=(50, 1)) / 4 + offset / 4  # within [-1, 1]
    X = u * 10.0**exponent
    scaler = fit_scaler(X)
    mean, scale = np.array(scaler["mean"]), np.array(scaler["scale"])
    assert np.isfinite(mean).all() and np.isfinite(scale).all() and (scale > 0).all()
    Z = (X - mean) / scale
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(Z.std(axis=0), 1, atol=1e-9)


def test_the_scaler_gives_a_constant_column_scale_one():
    scaler = fit_scaler(np.array([[5.0, 0.0], [5.0, 0.0]]))
    assert scaler == {"mean": [5.0, 0.0], "scale": [1.0, 1.0]}


# ---------------------------------------------------------------- text columns, empty cells
@st.composite
def mixed_tables(draw):
    """Rows of a number column, a column that turns to text at a random row (or never),
    and a label; some feature cells empty."""
    n_rows = draw(st.integers(1, 30))
    numbers = draw(st.lists(finite, min_size=n_rows, max_size=n_rows))
    words = st.sampled_from(["red", "green", "a,b", ' "q" ', "7", "1e3"])
    turn = draw(st.integers(0, n_rows))  # the first row whose cell is a word (n_rows: none)
    second = [repr(float(i)) for i in range(turn)] + draw(
        st.lists(words, min_size=n_rows - turn, max_size=n_rows - turn)
    )
    holes = draw(st.lists(st.tuples(st.integers(0, n_rows - 1), st.integers(0, 1)), max_size=4))
    rows = [
        [repr(v), s, "cat" if i % 2 else "dog"] for i, (v, s) in enumerate(zip(numbers, second))
    ]
    for i, j in holes:
        rows[i][j] = draw(st.sampled_from(["", " "]))
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows([["x", "s", "label"], *rows])
    return rows, out.getvalue()


@SETTINGS
@given(table=mixed_tables())
def test_text_columns_and_empty_cells_are_read_as_the_csv_module_reads_them(table, tmp_path):
    rows, text = table
    path = tmp_path / "t.csv"
    path.write_text(text)
    result = read_table(path, target="label", text=True, empty=True)
    x = [float(r[0]) if r[0].strip() else np.nan for r in rows]
    np.testing.assert_array_equal(result.X[:, 0], x)
    cells = [r[1].strip() for r in rows]
    try:
        second = [float(c) if c else np.nan for c in cells]
    except ValueError:  # a word: the column is text, as every cell reads
        assert list(result.text) == ["s"]
        assert list(result.text["s"].values()) == cells
        assert np.isnan(result.X[:, 1]).all()
        frame = result.frame()
        assert frame.columns == ["x", "s"] and list(frame["s"].to_numpy()) == cells
        return
    assert not result.text and result.frame() is result.X
    np.testing.assert_array_equal(result.X[:, 1], second)


@SETTINGS
@given(table=mixed_tables(), rows=st.integers(1, 8))
def test_chunks_read_what_one_read_reads(table, rows, tmp_path):
    _, text = table
    path = tmp_path / "t.csv"
    path.write_text(text)
    whole = read_table(path, target="label", text=True, empty=True)
    with CsvFile(path) as f:
        chunks = list(f.chunks(["x", "s"], rows, text=list(whole.text), empty=True))
    assert all(len(c.lines) <= rows for c in chunks)
    np.testing.assert_array_equal(np.concatenate([c.X for c in chunks]), whole.X)
    np.testing.assert_array_equal(np.concatenate([c.lines for c in chunks]), whole.lines)
    for name, column in whole.text.items():
        values = np.concatenate([c.text[name].values() for c in chunks])
        assert list(values) == list(column.values())


@pytest.mark.parametrize("at", [0, 1, 39])
def test_an_empty_cell_is_an_error_naming_its_place_unless_allowed(at, tmp_path):
    lines = ["a,b,y"] + [f"{i},{i + 1},{'xz'[i % 2]}" for i in range(40)]
    lines[at + 1] = f"{at},,x"
    path = tmp_path / "t.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFileError) as info:
        read_table(path, target="y", empty=["a"], empty_hint=" (impute it)")
    assert str(info.value) == (
        f"{path}: row {at + 2}, column 'b': empty cell; expected a number (impute it)"
    )
    table = read_table(path, target="y", empty=["b"])
    assert np.isnan(table.X[at, 1]) and np.isfinite(np.delete(table.X[:, 1], at)).all()
    lines[at + 1] = f"{at},inf,x"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFileError, match=rf"row {at + 2}, column 'b': inf is not a finite"):
        read_table(path, target="y", empty=["b"])  # NaN means missing; infinity does not


def test_a_word_in_a_column_not_asked_to_hold_text_is_named(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,y\n1,2,x\n3,red,z\n")
    with pytest.raises(DataFileError, match=r"row 3, column 'b': 'red' is not a number"):
        read_table(path, target="y")
    assert read_table(path, target="y", text=["b"]).text["b"].texts == ["2", "red"]


def test_reading_numbers_with_text_and_empty_cells_allowed_keeps_its_memory(tmp_path):
    """An all-numeric file read by train (text columns looked for, empty cells allowed)
    peaks as low as a plain read: the numbers go to the one float64 buffer."""
    rng = np.random.default_rng(0)
    path = tmp_path / "big.csv"
    X = rng.normal(size=(30000, 8))
    with open(path, "w") as f:
        f.write("x0,x1,x2,x3,x4,x5,x6,x7,label\n")
        f.writelines(",".join(f"{v:.6f}" for v in row) + f",{i % 3}\n" for i, row in enumerate(X))
    tracemalloc.start()
    try:
        table = read_table(path, target="label", text=True, empty=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert table.X.shape == (30000, 8) and not table.text
    assert peak < 3 * path.stat().st_size, f"peak {peak / path.stat().st_size:.2f}x the file's size"
