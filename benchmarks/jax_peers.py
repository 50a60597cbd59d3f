"""JAX and Keras 3 (on JAX) as peers of benchmarks/mlp.py and scaling.py, written as their
users write them.

* "jax": a ``jax.jit``-compiled train step (forward, ``jax.value_and_grad``, optax's Adam),
  fed NumPy mini-batches by a Python loop; the parameters and Adam's state are donated to
  the step, so XLA updates them in place.
* "jax_scan": the whole epoch as one compiled function: a permutation drawn with
  ``jax.random``, the batches gathered on the device and the steps run by ``lax.scan``
  (the last, shorter batch by one more step in the same function).
* "keras": ``keras.Sequential`` of ``Dense`` layers, compiled with ``jit_compile=True``
  and trained by ``model.fit`` (KERAS_BACKEND=jax).

Each system keeps its own default initialisation, except that JAX, which has none, uses
PyTorch's (U(±1/√n_in) for weights and biases) — the rule cartoonbrain's peers are judged
by. Compiling is timed apart: ``jit(...).lower(...).compile()`` ahead of time, so that a
run reports its time with the compile and its steady state without it (Keras compiles
inside ``fit``: its time includes the compile). JAX's CPU backend runs on every core, as
NumPy's BLAS and PyTorch do. float64 switches on ``jax_enable_x64`` (Keras: floatx).

Nothing here is imported unless a worker runs one of these systems.
"""

from __future__ import annotations

import os
import time
from itertools import pairwise
from typing import Any

import numpy as np

SYSTEMS = ("jax", "jax_scan", "keras")
NAMES = {"jax": "JAX, jit step", "jax_scan": "JAX, lax.scan epoch", "keras": "Keras 3 (JAX)"}
MODULES = {"jax": "jax", "jax_scan": "jax", "keras": "keras"}


def setup(system: str, dtype: str) -> None:
    """Before the first import: the backend and the dtype."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import jax

    jax.config.update("jax_enable_x64", dtype == "float64")
    jax.numpy.zeros(1).block_until_ready()  # the backend starts here, not in a compile
    if system == "keras":
        import keras

        keras.config.set_floatx(dtype)


# ---------------------------------------------------------------------- JAX: the model
def init(sizes: tuple[int, ...], seed: int, dtype: str) -> list[tuple[Any, Any]]:
    """[(W, b)] with W of shape (n_out, n_in), PyTorch's U(±1/√n_in) for W and b."""
    import jax
    import jax.numpy as jnp

    keys = jax.random.split(jax.random.PRNGKey(seed), 2 * (len(sizes) - 1))
    params = []
    for (n_in, n_out), kw, kb in zip(pairwise(sizes), keys[0::2], keys[1::2]):
        bound = 1 / np.sqrt(n_in)
        W = jax.random.uniform(kw, (n_out, n_in), jnp.dtype(dtype), -bound, bound)
        b = jax.random.uniform(kb, (n_out,), jnp.dtype(dtype), -bound, bound)
        params.append((W, b))
    return params


def forward(params: list[tuple[Any, Any]], x: Any) -> Any:
    """Logits: ReLU after every layer but the last."""
    import jax

    for W, b in params[:-1]:
        x = jax.nn.relu(x @ W.T + b)
    W, b = params[-1]
    return x @ W.T + b


