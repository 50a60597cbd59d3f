"""Model files: round trips, one serialisation, atomic writes, damaged and hostile files,
format versions, and the files 0.1.0 wrote."""

import copy
import json
import os
import pickle
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

import cartoonbrain as cb
from cartoonbrain import io as cbio
from cartoonbrain.train.checkpoint import restore_checkpoint
from model_files import config_of, encode, members_of, write_raw
from tolerance import assert_same_maths

V0_1_0 = Path(__file__).parent / "data" / "v0_1_0"


def trained(dtype="float32", loss="cross_entropy", optimizer="adam"):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4))
    y = rng.integers(0, 3, size=40)
    net = cb.Network(
        [cb.Dense(4, 6, "tanh"), cb.Dropout(0.1), cb.Dense(6, 3)],
        loss=loss,
        seed=1,
        dtype=dtype,
        l2=0.01,
        metadata={"classes": ["a", "b", "c"], "scale": 2.5},
    )
    net.fit(X, y, epochs=2, batch_size=8, optimizer=optimizer)
    return net, X


def listing(folder):
    return sorted(os.listdir(folder))


# ------------------------------------------------------------------ round trips
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_save_load_round_trip(tmp_path, dtype):
    net, X = trained(dtype)
    path = tmp_path / "model.npz"
    net.save(path)
    loaded = cb.load(path)
    assert loaded.get_config() == net.get_config()
    assert loaded.dtype == np.dtype(dtype)
    for p, q in zip(loaded.parameters(), net.parameters()):
        assert p.dtype == q.dtype
        np.testing.assert_array_equal(p, q)
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))
    assert loaded.metadata == {"classes": ["a", "b", "c"], "scale": 2.5}
    assert loaded.optimizer is None  # not asked for
    assert listing(tmp_path) == ["model.npz"]


def test_save_function_str_paths_and_overwrite(tmp_path, monkeypatch):
    net, _ = trained()
    monkeypatch.chdir(tmp_path)
    cb.save(net, "m.npz")
    other = cb.Network([cb.Dense(2, 1)], seed=0)
    other.save("m.npz")  # replaces the file
    assert cb.load("m.npz").get_config() == other.get_config()
    assert listing(tmp_path) == ["m.npz"]


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop", "adamw"])
def test_include_optimizer_saves_its_state(tmp_path, optimizer):
    net, _ = trained(optimizer=optimizer)
    path = tmp_path / "model.npz"
    net.save(path, include_optimizer=True)
    loaded = cb.load(path)
    assert loaded.optimizer.get_config() == net.optimizer.get_config()
    state, saved = net.optimizer.state_dict(), loaded.optimizer.state_dict()
    assert set(saved) == set(state)
    for key in state:
        np.testing.assert_array_equal(saved[key], state[key])
    assert loaded.optimizer.iterations == net.optimizer.iterations == 10


@pytest.mark.parametrize("name", ["sgd", "rmsprop"])
def test_a_model_saved_before_formula_loads_with_the_rule_that_wrote_it(tmp_path, name):
    """SGD and RMSprop follow Keras's rule now; a file whose optimizer config has no
    ``formula`` was written by PyTorch's rule, and loads with it."""
    net, _ = trained(optimizer=name)
    members = members_of(net, net.optimizer)
    config = config_of(members)
    assert config["optimizer"].pop("formula") == "keras"
    write_raw(tmp_path / "old.npz", {**members, "config.json": encode(config)})
    assert cb.load(tmp_path / "old.npz").optimizer.formula == "pytorch"
    write_raw(tmp_path / "new.npz", members)
    assert cb.load(tmp_path / "new.npz").optimizer.formula == "keras"


def test_a_loaded_model_with_its_optimizer_continues_training_as_the_original(tmp_path):
    net, X = trained(optimizer="adam")
    y = np.arange(40) % 3
    net.save(tmp_path / "m.npz", include_optimizer=True)
    loaded = cb.load(tmp_path / "m.npz")
    for model in (net, loaded):  # same weights, same Adam moments, same step count
        model.optimizer.step([model.flat_parameters], [np.ones_like(model.flat_parameters)])
    np.testing.assert_array_equal(loaded.flat_parameters, net.flat_parameters)
    loaded.fit(X, y, epochs=1, optimizer=loaded.optimizer)


