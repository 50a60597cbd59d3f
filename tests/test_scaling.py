"""Data larger than memory (memmaps, chunk files) and batch prediction with Dask.

Training from a memmap is the same computation as training from the array in memory (same
seed, same batch size, the same rows gathered by the same np.take): the weights must be
bit-identical. Predicting a dask.array block by block is net.predict on each block: equal
bit for bit to predicting in memory with batch_size = the block's rows, and within
rounding of one predict over every row (a product over more rows may be split otherwise).
"""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cartoonbrain as cb
from cartoonbrain.train.data import prepare
from cartoonbrain.train.sources import ChunkedSource, check_finite_blocks
from tolerance import assert_same_maths


def _data(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    return X, y


def _net(seed: int = 1) -> cb.Network:
    layers = [cb.Dense(6, 16, activation="relu"), cb.Dropout(0.1), cb.Dense(16, 3)]
    return cb.Network(layers, loss="cross_entropy", seed=seed)


def _memmap(tmp_path: Path, X: np.ndarray) -> np.memmap:
    np.save(tmp_path / "X.npy", X)
    return np.load(tmp_path / "X.npy", mmap_mode="r")


def _chunks(tmp_path: Path, X: np.ndarray, sizes: list[int]) -> ChunkedSource:
    paths, start = [], 0
    for i, size in enumerate(sizes):
        paths.append(tmp_path / f"chunk{i}.npy")
        np.save(paths[-1], X[start : start + size])
        start += size
    assert start == len(X)
    return ChunkedSource(paths)


# ---------------------------------------------------------------- memmaps
def test_training_from_a_memmap_gives_the_weights_of_training_in_memory(tmp_path):
    X, y = _data()
    options = {"epochs": 3, "batch_size": 32, "validation_split": 0.2}
    in_memory, mapped = _net(), _net()
    h1 = in_memory.fit(X, y, **options)
    h2 = mapped.fit(_memmap(tmp_path, X), y, **options)
    np.testing.assert_array_equal(mapped.flat_parameters, in_memory.flat_parameters)
    assert h2.history == h1.history


def test_a_memmap_is_kept_not_copied(tmp_path):
    X, y = _data()
    mm = _memmap(tmp_path, X)
    data = prepare(_net(), mm, y, None, None, None, 0.25)
    assert isinstance(data.X, np.memmap) and np.shares_memory(data.X, mm)
    assert np.shares_memory(data.X_val, mm)


def test_a_memmap_of_another_dtype_is_copied_as_before(tmp_path):
    X, y = _data()
    mm = _memmap(tmp_path, X.astype(np.float64))
    data = prepare(_net(), mm, y, None, None, None, 0.0)
    assert data.X.dtype == np.float32 and not np.shares_memory(data.X, mm)


def test_a_nan_deep_in_a_memmap_is_named_with_its_row(tmp_path, monkeypatch):
    X, y = _data()
    X[517, 4] = np.nan
    monkeypatch.setattr("cartoonbrain.train.sources.BLOCK_BYTES", 1000)  # many blocks
    with pytest.raises(ValueError, match=r"X contains nan at row 517, column 4"):
        _net().fit(_memmap(tmp_path, X), y)


@given(
    st.integers(0, 298),
    st.integers(0, 2),
    st.sampled_from([np.inf, -np.inf, np.nan]),
    st.integers(1, 2000),
)
@settings(max_examples=25, deadline=None)
def test_check_finite_blocks_names_the_first_bad_entry(row, column, value, block_bytes):
    X = np.ones((300, 3))
    X[row, column] = value
    X[299, 2] = np.nan  # a later one is not named
    with (
        mock.patch("cartoonbrain.train.sources.BLOCK_BYTES", block_bytes),
        pytest.raises(ValueError, match=rf"^X contains {value} at row {row}, column {column};"),
    ):
        check_finite_blocks(X)


def test_resuming_from_a_checkpoint_on_a_memmap_is_bit_identical(tmp_path):
    X, y = _data()
    mm = _memmap(tmp_path, X)
    straight = _net()
    straight.fit(mm, y, epochs=4, batch_size=50)
    resumed = _net()
    checkpoint = tmp_path / "run.npz"
    resumed.fit(mm, y, epochs=2, batch_size=50, checkpoint=checkpoint)
    again = _net(seed=99)  # a fresh process's network: everything comes from the checkpoint
    again.fit(mm, y, epochs=4, batch_size=50, checkpoint=checkpoint, resume=True)
    np.testing.assert_array_equal(again.flat_parameters, straight.flat_parameters)


# ---------------------------------------------------------------- chunks
def test_a_chunked_source_reads_rows_as_the_array_holds_them(tmp_path):
    X, _ = _data(100)
    source = _chunks(tmp_path, X, [30, 1, 39, 30])
    assert len(source) == 100 and source.shape == X.shape and source.dtype == X.dtype
    indices = np.random.default_rng(0).permutation(100)[:45]
    np.testing.assert_array_equal(np.take(source, indices, axis=0), X[indices])
    np.testing.assert_array_equal(source[25:75], X[25:75])
    view = source.rows(20, 80)
    np.testing.assert_array_equal(view[0:60], X[20:80])
    np.testing.assert_array_equal(view.take(np.array([59, 0, 10])), X[[79, 20, 30]])


@given(st.lists(st.integers(1, 40), min_size=1, max_size=6), st.integers(0, 2**32 - 1))
@settings(max_examples=30, deadline=None)
def test_an_epochs_order_visits_each_chunk_once_its_rows_shuffled(sizes, seed):
    source = ChunkedSource([np.zeros((size, 2)) for size in sizes])
    order = source.order(np.random.default_rng(seed))
    np.testing.assert_array_equal(np.sort(order), np.arange(sum(sizes)))
    chunk_of = np.searchsorted(source.offsets, order, side="right") - 1
    runs = chunk_of[np.r_[True, np.diff(chunk_of) != 0]]
    assert sorted(runs.tolist()) == list(range(len(sizes)))  # one visit per chunk


def test_training_from_chunks_without_shuffling_equals_training_in_memory(tmp_path):
    X, y = _data()
    options = {"epochs": 2, "batch_size": 32, "shuffle": False, "validation_split": 0.1}
    in_memory, chunked = _net(), _net()
    in_memory.fit(X, y, **options)
    chunked.fit(_chunks(tmp_path, X, [200, 150, 250]), y, **options)
    np.testing.assert_array_equal(chunked.flat_parameters, in_memory.flat_parameters)


def test_training_from_chunks_learns_as_well_and_resumes_bit_identically(tmp_path):
    X, y = _data()
    source = _chunks(tmp_path, X, [150] * 4)
    options = {"epochs": 6, "batch_size": 32, "validation_split": 0.2, "learning_rate": 0.01}
    straight = _net()
    chunked = straight.fit(source, y, **options)["val_accuracy"][-1]
    shuffled = _net().fit(X, y, **options)["val_accuracy"][-1]  # 0.875 when written
    assert chunked > 0.8 and abs(chunked - shuffled) < 0.05  # 0.867: two-level shuffle
    checkpoint = tmp_path / "run.npz"
    _net().fit(source, y, **{**options, "epochs": 3}, checkpoint=checkpoint)
    again = _net()
    again.fit(source, y, **options, checkpoint=checkpoint, resume=True)
    np.testing.assert_array_equal(again.flat_parameters, straight.flat_parameters)


def test_a_chunked_source_holds_one_chunk_and_names_a_bad_one(tmp_path):
    X, y = _data()
    source = _chunks(tmp_path, X, [300, 300])
    source.take(np.array([5, 310]))
    assert source._cached is not None and source._cached[0] == 1  # only the last chunk read
    X[450, 1] = np.inf
    with pytest.raises(ValueError, match=r"X \(chunk 1\) contains inf at row 450, column 1"):
        _net().fit(_chunks(tmp_path, X, [300, 300]), y)
    with pytest.raises(ValueError, match="one sample shape"):
        ChunkedSource([np.zeros((3, 2)), np.zeros((3, 4))])


# ---------------------------------------------------------------- Dask
def test_predicting_a_dask_array_block_by_block_equals_predicting_in_memory():
    da = pytest.importorskip("dask.array")
    from cartoonbrain.cluster import predict_dask

    X, y = _data(1000)
    net = _net()
    net.fit(X, y, epochs=1)
    lazy = predict_dask(net, da.from_array(X, chunks=(128, 3)))  # features rechunked whole
    assert lazy.chunks[0] == da.from_array(X, chunks=128).chunks[0]
    outputs = lazy.compute(scheduler="processes", num_workers=2)  # net pickled to each
    # the workers are fresh processes: the accelerator there may not be loaded (it loads
    # where the work pays), so theirs is another computation of the same numbers
    assert_same_maths(outputs, net.predict(X, batch_size=128))
    assert_same_maths(outputs, net.predict(X))


def test_predicting_a_dask_dataframe_partition_by_partition_equals_predicting_in_memory():
    dd = pytest.importorskip("dask.dataframe")
    import pandas as pd

    from cartoonbrain.cluster import predict_dask

    X, _ = _data(500)
    net = _net()
    net.metadata["classes"] = ["ant", "bee", "cat"]
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(6)], index=np.arange(500) * 10)
    result = predict_dask(net, dd.from_pandas(frame, npartitions=4)).compute()
    assert list(result.columns) == ["p_ant", "p_bee", "p_cat"]
    np.testing.assert_array_equal(result.index, frame.index)
    assert_same_maths(result.to_numpy(), net.predict(X))


