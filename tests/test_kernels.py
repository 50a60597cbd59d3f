"""The accelerator (cartoonbrain._kernels) against the NumPy reference, kernel by kernel.

Every kernel is reached through the function that uses it (an optimizer's step, an
activation's backward, a Dense layer, a loss, the blog's fused run), once on the NumPy
path and once on numba's, and a spy checks that the kernel really ran. Two promises:

* bit for bit, where the kernel makes NumPy's operations in NumPy's order (the
  optimizers, the activations' derivatives, bias with ReLU): IEEE arithmetic gives one
  result for one sequence of operations, whatever does it. NaN is compared as NaN (its
  payload is not part of the promise); −0 and +0 by their bits.
* to rounding (1e-6 relative in float32, 1e-12 in float64) where the kernel sums in
  another order or takes exp from the C library (softmax, the cross-entropies, the blog).

The numba side is skipped where numba is not installed. Compiling is paid once per machine
(numba's cache); after that the file runs in seconds.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import cartoonbrain as cb
from cartoonbrain import _kernels, blog
from cartoonbrain.activations import ACTIVATIONS, get_activation, softmax
from cartoonbrain.losses import get_loss
from cartoonbrain.optimizers import StepDecay

NUMBA = pytest.mark.skipif(not _kernels.available(), reason="numba is not installed")
DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
RTOL = {np.float32: 1e-6, np.float64: 1e-12}
EXAMPLES = settings(max_examples=40, deadline=None)


# ---------------------------------------------------------------------- helpers
@contextlib.contextmanager
def accelerator(name: str) -> Iterator[None]:
    previous = _kernels.use(name)
    try:
        yield
    finally:
        _kernels.use(previous)


@contextlib.contextmanager
def spying(names: tuple[str, ...], calls: Counter) -> Iterator[None]:
    """Count the calls of each named kernel (compiled now, if it was not)."""
    saved = {}
    for name in names:
        kernel = _kernels.get(name)
        assert kernel is not None, f"no kernel {name!r} on the numba path"
        saved[name] = kernel

        def spy(*args, _kernel=kernel, _name=name):
            calls[_name] += 1
            return _kernel(*args)

        _kernels._compiled[name] = spy
    try:
        yield
    finally:
        _kernels._compiled.update(saved)


def both(run: Callable[[], object], *kernels: str) -> tuple[object, object]:
    """run() on the NumPy path, then on numba's; each named kernel must have run there."""
    with accelerator("numpy"), np.errstate(all="ignore"):
        reference = run()
    calls: Counter = Counter()
    with accelerator("numba"), spying(kernels, calls):
        accelerated = run()
    assert all(calls[name] for name in kernels), f"kernels not used: {kernels}, ran {calls}"
    return reference, accelerated


def assert_same_bits(actual: np.ndarray, desired: np.ndarray) -> None:
    """The same dtype, shape and bits; NaN wherever the other has NaN."""
    actual, desired = np.asarray(actual), np.asarray(desired)
    assert actual.dtype == desired.dtype and actual.shape == desired.shape
    nan = np.isnan(desired)
    np.testing.assert_array_equal(np.isnan(actual), nan)
    unsigned = np.uint32 if desired.dtype == np.float32 else np.uint64
    np.testing.assert_array_equal(actual[~nan].view(unsigned), desired[~nan].view(unsigned))


def assert_close(actual: np.ndarray, desired: np.ndarray, dtype: type, atol: float) -> None:
    np.testing.assert_allclose(actual, desired, rtol=RTOL[dtype], atol=atol, equal_nan=True)


def floats(dtype: type, special: bool) -> st.SearchStrategy[float]:
    """Numbers of every size, with NaN and ±inf when ``special``."""
    width = 32 if dtype == np.float32 else 64
    if special:
        return st.floats(width=width)
    return st.floats(-1e3, 1e3, width=width)


def arrays(dtype: type, shape: tuple[int, ...], special: bool = True) -> st.SearchStrategy:
    return hnp.arrays(dtype, shape, elements=floats(dtype, special))


SHAPES = hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=24)


