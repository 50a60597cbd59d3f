"""Resuming from a checkpoint (train/checkpoint.py) reads the file as cb.load does: the
parameters into a network's buffer, Adam's m and v into arrays the optimizer then keeps,
every size checked before it is allocated, and nothing put back unless the whole file is
read and its checksum matches."""

from __future__ import annotations

import tracemalloc
from types import SimpleNamespace

import numpy as np
import pytest

import cartoonbrain as cb
from cartoonbrain.saving.optimizer_state import optimizer_state
from cartoonbrain.train.checkpoint import restore_checkpoint
from model_files import write_raw


def blobs(n=40, n_features=4):
    rng = np.random.default_rng(0)
    X = rng.normal(2.0, 3.0, (n, n_features)).astype(np.float32)
    return X, (X[:, 0] > 2).astype(int)


def batchnorm_net(seed=0):
    layers = [cb.Dense(4, 6, "relu"), cb.BatchNorm(6), cb.Dropout(0.2), cb.Dense(6, 2)]
    return cb.Network(layers, "cross_entropy", seed=seed)


def test_resuming_holds_each_array_once(tmp_path):
    """tracemalloc's peak while restoring: the parameters read into a network's buffer
    (whose zeroed gradient buffer tracemalloc counts too, untouched) and Adam's m and v,
    about 4x the parameters; reading the whole archive, copying it into a new network and
    copying the optimizer's state twice more was about 11x."""
    X = np.random.default_rng(0).normal(size=(8, 1000)).astype(np.float32)
    net = cb.Network([cb.Dense(1000, 1000, "relu"), cb.Dense(1000, 1000)], seed=0)
    net.fit(X, X, epochs=1, batch_size=8, optimizer="adam", checkpoint=tmp_path / "ck.npz")
    twin = cb.Network([cb.Dense(1000, 1000, "relu"), cb.Dense(1000, 1000)], seed=1)
    optimizer = cb.Adam()
    tracemalloc.start()
    try:
        epoch, _, _ = restore_checkpoint(twin, optimizer, tmp_path / "ck.npz")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    nbytes = net.flat_parameters.nbytes
    assert peak < 4.5 * nbytes + 2_000_000, f"{peak / nbytes:.2f}x the parameters"
    assert epoch == 1
    np.testing.assert_array_equal(twin.flat_parameters, net.flat_parameters)
    saved, restored = net.optimizer.state_dict(), optimizer.state_dict()
    assert saved.keys() == restored.keys() == {"iterations", "m.0", "v.0"}
    for key in saved:
        np.testing.assert_array_equal(restored[key], saved[key])


@pytest.mark.parametrize("copy", [True, False])
def test_load_state_dict_copies_unless_told_not_to(copy):
    """copy=False: the arrays given are the buffers each step updates, m ← β₁m + (1−β₁)g."""
    state = {
        "iterations": np.array(0),
        "m.0": np.zeros(3, np.float32),
        "v.0": np.zeros(3, np.float32),
    }
    optimizer = cb.Adam(learning_rate=0.1, beta_1=0.9)
    optimizer.load_state_dict(state, copy=copy)
    w, g = np.ones(3, np.float32), np.full(3, 0.5, np.float32)
    optimizer.step([w], [g])
    np.testing.assert_allclose(optimizer.state_dict()["m.0"], 0.05, atol=1e-7)
    np.testing.assert_allclose(state["m.0"], 0.0 if copy else 0.05, atol=1e-7)


def test_a_resumed_batchnorm_run_finishes_bit_identically(tmp_path):
    """BatchNorm's running statistics come back with the weights (they were left as the
    fresh network's, so a resumed run's validation loss and predictions differed)."""
    X, y = blobs()
    path = tmp_path / "run.npz"

    def train(epochs, **kwargs):
        net = batchnorm_net()
        history = net.fit(X, y, epochs=epochs, batch_size=8, validation_split=0.25, **kwargs)
        return net, history

    straight, straight_history = train(5)
    train(2, checkpoint=path)
    resumed, resumed_history = train(5, checkpoint=path, resume=True)
    np.testing.assert_array_equal(resumed.flat_parameters, straight.flat_parameters)
    np.testing.assert_array_equal(resumed.layers[1].running_mean, straight.layers[1].running_mean)
    np.testing.assert_array_equal(resumed.layers[1].running_var, straight.layers[1].running_var)
    assert resumed_history.history == straight_history.history
    np.testing.assert_array_equal(resumed.predict(X), straight.predict(X))


def checkpoint_members(tmp_path):
    X, y = blobs()
    path = tmp_path / "ck.npz"
    batchnorm_net().fit(X, y, epochs=2, batch_size=8, checkpoint=path)
    with np.load(path) as archive:
        return {k: archive[k] for k in archive.files}


def fresh_run():
    net, optimizer = batchnorm_net(seed=5), cb.Adam()
    before = (net.flat_parameters.copy(), net.layers[1].running_mean.copy())
    return net, optimizer, before, net.rng.bit_generator.state


def assert_untouched(net, optimizer, before, rng_state):
    np.testing.assert_array_equal(net.flat_parameters, before[0])
    np.testing.assert_array_equal(net.layers[1].running_mean, before[1])
    assert net.rng.bit_generator.state == rng_state
    assert optimizer.iterations == 0 and set(optimizer.state_dict()) == {"iterations"}


@pytest.mark.parametrize("damaged", ["optimizer.m.0", "param.0", "state.layer1.running_mean"])
def test_a_damaged_checkpoint_puts_nothing_back(tmp_path, damaged):
    """An array changed under the old checksum: read, found out at the end, refused, and
    the run's network and optimizer are as they were."""
    members = checkpoint_members(tmp_path)
    members[damaged] = members[damaged] + 1
    write_raw(tmp_path / "bad.npz", members, checksum=False)
    net, optimizer, before, rng_state = fresh_run()
    with pytest.raises(cb.ModelFileError, match=r"bad\.npz: damaged model file \(checksum"):
        restore_checkpoint(net, optimizer, tmp_path / "bad.npz")
    assert_untouched(net, optimizer, before, rng_state)


def test_an_optimizer_state_that_does_not_fit_is_refused(tmp_path):
    members = checkpoint_members(tmp_path)
    del members["checksum"]
    members["optimizer.v.0"] = np.zeros(members["optimizer.v.0"].size + 1, np.float32)
    write_raw(tmp_path / "bad.npz", members)
    net, optimizer, before, rng_state = fresh_run()
    with pytest.raises(
        cb.ModelFileError, match=r"bad\.npz: .*optimizer state 'v\.0' is float32 \(57,\); it does"
    ):
        restore_checkpoint(net, optimizer, tmp_path / "bad.npz")
    assert_untouched(net, optimizer, before, rng_state)


def test_optimizer_buffers_are_checked_before_they_are_allocated():
    """A buffer the network cannot have is refused from its header alone: nothing read,
    nothing allocated for the 40 GB it declares."""
    net = cb.Network([cb.Dense(3, 4), cb.Dense(4, 2)], seed=0)
    header = SimpleNamespace(dtype=np.dtype(np.float32), shape=(10**10,))
    stored = {"optimizer.iterations": SimpleNamespace(dtype=np.dtype(np.int64), shape=())}
    stored |= {"optimizer.m.0": header, "optimizer.v.0": header}

    def read(name, out):
        raise AssertionError(f"{name} read before its header was checked")

    with pytest.raises(ValueError, match=r"'m\.0' is float32 \(10000000000,\); it does not"):
        optimizer_state(stored, read, net)
