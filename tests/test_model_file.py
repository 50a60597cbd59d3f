"""cb.load's way of reading a model file (model_file.read_model, io.open_archive): the
parameters read straight into the network's buffer, no initialiser run, the generator as
the saved network's, and the checksum still the first thing a damaged file reports."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import cartoonbrain as cb
from cartoonbrain import io as cbio
from model_files import config_of, encode, members_of, write_raw

V0_1_0 = Path(__file__).parent / "data" / "v0_1_0"


def blobs(n=64):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 5)).astype(np.float32)
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


def test_initialize_false_leaves_parameters_zero_and_the_generator_untouched():
    net = cb.Network([cb.Dense(3, 4), cb.Dense(4, 2)], seed=7, initialize=False)
    np.testing.assert_array_equal(net.flat_parameters, 0.0)
    assert net.rng.bit_generator.state == np.random.default_rng(7).bit_generator.state
    built = cb.Network([cb.Dense(3, 4), cb.Dense(4, 2)], seed=7)
    assert np.any(built.flat_parameters != 0)
    assert built.rng.bit_generator.state != net.rng.bit_generator.state


def test_a_loaded_model_trains_on_exactly_as_the_saved_one(tmp_path):
    """Dropout draws from the generator, BatchNorm keeps state, Adam keeps moments: the
    loaded copy, built without initialisers, goes on bit for bit as the original."""
    X, y = blobs()
    net = cb.Network(
        [cb.Dense(5, 16, "relu"), cb.Dropout(0.3), cb.BatchNorm(16), cb.Dense(16, 2)],
        "cross_entropy",
        seed=3,
    )
    net.fit(X, y, epochs=2, batch_size=8)
    net.save(tmp_path / "m.npz", include_optimizer=True)
    twin = cb.load(tmp_path / "m.npz")
    assert twin.rng.bit_generator.state == net.rng.bit_generator.state
    for model in (net, twin):  # the same computation twice
        model.fit(X, y, epochs=2, batch_size=8, optimizer=model.optimizer)
    np.testing.assert_array_equal(twin.flat_parameters, net.flat_parameters)


@pytest.mark.parametrize("name", ["dense_classifier", "regressor", "cnn"])
def test_a_file_without_a_generator_state_leaves_it_where_the_seed_did(name):
    """0.1.0 model files hold no generator state: such a network is initialised from its
    seed as before, so its generator is where that initialisation leaves it."""
    path = V0_1_0 / f"{name}.npz"
    config, arrays = cbio.read_archive(path)
    assert "rng_state" not in config
    seeded = cb.Network.from_config(config["network"])
    loaded = cb.load(path)
    assert loaded.rng.bit_generator.state == seeded.rng.bit_generator.state
    for i, p in enumerate(loaded.parameters()):
        np.testing.assert_array_equal(p, arrays[f"param.{i}"])


def test_a_fortran_ordered_parameter_loads_the_same(tmp_path):
    net = cb.Network([cb.Dense(3, 4), cb.Dense(4, 2)], seed=0)
    members = members_of(net)
    members["param.0"] = np.asfortranarray(members["param.0"])
    write_raw(tmp_path / "f.npz", members)
    np.testing.assert_array_equal(cb.load(tmp_path / "f.npz").flat_parameters, net.flat_parameters)


def test_load_reads_the_parameters_into_the_network_buffer(tmp_path):
    """Memory in use while loading: the parameter buffer and the (untouched) gradient
    buffer, about 2x the parameters with tracemalloc (which counts both); reading the
    arrays first and initialising the network was about 4x."""
    net = cb.Network([cb.Dense(1000, 1000), cb.Dense(1000, 1000)], seed=0)
    net.save(tmp_path / "m.npz")
    tracemalloc.start()
    try:
        loaded = cb.load(tmp_path / "m.npz")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    nbytes = net.flat_parameters.nbytes
    assert peak < 2.5 * nbytes + 2_000_000, f"{peak / nbytes:.2f}x the parameters"
    np.testing.assert_array_equal(loaded.flat_parameters, net.flat_parameters)


def test_open_archive_reads_into_the_callers_array(tmp_path):
    arrays = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.ones(2)}
    cbio.write_archive(tmp_path / "x.npz", {"k": 1}, arrays)
    out = np.zeros((2, 3), np.float32)
    with cbio.open_archive(tmp_path / "x.npz") as archive:
        assert archive.config == {"k": 1}
        assert {n: (h.dtype, h.shape) for n, h in archive.headers.items()} == {
            "a": (np.dtype(np.float32), (2, 3)),
            "b": (np.dtype(np.float64), (2,)),
        }
        assert archive.read("a", out) is out
    np.testing.assert_array_equal(out, arrays["a"])
    with pytest.raises(cb.ModelFileError, match=r"x\.npz: .*'a\.npy' is float32 \(2, 3\)"):
        with cbio.open_archive(tmp_path / "x.npz") as archive:
            archive.read("a", np.zeros((2, 3), np.float64))


def test_a_damaged_file_says_so_whatever_went_wrong_first(tmp_path):
    """The checksum is compared before an error of the config or the arrays is passed
    on, and when the arrays have all been read."""
    net = cb.Network([cb.Dense(3, 4), cb.Dense(4, 2)], seed=0)
    members = members_of(net)
    checksum = cbio.digest(members)
    edited = config_of(members)
    edited["network"]["layers"][0]["n_out"] = 5  # the architecture no longer fits
    bad_config = {**members, "config.json": encode(edited), "checksum": checksum}
    bad_param = {**members, "param.0": members["param.0"] + 1, "checksum": checksum}
    for i, damaged in enumerate([bad_config, bad_param]):
        write_raw(tmp_path / f"{i}.npz", damaged, checksum=False)
        with pytest.raises(cb.ModelFileError, match=r"damaged model file \(checksum mismatch\)"):
            cb.load(tmp_path / f"{i}.npz")
    with pytest.raises(cb.ModelFileError, match=r"checksum mismatch"):
        with cbio.open_archive(tmp_path / "0.npz"):
            raise ValueError("what the config made go wrong")
