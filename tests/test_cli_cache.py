"""`cartoonbrain train --cache`: a CSV file converted once, a chunk at a time, into
memmapped .npy files beside it, and trained from them.

* The model is the one training without --cache gives: the same split and row order,
  statistics summed as NumPy sums them (PairwiseSum), the same preprocessed inputs.
* The cache is reused while the file and the options are unchanged, rebuilt otherwise,
  and replaced only by a complete one.
* Memory does not grow with the rows beyond the few numbers per row that fit keeps.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cartoonbrain as cb
from cartoonbrain.cli import main
from cartoonbrain.cli._data import split_rows
from cartoonbrain.data.bucketsort import BucketSort
from cartoonbrain.data.csvcolumns import Columns
from cartoonbrain.data.preprocessing import Preprocessor
from cartoonbrain.data.streamstats import PairwiseSum, PreprocessorStats
from csv_files import shop_csv, write_csv
from tolerance import assert_same_maths


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _shop(folder: Path) -> Path:
    """Numbers with empty cells, a text column (colour), text labels: 600 rows."""
    return shop_csv(folder, 600)


def _houses(folder: Path, n: int = 500, seed: int = 1) -> Path:
    """Numbers (a few empty), an integer target of many values: a regression."""
    rng = np.random.default_rng(seed)
    X = rng.normal([120, 3, 1e4], [40, 1, 3e3], (n, 3)).round(1)
    price = (2 * X[:, 0] + 30 * X[:, 1] + 0.01 * X[:, 2]).astype(int)
    rows = [["" if rng.random() < 0.03 else v for v in x] + [p] for x, p in zip(X, price)]
    return write_csv(folder / "houses.csv", ["area", "rooms", "income", "price"], rows)


def _binary(folder: Path, n: int = 400, seed: int = 2) -> Path:
    """Numbers and a 0/1 target, with an id column to drop."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    rows = [[i, *np.round(x, 4), int(x[0] - x[2] > 0)] for i, x in enumerate(X)]
    return write_csv(folder / "binary.csv", ["id", "a", "b", "c", "y"], rows)


#: name: (make the CSV, target, options)
CASES = {
    "text, gaps, many chunks": (_shop, "label", ["--impute", "mean"]),
    "regression, test rows": (_houses, "price", ["--impute", "mean"]),
    "regression, file order": (
        _houses,
        "price",
        ["--impute", "most_frequent", "--test-split", "0", "--dtype", "float64"],
    ),
    "binary, dropped column": (
        _binary,
        "y",
        ["--loss", "binary_cross_entropy", "--drop", "id", "--validation-split", "0.2"],
    ),
}


def _train(data: Path, target: str, options: list[str], out: str, capsys) -> list[str]:
    argv = ["train", "--data", str(data), "--target", target, "--out", out, "--force"]
    argv += ["--epochs", "2", "--hidden", "16", "--batch-size", "16", "--no-refit", *options]
    assert main(argv) == 0, capsys.readouterr().err
    lines = capsys.readouterr().out.splitlines()
    # the column summary and its notes are train's in memory (the cache names its text columns)
    return [line for line in lines if not line.startswith(("columns:", "  ", "note:", "column "))]


@pytest.mark.parametrize("case", sorted(CASES))
def test_cache_trains_the_model_training_in_memory_trains(case, workdir, capsys, monkeypatch):
    """Bit-identical here (the statistics are summed in the order and by the splits NumPy
    uses); compared within the network dtype's rounding (assert_same_maths), which is
    what another NumPy that summed differently would move: an ulp in a statistic, about
    as little in the weights after two epochs."""
    make, target, options = CASES[case]
    data = make(workdir)
    monkeypatch.setattr("cartoonbrain.cli._cachebuild.CHUNK_BYTES", 8 * 37 * 6)  # 37 rows
    monkeypatch.setattr("cartoonbrain.data.streamstats.LEAF", 128)  # sums of many parts
    memory = _train(data, target, options, "memory.npz", capsys)
    cached = _train(data, target, [*options, "--cache"], "cached.npz", capsys)
    assert any(line.startswith("cache: writing") for line in cached)
    assert [line for line in cached if not line.startswith("cache:")] == [
        line.replace("memory.npz", "cached.npz") for line in memory
    ]
    a, b = cb.load("memory.npz"), cb.load("cached.npz")
    assert a.metadata == b.metadata and a.get_config()["layers"] == b.get_config()["layers"]
    for W, V in zip(a.parameters(), b.parameters()):
        assert_same_maths(V, W)
    _same_preprocessing(a, b)


