"""How the pickles in this folder were made: with cartoonbrain 0.1.0 as released (commit
b44ab22), whose networks pickled as {config, parameters, rng_state, optimizer} and whose
estimators kept their fitted network as a dict. Kept for the record; running it with a
later cartoonbrain writes that version's pickles, which is not what the tests need.

    git worktree add /tmp/v010 b44ab22
    PYTHONPATH=/tmp/v010/src .venv/bin/python tests/data/v0_1_0/make_pickles.py

``pickles_expected.npz`` holds, for each NAME.pkl, ``NAME.X`` (inputs) and ``NAME.P``
(what 0.1.0 predicted for them: ``predict`` of the network, ``predict_proba`` of the
classifier, ``predict`` of the regressor).
"""

import pickle
import warnings
from pathlib import Path

import numpy as np

import cartoonbrain as cb
from cartoonbrain.sklearn import NeuralNetClassifier, NeuralNetRegressor

HERE = Path(__file__).parent


def main() -> None:
    warnings.simplefilter("ignore")  # ConvergenceWarning of the short fits
    rng = np.random.default_rng(7)
    X = rng.normal(size=(40, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    net = cb.Network(
        [cb.Dense(4, 8, "relu"), cb.Dropout(0.2), cb.Dense(8, 3)], loss="cross_entropy", seed=3
    )
    net.fit(X, y, epochs=5, batch_size=8, optimizer="adam")
    classifier = NeuralNetClassifier(hidden_layer_sizes=(6,), max_iter=20, random_state=0)
    classifier.fit(X, np.array(["low", "mid", "high"])[y])
    regressor = NeuralNetRegressor(hidden_layer_sizes=(5,), max_iter=20, random_state=1)
    regressor.fit(X, X @ [1.0, -2.0, 0.5, 0.0])
    expected = {}
    for name, model, P in [
        ("network", net, net.predict(X[:6])),
        ("classifier", classifier, classifier.predict_proba(X[:6])),
        ("regressor", regressor, regressor.predict(X[:6])),
    ]:
        with open(HERE / f"{name}.pkl", "wb") as file:
            pickle.dump(model, file)
        expected[f"{name}.X"], expected[f"{name}.P"] = X[:6], P
    np.savez(HERE / "pickles_expected.npz", **expected)


if __name__ == "__main__":
    main()
