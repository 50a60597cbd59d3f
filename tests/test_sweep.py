"""``cartoonbrain sweep`` and the estimators under joblib's Dask backend, on a real local
cluster of two worker processes that this module starts once and stops at its end.

Same seeds, same batch sizes, same machine: a fit on a worker is the same computation as
the fit here, and on this machine it gives the same bits. The comparisons still allow
1e-9 (the networks train in float64): the workers run with one BLAS thread
(distributed sets OMP_NUM_THREADS=1 for them) while this process may use several, and a
BLAS is free to split a matrix product differently with more threads.
"""

from __future__ import annotations

import argparse
import csv
import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")
pytest.importorskip("sklearn")
from cartoonbrain.cli import CommandError, build_parser, main
from cartoonbrain.cli.sweep import (
    _options_parser,
    fold_rows,
    fold_tasks,
    grid_configs,
    sweep,
)
from cartoonbrain.cli.train import _data
from cartoonbrain.cluster import connect

RTOL = 1e-9


@pytest.fixture(scope="module")
def client():
    with connect(None, n_workers=2) as client:
        yield client


@pytest.fixture
def data_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(240, 4))
    labels = np.array(["ant", "bee", "cat"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)]
    path = tmp_path / "pets.csv"
    lines = ["w,x,y,z,label"] + [
        ",".join(f"{v:.5f}" for v in row) + f",{label}" for row, label in zip(X, labels)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _args(path: Path, *extra: str) -> argparse.Namespace:
    argv = ["sweep", "--data", str(path), "--target", "label", "--epochs", "3"]
    argv += ["--dtype", "float64", "--grid", "hidden=8,16x8", "--folds", "2", *extra]
    return build_parser().parse_args(argv)


def test_grid_values_are_parsed_as_train_parses_them():
    specs = ["hidden=64,128x64,none", "learning-rate=0.01,0.001", "activation=tanh"]
    configs = grid_configs(_options_parser(), specs, None, 0)
    assert len(configs) == 3 * 2 * 1
    assert [c["hidden"] for c in configs[::2]] == [(64,), (128, 64), ()]
    assert {c["learning_rate"] for c in configs} == {0.01, 0.001}


def test_random_search_draws_distinct_combinations_with_the_seed():
    specs = ["hidden=8,16,32", "batch-size=16,32,64"]
    one = grid_configs(_options_parser(), specs, 4, seed=3)
    assert one == grid_configs(_options_parser(), specs, 4, seed=3)
    assert len(one) == 4 and len({tuple(c.values()) for c in one}) == 4
    assert len(grid_configs(_options_parser(), specs, 100, seed=3)) == 9


def test_an_option_given_twice_in_the_grid_is_refused():
    with pytest.raises(CommandError, match="given twice"):
        grid_configs(_options_parser(), ["hidden=8", "hidden=16"], None, 0)


def test_folds_cover_every_row_once():
    folds = fold_rows(10, 3, seed=1)
    held_out = np.sort(np.concatenate([out for _, out in folds]))
    np.testing.assert_array_equal(held_out, np.arange(10))
    for train_rows, out in folds:
        assert not set(train_rows) & set(out) and len(train_rows) + len(out) == 10


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("seed=1,2", "NAME one of"),
        ("hidden=8,-1", "layer sizes"),
        ("schedule=step", "one of"),
        ("learning-rate=0", "positive"),
    ],
)
def test_a_bad_grid_is_one_line_before_any_work(spec, fragment, data_csv, capsys):
    argv = ["sweep", "--data", str(data_csv), "--target", "label", "--grid", spec]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and len(err.splitlines()) == 1


def test_a_sweep_on_worker_processes_equals_the_same_sweep_here(client, data_csv):
    args = _args(data_csv)
    data = _data(args)
    configs = grid_configs(_options_parser(), args.grid, None, 0)
    here = sweep(fold_tasks(args, data, configs), data.X, data.y)
    tasks = list(fold_tasks(args, data, configs))
    before = [task.net.flat_parameters.copy() for task in tasks]
    there = sweep(tasks, data.X, data.y, client, window=2)  # two out at a time
    assert os.getpid() not in client.run(os.getpid).values()  # other processes did the work
    assert len(there) == len(tasks) == 2 * 2
    for task, start, a, b in zip(tasks, before, here, there):
        assert "network" not in b and "error" not in b  # only the scores come back
        assert b["config"] == task.config and b["fold"] == task.fold
        np.testing.assert_allclose(b["loss"], a["loss"], rtol=RTOL, atol=0)
        np.testing.assert_allclose(b["accuracy"], a["accuracy"], rtol=RTOL, atol=0)
        np.testing.assert_array_equal(task.net.flat_parameters, start)  # trained on a worker


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_the_command_on_a_scheduler_writes_the_table_and_the_csv(client, data_csv, capsys):
    out_cluster, out_here = data_csv.with_name("cluster.csv"), data_csv.with_name("here.csv")
    common = ["sweep", "--data", str(data_csv), "--target", "label", "--epochs", "3"]
    common += ["--dtype", "float64", "--grid", "hidden=8,16x8", "--grid", "dropout=0,0.1"]
    address = client.scheduler.address
    assert main([*common, "--scheduler", address, "--out", str(out_cluster), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "rank" in printed and "accuracy" in printed and "16x8" in printed
    assert main([*common, "--workers", "0", "--out", str(out_here)]) == 0
    assert "[12/12]" in capsys.readouterr().out  # 4 combinations × 3 folds, one line each
    cluster, here = _read(out_cluster), _read(out_here)
    assert len(cluster) == 4 and list(cluster[0])[:4] == [
        "rank",
        "hidden",
        "dropout",
        "mean_accuracy",
    ]
    for a, b in zip(here, cluster):
        assert (a["hidden"], a["dropout"]) == (b["hidden"], b["dropout"])
        np.testing.assert_allclose(float(b["mean_loss"]), float(a["mean_loss"]), rtol=1e-8)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 5 epochs
def test_grid_search_cv_under_joblibs_dask_backend_equals_a_serial_search(client):
    import joblib
    from sklearn.model_selection import GridSearchCV

    from cartoonbrain.sklearn import NeuralNetClassifier

    rng = np.random.default_rng(1)
    X = rng.normal(size=(150, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    estimator = NeuralNetClassifier(max_iter=5, random_state=0, dtype="float64")
    grid = {"hidden_layer_sizes": [(8,), (16,)], "learning_rate_init": [0.01, 0.003]}
    serial = GridSearchCV(estimator, grid, cv=3).fit(X, y)
    with joblib.parallel_backend("dask"):
        spread = GridSearchCV(estimator, grid, cv=3).fit(X, y)
    np.testing.assert_allclose(
        spread.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"], atol=1e-12
    )
    assert spread.best_params_ == serial.best_params_
    np.testing.assert_allclose(
        spread.best_estimator_.predict_proba(X),
        serial.best_estimator_.predict_proba(X),
        rtol=RTOL,
        atol=1e-12,
    )