def make_step(learning_rate: float) -> tuple[Any, Any]:
    """(optax's Adam, the train step (params, state, x, y) -> (params, state, loss)), to be
    jitted alone or inside an epoch."""
    import jax
    import optax

    optimizer = optax.adam(learning_rate)

    def loss(params: Any, x: Any, y: Any) -> Any:
        logits = forward(params, x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    def step(params: Any, state: Any, x: Any, y: Any) -> tuple[Any, Any, Any]:
        value, grads = jax.value_and_grad(loss)(params, x, y)
        updates, state = optimizer.update(grads, state, params)
        return optax.apply_updates(params, updates), state, value

    return optimizer, step


def make_epoch(step: Any, n: int, batch_size: int) -> Any:
    """The jitted epoch (params, state, X, y, key) -> (params, state): a permutation, the
    full batches under lax.scan, then the last shorter batch (if any)."""
    import jax

    full = n // batch_size

    def epoch(params: Any, state: Any, X: Any, y: Any, key: Any) -> tuple[Any, Any]:
        order = jax.random.permutation(key, n)
        head = order[: full * batch_size].reshape(full, batch_size)

        def body(carry: Any, index: Any) -> tuple[Any, None]:
            p, s, _ = step(*carry, X[index], y[index])
            return (p, s), None

        (params, state), _ = jax.lax.scan(body, (params, state), head)
        if full * batch_size < n:
            tail = order[full * batch_size :]
            params, state, _ = step(params, state, X[tail], y[tail])
        return params, state

    return jax.jit(epoch, donate_argnums=(0, 1))


class JaxTrainer:
    """One model and its Adam state; ``epochs(X, y, k)`` trains k epochs the system's way,
    compiling first (timed: ``compile_s``) for the shapes it meets."""

    def __init__(self, system: str, sizes: tuple[int, ...], seed: int, dtype: str, lr: float):
        import jax

        self.scan = system == "jax_scan"
        self.params = init(sizes, seed, dtype)
        self.optimizer, step = make_step(lr)
        self.raw_step, self.step = step, jax.jit(step, donate_argnums=(0, 1))
        self.state = self.optimizer.init(self.params)
        self.key = jax.random.PRNGKey(seed + 1)
        self.rng = np.random.default_rng(seed)
        self.compiled: dict[tuple[int, int], Any] = {}
        self.compile_s = 0.0

    def _compiled(self, X: Any, y: Any, batch_size: int) -> Any:
        """The compiled function for this shape (the epoch, or the step), compiled now."""
        import jax

        shape = (len(X), batch_size) if self.scan else (len(X), -1)
        if shape not in self.compiled:
            start = time.perf_counter()
            if self.scan:
                f = make_epoch(self.raw_step, len(X), batch_size)
                compiled = f.lower(self.params, self.state, X, y, self.key).compile()
            else:
                compiled = self.step.lower(self.params, self.state, X, y).compile()
            jax.block_until_ready(compiled)
            self.compile_s += time.perf_counter() - start
            self.compiled[shape] = compiled
        return self.compiled[shape]

    def prepare(self, n: int, batch_size: int, X: np.ndarray, y: np.ndarray) -> None:
        """Compile everything an epoch of n samples needs (so that it is timed apart)."""
        import jax.numpy as jnp

        if self.scan:
            self._compiled(jnp.asarray(X[:n]), jnp.asarray(y[:n]), batch_size)
            return
        for size in {batch_size, n % batch_size} - {0}:
            self._compiled(X[:size], y[:size], batch_size)

    def epochs(self, X: np.ndarray, y: np.ndarray, batch_size: int, epochs: int = 1) -> None:
        import jax
        import jax.numpy as jnp

        if self.scan:
            Xd, yd = jnp.asarray(X), jnp.asarray(y)
            epoch = self._compiled(Xd, yd, batch_size)
            for _ in range(epochs):
                self.key, key = jax.random.split(self.key)
                self.params, self.state = epoch(self.params, self.state, Xd, yd, key)
        else:
            n = len(X)
            for _ in range(epochs):
                order = self.rng.permutation(n)
                for start in range(0, n, batch_size):
                    index = order[start : start + batch_size]
                    xb, yb = X[index], y[index]
                    step = self._compiled(xb, yb, batch_size)
                    self.params, self.state, _ = step(self.params, self.state, xb, yb)
        jax.block_until_ready(self.params)

    def predict_classes(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(forward(self.params, X).argmax(axis=1))

    def weights_dtype(self) -> str:
        return str(self.params[0][0].dtype)


# ---------------------------------------------------------------------- Keras
def keras_layers(sizes: tuple[int, ...]) -> list[Any]:
    """Input, then Dense layers (Keras's default Glorot-uniform, zero biases), ReLU but the
    last."""
    import keras

    layers: list[Any] = [keras.Input((sizes[0],))]
    layers += [keras.layers.Dense(n, activation="relu") for n in sizes[1:-1]]
    return [*layers, keras.layers.Dense(sizes[-1])]


def keras_model(sizes: tuple[int, ...], seed: int, lr: float) -> Any:
    """:func:`keras_layers` with Adam and sparse categorical cross-entropy on logits,
    compiled with XLA."""
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential(keras_layers(sizes))
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=lr),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=True,
    )
    return model


