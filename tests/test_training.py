"""fit as a user meets it: XOR and digits learn, mini-batches from the seeded generator,
validation, callbacks, History, early stopping, divergence, checkpoints, bad arguments."""

import copy
import math
import re

import numpy as np
import pytest

import cartoonbrain as cb

# ------------------------------------------------------------------ XOR and digits
XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0.0, 1.0, 1.0, 0.0])


def train_xor(seed):
    """The post's world: a 2-2-1 sigmoid network, squared error, plain SGD."""
    net = cb.Network(
        [cb.Dense(2, 2, "sigmoid"), cb.Dense(2, 1, "sigmoid")],
        loss="squared_error",
        seed=seed,
        dtype="float64",
    )
    history = net.fit(XOR_X, XOR_Y, epochs=2000, batch_size=4, optimizer=cb.SGD(learning_rate=5.0))
    return net, history


def learned_xor(net):
    return bool(np.all((net.predict(XOR_X)[:, 0] > 0.5) == (XOR_Y > 0.5)))


def test_xor_is_learned_by_a_2_2_1_sigmoid_network_with_sgd():
    net, history = train_xor(seed=1)
    p = net.predict(XOR_X)[:, 0]
    assert np.all(p[[1, 2]] > 0.5) and np.all(p[[0, 3]] < 0.5), p
    assert history["loss"][-1] < 0.05 < history["loss"][0]


def test_xor_is_learned_from_most_seeds():
    """2-2-1 XOR can stick in a local minimum for some starting points, not for most."""
    assert sum(learned_xor(train_xor(seed)[0]) for seed in (1, 2, 3)) >= 2


def test_digits_reach_97_percent_with_one_hidden_layer_of_64_relu_units():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16, y, test_size=360, stratify=y, random_state=0
    )
    assert len(X_train) == 1437 and len(X_test) == 360
    net = cb.Network([cb.Dense(64, 64, "relu"), cb.Dense(64, 10)], loss="cross_entropy", seed=0)
    history = net.fit(
        X_train, y_train, epochs=30, batch_size=64, optimizer=cb.Adam(learning_rate=5e-3)
    )
    assert len(history["loss"]) == 30
    result = net.evaluate(X_test, y_test)
    assert result["accuracy"] >= 0.97
    assert np.mean(net.predict_classes(X_test) == y_test) == result["accuracy"]


# ------------------------------------------------------------------ one step, by hand
def small_regression(n=10, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=n)


def test_one_full_batch_sgd_step_is_w_minus_learning_rate_times_gradient():
    X, y = small_regression()
    net = cb.Network([cb.Dense(3, 2, "tanh"), cb.Dense(2, 1)], seed=0, dtype="float64")
    before = [p.copy() for p in net.parameters()]
    value, grads = net.loss_and_gradients(X, y)
    history = net.fit(
        X, y, epochs=1, batch_size=10, optimizer=cb.SGD(learning_rate=0.1), shuffle=False
    )
    for p, p0, g in zip(net.parameters(), before, grads):
        np.testing.assert_allclose(p, p0 - 0.1 * g, rtol=1e-14, atol=1e-15)
    assert history["loss"] == [pytest.approx(value, rel=1e-14)]


def test_learning_rate_argument_overrides_the_optimizers():
    X, y = small_regression()
    a = cb.Network([cb.Dense(3, 1)], seed=0, dtype="float64")
    b = cb.Network([cb.Dense(3, 1)], seed=0, dtype="float64")
    a.fit(X, y, epochs=2, batch_size=4, optimizer="sgd", learning_rate=0.05)
    b.fit(X, y, epochs=2, batch_size=4, optimizer=cb.SGD(learning_rate=0.05))
    assert a.optimizer.learning_rate == 0.05
    np.testing.assert_array_equal(a.flat_parameters, b.flat_parameters)


# ------------------------------------------------------------------ mini-batches
def record_batches(net):
    """Wrap net.forward to keep a copy of every training batch it sees."""
    seen = []
    forward = net.forward

    def recording(X, training=False):
        if training:
            seen.append(X.copy())
        return forward(X, training)

    net.forward = recording
    return seen