# ---------------------------------------------------------------------- the switch
def test_use_switches_and_names_what_it_refuses():
    previous = _kernels.use("numpy")
    try:
        assert _kernels.active() == "numpy" and _kernels.get("adam") is None
        with pytest.raises(ValueError, match="unknown accelerator 'cuda'"):
            _kernels.use("cuda")
    finally:
        _kernels.use(previous)


def test_fits_takes_only_contiguous_float_arrays_of_one_dtype():
    a = np.zeros((3, 4), np.float32)
    assert _kernels.fits(a, a[1])
    assert not _kernels.fits(a.T)
    assert not _kernels.fits(a, np.zeros(4))
    assert not _kernels.fits(a.astype(np.float16))
    assert not _kernels.fits(np.zeros(3, np.int64))
    assert not _kernels.fits(a.astype(">f4" if np.little_endian else "<f4"))  # not native
    assert not _kernels.fits(np.ma.zeros(3))  # a subclass


@NUMBA
def test_warm_up_loads_every_kernel_for_each_dtype():
    with accelerator("numba"):
        assert _kernels.warm_up(("float32", "float64")) >= 0
        assert all(_kernels.get(name).signatures for name in _kernels.KERNELS)
    with accelerator("numpy"):
        assert _kernels.warm_up() < 1


