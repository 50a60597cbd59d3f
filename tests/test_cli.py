"""The command line as a user meets it: train, evaluate, predict, datasets; bad input;
files that are never lost or corrupted; checkpoints that resume bit-identically."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cartoonbrain as cb
from cartoonbrain.cli import main
from cartoonbrain.data.csvdata import DataFileError, read_table


def _write_classification_csv(path: Path, n: int = 200, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    labels = np.where(X[:, 0] - X[:, 1] > 0, "cat", "dog")
    lines = ["width,height,weight,animal"]
    lines += [f"{a:.4f},{b:.4f},{c:.4f},{lab}" for (a, b, c), lab in zip(X, labels)]
    path.write_text("\n".join(lines) + "\n")


def _write_regression_csv(path: Path, n: int = 200) -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, 2))
    y = 3 * X[:, 0] - X[:, 1] + 0.5
    lines = ["x1,x2,price"] + [f"{a:.5f},{b:.5f},{t:.5f}" for (a, b), t in zip(X, y)]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*argv: str) -> int:
    return main(list(argv))


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


# ------------------------------------------------------------------ happy paths
def test_train_evaluate_predict_on_a_csv_of_text_labels(workdir, capsys):
    _write_classification_csv(workdir / "pets.csv")
    assert (
        run(
            "train",
            "--data",
            "pets.csv",
            "--target",
            "animal",
            "--epochs",
            "15",
            "--out",
            "pets.npz",
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Epoch 15/15" in out and "test loss" in out and "saved the model to pets.npz" in out
    net = cb.load("pets.npz")
    assert net.metadata["classes"] == ["cat", "dog"]
    assert net.metadata["feature_names"] == ["width", "height", "weight"]

    assert run("evaluate", "--model", "pets.npz", "--data", "pets.csv") == 0
    out = capsys.readouterr().out
    accuracy = float(out.split("accuracy:")[1].split()[0])
    assert accuracy > 0.9
    assert "confusion matrix" in out and "cat" in out

    assert run("predict", "--model", "pets.npz", "--data", "pets.csv", "--out", "p.csv") == 0
    rows = (workdir / "p.csv").read_text().splitlines()
    assert rows[0] == "prediction,p_cat,p_dog"
    assert len(rows) == 201
    assert {r.split(",")[0] for r in rows[1:]} <= {"cat", "dog"}
    p = np.array([[float(v) for v in r.split(",")[1:]] for r in rows[1:]])
    np.testing.assert_allclose(p.sum(axis=1), 1, atol=1e-5)


def test_train_on_a_continuous_target_picks_mse_and_predicts_numbers(workdir, capsys):
    _write_regression_csv(workdir / "houses.csv")
    assert (
        run(
            "train",
            "--data",
            "houses.csv",
            "--target",
            "price",
            "--epochs",
            "60",
            "--out",
            "h.npz",
            "--quiet",
        )
        == 0
    )
    net = cb.load("h.npz")
    assert net.loss.name == "mse" and net.metadata["task"] == "regression"
    capsys.readouterr()
    assert run("evaluate", "--model", "h.npz", "--data", "houses.csv") == 0
    out = capsys.readouterr().out
    assert float(out.split("r2:")[1].split()[0]) > 0.95
    assert run("predict", "--model", "h.npz", "--data", "houses.csv") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "prediction" and len(lines) == 201  # one name in both tasks
    truth = [float(r.split(",")[2]) for r in (workdir / "houses.csv").read_text().splitlines()[1:]]
    predicted = [float(v) for v in lines[1:]]
    assert np.corrcoef(truth, predicted)[0, 1] > 0.97


def test_train_with_no_arguments_learns_digits(workdir, capsys):
    pytest.importorskip("sklearn")
    assert run("train", "--quiet") == 0
    out = capsys.readouterr().out
    accuracy = float(out.split("accuracy")[1].split()[0])
    assert accuracy >= 0.97
    assert (workdir / "model.npz").exists()
    net = cb.load("model.npz")
    assert run("evaluate", "--model", "model.npz", "--dataset", "digits") == 0
    evaluated = float(capsys.readouterr().out.split("accuracy:")[1].split()[0])
    assert evaluated == pytest.approx(accuracy, abs=5e-5)
    assert net.metadata["source"] == "digits"


def test_datasets_lists_every_builtin_dataset(capsys):
    assert run("datasets") == 0
    out = capsys.readouterr().out
    for name in ("digits", "mnist5k", "mnist1d", "xor", "moons", "circles", "blog"):
        assert f"\n{name} " in out


def test_help_explains_every_command(capsys):
    for command in ("train", "evaluate", "predict", "datasets", "blog"):
        with pytest.raises(SystemExit) as exit_info:
            run(command, "--help")
        assert exit_info.value.code == 0
        assert "usage: cartoonbrain " + command in capsys.readouterr().out


def test_help_lists_the_registries_as_they_are_when_the_parser_is_built(monkeypatch, capsys):
    """--activation, --loss and --optimizer offer what is registered when main runs."""
    from cartoonbrain import activations, losses, optimizers

    monkeypatch.setitem(activations.ACTIVATIONS, "toy_swish", activations.ACTIVATIONS["tanh"])
    monkeypatch.setitem(losses.LOSSES, "toy_huber", losses.LOSSES["mse"])
    monkeypatch.setitem(optimizers.OPTIMIZERS, "toy_lion", optimizers.OPTIMIZERS["sgd"])
    with pytest.raises(SystemExit):
        run("train", "--help")
    out = capsys.readouterr().out
    for name in ("toy_swish", "toy_huber", "toy_lion", *cb.ACTIVATIONS, *cb.LOSSES):
        assert name in out


# ------------------------------------------------------------------ bad input
BAD_CSVS = {
    "inf feature": ("a,b,y\n1,2,x\ninf,1,z\n", "row 3, column 'a'"),
    "only columns that look like IDs": (
        "a,b,y\n" + "".join(f"{i},id{i},{'xz'[i % 2]}\n" for i in range(300)),
        "every feature column is left out (a, b)",
    ),
    "empty file": ("", "empty"),
    "header only": ("a,b,y\n", "no data rows"),
    "missing target": ("a,b,c\n1,2,3\n4,5,6\n", "no column 'y'"),
    "ragged row": ("a,b,y\n1,2,x\n1,2\n", "row 3 has 2 fields; the header has 3"),
    "single class": ("a,b,y\n1,2,x\n3,4,x\n", "only one class"),
    "no target value": ("a,b,y\n1,2,NA\n3,4, \n5,6,?\n", "every row's target 'y' is missing"),
    "unclosed quote": ('a,b,y\n1,2,x\n"3,4,z\n5,6,x\n', "row 3: malformed CSV"),
}


#: cells that are bad only with --impute none (else: imputed)
STRICT_CSVS = {
    "nan feature": ("a,b,y\n1,2,x\n1,nan,z\n", "row 3, column 'b'"),
    "NA feature": ("a,b,y\n1,2,x\n1,NA,z\n", "row 3, column 'b': missing cell ('NA')"),
    "empty field": (
        "a,b,y\n1,,x\n3,4,z\n",
        "row 2, column 'b': empty cell; expected a number (--impute",
    ),
}


@pytest.mark.parametrize("case", sorted(STRICT_CSVS))
def test_a_missing_cell_with_impute_none_is_one_line(case, workdir, capsys):
    text, fragment = STRICT_CSVS[case]
    (workdir / "bad.csv").write_text(text)
    argv = ["train", "--data", "bad.csv", "--target", "y", "--quiet", "--impute", "none"]
    assert run(*argv) == 2
    line = _one_error_line(capsys)
    assert line.startswith("cartoonbrain train: error: bad.csv") and fragment in line
    assert not (workdir / "model.npz").exists()


@pytest.mark.parametrize("case", sorted(BAD_CSVS))
def test_bad_csv_exits_2_with_one_line_naming_the_file_and_place(case, workdir, capsys):
    text, fragment = BAD_CSVS[case]
    (workdir / "bad.csv").write_text(text)
    assert run("train", "--data", "bad.csv", "--target", "y", "--quiet") == 2
    line = _one_error_line(capsys)
    assert line.startswith("cartoonbrain train: error: bad.csv")
    assert fragment in line
    assert not (workdir / "model.npz").exists()


def test_binary_garbage_is_refused(workdir, capsys):
    (workdir / "bad.csv").write_bytes(bytes(range(256)) * 4)
    assert run("train", "--data", "bad.csv", "--target", "y") == 2
    assert "binary data" in _one_error_line(capsys)


def test_debug_shows_the_traceback(workdir):
    (workdir / "bad.csv").write_text("a,y\n1,x\nnan,y\n")
    with pytest.raises(DataFileError, match="row 3"):
        run("--debug", "train", "--data", "bad.csv", "--target", "y", "--impute", "none")


def _trained_model(workdir: Path) -> Path:
    _write_classification_csv(workdir / "pets.csv")
    assert (
        run(
            "train",
            "--data",
            "pets.csv",
            "--target",
            "animal",
            "--epochs",
            "2",
            "--quiet",
            "--out",
            "m.npz",
        )
        == 0
    )
    return workdir / "m.npz"


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncated":
        path.write_bytes(bytes(data[: len(data) // 2]))
    elif how == "bit-flipped":
        data[len(data) // 2] ^= 0x10
        path.write_bytes(bytes(data))
    elif how == "not a model":
        path.write_text("width,height\n1,2\n")
    elif how == "plain npy":
        with open(path, "wb") as f:
            np.save(f, np.zeros(3))
    elif how == "other format version":
        _rewrite_config(path, lambda config: config.update(format_version=99))


def _rewrite_config(path: Path, change) -> None:
    """Change a model file's config and write it back with a valid checksum, as the file
    format (docs: SHA-256 over each other member's ``name:dtype:shape;`` and bytes, in name
    order) lets anyone do."""
    with np.load(path) as archive:
        arrays = {k: archive[k] for k in archive.files if k != "checksum"}
    config = json.loads(arrays["config.json"].tobytes())
    change(config)
    arrays["config.json"] = np.frombuffer(json.dumps(config).encode(), dtype=np.uint8)
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape};".encode())
        h.update(a.tobytes())
    arrays["checksum"] = np.frombuffer(h.digest(), dtype=np.uint8)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


@pytest.mark.parametrize(
    "how, fragment",
    [
        ("truncated", "m.npz"),
        ("bit-flipped", "m.npz"),
        ("not a model", "not a cartoonbrain model file"),
        ("plain npy", "not a cartoonbrain model file"),
        ("other format version", "format version 99"),
    ],
)
def test_damaged_model_files_exit_2_with_a_clear_line(how, fragment, workdir, capsys):
    model = _trained_model(workdir)
    capsys.readouterr()
    _damage(model, how)
    for command in ("evaluate", "predict"):
        args = ["--model", "m.npz", "--data", "pets.csv"]
        assert run(command, *args) == 2
        line = _one_error_line(capsys)
        assert "m.npz" in line and fragment in line


def test_a_model_file_with_a_pickle_payload_is_refused_without_running_it(workdir, capsys):
    model = _trained_model(workdir)
    capsys.readouterr()
    with np.load(model) as archive:
        arrays = {k: archive[k] for k in archive.files}
    marker = workdir / "pwned"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    arrays["config.json"] = np.array([Payload()], dtype=object)
    np.savez(model, **arrays)
    assert run("predict", "--model", "m.npz", "--data", "pets.csv") == 2
    assert "pickle" in _one_error_line(capsys)
    assert not marker.exists()


def test_unknown_layer_in_a_config_is_refused(workdir, capsys):
    model = _trained_model(workdir)
    _rewrite_config(model, lambda config: config["network"]["layers"][0].update(type="os.system"))
    capsys.readouterr()
    assert run("predict", "--model", "m.npz", "--data", "pets.csv") == 2
    assert "unknown layer type 'os.system'" in _one_error_line(capsys)


def test_predict_names_missing_feature_columns(workdir, capsys):
    _trained_model(workdir)
    (workdir / "new.csv").write_text("width,weight\n1,2\n")
    capsys.readouterr()
    assert run("predict", "--model", "m.npz", "--data", "new.csv") == 2
    assert "missing feature column(s) height" in _one_error_line(capsys)


def test_evaluate_names_an_unseen_label(workdir, capsys):
    _trained_model(workdir)
    (workdir / "new.csv").write_text("width,height,weight,animal\n1,2,3,cat\n1,2,3,cow\n")
    capsys.readouterr()
    assert run("evaluate", "--model", "m.npz", "--data", "new.csv") == 2
    line = _one_error_line(capsys)
    assert "'cow' was not seen in training" in line and "data row 2" in line


# ------------------------------------------------------------------ files are never lost
def test_a_failed_run_leaves_the_old_model_untouched_and_no_temporaries(workdir, capsys):
    model = _trained_model(workdir)
    before = model.read_bytes()
    (workdir / "bad.csv").write_text("width,height,weight,animal\n1,2,x,cat\n")
    assert run("train", "--data", "bad.csv", "--target", "animal", "--out", "m.npz") == 2
    assert model.read_bytes() == before
    assert sorted(p.name for p in workdir.iterdir()) == ["bad.csv", "m.npz", "pets.csv"]


def test_a_write_that_fails_midway_leaves_the_old_file_and_no_temporaries(workdir, monkeypatch):
    model = _trained_model(workdir)
    before = model.read_bytes()
    net = cb.load(model)

    def broken_savez(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="No space left"):
        net.save(model)
    assert model.read_bytes() == before
    assert sorted(p.name for p in workdir.iterdir()) == ["m.npz", "pets.csv"]


def test_divergence_stops_with_advice_and_keeps_the_last_finite_model(workdir, capsys):
    _write_regression_csv(workdir / "houses.csv")
    code = run(
        "train",
        "--data",
        "houses.csv",
        "--target",
        "price",
        "--optimizer",
        "sgd",
        "--learning-rate",
        "1e6",
        "--schedule",
        "constant",
        "--quiet",
        "--out",
        "h.npz",
    )
    assert code == 2
    line = _one_error_line(capsys)
    assert "lower learning rate" in line and "epoch 1" in line
    net = cb.load("h.npz")
    assert np.isfinite(net.flat_parameters).all()


# ------------------------------------------------------------------ checkpoints
def test_a_checkpoint_is_a_model_file_that_evaluate_and_predict_read(workdir, capsys):
    _write_classification_csv(workdir / "pets.csv")
    assert (
        run(
            "train",
            "--data",
            "pets.csv",
            "--target",
            "animal",
            "--epochs",
            "3",
            "--quiet",
            "--checkpoint",
            "ck.npz",
            "--out",
            "m.npz",
        )
        == 0
    )
    final = cb.load("m.npz")
    checkpoint = cb.load("ck.npz")
    np.testing.assert_array_equal(checkpoint.flat_parameters, final.flat_parameters)
    assert checkpoint.optimizer is not None and checkpoint.optimizer.iterations > 0
    capsys.readouterr()
    assert run("evaluate", "--model", "ck.npz", "--data", "pets.csv") == 0
    assert run("predict", "--model", "ck.npz", "--data", "pets.csv") == 0


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "cartoonbrain.cli", *args]


def test_a_run_killed_many_times_resumes_to_a_bit_identical_model(workdir):
    """SIGKILL at random moments (mid-epoch, mid-write), resume until done: same model."""
    _write_classification_csv(workdir / "pets.csv", n=400)
    args = [
        "train",
        "--data",
        "pets.csv",
        "--target",
        "animal",
        "--epochs",
        "1000",
        "--dropout",
        "0.3",
        "--patience",
        "0",  # every epoch: killed often enough
        "--no-refit",  # the checkpointed run's model, as the reference saves it
        "--quiet",
    ]
    start = time.perf_counter()
    subprocess.run(_cli(*args, "--out", "ref.npz"), check=True, capture_output=True)
    uninterrupted = time.perf_counter() - start  # kill times scale with this machine's speed
    rnd = random.Random(7)
    kills, epochs_seen, late = 0, [], 1.0
    log = workdir / "stderr.txt"
    for _ in range(100):
        with open(log, "wb") as err:
            proc = subprocess.Popen(
                _cli(*args, "--out", "out.npz", "--checkpoint", "ck.npz", "--resume"),
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
            try:
                delay = rnd.uniform(0.3, 0.65) * uninterrupted * late
                proc.wait(timeout=delay if len(epochs_seen) < 4 else 300)
                break
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                kills += 1
        if (workdir / "ck.npz").exists():
            epochs_seen.append(cb.load("ck.npz").optimizer.iterations)
        else:  # a busy machine: killed before the first checkpoint; wait longer next time
            late *= 1.5
    assert proc.returncode == 0, log.read_text()
    assert kills >= 3 and max(epochs_seen, default=0) > 0  # killed after checkpoints were made
    reference, resumed = cb.load("ref.npz"), cb.load("out.npz")
    for a, b in zip(reference.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(a, b)
    assert not [p.name for p in workdir.iterdir() if p.name.endswith(".tmp")]


# ------------------------------------------------------------------ property tests
csv_text = st.lists(
    st.lists(
        st.sampled_from(["1", "2.5", "-3", "x", "", "nan", "inf", "1e308", '"a,b"', " "]),
        min_size=0,
        max_size=4,
    ),
    min_size=0,
    max_size=6,
).map(lambda rows: "\n".join(",".join(r) for r in rows))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.one_of(csv_text, st.binary(max_size=200).map(lambda b: b.decode("latin-1"))))
def test_the_csv_reader_either_reads_or_raises_its_own_error(text, tmp_path):
    path = tmp_path / "random.csv"
    path.write_bytes(text.encode("latin-1", errors="replace"))
    try:
        table = read_table(path)
    except DataFileError as exc:
        assert str(exc).startswith(str(path))
    else:
        assert table.X.shape == (len(table.lines), len(table.columns))
        assert np.isfinite(table.X).all()
        assert (np.diff(table.lines) > 0).all()  # rows in file order, by their first line


@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory) -> bytes:
    net = cb.Network([cb.Dense(3, 4, activation="tanh"), cb.Dense(4, 2)], seed=0)
    path = tmp_path_factory.mktemp("model") / "m.npz"
    net.save(path)
    return path.read_bytes()


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_the_model_loader_either_loads_or_raises_its_own_error(data, model_bytes, tmp_path):
    blob = bytearray(model_bytes)
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        at = data.draw(st.integers(0, max(len(blob) - 1, 0)))
        if kind == "flip" and blob:
            blob[at] ^= data.draw(st.integers(1, 255))
        elif kind == "cut":
            del blob[at:]
        else:
            blob[at:at] = data.draw(st.binary(min_size=1, max_size=8))
    path = tmp_path / "m.npz"
    path.write_bytes(bytes(blob))
    try:
        net = cb.load(path)
    except cb.ModelFileError as exc:
        assert str(path) in str(exc)
    else:  # only an intact file loads, and then it is the model that was saved
        assert net.predict(np.ones((1, 3))).shape == (1, 2)
    os.remove(path)


def test_conv_option_builds_a_cnn_for_image_datasets(workdir, capsys):
    pytest.importorskip("sklearn")
    assert (
        run(
            "train",
            "--dataset",
            "digits",
            "--conv",
            "8",
            "--hidden",
            "32",
            "--epochs",
            "8",
            "--quiet",
            "--out",
            "cnn.npz",
        )
        == 0
    )
    accuracy = float(capsys.readouterr().out.split("accuracy")[1].split()[0])
    assert accuracy > 0.9
    net = cb.load("cnn.npz")
    assert net.input_shape == (1, 8, 8)
    assert [type(layer).__name__ for layer in net.layers][:3] == ["Conv2D", "MaxPool2D", "Flatten"]
    assert run("evaluate", "--model", "cnn.npz", "--dataset", "digits") == 0
    assert f"accuracy: {accuracy:.4f}" in capsys.readouterr().out


def test_conv_option_is_refused_for_plain_feature_rows(workdir, capsys):
    _write_classification_csv(workdir / "pets.csv")
    assert run("train", "--data", "pets.csv", "--target", "animal", "--conv", "8") == 2
    assert "--conv needs a built-in image or signal dataset" in _one_error_line(capsys)