@pytest.mark.parametrize(("n", "batch_size"), [(10, 3), (10, 5), (7, 32), (1, 1)])
def test_each_epoch_takes_ceil_n_over_batch_size_steps_the_last_one_partial(n, batch_size):
    X, y = small_regression(n)
    net = cb.Network([cb.Dense(3, 1)], seed=0)
    steps = []
    counter = cb.LambdaCallback(on_batch_end=lambda b, logs: steps.append(b))
    epochs = 3
    net.fit(X, y, epochs=epochs, batch_size=batch_size, callbacks=[counter])
    per_epoch = math.ceil(n / batch_size)
    assert steps == list(range(per_epoch)) * epochs
    assert net.optimizer.iterations == per_epoch * epochs


def test_batches_are_shuffled_by_the_networks_seeded_generator():
    X, y = small_regression(10)
    net = cb.Network([cb.Dense(3, 1)], seed=4, dtype="float64")
    rng = copy.deepcopy(net.rng)  # the generator's state when fit starts
    seen = record_batches(net)
    net.fit(X, y, epochs=2, batch_size=4, optimizer="sgd")
    assert [len(b) for b in seen] == [4, 4, 2] * 2  # the last, partial batch is used
    for epoch in range(2):
        order = rng.permutation(10)
        batches = seen[3 * epoch : 3 * epoch + 3]
        np.testing.assert_array_equal(np.concatenate(batches), X[order])
    assert not np.array_equal(np.concatenate(seen[:3]), X)  # it did shuffle


def test_shuffle_false_keeps_the_order():
    X, y = small_regression(10)
    net = cb.Network([cb.Dense(3, 1)], seed=0, dtype="float64")
    seen = record_batches(net)
    net.fit(X, y, epochs=2, batch_size=4, shuffle=False)
    np.testing.assert_array_equal(np.concatenate(seen), np.concatenate([X, X]))


def make_classifier(seed=0, dropout=0.0):
    layers = [cb.Dense(4, 8, "relu")]
    if dropout:
        layers.append(cb.Dropout(dropout))
    layers.append(cb.Dense(8, 3))
    return cb.Network(layers, loss="cross_entropy", seed=seed)


