"""Keras's own tests of its callbacks, ported with Keras's expected numbers.

Each test names the Keras file (under keras/src/callbacks/, Keras 3) and test it ports.
Keras's models become small cartoonbrain networks of the same shape; what Keras logs
through ``absl.logging`` is recorded in a list. Where cartoonbrain differs on purpose, the
test says so and asserts cartoonbrain's behaviour; README's "Where cartoonbrain
deliberately differs from Keras" table lists each difference.

Not ported: BackupAndRestore (cartoonbrain's ``fit(checkpoint=..., resume=True)`` is its
counterpart, tested in tests/test_io.py), ``validation_freq`` (not an option of ``fit``),
h5 and ``.keras`` files (a model file is ``.npz``), TensorBoard, RemoteMonitor,
SwapEMAWeights, LearningRateScheduler.
"""

from __future__ import annotations

import csv
import math
import os

import numpy as np
import pytest

import cartoonbrain as cb
from cartoonbrain.train import (
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    ModelCheckpoint,
    Monitor,
    ReduceLROnPlateau,
    TerminateOnNaN,
)


def regression_data(n=10, n_in=5, seed=0):
    """np.random.random((10, 5)) and ((10, 1)), as Keras's tests draw them."""
    rng = np.random.default_rng(seed)
    return rng.random((n, n_in)), rng.random((n, 1)), rng.random((n, n_in)), rng.random((n, 1))


def relu_net(n_in=5, seed=0):
    """Sequential(Dense(1, relu), Dense(1, relu)) with loss "mae" (Keras's mean absolute
    error; cartoonbrain's regression metric "mae" is the same number)."""
    return cb.Network([cb.Dense(n_in, 1, "relu"), cb.Dense(1, 1, "relu")], loss="mse", seed=seed)


def keras_test_data(n_train=30, n_test=30, n_in=3, n_classes=3, seed=42):
    """keras.src.testing.test_utils.get_test_data: class centres plus noise."""
    rng = np.random.default_rng(seed)
    centres = rng.random((n_classes, n_in)) * 3
    y = rng.integers(0, n_classes, size=n_train + n_test)
    X = centres[y] + rng.normal(size=(len(y), n_in))
    return (X[:n_train], y[:n_train]), (X[n_train:], y[n_train:])


def softmax_net(n_in=3, hidden=5, n_classes=3, seed=0):
    return cb.Network(
        [cb.Dense(n_in, hidden, "relu"), cb.Dense(hidden, n_classes)],
        loss="cross_entropy",
        seed=seed,
    )


class Weights:
    """early_stopping_test's DummyModel: the "weights" are one number, set by the test."""

    def __init__(self):
        self.flat_parameters = np.array([-1.0])

    def set_weight_to_epoch(self, epoch):
        self.flat_parameters[...] = epoch


# ------------------------------------------------------- early_stopping_test.py
@pytest.mark.parametrize(
    ("mode", "monitor", "expected"),
    [
        ("max", "val_mse", "max"),
        ("min", "val_loss", "min"),
        ("auto", "val_mse", "min"),
        ("auto", "loss", "min"),
        ("auto", "acc", "max"),
        ("auto", "val_accuracy", "max"),
        ("auto", "f1", "max"),  # Keras: F1Score(name="f1_score")
    ],
)
def test_early_stopping(mode, monitor, expected):
    """early_stopping_test.py::test_early_stopping (and monitor_callback_test.py::
    test_monitor_op_logic): the direction each mode picks. Keras's "hinge" metric is not
    one of cartoonbrain's."""
    stopper = EarlyStopping(patience=0, monitor=monitor, mode=mode)
    assert stopper.mode == expected
    X, y, X_val, y_val = regression_data()
    if "mse" in monitor or "loss" in monitor:  # Keras's regression model
        net, metrics = relu_net(), ["mse", "mae"]
    else:  # accuracy and f1 need a classifier here
        net = cb.Network([cb.Dense(5, 2)], loss="cross_entropy", seed=0)
        metrics = ["accuracy", "f1"]
        y, y_val = (y[:, 0] > 0.5).astype(int), (y_val[:, 0] > 0.5).astype(int)
    net.fit(
        X,
        y,
        epochs=2,
        batch_size=5,
        metrics=metrics,
        validation_data=(X_val, y_val),
        callbacks=[stopper],
    )
    assert stopper.mode == expected


