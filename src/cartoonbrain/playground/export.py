"""What the page's Export buttons give: the network as a model file, and as a script.

The model file is what ``net.save`` writes, so ``cb.load`` reads it. Its first layer takes
the features, not the raw point; the feature names and every setting are in its metadata
(``net.metadata["playground"]``), so it predicts what the page showed with

    net = cb.load("playground.npz")
    p = net.predict(transform(points, net.metadata["playground"]["features"]))

(``transform`` from :mod:`cartoonbrain.playground.features`). The script rebuilds the same
data and network with the library and trains it for the epochs the page has run.
"""

from __future__ import annotations

import os
import tempfile

from ..network import Network
from .settings import Settings

__all__ = ["model_bytes", "script"]


def model_bytes(net: Network) -> bytes:
    """The model file of ``net`` (``net.save``), as bytes."""
    with tempfile.TemporaryDirectory(prefix="cartoonbrain-playground-") as folder:
        path = os.path.join(folder, "playground.npz")
        net.save(path)
        with open(path, "rb") as file:
            return file.read()


_SCRIPT = '''"""Rebuild and train the network of a cartoonbrain playground page.

Settings: {summary}
"""

import cartoonbrain as cb
from cartoonbrain.playground.datasets import make, split
from cartoonbrain.playground.features import transform

FEATURES = {features!r}
points, labels = make({dataset!r}, n_points={n_points}, noise={noise!r}, seed={seed})
x_train, t_train, x_test, t_test = split(points, labels, train_share={train_share!r})
X_train, X_test = transform(x_train, FEATURES), transform(x_test, FEATURES)

net = cb.Network(
    [
{layers}
    ],
    loss="binary_cross_entropy",
    seed={seed},
    dtype="float64",
    l2={l2!r},
    metadata={{"playground": {{"features": FEATURES, "inputs": "features"}}}},
)
net.fit(
    X_train,
    t_train,
    epochs={epochs},
    batch_size={batch_size},
    optimizer={optimizer!r},
    learning_rate={learning_rate!r},
    validation_data=(X_test, t_test),
)
print("test loss and accuracy:", net.evaluate(X_test, t_test))
net.save("playground.npz")  # cb.load("playground.npz").predict(transform(points, FEATURES))
'''


def script(settings: Settings, epochs: int) -> str:
    """A Python script that rebuilds the page's data and network and trains ``epochs``."""
    layers, n_in = [], len(settings.features)
    for units in settings.hidden:
        layers.append(f"        cb.Dense({n_in}, {units}, activation={settings.activation!r}),")
        if settings.dropout:
            layers.append(f"        cb.Dropout({settings.dropout!r}),")
        n_in = units
    layers.append(f"        cb.Dense({n_in}, 1),  # the logit of class 1")
    s = settings
    summary = ", ".join(f"{k}={v}" for k, v in s.as_dict().items())
    return _SCRIPT.format(
        summary=summary,
        features=list(s.features),
        dataset=s.dataset,
        n_points=s.n_points,
        noise=s.noise,
        seed=s.seed,
        train_share=s.train_share,
        layers="\n".join(layers),
        l2=s.l2,
        epochs=max(1, epochs),
        batch_size=s.batch_size,
        optimizer=s.optimizer,
        learning_rate=s.learning_rate,
    )
