"""Memory bounded by what a chunk becomes: ``predict`` and ``train --cache`` size their
chunks by the width the rows take once encoded (one-hot text columns), not by the raw
columns, so a few text columns of many categories no longer make a chunk of 65,536 rows
hundreds of megabytes (benchmarks/predict_memory.py and train_memory.py
``--text-columns 5 --categories 256`` measure the peaks); and a header of many columns
is read, and its duplicate names found, in time linear in its columns.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartoonbrain.cli import main
from cartoonbrain.data import stream
from cartoonbrain.data.csvdata import CsvFile, DataFileError
from csv_files import write_csv


@given(width=st.integers(0, 10**7), budget=st.integers(1, 1 << 30))
def test_a_chunk_holds_what_the_budget_allows_and_at_least_one_row(width, budget):
    rows = stream.chunk_rows(width, budget)
    assert 1 <= rows <= stream.DEFAULT_ROWS
    assert rows == 1 or rows * 8 * max(width, 1) <= budget
    assert rows == stream.DEFAULT_ROWS or (rows + 1) * 8 * max(width, 1) > budget


def _texts(folder, n=3000, texts=4, categories=64):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 2))
    codes = rng.permuted(np.tile(np.arange(n)[:, None] % categories, (1, texts)), axis=0)
    label = np.where(X[:, 0] > 0, "yes", "no")
    rows = [[*x, *(f"k{c}" for c in t), y] for x, t, y in zip(X, codes, label)]
    header = ["a", "b", *(f"t{j}" for j in range(texts)), "label"]
    return write_csv(folder / "texts.csv", header, rows)


@pytest.fixture(scope="module")
def texts_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("chunks")
    data = _texts(folder)
    argv = ["train", "--data", str(data), "--target", "label", "--epochs", "1", "--hidden", "4"]
    assert main([*argv, "--out", str(folder / "m.npz"), "--quiet"]) == 0
    return folder, data


def test_predict_chunks_are_sized_by_the_one_hot_width(texts_model, monkeypatch, capsys):
    """4 text columns of 64 categories: 258 inputs a row; with a budget of 64 KiB a chunk
    holds 31 rows, not 3000 (the raw 6 columns would allow 1,365)."""
    import cartoonbrain.cli.predict as predict

    folder, data = texts_model
    monkeypatch.setattr(stream, "CHUNK_BYTES", 1 << 16)
    seen: list[int] = []
    real = predict._predict_chunk

    def recorded(net, table, *args):
        seen.append(len(table.X))
        return real(net, table, *args)

    monkeypatch.setattr(predict, "_predict_chunk", recorded)
    out = folder / "p.csv"
    argv = ["predict", "--model", str(folder / "m.npz"), "--data", str(data), "--out", str(out)]
    assert main([*argv, "--force"]) == 0
    assert max(seen) == (1 << 16) // (8 * 258) == 31 and sum(seen) == 3000
    assert len(out.read_text().splitlines()) == 3001


def test_predict_peak_memory_follows_the_budget(texts_model, monkeypatch, capsys):
    """tracemalloc's peak while predicting shrinks with the chunk budget: the encoded
    chunk, not the raw one, is what memory holds."""
    folder, data = texts_model
    peaks = {}
    for budget in (1 << 16, 1 << 23):
        monkeypatch.setattr(stream, "CHUNK_BYTES", budget)
        argv = ["predict", "--model", str(folder / "m.npz"), "--data", str(data)]
        tracemalloc.start()
        assert main([*argv, "--out", str(folder / "q.csv"), "--force"]) == 0
        peaks[budget] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    # the whole file (3000 rows x 258 float64 = 6.2 MB encoded) against 31 rows at a time
    assert peaks[1 << 16] < peaks[1 << 23] / 3, peaks


def test_cache_transforms_pieces_of_the_encoded_budget(tmp_path, monkeypatch, capsys):
    import cartoonbrain.cli._cachebuild as build

    data = _texts(tmp_path)
    monkeypatch.setattr(build, "CHUNK_BYTES", 1 << 18)
    seen: list[tuple[int, int]] = []
    real = build._prepared

    def recorded(raw, pre, block, dtype):
        seen.append((len(block), pre.n_features_out))
        return real(raw, pre, block, dtype)

    monkeypatch.setattr(build, "_prepared", recorded)
    argv = ["train", "--data", str(data), "--target", "label", "--cache", "--epochs", "1"]
    assert main([*argv, "--hidden", "4", "--out", str(tmp_path / "m.npz"), "--quiet"]) == 0
    assert max(rows * width * 8 for rows, width in seen) <= 1 << 18  # 127 rows of 258
    assert sum(rows for rows, _ in seen) == 3000


def test_a_header_of_100k_columns_is_read_and_its_duplicates_named(tmp_path):
    names = [f"c{j}" for j in range(100_000)]
    path = tmp_path / "wide.csv"
    path.write_text(",".join(names) + "\n" + ",".join("1" for _ in names) + "\n")
    with CsvFile(path) as f:
        assert f.columns == names
        assert f.index("c99999") == 99_999
        table = f.read(names[:-1], names[-1])
        assert table.X.shape == (1, 99_999)
    path.write_text(",".join([*names, "c5", "c7", "c5"]) + "\n" + "1," * 100_002 + "1\n")
    with pytest.raises(DataFileError, match=r"the header names c5, c7 more than once$"):
        CsvFile(path)
