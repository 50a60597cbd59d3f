"""The command line refuses every mistake that would lose a file or waste a run, before it
starts, in one line; and never gives a silently wrong answer.

Each guard is tested as a property over the set it covers: every command and every file
option it declares (``Files`` in its parser's defaults), every spelling of a path, every
kind of file, every exception type. A new command or file option is covered by declaring
it and giving it a recipe below (a test fails until it has one).
"""

from __future__ import annotations

import argparse
import builtins
import contextlib
import itertools
import os
import shutil
import signal
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

import cartoonbrain as cb
from cartoonbrain import cli
from cartoonbrain.cli import _inputs
from cartoonbrain.cli._files import CHECKPOINT, REPORT, Files, flag, output_path

# ---------------------------------------------------------------- the commands' files
#: a quick, valid run of each command that reads or writes files, in a folder holding
#: pets.csv and m.npz (a model trained on it)
RECIPES = {
    "train": ["train", "--data", "pets.csv", "--target", "animal", "--epochs", "1", "--quiet"],
    "evaluate": ["evaluate", "--model", "m.npz", "--data", "pets.csv"],
    "predict": ["predict", "--model", "m.npz", "--data", "pets.csv"],
    "export": ["export", "--model", "m.npz", "--out", "m.onnx"],
    "blog": ["blog", "--epochs", "1", "--samples", "4"],
    "sweep": "sweep --data pets.csv --target animal --grid hidden=4 --folds 2 --workers 0 "
    "--epochs 1 --quiet".split(),
    "playground": ["playground", "--port", "0", "--no-browser"],  # reads and writes no file
}
#: what an output of each kind needs to be written
NEEDS = {REPORT: "matplotlib", "onnx": "onnx"}


def _files() -> dict[str, Files]:
    parser = cli.build_parser()
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    commands = {name: p.get_default("files") for name, p in sub.choices.items()}
    return {name: files for name, files in commands.items() if files is not None}


FILES = _files()
OUTPUTS = [(c, o, k) for c, f in FILES.items() for o, k in f.outputs.items()]
INPUTS = [(c, i) for c, f in FILES.items() for i in f.inputs]
# an existing checkpoint is read too, with --resume
INPUTS += [(c, o) for c, o, k in OUTPUTS if k == CHECKPOINT]
PAIRS = [(c, o, k, i) for c, o, k in OUTPUTS for i in FILES[c].inputs]


def test_every_command_with_files_has_a_recipe():
    assert set(FILES) <= set(RECIPES)
    assert {"train", "predict", "export"} <= {c for c, _, _ in OUTPUTS}
    assert ("predict", "model") in INPUTS and ("train", "data") in INPUTS


def _write_pets(path: Path, n: int = 120) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    labels = np.where(X[:, 0] - X[:, 1] > 0, "cat", "dog")
    rows = [f"{a:.4f},{b:.4f},{c:.4f},{lab}" for (a, b, c), lab in zip(X, labels)]
    path.write_text("\n".join(["width,height,weight,animal", *rows]) + "\n")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("template")
    _write_pets(folder / "pets.csv")
    argv = [*RECIPES["train"], "--hidden", "8", "--out", str(folder / "m.npz")]
    argv[2] = str(folder / "pets.csv")
    assert cli.main(argv) == 0
    return folder


