"""A model trained on the command line is the whole model: `cartoonbrain predict`, Python's
`cb.load(path).predict` (arrays in file order, or a DataFrame with its columns in any
order) and onnxruntime give the same answers on every row, for classification and
regression; and a regression target is scaled, so diabetes trains as well as
scikit-learn's MLPRegressor."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
import pytest

import cartoonbrain as cb
from cartoonbrain import cli
from cartoonbrain.cli._data import split_rows
from csv_files import shop_csv, write_csv

pd = pytest.importorskip("pandas")
OLD = Path(__file__).parent / "data" / "cli_v0_1_0"


def _breast_cancer(folder: Path) -> Path:
    """scikit-learn's breast cancer data with the labels as text."""
    datasets = pytest.importorskip("sklearn.datasets")
    data = datasets.load_breast_cancer()
    names = [n.replace(" ", "_") for n in data.feature_names]
    labels = np.where(data.target == 0, "malignant", "benign")
    rows = [[repr(float(v)) for v in x] + [t] for x, t in zip(data.data, labels)]
    return write_csv(folder / "bc.csv", [*names, "label"], rows)


def _diabetes(folder: Path) -> Path:
    """scikit-learn's diabetes data, raw features, the target as integers (25..346)."""
    datasets = pytest.importorskip("sklearn.datasets")
    data = datasets.load_diabetes(scaled=False)
    rows = [[repr(float(v)) for v in x] + [int(t)] for x, t in zip(data.data, data.target)]
    return write_csv(folder / "diabetes.csv", [*data.feature_names, "progression"], rows)


def _shop(folder: Path) -> Path:
    """A text column (colour) and empty cells in every feature column: 300 rows."""
    return shop_csv(folder, 300, missing=(0.1, 0.1, 0.05))


