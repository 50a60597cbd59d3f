"""fit's callbacks with Keras's names and behaviour, sample and class weights, and a second
fit going on with the same optimizer."""

import csv
import math

import numpy as np
import pytest

import cartoonbrain as cb
from cartoonbrain.train import CSVLogger, ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN


def blobs(n=60, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    X = rng.normal(size=(n, 4)) + np.eye(3, 4)[y] * 3
    return X, y


def classifier(seed=0):
    return cb.Network(
        [cb.Dense(4, 8, "tanh"), cb.Dense(8, 3)], loss="cross_entropy", seed=seed, dtype="float64"
    )


# ------------------------------------------------------------------ the optimizer goes on
def test_a_second_fit_goes_on_with_the_same_optimizer_and_its_state():
    X, y = blobs()
    once, twice = classifier(), classifier()
    once.fit(X, y, epochs=4, batch_size=16, optimizer=cb.Adam(learning_rate=0.01))
    twice.fit(X, y, epochs=2, batch_size=16, optimizer=cb.Adam(learning_rate=0.01))
    first = twice.optimizer
    twice.fit(X, y, epochs=2, batch_size=16)  # no optimizer: the same one, state and all
    assert twice.optimizer is first
    np.testing.assert_array_equal(twice.flat_parameters, once.flat_parameters)


def test_a_new_optimizer_starts_afresh():
    X, y = blobs()
    net = classifier()
    net.fit(X, y, epochs=1, optimizer="adam")
    first = net.optimizer
    net.fit(X, y, epochs=1, optimizer="adam")
    assert net.optimizer is not first


# ------------------------------------------------------------------ weights
def test_zero_and_integer_sample_weights_drop_and_repeat_samples():
    X, y = blobs(30)
    w = np.random.default_rng(1).integers(0, 3, size=len(X))
    weighted, repeated = classifier(), classifier()
    options = dict(epochs=3, batch_size=1000, shuffle=False, optimizer=cb.SGD(learning_rate=0.5))
    h1 = weighted.fit(X, y, sample_weight=w, **options)
    options["optimizer"] = cb.SGD(learning_rate=0.5)
    h2 = repeated.fit(np.repeat(X, w, axis=0), np.repeat(y, w), **options)
    np.testing.assert_allclose(h1["loss"], h2["loss"], rtol=1e-12)
    np.testing.assert_allclose(weighted.flat_parameters, repeated.flat_parameters, atol=1e-12)


def test_balanced_class_weight_equals_the_per_class_sample_weights():
    X, y = blobs(40)
    y[:25] = 0  # unbalanced
    counts = np.bincount(y, minlength=3)
    w = len(y) / (3 * counts[y])
    a, b = classifier(), classifier()
    a.fit(X, y, epochs=2, batch_size=8, class_weight="balanced", optimizer="sgd")
    b.fit(X, y, epochs=2, batch_size=8, sample_weight=w, optimizer="sgd")
    np.testing.assert_array_equal(a.flat_parameters, b.flat_parameters)
    c = classifier()
    c.fit(X, y, epochs=2, batch_size=8, class_weight={0: 2.0}, optimizer="sgd")
    d = classifier()
    d.fit(X, y, epochs=2, batch_size=8, sample_weight=np.where(y == 0, 2.0, 1.0), optimizer="sgd")
    np.testing.assert_array_equal(c.flat_parameters, d.flat_parameters)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sample_weight": np.ones(3)}, r"sample_weight has shape \(3,\); expected \(60,\)"),
        ({"sample_weight": -np.ones(60)}, r"sample_weight -1\.0 at row 0; expected finite"),
        ({"sample_weight": np.zeros(60)}, r"sample_weight is zero for every sample"),
        ({"class_weight": {7: 1.0}}, r"class_weight key 7 is not a class id 0\.\.2"),
        ({"class_weight": "even"}, r"class_weight must be a dict or 'balanced'"),
    ],
)
def test_bad_weights_are_named(kwargs, match):
    X, y = blobs()
    with pytest.raises(ValueError, match=match):
        classifier().fit(X, y, **kwargs)


