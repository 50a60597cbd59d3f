"""Optimizers and schedules: each update rule restated in plain NumPy and compared."""

from __future__ import annotations

import io
import json
import math
import tracemalloc

import numpy as np
import pytest

from cartoonbrain.optimizers import (
    OPTIMIZERS,
    SCHEDULES,
    SGD,
    Adam,
    AdamW,
    Constant,
    CosineDecay,
    ExponentialDecay,
    Optimizer,
    RMSprop,
    StepDecay,
    clip_by_global_norm,
    get_optimizer,
    get_schedule,
)

SHAPES = [(3, 4), (5,), (2, 3, 2)]


def make_problem(seed=0, n_steps=6, dtype=np.float64):
    """Random parameters and a sequence of random gradients (global norm about 5)."""
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(shape).astype(dtype) for shape in SHAPES]
    grads = [[rng.standard_normal(shape).astype(dtype) for shape in SHAPES] for _ in range(n_steps)]
    return params, grads


def run(optimizer, params, grad_sequence):
    """Step ``optimizer`` through the sequence on copies; return the final parameters."""
    params = [w.copy() for w in params]
    for grads in grad_sequence:
        optimizer.step(params, [g.copy() for g in grads])
    return params


# ---------------------------------------------------------------- reference implementations
# Slow and obvious: new arrays every step, the formulas exactly as written in the docstrings.


def reference_rate(learning_rate, t):
    return learning_rate(t) if callable(learning_rate) else learning_rate


def reference_clip(grads, clip_norm, clip_value=None):
    if clip_value is not None:
        return [np.clip(g, -clip_value, clip_value) for g in grads]
    if clip_norm is None:
        return grads
    norm = math.sqrt(sum(float(np.sum(g**2)) for g in grads))
    return [g * (clip_norm / norm) for g in grads] if norm > clip_norm else grads


def reference_sgd(
    params,
    grad_sequence,
    learning_rate=0.01,
    momentum=0.0,
    nesterov=False,
    weight_decay=0.0,
    clip_norm=None,
    clip_value=None,
    formula="keras",
):
    """Keras's m ← μ m − lr d, w ← w + m (nesterov w ← w + μ m − lr d), or PyTorch's."""
    params = list(params)
    velocity = [np.zeros_like(w) for w in params]
    for t, grads in enumerate(grad_sequence):
        lr = reference_rate(learning_rate, t)
        clipped = reference_clip(grads, clip_norm, clip_value)
        for i, (w, g) in enumerate(zip(params, clipped, strict=True)):
            d = g + weight_decay * w
            if not momentum:
                params[i] = w - lr * d
            elif formula == "keras":
                velocity[i] = momentum * velocity[i] - lr * d
                params[i] = w + (momentum * velocity[i] - lr * d if nesterov else velocity[i])
            else:
                velocity[i] = momentum * velocity[i] + d
                params[i] = w - lr * (d + momentum * velocity[i] if nesterov else velocity[i])
    return params


def reference_rmsprop(
    params,
    grad_sequence,
    learning_rate=0.001,
    rho=0.9,
    epsilon=1e-7,
    momentum=0.0,
    weight_decay=0.0,
    clip_norm=None,
    clip_value=None,
    centered=False,
    formula="keras",
):
    """Keras's u = lr d / √(s' + ε), b ← μ b + u, w ← w − b; or PyTorch's d / (√s' + ε)."""
    params = list(params)
    s = [np.zeros_like(w) for w in params]
    mean = [np.zeros_like(w) for w in params]
    buffer = [np.zeros_like(w) for w in params]
    for t, grads in enumerate(grad_sequence):
        lr = reference_rate(learning_rate, t)
        clipped = reference_clip(grads, clip_norm, clip_value)
        for i, (w, g) in enumerate(zip(params, clipped, strict=True)):
            d = g + weight_decay * w
            s[i] = rho * s[i] + (1 - rho) * d**2
            spread = s[i]
            if centered:
                mean[i] = rho * mean[i] + (1 - rho) * d
                spread = s[i] - mean[i] ** 2
            if formula == "keras":
                increment = lr * d / np.sqrt(spread + epsilon)
                buffer[i] = momentum * buffer[i] + increment
                params[i] = w - (buffer[i] if momentum else increment)
            else:
                u = d / (np.sqrt(spread) + epsilon)
                buffer[i] = momentum * buffer[i] + u
                params[i] = w - lr * (buffer[i] if momentum else u)
    return params