#: name: (make the CSV, target, extra train options, numeric only)
CASES = {
    "breast_cancer": (_breast_cancer, "label", [], True),
    "diabetes": (_diabetes, "progression", [], True),
    "shop": (_shop, "label", ["--impute", "mean"], False),
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Each case trained once by `cartoonbrain train` with the default settings."""
    folder = tmp_path_factory.mktemp("trained")
    out = {}
    for name, (make, target, options, _) in CASES.items():
        data, model = make(folder), folder / f"{name}.npz"
        argv = ["train", "--data", str(data), "--target", target, "--out", str(model)]
        assert cli.main([*argv, "--quiet", *options]) == 0
        out[name] = (data, model, target)
    return out


def _read(path: Path) -> pd.DataFrame:
    """A CSV as float() reads it: a column of numbers as float64 (NaN where empty), any
    other column as text (None where empty)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    columns = {}
    for j, name in enumerate(rows[0]):
        cells = [row[j] for row in rows[1:]]
        try:
            columns[name] = np.array([float(c) if c else np.nan for c in cells])
        except ValueError:
            columns[name] = np.array([c or None for c in cells], dtype=object)
    return pd.DataFrame(columns)


def _cli_predictions(data: Path, model: Path, out: Path) -> pd.DataFrame:
    assert cli.main(["predict", "--model", str(model), "--data", str(data), "--out", str(out)]) == 0
    return _read(out)


def _features(data: Path, target: str) -> pd.DataFrame:
    return _read(data).drop(columns=[target])


def _outputs(net: cb.Network, table: pd.DataFrame, target: str) -> np.ndarray:
    """The predictions CSV's numbers: class probabilities in class order, or the target."""
    if net.loss.classification:
        return table[[f"p_{c}" for c in net.metadata["classes"]]].to_numpy(np.float64)
    return table[["prediction"]].to_numpy(np.float64)


@pytest.mark.parametrize("case", sorted(CASES))
def test_cli_and_python_give_the_same_answers_on_every_row(case, trained, tmp_path):
    data, model, target = trained[case]
    net = cb.load(model)
    table = _cli_predictions(data, model, tmp_path / "p.csv")
    X = _features(data, target)
    in_file_order = net.predict(X.to_numpy())
    order = list(np.random.default_rng(1).permutation(X.columns))
    shuffled = X[order[1:] + order[:1] if order == list(X.columns) else order]
    assert list(shuffled.columns) != list(X.columns)
    np.testing.assert_allclose(_outputs(net, table, target), in_file_order, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(net.predict(shuffled), in_file_order, rtol=1e-12, atol=0)
    if net.loss.classification:
        np.testing.assert_array_equal(table["prediction"], net.predict_classes(shuffled))
        assert set(table["prediction"]) <= set(net.metadata["classes"])


@pytest.mark.parametrize("case", ["breast_cancer", "diabetes"])
def test_onnx_gives_what_the_cli_gives(case, trained, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    data, model, target = trained[case]
    onnx_path = tmp_path / "m.onnx"
    assert cli.main(["export", "--model", str(model), "--out", str(onnx_path)]) == 0
    net = cb.load(model)
    X = _features(data, target).to_numpy(np.float32)  # raw features, training order
    (from_onnx,) = ort.InferenceSession(str(onnx_path)).run(None, {"input": X})
    table = _cli_predictions(data, model, tmp_path / "p.csv")
    np.testing.assert_allclose(from_onnx, _outputs(net, table, target), rtol=1e-5, atol=1e-5)


def test_onnx_export_refuses_a_text_column_naming_it(trained, tmp_path, capsys):
    pytest.importorskip("onnx")
    _, model, _ = trained["shop"]
    capsys.readouterr()
    assert cli.main(["export", "--model", str(model), "--out", str(tmp_path / "m.onnx")]) == 2
    assert "column 'colour' is a text column" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()


def test_the_model_file_holds_the_preprocessing(trained):
    shop = cb.load(trained["shop"][1])
    assert shop.preprocessor.feature_names_in_ == ["size", "colour", "weight"]
    kinds = [c["kind"] for c in shop.preprocessor.columns_]
    assert kinds == ["number", "text", "number"] and shop.preprocessor.impute == "mean"
    assert shop.target_encoder.classes == ["big", "small"] == shop.metadata["classes"]
    diabetes = cb.load(trained["diabetes"][1])
    assert diabetes.target_encoder.kind == "scale" and diabetes.loss.name == "mse"
    assert 140 < diabetes.target_encoder.mean[0] < 165  # the target's units: 25..346
    assert "scaler" not in diabetes.metadata  # only 0.1.0's models keep one there


def test_evaluate_applies_the_models_preprocessing(trained, capsys):
    data, model, target = trained["shop"]
    capsys.readouterr()
    assert cli.main(["evaluate", "--model", str(model), "--data", str(data)]) == 0
    printed = float(capsys.readouterr().out.split("accuracy:")[1].split()[0])
    frame = _read(data)
    python = cb.load(model).evaluate(frame.drop(columns=[target]), frame[target])
    assert printed == pytest.approx(python["accuracy"], abs=1e-6) and printed > 0.8


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_diabetes_with_the_defaults_reaches_the_r2_of_sklearns_mlp(tmp_path, capsys):
    """The CLI's defaults against MLPRegressor in a StandardScaler pipeline with a scaled
    target, on the CLI's own test split (--test-split 0.2, --seed 0), in the same run."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.metrics import r2_score
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = _diabetes(tmp_path)
    model = tmp_path / "d.npz"
    argv = ["train", "--data", str(data), "--target", "progression", "--out", str(model)]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "task: regression (target 'progression': integers with 214 distinct values, many)" in out
    frame = _read(data)
    X, y = frame.drop(columns=["progression"]).to_numpy(), frame["progression"].to_numpy()
    train, test = split_rows(len(X), 0.2, 0)
    test_line = next(line for line in out.splitlines() if line.startswith("test "))
    ours = float(test_line.split(" r2 ")[1].split()[0])  # the scored model, before refit
    assert "refit on all 442 rows" in out
    scored = tmp_path / "scored.npz"
    assert cli.main([*argv[:-1], str(scored), "--no-refit", "--quiet"]) == 0
    honest = r2_score(y[test], cb.load(scored).predict(X[test])[:, 0])
    assert f"r2 {honest:.4f}" in capsys.readouterr().out  # the split the CLI tested on
    assert ours == pytest.approx(honest, abs=1e-4)
    mlp = TransformedTargetRegressor(
        make_pipeline(StandardScaler(), MLPRegressor(random_state=0)), transformer=StandardScaler()
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 200 iterations: MLP warns it has not converged
        mlp.fit(X[train], y[train])
    theirs = r2_score(y[test], mlp.predict(X[test]))
    assert ours >= 0.4 and ours >= theirs, f"R² cartoonbrain {ours:.4f}, MLPRegressor {theirs:.4f}"


# ---------------------------------------------------------------- the task and the columns
def _small(folder: Path, labels: list[object]) -> Path:
    rng = np.random.default_rng(0)
    rows = [[f"{rng.normal():.4f}", f"{rng.normal():.4f}", t] for t in labels]
    return write_csv(folder / "small.csv", ["a", "b", "t"], rows)


@pytest.mark.parametrize(
    ("labels", "options", "line", "loss"),
    [
        (["x", "y"] * 30, [], "task: classification (target 't' holds text)", "cross_entropy"),
        (
            [0, 1, 2] * 20,
            [],
            "task: classification (target 't': integers with 3 distinct values)",
            "cross_entropy",
        ),
        ([0, 1, 2] * 20, ["--task", "regression"], "task: regression (--task regression)", "mse"),
        ([0, 1, 2] * 20, ["--loss", "mse"], "task: regression (--loss mse)", "mse"),
        (
            [0.5, 1.25, 2.0] * 20,
            [],
            "task: regression (target 't' holds numbers that are not all integers)",
            "mse",
        ),
        (
            [4650.0, 3800.0] * 30,
            [],
            "task: regression (target 't' is written as decimals (3800.0, ...): a quantity)",
            "mse",
        ),
        (
            list(range(60)),
            [],
            "task: regression (target 't': integers with 60 distinct values, many)",
            "mse",
        ),
        ([1.5, 2.5] * 30, ["--task", "classification"], "(--task classification)", "cross_entropy"),
    ],
)
def test_the_task_is_printed_with_its_reason(labels, options, line, loss, tmp_path, capsys):
    data, model = _small(tmp_path, labels), tmp_path / "m.npz"
    argv = ["train", "--data", str(data), "--target", "t", "--epochs", "1", "--out", str(model)]
    argv.append("--quiet")  # the task line is printed all the same
    assert cli.main([*argv, *options]) == 0
    assert line in capsys.readouterr().out
    net = cb.load(model)
    assert net.loss.name == loss
    assert (net.target_encoder.kind == "classes") == (loss == "cross_entropy")


def test_an_ambiguous_integer_target_asks_for_the_task(tmp_path, capsys):
    data = _small(tmp_path, list(range(15)) * 4)
    assert cli.main(["train", "--data", str(data), "--target", "t", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "integers with 15 distinct values: classes or a quantity?" in err
    assert "--task classification or --task regression" in err and len(err.splitlines()) == 1
    argv = ["train", "--data", str(data), "--target", "t", "--task", "regression", "--epochs", "1"]
    assert cli.main([*argv, "--out", str(tmp_path / "m.npz"), "--quiet"]) == 0


def test_a_text_target_cannot_be_forced_to_regression(tmp_path, capsys):
    data = _small(tmp_path, ["x", "y"] * 30)
    argv = ["train", "--data", str(data), "--target", "t", "--task", "regression"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "the target column 't' holds text ('x')" in err and "expected numbers" in err


def test_an_empty_cell_without_impute_names_its_place_and_suggests_impute(tmp_path, capsys):
    data = _shop(tmp_path)
    rows = list(csv.reader(data.read_text().splitlines()))
    first = next(i for i, row in enumerate(rows) if "" in row)
    argv = ["train", "--data", str(data), "--target", "label", "--impute", "none"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert f"shop.csv: row {first + 1}, column " in err
    assert "; expected a " in err and "(--impute auto, mean or most_frequent fills" in err


def test_predict_names_an_unseen_category_and_an_empty_cell_the_model_cannot_fill(tmp_path, capsys):
    data, model = _shop(tmp_path), tmp_path / "m.npz"
    argv = ["train", "--data", str(data), "--target", "label", "--epochs", "1", "--quiet"]
    assert (
        cli.main([*argv, "--drop", "weight", "--impute", "most_frequent", "--out", str(model)]) == 0
    )
    assert cb.load(model).preprocessor.feature_names_in_ == ["size", "colour"]
    new = write_csv(
        tmp_path / "new.csv", ["colour", "size"], [["red", "1"], ["", ""], ["pink", "2"]]
    )
    capsys.readouterr()
    # every row keeps its place: the gap imputed, the unseen category encoded as zeros and said
    assert cli.main(["predict", "--model", str(model), "--data", str(new)]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 4 and all(line.split(",")[0] for line in lines[1:])
    assert "1 of 3 rows hold a category not seen in training, encoded as all zeros" in captured.err
    assert "new.csv: row 4, column 'colour': 'pink' was not seen in training" in captured.err
    strict = tmp_path / "strict.npz"
    complete = write_csv(
        tmp_path / "complete.csv", ["size", "colour", "label"], [["1", "red", "big"]] * 9
    )
    argv = ["train", "--data", str(complete), "--target", "label", "--epochs", "1", "--quiet"]
    assert (
        cli.main(
            [
                *argv,
                "--task",
                "classification",
                "--test-split",
                "0",
                "--out",
                str(strict),
                "--impute",
                "none",
            ]
        )
        == 2
    )
    capsys.readouterr()  # one class: refused; two classes below
    write_csv(
        complete, ["size", "colour", "label"], [["1", "red", "big"], ["2", "blue", "small"]] * 5
    )
    assert (
        cli.main(
            [
                *argv,
                "--test-split",
                "0",
                "--validation-split",
                "0",
                "--out",
                str(strict),
                "--impute",
                "none",
            ]
        )
        == 0
    )
    gap = write_csv(tmp_path / "gap.csv", ["size", "colour"], [["1", "red"], ["", "blue"]])
    fail = ["--on-error", "fail"]
    assert cli.main(["predict", "--model", str(strict), "--data", str(gap), *fail]) == 2
    err = capsys.readouterr().err
    assert "gap.csv: row 3, column 'size': empty cell" in err and "without --impute" in err
    assert cli.main(["predict", "--model", str(strict), "--data", str(gap)]) == 1  # skip
    captured = capsys.readouterr()
    assert captured.out.splitlines()[2].strip(",") == ""  # row 3 keeps its place, empty
    assert "1 of 2 rows could not be predicted" in captured.err


@pytest.mark.parametrize(
    ("drop", "fragment"),
    [("nope", "--drop nope: no such column"), ("label", "--drop label: that is the --target")],
)
def test_drop_names_a_column_it_cannot_drop(drop, fragment, tmp_path, capsys):
    data = _shop(tmp_path)
    assert cli.main(["train", "--data", str(data), "--target", "label", "--drop", drop]) == 2
    assert fragment in capsys.readouterr().err


def test_drop_takes_commas_and_repeats(tmp_path):
    rng = np.random.default_rng(0)
    rows = [[*(f"{v:.3f}" for v in rng.normal(size=4)), "xy"[i % 2]] for i in range(40)]
    data, model = write_csv(tmp_path / "w.csv", ["a", "b", "c", "d", "t"], rows), tmp_path / "m.npz"
    argv = ["train", "--data", str(data), "--target", "t", "--epochs", "1", "--quiet"]
    assert cli.main([*argv, "--drop", "a,c", "--drop", "d", "--out", str(model)]) == 0
    assert cb.load(model).preprocessor.feature_names_in_ == ["b"]


# ---------------------------------------------------------------- models of 0.1.0
@pytest.mark.parametrize(("model", "data"), [("classifier", "classes"), ("regressor", "prices")])
def test_models_written_by_the_0_1_0_cli_predict_what_they_predicted_then(model, data, tmp_path):
    net = cb.load(OLD / f"{model}.npz")
    assert net.preprocessor is None and "scaler" in net.metadata
    then = _read(OLD / f"{model}_predictions.csv")
    now = _cli_predictions(OLD / f"{data}.csv", OLD / f"{model}.npz", tmp_path / "p.csv")
    # 0.1.0 named a regression's column after the target; now both tasks write "prediction"
    then = then.rename(columns={"price": "prediction"})
    assert list(now.columns) == list(then.columns)
    for column in then.columns:
        if not pd.api.types.is_numeric_dtype(then[column]):
            np.testing.assert_array_equal(now[column], then[column])
        else:  # 0.1.0 wrote 6 (probabilities) or 8 (numbers) significant digits
            np.testing.assert_allclose(now[column], then[column], rtol=1e-5, atol=1e-6)