# ------------------------------------------------------------------ atomic writes
def test_a_failing_write_leaves_the_old_file_untouched_and_no_temporaries(tmp_path, monkeypatch):
    net, _ = trained()
    path = tmp_path / "model.npz"
    net.save(path)
    old = path.read_bytes()

    def broken_savez(file, *args, **kwargs):
        file.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        cb.Network([cb.Dense(2, 1)], seed=5).save(path)
    assert path.read_bytes() == old
    assert listing(tmp_path) == ["model.npz"]


def test_a_write_that_does_not_verify_is_not_moved_into_place(tmp_path, monkeypatch):
    net, _ = trained()
    path = tmp_path / "model.npz"
    net.save(path)
    old = path.read_bytes()
    monkeypatch.setattr(np, "savez", lambda file, *a, **k: file.write(b"PK\x03\x04 garbage"))
    with pytest.raises(cb.ModelFileError, match=re.escape(str(path))):
        net.save(path)
    assert path.read_bytes() == old
    assert listing(tmp_path) == ["model.npz"]


def test_a_failing_rename_leaves_the_old_file_untouched_and_no_temporaries(tmp_path, monkeypatch):
    net, _ = trained()
    path = tmp_path / "model.npz"
    net.save(path)
    old = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="rename failed"):
        cb.Network([cb.Dense(2, 1)], seed=5).save(path)
    assert path.read_bytes() == old
    assert listing(tmp_path) == ["model.npz"]