@pytest.fixture
def ws(template, tmp_path, monkeypatch, capsys) -> Path:
    """A working folder with pets.csv and m.npz, as the current folder."""
    for name in ("pets.csv", "m.npz"):
        shutil.copy(template / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    return tmp_path


def _set(argv: list[str], option: str, value: str | None) -> list[str]:
    """argv with ``option`` given ``value`` (a flag when value is None), replaced or added."""
    argv, name = list(argv), flag(option)
    if name in argv:
        at = argv.index(name)
        del argv[at : at + 2]
    return [*argv, name] if value is None else [*argv, name, value]


def _value(argv: list[str], option: str) -> str | None:
    return argv[argv.index(flag(option)) + 1] if flag(option) in argv else None


def _one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


def _listing(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b""
        for p in sorted(folder.rglob("*"))
    }


# ---------------------------------------------------------------- outputs
SPELLINGS = ["same", "dot", "absolute", "symlink", "hardlink"]


def _spelled(path: Path, spelling: str) -> str:
    """Another name for the file ``path`` (relative to the current folder)."""
    if spelling == "same":
        return str(path)
    if spelling == "dot":
        return f"./{path.parent}/./{path.name}"
    if spelling == "absolute":
        return str(path.resolve())
    alias = Path("alias")
    alias.mkdir(exist_ok=True)
    if spelling == "symlink":
        (alias / path.name).symlink_to(path.resolve())
    else:
        os.link(path, alias / path.name)
    return str(alias / path.name)


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("command, output, kind, input", PAIRS)
def test_no_output_may_be_one_of_the_inputs(command, output, kind, input, spelling, ws, capsys):
    argv = RECIPES[command]
    source = Path(_value(argv, input) or "")
    if kind == REPORT:  # DIR/report.html: put the input there
        (ws / "rep").mkdir()
        source = source.rename(Path("rep") / output_path(kind, ".").name)
        argv = _set(argv, input, str(source))
    alias = _spelled(source, spelling)
    value = os.path.dirname(alias) if kind == REPORT else alias
    before = _listing(ws)
    assert cli.main(_set(argv, output, value)) == 2
    line = _one_error_line(capsys)
    assert f"{flag(output)} " in line and "same file as" in line and flag(input) in line
    assert _listing(ws) == before  # the input is intact, nothing was written


OUTPUT_PAIRS = [
    (c, a, b) for c, f in FILES.items() for a, b in itertools.permutations(f.outputs.items(), 2)
]


@pytest.mark.parametrize("command, first, second", OUTPUT_PAIRS)
def test_no_two_outputs_may_be_the_same_file(command, first, second, ws, capsys):
    (option_a, kind_a), (option_b, kind_b) = first, second
    path = Path("both") / output_path(REPORT, ".").name
    path.parent.mkdir()
    argv = RECIPES[command]
    argv = _set(argv, option_a, str(path.parent if kind_a == REPORT else path))
    argv = _set(argv, option_b, str(path.parent if kind_b == REPORT else path))
    assert cli.main(argv) == 2
    assert "same file as" in _one_error_line(capsys)
    assert not path.exists()


def _content(kind: str, ws: Path) -> bytes:
    """A file of each kind a user may have at an output's path."""
    if kind == "model":
        return (ws / "m.npz").read_bytes()
    if kind == "csv":
        return (ws / "pets.csv").read_bytes()
    if kind == "zip":
        with zipfile.ZipFile(ws / "other.zip", "w") as z:
            z.writestr("notes.txt", "not a model")
        data = (ws / "other.zip").read_bytes()
        (ws / "other.zip").unlink()
        return data
    return bytes([8, 8, 18, 12]) + b"protobuf\x00\x01\x02"  # binary, as an ONNX file


#: the content kinds each output kind may replace without --force
SAME_KIND = {"model": {"model"}, "checkpoint": set(), "csv": {"csv"}, "report": {"csv"}}
SAME_KIND["onnx"] = {"binary"}


@pytest.mark.parametrize("content", ["model", "csv", "zip", "binary"])
@pytest.mark.parametrize("command, output, kind", OUTPUTS)
def test_an_existing_file_of_another_kind_is_kept_unless_force(
    command, output, kind, content, ws, capsys
):
    if content in SAME_KIND[kind]:
        pytest.skip("a file of the kind written is replaced, as before")
    value = "existing"
    target = output_path(kind, value)
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(_content(content, ws))
    before = target.read_bytes()
    argv = _set(RECIPES[command], output, value)
    assert cli.main(argv) == 2
    line = _one_error_line(capsys)
    assert f"{flag(output)} {target}" in line and "--force" in line
    assert target.read_bytes() == before
    if kind in NEEDS:
        pytest.importorskip(NEEDS[kind])
    assert cli.main([*argv, "--force"]) == 0, capsys.readouterr().err
    assert target.read_bytes() != before


@pytest.mark.parametrize("case", ["missing folder", "a file as folder"])
@pytest.mark.parametrize("command, output, kind", OUTPUTS)
def test_every_output_folder_is_checked_before_any_work(command, output, kind, case, ws, capsys):
    if case == "missing folder":
        if kind == REPORT:
            pytest.skip("a report's folder is created")
        value = "no/such/folder/out"
    else:
        value = "pets.csv/out"
    before = _listing(ws)
    assert cli.main(_set(RECIPES[command], output, value)) == 2
    line = _one_error_line(capsys)
    assert flag(output) in line and ("does not exist" in line or "not a folder" in line)
    assert capsys.readouterr().out == ""  # nothing ran
    assert _listing(ws) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in any folder")
@pytest.mark.parametrize("command, output, kind", OUTPUTS)
def test_an_unwritable_output_folder_is_refused_before_any_work(command, output, kind, ws, capsys):
    (ws / "locked").mkdir(mode=0o555)
    value = str(Path("locked") / "out")
    assert cli.main(_set(RECIPES[command], output, value)) == 2
    assert "cannot write in the folder locked" in _one_error_line(capsys)


@pytest.mark.parametrize("command, output, kind", OUTPUTS)
def test_a_failed_write_names_the_users_file_never_a_temporary(
    command, output, kind, ws, capsys, monkeypatch
):
    """A full disk while writing: the line names the output, the old file stays."""
    if kind in NEEDS:
        pytest.importorskip(NEEDS[kind])
    value = "kept"
    target = output_path(kind, value)
    argv = _set(RECIPES[command], output, value)
    if kind != CHECKPOINT:
        assert cli.main(argv) == 0  # a first, good file
    capsys.readouterr()
    before = _listing(ws)

    def full(fd, fsync=os.fsync):  # only the writes of the output under test
        if target.name in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(28, "No space left on device")
        fsync(fd)

    monkeypatch.setattr(os, "fsync", full)
    assert cli.main([*argv, "--force"]) == 2
    line = _one_error_line(capsys)
    assert f"{target}: No space left on device" in line and ".tmp" not in line
    listing = _listing(ws)
    assert not [name for name in listing if name.endswith(".tmp")]
    if kind != CHECKPOINT:
        assert listing[str(target)] == before[str(target)]


def test_a_diverging_run_never_replaces_an_existing_model(ws, capsys):
    before = (ws / "m.npz").read_bytes()
    argv = ["train", "--data", "pets.csv", "--target", "animal", "--quiet", "--out", "m.npz"]
    argv += ["--optimizer", "sgd", "--learning-rate", "1e9", "--schedule", "constant"]
    assert cli.main(argv) == 2
    line = _one_error_line(capsys)
    assert "saved to m.diverged.npz" in line and "m.npz is kept" in line
    assert (ws / "m.npz").read_bytes() == before
    assert np.isfinite(cb.load(ws / "m.diverged.npz").flat_parameters).all()


# ---------------------------------------------------------------- checkpoints
def _train_checkpoint(*extra: str) -> list[str]:
    return [*RECIPES["train"], "--checkpoint", "ck.npz", "--out", "out.npz", *extra]


def test_an_existing_checkpoint_is_continued_or_replaced_only_when_asked(ws, capsys):
    assert cli.main(_train_checkpoint()) == 0
    before = (ws / "ck.npz").read_bytes()
    capsys.readouterr()
    assert cli.main(_set(_train_checkpoint(), "epochs", "3")) == 2
    line = _one_error_line(capsys)
    assert "--resume" in line and "--force" in line and "ck.npz" in line
    assert (ws / "ck.npz").read_bytes() == before
    assert cli.main(_set(_train_checkpoint("--resume"), "epochs", "2")) == 0
    assert cb.load(ws / "ck.npz").optimizer.iterations > 0
    assert cli.main(_train_checkpoint("--force")) == 0


SETTINGS = {"seed": "5", "test_split": "0.3", "validation_split": "0.2"}
CHANGES = [c for r in range(1, 4) for c in itertools.combinations(SETTINGS, r)]


@pytest.mark.parametrize("changed", CHANGES, ids="+".join)
def test_resume_refuses_changed_seed_or_splits_naming_them(changed, ws, capsys):
    assert cli.main(_train_checkpoint()) == 0
    before = (ws / "ck.npz").read_bytes()
    capsys.readouterr()
    argv = _set(_train_checkpoint("--resume"), "epochs", "2")
    for key in changed:
        argv = _set(argv, key, SETTINGS[key])
    assert cli.main(argv) == 2
    line = _one_error_line(capsys)
    for key in SETTINGS:
        assert (flag(key) in line) == (key in changed), line
    assert (ws / "ck.npz").read_bytes() == before


# ---------------------------------------------------------------- inputs
@contextlib.contextmanager
def _deadline(seconds: int):
    """Fail instead of hanging (a FIFO that blocks)."""

    def timeout(signum, frame):
        raise TimeoutError("blocked")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("what", ["a folder", "a FIFO", "a character device"])
@pytest.mark.parametrize("command, input", INPUTS)
def test_inputs_are_regular_files_refused_at_once_otherwise(command, input, what, ws, capsys):
    path = {"a folder": "folder", "a FIFO": "fifo", "a character device": "/dev/zero"}[what]
    if what == "a folder":
        os.mkdir(path)
    elif what == "a FIFO":
        os.mkfifo(path)
    argv = _set(RECIPES[command], input, path)
    if input == "checkpoint":
        argv.append("--resume")
    with _deadline(20):
        assert cli.main(argv) == 2
    line = _one_error_line(capsys)
    assert f"{path}: is {what}" in line
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("hidden", ["50000000,50000000", "1000000000", "4000000,4000000,4000000"])
def test_a_huge_network_fails_at_once_before_allocating(hidden, ws, capsys):
    tracemalloc.start()
    try:
        assert cli.main(_set(RECIPES["train"], "hidden", hidden)) == 2
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    line = _one_error_line(capsys)
    assert f"--hidden {hidden} makes a network of" in line and "GiB" in line
    assert peak < 50 * 2**20
    assert not (ws / "model.npz").exists()


# ---------------------------------------------------------------- errors
def _exception_types() -> list[type[Exception]]:
    """Every built-in exception that can be raised with one message."""
    types = []
    for value in vars(builtins).values():
        if isinstance(value, type) and issubclass(value, Exception):
            if issubclass(value, (Warning, BrokenPipeError)):
                continue
            with contextlib.suppress(TypeError):
                value("boom")
                types.append(value)
    return sorted(types, key=lambda t: t.__name__)


@pytest.mark.parametrize("error", _exception_types(), ids=lambda t: t.__name__)
@pytest.mark.parametrize("command", ["train", "predict"])
def test_any_error_from_the_library_is_one_line_and_debug_shows_it(
    command, error, ws, capsys, monkeypatch
):
    def fail(*args, **kwargs):
        raise error("boom")

    monkeypatch.setattr(cb, "load", fail)
    monkeypatch.setattr("cartoonbrain.cli._source.read_training_csv", fail)
    assert cli.main(RECIPES[command]) == 2
    assert _one_error_line(capsys).startswith(f"cartoonbrain {command}: error: ")
    with pytest.raises(error):
        cli.main(["--debug", *RECIPES[command]])


# ---------------------------------------------------------------- no silent wrong answer
@pytest.mark.parametrize("command", ["predict", "evaluate"])
@pytest.mark.parametrize("row", [0, 7, 119])
@pytest.mark.parametrize("value", ["1e300", "-1.7e308", "5e39"])
def test_a_value_that_cannot_be_scaled_into_the_model_names_its_row(
    command, row, value, ws, capsys
):
    lines = (ws / "pets.csv").read_text().splitlines()
    fields = lines[row + 1].split(",")
    fields[1] = value
    lines[row + 1] = ",".join(fields)
    (ws / "far.csv").write_text("\n".join(lines) + "\n")
    argv = _set(RECIPES[command], "data", "far.csv")
    if command == "predict":  # by default the row keeps its place, its reason on stderr
        assert cli.main(argv) == 1
        out, err = capsys.readouterr()
        assert len(out.splitlines()) == len(lines) and f"far.csv: row {row + 2}" in err
        argv = _set(argv, "on_error", "fail")
    assert cli.main(argv) == 2
    line = _one_error_line(capsys)
    assert f"far.csv: row {row + 2}" in line


@pytest.mark.parametrize("command", ["predict", "evaluate"])
@pytest.mark.parametrize("row", [0, 3, 9])
def test_a_prediction_that_overflows_from_finite_inputs_names_its_row(command, row, ws, capsys):
    meta = {"task": "regression", "feature_names": ["a", "b"], "target": "t"}
    net = cb.Network([cb.Dense(2, 1)], metadata=meta)
    net.layers[0].W[...] = 3e38  # a = 3e38 (a + b): 6e38 overflows float32 when a = b = 1
    net.layers[0].b[...] = 0
    net.save(ws / "huge.npz")
    rows = ["1,1,0" if i == row else "0,0,0" for i in range(10)]
    (ws / "rows.csv").write_text("\n".join(["a,b,t", *rows]) + "\n")
    argv = [command, "--model", "huge.npz", "--data", "rows.csv"]
    if command == "predict":  # by default: the other rows predicted, this one reported
        assert cli.main(argv) == 1
        out, err = capsys.readouterr()
        assert out.splitlines()[row + 1] in ("", '""')  # one empty cell, quoted by csv
        assert f"rows.csv: row {row + 2}: the prediction is [inf]" in err
        argv += ["--on-error", "fail"]
    assert cli.main(argv) == 2
    line = _one_error_line(capsys)
    assert f"rows.csv: row {row + 2}: the prediction is [inf]" in line


def test_predict_rows_names_the_first_row_whose_prediction_is_not_finite():
    net = cb.Network([cb.Dense(2, 2)], seed=0)
    X = np.ones((5, 2))
    np.testing.assert_array_equal(
        _inputs.predict_rows(net, X, lambda i: f"row {i}"), net.predict(X)
    )
    X[3, 1], X[4, 0] = 3e38, 3e38
    with pytest.raises(ValueError, match=r"^row 3: the prediction is \[.*(inf|nan).*\] although"):
        _inputs.predict_rows(net, X, lambda i: f"row {i}")


def test_a_feature_near_1e154_is_standardised_not_zeroed(ws, capsys):
    lines = (ws / "pets.csv").read_text().splitlines()
    rng = np.random.default_rng(3)
    big = [f"{v:.6e}" for v in rng.normal(size=len(lines) - 1) * 1e154 + 3e154]
    text = [lines[0] + ",big"] + [f"{a},{b}" for a, b in zip(lines[1:], big)]
    (ws / "big.csv").write_text("\n".join(text) + "\n")
    argv = _set(_set(RECIPES["train"], "data", "big.csv"), "out", "big.npz")
    assert cli.main(argv) == 0
    big = cb.load(ws / "big.npz").preprocessor.columns_[-1]
    assert big["name"] == "big" and 0.5e154 < big["scale"] < 2e154 and 2e154 < big["mean"] < 4e154
    assert cli.main(["predict", "--model", "big.npz", "--data", "big.csv"]) == 0


@pytest.mark.parametrize("row", [0, 5, 19])
@pytest.mark.parametrize("value", ["inf", "-1e999"])
def test_evaluate_names_a_target_that_is_not_a_finite_number(row, value, ws, capsys):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20, 2))
    lines = ["x1,x2,price"] + [f"{a:.5f},{b:.5f},{3 * a - b:.5f}" for a, b in X]
    (ws / "houses.csv").write_text("\n".join(lines) + "\n")
    argv = ["train", "--data", "houses.csv", "--target", "price", "--epochs", "1", "--quiet"]
    assert cli.main([*argv, "--out", "h.npz"]) == 0
    lines[row + 1] = lines[row + 1].rsplit(",", 1)[0] + "," + value
    (ws / "bad.csv").write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    assert cli.main(["evaluate", "--model", "h.npz", "--data", "bad.csv"]) == 2
    assert f"bad.csv: row {row + 2}, column 'price'" in _one_error_line(capsys)


@pytest.mark.parametrize("value", ["nan", "NA", "", "?"])
def test_evaluate_leaves_out_a_row_whose_target_is_missing_with_a_note(value, ws, capsys):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20, 2))
    lines = ["x1,x2,price"] + [f"{a:.5f},{b:.5f},{3 * a - b:.5f}" for a, b in X]
    (ws / "houses.csv").write_text("\n".join(lines) + "\n")
    argv = ["train", "--data", "houses.csv", "--target", "price", "--epochs", "1", "--quiet"]
    assert cli.main([*argv, "--out", "h.npz"]) == 0
    lines[4] = lines[4].rsplit(",", 1)[0] + "," + value
    (ws / "gap.csv").write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    assert cli.main(["evaluate", "--model", "h.npz", "--data", "gap.csv"]) == 0
    assert "note: left out 1 rows whose target 'price' is missing" in capsys.readouterr().out
