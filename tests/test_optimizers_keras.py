"""Keras's own optimizer tests, ported with Keras's expected numbers.

Each test names the Keras file and test it comes from (keras-team/keras,
``keras/src/optimizers/<name>_test.py``). SGD and RMSprop follow Keras from their defaults
(formula and values), so Keras's numbers hold for them as they are; Adam and AdamW follow
PyTorch and take ``formula="keras"`` (and Keras's ε = 1e-7) where ε's placement shows in
the numbers. A deliberate difference is tested as such, and listed in README's
"Differences from Keras and scikit-learn".
"""

from __future__ import annotations

import numpy as np
import pytest

from cartoonbrain.optimizers import SGD, Adam, AdamW, RMSprop

GRADS = np.array([1.0, 6.0, 7.0, 2.0])
START = np.array([1.0, 2.0, 3.0, 4.0])


def one_step(optimizer, w=START, g=GRADS):
    w = np.array(w, dtype=np.float64)
    optimizer.step([w], [np.array(g, dtype=np.float64)])
    return w


def golden_run(optimizer):
    """Keras's ``test_correctness_with_golden``: ones(10), a first step with gradients
    0.01, then the values after each of five steps with gradients 0.1, 0.2, ..., 1.0."""
    x = np.ones(10)
    optimizer.step([x], [np.full(10, 0.01)])
    seen = []
    for _ in range(5):
        seen.append(x.copy())
        optimizer.step([x], [np.arange(0.1, 1.1, 0.1)])
    return np.array(seen)


def keras_weight_decay(optimizer_factory):
    """Keras's ``test_weight_decay``: a variable at 2.0 with zero gradients, stepped by
    three optimizers with learning_rate=1, weight_decay=0.004 (Keras expects 1.9760959)."""
    w = np.array([2.0])
    for _ in range(3):
        optimizer_factory().step([w], [np.zeros(1)])
    return float(w[0])


# ------------------------------------------------------------------------------- SGD
def test_sgd_single_step():
    # keras/src/optimizers/sgd_test.py::SGDTest::test_single_step
    w = one_step(SGD(learning_rate=0.5))
    np.testing.assert_allclose(w, [0.5, -1.0, -0.5, 3.0], rtol=1e-4, atol=1e-4)


def test_sgd_weight_decay():
    # keras/src/optimizers/sgd_test.py::SGDTest::test_weight_decay (without momentum,
    # coupled L2 and Keras's decoupled decay are the same step)
    value = keras_weight_decay(lambda: SGD(learning_rate=1.0, weight_decay=0.004))
    assert value == pytest.approx(1.9760959, abs=1e-6)


GOLDEN_SGD = [
    [0.9999] * 10,
    [0.9989, 0.9979, 0.9969, 0.9959, 0.9949, 0.9939, 0.9929, 0.9919, 0.9909, 0.9899],
    [0.9979, 0.9959, 0.9939, 0.9919, 0.9899, 0.9879, 0.9859, 0.9839, 0.9819, 0.9799],
    [0.9969, 0.9939, 0.9909, 0.9879, 0.9849, 0.9819, 0.9789, 0.9759, 0.9729, 0.9699],
    [0.9959, 0.9919, 0.9879, 0.9839, 0.9799, 0.9759, 0.9719, 0.9679, 0.9639, 0.9599],
]


def test_sgd_correctness_with_golden():
    # keras/src/optimizers/sgd_test.py::SGDTest::test_correctness_with_golden builds
    # SGD(nesterov=True) with Keras's momentum 0, i.e. plain SGD: SGD() here, because
    # nesterov without momentum is refused (a deliberate difference, tested below).
    np.testing.assert_allclose(golden_run(SGD()), GOLDEN_SGD, rtol=5e-4, atol=5e-4)


def test_sgd_nesterov_without_momentum_is_refused_where_keras_ignores_it():
    """Deliberate difference: Keras takes SGD(nesterov=True) with momentum 0 and steps as
    plain SGD; here it is a ValueError naming the missing momentum."""
    with pytest.raises(ValueError, match=r"nesterov=True needs momentum > 0"):
        SGD(nesterov=True)


# ------------------------------------------------------------------------------- RMSprop
def test_rmsprop_single_step():
    # keras/src/optimizers/rmsprop_test.py::RMSpropTest::test_single_step
    w = one_step(RMSprop(learning_rate=0.5))
    np.testing.assert_allclose(w, [-0.5811, 0.4189, 1.4189, 2.4189], rtol=1e-4, atol=1e-4)