def test_weighted_evaluate_is_the_weighted_mean():
    X, y = blobs(20)
    net = classifier()
    w = np.arange(20, dtype=float)
    per_sample = [net.evaluate(X[i : i + 1], y[i : i + 1])["loss"] for i in range(20)]
    expected = np.dot(w, per_sample) / w.sum()
    assert net.evaluate(X, y, sample_weight=w)["loss"] == pytest.approx(expected, rel=1e-12)


# ------------------------------------------------------------------ Keras's callbacks
def test_callbacks_see_the_network_as_model_too():
    X, y = blobs()
    seen = []
    spy = cb.LambdaCallback(on_train_begin=lambda logs: None)
    net = classifier()
    spy.on_epoch_end = lambda epoch, logs: seen.append(spy.model)
    net.fit(X, y, epochs=2, callbacks=[spy])
    assert seen == [net, net] and spy.network is net


def test_terminate_on_nan_stops_quietly_with_finite_weights():
    X = np.random.default_rng(0).normal(size=(64, 3))
    y = X.sum(axis=1)
    net = cb.Network([cb.Dense(3, 1)], seed=0)
    history = net.fit(
        X,
        y,
        epochs=5,
        batch_size=8,
        optimizer=cb.SGD(learning_rate=1e6),
        callbacks=[TerminateOnNaN()],
    )
    assert history.stopped_early
    assert np.isfinite(net.flat_parameters).all()
    with pytest.raises(cb.TrainingDiverged):  # without it, the same run raises
        cb.Network([cb.Dense(3, 1)], seed=0).fit(
            X, y, epochs=5, batch_size=8, optimizer=cb.SGD(learning_rate=1e6)
        )


def test_reduce_lr_on_plateau_multiplies_the_rate_after_patience_epochs():
    X, y = blobs()
    net = classifier()
    rates = []
    watch = cb.LambdaCallback(
        on_epoch_end=lambda e, logs: rates.append(net.optimizer.learning_rate)
    )
    # min_delta so large that no epoch counts as an improvement after the first
    plateau = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, min_delta=1e9)
    net.fit(X, y, epochs=6, optimizer=cb.SGD(learning_rate=0.1), callbacks=[plateau, watch])
    # epoch 0 improves on inf; epochs 1, 2 wait; at 2 the rate halves; 3, 4 wait; halves at 4
    np.testing.assert_allclose(rates, [0.1, 0.1, 0.05, 0.05, 0.025, 0.025])


def test_reduce_lr_on_plateau_respects_min_lr_and_refuses_a_schedule():
    X, y = blobs()
    net = classifier()
    plateau = ReduceLROnPlateau(monitor="loss", factor=0.1, patience=1, min_delta=1e9, min_lr=0.05)
    net.fit(X, y, epochs=5, optimizer=cb.SGD(learning_rate=0.1), callbacks=[plateau])
    assert net.optimizer.learning_rate == pytest.approx(0.05)
    scheduled = cb.SGD(learning_rate=cb.ExponentialDecay(0.1, 10, 0.5))
    with pytest.raises(ValueError, match=r"ReduceLROnPlateau changes a fixed learning rate"):
        classifier().fit(X, y, epochs=1, optimizer=scheduled, callbacks=[ReduceLROnPlateau()])


def test_model_checkpoint_keeps_the_best_model_only(tmp_path):
    X, y = blobs()
    net = classifier()
    path = tmp_path / "best.npz"
    best = {}

    def remember(epoch, logs):
        if logs["val_loss"] < best.get("val_loss", math.inf):
            best.update(val_loss=logs["val_loss"], weights=net.flat_parameters.copy())

    history = net.fit(
        X,
        y,
        epochs=8,
        optimizer=cb.SGD(learning_rate=2.0),  # jumpy: the last epoch need not be the best
        validation_split=0.3,
        callbacks=[
            ModelCheckpoint(path, monitor="val_loss", save_best_only=True),
            cb.LambdaCallback(on_epoch_end=remember),
        ],
    )
    assert min(history["val_loss"]) == best["val_loss"]
    np.testing.assert_array_equal(cb.load(path).flat_parameters, best["weights"])


