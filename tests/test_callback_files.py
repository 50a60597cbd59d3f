"""The files callbacks write, against careless and hostile input (issue #28): CSVLogger
appending to files it did not write, ModelCheckpoint's file name templates, and paths and
separators refused when the callback is made, in one line, before any training.

Properties (hypothesis) over the files and templates: a CSVLogger never drops a value,
never merges two rows and never changes a row already there; it either writes under the
file's own header or refuses, leaving the file as it was. A template either formats to a
bounded name or is refused when the callback is made.
"""

from __future__ import annotations

import csv
import io
import math
import os
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cartoonbrain as cb
from cartoonbrain.train import CSVLogger, ModelCheckpoint
from cartoonbrain.train.model_checkpoint import MAX_FORMAT_WIDTH

KEYS = ["loss", "accuracy", "val_loss", "val_accuracy", "mse", "lr", "time"]
SEPARATORS = [",", "\t", ";", "|", " "]
files = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def one_line(exc: BaseException) -> str:
    message = str(exc)
    assert message and "\n" not in message, message
    return message


def read_rows(path, separator):
    with open(path, newline="", encoding="utf-8") as f:
        return [row for row in csv.reader(f, delimiter=separator)]


@st.composite
def existing_logs(draw):
    """(text of a file to append to, separator): a log's header (or another header), some
    rows, with or without the final newline."""
    separator = draw(st.sampled_from(SEPARATORS))
    header = draw(st.lists(st.sampled_from(KEYS), unique=True, max_size=5))
    first = draw(st.sampled_from(["epoch", "epoch", "epoch", "step", "Epoch"]))
    columns = [first, *header]
    rows = draw(
        st.lists(
            st.lists(st.floats(-1e6, 1e6), min_size=len(header), max_size=len(header)), max_size=3
        )
    )
    out = io.StringIO()
    writer = csv.writer(
        out, delimiter=separator, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))
    )
    writer.writerow(columns)
    for i, row in enumerate(rows):
        writer.writerow([i, *row])
    text = out.getvalue()
    if draw(st.booleans()):
        text = text.rstrip("\r\n")  # no final newline
    return text, separator


@files
@given(
    existing=existing_logs(),
    logs=st.dictionaries(st.sampled_from(KEYS), st.floats(allow_nan=True), min_size=1),
    epochs=st.integers(1, 3),
)
def test_appending_never_drops_a_value_or_merges_rows(tmp_path, existing, logs, epochs):
    text, separator = existing
    path = tmp_path / "log.csv"
    path.write_text(text, encoding="utf-8", newline="")
    before = path.read_bytes()
    old_rows = read_rows(path, separator)
    logger = CSVLogger(path, separator=separator, append=True)
    try:
        logger.on_train_begin({})
        for epoch in range(epochs):
            logger.on_epoch_end(epoch, logs)
    except ValueError as exc:
        one_line(exc)
        assert path.read_bytes() == before  # refused: nothing written
        header = old_rows[0]
        assert (
            header[0] != "epoch"
            or not set(logs) <= set(header[1:])
            or len(set(header)) < len(header)
        )
        return
    rows = read_rows(path, separator)
    header = rows[0]
    assert header[0] == "epoch" and set(logs) <= set(header[1:])
    assert rows[: len(old_rows)] == old_rows  # what was there is unchanged
    new = rows[len(old_rows) :]
    assert len(new) == epochs and all(len(row) == len(header) for row in new)
    for epoch, row in enumerate(new):
        assert row[0] == str(epoch)
        for key, value in logs.items():
            written = float(row[header.index(key)])
            assert written == value or (math.isnan(written) and math.isnan(value))
        assert all(row[i] == "" for i, key in enumerate(header) if i and key not in logs)