def reference_adam(
    params,
    grad_sequence,
    learning_rate=0.001,
    beta_1=0.9,
    beta_2=0.999,
    epsilon=1e-8,
    weight_decay=0.0,
    clip_norm=None,
    clip_value=None,
    amsgrad=False,
    formula="pytorch",
    decoupled=False,
):
    params = list(params)
    m = [np.zeros_like(w) for w in params]
    v = [np.zeros_like(w) for w in params]
    v_max = [np.zeros_like(w) for w in params]
    for step, grads in enumerate(grad_sequence):
        lr = reference_rate(learning_rate, step)
        t = step + 1
        clipped = reference_clip(grads, clip_norm, clip_value)
        for i, (w, g) in enumerate(zip(params, clipped, strict=True)):
            if decoupled:
                w = w * (1 - lr * weight_decay)
                d = g
            else:
                d = g + weight_decay * w
            m[i] = beta_1 * m[i] + (1 - beta_1) * d
            v[i] = beta_2 * v[i] + (1 - beta_2) * d**2
            v_max[i] = np.maximum(v_max[i], v[i])
            second = v_max[i] if amsgrad else v[i]
            if formula == "pytorch":
                m_hat = m[i] / (1 - beta_1**t)
                v_hat = second / (1 - beta_2**t)
                params[i] = w - lr * m_hat / (np.sqrt(v_hat) + epsilon)
            else:  # Keras: alpha = lr √(1 − β₂ᵗ) / (1 − β₁ᵗ), ε on the uncorrected √v
                alpha = lr * math.sqrt(1 - beta_2**t) / (1 - beta_1**t)
                params[i] = w - alpha * m[i] / (np.sqrt(second) + epsilon)
    return params


def reference_adamw(params, grad_sequence, weight_decay=0.01, **config):
    return reference_adam(
        params, grad_sequence, weight_decay=weight_decay, decoupled=True, **config
    )


REFERENCES = {
    "sgd": reference_sgd,
    "rmsprop": reference_rmsprop,
    "adam": reference_adam,
    "adamw": reference_adamw,
}

CASES = [
    ("sgd", {}),
    ("sgd", {"learning_rate": 0.1, "momentum": 0.9}),
    ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("sgd", {"learning_rate": 0.1, "weight_decay": 0.1}),
    ("sgd", {"learning_rate": 0.1, "momentum": 0.5, "nesterov": True, "weight_decay": 0.1}),
    ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.01, "clip_norm": 1.0}),
    ("sgd", {"learning_rate": 0.1, "clip_norm": 100.0}),
    ("rmsprop", {}),
    ("rmsprop", {"learning_rate": 0.01, "momentum": 0.9}),
    ("rmsprop", {"learning_rate": 0.01, "rho": 0.5, "epsilon": 1e-3, "weight_decay": 0.1}),
    ("rmsprop", {"learning_rate": 0.01, "momentum": 0.5, "weight_decay": 0.1, "clip_norm": 1.0}),
    ("adam", {}),
    ("adam", {"learning_rate": 0.01, "weight_decay": 0.1}),
    ("adam", {"learning_rate": 0.01, "clip_norm": 1.0}),
    ("adam", {"learning_rate": 0.1, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3}),
    ("adamw", {}),
    ("adamw", {"learning_rate": 0.01, "weight_decay": 0.5}),
    ("adamw", {"learning_rate": 0.01, "weight_decay": 0.0, "clip_norm": 1.0}),
    ("adamw", {"learning_rate": 0.01, "weight_decay": 0.1, "clip_norm": 2.0, "beta_2": 0.9}),
    ("sgd", {"learning_rate": StepDecay(0.1, step_size=2, gamma=0.5), "momentum": 0.9}),
    ("adam", {"learning_rate": CosineDecay(0.01, decay_steps=3, warmup_steps=2)}),
    # the other library's rule, and where the two differ: a changing rate with momentum
    ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "formula": "pytorch"}),
    ("sgd", {"learning_rate": StepDecay(0.1, 2, 0.5), "momentum": 0.9, "formula": "pytorch"}),
    ("sgd", {"learning_rate": StepDecay(0.1, 1, 0.5), "momentum": 0.9, "nesterov": True}),
    ("sgd", {"learning_rate": 0.1, "momentum": 0.5, "clip_value": 0.5}),
    ("rmsprop", {"learning_rate": 0.01, "momentum": 0.5, "formula": "pytorch"}),
    ("rmsprop", {"learning_rate": StepDecay(0.01, 1, 0.5), "momentum": 0.5}),
    ("rmsprop", {"learning_rate": StepDecay(0.01, 1, 0.5), "momentum": 0.5, "formula": "pytorch"}),
    ("rmsprop", {"learning_rate": 0.01, "centered": True, "epsilon": 1e-3}),
    ("rmsprop", {"learning_rate": 0.01, "centered": True, "momentum": 0.5, "formula": "pytorch"}),
    ("rmsprop", {"learning_rate": 0.01, "clip_value": 0.3}),
    ("adam", {"learning_rate": 0.1, "epsilon": 1e-3, "formula": "keras"}),
    ("adam", {"learning_rate": 0.1, "amsgrad": True, "beta_2": 0.5}),
    ("adam", {"learning_rate": 0.1, "amsgrad": True, "beta_2": 0.5, "formula": "keras"}),
    ("adam", {"learning_rate": 0.01, "clip_value": 0.5}),
    ("adamw", {"learning_rate": 0.1, "amsgrad": True, "beta_2": 0.5, "weight_decay": 0.1}),
    ("adamw", {"learning_rate": 0.1, "epsilon": 1e-3, "formula": "keras"}),
]
CASE_IDS = [f"{name}-{'-'.join(config) or 'defaults'}" for name, config in CASES]


