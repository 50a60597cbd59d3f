"""Model files: round trips, atomic writes, damaged and hostile files, format versions."""

import json
import os
import re
import zipfile

import numpy as np
import pytest

import cartoonbrain as cb
from cartoonbrain import io as cbio


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
    arrays = cbio._arrays_for(net, None, None)
    arrays["checksum"] = cbio._digest(arrays)
    arrays["param.0"] = arrays["param.0"] + 1
    path = tmp_path / "edited.npz"
    np.savez(path, **arrays)
    with pytest.raises(cb.ModelFileError, match=r"edited\.npz: damaged model file \(checksum"):
        cb.load(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(cb.ModelFileError, match=r"nope\.npz: no such file"):
        cb.load(tmp_path / "nope.npz")
    with pytest.raises(cb.ModelFileError, match=re.escape(str(tmp_path))):
        cb.load(tmp_path)


def test_pickled_object_arrays_are_refused(tmp_path):
    net, _ = trained()
    arrays = cbio._arrays_for(net, None, None)
    arrays["param.0"] = np.array([{"evil": "payload"}, None], dtype=object)
    arrays["checksum"] = np.zeros(32, dtype=np.uint8)
    path = tmp_path / "pickled.npz"
    np.savez(path, allow_pickle=True, **arrays)
    with pytest.raises(cb.ModelFileError, match=r"pickled\.npz: refused: .*pickle"):
        cb.load(path)


# ------------------------------------------------------------------ crafted configs
def write_with_config(path, edit, net=None):
    """A model file whose config was edited by `edit`, with a valid checksum."""
    net = net or cb.Network([cb.Dense(3, 4, "relu"), cb.Dense(4, 2)], seed=0)
    arrays = cbio._arrays_for(net, None, None)
    config = json.loads(arrays["config.json"].tobytes())
    edit(config)
    arrays["config.json"] = cbio._encode(config)
    cbio._write_atomic(path, arrays)


@pytest.mark.parametrize("version", [2, 0, "1", None])
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
        (set_layer("n_in", 5), r"Dense\(5, 4\) takes inputs of shape \(5,\) but gets \(3,\)"),
        (
            lambda c: (set_layer("n_in", 5)(c), c["network"].pop("input_shape")),
            r"parameter 0 is float32 \(4, 3\); the architecture needs",
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
    arrays = cbio._arrays_for(net, None, None)
    extra = dict(arrays, **{"param.4": np.ones(2, dtype=np.float32)})
    cbio._write_atomic(tmp_path / "extra.npz", extra)
    with pytest.raises(cb.ModelFileError, match=r"more parameters than the architecture"):
        cb.load(tmp_path / "extra.npz")
    missing = {k: v for k, v in arrays.items() if k != "param.3"}
    cbio._write_atomic(tmp_path / "missing.npz", missing)
    with pytest.raises(cb.ModelFileError, match=r"parameter 3 is missing"):
        cb.load(tmp_path / "missing.npz")