def test_model_checkpoint_fills_epoch_and_logs_into_the_name(tmp_path):
    X, y = blobs()
    pattern = str(tmp_path / "m-{epoch:02d}-{loss:.2f}.npz")
    classifier().fit(X, y, epochs=2, callbacks=[ModelCheckpoint(pattern, monitor="loss")])
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 2 and names[0].startswith("m-01-") and names[1].startswith("m-02-")
    with pytest.raises(ValueError, match=r"names 'nope'"):
        classifier().fit(X, y, callbacks=[ModelCheckpoint(str(tmp_path / "{nope}.npz"))])


@pytest.mark.parametrize("append", [False, True])
def test_csv_logger_writes_a_row_per_epoch(tmp_path, append):
    X, y = blobs()
    path = tmp_path / "log.csv"
    net = classifier()
    net.fit(X, y, epochs=2, callbacks=[CSVLogger(path)])
    net.fit(X, y, epochs=3, callbacks=[CSVLogger(path, append=append)])
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "accuracy", "loss"]
    assert len(rows) == 1 + (2 + 3 if append else 3)
    assert [r[0] for r in rows[1:]][-3:] == ["0", "1", "2"]


@pytest.mark.parametrize("monitor", ["val_acc", "val_accuracy"])
def test_early_stopping_takes_kerass_short_names_and_picks_the_direction(monitor):
    stopper = cb.EarlyStopping(monitor=monitor)
    assert stopper.monitor == "val_accuracy" and stopper.mode == "max"
    X, y = blobs()
    classifier().fit(X, y, epochs=2, validation_split=0.2, callbacks=[stopper])
    assert stopper.best < 0  # oriented: the best accuracy, negated


def test_exponential_decay_takes_kerass_arguments_in_kerass_order():
    """keras.optimizers.schedules.ExponentialDecay(initial_learning_rate, decay_steps,
    decay_rate, staircase=False): lr = initial · rate^(t / steps), or ^⌊t / steps⌋."""
    smooth = cb.ExponentialDecay(0.1, 10, 0.5)
    stairs = cb.ExponentialDecay(0.1, 10, 0.5, staircase=True)
    for t in (0, 5, 10, 15, 25):
        assert smooth(t) == pytest.approx(0.1 * 0.5 ** (t / 10), rel=1e-15)
        assert stairs(t) == pytest.approx(0.1 * 0.5 ** (t // 10), rel=1e-15)


def keras_cosine_decay(t, initial, decay_steps, alpha=0.0, warmup_target=None, warmup_steps=0):
    """keras.optimizers.schedules.CosineDecay's formula, restated from its source."""
    if warmup_target is not None and t < warmup_steps:
        return initial + (warmup_target - initial) * t / warmup_steps
    peak = initial if warmup_target is None else warmup_target
    step = min(t - (warmup_steps if warmup_target is not None else 0), decay_steps)
    cosine = 0.5 * (1 + math.cos(math.pi * step / decay_steps))
    return peak * ((1 - alpha) * cosine + alpha)


@pytest.mark.parametrize(
    "args", [(0.1, 20), (0.1, 20, 0.05), (0.01, 30, 0.1, 0.2, 10), (0.5, 7, 0.0, 1.0, 3)]
)
def test_cosine_decay_takes_kerass_arguments_in_kerass_order(args):
    schedule = cb.CosineDecay(*args)
    for t in range(0, 45):
        assert schedule(t) == pytest.approx(keras_cosine_decay(t, *args), rel=1e-12, abs=1e-15)


def test_cosine_decay_keeps_reading_its_old_minimum_learning_rate():
    old = cb.CosineDecay(0.2, decay_steps=10, warmup_steps=2, minimum_learning_rate=0.02)
    assert old.alpha == pytest.approx(0.1)
    again = cb.optimizers.get_schedule(old.get_config())
    assert [again(t) for t in range(15)] == [old(t) for t in range(15)]
    assert old(0) == pytest.approx(0.1) and old(1) == pytest.approx(0.2)  # from 0 to 0.2
    assert old(20) == pytest.approx(0.02)
