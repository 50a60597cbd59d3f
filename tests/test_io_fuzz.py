"""Hostile model files: whatever a file holds, ``load`` (and resuming from a checkpoint)
gives back a network or raises one line of ModelFileError naming the file, and never
allocates more than the file's own contents justify.

Configs, metadata, checkpoint fields and arrays are mutated and re-checksummed (anyone
can compute the checksum); the zip itself is given faults (odd members, huge headers,
bombs, members that are not .npy). Under CI (the conftest's "ci" profile) hypothesis draws
the same few examples every run; locally it draws more, and new ones.
"""

from __future__ import annotations

import json
import math
import os
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import cartoonbrain as cb
from cartoonbrain import io as cbio
from cartoonbrain.layers import LAYERS
from cartoonbrain.train.checkpoint import restore_checkpoint
from model_files import (
    config_of,
    declare_size,
    encode,
    members_of,
    npy_bytes,
    npy_with_header,
    write_raw,
    write_zip,
)

FUZZ = settings(
    max_examples=25 if os.environ.get("CI") else 150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def loads_or_refuses(path, call=None):
    """``call()`` (default ``cb.load(path)``): its result, or None when it raised the one
    allowed error, ModelFileError, on one line starting with the file's name."""
    try:
        return (call or (lambda: cb.load(path)))()
    except cb.ModelFileError as exc:
        message = str(exc)
        assert message.startswith(f"{path}: "), message
        assert "\n" not in message and len(message) < 600, message
        return None


def peak_bytes(call):
    """The most memory (NumPy's arrays included) in use above the start while ``call`` runs."""
    tracemalloc.start()
    try:
        call()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


# ------------------------------------------------------------------ the files mutated
def _classifier():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 3))
    net = cb.Network(
        [cb.Dense(3, 4, "relu"), cb.BatchNorm(4), cb.Dropout(0.1), cb.Dense(4, 2)],
        "cross_entropy",
        seed=0,
        metadata={"classes": ["a", "b"], "scaling": {"mean": [0.0] * 3, "std": [1.0] * 3}},
    )
    net.fit(X, (X[:, 0] > 0).astype(int), epochs=1, batch_size=8)
    return net, X


NET, X = _classifier()
MODEL = members_of(NET, NET.optimizer)


def _checkpoint():
    """A checkpoint's members as fit wrote them, and the run's parts to restore into."""
    import tempfile
    from pathlib import Path

    def parts():
        net = cb.Network([cb.Dense(3, 4, "tanh"), cb.Dense(4, 2)], "cross_entropy", seed=1)
        return net, cb.Adam(), [cb.EarlyStopping(monitor="loss", patience=3)]

    net, optimizer, callbacks = parts()
    y = (X[:, 1] > 0).astype(int)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ck.npz"
        net.fit(X, y, epochs=2, optimizer=optimizer, callbacks=callbacks, checkpoint=path)
        with np.load(path) as archive:
            members = {k: archive[k] for k in archive.files if k != "checksum"}
    return members, parts


CHECKPOINT, CHECKPOINT_PARTS = _checkpoint()


def paths(value, prefix=()):
    """Every place in a JSON value, as a tuple of keys and indices."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield (*prefix, i)
            yield from paths(item, (*prefix, i))


def nested(depth):
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.sampled_from([-1, 0, 1, 2**31, 2**63, 2**64, 2**128, 10**40, 50_000_000]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["Dense", "relu", "float64", "adam", "PCG64", "__import__('os')"]),
)
VALUES = st.one_of(
    st.recursive(
        SCALARS,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
        ),
        max_leaves=8,
    ),
    st.integers(1, 300).map(nested),
)


def mutate(config, data):
    """Replace, delete or add one thing somewhere in ``config`` (drawn by ``data``)."""
    where = data.draw(st.sampled_from(list(paths(config))), label="where")
    *parents, last = where
    container = config
    for key in parents:
        container = container[key]
    action = data.draw(st.sampled_from(["replace", "delete", "add"]), label="action")
    if action == "delete":
        del container[last]
    elif action == "add" and isinstance(container, dict):
        container[data.draw(st.text(max_size=8), label="new key")] = data.draw(VALUES)
    elif action == "add":
        container.insert(last, data.draw(VALUES, label="new item"))
    else:
        container[last] = data.draw(VALUES, label="value")


def assert_loaded_as_stored(net, members):
    """A load that succeeded put exactly the file's parameters into the network."""
    for i, p in enumerate(net.parameters()):
        np.testing.assert_array_equal(p, members[f"param.{i}"])


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("hostile")