def test_rmsprop_correctness_with_golden():
    # keras/src/optimizers/rmsprop_test.py::RMSpropTest::test_correctness_with_golden
    golden = np.tile([[0.9967], [0.9933], [0.9908], [0.9885], [0.9864]], (1, 10))
    np.testing.assert_allclose(golden_run(RMSprop(centered=True)), golden, rtol=5e-4, atol=5e-4)


def test_rmsprop_epsilon_inside_or_outside_the_root():
    """Keras's u = d / √(s + ε) by default, PyTorch's d / (√s + ε) with formula="pytorch"
    (ε = 1e-7 is small beside √s in Keras's tests; ε = 0.1 tells them apart)."""
    keras = one_step(RMSprop(learning_rate=0.5, epsilon=0.1))
    torch = one_step(RMSprop(learning_rate=0.5, epsilon=0.1, formula="pytorch"))
    d = GRADS
    np.testing.assert_allclose(keras, START - 0.5 * d / np.sqrt(0.1 * d**2 + 0.1), atol=1e-12)
    np.testing.assert_allclose(torch, START - 0.5 * d / (np.sqrt(0.1 * d**2) + 0.1), atol=1e-12)


def test_rmsprop_weight_decay_is_coupled_where_keras_decouples_it():
    """Deliberate difference: keras/src/optimizers/rmsprop_test.py::test_weight_decay
    expects 1.9760959 (Keras shrinks w by lr λ before any optimizer's step); here
    weight_decay is PyTorch's coupled L2, d = g + λ w, which RMSprop then normalises."""
    value = keras_weight_decay(lambda: RMSprop(learning_rate=1.0, weight_decay=0.004))
    assert value != pytest.approx(1.9760959, abs=1e-3)
    d = 0.004 * 2.0  # the first optimizer's step, by hand: u = d / √((1 − ρ) d² + ε)
    first = 2.0 - d / np.sqrt(0.1 * d**2 + 1e-7)
    w = np.array([2.0])
    RMSprop(learning_rate=1.0, weight_decay=0.004).step([w], [np.zeros(1)])
    assert w[0] == pytest.approx(first, rel=1e-12)


# ------------------------------------------------------------------------------- Adam
@pytest.mark.parametrize("formula", ["keras", "pytorch"])
def test_adam_single_step(formula):
    # keras/src/optimizers/adam_test.py::AdamTest::test_single_step
    w = one_step(Adam(learning_rate=0.5, epsilon=1e-7, formula=formula))
    np.testing.assert_allclose(w, [0.5, 1.5, 2.5, 3.5], rtol=1e-4, atol=1e-4)


def test_adam_correctness_with_golden():
    # keras/src/optimizers/adam_test.py::AdamTest::test_correctness_with_golden
    golden = np.tile([[0.999], [0.9982], [0.9974], [0.9965], [0.9955]], (1, 10))
    keras = Adam(amsgrad=True, epsilon=1e-7, formula="keras")
    np.testing.assert_allclose(golden_run(keras), golden, rtol=5e-4, atol=5e-4)
    np.testing.assert_allclose(golden_run(Adam(amsgrad=True)), golden, rtol=5e-4, atol=5e-4)


def test_adam_weight_decay_is_keras_adamw():
    """Deliberate difference: keras/src/optimizers/adam_test.py::test_weight_decay expects
    1.9760959 from Adam(weight_decay=0.004), Keras's decoupled decay; Adam's weight_decay
    here is PyTorch's coupled L2 and Keras's numbers come from AdamW."""
    coupled = keras_weight_decay(lambda: Adam(learning_rate=1.0, weight_decay=0.004))
    assert coupled != pytest.approx(1.9760959, abs=1e-3)
    decoupled = keras_weight_decay(lambda: AdamW(learning_rate=1.0, weight_decay=0.004))
    assert decoupled == pytest.approx(1.9760959, abs=1e-6)


# ------------------------------------------------------------------------------- AdamW
def test_adamw_single_step():
    # keras/src/optimizers/adamw_test.py::AdamWTest::test_single_step, with Keras's
    # default weight_decay 0.004 given (ours is PyTorch's 0.01: tested below)
    w = one_step(AdamW(learning_rate=0.5, weight_decay=0.004, epsilon=1e-7, formula="keras"))
    np.testing.assert_allclose(w, [0.4980, 1.4960, 2.494, 3.492], rtol=1e-4, atol=1e-4)


