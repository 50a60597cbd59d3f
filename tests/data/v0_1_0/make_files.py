"""How the files in this folder were made: with cartoonbrain 0.1.0 (commit 83534d3), before
the persistence layers were split (io/ package). Kept for the record; running it with a
later cartoonbrain writes that version's files, which is not what the tests need.

    .venv/bin/python tests/data/v0_1_0/make_files.py

Each ``NAME.npz`` is a model (or checkpoint) file; ``expected.npz`` holds, for each NAME,
``NAME.X`` (inputs) and ``NAME.P`` (what ``cb.load(NAME.npz).predict(X)`` gave);
``checkpoint.json`` holds what restoring the checkpoint gives back, and ``expected.npz``
the data it was trained on and the weights a resumed run ends with.
"""

import json
from pathlib import Path

import numpy as np

import cartoonbrain as cb

HERE = Path(__file__).parent


def dense_classifier() -> tuple[cb.Network, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    net = cb.Network(
        [cb.Dense(4, 8, "relu"), cb.Dropout(0.2), cb.Dense(8, 3)],
        loss="cross_entropy",
        seed=3,
        metadata={"classes": ["low", "mid", "high"]},
    )
    net.fit(X, y, epochs=5, batch_size=16)
    return net, X[:10]


def regressor() -> tuple[cb.Network, np.ndarray]:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 3))
    y = np.stack([X @ [1.0, -2.0, 0.5], np.sin(X[:, 0])], axis=1)
    net = cb.Network(
        [cb.Dense(3, 5, "tanh"), cb.Dense(5, 2)],
        loss="mse",
        seed=4,
        dtype="float64",
        l2=0.001,
        metadata={
            "feature_names": ["a", "b", "c"],
            "target_names": ["y1", "y2"],
            "scaling": {"mean": [0.1, -0.2, 0.3], "std": [1.0, 2.0, 0.5]},
        },
    )
    net.fit(X, y, epochs=5, batch_size=10, optimizer="sgd", learning_rate=0.05)
    return net, X[:8]


def cnn() -> tuple[cb.Network, np.ndarray]:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(24, 1, 6, 6))
    y = (X[:, 0, :3].sum(axis=(1, 2)) > 0).astype(int)
    net = cb.Network(
        [
            cb.Conv2D(1, 2, 3, padding=1, activation="relu"),
            cb.MaxPool2D(2),
            cb.Flatten(),
            cb.Dense(18, 1),
        ],
        loss="binary_cross_entropy",
        seed=5,
        input_shape=(1, 6, 6),
    )
    net.fit(X, y, epochs=3, batch_size=8)
    return net, X[:6]


def checkpoint() -> tuple[dict, dict]:
    """A run cut after 3 epochs of 12, with Adam and EarlyStopping; and where it ends."""
    rng = np.random.default_rng(6)
    X = rng.normal(size=(40, 3))
    y = (X.sum(axis=1) > 0).astype(int)

    def train(epochs: int, path: Path) -> tuple[cb.Network, cb.History, cb.EarlyStopping]:
        net = cb.Network([cb.Dense(3, 4, "tanh"), cb.Dense(4, 2)], "cross_entropy", seed=7)
        stop = cb.EarlyStopping(patience=4, min_delta=0.05)
        history = net.fit(
            X,
            y,
            epochs=epochs,
            batch_size=8,
            validation_split=0.25,
            callbacks=[stop],
            checkpoint=path,
            resume=True,
        )
        return net, history, stop

    path = HERE / "checkpoint.npz"
    path.unlink(missing_ok=True)
    _, history, stop = train(3, path)
    saved = path.read_bytes()
    resumed, resumed_history, _ = train(12, path)
    path.write_bytes(saved)  # the file as it was after 3 epochs
    arrays = {"train_X": X, "train_y": y, "resumed_parameters": resumed.flat_parameters}
    return arrays, {
        "epoch": 3,
        "history": history.history,
        "history_epochs": history.epoch,
        "early_stopping": {"best": stop.best, "best_epoch": stop.best_epoch, "wait": stop.wait},
        "optimizer_iterations": 12,
        "resumed_epochs": resumed_history.epoch,
        "resumed_history": resumed_history.history,
    }


def main() -> None:
    expected = {}
    for name, make in [("dense_classifier", dense_classifier), ("regressor", regressor)]:
        net, X = make()
        net.save(HERE / f"{name}.npz")
        expected[f"{name}.X"], expected[f"{name}.P"] = X, net.predict(X)
    net, X = cnn()
    net.save(HERE / "cnn.npz", include_optimizer=True)
    expected["cnn.X"], expected["cnn.P"] = X, net.predict(X)
    arrays, info = checkpoint()
    expected.update({f"checkpoint.{k}": v for k, v in arrays.items()})
    loaded = cb.load(HERE / "checkpoint.npz")
    X = arrays["train_X"][:5]
    expected["checkpoint.X"], expected["checkpoint.P"] = X, loaded.predict(X)
    np.savez(HERE / "expected.npz", **expected)
    (HERE / "checkpoint.json").write_text(json.dumps(info, indent=1) + "\n")


if __name__ == "__main__":
    main()