def test_early_stopping_refuses_an_unknown_monitor_when_made():
    """early_stopping_test.py::test_early_stopping, its last case: monitor="unknown" is a
    ValueError. Keras raises it at the first epoch's end; cartoonbrain when the callback is
    made, naming the way out."""
    with pytest.raises(ValueError, match=r"cannot pick a mode for 'unknown'.*mode='min'"):
        EarlyStopping(patience=0, monitor="unknown")
    with pytest.raises(ValueError, match=r"cannot pick a mode for 'hinge'"):
        EarlyStopping(monitor="hinge")  # not a cartoonbrain metric
    assert EarlyStopping(monitor="unknown", mode="min").mode == "min"


@pytest.mark.parametrize("patience", [0, 1, 2, 3])
def test_early_stopping_patience(patience):
    """early_stopping_test.py::test_early_stopping_patience: stopped_epoch ==
    max(patience, 1) + 2 for these losses."""
    losses = [10.0, 9.0, 8.0, 9.0, 8.9, 8.8, 8.7, 8.6, 8.5]
    stopper = EarlyStopping(monitor="loss", patience=patience)
    stopper.network = Weights()
    stopper.on_train_begin({})
    for epoch, loss in enumerate(losses):
        stopper.on_epoch_end(epoch, {"loss": loss})
        if stopper.stop_training:
            break
    assert stopper.stopped_epoch == max(patience, 1) + 2


def test_early_stopping_reuse():
    """early_stopping_test.py::test_early_stopping_reuse: one EarlyStopping for two fits."""
    rng = np.random.default_rng(0)
    data = rng.random((100, 1))
    labels = np.where(data > 0.5, 1, 0).astype(float)
    net = relu_net(1)
    stopper = EarlyStopping(monitor="mse", patience=3)
    for _ in range(2):
        history = net.fit(data, labels, epochs=20, optimizer="sgd", callbacks=[stopper])
        assert len(history.epoch) >= 3


def test_state_reset_across_fit_calls():
    """early_stopping_test.py::test_state_reset_across_fit_calls. Keras's ``best`` is None
    before the first epoch; cartoonbrain keeps it oriented (lower is better) and
    infinite."""
    stopper = EarlyStopping(monitor="loss", patience=3)
    stopper.network = Weights()
    stopper.on_train_begin({})
    stopper.best, stopper.wait, stopper.stopped_epoch, stopper.best_epoch = 0.1, 3, 5, 5
    stopper.best_weights = np.array([7.0])
    stopper.on_train_begin({})
    assert stopper.best == math.inf
    assert (stopper.wait, stopper.stopped_epoch, stopper.best_epoch) == (0, 0, 0)
    assert stopper.best_weights is None


def test_early_stopping_with_baseline():
    """early_stopping_test.py::test_early_stopping_with_baseline."""
    X, y, _, _ = regression_data()
    stopper = EarlyStopping(monitor="mse", patience=3, baseline=0.6)
    history = relu_net().fit(X, y, epochs=20, optimizer="sgd", callbacks=[stopper])
    assert len(history.epoch) >= 3


def drive(stopper, losses, stop_at=None):
    """The loop of test_early_stopping_final_weights_when_restoring_model_weights."""
    stopper.network = Weights()
    trained = 0
    stopper.on_train_begin({})
    for epoch, loss in enumerate(losses):
        trained += 1
        stopper.network.set_weight_to_epoch(epoch)
        stopper.on_epoch_end(epoch, {"val_loss": loss})
        if epoch == stop_at:
            stopper.stop_training = True  # another callback asks to stop
        if stopper.stop_training:
            break
    stopper.on_train_end({})
    return trained, float(stopper.network.flat_parameters[0])