def blobs(n=60, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    X = rng.normal(size=(n, 4)) + np.eye(3, 4)[y] * 3
    return X, y


def test_same_seed_gives_bit_identical_weights_after_fit():
    X, y = blobs()

    def train(seed):
        net = make_classifier(seed, dropout=0.3)
        net.fit(X, y, epochs=5, batch_size=8, optimizer=cb.Adam(learning_rate=1e-2))
        return net.flat_parameters

    np.testing.assert_array_equal(train(7), train(7))
    assert not np.array_equal(train(7), train(8))


# ------------------------------------------------------------------ validation and History
def test_validation_split_holds_out_the_last_fraction():
    X, y = blobs(20)
    net = make_classifier()
    seen = record_batches(net)
    history = net.fit(X, y, epochs=3, batch_size=4, validation_split=0.25)
    trained_on = np.concatenate(seen)
    assert len(trained_on) == 3 * 15
    assert {tuple(r) for r in trained_on} == {tuple(r) for r in X[:15].astype(np.float32)}
    final = net.evaluate(X[15:], y[15:])
    assert history["val_loss"][-1] == pytest.approx(final["loss"], rel=1e-6)
    assert history["val_accuracy"][-1] == final["accuracy"]


def test_validation_data_is_evaluated_after_every_epoch():
    X, y = blobs(40)
    Xv, yv = blobs(20, seed=1)
    net = make_classifier()
    val_losses = []
    spy = cb.LambdaCallback(
        on_epoch_end=lambda e, logs: val_losses.append(net.evaluate(Xv, yv)["loss"])
    )
    history = net.fit(X, y, epochs=4, batch_size=8, validation_data=(Xv, yv), callbacks=[spy])
    np.testing.assert_allclose(history["val_loss"], val_losses, rtol=1e-6, atol=0)


def test_history_keys_for_classifiers_and_regressors():
    X, y = blobs(30)
    h = make_classifier().fit(X, y, epochs=3, validation_split=0.2)
    assert set(h.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert h.epoch == [0, 1, 2] and all(len(v) == 3 for v in h.history.values())
    assert not h.stopped_early
    assert h["loss"] is h.history["loss"]
    Xr, yr = small_regression(30)
    hr = cb.Network([cb.Dense(3, 1)], seed=0).fit(Xr, yr, epochs=2, validation_data=(Xr, yr))
    assert set(hr.history) == {
        "loss",
        "mse",
        "mae",
        "r2",
        "val_loss",
        "val_mse",
        "val_mae",
        "val_r2",
    }
    hm = cb.Network([cb.Dense(3, 1)], seed=0).fit(Xr, yr, epochs=2, metrics=["mae"])
    assert set(hm.history) == {"loss", "mae"}


def test_history_loss_is_the_sample_weighted_mean_of_the_batch_losses():
    X, y = small_regression(10)
    net = cb.Network([cb.Dense(3, 1)], seed=0, dtype="float64")
    batch_losses = []
    spy = cb.LambdaCallback(on_batch_end=lambda b, logs: batch_losses.append(logs["loss"]))
    history = net.fit(X, y, epochs=1, batch_size=4, callbacks=[spy])
    sizes = [4, 4, 2]
    expected = sum(v * s for v, s in zip(batch_losses, sizes)) / 10
    assert history["loss"][0] == pytest.approx(expected, rel=1e-14)


def test_callback_hooks_are_called_in_order_with_logs():
    X, y = blobs(10)
    events = []
    spy = cb.LambdaCallback(
        on_train_begin=lambda logs: events.append("train_begin"),
        on_epoch_begin=lambda e, logs: events.append(f"epoch_begin {e}"),
        on_batch_end=lambda b, logs: events.append(f"batch {b} {sorted(logs)}"),
        on_epoch_end=lambda e, logs: events.append(f"epoch_end {e} {sorted(logs)}"),
        on_train_end=lambda logs: events.append(f"train_end {sorted(logs)}"),
    )
    make_classifier().fit(X, y, epochs=2, batch_size=6, callbacks=[spy])
    epoch = ["batch 0 ['loss']", "batch 1 ['loss']"]
    keys = "['accuracy', 'loss']"
    assert events == [
        "train_begin",
        "epoch_begin 0",
        *epoch,
        f"epoch_end 0 {keys}",
        "epoch_begin 1",
        *epoch,
        f"epoch_end 1 {keys}",
        f"train_end {keys}",
    ]


def test_a_callback_can_stop_training():
    class StopAfterTwo(cb.Callback):
        def on_epoch_end(self, epoch, logs):
            self.stop_training = epoch == 1

    X, y = blobs(10)
    stopper = StopAfterTwo()
    history = make_classifier().fit(X, y, epochs=10, callbacks=[stopper])
    assert history.epoch == [0, 1] and history.stopped_early
    assert stopper.network is not None


def test_verbose_two_prints_one_line_per_epoch(capsys):
    X, y = blobs(10)
    make_classifier().fit(X, y, epochs=3, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert re.fullmatch(r"Epoch 3/3 - loss \d+\.\d{4} - accuracy \d\.\d{4}", lines[-1])


# ------------------------------------------------------------------ early stopping
def fit_with_script(values, key="val_loss", **early):
    """Fit with EarlyStopping(monitor=key, **early) while the monitored number follows
    `values`: a callback ahead of it writes the number into the logs and records the
    weights at the end of every epoch."""
    X, y = blobs(20)
    net = make_classifier()
    weights = []

    def on_epoch_end(epoch, logs):
        logs[key] = values[epoch]
        weights.append(net.flat_parameters.copy())

    stopper = cb.EarlyStopping(monitor=key, **early)
    history = net.fit(
        X,
        y,
        epochs=len(values),
        batch_size=5,
        callbacks=[cb.LambdaCallback(on_epoch_end=on_epoch_end), stopper],
    )
    return net, history, stopper, weights


def test_early_stopping_restores_the_best_epochs_weights():
    values = [5.0, 4.0, 3.0, 3.5, 3.6, 3.7, 3.8, 3.9, 4.0, 4.1]
    net, history, stopper, weights = fit_with_script(values, patience=2)
    assert history.stopped_early
    assert len(history.epoch) < len(values)
    assert stopper.best_epoch == 2
    np.testing.assert_array_equal(net.flat_parameters, weights[2])
    assert not np.array_equal(weights[-1], weights[2])


def test_early_stopping_without_restore_keeps_the_last_weights():
    values = [5.0, 4.0, 3.0, 3.5, 3.6, 3.7, 3.8, 3.9, 4.0, 4.1]
    net, history, _, weights = fit_with_script(values, patience=2, restore_best_weights=False)
    assert history.stopped_early
    np.testing.assert_array_equal(net.flat_parameters, weights[-1])


def test_early_stopping_stops_after_patience_epochs_without_improvement():
    """ "Stop when monitor has not improved by min_delta for patience epochs" (as Keras):
    best at epoch 2, then epochs 3 and 4 do not improve: with patience=2 the last epoch is 4."""
    values = [5.0, 4.0, 3.0, 3.5, 3.6, 3.7, 3.8, 3.9, 4.0, 4.1]
    _, history, _, _ = fit_with_script(values, patience=2)
    assert history.epoch == [0, 1, 2, 3, 4]


def test_early_stopping_min_delta_ignores_small_improvements():
    values = [5.0 - 0.05 * e for e in range(10)]  # improves by 0.05 each epoch
    net, history, stopper, weights = fit_with_script(values, patience=1, min_delta=0.1)
    assert history.stopped_early and stopper.best_epoch == 0
    np.testing.assert_array_equal(net.flat_parameters, weights[0])
    _, history, stopper, _ = fit_with_script(values, patience=1, min_delta=0.01)
    assert not history.stopped_early and stopper.best_epoch == 9


def test_early_stopping_maximises_accuracy():
    values = [0.5, 0.7, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]
    net, history, stopper, weights = fit_with_script(values, key="val_accuracy", patience=2)
    assert stopper.mode == "max" and stopper.best_epoch == 1 and history.stopped_early
    np.testing.assert_array_equal(net.flat_parameters, weights[1])


def test_early_stopping_falls_back_to_loss_without_validation_data():
    X, y = small_regression(20)
    net = cb.Network([cb.Dense(3, 1)], seed=0)
    stopper = cb.EarlyStopping(patience=1)  # monitors val_loss
    history = net.fit(X, y, epochs=500, optimizer=cb.SGD(learning_rate=0.05), callbacks=[stopper])
    assert history.stopped_early and len(history.epoch) < 500
    assert stopper.best == pytest.approx(min(history["loss"]), rel=1e-12)


def test_an_early_stopping_object_can_be_used_for_a_second_fit():
    """Each fit starts afresh (as Keras resets in on_train_begin): reusing the callback for
    another network trains just as a new EarlyStopping would, and never puts the first
    network's weights into the second."""
    X, y = small_regression(20)
    stopper = cb.EarlyStopping(monitor="loss", patience=1)
    first = cb.Network([cb.Dense(3, 1)], seed=0)
    first.fit(X, y, epochs=300, optimizer=cb.SGD(learning_rate=0.05), callbacks=[stopper])

    def second(callback):
        net = cb.Network([cb.Dense(3, 1)], seed=1)
        h = net.fit(X, y, epochs=300, optimizer=cb.SGD(learning_rate=0.05), callbacks=[callback])
        return net, h

    fresh_net, fresh_history = second(cb.EarlyStopping(monitor="loss", patience=1))
    reused_net, reused_history = second(stopper)
    assert reused_history.epoch == fresh_history.epoch
    np.testing.assert_array_equal(reused_net.flat_parameters, fresh_net.flat_parameters)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"patience": -1}, r"patience must be a non-negative integer; got -1"),
        ({"patience": 1.5}, r"patience must be a non-negative integer"),
        ({"min_delta": -0.1}, r"min_delta must be >= 0; got -0\.1"),
        ({"mode": "up"}, r"mode must be 'auto', 'min' or 'max'; got 'up'"),
    ],
)
def test_early_stopping_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cb.EarlyStopping(**kwargs)