def _python(code: str, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "CARTOONBRAIN_ACCELERATOR"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**environment, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout.strip()


def test_importing_and_training_on_numpy_never_imports_numba():
    """The engine imports NumPy only; numba comes in once the kernels would pay for it
    (here: LOAD_COST set to nothing), never when the accelerator is forced off by
    CARTOONBRAIN_ACCELERATOR=numpy (read at import). tests/test_kernel_cache.py has a
    small job that stays on NumPy with the real threshold."""
    code = (
        "import sys, numpy as np, cartoonbrain as cb\n"
        "from cartoonbrain import _kernels\n"
        "_kernels.LOAD_COST = 0\n"
        "print('numba' in sys.modules, _kernels.active())\n"
        "net = cb.Network([cb.Dense(3, 2)], loss='cross_entropy', seed=0)\n"
        "net.fit(np.zeros((4, 3)), np.array([0, 1, 0, 1]), epochs=1)\n"
        "print('numba' in sys.modules)\n"
    )
    assert _python(code, CARTOONBRAIN_ACCELERATOR="numpy").split() == ["False", "numpy", "False"]
    if _kernels.available():
        assert _python(code).split() == ["False", "numba", "True"]


@NUMBA
def test_a_numba_that_fails_to_import_falls_back_to_numpy(monkeypatch):
    def broken(name, *args, **kwargs):
        raise ImportError("numba is broken here")

    monkeypatch.setattr(_kernels, "_compiled", {})
    monkeypatch.setattr(_kernels, "_broken", [])
    monkeypatch.setattr(_kernels, "_active", "numba")
    monkeypatch.setattr(_kernels.importlib, "import_module", broken)
    with pytest.warns(_kernels.AcceleratorWarning, match="numba could not be imported"):
        assert _kernels.get("adam") is None
    assert _kernels.active() == "numpy" and not _kernels.available()
    with pytest.raises(ValueError, match="numba could not be imported"):
        _kernels.use("numba")
    w, g = np.ones(3), np.ones(3)
    cb.SGD(0.25).step([w], [g])  # the NumPy SGD does the step
    np.testing.assert_array_equal(w, 0.75)


# ---------------------------------------------------------------------- optimizers: same bits
OPTIMIZERS = [
    (cb.SGD, {"learning_rate": 0.1}),
    (cb.SGD, {"learning_rate": 0.1, "weight_decay": 0.01}),
    (cb.SGD, {"learning_rate": 0.1, "momentum": 0.9}),
    (cb.SGD, {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    (cb.RMSprop, {"learning_rate": 0.01}),
    (cb.RMSprop, {"learning_rate": StepDecay(0.01, 1, 0.5), "momentum": 0.5}),
    (cb.RMSprop, {"learning_rate": 0.01, "formula": "pytorch"}),
    (
        cb.RMSprop,
        {"learning_rate": 0.01, "momentum": 0.5, "weight_decay": 0.01, "formula": "pytorch"},
    ),
    (cb.Adam, {"learning_rate": 0.01}),
    (cb.Adam, {"learning_rate": 0.01, "weight_decay": 0.1}),
    (cb.AdamW, {"learning_rate": 0.01}),
    (cb.AdamW, {"learning_rate": 0.01, "weight_decay": 0.0}),
]
OPTIMIZER_IDS = [f"{cls.name}-{'-'.join(map(str, kw.values()))}" for cls, kw in OPTIMIZERS]


def _steps(cls: type, kwargs: dict, w0: np.ndarray, grads: list[np.ndarray]) -> tuple:
    """The parameters and state after the steps."""
    w = w0.copy()
    optimizer = cls(**kwargs)
    for g in grads:
        optimizer.step([w], [g.copy()])
    return w, optimizer.state_dict()


@NUMBA
@DTYPES
@pytest.mark.parametrize(("cls", "kwargs"), OPTIMIZERS, ids=OPTIMIZER_IDS)
@EXAMPLES
@given(data=st.data())
def test_optimizer_steps_give_numpys_bits(dtype, cls, kwargs, data):
    """Three steps from any start with any gradients (NaN, ±inf and subnormals included):
    the same parameters and state, bit for bit."""
    shape = data.draw(SHAPES)
    w0 = data.draw(arrays(dtype, shape))
    grads = [data.draw(arrays(dtype, shape)) for _ in range(3)]
    (w_np, state_np), (w_nb, state_nb) = both(
        lambda: _steps(cls, kwargs, w0, grads),
        cls.name if cls is not cb.AdamW else "adam",
    )
    assert_same_bits(w_nb, w_np)
    assert state_nb.keys() == state_np.keys()
    for key in state_np:
        assert_same_bits(state_nb[key], state_np[key])


@NUMBA
@pytest.mark.parametrize(("cls", "kwargs"), OPTIMIZERS[::3], ids=OPTIMIZER_IDS[::3])
def test_optimizer_steps_give_numpys_bits_past_numpys_blocks(cls, kwargs):
    """300,000 parameters: the NumPy Adam goes block by block there; still the same bits."""
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(300_000).astype(np.float32)
    grads = [(rng.standard_normal(300_000) * 1e-2).astype(np.float32) for _ in range(3)]
    kernel = {"sgd": "sgd", "rmsprop": "rmsprop"}.get(cls.name, "adam")
    (w_np, state_np), (w_nb, state_nb) = both(lambda: _steps(cls, kwargs, w0, grads), kernel)
    assert_same_bits(w_nb, w_np)
    for key in state_np:
        assert_same_bits(state_nb[key], state_np[key])


@NUMBA
def test_a_strided_or_float16_parameter_takes_the_numpy_way():
    """fits() refuses them: the step runs NumPy's code (no kernel call) and still works."""
    calls: Counter = Counter()
    with accelerator("numba"), spying(("adam",), calls):
        w = np.ones((4, 6))[:, ::2]
        cb.Adam(0.1).step([w], [np.ones_like(w)])
        h = np.ones(5, np.float16)
        cb.Adam(0.1).step([h], [np.ones_like(h)])
    assert calls["adam"] == 0
    np.testing.assert_allclose(w, 0.9, rtol=1e-8, atol=0)  # 1 − 0.1 · 1 / (1 + ε)
    np.testing.assert_allclose(h, 0.9, rtol=1e-3, atol=0)


# ---------------------------------------------------------------------- activations: same bits
KERNEL_ACTIVATIONS = ["relu", "leaky_relu", "sigmoid", "tanh", "elu"]


def test_identity_hands_g_on_with_its_bits():
    """identity's f'(a) = 1: backward returns g as it is (what g ⊙ 1 gives, without a pass)."""
    g = np.array([1.5, -0.0, np.inf, -np.inf, np.nan, 5e-324], dtype=np.float64)
    a = np.linspace(-1, 1, g.size)
    out = ACTIVATIONS["identity"].backward(g, a, a)
    assert_same_bits(out, g * np.ones_like(a))


@NUMBA
@DTYPES
@pytest.mark.parametrize("name", KERNEL_ACTIVATIONS)
@EXAMPLES
@given(data=st.data())
def test_activation_derivative_gives_numpys_bits(dtype, name, data):
    """g ⊙ f'(a), with o = f(a) from NumPy, for any g and a (NaN, ±inf included)."""
    activation = ACTIVATIONS[name]
    shape = data.draw(SHAPES)
    a, g = data.draw(arrays(dtype, shape)), data.draw(arrays(dtype, shape))
    with np.errstate(all="ignore"):
        o = activation.f(a.copy())
    reference, accelerated = both(
        lambda: activation.backward(g, a, o.copy()), "activation_backward"
    )
    assert_same_bits(accelerated, reference)


def _dense_pass(layer: cb.Dense, x: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, ...]:
    """forward, backward (∇W, ∇b, g_prev), infer: copies of everything."""
    o = layer.forward(x.copy()).copy()
    affines = layer.affines.copy()
    g_prev = layer.backward(g.copy())
    grads = layer.dW.copy(), None if layer.db is None else layer.db.copy()
    inferred = layer.infer(x.copy()).copy()
    return o, affines, g_prev, *grads, inferred


def _dense(name: str, n_in: int, n_out: int, bias: bool, dtype: type, seed: int) -> cb.Dense:
    layer = cb.Dense(n_in, n_out, activation=name, bias=bias)
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(dtype) for s in layer.parameter_shapes()]
    layer.bind(params, [np.zeros_like(p) for p in params])
    return layer


@NUMBA
@DTYPES
@pytest.mark.parametrize("name", ["relu", "leaky_relu"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@EXAMPLES
@given(data=st.data())
def test_dense_with_bias_and_relu_gives_numpys_bits(dtype, name, bias, data):
    """A Dense layer's forward (A ← A + b, O = f(A)), backward and infer, with the fused
    bias-and-activation kernels: the same bits as ``a += b; f(a)``."""
    n, n_in, n_out = (data.draw(st.integers(1, 12)) for _ in range(3))
    x = data.draw(arrays(dtype, (n, n_in), special=False))
    g = data.draw(arrays(dtype, (n, n_out), special=False))
    layer = _dense(name, n_in, n_out, bias, dtype, data.draw(st.integers(0, 9)))
    reference, accelerated = both(
        lambda: _dense_pass(layer, x, g),
        "bias_activation",
        "bias_activation_in_place",
        "activation_backward",
    )
    for got, want in zip(accelerated, reference):  # type: ignore[call-overload]
        if want is not None:
            assert_same_bits(got, want)


@NUMBA
@DTYPES
@pytest.mark.parametrize("name", ["relu", "leaky_relu"])
def test_bias_and_relu_keep_nan_and_inf_as_numpy_does(dtype, name):
    """NaN stays NaN, −0 becomes +0 (as np.maximum(a, 0)), ±inf as NumPy has them."""
    specials = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, -1.0, 2.0, 1e-40], dtype)
    a = np.tile(specials, (3, 1))
    b = np.array([0, 0, 0, 0, -0.0, np.inf, 1, 0], dtype)
    activation = ACTIVATIONS[name]
    from cartoonbrain.activations import bias_and_activation, bias_and_activation_in_place

    def run():
        a1, a2 = a.copy(), a.copy()
        return (
            bias_and_activation(activation, a1, b),
            a1,
            bias_and_activation_in_place(activation, a2, b),
        )

    reference, accelerated = both(run, "bias_activation", "bias_activation_in_place")
    for got, want in zip(accelerated, reference):  # type: ignore[call-overload]
        assert_same_bits(got, want)


@NUMBA
def test_a_whole_fit_gives_numpys_bits_where_every_kernel_keeps_numpys_order():
    """ReLU and tanh layers, squared error, Adam: every kernel on the way keeps NumPy's
    operations, so two fits, one per path, end on the same weights bit for bit."""

    def fit():
        layers = [cb.Dense(6, 16, activation="relu"), cb.Dense(16, 8, activation="tanh")]
        net = cb.Network([*layers, cb.Dense(8, 2)], loss="squared_error", seed=3)
        rng = np.random.default_rng(0)
        X, y = rng.standard_normal((50, 6)), rng.standard_normal((50, 2))
        net.fit(X, y, epochs=3, batch_size=8, optimizer=cb.Adam(0.01))
        return net.flat_parameters.copy()

    reference, accelerated = both(fit, "adam", "bias_activation", "activation_backward")
    assert_same_bits(accelerated, reference)


# ---------------------------------------------------------------------- to rounding
def _logits(dtype: type, special: bool) -> st.SearchStrategy:
    return st.tuples(st.integers(1, 40), st.integers(2, 24)).flatmap(
        lambda shape: hnp.arrays(
            dtype,
            shape,
            elements=st.one_of(
                st.floats(-60, 60, width=32 if dtype == np.float32 else 64),
                st.sampled_from([np.nan, np.inf, -np.inf] if special else [0.0]),
            ),
        )
    )


def _ulps(dtype: type, size: float = 1.0) -> float:
    return 8 * float(np.finfo(dtype).eps) * size


@NUMBA
@DTYPES
@EXAMPLES
@given(data=st.data())
def test_softmax_rows_agree_to_rounding(dtype, data):
    """softmax(z) and softmax(z, out=z): the same to rounding; NaN where NumPy has NaN (a
    row with NaN or +inf)."""
    z = data.draw(_logits(dtype, special=True))

    def run():
        copy = z.copy()
        return softmax(z), softmax(copy, out=copy)

    reference, accelerated = both(run, "softmax_rows")
    for got, want in zip(accelerated, reference):  # type: ignore[call-overload]
        assert_close(got, want, dtype, atol=_ulps(dtype))


@NUMBA
@DTYPES
@EXAMPLES
@given(data=st.data())
def test_softmax_cross_entropy_agrees_to_rounding(dtype, data):
    """CrossEntropy.mean on class ids: value and ∂L/∂Z, the same to rounding."""
    z = data.draw(_logits(dtype, special=False))
    t = np.array(
        data.draw(st.lists(st.integers(0, z.shape[1] - 1), min_size=len(z), max_size=len(z)))
    )
    loss = get_loss("cross_entropy")
    (value_np, g_np), (value_nb, g_nb) = both(lambda: loss.mean(z, t), "softmax_cross_entropy")
    assert_close(g_nb, g_np, dtype, atol=_ulps(dtype, 1 / len(z)))
    assert_close(value_nb, value_np, dtype, atol=_ulps(dtype, 1 + float(np.abs(z).max())))


@NUMBA
@DTYPES
@pytest.mark.parametrize("row", [[np.nan, 0.0], [np.inf, 0.0], [-np.inf, 0.0]])
def test_softmax_cross_entropy_keeps_nan_and_inf_as_numpy_does(dtype, row):
    z = np.array([row, [0.5, -0.5]], dtype)
    t = np.array([1, 0])
    loss = get_loss("cross_entropy")
    (value_np, g_np), (value_nb, g_nb) = both(lambda: loss.mean(z, t), "softmax_cross_entropy")
    assert_close(g_nb, g_np, dtype, atol=_ulps(dtype))
    assert np.isnan(value_nb) == np.isnan(value_np) and np.isinf(value_nb) == np.isinf(value_np)


@NUMBA
def test_softmax_cross_entropy_takes_class_ids_as_numpy_indexes_them():
    """−1 is the last class, as NumPy's indexing has it; an id past the end is an
    IndexError on both paths, never a read outside the array."""
    z = np.array([[0.5, -1.0, 2.0], [0.0, 1.0, 0.0]])
    loss = get_loss("cross_entropy")
    ids = np.array([-1, 0])
    (value_np, g_np), (value_nb, g_nb) = both(lambda: loss.mean(z, ids), "softmax_cross_entropy")
    assert_close(g_nb, g_np, np.float64, atol=_ulps(np.float64))
    assert_close(value_nb, value_np, np.float64, atol=_ulps(np.float64))
    for name in ("numpy", "numba"):
        with accelerator(name), pytest.raises(IndexError):
            loss.mean(z, np.array([3, 0]))


@NUMBA
@DTYPES
@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_sum"])
@EXAMPLES
@given(data=st.data())
def test_binary_cross_entropy_agrees_to_rounding(dtype, name, data):
    """BinaryCrossEntropy.mean (and the summed form): value and ∂L/∂Z, to rounding; NaN
    and ±inf logits where NumPy has them."""
    z = data.draw(_logits(dtype, special=True))
    t = data.draw(hnp.arrays(dtype, z.shape, elements=st.sampled_from([0.0, 1.0, 0.25])))
    loss = get_loss(name)
    (value_np, g_np), (value_nb, g_nb) = both(lambda: loss.mean(z, t), "binary_cross_entropy")
    assert_close(g_nb, g_np, dtype, atol=_ulps(dtype, z.shape[1] / z.size))
    size = float(np.abs(z[np.isfinite(z)]).max(initial=0.0)) * z.shape[1]
    assert_close(value_nb, value_np, dtype, atol=_ulps(dtype, 1 + size))


@NUMBA
@pytest.mark.parametrize(
    "layers", [[(4, 10), (3, 4), (2, 3)], [(2, 10)], blog.BLOG_LAYERS], ids=["small", "one", "blog"]
)
def test_the_blogs_compiled_epochs_agree_with_numpys_fused_ones(layers):
    """run_fused on both paths: the same losses, and the same weights after the epochs, to
    a relative 1e-12 (the kernel sums each W o in order; BLAS in its own order)."""

    def run():
        draws = blog.draw_experiment(7, layers, seed=1)
        epochs = blog.fused.fused_epochs(draws.weights, draws.samples, draws.labels, 0.05)
        losses = [next(epochs) for _ in range(6)]
        return losses, draws.weights

    (losses_np, weights_np), (losses_nb, weights_nb) = both(run, "blog_epoch")
    np.testing.assert_allclose(losses_nb, losses_np, rtol=1e-12, atol=0)
    for got, want in zip(weights_nb, weights_np):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@DTYPES
@EXAMPLES
@given(data=st.data())
def test_the_blogs_sigmoid_into_buffers_is_stable_sigmoid_bit_for_bit(dtype, data):
    """fused_epochs' σ with its own buffers makes stable_sigmoid's operations: same bits."""
    from cartoonbrain.activations import stable_sigmoid

    a = data.draw(arrays(dtype, (data.draw(st.integers(1, 30)),)))
    with np.errstate(all="ignore"):
        want = stable_sigmoid(a)
        got = blog.fused.sigmoid_into(a, np.empty_like(a), np.empty_like(a))
    assert_same_bits(got, want)


@DTYPES
@pytest.mark.parametrize("name", ["relu", "tanh", "identity"])
def test_dense_weight_gradient_of_one_sample_is_the_outer_product(dtype, name):
    """Batch 1 takes ∇W = gᵀ o_prev as a broadcast product (OpenBLAS's matmul with an inner
    dimension of 1 is 5x slower): the same ∇W as the matrix product, for both paths."""
    from tolerance import assert_same_maths

    layer = _dense(name, 7, 5, True, dtype, seed=2)
    rng = np.random.default_rng(1)
    x, g = rng.standard_normal((1, 7)).astype(dtype), rng.standard_normal((1, 5)).astype(dtype)
    for path in ("numpy", "numba") if _kernels.available() else ("numpy",):
        with accelerator(path):
            layer.forward(x)
            g_local = layer.activation.backward(g, layer.affines, layer.transforms)
            layer.backward(g)
        assert_same_maths(layer.dW, g_local.T @ x)


@NUMBA
@DTYPES
def test_normal_cdf_kernel_agrees_with_the_numpy_reference(dtype):
    """Φ(x) = ½ erfc(−x/√2): libm's erfc in the kernel, the fitted polynomials in NumPy;
    the same to about 1e-14 relative (float64), to rounding in float32; and GELU's forward
    and derivative go through it."""
    from cartoonbrain.special import normal_cdf

    x = np.concatenate([np.linspace(-9, 9, 2001), [0.0, -0.0, 40.0, -40.0]]).astype(dtype)
    with accelerator("numpy"):
        reference = normal_cdf(x)
    calls: Counter = Counter()
    with accelerator("numba"), spying(("normal_cdf",), calls):
        fast = normal_cdf(x)
        gelu = get_activation("gelu")
        gelu.f(x.reshape(5, -1).copy())
    assert calls["normal_cdf"] >= 2 and fast.dtype == dtype
    tolerance = 1e-14 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(fast, reference, rtol=tolerance, atol=1e-300)