def test_early_stopping_final_weights_when_restoring_model_weights():
    """early_stopping_test.py::test_early_stopping_final_weights_when_restoring_model_weights:
    the best epoch's weights (2) come back; with a baseline nothing beats, training runs
    ``patience`` epochs and the best of them (2) comes back; also when another callback
    stops training."""
    stopper = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    assert drive(stopper, [0.2, 0.15, 0.1, 0.11, 0.12])[1] == 2
    losses = [0.9, 0.8, 0.7, 0.71, 0.72, 0.73]
    stopper = EarlyStopping(monitor="val_loss", patience=5, baseline=0.5)
    assert drive(stopper, losses) == (5, 2)
    stopper = EarlyStopping(monitor="val_loss", patience=5, baseline=0.5)
    assert drive(stopper, losses, stop_at=3) == (4, 2)


def test_early_stopping_restores_the_best_weights_also_when_it_did_not_stop():
    """Keras 3 restores in ``on_train_end`` whether or not it stopped training (its
    on_train_end has no condition on stopped_epoch)."""
    stopper = EarlyStopping(monitor="val_loss", patience=10)
    trained, weights = drive(stopper, [0.3, 0.1, 0.2, 0.25])
    assert trained == 4 and not stopper.stop_training and weights == 1


def test_early_stopping_with_start_from_epoch():
    """early_stopping_test.py::test_early_stopping_with_start_from_epoch."""
    X, y, _, _ = regression_data()
    net = relu_net()
    for patience in (3, 0):
        stopper = EarlyStopping(monitor="mse", patience=patience, start_from_epoch=2)
        history = net.fit(X, y, epochs=20, optimizer="sgd", callbacks=[stopper])
        assert len(history.epoch) >= patience + 2


def test_early_stopping_defaults_differ_from_kerass_on_purpose():
    """Keras: patience=0, restore_best_weights=False. cartoonbrain: patience=5 and the best
    weights back (a stop after one bad epoch, keeping the worse weights, is rarely what a
    user means)."""
    stopper = EarlyStopping()
    assert (stopper.patience, stopper.restore_best_weights) == (5, True)


def test_early_stopping_verbose_prints_kerass_lines(capsys):
    stopper = EarlyStopping(monitor="val_loss", patience=1, verbose=1)
    drive(stopper, [0.3, 0.1, 0.2, 0.25])
    out = capsys.readouterr().out
    assert "Epoch 3: early stopping" in out
    assert "Restoring model weights from the end of the best epoch: 2." in out


# ------------------------------------------------------- monitor_callback_test.py
def test_min_delta():
    """monitor_callback_test.py::test_min_delta. Keras's ``_is_improvement(value, best)``
    is cartoonbrain's ``is_improvement(score)`` on oriented scores (−value for "max")."""
    monitor = Monitor("accuracy", mode="max", min_delta=0.5)

    def is_improvement(value, best):
        monitor.best = math.inf if best is None else monitor.oriented(best)
        return monitor.is_improvement(monitor.oriented(value))

    assert is_improvement(0.75, 0)
    assert is_improvement(0.5, None)
    assert not is_improvement(0.5, 0)
    assert not is_improvement(0.2, 0.5)


def test_an_unknown_mode_is_refused():
    """model_checkpoint_test.py Case 6: Keras warns "mode 'unknown' is unknown" and falls
    back to "auto"; cartoonbrain refuses it in one line."""
    with pytest.raises(ValueError, match=r"mode must be 'auto', 'min' or 'max'; got 'unknown'"):
        ModelCheckpoint("m.npz", mode="unknown")


# ------------------------------------------------------- terminate_on_nan_test.py
def exploding_net(seed=0):
    """Five Dense(2, relu) with every weight 1e5 (Keras's initializers.Constant(1e5)),
    then Dense(2), float32: the loss overflows on the first batch."""
    layers = [cb.Dense(3, 2, "relu")] + [cb.Dense(2, 2, "relu") for _ in range(4)]
    net = cb.Network([*layers, cb.Dense(2, 2)], loss="mse", seed=seed, dtype="float32")
    for layer in net.layers[:-1]:
        layer.W[...] = 1e5
    return net


