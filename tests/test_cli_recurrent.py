"""cartoonbrain train --rnn: a recurrent classifier for the sequence datasets."""

import numpy as np
import pytest

import cartoonbrain as cb
from cartoonbrain.cli import main

pytest.importorskip("mnist1d")


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


GRU_RECIPE = ["--rnn", "gru", "--rnn-units", "6", "--bidirectional", "--all-steps"]


def test_the_papers_gru_from_the_command_line(workdir, capsys):
    argv = ["train", "--dataset", "mnist1d", *GRU_RECIPE, "--hidden", "none"]
    assert main([*argv, "--epochs", "2", "--quiet", "--out", "gru.npz"]) == 0
    net = cb.load("gru.npz")
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds == ["GRU", "Flatten", "Dense"]  # 40 steps × 2 directions × 6 units → 10
    gru = net.layers[0]
    assert net.input_shape == (40, 1) and gru.bidirectional and gru.return_sequences
    assert net.layers[2].n_in == 40 * 2 * 6
    capsys.readouterr()
    assert main(["evaluate", "--model", "gru.npz", "--dataset", "mnist1d"]) == 0
    accuracy = float(capsys.readouterr().out.split("accuracy:")[1].split()[0])
    assert 0.1 < accuracy <= 1.0


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_each_recurrent_kind_reads_digits_row_by_row(workdir, kind):
    argv = ["train", "--dataset", "digits", "--rnn", kind, "--rnn-units", "8", "--epochs", "1"]
    assert main([*argv, "--quiet", "--out", "m.npz"]) == 0
    net = cb.load("m.npz")
    assert net.input_shape == (8, 8)  # 8 steps (image rows) of 8 features
    assert type(net.layers[0]).__name__ == {"rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}[kind]
    X = np.random.default_rng(0).uniform(0, 16, size=(3, 8, 8))
    assert net.predict(X).shape == (3, 10)


def test_rnn_is_refused_for_feature_rows_and_with_conv(workdir, capsys):
    rows = ["a,b,label"] + [f"{i},{i % 3},{'x' if i % 2 else 'y'}" for i in range(30)]
    (workdir / "rows.csv").write_text("\n".join(rows) + "\n")
    assert main(["train", "--data", "rows.csv", "--target", "label", "--rnn", "gru"]) == 2
    assert "--rnn needs a built-in one-channel signal or image dataset" in capsys.readouterr().err
    argv = ["train", "--dataset", "mnist1d", "--rnn", "gru", "--conv", "8"]
    assert main(argv) == 2
    assert "--rnn and --conv build different networks" in capsys.readouterr().err