def test_adamw_default_weight_decay_is_torchs():
    """Deliberate difference: AdamW's defaults are PyTorch's (weight_decay 0.01, ε 1e-8),
    so Keras's single step (weight_decay 0.004) moves 1.0 to 0.498, ours to 0.495."""
    w = one_step(AdamW(learning_rate=0.5))
    np.testing.assert_allclose(w, START * (1 - 0.5 * 0.01) - 0.5, rtol=0, atol=1e-6)


def test_adamw_weight_decay():
    # keras/src/optimizers/adamw_test.py::AdamWTest::test_weight_decay
    value = keras_weight_decay(lambda: AdamW(learning_rate=1.0, weight_decay=0.004))
    assert value == pytest.approx(1.9760959, abs=1e-6)


GOLDEN_ADAMW = [
    [0.4998] * 10,
    [0.2486, 0.2475, 0.2463, 0.2451, 0.244, 0.2428, 0.2417, 0.2405, 0.2394, 0.2382],
    [0.1223, 0.1198, 0.1174, 0.1149, 0.1124, 0.11, 0.1075, 0.1051, 0.1027, 0.1003],
    [0.0586, 0.0549, 0.0512, 0.0475, 0.0439, 0.0402, 0.0366, 0.033, 0.0294, 0.0258],
    [0.0263, 0.0215, 0.0167, 0.012, 0.0073, 0.0026, -0.0021, -0.0067, -0.0113, -0.0159],
]


def test_adamw_correctness_with_golden():
    # keras/src/optimizers/adamw_test.py::AdamWTest::test_correctness_with_golden
    # (epsilon=2 shows where ε meets the bias correction: only Keras's formula fits)
    keras = AdamW(learning_rate=1.0, weight_decay=0.5, epsilon=2, formula="keras")
    np.testing.assert_allclose(golden_run(keras), GOLDEN_ADAMW, rtol=5e-4, atol=5e-4)
    torch = AdamW(learning_rate=1.0, weight_decay=0.5, epsilon=2)
    assert not np.allclose(golden_run(torch), GOLDEN_ADAMW, rtol=5e-4, atol=5e-4)


# ------------------------------------------------------------------------------- clipping
@pytest.mark.parametrize("cls", [SGD, RMSprop, Adam, AdamW])
def test_clip_norm(cls):
    # keras/src/optimizers/{sgd,rmsprop,adam,adamw}_test.py::test_clip_norm
    # (Keras's clipnorm is per variable, ours the global norm: one variable here)
    grad = np.array([100.0, 100.0])
    cls(clip_norm=1).step([np.zeros(2)], [grad])
    np.testing.assert_allclose(grad, [2**0.5 / 2, 2**0.5 / 2], atol=1e-12)


@pytest.mark.parametrize("cls", [SGD, RMSprop, Adam, AdamW])
def test_clip_value(cls):
    # keras/src/optimizers/{sgd,rmsprop,adam,adamw}_test.py::test_clip_value
    grad = np.array([100.0, -100.0, 0.5])
    cls(clip_value=1).step([np.zeros(3)], [grad])
    np.testing.assert_array_equal(grad, [1.0, -1.0, 0.5])


def test_clip_norm_and_clip_value_together_are_refused():
    # as Keras's base optimizer: only one of them
    with pytest.raises(ValueError, match="give clip_norm or clip_value, not both"):
        Adam(clip_norm=1.0, clip_value=1.0)
    with pytest.raises(ValueError, match=r"clip_value must be a positive finite number"):
        SGD(clip_value=0)
    with pytest.raises(ValueError, match=r"formula must be one of 'keras', 'pytorch'"):
        RMSprop(formula="tf")


def test_clip_norm_is_the_global_norm_where_keras_clipnorm_is_per_variable():
    """Deliberate difference: Keras's ``clipnorm`` clips each variable by its own norm
    (its ``global_clipnorm`` is ours); here ``clip_norm`` scales all the gradients together,
    as PyTorch's ``clip_grad_norm_``."""
    grads = [np.array([3.0, 4.0]), np.array([0.0, 0.5])]  # norms 5 and 0.5, global √25.25
    SGD(clip_norm=1.0).step([np.zeros(2), np.zeros(2)], grads)
    scale = 1.0 / np.sqrt(25.25)
    np.testing.assert_allclose(grads[0], [3.0 * scale, 4.0 * scale], atol=1e-12)
    np.testing.assert_allclose(grads[1], [0.0, 0.5 * scale], atol=1e-12)  # Keras: untouched