# ---------------------------------------------------------------- update rules
@pytest.mark.parametrize(("name", "config"), CASES, ids=CASE_IDS)
def test_update_matches_reference(name, config):
    params, grad_sequence = make_problem(n_steps=5)
    result = run(OPTIMIZERS[name](**config), params, grad_sequence)
    expected = REFERENCES[name](params, grad_sequence, **config)
    for w, w_expected in zip(result, expected, strict=True):
        np.testing.assert_allclose(w, w_expected, rtol=1e-12, atol=1e-14)
    assert not np.allclose(result[0], params[0], rtol=1e-3, atol=0)  # the steps did something


def test_first_sgd_momentum_step_is_plain_sgd():
    # v starts at 0, so v₁ = g and the first step is w − lr g (PyTorch's v₁ = g).
    w, g = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    SGD(learning_rate=0.1, momentum=0.9).step([w], [g])
    np.testing.assert_allclose(w, [0.95, -2.025], rtol=0, atol=1e-15)


def test_first_adam_step_moves_each_weight_by_the_learning_rate():
    # Bias correction makes m̂ = g and v̂ = g² on step 1, so w moves by lr · g / (|g| + ε).
    w, g = np.array([1.0, -2.0, 3.0]), np.array([4.0, -0.5, 1e-3])
    Adam(learning_rate=0.1, epsilon=1e-12).step([w], [g])
    np.testing.assert_allclose(w, [0.9, -1.9, 2.9], rtol=0, atol=1e-8)


def test_step_leaves_grads_alone_unless_clipping():
    params, (grads, *_) = make_problem()
    for optimizer in [SGD(momentum=0.9, weight_decay=0.1), Adam(weight_decay=0.1), AdamW()]:
        given = [g.copy() for g in grads]
        optimizer.step([w.copy() for w in params], given)
        for g, g_before in zip(given, grads, strict=True):
            np.testing.assert_array_equal(g, g_before)
    given = [g.copy() for g in grads]
    SGD(clip_norm=1.0).step([w.copy() for w in params], given)  # documented: scaled in place
    np.testing.assert_allclose(math.sqrt(sum(np.sum(g**2) for g in given)), 1.0, rtol=1e-12)


@pytest.mark.parametrize(("name", "config"), CASES, ids=CASE_IDS)
def test_float32_stays_float32(name, config):
    params, grad_sequence = make_problem(n_steps=5, dtype=np.float32)
    optimizer = OPTIMIZERS[name](**config)
    result = run(optimizer, params, grad_sequence)
    assert all(w.dtype == np.float32 for w in result)
    state = optimizer.state_dict()
    assert all(state[key].dtype == np.float32 for key in state if key != "iterations")
    assert len(state) > 1 or name == "sgd"
    params64 = [w.astype(np.float64) for w in params]
    grads64 = [[g.astype(np.float64) for g in grads] for grads in grad_sequence]
    expected = REFERENCES[name](params64, grads64, **config)
    for w, w_expected in zip(result, expected, strict=True):
        np.testing.assert_allclose(w, w_expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("name", "config"), CASES, ids=CASE_IDS)
def test_step_allocates_no_full_size_temporaries(name, config):
    # After the first step has allocated the state, a step works in place: NumPy reports
    # its allocations to tracemalloc, and no array the size of w (or twice it, float64) appears.
    w = np.linspace(-1, 1, 1_000_000, dtype=np.float32)
    g = np.linspace(2, -2, 1_000_000, dtype=np.float32)
    optimizer = OPTIMIZERS[name](**config)
    optimizer.step([w], [g])
    tracemalloc.start()
    try:
        optimizer.step([w], [g])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < w.nbytes / 8
    assert w.dtype == np.float32