# ------------------------------------------------------------------ configs and arrays
@FUZZ
@given(data=st.data())
def test_a_mutated_config_loads_as_stored_or_is_refused(folder, data):
    members = dict(MODEL)
    config = config_of(members)
    mutate(config, data)
    members["config.json"] = encode(config)
    path = folder / "config.npz"
    write_raw(path, members)
    net = loads_or_refuses(path)
    if net is not None:
        assert_loaded_as_stored(net, members)


@FUZZ
@given(metadata=VALUES)
def test_any_metadata_loads_as_stored_or_is_refused(folder, metadata):
    members = dict(MODEL)
    config = config_of(members)
    config["network"]["metadata"] = metadata
    members["config.json"] = encode(config)
    path = folder / "metadata.npz"
    write_raw(path, members)
    net = loads_or_refuses(path)
    if net is not None:
        assert metadata is None or isinstance(metadata, dict)
        assert net.metadata.keys() == (metadata or {}).keys()


ARRAYS = hnp.arrays(
    dtype=st.sampled_from(
        ["float32", "float64", "float16", "int8", "int64", "uint8", "bool", "complex64", "<U3"]
    ),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5),
)


@FUZZ
@given(data=st.data())
def test_mutated_arrays_load_as_stored_or_are_refused(folder, data):
    members = dict(MODEL)
    names = sorted(k for k in members if k != "config.json")
    name = data.draw(st.sampled_from([*names, "param.99", "state.layer0.x", "optimizer.m.9"]))
    if name in members and data.draw(st.booleans(), label="delete"):
        del members[name]
    else:
        members[name] = data.draw(ARRAYS, label="array")
    path = folder / "arrays.npz"
    write_raw(path, members)
    net = loads_or_refuses(path)
    if net is not None:
        assert_loaded_as_stored(net, members)


@FUZZ
@given(data=st.data())
def test_a_mutated_checkpoint_resumes_as_stored_or_is_refused(folder, data):
    members = dict(CHECKPOINT)
    config = config_of(members)
    if data.draw(st.booleans(), label="in the config"):
        training_paths = [p for p in paths(config) if p[0] in ("training", "rng_state")]
        where = data.draw(st.sampled_from(training_paths), label="where")
        container = config
        for key in where[:-1]:
            container = container[key]
        container[where[-1]] = data.draw(VALUES, label="value")
        members["config.json"] = encode(config)
    else:
        name = data.draw(st.sampled_from(sorted(k for k in members if "callback" in k)))
        members[name] = data.draw(ARRAYS, label="array")
    path = folder / "checkpoint.npz"
    write_raw(path, members)
    net, optimizer, callbacks = CHECKPOINT_PARTS()
    for callback in callbacks:
        callback.network = net
    restored = loads_or_refuses(path, lambda: restore_checkpoint(net, optimizer, path, callbacks))
    if restored is not None:
        epoch, _, states = restored
        assert isinstance(epoch, int) and epoch >= 0
        for callback, state in zip(callbacks, states):
            if state is not None:  # what fit does next cannot fail
                callback.on_train_begin({})
                callback.load_state_dict(state)
    loads_or_refuses(path)


@FUZZ
@given(data=st.data())
def test_edited_bytes_load_the_same_model_or_are_refused(folder, data):
    path = folder / "bytes.npz"
    write_raw(path, MODEL)
    raw = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        at = data.draw(st.integers(0, len(raw) - 1), label="at")
        raw[at] = data.draw(st.integers(0, 255), label="byte")
    if data.draw(st.booleans(), label="truncate"):
        raw = raw[: data.draw(st.integers(0, len(raw)), label="length")]
    path.write_bytes(bytes(raw))
    net = loads_or_refuses(path)
    if net is not None:
        assert_loaded_as_stored(net, MODEL)


# ------------------------------------------------------------------ the zip itself
def stored(**arrays):
    return {f"{k}.npy": npy_bytes(v) for k, v in arrays.items()}


GOOD = {"config.json": np.frombuffer(b"{}", np.uint8), "checksum": np.zeros(32, np.uint8)}
HEADER = "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }"