def _same_preprocessing(a: cb.Network, b: cb.Network) -> None:
    assert a.preprocessor is not None and b.preprocessor is not None
    for p, q in zip(a.preprocessor.columns_, b.preprocessor.columns_):
        numbers = [k for k in ("mean", "scale", "fill") if isinstance(p.get(k), float)]
        assert {k: v for k, v in q.items() if k not in numbers} == {
            k: v for k, v in p.items() if k not in numbers
        }
        assert_same_maths([q[k] for k in numbers], [p[k] for k in numbers])
    encoders = a.target_encoder, b.target_encoder
    assert (encoders[0] is None) == (encoders[1] is None)
    if encoders[0] is not None and encoders[1] is not None:
        p, q = encoders[0].get_config(), encoders[1].get_config()
        assert p["kind"] == q["kind"] and p["classes"] == q["classes"]
        assert_same_maths(q["mean"] + q["scale"], p["mean"] + p["scale"])


def _stamp(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_ino, status.st_mtime_ns


def test_the_cache_is_reused_and_rebuilt_when_the_file_or_an_option_changes(workdir, capsys):
    data = _shop(workdir)
    folder = workdir / "shop.csv.cache"
    options = ["--impute", "mean"]
    _train(data, "label", [*options, "--cache"], "m.npz", capsys)
    files = sorted(p.name for p in folder.iterdir())
    assert files == ["manifest.json", "test-X.npy", "test-y.npy", "train-X.npy", "train-y.npy"]
    before = {name: _stamp(folder / name) for name in files}
    out = _train(data, "label", [*options, "--cache"], "m.npz", capsys)
    assert out[0].startswith("cache: reading")
    assert {name: _stamp(folder / name) for name in files} == before  # not rewritten
    mean = cb.load("m.npz").preprocessor.columns_[0]["mean"]

    lines = data.read_bytes().split(b"\r\n")
    first = lines[1].split(b",")
    first[0] = b"9" * (len(first[0]) - 1) + b"." if first[0] else first[0]
    lines[1] = b",".join(first)
    size = data.stat().st_size
    data.write_bytes(b"\r\n".join(lines))  # a new value, a new time, the same size
    assert data.stat().st_size == size
    out = _train(data, "label", [*options, "--cache"], "m.npz", capsys)
    assert out[0] == f"cache: writing {folder} (the CSV file changed since it was written)"
    assert cb.load("m.npz").preprocessor.columns_[0]["mean"] != mean

    out = _train(data, "label", [*options, "--cache", "--seed", "1"], "m.npz", capsys)
    assert out[0] == f"cache: writing {folder} (made with other options: seed 0 then, 1 now)"
    assert not [p for p in workdir.iterdir() if p.name.startswith(".")]  # no leftovers


def test_a_file_replaced_with_the_same_size_and_time_is_not_served_from_the_cache(workdir, capsys):
    data = _shop(workdir)
    _train(data, "label", ["--impute", "mean", "--cache"], "m.npz", capsys)
    status = data.stat()
    text = data.read_bytes().replace(b"big", b"BIG", 1)  # same length, one label changed
    (workdir / "new.csv").write_bytes(text)
    os.utime(workdir / "new.csv", ns=(status.st_atime_ns, status.st_mtime_ns))
    os.replace(workdir / "new.csv", data)  # as `cp -p` or `rsync -t` would leave it
    assert (data.stat().st_size, data.stat().st_mtime_ns) == (status.st_size, status.st_mtime_ns)
    out = _train(data, "label", ["--impute", "mean", "--cache"], "m.npz", capsys)
    assert "the CSV file changed" in out[0]
    assert "BIG" in cb.load("m.npz").metadata["classes"]


def test_a_failed_conversion_keeps_the_cache_as_it_was(workdir, capsys):
    data = _shop(workdir)
    folder = workdir / "shop.csv.cache"
    _train(data, "label", ["--impute", "mean", "--cache"], "m.npz", capsys)
    before = {p.name: _stamp(p) for p in folder.iterdir()}
    with open(data, "a") as f:
        f.write("12.5,red,big\n")
    argv = ["train", "--data", str(data), "--target", "label", "--impute", "mean", "--cache"]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert "shop.csv: row 602 has 3 fields; the header has 4" in error
    assert {p.name: _stamp(p) for p in folder.iterdir()} == before
    assert sorted(p.name for p in workdir.iterdir()) == ["m.npz", "shop.csv", "shop.csv.cache"]


def test_a_category_only_the_test_rows_hold_is_named_by_its_row(workdir, capsys):
    rows = [[f"{i % 7}.5", "rare" if i == 5 else "ab"[i % 2], "pq"[i % 3 == 0]] for i in range(60)]
    data = write_csv(workdir / "t.csv", ["a", "c", "y"], rows)
    seed = next(s for s in range(100) if 5 in split_rows(60, 0.2, s)[1])
    argv = ["train", "--data", str(data), "--target", "y", "--seed", str(seed), "--cache"]
    assert main(argv) == 2
    error = capsys.readouterr().err.strip()
    assert "t.csv: row 7, column 'c': 'rare' is in the test rows only" in error
    assert not (workdir / "t.csv.cache").exists()


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--report", "rep", "--conv", "8"], ["--report", "--conv"]),
        (["--rnn", "gru"], ["--rnn"]),
    ],
)
def test_cache_refuses_the_options_it_cannot_honour_in_one_line(options, named, workdir, capsys):
    data = _shop(workdir)
    argv = ["train", "--data", str(data), "--target", "label", "--cache", *options]
    assert main(argv) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and all(flag in error[0] for flag in named), error
    assert not (workdir / "shop.csv.cache").exists()
    assert main(["train", "--dataset", "digits", "--cache"]) == 2
    assert "--dataset" in capsys.readouterr().err