TORCH_CASES = [
    ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
     "SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("sgd", {"learning_rate": StepDecay(0.1, 1, 0.5), "momentum": 0.9, "formula": "pytorch"},
     "SGD", {"lr": 0.1, "momentum": 0.9}),
    ("rmsprop", {"learning_rate": 0.01, "rho": 0.9, "epsilon": 1e-7, "momentum": 0.5,
                 "weight_decay": 0.01, "formula": "pytorch"},
     "RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-7, "momentum": 0.5, "weight_decay": 0.01}),
    ("rmsprop", {"learning_rate": 0.01, "rho": 0.99, "epsilon": 1e-8, "formula": "pytorch"},
     "RMSprop", {}),  # torch.optim.RMSprop's defaults
    ("rmsprop", {"learning_rate": StepDecay(0.01, 1, 0.5), "rho": 0.99, "epsilon": 1e-3,
                 "momentum": 0.5, "centered": True, "formula": "pytorch"},
     "RMSprop", {"lr": 0.01, "eps": 1e-3, "momentum": 0.5, "centered": True}),
    ("adam", {}, "Adam", {}),  # the defaults on both sides
    ("adam", {"learning_rate": 0.01, "weight_decay": 0.1},
     "Adam", {"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.1}),
    ("adam", {"learning_rate": 0.1, "beta_2": 0.5, "amsgrad": True},
     "Adam", {"lr": 0.1, "betas": (0.9, 0.5), "amsgrad": True}),
    ("adamw", {}, "AdamW", {}),
    ("adamw", {"learning_rate": 0.01, "weight_decay": 0.1},
     "AdamW", {"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.1}),
    ("adamw", {"learning_rate": 0.1, "beta_2": 0.5, "amsgrad": True},
     "AdamW", {"lr": 0.1, "betas": (0.9, 0.5), "amsgrad": True}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "config", "torch_name", "torch_config"), TORCH_CASES)
def test_matches_torch(name, config, torch_name, torch_config):
    """The named library's numbers: PyTorch's optimizer, its rate set step by step where
    ours follows a schedule."""
    torch = pytest.importorskip("torch")
    params, grad_sequence = make_problem(n_steps=4)
    optimizer = OPTIMIZERS[name](**config)
    result = run(optimizer, params, grad_sequence)
    tensors = [torch.tensor(w, requires_grad=True) for w in params]
    torch_optimizer = getattr(torch.optim, torch_name)(tensors, **torch_config)
    for t, grads in enumerate(grad_sequence):
        for tensor, g in zip(tensors, grads, strict=True):
            tensor.grad = torch.tensor(g)
        if callable(optimizer.learning_rate):
            torch_optimizer.param_groups[0]["lr"] = optimizer.learning_rate(t)
        torch_optimizer.step()
    for w, tensor in zip(result, tensors, strict=True):
        np.testing.assert_allclose(w, tensor.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    ("name", "config", "torch_name", "torch_config"),
    [
        ("sgd", {"learning_rate": StepDecay(0.1, 1, 0.5), "momentum": 0.9},
         "SGD", {"lr": 0.1, "momentum": 0.9}),
        ("rmsprop", {"learning_rate": 0.01, "rho": 0.99, "epsilon": 1e-8},
         "RMSprop", {}),
        ("adam", {"learning_rate": 0.1, "epsilon": 1e-3, "formula": "keras"},
         "Adam", {"lr": 0.1, "eps": 1e-3}),
    ],
)  # fmt: skip
def test_the_keras_formulas_are_not_torchs(name, config, torch_name, torch_config):
    """Where the libraries' rules differ (the rate inside the momentum under a schedule,
    ε inside the root, ε before the bias correction), the Keras formula is not PyTorch's:
    test_matches_torch would fail without formula="pytorch"."""
    with pytest.raises(AssertionError, match="Not equal to tolerance"):
        test_matches_torch(name, config, torch_name, torch_config)


# ---------------------------------------------------------------- state
STATE_NAMES = [
    ("sgd", {}, set()),
    ("sgd", {"momentum": 0.9}, {"velocity"}),
    ("rmsprop", {}, {"square_average"}),
    ("rmsprop", {"momentum": 0.9}, {"square_average", "momentum_buffer"}),
    ("adam", {}, {"m", "v"}),
    ("adamw", {}, {"m", "v"}),
    ("rmsprop", {"centered": True}, {"square_average", "average_gradient"}),
    ("adam", {"amsgrad": True}, {"m", "v", "v_max"}),
]


@pytest.mark.parametrize(("name", "config", "buffers"), STATE_NAMES)
def test_state_dict_names(name, config, buffers):
    optimizer = OPTIMIZERS[name](**config)
    params, grad_sequence = make_problem(n_steps=2)
    run(optimizer, params, grad_sequence)
    state = optimizer.state_dict()
    expected = {"iterations"} | {f"{b}.{i}" for b in buffers for i in range(len(SHAPES))}
    assert set(state) == expected
    assert state["iterations"].shape == () and state["iterations"].dtype == np.int64
    assert int(state["iterations"]) == optimizer.iterations == 2
    for key, value in state.items():
        if key != "iterations":
            assert value.shape == SHAPES[int(key.split(".")[1])]


@pytest.mark.parametrize(("name", "config"), CASES, ids=CASE_IDS)
def test_resume_is_bit_identical(name, config):
    params, grad_sequence = make_problem(n_steps=6)
    uninterrupted = run(OPTIMIZERS[name](**config), params, grad_sequence)

    first = OPTIMIZERS[name](**config)
    halfway = run(first, params, grad_sequence[:3])
    file = io.BytesIO()
    np.savez(file, **first.state_dict())
    file.seek(0)
    with np.load(file) as saved:
        state = dict(saved)
    second = get_optimizer(json.loads(json.dumps(first.get_config())))
    second.load_state_dict(state)
    assert second.iterations == 3
    resumed = run(second, halfway, grad_sequence[3:])
    for w, w_expected in zip(resumed, uninterrupted, strict=True):
        np.testing.assert_array_equal(w, w_expected)


def test_state_dict_is_a_copy():
    params, grad_sequence = make_problem(n_steps=2)
    optimizer = Adam()
    run(optimizer, params, grad_sequence[:1])
    state = optimizer.state_dict()
    m0 = state["m.0"].copy()
    run(optimizer, params, grad_sequence[1:])
    np.testing.assert_array_equal(state["m.0"], m0)


def _adam_state():
    optimizer = Adam()
    run(optimizer, *make_problem(n_steps=1))
    return optimizer.state_dict()


def _without(state, key):
    return {k: v for k, v in state.items() if k != key}


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda s: _without(s, "v.1"), r"must hold 'iterations' and m\.<i>, v\.<i>"),
        (lambda s: _without(s, "iterations"), r"iterations.*0-d integer"),
        (lambda s: {**s, "iterations": np.array([1])}, r"iterations.*0-d integer"),
        (lambda s: {**s, "iterations": np.array(-1)}, r"iterations.*0-d integer >= 0"),
        (lambda s: {**s, "iterations": np.array(1.0)}, r"iterations.*0-d integer"),
        (lambda s: {**s, "w.0": s["m.0"]}, r"'w\.0'"),
        (lambda s: {**s, "v.1": np.zeros(4)}, r"v\.1 must be a float array of shape \(5,\)"),
        (lambda s: {**s, "m.2": s["m.2"].astype(int)}, r"m\.2 must be a float array"),
        (lambda s: {"iterations": np.array(3)}, r"iterations=3 but no buffers"),
    ],
)
def test_load_state_dict_rejects(change, match):
    with pytest.raises(ValueError, match=match):
        Adam().load_state_dict(change(_adam_state()))


def test_load_state_dict_then_step_with_other_params():
    optimizer = Adam()
    optimizer.load_state_dict(_adam_state())
    with pytest.raises(ValueError, match=r"state for 3 parameter arrays but step\(\) got 1"):
        optimizer.step([np.zeros(4)], [np.zeros(4)])
    params, (grads, *_) = make_problem()
    params[1], grads[1] = np.zeros(6), np.zeros(6)
    with pytest.raises(ValueError, match=r"m\.1 has shape \(5,\).*params\[1\] has shape \(6,\)"):
        optimizer.step(params, grads)
    params, (grads, *_) = make_problem(dtype=np.float32)
    with pytest.raises(ValueError, match=r"m\.0 has shape \(3, 4\), dtype float64"):
        optimizer.step(params, grads)


def test_sgd_without_momentum_has_only_iterations():
    optimizer = SGD()
    optimizer.load_state_dict({"iterations": np.array(7, dtype=np.int64)})
    assert optimizer.iterations == 7
    with pytest.raises(ValueError, match=r"must hold 'iterations' and nothing else"):
        optimizer.load_state_dict({"iterations": np.array(7), "velocity.0": np.zeros(3)})


# ---------------------------------------------------------------- schedules
def test_step_decay():
    schedule = StepDecay(0.1, step_size=3, gamma=0.5)
    values = [schedule(t) for t in [0, 1, 2, 3, 5, 6, 10]]
    np.testing.assert_allclose(values, [0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.0125], rtol=1e-15)


def test_exponential_decay():
    schedule = ExponentialDecay(0.1, decay_rate=0.5, decay_steps=2)
    values = [schedule(t) for t in [0, 1, 2, 4, 5]]
    expected = [0.1, 0.1 * math.sqrt(0.5), 0.05, 0.025, 0.025 * math.sqrt(0.5)]
    np.testing.assert_allclose(values, expected, rtol=1e-15)


def test_cosine_decay():
    schedule = CosineDecay(1.0, decay_steps=4, warmup_steps=2, minimum_learning_rate=0.1)
    values = [schedule(t) for t in [0, 1, 2, 3, 4, 5, 6, 100]]
    quarter = 0.1 + 0.9 * 0.5 * (1 + math.sqrt(0.5))  # p = 1/4: cos(π/4) = √½
    three_quarters = 0.1 + 0.9 * 0.5 * (1 - math.sqrt(0.5))
    expected = [0.5, 1.0, 1.0, quarter, 0.55, three_quarters, 0.1, 0.1]
    np.testing.assert_allclose(values, expected, rtol=1e-14, atol=1e-15)
    assert CosineDecay(2.0, decay_steps=10)(0) == 2.0  # no warm-up: starts at the initial rate


def test_constant_schedule():
    assert [Constant(0.3)(t) for t in [0, 5, 10_000]] == [0.3, 0.3, 0.3]


def test_optimizer_uses_the_scheduled_rate_at_each_step():
    schedule = StepDecay(0.5, step_size=2, gamma=0.1)
    optimizer = SGD(learning_rate=schedule)
    w = np.zeros(3)
    for t in range(5):
        assert optimizer.iterations == t
        assert optimizer.current_learning_rate() == schedule(t)
        before = w.copy()
        optimizer.step([w], [np.ones(3)])  # w ← w − lr_t · 1
        np.testing.assert_allclose(before - w, schedule(t), rtol=1e-12, atol=0)
    assert optimizer.iterations == 5
    assert SGD(learning_rate=0.25).current_learning_rate() == 0.25


@pytest.mark.parametrize(
    "schedule",
    [
        Constant(0.01),
        StepDecay(0.1, step_size=3, gamma=0.5),
        ExponentialDecay(0.1, decay_rate=0.9, decay_steps=10),
        CosineDecay(0.1, decay_steps=100, warmup_steps=5, minimum_learning_rate=0.001),
    ],
    ids=repr,
)
def test_get_schedule_round_trip(schedule):
    config = json.loads(json.dumps(schedule.get_config()))
    rebuilt = get_schedule(config)
    assert type(rebuilt) is type(schedule) and rebuilt.get_config() == schedule.get_config()
    assert [rebuilt(t) for t in range(20)] == [schedule(t) for t in range(20)]
    assert get_schedule(schedule) is schedule


def test_get_schedule_from_name_and_float():
    assert get_schedule("step_decay", initial_learning_rate=0.1, step_size=2)(2) == 0.1 * 0.1
    assert get_schedule(0.05)(9) == 0.05
    assert set(SCHEDULES) == {"constant", "step_decay", "exponential_decay", "cosine_decay"}


# ---------------------------------------------------------------- clipping
def test_clip_above_max_norm():
    _, (grads, *_) = make_problem()
    norm = math.sqrt(sum(float(np.sum(g**2)) for g in grads))
    originals = [g.copy() for g in grads]
    returned = clip_by_global_norm(grads, 2.0)
    assert norm > 2.0
    np.testing.assert_allclose(returned, norm, rtol=1e-14)
    np.testing.assert_allclose(math.sqrt(sum(np.sum(g**2) for g in grads)), 2.0, rtol=1e-12)
    for g, g_before in zip(grads, originals, strict=True):
        np.testing.assert_allclose(g, g_before * 2.0 / norm, rtol=1e-14, atol=0)


def test_clip_below_max_norm_changes_nothing():
    grads = [np.array([3.0]), np.array([[4.0, 0.0]])]
    assert clip_by_global_norm(grads, 5.5) == 5.0
    np.testing.assert_array_equal(grads[0], [3.0])
    np.testing.assert_array_equal(grads[1], [[4.0, 0.0]])


def test_clip_float32_accumulates_in_float64_and_stays_float32():
    grads = [np.full(100_000, 0.1, dtype=np.float32), np.full((10, 10), 3.0, dtype=np.float32)]
    exact = math.sqrt(100_000 * float(np.float32(0.1)) ** 2 + 100 * 9.0)
    np.testing.assert_allclose(clip_by_global_norm(grads, 1.0), exact, rtol=1e-12)
    assert all(g.dtype == np.float32 for g in grads)
    np.testing.assert_allclose(grads[1], 3.0 / exact, rtol=1e-6)


def test_clip_non_finite_norm_leaves_grads():
    grads = [np.array([np.inf, 1.0])]
    assert clip_by_global_norm(grads, 1.0) == math.inf
    np.testing.assert_array_equal(grads[0], [np.inf, 1.0])


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: SGD(learning_rate=0), r"learning_rate must be a positive finite number; got 0"),
        (lambda: Adam(learning_rate=-0.1), r"learning_rate .* got -0\.1"),
        (lambda: RMSprop(learning_rate=math.nan), r"learning_rate .* got nan"),
        (lambda: AdamW(learning_rate=math.inf), r"learning_rate .* got inf"),
        (lambda: SGD(learning_rate="0.1"), r"learning_rate .* got '0\.1'"),
        (lambda: SGD(learning_rate=True), r"learning_rate .* got True"),
        (lambda: SGD(momentum=-0.1), r"momentum must be a number in \[0, 1\); got -0\.1"),
        (lambda: SGD(momentum=1.0), r"momentum .* got 1\.0"),
        (lambda: SGD(nesterov=True), r"nesterov=True needs momentum > 0; got momentum=0\.0"),
        (lambda: RMSprop(momentum=1.5), r"momentum .* got 1\.5"),
        (lambda: RMSprop(rho=1.0), r"rho must be a number in \[0, 1\); got 1\.0"),
        (lambda: RMSprop(epsilon=0.0), r"epsilon must be a positive finite number; got 0\.0"),
        (lambda: Adam(beta_1=1.0), r"beta_1 must be a number in \[0, 1\); got 1\.0"),
        (lambda: AdamW(beta_2=-0.5), r"beta_2 .* got -0\.5"),
        (lambda: Adam(epsilon=-1e-8), r"epsilon .* got -1e-08"),
        (lambda: SGD(weight_decay=-1), r"weight_decay must be a finite number >= 0; got -1"),
        (lambda: AdamW(weight_decay=math.inf), r"weight_decay .* got inf"),
        (lambda: Adam(clip_norm=0), r"clip_norm must be a positive finite number; got 0"),
        (lambda: clip_by_global_norm([], -1.0), r"max_norm must be a positive .* got -1\.0"),
        (lambda: StepDecay(0.0, step_size=1), r"initial_learning_rate .* got 0\.0"),
        (lambda: StepDecay(0.1, step_size=0), r"step_size must be an integer >= 1; got 0"),
        (lambda: StepDecay(0.1, step_size=2.5), r"step_size must be an integer >= 1; got 2\.5"),
        (lambda: StepDecay(0.1, step_size=2, gamma=0), r"gamma .* got 0"),
        (lambda: ExponentialDecay(0.1, decay_rate=-1), r"decay_rate .* got -1"),
        (lambda: ExponentialDecay(0.1, 0, 0.5), r"decay_steps .* got 0"),
        (lambda: CosineDecay(0.1, decay_steps=0), r"decay_steps .* got 0"),
        (lambda: CosineDecay(0.1, 10, warmup_steps=-1), r"warmup_steps .* >= 0; got -1"),
        (lambda: CosineDecay(0.1, 10, minimum_learning_rate=0.2), r"must not exceed .* 0\.2"),
        (lambda: Constant(0.1)(-1), r"iteration must be an integer >= 0; got -1"),
        (lambda: get_optimizer("adagrad"), r"unknown optimizer 'adagrad'; .*sgd, rmsprop, adam"),
        (lambda: get_optimizer({"learning_rate": 0.1}), r"unknown optimizer None"),
        (lambda: get_optimizer("adam", momentum=0.9), r"unknown option\(s\) \['momentum'\]"),
        (lambda: get_optimizer(Adam(), learning_rate=0.1), r"cannot apply \['learning_rate'\]"),
        (lambda: get_schedule("linear"), r"unknown schedule 'linear'; expected one of"),
        (lambda: get_schedule({"name": "step_decay", "step": 2}), r"unknown option\(s\)"),
    ],
)
def test_invalid_arguments(build, match):
    with pytest.raises(ValueError, match=match):
        build()