def test_appending_to_a_file_with_other_columns_is_refused_before_writing(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,loss\n0,0.5\n", encoding="utf-8")
    X = np.random.default_rng(0).normal(size=(20, 3))
    net = cb.Network([cb.Dense(3, 1)], seed=0)
    with pytest.raises(ValueError, match=r"its header has no column for mae, mse, r2") as info:
        net.fit(X, X.sum(axis=1), epochs=2, callbacks=[CSVLogger(path, append=True)])
    one_line(info.value)
    assert path.read_text(encoding="utf-8") == "epoch,loss\n0,0.5\n"


def test_appending_to_a_file_without_a_final_newline_starts_a_new_row(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,loss\n0,0.5", encoding="utf-8")
    logger = CSVLogger(path, append=True)
    logger.on_train_begin({})
    logger.on_epoch_end(0, {"loss": 0.25})
    assert path.read_text(encoding="utf-8") == "epoch,loss\n0,0.5\n0,0.25\n"


def test_appending_writes_under_the_files_own_column_order(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,val_loss,loss\n", encoding="utf-8")
    logger = CSVLogger(path, append=True)
    logger.on_train_begin({})
    logger.on_epoch_end(0, {"loss": 1.0, "val_loss": 2.0})
    logger.on_epoch_end(1, {"loss": 3.0})  # a missing value stays empty, never shifted
    assert path.read_text(encoding="utf-8").splitlines()[1:] == ["0,2.0,1.0", "1,,3.0"]


@settings(max_examples=200, deadline=None)
@given(separator=st.text(max_size=3))
def test_a_separator_is_one_character_the_csv_module_reads_back(tmp_path_factory, separator):
    folder = tmp_path_factory.mktemp("sep")
    ok = len(separator) == 1 and separator not in '\r\n"\x00'
    if not ok:
        with pytest.raises(ValueError, match=r"CSVLogger's separator") as info:
            CSVLogger(folder / "log.csv", separator=separator)
        one_line(info.value)
        return
    logger = CSVLogger(folder / "log.csv", separator=separator)
    logger.on_train_begin({})
    logs = {"loss": 0.5, "val_loss": 1.5}
    logger.on_epoch_end(0, logs)
    rows = read_rows(folder / "log.csv", separator)
    assert rows == [["epoch", "loss", "val_loss"], ["0", "0.5", "1.5"]]


@pytest.mark.parametrize("separator", [None, 44, b",", ",,", "\n", '"'])
def test_bad_separators_are_refused_when_made(tmp_path, separator):
    with pytest.raises(ValueError, match=r"CSVLogger's separator") as info:
        CSVLogger(tmp_path / "log.csv", separator=separator)
    one_line(info.value)


@pytest.mark.parametrize(
    ("name", "match"),
    [
        (lambda p: p, r"is a folder"),
        (lambda p: p / "no" / "log.csv", r"folder .* does not exist"),
        (lambda p: "", r"non-empty path"),
        (lambda p: str(p / "a\x00b.csv"), r"non-empty path"),
        (lambda p: 3, r"must be a path"),
    ],
)
def test_bad_csv_paths_are_refused_when_made(tmp_path, name, match):
    with pytest.raises(ValueError, match=match) as info:
        CSVLogger(name(tmp_path))
    one_line(info.value)


# ------------------------------------------------------------------ ModelCheckpoint
def test_a_huge_width_is_refused_at_once_without_allocating():
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"width of 999999999.*at most 64") as info:
            ModelCheckpoint("{epoch:>999999999}")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    one_line(info.value)
    assert peak < 1 << 20  # far from the 1 GB the formatted name would take


@pytest.mark.parametrize(
    ("template", "match"),
    [
        ("{epoch.__class__}.npz", r"plain name"),
        ("{epoch[0]}.npz", r"plain name"),
        ("{0}.npz", r"plain name"),
        ("{}.npz", r"plain name"),
        ("{epoch!r}.npz", r"no conversion"),
        ("{epoch:{width}}.npz", r"not a number's format"),
        ("{val_loss:.100f}.npz", r"precision of 100"),
        ("{nope}.npz", r"names 'nope'"),
        ("{val_loss:d}.npz", r"cannot be formatted"),
        ("{epoch", r"not a template"),
        ("", r"non-empty path"),
        ("a\x00b.npz", r"non-empty path"),
    ],
)
def test_bad_templates_are_refused_when_made(template, match):
    with pytest.raises(ValueError, match=match) as info:
        ModelCheckpoint(template)
    one_line(info.value)


def test_bad_checkpoint_paths_are_refused_when_made(tmp_path):
    (tmp_path / "file").write_text("x")
    for path, match in [
        (tmp_path, r"is a folder"),
        (tmp_path / "file" / "m.npz", r"goes through .* which is a file"),
        (5, r"must be a path"),
    ]:
        with pytest.raises(ValueError, match=match) as info:
            ModelCheckpoint(path)
        one_line(info.value)


@st.composite
def templates(draw):
    """A template of literal text and fields with any width and precision."""
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        parts.append(draw(st.text("abc-_.", max_size=4)))
        name = draw(
            st.sampled_from(
                ["epoch", "batch", "loss", "val_loss", "val_accuracy", "top_3_accuracy"]
            )
        )
        width = draw(st.one_of(st.just(""), st.integers(0, 10**9).map(str)))
        precision = draw(st.one_of(st.just(""), st.integers(0, 10**4).map(lambda p: f".{p}")))
        kind = draw(st.sampled_from(["", "f", "e", "g", "d"]))
        fill = draw(st.sampled_from(["", ">", "<", "0>", "^"]))
        spec = f"{fill}{width}{precision}{kind}"
        parts.append("{" + name + (f":{spec}" if spec else "") + "}")
    return "".join(parts) + ".npz"


@settings(max_examples=300, deadline=None)
@given(template=templates(), value=st.floats(-1e300, 1e300), epoch=st.integers(0, 10**6))
def test_a_template_is_refused_when_made_or_formats_to_a_bounded_name(template, value, epoch):
    try:
        callback = ModelCheckpoint(template, monitor="loss")
    except ValueError as exc:
        one_line(exc)
        return
    logs = {"loss": value, "val_loss": value, "val_accuracy": value, "top_3_accuracy": value}
    n_fields = template.count("{")
    try:
        name = callback.filepath.format(epoch=epoch + 1, batch=1, **logs)
    except ValueError:
        # an integer format of a float is refused when made: only "d" of epoch/batch remains
        pytest.fail(f"{template!r} was accepted but does not format")
    assert len(name) <= len(template) + n_fields * (MAX_FORMAT_WIDTH + 330)


def test_model_checkpoint_creates_its_folder(tmp_path):
    X = np.random.default_rng(0).normal(size=(20, 3))
    net = cb.Network([cb.Dense(3, 1)], seed=0)
    pattern = str(tmp_path / "runs" / "{epoch:02d}" / "model.npz")
    net.fit(X, X.sum(axis=1), epochs=2, callbacks=[ModelCheckpoint(pattern, monitor="loss")])
    assert sorted(os.listdir(tmp_path / "runs")) == ["01", "02"]
    assert cb.load(tmp_path / "runs" / "02" / "model.npz").n_parameters == net.n_parameters


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs Linux's /dev/full")
def test_a_full_disk_is_named_in_one_line():
    logger = CSVLogger("/dev/full")
    logger.on_train_begin({})
    with pytest.raises(OSError, match=r"CSVLogger could not write epoch 0 to '/dev/full'") as info:
        logger.on_epoch_end(0, {"loss": 0.5})
    one_line(info.value)


def test_two_loggers_appending_to_one_file_never_split_a_row(tmp_path):
    """A concurrent writer (another run logging to the same file): each row is one write
    in append mode, so rows interleave whole."""
    path = tmp_path / "log.csv"
    loggers = [CSVLogger(path, append=True) for _ in range(2)]
    loggers[0].on_train_begin({})
    loggers[0].on_epoch_end(0, {"loss": 0.0, "val_loss": 0.0})
    loggers[1].on_train_begin({})
    for epoch in range(1, 100):
        for i, logger in enumerate(loggers):
            logger.on_epoch_end(epoch, {"loss": float(i), "val_loss": epoch / 7})
    rows = read_rows(path, ",")
    assert rows[0] == ["epoch", "loss", "val_loss"] and len(rows) == 1 + 1 + 2 * 99
    assert all(len(row) == 3 and float(row[2]) == int(row[0]) / 7 for row in rows[1:])


def test_a_width_of_ten_thousand_digits_is_refused_in_one_line():
    """int() of more than 4300 digits is itself an error in Python: refused before it."""
    with pytest.raises(ValueError, match=r"width of 999999999999… \(10000 digits\)") as info:
        ModelCheckpoint("{epoch:>" + "9" * 10_000 + "}")
    one_line(info.value)
    assert len(str(info.value)) < 300