def test_a_failing_first_write_creates_no_file(tmp_path, monkeypatch):
    def broken_savez(file, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(KeyboardInterrupt):
        cb.Network([cb.Dense(2, 1)]).save(tmp_path / "new.npz")
    assert listing(tmp_path) == []


# ------------------------------------------------------------------ damaged files
def good_bytes(tmp_path):
    net, _ = trained()
    net.save(tmp_path / "good.npz")
    return (tmp_path / "good.npz").read_bytes()


def truncated(data, folder):
    return data[: len(data) // 2]


def flipped_in_the_middle(data, folder):
    b = bytearray(data)
    b[len(b) // 2] ^= 0xFF
    return bytes(b)


def random_bytes(data, folder):
    return np.random.default_rng(0).bytes(len(data))


def empty(data, folder):
    return b""


def text(data, folder):
    return b"<!DOCTYPE html><html><body>404 Not Found</body></html>\n"


def plain_npy(data, folder):
    np.save(folder / "x.npy", np.arange(5.0))
    return (folder / "x.npy").read_bytes()


def zip_without_config(data, folder):
    np.savez(folder / "x.npz", weights=np.ones(3))
    return (folder / "x.npz").read_bytes()


def zip_of_text(data, folder):
    with zipfile.ZipFile(folder / "x.zip", "w") as z:
        z.writestr("readme.txt", "hello")
    return (folder / "x.zip").read_bytes()


DAMAGES = [
    truncated,
    flipped_in_the_middle,
    random_bytes,
    empty,
    text,
    plain_npy,
    zip_without_config,
    zip_of_text,
]


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda f: f.__name__)
def test_damaged_or_foreign_files_raise_model_file_error_naming_the_file(tmp_path, damage):
    path = tmp_path / "broken model.npz"
    path.write_bytes(damage(good_bytes(tmp_path), tmp_path))
    with pytest.raises(cb.ModelFileError, match=re.escape(str(path))) as info:
        cb.load(path)
    assert isinstance(info.value, ValueError)


def test_every_flipped_byte_is_caught_or_harmless(tmp_path):
    """A bit flipped anywhere either raises ModelFileError naming the file, or sits in zip
    metadata nothing reads (timestamps, attributes) and the very same model loads."""
    data = good_bytes(tmp_path)
    original = cb.load(tmp_path / "good.npz")
    path = tmp_path / "m.npz"
    caught = 0
    for position in np.random.default_rng(0).choice(len(data), 150, replace=False):
        damaged = bytearray(data)
        damaged[position] ^= 0x10
        path.write_bytes(bytes(damaged))
        try:
            loaded = cb.load(path)
        except cb.ModelFileError as exc:
            assert str(path) in str(exc)
            caught += 1
        else:
            assert loaded.get_config() == original.get_config()
            np.testing.assert_array_equal(loaded.flat_parameters, original.flat_parameters)
    assert caught > 100


@pytest.mark.parametrize("damage", [plain_npy, text], ids=lambda f: f.__name__)
def test_a_file_that_is_not_an_npz_archive_is_called_that(tmp_path, damage):
    """A .npy or a web page saved by mistake: not an .npz archive, with no talk of pickles."""
    path = tmp_path / "model.npz"
    path.write_bytes(damage(b"", tmp_path))
    with pytest.raises(cb.ModelFileError, match=r"not a cartoonbrain model file") as info:
        cb.load(path)
    assert "not an .npz archive" in str(info.value)
    assert "pickle" not in str(info.value)


def test_a_changed_array_fails_the_checksum(tmp_path):
    """A well-formed archive whose numbers were edited (the zip's CRCs are fine)."""
    net, _ = trained()
    members = members_of(net)
    members["checksum"] = cbio.digest(members)
    members["param.0"] = members["param.0"] + 1
    path = tmp_path / "edited.npz"
    write_raw(path, members, checksum=False)
    with pytest.raises(cb.ModelFileError, match=r"edited\.npz: damaged model file \(checksum"):
        cb.load(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(cb.ModelFileError, match=r"nope\.npz: no such file"):
        cb.load(tmp_path / "nope.npz")
    with pytest.raises(cb.ModelFileError, match=re.escape(str(tmp_path)) + ": is a folder"):
        cb.load(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_at_once_instead_of_waiting_for_a_writer(tmp_path):
    os.mkfifo(tmp_path / "pipe.npz")
    with pytest.raises(cb.ModelFileError, match=r"pipe\.npz: is not a regular file"):
        cb.load(tmp_path / "pipe.npz")


def test_pickled_object_arrays_are_refused(tmp_path):
    net, _ = trained()
    members = members_of(net)
    members["param.0"] = np.array([{"evil": "payload"}, None], dtype=object)
    members["checksum"] = np.zeros(32, dtype=np.uint8)
    path = tmp_path / "pickled.npz"
    np.savez(path, allow_pickle=True, **members)
    with pytest.raises(cb.ModelFileError, match=r"pickled\.npz: refused .*pickle"):
        cb.load(path)


# ------------------------------------------------------------------ crafted configs
def write_with_config(path, edit, net=None):
    """A model file whose config was edited by `edit`, with a valid checksum."""
    net = net or cb.Network([cb.Dense(3, 4, "relu"), cb.Dense(4, 2)], seed=0)
    members = members_of(net)
    config = config_of(members)
    edit(config)
    members["config.json"] = encode(config)
    write_raw(path, members)


@pytest.mark.parametrize("version", [2, 0, "1", None, 1.0, True])
def test_a_format_version_mismatch_names_both_versions(tmp_path, version):
    path = tmp_path / "future.npz"
    write_with_config(path, lambda c: c.update(format_version=version))
    pattern = rf"future\.npz: model file format version {re.escape(repr(version))}; "
    pattern += rf"this cartoonbrain reads version {cbio.FORMAT_VERSION}"
    with pytest.raises(cb.ModelFileError, match=pattern):
        cb.load(path)


def test_another_format_is_not_a_model(tmp_path):
    path = tmp_path / "other.npz"
    write_with_config(path, lambda c: c.update(format="keras"))
    with pytest.raises(cb.ModelFileError, match=r"other\.npz: not a cartoonbrain model file"):
        cb.load(path)


def set_layer(key, value, index=0):
    def edit(config):
        config["network"]["layers"][index][key] = value

    return edit


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (set_layer("type", "Lambda"), r"unknown layer type 'Lambda'"),
        (set_layer("type", "os.system"), r"unknown layer type 'os\.system'"),
        (set_layer("activation", "__import__('os')"), r"unknown activation"),
        (set_layer("init", "eval"), r"unknown init 'eval'"),
        (set_layer("n_in", 5), r"parameter 0 is float32 \(4, 3\); the architecture needs"),
        (
            lambda c: c["network"].update(input_shape=[5]),
            r"Dense\(3, 4\) takes inputs of shape \(3,\) but gets \(5,\)",
        ),
        (set_layer("command", "rm -rf /"), r"bad Dense config"),
        (lambda c: c["network"].update(loss="pickle"), r"unknown loss 'pickle'"),
        (lambda c: c["network"].update(dtype="object"), r"dtype must be"),
        (lambda c: c.pop("network"), r"architecture cannot be built"),
        (lambda c: c["network"].update(layers="Dense"), r"list of 'layers'"),
    ],
)
def test_unknown_or_inconsistent_architectures_are_refused(tmp_path, edit, match):
    path = tmp_path / "crafted.npz"
    write_with_config(path, edit)
    with pytest.raises(cb.ModelFileError, match=r"crafted\.npz: .*" + match):
        cb.load(path)


def test_extra_or_missing_parameters_are_refused(tmp_path):
    net = cb.Network([cb.Dense(3, 4, "relu"), cb.Dense(4, 2)], seed=0)
    members = members_of(net)
    write_raw(tmp_path / "extra.npz", dict(members, **{"param.4": np.ones(2, np.float32)}))
    with pytest.raises(cb.ModelFileError, match=r"more parameters than the architecture"):
        cb.load(tmp_path / "extra.npz")
    write_raw(tmp_path / "missing.npz", {k: v for k, v in members.items() if k != "param.3"})
    with pytest.raises(cb.ModelFileError, match=r"parameter 3 is missing"):
        cb.load(tmp_path / "missing.npz")


# ------------------------------------------------------------------ one serialisation
def test_model_files_checkpoints_and_pickles_hold_the_same_state(tmp_path):
    """One network is serialised one way: Network.state() is what a pickle holds and what
    a model file and a checkpoint read back as."""
    net, X = trained()
    config, arrays = net.state(net.optimizer)
    pickled = net.__getstate__()
    assert pickled["config"] == config and pickled["arrays"].keys() == arrays.keys()
    net.save(tmp_path / "m.npz", include_optimizer=True)
    read_config, read_arrays = cbio.read_archive(tmp_path / "m.npz")
    assert read_config == json.loads(json.dumps(config))
    assert read_arrays.keys() == arrays.keys()
    for key in arrays:
        np.testing.assert_array_equal(read_arrays[key], arrays[key])
    rebuilt = cb.Network.from_state(config, arrays)
    np.testing.assert_array_equal(rebuilt.predict(X), net.predict(X))


@pytest.mark.parametrize("copier", [copy.deepcopy, lambda n: pickle.loads(pickle.dumps(n))])
def test_a_copy_keeps_weights_generator_and_optimizer(copier):
    net, X = trained()
    twin = copier(net)
    assert twin.flat_parameters is not net.flat_parameters
    np.testing.assert_array_equal(twin.flat_parameters, net.flat_parameters)
    assert twin.rng.bit_generator.state == net.rng.bit_generator.state
    assert twin.optimizer.get_config() == net.optimizer.get_config()
    assert twin.optimizer.iterations == net.optimizer.iterations
    y = np.arange(len(X)) % 3
    for model in (net, twin):  # the same next epoch: same shuffles, dropout, Adam moments
        model.fit(X, y, epochs=1, optimizer=model.optimizer)
    np.testing.assert_array_equal(twin.flat_parameters, net.flat_parameters)


def test_layer_state_goes_with_the_parameters(tmp_path):
    """BatchNorm's running statistics are state, not parameters: saved, loaded, pickled."""
    rng = np.random.default_rng(3)
    X = rng.normal(2.0, 3.0, (40, 4))
    net = cb.Network([cb.Dense(4, 6), cb.BatchNorm(6), cb.Dense(6, 2)], "cross_entropy", seed=0)
    net.fit(X, (X[:, 0] > 2).astype(int), epochs=3, batch_size=8)
    net.save(tmp_path / "bn.npz")
    for twin in (cb.load(tmp_path / "bn.npz"), pickle.loads(pickle.dumps(net))):
        np.testing.assert_array_equal(twin.layers[1].running_var, net.layers[1].running_var)
        np.testing.assert_array_equal(twin.predict(X), net.predict(X))
    members = members_of(net)
    members["state.layer1.running_mean"] = np.zeros(7, np.float32)
    write_raw(tmp_path / "bad.npz", members)
    with pytest.raises(
        cb.ModelFileError, match=r"bad\.npz: .*'layer1.running_mean' is float32 \(7,\)"
    ):
        cb.load(tmp_path / "bad.npz")


def test_a_loaded_model_goes_on_with_the_saved_generator(tmp_path):
    net, _ = trained()
    net.save(tmp_path / "m.npz")
    assert cb.load(tmp_path / "m.npz").rng.bit_generator.state == net.rng.bit_generator.state


def test_checkpoints_and_io_share_no_private_names():
    import cartoonbrain.train.checkpoint as checkpoint

    source = Path(checkpoint.__file__).read_text()
    assert not re.search(r"from \.\.io[\w.]* import[^\n]*\b_", source)


# ------------------------------------------------------------------ atomic writes, errors
def test_a_full_disk_names_the_file_not_the_temporary(tmp_path, monkeypatch):
    def full(file, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", full)
    with pytest.raises(OSError, match=r"No space left on device") as info:
        cb.Network([cb.Dense(2, 1)]).save(tmp_path / "model.npz")
    assert str(tmp_path / "model.npz") in str(info.value) and ".tmp" not in str(info.value)
    assert info.value.errno == 28


def test_a_killed_writers_temporary_is_removed_by_the_next_write(tmp_path):
    stale = tmp_path / ".model.npz.999999999.tmp"  # no such process
    stale.write_bytes(b"half")
    cb.Network([cb.Dense(2, 1)]).save(tmp_path / "model.npz")
    assert listing(tmp_path) == ["model.npz"]


def test_a_config_that_is_not_json_is_refused_before_writing(tmp_path):
    net = cb.Network([cb.Dense(2, 1)], metadata={"scale": np.float32(2)})
    with pytest.raises(ValueError, match=r"model\.npz: the config cannot be written as JSON"):
        net.save(tmp_path / "model.npz")
    assert listing(tmp_path) == []


# ------------------------------------------------------------------ files saved by 0.1.0
with np.load(V0_1_0 / "expected.npz", allow_pickle=False) as _expected:
    EXPECTED = dict(_expected)


@pytest.mark.parametrize("name", ["dense_classifier", "regressor", "cnn", "checkpoint"])
def test_files_saved_by_0_1_0_load_and_predict_the_same(name):
    net = cb.load(V0_1_0 / f"{name}.npz")
    X, P = EXPECTED[f"{name}.X"], EXPECTED[f"{name}.P"]
    assert_same_maths(net.predict(X), P)


def test_0_1_0_metadata_and_optimizer_come_back():
    assert cb.load(V0_1_0 / "dense_classifier.npz").metadata == {"classes": ["low", "mid", "high"]}
    regressor = cb.load(V0_1_0 / "regressor.npz")
    assert regressor.metadata["scaling"] == {"mean": [0.1, -0.2, 0.3], "std": [1.0, 2.0, 0.5]}
    assert regressor.dtype == np.float64 and regressor.l2 == 0.001
    cnn = cb.load(V0_1_0 / "cnn.npz")
    assert cnn.optimizer.get_config()["name"] == "adam" and cnn.optimizer.iterations == 9


def checkpointed_run(path, epochs):
    """The run that wrote the 0.1.0 checkpoint (tests/data/v0_1_0/make_files.py)."""
    net = cb.Network([cb.Dense(3, 4, "tanh"), cb.Dense(4, 2)], "cross_entropy", seed=7)
    stop = cb.EarlyStopping(patience=4, min_delta=0.05)
    X, y = EXPECTED["checkpoint.train_X"], EXPECTED["checkpoint.train_y"]
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


def test_a_0_1_0_checkpoint_restores_its_state():
    info = json.loads((V0_1_0 / "checkpoint.json").read_text())
    net = cb.Network([cb.Dense(3, 4, "tanh"), cb.Dense(4, 2)], "cross_entropy", seed=7)
    stop = cb.EarlyStopping(patience=4, min_delta=0.05)
    stop.network = net
    optimizer = cb.Adam()
    epoch, history, states = restore_checkpoint(net, optimizer, V0_1_0 / "checkpoint.npz", [stop])
    assert epoch == info["epoch"] and optimizer.iterations == info["optimizer_iterations"]
    assert history.history == info["history"] and history.epoch == info["history_epochs"]
    stop.load_state_dict(states[0])
    assert (stop.best, stop.best_epoch, stop.wait) == tuple(info["early_stopping"].values())
    assert stop.best_weights is not None and stop.best_weights.shape == net.flat_parameters.shape


def test_a_0_1_0_checkpoint_resumes_to_the_same_end(tmp_path):
    info = json.loads((V0_1_0 / "checkpoint.json").read_text())
    path = tmp_path / "checkpoint.npz"
    path.write_bytes((V0_1_0 / "checkpoint.npz").read_bytes())
    net, history, _ = checkpointed_run(path, 12)
    assert history.epoch == info["resumed_epochs"] and history.stopped_early
    for key, values in info["resumed_history"].items():
        np.testing.assert_allclose(history.history[key], values, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(
        net.flat_parameters, EXPECTED["checkpoint.resumed_parameters"], rtol=1e-4, atol=1e-6
    )


# ------------------------------------------------------------ save refuses what load cannot rebuild
def _custom_activation(name):
    return cb.Activation(name, np.tanh, lambda a, o: 1 - o * o, lambda g, a, o: g * (1 - o * o))


class Doubler(cb.Layer):
    """A layer nobody registered."""

    def forward(self, o_prev, training=False):
        return 2 * o_prev

    def backward(self, g, need_input_gradient=True):
        return 2 * g


class WiderDense(cb.Dense):
    """A subclass that keeps Dense's config, so it would come back as a plain Dense."""

    def forward(self, o_prev, training=False):
        return 2 * super().forward(o_prev, training)


class ShoutingMSE(type(cb.get_loss("mse"))):
    """A subclass behind the built-in loss's name."""


class Faster(cb.Adam):
    """An optimizer subclass behind Adam's name."""


def _dense_with(activation):
    return cb.Network([cb.Dense(3, 2, activation)], seed=0)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (
            lambda: _dense_with(_custom_activation("swoosh")),
            r"layer 0's activation 'swoosh' is not registered",
        ),
        (
            lambda: _dense_with(_custom_activation("relu")),
            r"layer 0's activation 'relu' is not the registered one",
        ),
        (
            lambda: cb.Network([Doubler(), cb.Dense(3, 2)], input_shape=(3,)),
            r"layer 0 \(test_io\.Doubler\) is not registered.*@cartoonbrain\.layers\.register_la",
        ),
        (
            lambda: cb.Network([WiderDense(3, 2)]),
            r"layer 0 \(test_io\.WiderDense\) is saved as 'Dense', which is cartoonbrain\.layers",
        ),
        (
            lambda: cb.Network([cb.Dense(3, 2)], loss=ShoutingMSE()),
            r"the loss test_io\.ShoutingMSE .*@cartoonbrain\.losses\.register_loss",
        ),
    ],
)
def test_save_refuses_what_load_could_not_rebuild_naming_the_class(tmp_path, make, match):
    net = make()
    with pytest.raises(ValueError, match=r"cannot save: " + match):
        net.save(tmp_path / "m.npz")
    with pytest.raises(ValueError, match=r"cannot save: " + match):
        pickle.dumps(net)  # the same state: a pickle would not come back either
    assert listing(tmp_path) == []


def test_save_refuses_an_optimizer_behind_a_registered_name(tmp_path):
    net = cb.Network([cb.Dense(3, 2)], seed=0)
    net.fit(np.ones((4, 3)), np.ones((4, 2)), epochs=1, optimizer=Faster())
    with pytest.raises(ValueError, match=r"optimizer test_io\.Faster .*register_optimizer"):
        net.save(tmp_path / "m.npz", include_optimizer=True)
    net.save(tmp_path / "m.npz")  # without it, the network itself is fine


def test_save_refuses_a_registered_layer_whose_config_misses_an_argument(tmp_path, monkeypatch):
    class Scaled(cb.Layer):
        def __init__(self, factor=1.0):
            self.factor = factor

        def forward(self, o_prev, training=False):
            return self.factor * o_prev

    monkeypatch.setitem(cb.layers.LAYERS, "Scaled", Scaled)
    net = cb.Network([Scaled(3.0), cb.Dense(3, 2)], input_shape=(3,))
    with pytest.raises(ValueError, match=r"\{'type': 'Scaled'\} lacks factor, arguments of"):
        net.save(tmp_path / "m.npz")


def test_a_registered_custom_activation_saves_and_loads(tmp_path, monkeypatch):
    swoosh = _custom_activation("swoosh")
    monkeypatch.setitem(cb.ACTIVATIONS, "swoosh", swoosh)
    net = _dense_with(swoosh)
    net.save(tmp_path / "m.npz")
    assert cb.load(tmp_path / "m.npz").layers[0].activation is swoosh