# ---------------------------------------------------------------- CSV in chunks
def _csv(path: Path, n: int = 250, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    labels = np.array(["ant", "bee", "cat"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)]
    lines = ["a,b,label,c"] + [
        f"{x:.6g},{y:.6g},{label},{z:.6g}" + ("\n" if i % 40 == 7 else "")  # blank rows too
        for i, ((x, y, z), label) in enumerate(zip(X, labels))
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@given(st.integers(1, 300))
@settings(max_examples=20, deadline=None)
def test_csv_chunks_read_what_read_table_reads(tmp_path_factory, rows):
    from cartoonbrain.data.csvdata import CsvFile, read_table
    from cartoonbrain.data.stream import csv_chunks

    path = _csv(tmp_path_factory.mktemp("csv") / "pets.csv")
    whole = read_table(path, ["c", "a"])
    with CsvFile(path) as f:
        chunks = list(csv_chunks(f, ["c", "a"], rows))
    assert all(len(chunk.X) == rows for chunk in chunks[:-1]) and 0 < len(chunks[-1].X) <= rows
    np.testing.assert_array_equal(np.concatenate([c.X for c in chunks]), whole.X)
    np.testing.assert_array_equal(np.concatenate([c.lines for c in chunks]), whole.lines)


@pytest.mark.parametrize(
    ("line", "fragment"),
    [("1,2,ant", "has 3 fields"), ("1,x,ant,3", "'x' is not a number"), ("1,,ant,3", "empty")],
)
def test_a_bad_row_in_a_late_chunk_is_named_by_its_line(tmp_path, line, fragment):
    from cartoonbrain.data.csvdata import CsvFile, DataFileError
    from cartoonbrain.data.stream import csv_chunks

    path = _csv(tmp_path / "pets.csv", n=100)
    text = path.read_text().splitlines()
    text.insert(90, line)
    path.write_text("\n".join(text) + "\n")
    with CsvFile(path) as f, pytest.raises(DataFileError, match=f"row 91.*{fragment}"):
        list(csv_chunks(f, ["a", "b", "c"], rows=16))


def test_csv_to_npy_writes_a_memmappable_file_of_the_features(tmp_path):
    from cartoonbrain.data.csvdata import read_table
    from cartoonbrain.data.stream import csv_to_npy

    path = _csv(tmp_path / "pets.csv")
    features, target = csv_to_npy(path, tmp_path / "X.npy", "label", np.float32, rows=32)
    whole = read_table(path, target="label")
    X = np.load(tmp_path / "X.npy", mmap_mode="r")
    assert features == ["a", "b", "c"] and isinstance(X, np.memmap) and X.dtype == np.float32
    np.testing.assert_array_equal(X, whole.X.astype(np.float32))
    (labels, codes), (labels_read, codes_read) = target.labels(), whole.target.labels()
    assert labels == labels_read
    np.testing.assert_array_equal(codes, codes_read)
    layers = [cb.Dense(3, 8, activation="relu"), cb.Dense(8, 3)]
    net = cb.Network(layers, loss="cross_entropy", seed=0)
    net.fit(X, codes, epochs=2)  # trains from the file, not from a copy


def test_csv_to_npy_keeps_the_old_file_when_a_row_is_bad(tmp_path):
    from cartoonbrain.data.csvdata import DataFileError
    from cartoonbrain.data.stream import csv_to_npy

    path = _csv(tmp_path / "pets.csv")
    np.save(tmp_path / "X.npy", np.zeros(3))
    path.write_text(path.read_text() + "1e39,0,ant,0\n")
    with pytest.raises(DataFileError, match=r"1e\+39 is too large for float32"):
        csv_to_npy(path, tmp_path / "X.npy", "label", np.float32)
    np.testing.assert_array_equal(np.load(tmp_path / "X.npy"), np.zeros(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["X.npy", "pets.csv"]


def test_predict_streams_a_csv_in_chunks_and_writes_what_one_chunk_would(tmp_path, monkeypatch):
    from cartoonbrain.cli import main

    monkeypatch.chdir(tmp_path)  # the predictions are written here
    path = _csv(tmp_path / "pets.csv", n=300)
    model = tmp_path / "model.npz"
    args = ["--data", str(path), "--target", "label", "--epochs", "2", "--quiet"]
    assert main(["train", *args, "--out", str(model)]) == 0
    assert main(["predict", "--model", str(model), "--data", str(path), "--out", "one.csv"]) == 0
    monkeypatch.setattr("cartoonbrain.data.stream.DEFAULT_ROWS", 7)  # 43 chunks
    assert main(["predict", "--model", str(model), "--data", str(path), "--out", "many.csv"]) == 0
    one, many = Path("one.csv").read_text(), Path("many.csv").read_text()
    assert len(one.splitlines()) == len(many.splitlines()) == 301
    # 7-row chunks are another computation than one chunk of 300 (another BLAS path under
    # some OpenBLAS kernels): the same labels, probabilities equal within rounding
    rows_one = [line.split(",") for line in one.splitlines()]
    rows_many = [line.split(",") for line in many.splitlines()]
    assert rows_one[0] == rows_many[0]
    assert [r[0] for r in rows_one] == [r[0] for r in rows_many]
    numbers = [np.array([r[1:] for r in rows[1:]], dtype=float) for rows in (rows_one, rows_many)]
    assert_same_maths(numbers[1], numbers[0], dtype=np.float32)