def test_checkpoints_of_a_cached_run_are_whole_models(workdir, capsys):
    """fit is told not to preprocess again, but the model it saves keeps its preprocessing."""
    data = _shop(workdir)
    options = ["--impute", "mean", "--cache", "--checkpoint", "ck.npz"]
    _train(data, "label", options, "m.npz", capsys)
    final, checkpoint = cb.load("m.npz"), cb.load("ck.npz")
    assert checkpoint.preprocessor is not None and checkpoint.target_encoder is not None
    rows = np.array([[50.0, "red", 3.0], [np.nan, "blue", 1.0]], dtype=object)
    np.testing.assert_array_equal(checkpoint.predict(rows), final.predict(rows))


# ---------------------------------------------------------------- the parts
@given(st.integers(0, 3000), st.sampled_from([128, 136, 1000]), st.integers(1, 700))
@settings(max_examples=40, deadline=None)
def test_pairwise_sum_is_numpys_sum(n, leaf, piece):
    """Its contract: the additions np.add.reduce does, in its order, so the same bits."""
    x = np.random.default_rng(n).normal(3, 1e3, n)
    total = PairwiseSum(n, leaf)
    for start in range(0, n, piece):
        total.add(x[start : start + piece])
    assert total.total() == np.add.reduce(x)


def test_pairwise_sum_wants_exactly_n_values():
    total = PairwiseSum(3, 128)
    total.add([1.0, 2.0])
    with pytest.raises(ValueError, match="2 values were added to a sum of 3"):
        total.total()
    with pytest.raises(ValueError, match="more than the 3 values"):
        total.add([3.0, 4.0])


@pytest.mark.parametrize("impute", [None, "mean", "most_frequent"])
def test_preprocessor_stats_learn_what_fit_learns(impute):
    rng = np.random.default_rng(0)
    n, texts = 5000, {"c": ["", "red", "blue", "green"]}
    X = np.column_stack(
        [rng.normal(1e5, 3, n).round(2), rng.integers(0 if impute else 1, 4, n), rng.normal(size=n)]
    )
    if impute:
        X[rng.random((n, 3)) < [0.1, 0, 0.2]] = np.nan
    stats = PreprocessorStats(["a", "c", "b"], texts, impute)
    for learn, step in ((stats.count, 777), (stats.add, 1234), (stats.spread, 999)):
        for start in range(0, n, step):
            learn(X[start : start + step])
    table = np.empty(4, dtype=object)
    table[:] = texts["c"]
    rows = Columns({"a": X[:, 0], "c": table[X[:, 1].astype(int)], "b": X[:, 2]})
    fitted = Preprocessor(impute=impute, categorical=["c"]).fit(rows)
    learned = stats.preprocessor()
    for p, q in zip(fitted.columns_, learned.columns_):
        assert p.keys() == q.keys() and p["kind"] == q["kind"]
        for key in p:
            if isinstance(p[key], float):
                assert_same_maths(q[key], p[key])
            else:
                assert q[key] == p[key]