def test_early_stopping_on_a_number_fit_does_not_report():
    X, y = blobs(10)
    with pytest.raises(ValueError, match=r"EarlyStopping monitors 'val_f1'"):
        make_classifier().fit(X, y, epochs=2, callbacks=[cb.EarlyStopping(monitor="val_f1")])


# ------------------------------------------------------------------ divergence
class OwnStep(cb.Network):
    """A train_step of its own: fit calls it for every batch."""

    steps = 0

    def train_step(self, X, t, sample_weight, optimizer):
        OwnStep.steps += 1
        return super().train_step(X, t, sample_weight, optimizer)


@pytest.mark.parametrize("network", [cb.Network, OwnStep])
def test_a_huge_learning_rate_stops_with_training_diverged_keeping_finite_weights(network):
    X, y = small_regression(64)
    net = network([cb.Dense(3, 1)], seed=0)
    after_epoch = [net.flat_parameters.copy()]  # the weights after each epoch
    after_step = []  # and after each step, recorded by callbacks
    spy = cb.LambdaCallback(
        on_batch_end=lambda b, logs: after_step.append(net.flat_parameters.copy()),
        on_epoch_end=lambda e, logs: after_epoch.append(net.flat_parameters.copy()),
    )
    OwnStep.steps = 0
    with pytest.raises(
        cb.TrainingDiverged, match=r"loss became (inf|nan) at epoch (\d+), batch (\d+)"
    ) as info:
        net.fit(X, y, epochs=5, batch_size=8, optimizer=cb.SGD(learning_rate=5.0), callbacks=[spy])
    assert isinstance(info.value, ValueError)
    found = re.search(r"epoch (\d+), batch (\d+)", str(info.value))
    epoch, batch = int(found.group(1)), int(found.group(2))  # 1-based
    # on_batch_end sees every batch, the non-finite one too (as Keras: TerminateOnNaN
    # relies on it), and the optimizer does not apply that batch's step
    assert len(after_step) == (epoch - 1) * 8 + batch
    assert network is cb.Network or OwnStep.steps == len(after_step)
    if len(after_step) > 1:
        np.testing.assert_array_equal(after_step[-1], after_step[-2])
    # the weights kept are those the diverging epoch began with: the last complete epoch's
    assert epoch >= 2 and len(after_epoch) == epoch
    np.testing.assert_array_equal(net.flat_parameters, after_epoch[-1])
    assert np.all(np.isfinite(net.flat_parameters))
    assert math.isfinite(net.evaluate(X, y)["loss"])