def duplicate_member(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name it writes
        write_zip(path, {**stored(**GOOD), "param.0.npy": npy_bytes(np.ones(2))})
        with zipfile.ZipFile(path, "a") as z:
            z.writestr("param.0.npy", npy_bytes(np.zeros(2)))


def deflate_bomb(path):
    """A member that declares 3 GB (and holds a few KB of deflated zeros)."""
    data = npy_with_header(HEADER.replace("(4,)", "(750000000,)"), b"\0" * 4096)
    write_zip(path, {**stored(**GOOD), "param.0.npy": data}, zipfile.ZIP_DEFLATED)
    declare_size(path, "param.0.npy", 3_000_000_128)


def lying_bomb(path):
    """A member whose deflated data goes on far past the size it declares."""
    data = npy_with_header(HEADER, b"\0" * 16) + b"\0" * 20_000_000
    write_zip(path, {**stored(**GOOD), "param.0.npy": data}, zipfile.ZIP_DEFLATED)
    declare_size(path, "param.0.npy", 128 + 16)


def encrypted(path):
    write_zip(path, stored(**GOOD))
    raw = bytearray(path.read_bytes())
    at = raw.find(b"PK\x01\x02")
    raw[at + 8] |= 1  # the central directory's "encrypted" flag
    path.write_bytes(bytes(raw))


def beyond_the_end(path):
    write_zip(path, stored(**GOOD))
    declare_size(path, "checksum.npy", 10**9, compressed=True)


FAULTS = {
    "a member that is not .npy": (
        lambda p: write_zip(p, {**stored(**GOOD), "readme.txt": b"hello"}),
        "is not a NAME.npy array",
    ),
    "a member up the tree": (
        lambda p: write_zip(p, {**stored(**GOOD), "../evil.npy": npy_bytes(np.ones(1))}),
        "is not a NAME.npy array",
    ),
    "a member in a folder": (
        lambda p: write_zip(p, {**stored(**GOOD), "a/b.npy": npy_bytes(np.ones(1))}),
        "is not a NAME.npy array",
    ),
    "a member twice": (duplicate_member, "appears twice"),
    "a .npy that is text": (
        lambda p: write_zip(p, {**stored(**GOOD), "param.0.npy": b"1,2,3\n"}),
        "is not a .npy array",
    ),
    "a huge .npy header": (
        lambda p: write_zip(
            p, {**stored(**GOOD), "param.0.npy": npy_with_header(HEADER + " " * 60_000)}
        ),
        "has a .npy header of 60,",
    ),
    "a header that is code": (
        lambda p: write_zip(
            p, {**stored(**GOOD), "param.0.npy": npy_with_header("__import__('os')")}
        ),
        "unreadable .npy header",
    ),
    "a header asking for a terabyte": (
        lambda p: write_zip(
            p,
            {
                **stored(**GOOD),
                "param.0.npy": npy_with_header(HEADER.replace("(4,)", "(10**12,)"), b"\0" * 16),
            },
        ),
        "unreadable .npy header",
    ),
    "a shape the data does not fill": (
        lambda p: write_zip(
            p,
            {
                **stored(**GOOD),
                "param.0.npy": npy_with_header(HEADER.replace("(4,)", "(250000000,)"), b"\0" * 16),
            },
        ),
        "declares float32 (250000000,)",
    ),
    "an object array": (
        lambda p: write_zip(
            p, {**stored(**GOOD), "param.0.npy": npy_with_header(HEADER.replace("<f4", "|O"))}
        ),
        "pickled Python objects",
    ),
    "a structured dtype": (
        lambda p: write_zip(
            p,
            {
                **stored(**GOOD),
                "param.0.npy": npy_with_header(HEADER.replace("'<f4'", "[('a', '<f4')]")),
            },
        ),
        "unsupported dtype",
    ),
    "a deflate bomb": (deflate_bomb, "would inflate to more than"),
    "a lying deflate bomb": (lying_bomb, "damaged model file"),
    "an encrypted member": (encrypted, "is encrypted"),
    "a member beyond the end": (beyond_the_end, "reaches beyond the end of the file"),
    "no zip directory": (lambda p: p.write_bytes(b"PK\x03\x04" + b"\0" * 100), "no zip directory"),
}


@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_structural_faults_are_refused_in_one_line_before_allocating(tmp_path, fault):
    make, fragment = FAULTS[fault]
    path = tmp_path / "faulty.npz"
    make(path)
    with pytest.raises(cb.ModelFileError) as info:
        peak = peak_bytes(lambda: cb.load(path))
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message and fragment in message
    peak = peak_bytes(lambda: loads_or_refuses(path))
    assert peak < 4_000_000 + 2 * path.stat().st_size, f"{peak:,} bytes in use"


def test_limits_on_members_and_config_are_named(tmp_path):
    path = tmp_path / "m.npz"
    NET.save(path)
    with pytest.raises(cb.ModelFileError, match=r"m\.npz: refused \(\d+ members; the limit is 3"):
        cbio.read_archive(path, limits=cbio.Limits(max_members=3))
    with pytest.raises(cb.ModelFileError, match=r"m\.npz: refused \(its config is over"):
        cbio.read_archive(path, limits=cbio.Limits(max_config_bytes=100))


def test_a_deeply_nested_config_is_refused_not_a_recursion_error(tmp_path):
    members = dict(MODEL)
    config = config_of(members)
    config["network"]["metadata"] = {"x": "DEEP"}
    text = json.dumps(config).replace('"DEEP"', "[" * 100_000 + "]" * 100_000)
    members["config.json"] = np.frombuffer(text.encode(), np.uint8)
    path = tmp_path / "deep.npz"
    write_raw(path, members)
    with pytest.raises(
        cb.ModelFileError, match=r"deep\.npz: refused \(its config nests 100003 deep"
    ):
        cb.load(path)


# ------------------------------------------------------------------ sizes before allocation
def test_a_small_file_asking_for_50_million_units_allocates_nothing_for_them(tmp_path):
    members = dict(MODEL)
    config = config_of(members)
    config["network"]["layers"][0]["n_out"] = 50_000_000
    config["network"]["layers"][1]["n_features"] = 50_000_000
    config["network"]["layers"][3]["n_in"] = 50_000_000
    members["config.json"] = encode(config)
    path = tmp_path / "greedy.npz"
    write_raw(path, members)
    assert path.stat().st_size < 8_000
    with pytest.raises(cb.ModelFileError, match=r"greedy\.npz: .*50000000 is larger than any"):
        cb.load(path)
    assert peak_bytes(lambda: loads_or_refuses(path)) < 2_000_000


def _example_network(cls):
    layer, shape = cls.example()
    out = layer.output_shape(tuple(shape))
    head = [cb.Flatten()] if len(out) > 1 else []
    return cb.Network([layer, *head, cb.Dense(math.prod(out), 2)], input_shape=shape, seed=0)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_no_registered_layer_is_built_larger_than_its_stored_arrays(tmp_path, name):
    """For every registered layer: each integer of its config, made huge, is refused
    before anything of that size is allocated (or loads, when it sizes nothing)."""
    members = members_of(_example_network(LAYERS[name]))
    config = config_of(members)
    layer_paths = [p for p in paths(config["network"]["layers"][0]) if p]
    path = tmp_path / "huge.npz"
    for where in layer_paths:
        edited = config_of(members)
        container = edited["network"]["layers"][0]
        for key in where[:-1]:
            container = container[key]
        if type(container[where[-1]]) is not int:
            continue
        container[where[-1]] = 30_000_000
        write_raw(path, {**members, "config.json": encode(edited)})
        assert peak_bytes(lambda: loads_or_refuses(path)) < 20_000_000, where


# ------------------------------------------------------------------ the issue's examples
def _set(*where, value):
    def edit(config, members):
        container = config
        for key in where[:-1]:
            container = container[key]
        container[where[-1]] = value

    return edit


def _array(name, value):
    def edit(config, members):
        members[name] = np.asarray(value)

    return edit


EXAMPLES = {
    "metadata a list": _set("network", "metadata", value=[1, 2]),
    "metadata a number": _set("network", "metadata", value=5),
    "a huge generator state": _set("rng_state", "state", "state", value=2**200),
    "a negative generator state": _set("rng_state", "state", "inc", value=-1),
    "a generator state of text": _set("rng_state", "state", value="PCG64"),
    "another generator": _set("rng_state", "bit_generator", value="MT19937"),
    "a negative epoch": _set("training", "epoch", value=-1),
    "a float epoch": _set("training", "epoch", value=1e300),
    "history of text": _set("training", "history", value={"loss": "abc"}),
    "history too short": _set("training", "history_epochs", value=[0]),
    "callbacks a number": _set("training", "callbacks", value=5),
    "an optimizer of text": _set("optimizer", value="adam"),
    "a negative learning rate": _set("optimizer", "learning_rate", value=-1),
    "a callback state of text": _array("callback.0.wait", "abc"),
    "a callback state of inf": _array("callback.0.best_epoch", np.inf),
    "a negative step count": _array("optimizer.iterations", -5),
    "optimizer moments misshapen": _array("optimizer.m.0", np.zeros((2, 3), np.float32)),
    "optimizer moments missing": lambda config, members: members.pop("optimizer.v.0"),
    "a seed of text": _set("network", "seed", value="0"),
    "an input shape of text": _set("network", "input_shape", value="333"),
}


#: what only resuming reads (``load`` takes the network of a checkpoint and ignores these)
TRAINING_ONLY = {"epoch", "history", "callback"}


@pytest.mark.parametrize("example", EXAMPLES, ids=str)
def test_the_issues_crafted_files_are_one_line_model_file_errors(tmp_path, example):
    members = dict(CHECKPOINT)
    config = config_of(members)
    EXAMPLES[example](config, members)
    members["config.json"] = encode(config)
    path = tmp_path / "crafted.npz"
    write_raw(path, members)
    net, optimizer, callbacks = CHECKPOINT_PARTS()
    for callback in callbacks:
        callback.network = net
    calls = [lambda: restore_checkpoint(net, optimizer, path, callbacks)]
    if not any(word in example for word in TRAINING_ONLY):
        calls.append(lambda: cb.load(path))
    for call in calls:
        with pytest.raises(cb.ModelFileError) as info:
            call()
        assert str(info.value).startswith(f"{path}: ") and "\n" not in str(info.value)