# ---------------------------------------------------------------------- the jobs' workers
def job_a(
    system: str, d: dict[str, np.ndarray], dtype: str, seed: int, sizes: tuple[int, ...], **kw: Any
) -> dict[str, Any]:
    """mlp.py's job A for one of SYSTEMS: seconds with the compile, and without."""
    from _common import peak_rss_kib

    epochs, batch_size, lr = kw["epochs"], kw["batch_size"], kw["learning_rate"]
    X, y = d["X_train"], d["y_train"]
    rss_before = peak_rss_kib()
    if system == "keras":
        model = keras_model(sizes, seed, lr)
        start = time.perf_counter()
        model.fit(X, y, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0)
        seconds = time.perf_counter() - start
        logits = model.predict(d["X_test"], batch_size=1000, verbose=0)
        return {
            "seconds": seconds,
            "predicted": logits.argmax(axis=1),
            "epochs": epochs,
            "weights_dtype": str(np.dtype(model.layers[0].kernel.dtype)),
            "rss_before_kib": rss_before,
        }
    trainer = JaxTrainer(system, sizes, seed, dtype, lr)
    trainer.prepare(len(X), batch_size, X, y)
    start = time.perf_counter()
    trainer.epochs(X, y, batch_size, epochs)
    steady = time.perf_counter() - start
    return {
        "seconds": steady + trainer.compile_s,
        "steady_s": steady,
        "compile_s": trainer.compile_s,
        "predicted": trainer.predict_classes(d["X_test"]),
        "epochs": epochs,
        "weights_dtype": trainer.weights_dtype(),
        "rss_before_kib": rss_before,
    }


def b_trainer(
    system: str, sizes: tuple[int, ...], dtype: str, seed: int, batch_size: int, lr: float
) -> Any:
    """mlp.py's job B trainer: ``train(X, y) -> (samples, weights' dtype)``, one epoch; the
    compile for a new shape happens on a first, untimed call (``prepare``)."""
    if system == "keras":
        model = keras_model(sizes, seed, lr)

        def train_keras(X: np.ndarray, y: np.ndarray) -> tuple[int, str]:
            model.fit(X, y, batch_size=batch_size, epochs=1, shuffle=True, verbose=0)
            return len(X), str(np.dtype(model.layers[0].kernel.dtype))

        return train_keras
    trainer = JaxTrainer(system, sizes, seed, dtype, lr)

    def train_jax(X: np.ndarray, y: np.ndarray) -> tuple[int, str]:
        trainer.prepare(len(X), batch_size, X, y)
        trainer.epochs(X, y, batch_size)
        return len(X), trainer.weights_dtype()

    train_jax.prepare = trainer.prepare  # type: ignore[attr-defined]
    return train_jax


def c_calls(system: str, dtype: str, weights: list, biases: list) -> Any:
    """mlp.py's job C: ``make(x) -> call`` predicting probabilities with ``weights``."""
    import jax
    import jax.numpy as jnp

    if system == "keras":
        import keras

        sizes = (weights[0].shape[1], *(W.shape[0] for W in weights))
        model = keras.Sequential([*keras_layers(sizes), keras.layers.Softmax()])
        for layer, W, b in zip(model.layers, weights, biases):
            layer.set_weights([W.T, b])  # Keras keeps (n_in, n_out)
        return lambda x: lambda: model.predict_on_batch(x)
    params = [(jnp.asarray(W), jnp.asarray(b)) for W, b in zip(weights, biases)]
    probabilities = jax.jit(lambda p, x: jax.nn.softmax(forward(p, x), axis=-1))

    def make(x: np.ndarray) -> Any:
        xd = jnp.asarray(x)
        probabilities(params, xd).block_until_ready()  # compiled before the timing
        return lambda: probabilities(params, xd).block_until_ready()

    return make