def test_an_overflowing_first_batch_stops_with_training_diverged_and_initial_weights():
    """Unscaled inputs overflow float32 on the very first batch: TrainingDiverged (not a
    RuntimeWarning from inside NumPy), and the initial weights are kept."""
    X, y = np.full((8, 2), 1e20), np.zeros(8)
    net = cb.Network([cb.Dense(2, 1)], seed=0)
    initial = net.flat_parameters.copy()
    with pytest.raises(cb.TrainingDiverged, match=r"at epoch 1, batch 1;"):
        net.fit(X, y, epochs=1, batch_size=4, optimizer=cb.SGD(learning_rate=0.1))
    np.testing.assert_array_equal(net.flat_parameters, initial)


# ------------------------------------------------------------------ checkpoints
def test_a_resumed_checkpoint_finishes_bit_identically(tmp_path):
    X, y = blobs(30)
    path = tmp_path / "run.npz"

    def train(epochs, **kwargs):
        net = make_classifier(seed=3, dropout=0.25)
        history = net.fit(
            X, y, epochs=epochs, batch_size=7, optimizer=cb.Adam(learning_rate=1e-2), **kwargs
        )
        return net, history

    straight, straight_history = train(6)
    train(3, checkpoint=path)
    resumed, resumed_history = train(6, checkpoint=path, resume=True)
    np.testing.assert_array_equal(resumed.flat_parameters, straight.flat_parameters)
    assert resumed_history.history == straight_history.history
    assert resumed_history.epoch == straight_history.epoch
    loaded = cb.load(path)  # a checkpoint is also a model file
    np.testing.assert_array_equal(loaded.flat_parameters, straight.flat_parameters)


