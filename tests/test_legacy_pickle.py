"""Pickles written by cartoonbrain 0.1.0 (tests/data/v0_1_0/make_pickles.py) load here and
predict what they predicted then: a network, a classifier and a regressor (joblib and
scikit-learn users keep fitted estimators this way)."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone

import cartoonbrain as cb
from cartoonbrain.saving.legacy_pickle import state_from_v0_1_0
from cartoonbrain.sklearn import NeuralNetClassifier, NeuralNetRegressor
from tolerance import assert_same_maths

V0_1_0 = Path(__file__).parent / "data" / "v0_1_0"
NAMES = ["network", "classifier", "regressor"]


def unpickle(name: str):
    with open(V0_1_0 / f"{name}.pkl", "rb") as file:
        return pickle.load(file)


def expected(name: str) -> tuple[np.ndarray, np.ndarray]:
    with np.load(V0_1_0 / "pickles_expected.npz") as saved:
        return saved[f"{name}.X"], saved[f"{name}.P"]


def predictions(name: str, model) -> np.ndarray:
    X, _ = expected(name)
    return model.predict_proba(X) if name == "classifier" else model.predict(X)


@pytest.mark.parametrize("name", NAMES)
def test_a_0_1_0_pickle_predicts_what_it_did(name):
    model = unpickle(name)
    _, P = expected(name)
    assert_same_maths(predictions(name, model), P, dtype=np.float32)


@pytest.mark.parametrize("name", NAMES)
def test_it_pickles_again_in_this_versions_form(name):
    model = unpickle(name)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(predictions(name, again), predictions(name, model))


def test_the_network_trains_on_with_its_optimizer():
    net = unpickle("network")
    assert isinstance(net, cb.Network) and isinstance(net.optimizer, cb.Adam)
    steps = net.optimizer.iterations
    assert steps > 0  # the state 0.1.0 pickled with it
    X, P = expected("network")
    net.fit(X, P.argmax(axis=1), epochs=1, batch_size=3)
    assert net.optimizer.iterations == steps + 2


@pytest.mark.parametrize("name", ["classifier", "regressor"])
def test_an_estimator_is_whole_again(name):
    """get_params has the parameters added since (at their defaults), clone works, and it
    fits again; the classifier keeps its labels."""
    model = unpickle(name)
    cls = NeuralNetClassifier if name == "classifier" else NeuralNetRegressor
    assert isinstance(model, cls)
    params = model.get_params()
    assert params.keys() == cls().get_params().keys()
    assert params["max_fun"] == cls().max_fun
    assert model.loss_ == model.loss_curve_[-1]
    clone(model)
    X, _ = expected(name)
    if name == "classifier":
        assert list(model.classes_) == ["high", "low", "mid"]
        assert set(model.predict(X)) <= set(model.classes_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of a short fit
        model.set_params(max_iter=3).fit(X, model.predict(X))


def test_a_damaged_0_1_0_state_is_refused_in_one_line():
    net = cb.Network([cb.Dense(2, 3), cb.Dense(3, 1)], seed=0)
    state = {"config": net.get_config(), "parameters": np.zeros(5), "rng_state": None}
    with pytest.raises(ValueError, match=r"holds 5 parameters; its architecture has 13"):
        state_from_v0_1_0(state)
    with pytest.raises(ValueError, match=r"expected one written by cartoonbrain 0.1.0"):
        state_from_v0_1_0({"weights": []})