def nan_data():
    rng = np.random.default_rng(1337)
    X, X_val = rng.random((10, 3)), rng.random((10, 3))
    y, y_val = np.eye(2)[rng.integers(0, 2, 10)], np.eye(2)[rng.integers(0, 2, 10)]
    return X, y, X_val, y_val


def test_TerminateOnNaN():
    """terminate_on_nan_test.py::test_TerminateOnNaN: one epoch in History, its loss NaN
    or inf."""
    X, y, X_val, y_val = nan_data()
    history = exploding_net().fit(
        X,
        y,
        batch_size=4,
        epochs=20,
        optimizer="sgd",
        validation_data=(X_val, y_val),
        callbacks=[TerminateOnNaN()],
    )
    loss = history.history["loss"]
    assert len(loss) == 1 and not math.isfinite(loss[0])
    assert history.stopped_early and len(history["val_loss"]) == 1


def diverging_run(seed=0):
    """A linear model with a learning rate that overflows after a few finite batches."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(64, 3))
    return cb.Network([cb.Dense(3, 1)], seed=seed), X, X.sum(axis=1)


def test_terminate_on_nan_graceful_stop():
    """terminate_on_nan_test.py::test_terminate_on_nan_graceful_stop, with a loss that
    diverges: Keras's targets ``[[inf], [inf]]`` are refused at the door by cartoonbrain
    (``fit`` checks that y is finite), so the NaN comes from a step size of 1e6."""
    net, X, y = diverging_run()
    callback = TerminateOnNaN(raise_error=False)
    history = net.fit(
        X, y, epochs=4, batch_size=8, optimizer=cb.SGD(learning_rate=1e6), callbacks=[callback]
    )
    assert len(history.history["loss"]) < 4
    with pytest.raises(ValueError, match="finite"):
        cb.Network([cb.Dense(1, 1)], seed=0).fit(
            np.array([[1.0], [2.0]]), np.array([[np.inf], [np.inf]]), callbacks=[callback]
        )


def test_terminate_on_nan_raise_error_raises_error():
    """terminate_on_nan_test.py::test_terminate_on_nan_raise_error_raises_error and
    ::test_raise_error_terminate_stops_on_later_batch: RuntimeError naming the batch."""
    net, X, y = diverging_run()
    with pytest.raises(RuntimeError, match=r"NaN or Inf loss encountered at batch \d+"):
        net.fit(
            X,
            y,
            epochs=1,
            batch_size=8,
            optimizer=cb.SGD(learning_rate=1e6),
            callbacks=[TerminateOnNaN(raise_error=True)],
        )


def test_raise_error_terminate_does_not_trigger_on_train_end():
    """terminate_on_nan_test.py::test_raise_error_terminate_does_not_trigger_on_train_end."""
    ended = []
    tracking = LambdaCallback(on_train_end=lambda logs: ended.append(True))
    net, X, y = diverging_run()
    with pytest.raises(RuntimeError):
        net.fit(
            X,
            y,
            epochs=1,
            batch_size=8,
            optimizer=cb.SGD(learning_rate=1e6),
            callbacks=[tracking, TerminateOnNaN(raise_error=True)],
        )
    assert ended == []


@pytest.mark.parametrize("raise_error", [False, True])
def test_normal_training_does_not_raise(raise_error):
    """terminate_on_nan_test.py::test_normal_training_does_not_raise."""
    x, y = np.array([[1.0], [2.0]]), np.array([[1.0], [2.0]])
    net = cb.Network([cb.Dense(1, 1)], seed=0)
    history = net.fit(
        x, y, epochs=2, optimizer="sgd", callbacks=[TerminateOnNaN(raise_error=raise_error)]
    )
    assert len(history.history["loss"]) == 2


# ------------------------------------------------------- csv_logger_test.py
def csv_model(seed=1337):
    return cb.Network([cb.Dense(3, 2, "relu"), cb.Dense(2, 1)], loss="mse", seed=seed)


def test_CSVLogger(tmp_path):
    """csv_logger_test.py::test_CSVLogger, cases 1-3: a new file with the separator, then
    appended (header skipped), then the same logger reused: 5 lines of 4 separators, one
    header. (Case 4, ``validation_freq``, is not an option of cartoonbrain's ``fit``.)"""
    rng = np.random.default_rng(1337)
    X, y, X_val, y_val = (
        rng.random((10, 3)),
        rng.random((10, 1)),
        rng.random((10, 3)),
        rng.random((10, 1)),
    )
    path = tmp_path / "log.tsv"
    options = dict(batch_size=4, validation_data=(X_val, y_val), metrics=["mse"], optimizer="sgd")
    csv_model().fit(X, y, epochs=1, callbacks=[CSVLogger(path, separator="\t")], **options)
    assert path.exists()
    with open(path) as f:
        assert csv.Sniffer().sniff(f.read()).delimiter == "\t"
    callbacks = [CSVLogger(path, separator="\t", append=True)]
    net = csv_model()
    net.fit(X, y, epochs=1, callbacks=callbacks, **options)
    net.fit(X, y, epochs=2, callbacks=callbacks, **options)
    lines = path.read_text().splitlines()
    assert [line.count("\t") for line in lines] == [4] * 5
    assert " ".join(lines).count("epoch") == 1


def test_stop_training_csv(tmp_path):
    """csv_logger_test.py::test_stop_training_csv: TerminateOnNaN with CSVLogger leaves a
    valid file whose last row holds the NaN epoch."""
    X, y, X_val, y_val = nan_data()
    path = tmp_path / "csv_logger.csv"
    history = exploding_net().fit(
        X,
        y,
        batch_size=4,
        epochs=20,
        optimizer="sgd",
        validation_data=(X_val, y_val),
        callbacks=[TerminateOnNaN(), CSVLogger(path)],
    )
    loss = history.history["loss"]
    assert len(loss) == 1 and not math.isfinite(loss[0])
    with open(path, newline="") as f:
        rows = [row for row in csv.reader(f) if row]
    assert rows[0][0] == "epoch" and len(rows) == 2
    assert "nan" in rows[-1]


# ------------------------------------------------------- lambda_callback_test.py
def lambda_fit(callback, epochs=5):
    rng = np.random.default_rng(0)
    net = cb.Network([cb.Dense(2, 1)], seed=0)
    net.fit(
        rng.normal(size=(16, 2)),
        rng.normal(size=(16, 1)),
        batch_size=4,
        epochs=epochs,
        validation_split=0.2,
        optimizer="sgd",
        callbacks=[callback],
    )
    return net


def test_lambda_callback():
    """lambda_callback_test.py::test_lambda_callback."""
    seen = []
    lambda_fit(
        LambdaCallback(
            on_train_begin=lambda logs: seen.append("on_train_begin"),
            on_epoch_begin=lambda epoch, logs: seen.append("on_epoch_begin"),
            on_epoch_end=lambda epoch, logs: seen.append("on_epoch_end"),
            on_train_end=lambda logs: seen.append("on_train_end"),
        )
    )
    assert {"on_train_begin", "on_epoch_begin", "on_epoch_end", "on_train_end"} <= set(seen)
    assert seen[0] == "on_train_begin" and seen[-1] == "on_train_end"


def test_lambda_callback_with_batches():
    """lambda_callback_test.py::test_lambda_callback_with_batches: Keras's batch hook names."""
    seen = []
    lambda_fit(
        LambdaCallback(
            on_train_batch_begin=lambda batch, logs: seen.append(("begin", batch)),
            on_train_batch_end=lambda batch, logs: seen.append(("end", batch)),
        )
    )
    assert seen[:2] == [("begin", 0), ("end", 0)] and len(seen) == 2 * 4 * 5


def test_lambda_callback_with_kwargs():
    """lambda_callback_test.py::test_lambda_callback_with_kwargs: on_test_begin in
    evaluate."""
    seen = []
    net = lambda_fit(LambdaCallback(), epochs=1)
    rng = np.random.default_rng(1)
    net.evaluate(
        rng.normal(size=(16, 2)),
        rng.normal(size=(16, 1)),
        batch_size=4,
        callbacks=[LambdaCallback(on_test_begin=lambda logs: seen.append("test"))],
    )
    assert seen == ["test"]


def test_lambda_callback_no_args():
    """lambda_callback_test.py::test_lambda_callback_no_args."""
    assert isinstance(LambdaCallback(), LambdaCallback)


def test_lambda_callback_with_additional_kwargs():
    """lambda_callback_test.py::test_lambda_callback_with_additional_kwargs. Keras keeps
    ``custom_method`` as an attribute that nothing calls; cartoonbrain refuses a name that
    is not a hook (a misspelt ``on_epoch_ends`` would silently never run)."""
    with pytest.raises(ValueError, match=r"unknown callback hook 'custom_method'"):
        LambdaCallback(custom_method=lambda logs: None)


def test_lambda_callback_during_prediction():
    """lambda_callback_test.py::test_lambda_callback_during_prediction."""
    seen = []
    net = cb.Network([cb.Dense(2, 1)], seed=0)
    callback = LambdaCallback(
        on_predict_begin=lambda logs: seen.append("begin"),
        on_predict_batch_end=lambda batch, logs: seen.append(logs["outputs"].shape),
        on_predict_end=lambda logs: seen.append("end"),
    )
    out = net.predict(
        np.random.default_rng(0).normal(size=(16, 2)), batch_size=4, callbacks=[callback]
    )
    assert seen == ["begin", (4, 1), (4, 1), (4, 1), (4, 1), "end"]
    assert callback.model is net and out.shape == (16, 1)


def test_test_hooks_run_during_fits_validation():
    """Keras's fit evaluates the validation data with the callbacks: on_test_begin and
    on_test_end once per epoch."""
    seen = []
    lambda_fit(
        LambdaCallback(
            on_test_begin=lambda logs: seen.append("begin"),
            on_test_end=lambda logs: seen.append(sorted(logs)),
        ),
        epochs=2,
    )
    assert seen == ["begin", ["loss", "mae", "mse", "r2"]] * 2


# ------------------------------------------------------- reduce_lr_on_plateau_test.py
def plateau_fit(reduce_lr, epochs, optimizer=None):
    (X, y), (X_val, y_val) = keras_test_data(10, 10, 3, 2)
    net = cb.Network([cb.Dense(3, 5), cb.Dense(5, 2)], loss="mse", seed=0)
    net.fit(
        X,
        np.eye(2)[y],
        epochs=epochs,
        optimizer=optimizer or cb.Adam(learning_rate=0.1),
        validation_data=(X_val, np.eye(2)[y_val]),
        callbacks=[reduce_lr],
    )
    return net


def test_reduces_lr_with_model_fit():
    """reduce_lr_on_plateau_test.py::test_reduces_lr_with_model_fit."""
    reduce_lr = ReduceLROnPlateau(patience=1, factor=0.1, monitor="val_loss", min_delta=100)
    assert plateau_fit(reduce_lr, 2).optimizer.learning_rate == pytest.approx(0.01)


def test_throws_when_optimizer_has_schedule():
    """reduce_lr_on_plateau_test.py::test_throws_when_optimizer_has_schedule. Keras raises
    TypeError; cartoonbrain a ValueError (its one error type for arguments that do not go
    together)."""
    reduce_lr = ReduceLROnPlateau(patience=1, factor=0.1, monitor="val_loss", min_delta=100)
    schedule = cb.Adam(learning_rate=cb.ExponentialDecay(0.1, decay_steps=10))
    with pytest.raises(ValueError, match=r"changes a fixed learning rate.*schedule"):
        plateau_fit(reduce_lr, 2, schedule)


def test_verbose_logging(capsys):
    """reduce_lr_on_plateau_test.py::test_verbose_logging."""
    reduce_lr = ReduceLROnPlateau(
        patience=1, factor=0.1, monitor="val_loss", min_delta=100, verbose=1
    )
    plateau_fit(reduce_lr, 2)
    assert "ReduceLROnPlateau reducing learning rate to 0.01" in capsys.readouterr().out


def test_honors_min_lr():
    """reduce_lr_on_plateau_test.py::test_honors_min_lr."""
    reduce_lr = ReduceLROnPlateau(
        patience=1, factor=0.1, monitor="val_loss", min_delta=10, min_lr=0.005
    )
    assert plateau_fit(reduce_lr, 4).optimizer.learning_rate == pytest.approx(0.005)


def test_cooldown():
    """reduce_lr_on_plateau_test.py::test_cooldown: reduced twice in 4 epochs."""
    reduce_lr = ReduceLROnPlateau(
        patience=1, factor=0.1, monitor="val_loss", min_delta=100, cooldown=2
    )
    assert plateau_fit(reduce_lr, 4).optimizer.learning_rate == pytest.approx(0.001)


def test_reduce_lr_state_reset_across_fit_calls():
    """reduce_lr_on_plateau_test.py::test_state_reset_across_fit_calls (Keras's
    ``cooldown_counter`` is ``cooldown_left``; ``best`` oriented and infinite, not None)."""
    reduce_lr = ReduceLROnPlateau(patience=1, factor=0.1, monitor="loss", cooldown=2)
    reduce_lr.network = cb.Network([cb.Dense(2, 1)], seed=0)
    reduce_lr.on_train_begin({})
    reduce_lr.best, reduce_lr.wait, reduce_lr.cooldown_left = 0.5, 3, 2
    reduce_lr.on_train_begin({})
    assert (reduce_lr.best, reduce_lr.wait, reduce_lr.cooldown_left) == (math.inf, 0, 0)


# ------------------------------------------------------- model_checkpoint_test.py
def checkpoint_fit(callback, epochs=1, batch_size=5):
    (X, y), (X_val, y_val) = keras_test_data()
    net = softmax_net()
    net.fit(
        X,
        y,
        batch_size=batch_size,
        epochs=epochs,
        optimizer="sgd",
        validation_data=(X_val, y_val),
        metrics=["accuracy", "auc"],
        callbacks=[callback],
    )
    return net


@pytest.mark.parametrize(
    ("monitor", "save_best_only", "mode"),
    [
        ("val_loss", False, "auto"),
        ("val_loss", True, "auto"),
        ("val_acc", True, "max"),
        ("val_loss", True, "min"),
    ],
)
def test_model_checkpoint_options_cases_1_to_4(tmp_path, monitor, save_best_only, mode):
    """model_checkpoint_test.py::test_model_checkpoint_options, cases 1-4: the file is
    written, into a sub-folder that ModelCheckpoint creates."""
    path = tmp_path / "subdir" / "checkpoint.npz"
    checkpoint_fit(ModelCheckpoint(path, monitor=monitor, save_best_only=save_best_only, mode=mode))
    assert path.exists()


def test_model_checkpoint_metric_not_available(tmp_path):
    """model_checkpoint_test.py Case 5: Keras warns and saves; cartoonbrain stops with a
    ValueError naming the quantity and what fit reports."""
    callback = ModelCheckpoint(
        tmp_path / "c.npz", monitor="unknown", save_best_only=True, mode="min"
    )
    with pytest.raises(ValueError, match=r"monitors 'unknown', which fit does not report"):
        checkpoint_fit(callback)


def test_model_checkpoint_integer_save_freq(tmp_path):
    """model_checkpoint_test.py Cases 8a and 8b: save_freq=15 with 6 batches... of 6 rows
    (5 batches an epoch): saved at epochs 3, 6 and 9 only."""
    for weights_only in (False, True):
        pattern = str(tmp_path / f"w{weights_only:d}" / "checkpoint.epoch{epoch:02d}.npz")
        callback = ModelCheckpoint(pattern, save_freq=15, save_weights_only=weights_only)
        checkpoint_fit(callback, epochs=10, batch_size=6)
        saved = [e for e in range(1, 11) if os.path.exists(pattern.format(epoch=e))]
        assert saved == [3, 6, 9]


def test_model_checkpoint_save_freq_argument(tmp_path):
    """model_checkpoint_test.py Case 9."""
    with pytest.raises(ValueError, match=r"save_freq must be 'epoch' or a positive integer"):
        ModelCheckpoint(tmp_path / "c.npz", save_weights_only=True, save_freq="invalid_save_freq")
    ModelCheckpoint(tmp_path / "c.npz", save_weights_only=True, save_freq="epoch")
    ModelCheckpoint(tmp_path / "c.npz", save_weights_only=True, save_freq=3)


def test_model_checkpoint_batch_in_filename(tmp_path):
    """model_checkpoint_test.py Cases 10a and 10b: save_freq=1, 2 batches an epoch."""
    pattern = str(tmp_path / "checkpoint.epoch{epoch:02d}batch{batch:02d}.npz")
    checkpoint_fit(ModelCheckpoint(pattern, save_freq=1), epochs=5, batch_size=15)
    for epoch in range(1, 6):
        for batch in (1, 2):
            assert os.path.exists(pattern.format(epoch=epoch, batch=batch))


@pytest.mark.parametrize(
    ("monitor", "mode", "threshold", "saved"),
    [
        ("val_acc", "max", -0.01, True),  # case 11
        ("val_loss", "auto", None, True),  # case 12
        ("val_loss", "min", 0, False),  # case 13
        ("val_loss", "auto", 0, False),  # case 14
        ("val_auc", "auto", 1, False),  # case 15
    ],
)
def test_model_checkpoint_initial_value_threshold(tmp_path, monitor, mode, threshold, saved):
    """model_checkpoint_test.py Cases 11-15."""
    path = tmp_path / "checkpoint.npz"
    checkpoint_fit(
        ModelCheckpoint(
            path, monitor=monitor, save_best_only=True, mode=mode, initial_value_threshold=threshold
        )
    )
    assert path.exists() is saved


def test_model_checkpoint_loading(tmp_path):
    """model_checkpoint_test.py::test_model_checkpoint_loading: the file loads back with
    the same weights (both ways of saving)."""
    for weights_only in (False, True):
        path = tmp_path / f"checkpoint{weights_only:d}.npz"
        net = checkpoint_fit(ModelCheckpoint(path, save_weights_only=weights_only), epochs=1)
        loaded = cb.load(path)
        np.testing.assert_array_equal(loaded.flat_parameters, net.flat_parameters)
        assert loaded.optimizer is None


def test_save_weights_only_is_a_model_file_without_the_optimizer(tmp_path):
    """Keras writes ``.weights.h5``; cartoonbrain has one format, so save_weights_only
    leaves out the optimizer, and asking for it too is refused."""
    with pytest.raises(ValueError, match=r"save_weights_only leaves the optimizer out"):
        ModelCheckpoint(tmp_path / "c.npz", save_weights_only=True, include_optimizer=True)


def test_defaults_that_differ_from_kerass_on_purpose_are_the_documented_ones():
    """README's table of differences: Keras's leaky ReLU slope is 0.3 (layers.LeakyReLU;
    0.2 in activations.leaky_relu) and its LayerNormalization/BatchNormalization epsilon
    1e-3; cartoonbrain keeps PyTorch's 0.01 and 1e-5."""
    from cartoonbrain.activations import LEAKY_SLOPE, get_activation

    a = np.array([[-2.0, 3.0]])
    assert LEAKY_SLOPE == 0.01
    np.testing.assert_array_equal(get_activation("leaky_relu").f(a.copy()), [[-0.02, 3.0]])
    assert cb.LayerNorm(4).eps == 1e-5 and cb.BatchNorm(4).eps == 1e-5


# ------------------------------------------------------- callback_test.py
def test_model_state_is_current_on_epoch_end():
    """callback_test.py::test_model_state_is_current_on_epoch_end: at a batch's end the
    step is done (Keras counts ``model.iterations``; cartoonbrain's optimizer counts its
    steps)."""
    seen = []
    rng = np.random.default_rng(0)
    net = cb.Network([cb.Dense(1, 1)], seed=0)
    spy = LambdaCallback(
        on_batch_end=lambda batch, logs: seen.append((net.optimizer.iterations, batch + 1))
    )
    net.fit(rng.random((8, 1)), rng.random((8, 1)), batch_size=2, optimizer="sgd", callbacks=[spy])
    assert seen == [(b, b) for b in (1, 2, 3, 4)]