# ------------------------------------------------------------------ bad arguments
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"batch_size": 0}, r"batch_size must be a positive integer; got 0"),
        ({"batch_size": -4}, r"batch_size must be a positive integer; got -4"),
        ({"batch_size": 2.5}, r"batch_size must be a positive integer; got 2\.5"),
        ({"batch_size": True}, r"batch_size must be a positive integer; got True"),
        ({"epochs": 0}, r"epochs must be a positive integer; got 0"),
        ({"learning_rate": 0}, r"learning_rate must be a positive finite number; got 0"),
        ({"learning_rate": -0.1}, r"learning_rate must be a positive finite number; got -0\.1"),
        ({"learning_rate": math.nan}, r"learning_rate must be a positive finite number; got nan"),
        ({"learning_rate": math.inf}, r"learning_rate must be a positive finite number; got inf"),
        ({"learning_rate": True}, r"learning_rate must be a positive finite number; got True"),
        ({"optimizer": cb.SGD}, r"optimizer"),
        ({"optimizer": "adagrad"}, r"unknown optimizer 'adagrad'; expected one of"),
        ({"validation_split": 1.0}, r"validation_split must be in \[0, 1\); got 1\.0"),
        ({"validation_split": -0.2}, r"validation_split must be in \[0, 1\)"),
        ({"validation_split": 0.01}, r"leaves no training or no validation samples"),
        ({"validation_data": (np.ones((2, 4)),)}, r"validation_data must be a pair"),
        ({"validation_data": (np.ones((0, 4)), [])}, r"X_val is empty \(0 samples\)"),
        ({"validation_data": (np.ones((2, 5)), [0, 1])}, r"X_val has 5 features per sample"),
        ({"validation_data": (np.ones((2, 4)), [0, 7])}, r"class id 7 at row 1 is out of range"),
        ({"verbose": 3}, r"verbose must be 0, 1 or 2; got 3"),
        ({"metrics": ["f2"]}, r"unknown metric 'f2'"),
        ({"callbacks": [print]}, r"callbacks must be Callback objects"),
    ],
)
def test_bad_fit_arguments_are_refused_before_training(kwargs, match):
    X, y = blobs(20)
    net = make_classifier()
    before = net.flat_parameters.copy()
    with pytest.raises(ValueError, match=match):
        net.fit(X, y, epochs=kwargs.pop("epochs", 2), **kwargs)
    np.testing.assert_array_equal(net.flat_parameters, before)


@pytest.mark.parametrize(
    "make", [lambda: cb.SGD(learning_rate=0), lambda: cb.Adam(learning_rate=-1e-3)]
)
def test_optimizers_refuse_non_positive_learning_rates(make):
    with pytest.raises(ValueError, match=r"learning_rate must be a positive finite number"):
        make()


def test_learning_rate_may_be_a_numpy_scalar():
    """As the optimizers accept it (cb.SGD(learning_rate=np.float32(0.05)) works), so does
    fit(learning_rate=np.float32(0.05)), e.g. from a np.logspace grid."""
    X, y = small_regression()
    net = cb.Network([cb.Dense(3, 1)], seed=0)
    net.fit(X, y, epochs=1, optimizer="sgd", learning_rate=np.float32(0.05))
    assert net.optimizer.learning_rate == pytest.approx(0.05, rel=1e-7)


def test_unknown_callback_hook_is_refused():
    with pytest.raises(ValueError, match=r"unknown callback hook 'on_step'"):
        cb.LambdaCallback(on_step=print)


def test_training_metrics_come_from_each_batchs_outputs_before_its_update():
    """With one full batch per epoch, epoch 1 reports the initial network's loss and accuracy."""
    X, y = blobs(30)
    net = make_classifier()
    before = net.evaluate(X, y)
    history = net.fit(X, y, epochs=2, batch_size=30, shuffle=False, optimizer="sgd")
    assert history["loss"][0] == pytest.approx(before["loss"], rel=1e-6)
    assert history["accuracy"][0] == before["accuracy"]


def _never_improving_stopper():
    """Improves at epoch 0 only (min_delta is huge), so it stops after patience more."""
    return cb.EarlyStopping(monitor="loss", patience=3, min_delta=1e9)