@pytest.mark.parametrize(
    ("params", "grads", "match"),
    [
        ([np.zeros(3)], [], r"got 1 parameter arrays but 0 gradients"),
        ([np.zeros(3), np.zeros(2)], [np.zeros(3), np.zeros(3)],
         r"grads\[1\] must match params\[1\] \(shape \(2,\), dtype float64\); got shape \(3,\)"),
        ([np.zeros(3)], [np.zeros(3, dtype=np.float32)], r"grads\[0\] .*dtype float32"),
        ([np.zeros(3, dtype=int)], [np.zeros(3, dtype=int)],
         r"params\[0\] must be a floating-point ndarray; got int64"),
        ([[0.0, 1.0]], [np.zeros(2)], r"params\[0\] must be a floating-point ndarray; got list"),
    ],
)  # fmt: skip
def test_step_rejects_mismatched_arrays(params, grads, match):
    optimizer = Adam()
    with pytest.raises(ValueError, match=match):
        optimizer.step(params, grads)
    assert optimizer.iterations == 0


# ---------------------------------------------------------------- factory and config
@pytest.mark.parametrize(("name", "config"), CASES, ids=CASE_IDS)
def test_get_optimizer_round_trip(name, config):
    optimizer = OPTIMIZERS[name](**config)
    saved = json.loads(json.dumps(optimizer.get_config()))
    assert saved["name"] == name
    rebuilt = get_optimizer(saved)
    assert type(rebuilt) is type(optimizer)
    assert rebuilt.get_config() == optimizer.get_config()
    params, grad_sequence = make_problem(n_steps=3)
    for w, w_expected in zip(
        run(rebuilt, params, grad_sequence), run(optimizer, params, grad_sequence), strict=True
    ):
        np.testing.assert_array_equal(w, w_expected)


