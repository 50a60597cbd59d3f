"""A 2-D CNN on mnist5k against the MLP of benchmark job A, same data, same optimizer.

    python examples/cnn_mnist5k.py          # about half a minute on 2 cores

MLP: 784-256-128-10 ReLU (job A: Adam 1e-3, batch 64, 30 epochs). CNN: two blocks of a
3×3 convolution (16, then 32 channels, 'same' padding, ReLU) and a 2×2 max-pool, then
Dense 1568-128-10, Adam 1e-3, batch 64, 10 epochs. Prints both test accuracies.
"""

from __future__ import annotations

import time

import numpy as np

import cartoonbrain as cb


def main() -> None:
    data = cb.datasets.load("mnist5k")
    X, X_test = data.X_train.astype(np.float32), data.X_test.astype(np.float32)
    y, y_test = data.y_train, data.y_test

    mlp = cb.Network(
        [
            cb.Dense(784, 256, activation="relu"),
            cb.Dense(256, 128, activation="relu"),
            cb.Dense(128, 10),
        ],
        loss="cross_entropy",
        seed=0,
    )
    cnn = cb.Network(
        [
            cb.Conv2D(1, 16, 3, padding=1, activation="relu"),
            cb.MaxPool2D(2),
            cb.Conv2D(16, 32, 3, padding=1, activation="relu"),
            cb.MaxPool2D(2),
            cb.Flatten(),
            cb.Dense(32 * 7 * 7, 128, activation="relu"),
            cb.Dense(128, 10),
        ],
        loss="cross_entropy",
        seed=0,
        input_shape=(1, 28, 28),
    )
    images, images_test = X.reshape(-1, 1, 28, 28), X_test.reshape(-1, 1, 28, 28)
    for name, net, inputs, tests, epochs in (
        ("MLP 784-256-128-10", mlp, X, X_test, 30),
        ("CNN 2×(conv3×3+pool)", cnn, images, images_test, 10),
    ):
        start = time.perf_counter()
        net.fit(inputs, y, epochs=epochs, batch_size=64, optimizer=cb.Adam(learning_rate=1e-3))
        seconds = time.perf_counter() - start
        accuracy = net.evaluate(tests, y_test)["accuracy"]
        print(f"{name:<24} test accuracy {accuracy:.1%}  ({epochs} epochs, {seconds:.1f} s)")


if __name__ == "__main__":
    main()