def test_a_resumed_checkpoint_keeps_early_stopping_where_it_was(tmp_path):
    """The checkpoint holds EarlyStopping's state (best, wait, best weights): a run cut
    after 2 epochs and resumed stops at the same epoch, with the same weights and history,
    as one that never stopped (patience does not start over)."""
    X, y = blobs(30)
    path = tmp_path / "run.npz"

    def train(epochs, **kwargs):
        net = make_classifier(seed=3)
        history = net.fit(
            X,
            y,
            epochs=epochs,
            batch_size=7,
            optimizer=cb.Adam(learning_rate=1e-2),
            callbacks=[cb.LambdaCallback(), _never_improving_stopper()],
            **kwargs,
        )
        return net, history

    straight, straight_history = train(10)
    assert straight_history.epoch == [0, 1, 2, 3] and straight_history.stopped_early
    train(2, checkpoint=path)
    resumed, resumed_history = train(10, checkpoint=path, resume=True)
    assert resumed_history.epoch == straight_history.epoch
    assert resumed_history.history == straight_history.history
    assert resumed_history.stopped_early
    np.testing.assert_array_equal(resumed.flat_parameters, straight.flat_parameters)
    # and a run that had already stopped does not train on when resumed
    again, again_history = train(10, checkpoint=path, resume=True)
    assert again_history.epoch == straight_history.epoch and again_history.stopped_early
    np.testing.assert_array_equal(again.flat_parameters, straight.flat_parameters)


def test_resume_with_other_callbacks_starts_them_fresh(tmp_path):
    """A callback whose class is not at the same place in the checkpoint starts anew."""
    X, y = blobs(30)
    path = tmp_path / "run.npz"
    make_classifier(seed=3).fit(
        X, y, epochs=2, batch_size=7, checkpoint=path, callbacks=[_never_improving_stopper()]
    )
    stopper = _never_improving_stopper()
    history = make_classifier(seed=3).fit(
        X,
        y,
        epochs=10,
        batch_size=7,
        checkpoint=path,
        resume=True,
        callbacks=[cb.LambdaCallback(), stopper],  # EarlyStopping moved to position 1
    )
    assert history.epoch == [0, 1, 2, 3, 4, 5]  # 2 saved epochs, then 1 + patience 3 fresh
    assert stopper.best_epoch == 2


def test_early_stopping_refuses_a_state_that_does_not_fit():
    net = make_classifier(seed=3)
    stopper = _never_improving_stopper()
    stopper.network = net
    with pytest.raises(ValueError, match="EarlyStopping state must hold"):
        stopper.load_state_dict({"best": np.asarray(1.0)})
    with pytest.raises(ValueError, match="best weights are float64 \\(3,\\)"):
        stopper.load_state_dict(
            {
                "best": np.asarray(1.0),
                "best_epoch": np.asarray(0),
                "wait": np.asarray(1),
                "stop_training": np.asarray(False),
                "best_weights": np.zeros(3),
            }
        )


def test_fit_refuses_a_learning_rate_beside_a_schedule():
    """fit(learning_rate=...) would silently throw the optimizer's schedule away."""
    X, y = blobs(30)
    optimizer = cb.Adam(learning_rate=cb.CosineDecay(0.01, 100))
    with pytest.raises(ValueError, match=r"learning_rate=0.1 and an optimizer whose .*CosineDecay"):
        make_classifier().fit(X, y, optimizer=optimizer, learning_rate=0.1)
    assert isinstance(optimizer.learning_rate, cb.CosineDecay)


def test_verbose_1_prints_a_line_per_epoch_and_no_bar_into_a_pipe(capsys):
    """verbose=1 shows a tqdm bar on a terminal; into a file or pipe (as here) only the
    epoch lines appear, not the bar's redraws."""
    pytest.importorskip("tqdm")
    X, y = blobs(30)
    make_classifier().fit(X, y, epochs=2, batch_size=7, verbose=1)
    out, err = capsys.readouterr()
    assert [line.split(" - ")[0] for line in out.splitlines()] == ["Epoch 1/2", "Epoch 2/2"]
    assert "batch/s" not in err and "|" not in err


def test_a_callback_state_that_cannot_go_into_a_checkpoint_is_named(tmp_path):
    """Checkpoints hold no pickles: a custom callback's state must be numbers, strings or
    arrays, and fit says which callback and key broke that, before writing anything."""

    class Notes(cb.Callback):
        def state_dict(self):
            return {"seen": 3, "notes": {"a": 1}}

    X, y = blobs(30)
    path = tmp_path / "run.npz"
    with pytest.raises(ValueError, match=r"callback 0 \(Notes\): state_dict\(\)\['notes'\]"):
        make_classifier().fit(X, y, epochs=1, checkpoint=path, callbacks=[Notes()])
    assert not path.exists()