def test_bucket_sort_reads_the_rows_back_in_the_order_of_their_positions(tmp_path):
    rng = np.random.default_rng(0)
    rows, positions = rng.normal(size=(1003, 3)), rng.permutation(1003)
    with BucketSort(tmp_path, 1003, 3, block=100) as buckets:
        for start in range(0, 1003, 77):
            buckets.add(rows[start : start + 77], positions[start : start + 77])
        for _ in range(2):  # each pass reads the buckets again
            starts, blocks = zip(*buckets.blocks())
            assert starts == tuple(range(0, 1003, 100))
            np.testing.assert_array_equal(np.concatenate(blocks)[positions], rows)
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------- memory
#: train with --cache in this process; print the peak of its own memory (resident but not
#: file-backed, sampled every millisecond) and ru_maxrss, in KiB
MEASURE = """
import os, resource, sys, threading, time
import cartoonbrain.cli._cachebuild as build
from cartoonbrain import _kernels
from cartoonbrain.cli import main
build.CHUNK_BYTES = 1 << 20  # blocks of ~3,800 rows: both files hold many
# the accelerator in both runs alike: loaded up front, not only once the work pays for it
# (which the larger file reaches and the smaller may not)
_kernels.warm_up()
page, peak, done = os.sysconf("SC_PAGE_SIZE") // 1024, [0], threading.Event()
def sample():
    with open("/proc/self/statm") as f:
        while not done.is_set():
            f.seek(0)
            resident, shared = map(int, f.read().split()[1:3])
            peak[0] = max(peak[0], (resident - shared) * page)
            time.sleep(0.001)
thread = threading.Thread(target=sample, daemon=True)
thread.start()
status = main(sys.argv[1:])
done.set()
thread.join()
print("MEASURED", status, peak[0], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
#: started from this small process, the measured one does not inherit pytest's peak
#: (Linux starts a child's ru_maxrss at its parent's when it execs)
SPAWN = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)"


def _wide(path: Path, rows: int, features: int = 32) -> Path:
    """``rows`` rows of ``features`` numbers and a label: 5,000 rows, repeated."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5000, features))
    labels = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    cells = np.char.mod("%.6f", X)
    block = "".join(",".join(row) + f",{label}\n" for row, label in zip(cells, labels))
    with open(path, "w") as f:
        f.write(",".join([*(f"x{j}" for j in range(features)), "label"]) + "\n")
        for _ in range(rows // 5000):
            f.write(block)
    return path


def _peaks(data: Path) -> tuple[int, int]:
    """(own memory, ru_maxrss) of train --cache on ``data``, in bytes."""
    argv = ["train", "--data", str(data), "--target", "label", "--cache", "--epochs", "1"]
    argv += ["--batch-size", "256", "--hidden", "16", "--quiet", "--out", f"{data}.npz"]
    command = [sys.executable, "-c", SPAWN, sys.executable, "-c", MEASURE, *argv]
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    line = [x for x in out.stdout.splitlines() if x.startswith("MEASURED")]
    assert out.returncode == 0 and line and line[0].split()[1] == "0", out.stderr
    own, rss = map(int, line[0].split()[2:])
    return own * 1024, rss * 1024


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads /proc (Linux)")
def test_memory_of_cached_training_does_not_grow_with_the_rows(tmp_path):
    """Converting and training on 200,000 rows against 20,000 (32 features: 290 bytes a
    row of CSV, 256 of float64 features): the process's own memory grows by the numbers
    per row that the conversion and fit keep (targets, positions, the epoch's order and
    outputs: measured about 40 bytes a row), not by the rows. Its resident memory also
    counts the cache's pages that fit has read through the memmap (page cache, which the
    kernel reclaims), and grows by little more than those."""
    small, large = _wide(tmp_path / "small.csv", 20_000), _wide(tmp_path / "large.csv", 200_000)
    (own_small, rss_small), (own_large, rss_large) = _peaks(small), _peaks(large)
    rows = 180_000
    csv_bytes = large.stat().st_size - small.stat().st_size
    cache_bytes = sum(
        (large.parent / f"{large.name}.cache" / name).stat().st_size
        - (small.parent / f"{small.name}.cache" / name).stat().st_size
        for name in ("train-X.npy", "test-X.npy")
    )
    own, rss = own_large - own_small, rss_large - rss_small
    print(f"per row: own memory +{own / rows:.0f} B, RSS +{rss / rows:.0f} B")
    print(f"per row: CSV +{csv_bytes / rows:.0f} B, cache +{cache_bytes / rows:.0f} B")
    # the features (256 B a row) are not held: at most half of them a row. Measured 46 B a
    # row at 0.1.x's end, 108 B in 0.2.0 (see the 0.2.0 notes: the rise is not explained yet)
    assert own < 128 * rows and own < csv_bytes / 2
    assert rss < cache_bytes + 80 * rows
