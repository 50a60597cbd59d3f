"""``cartoonbrain predict --out`` end to end under a kill, a full disk and a concurrent
writer: the predictions file is the old one or a complete new one, never a half one, and
what a killed run leaves is cleaned by the next.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cartoonbrain.cli import main
from csv_files import write_csv

#: predict in a child, slowed after its first chunk (so it can be killed mid-file)
_SLOW = """
import sys, time
import cartoonbrain.cli.predict as predict
from cartoonbrain.data import stream
stream.CHUNK_BYTES = 8 * 16 * 50  # 50 rows a chunk
real, calls = predict._predict_chunk, []
def slow(*args):
    calls.append(1)
    if len(calls) == 3:
        print("predicting", flush=True)
        time.sleep(float(sys.argv[1]))
    return real(*args)
predict._predict_chunk = slow
from cartoonbrain.cli import main
sys.exit(main(sys.argv[2:]))
"""
_LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
from cartoonbrain.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("surfaces")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 3))
    rows = [[*x, "yes" if x[0] > 0 else "no"] for x in X]
    data = write_csv(folder / "d.csv", ["a", "b", "c", "label"], rows)
    argv = ["train", "--data", str(data), "--target", "label", "--epochs", "1", "--hidden", "4"]
    assert main([*argv, "--out", str(folder / "m.npz"), "--quiet"]) == 0
    return folder, data


def _child(script: str, *argv: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(
        [sys.executable, "-c", script, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _predict_argv(folder: Path, data: Path, out: Path) -> list[str]:
    return ["predict", "--model", str(folder / "m.npz"), "--data", str(data), "--out", str(out)]


def _temporaries(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_a_predict_killed_midway_leaves_the_old_predictions(model, tmp_path, capsys):
    folder, data = model
    out = tmp_path / "p.csv"
    out.write_text("the old predictions\n")
    child = _child(_SLOW, "30", *_predict_argv(folder, data, out), "--force")
    assert child.stdout is not None and child.stdout.readline().strip() == "predicting"
    assert _temporaries(tmp_path)  # the new file is being written beside it
    child.send_signal(signal.SIGKILL)
    child.communicate()
    assert out.read_text() == "the old predictions\n"
    assert main([*_predict_argv(folder, data, out), "--force"]) == 0
    assert len(out.read_text().splitlines()) == 2001
    assert not _temporaries(tmp_path)  # the killed run's temporary is gone


def test_two_predicts_writing_one_file_leave_one_complete_file(model, tmp_path):
    """A concurrent writer of the same --out: each writes its own temporary and renames
    it, so the file is one run's whole output, never a mix."""
    folder, data = model
    short = write_csv(tmp_path / "short.csv", ["a", "b", "c"], [[0.5, 0.1, 0.2]] * 300)
    out = tmp_path / "p.csv"
    children = [
        _child(_SLOW, "0.5", *_predict_argv(folder, source, out), "--force")
        for source in (data, short)
    ]
    for child in children:
        _, err = child.communicate()
        assert child.returncode == 0, err
    lines = out.read_text().splitlines()
    assert len(lines) in (2001, 301)
    assert lines[0] == "prediction,p_no,p_yes"
    assert all(line.count(",") == 2 for line in lines)
    assert not _temporaries(tmp_path)


def test_a_csv_growing_while_it_is_predicted_gives_a_well_formed_file(model, tmp_path):
    """A writer appending rows while predict reads: predictions for the rows read, each
    complete (the appended rows are whole lines), exit 0."""
    folder, data = model
    growing = tmp_path / "growing.csv"
    growing.write_bytes(data.read_bytes())
    out = tmp_path / "p.csv"
    child = _child(_SLOW, "1", *_predict_argv(folder, growing, out))
    assert child.stdout is not None and child.stdout.readline().strip() == "predicting"
    with open(growing, "a") as f:
        f.writelines("0.1,0.2,0.3,yes\n" for _ in range(500))
    _, err = child.communicate()
    assert child.returncode == 0, err
    lines = out.read_text().splitlines()
    assert 2001 <= len(lines) <= 2501 and all(line.count(",") == 2 for line in lines)


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="POSIX file size limits")
def test_a_full_disk_while_predicting_names_the_output_and_keeps_the_old_one(model, tmp_path):
    """The kernel refuses writes past 20,000 bytes (RLIMIT_FSIZE) in a child."""
    folder, data = model
    out = tmp_path / "p.csv"
    out.write_text("the old predictions\n")
    child = _child(_LIMITED, *_predict_argv(folder, data, out), "--force")
    _, err = child.communicate()
    assert child.returncode == 2, err
    assert err.count("\n") == 1 and f"{out}: File too large" in err, err
    assert out.read_text() == "the old predictions\n"
    assert not _temporaries(tmp_path)