def test_get_optimizer_names_and_overrides():
    assert set(OPTIMIZERS) == {"sgd", "rmsprop", "adam", "adamw"}
    adam = get_optimizer("adam", learning_rate=0.01)
    assert type(adam) is Adam and adam.learning_rate == 0.01 and adam.beta_2 == 0.999
    assert type(get_optimizer("AdamW")) is AdamW
    assert get_optimizer(adam) is adam
    sgd = get_optimizer({"name": "sgd", "learning_rate": 0.5}, momentum=0.9)
    assert (sgd.learning_rate, sgd.momentum) == (0.5, 0.9)
    scheduled = get_optimizer("sgd", learning_rate={"name": "constant", "learning_rate": 0.2})
    assert isinstance(scheduled.learning_rate, Constant)
    assert isinstance(scheduled, Optimizer)


def test_defaults_follow_the_contract():
    """SGD and RMSprop are Keras's (defaults and formula), Adam and AdamW PyTorch's."""
    common = {"weight_decay": 0.0, "clip_norm": None, "clip_value": None}
    assert SGD().get_config() == {
        "name": "sgd",
        "learning_rate": 0.01,
        "momentum": 0.0,
        "nesterov": False,
        **common,
        "formula": "keras",
    }
    assert RMSprop().get_config() == {
        "name": "rmsprop",
        "learning_rate": 0.001,
        "rho": 0.9,
        "epsilon": 1e-7,
        "momentum": 0.0,
        **common,
        "centered": False,
        "formula": "keras",
    }
    assert Adam().get_config() == {
        "name": "adam",
        "learning_rate": 0.001,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-8,
        **common,
        "amsgrad": False,
        "formula": "pytorch",
    }
    assert AdamW().get_config() == {**Adam().get_config(), "name": "adamw", "weight_decay": 0.01}


@pytest.mark.parametrize("name", ["adam", "adamw"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_big_arrays_go_block_by_block_with_the_same_bits(name, dtype, monkeypatch):
    """Past base._BLOCK elements Adam updates block by block (its passes then run in
    cache); every element sees the same operations, so the weights and the state are the
    very bits of a single pass over the whole array, for sizes that split unevenly."""
    from cartoonbrain.optimizers import base

    rng = np.random.default_rng(0)
    shapes = [(3, base._BLOCK - 1), (base._BLOCK + 5,), (7, 11)]
    w0 = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = [[(rng.standard_normal(s) * 1e-2).astype(dtype) for s in shapes] for _ in range(4)]
    runs = []
    for block in (base._BLOCK, 10**12):  # blocks, then one pass over each array
        monkeypatch.setattr(base, "_BLOCK", block)
        w = [x.copy() for x in w0]
        optimizer = OPTIMIZERS[name](learning_rate=1e-3, weight_decay=0.01)
        for g in grads:
            optimizer.step(w, g)
        runs.append((w, optimizer.state_dict()))
    (w_blocked, s_blocked), (w_whole, s_whole) = runs
    for a, b in zip(w_blocked, w_whole, strict=True):
        assert a.dtype == dtype
        np.testing.assert_array_equal(a, b)
    assert s_blocked.keys() == s_whole.keys()
    for key in s_blocked:
        np.testing.assert_array_equal(s_blocked[key], s_whole[key])
    assert not np.array_equal(w_blocked[0], w0[0])  # the steps did move the weights
