"""Keras's own tests of its learning-rate schedules and metrics, ported with Keras's
expected numbers.

Each test names the Keras file and test it ports: keras/src/optimizers/schedules/
learning_rate_schedule_test.py and keras/src/metrics/*_test.py (Keras 3). cartoonbrain's
metrics are functions of a whole prediction (``metric(y, t, independent)``), not
stateful objects; Keras's ``update_state`` then ``result`` is one call. Differences on
purpose are asserted as such and listed in README's table of differences. Not ported:
schedules cartoonbrain does not have (PiecewiseConstantDecay, LinearDecay/PolynomialDecay,
InverseTimeDecay, CosineDecayRestarts), sample-weighted metrics (fit and evaluate weigh
the loss, not the metrics), thresholds other than ½, and Keras's metrics that have no
cartoonbrain counterpart (hinge, IoU, correlation, ...).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from cartoonbrain.metrics import get_metric
from cartoonbrain.optimizers.schedules import CosineDecay, ExponentialDecay, get_schedule


# ------------------------------------------------- learning_rate_schedule_test.py
def test_exponential_decay_config():
    """ExponentialDecayTest::test_config: the config rebuilds the schedule (Keras's
    ``name="my_ed"`` is not an argument: a schedule's name is its registry key)."""
    schedule = ExponentialDecay(
        initial_learning_rate=0.05, decay_steps=10, decay_rate=0.96, staircase=True
    )
    config = json.loads(json.dumps(schedule.get_config()))
    assert get_schedule(config).get_config() == schedule.get_config()
    with pytest.raises(TypeError):
        ExponentialDecay(0.05, 10, 0.96, name="my_ed")  # type: ignore[call-arg]


def test_exponential_decay_continuous():
    """ExponentialDecayTest::test_continuous."""
    assert ExponentialDecay(0.05, 10, 0.96)(5) == pytest.approx(0.05 * 0.96 ** (5.0 / 10.0), 1e-6)


@pytest.mark.parametrize(
    ("step", "expected"), [(1, 0.1), (2, 0.1), (100, 0.1 * 0.96 ** (100 // 3))]
)
def test_exponential_decay_staircase(step, expected):
    """ExponentialDecayTest::test_staircase and ::test_variables."""
    assert ExponentialDecay(0.1, 3, 0.96, staircase=True)(step) == pytest.approx(expected, 1e-6)


def np_cosine_decay(step, decay_steps, alpha=0.0):
    """CosineDecayTest.np_cosine_decay, as Keras writes it."""
    step = min(step, decay_steps)
    completed_fraction = step / decay_steps
    decay = 0.5 * (1.0 + math.cos(math.pi * completed_fraction))
    return (1.0 - alpha) * decay + alpha


def linear_warmup(step, warmup_steps, initial_lr, target_lr):
    """CosineDecayTest.linear_warmup, as Keras writes it (its initial_lr is 0)."""
    return step / warmup_steps * (target_lr - initial_lr)


def test_cosine_decay_config():
    """CosineDecayTest::test_config (without Keras's ``name``)."""
    schedule = CosineDecay(
        initial_learning_rate=0.05, decay_steps=10, alpha=0.1, warmup_target=0.2, warmup_steps=2
    )
    config = json.loads(json.dumps(schedule.get_config()))
    rebuilt = get_schedule(config)
    assert rebuilt.get_config() == schedule.get_config()
    assert [rebuilt(t) for t in range(15)] == [schedule(t) for t in range(15)]


@pytest.mark.parametrize("initial_lr", [1.0, np.float64(1.0)])
@pytest.mark.parametrize("step", range(0, 1500, 250))
def test_cosine_decay_decay(step, initial_lr):
    """CosineDecayTest::test_decay and ::test_float64."""
    assert CosineDecay(initial_lr, 1000)(step) == pytest.approx(
        np_cosine_decay(step, 1000), abs=1e-6
    )


@pytest.mark.parametrize("step", range(0, 1500, 250))
def test_cosine_decay_warmup(step):
    """CosineDecayTest::test_warmup: Keras's warm-up from 0 (CosineDecay(0.0, ...,
    warmup_target=...))."""
    schedule = CosineDecay(0.0, 10, warmup_target=10.0, warmup_steps=1500)
    assert schedule(step) == pytest.approx(
        linear_warmup(step, 1500, 0.0, 10.0), rel=1e-6, abs=1e-12
    )


@pytest.mark.parametrize("step", range(0, 1500, 250))
def test_cosine_decay_alpha(step):
    """CosineDecayTest::test_alpha."""
    assert CosineDecay(1.0, 1000, 0.1)(step) == pytest.approx(
        np_cosine_decay(step, 1000, 0.1), abs=1e-6
    )


@pytest.mark.parametrize("step", range(0, 3000, 250))
def test_cosine_decay_warmup_decay(step):
    """CosineDecayTest::test_warmup_decay."""
    schedule = CosineDecay(0.0, 1000, warmup_target=10.0, warmup_steps=2000)
    if step < 2000 + 1:
        expected = linear_warmup(step, 2000, 0.0, 10.0)
    else:
        expected = 10.0 * np_cosine_decay(step - 2000, 1000)
    assert schedule(step) == pytest.approx(expected, rel=1e-6, abs=1e-12)


def test_cosine_decay_from_zero_needs_a_warmup_target():
    """A rate of 0 stays 0 without a warm-up to a target: refused (Keras accepts it, and
    the optimizer then never moves)."""
    with pytest.raises(ValueError, match=r"initial_learning_rate must be a positive"):
        CosineDecay(0.0, 10)


def test_cosine_decay_warmup_without_target_differs_from_kerass():
    """Keras ignores ``warmup_steps`` without a ``warmup_target``; cartoonbrain warms up
    from 0 to the initial rate, lr = initial · (t + 1) / warmup_steps (cartoonbrain 0.1's
    schedule, kept so that its files train the same)."""
    schedule = CosineDecay(1.0, 10, warmup_steps=4)
    assert [schedule(t) for t in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert schedule(4) == pytest.approx(np_cosine_decay(0, 10))


# ------------------------------------------------- accuracy_metrics_test.py
def test_binary_accuracy_unweighted():
    """BinaryAccuracyTest::test_unweighted (both cases): sigmoid outputs, threshold ½."""
    y_pred = np.array([[0.98], [1], [0], [0.6]])
    accuracy = get_metric("accuracy")
    assert accuracy(y_pred, np.array([[1], [1], [0], [0]]), independent=True) == pytest.approx(
        0.75, abs=1e-3
    )
    assert accuracy(y_pred, np.array([1, 1, 0, 0]), independent=True) == pytest.approx(
        0.75, abs=1e-3
    )


def test_categorical_accuracy_unweighted():
    """CategoricalAccuracyTest::test_unweighted: one-hot targets, argmax of the outputs."""
    y_true = np.array([[0, 0, 1], [0, 1, 0]])
    y_pred = np.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    assert get_metric("accuracy")(y_pred, y_true) == pytest.approx(0.5, abs=1e-3)


def test_sparse_categorical_accuracy_unweighted():
    """SparseCategoricalAccuracyTest::test_unweighted: class ids (Keras's ``[[2], [1]]``
    squeezed, as its test_squeeze_y_true does)."""
    y_pred = np.array([[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
    assert get_metric("accuracy")(y_pred, np.array([2, 1])) == pytest.approx(0.5, abs=1e-3)


def test_top_k_categorical_accuracy_unweighted():
    """TopKCategoricalAccuracyTest::test_unweighted and
    SparseTopKCategoricalAccuracyTest::test_unweighted, k = 1."""
    y_pred = np.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0]], dtype="float32")
    top_1 = get_metric("top_1_accuracy")
    assert top_1(y_pred, np.array([[0, 0, 1], [0, 1, 0]])) == pytest.approx(0.5, abs=1e-3)
    assert top_1(y_pred, np.array([2, 1])) == pytest.approx(0.5, abs=1e-3)


def test_top_k_categorical_accuracy_default_k_is_kerass():
    """TopKCategoricalAccuracy's default k is 5, as "top_k_accuracy"'s."""
    y_pred = np.eye(7)[[0, 1]] * 0.5 + np.linspace(0, 0.1, 7)
    assert get_metric("top_k_accuracy")(y_pred, np.array([6, 3])) == get_metric("top_5_accuracy")(
        y_pred, np.array([6, 3])
    )


def test_accuracy_compares_classes_not_values():
    """AccuracyTest::test_unweighted counts equal values (``[[1], [2], [3], [4]]`` against
    ``[[0], [2], [3], [4]]``: 0.75). cartoonbrain's "accuracy" is Keras's binary or
    categorical accuracy, read from what the network outputs (probabilities, one output:
    > ½); comparing raw values is not one of its metrics: 2 against 1 counts as right."""
    y_true, y_pred = np.array([[1], [2]]), np.array([[2], [1]])
    assert get_metric("accuracy")(y_pred, y_true) == 1.0  # Keras's Accuracy: 0.0


# ------------------------------------------------- regression_metrics_test.py
Y_TRUE = np.array([[0, 1, 0, 1, 0], [0, 0, 1, 1, 1], [1, 1, 1, 1, 0], [0, 0, 0, 0, 1]])
Y_PRED = np.array([[0, 0, 1, 1, 0], [1, 1, 1, 1, 1], [0, 1, 0, 1, 0], [1, 1, 1, 1, 1]])


@pytest.mark.parametrize("name", ["mse", "mae"])
def test_mean_squared_and_absolute_error_unweighted(name):
    """MeanSquaredErrorTest::test_unweighted and MeanAbsoluteErrorTest::test_unweighted."""
    assert get_metric(name)(Y_PRED.astype(float), Y_TRUE.astype(float)) == pytest.approx(
        0.5, abs=1e-5
    )


def test_r2_sklearn_comparison_uniform_average():
    """R2ScoreTest::test_r2_sklearn_comparison, class_aggregation="uniform_average",
    num_regressors=0: -0.12 (cartoonbrain's r2 averages over outputs, as scikit-learn's
    default; Keras's other aggregations and num_regressors are not options)."""
    y_true = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    y_pred = np.array([[0.4, 0.5, 0.6], [0.1, 0.2, 0.3], [0.5, 0.8, 0.2]])
    assert get_metric("r2")(y_pred, y_true) == pytest.approx(-0.12, abs=1e-6)


# ------------------------------------------------- confusion_metrics_test.py
Y_PRED_BINARY = np.array([1, 0, 1, 0], dtype=float)[:, None]
Y_TRUE_BINARY = np.array([0, 1, 1, 0], dtype=float)[:, None]


@pytest.mark.parametrize("name", ["precision", "recall"])
def test_precision_and_recall_unweighted(name):
    """PrecisionTest::test_unweighted and RecallTest::test_unweighted: 0.5."""
    metric = get_metric(name)
    assert metric(Y_PRED_BINARY, Y_TRUE_BINARY, independent=True) == pytest.approx(0.5)


@pytest.mark.parametrize("name", ["precision", "recall"])
def test_precision_and_recall_unweighted_all_incorrect(name):
    """PrecisionTest/RecallTest::test_unweighted_all_incorrect: 0."""
    inputs = np.random.default_rng(0).integers(0, 2, size=(100, 1)).astype(float)
    assert get_metric(name)(inputs, 1 - inputs, independent=True) == 0


@pytest.mark.parametrize("name", ["precision", "recall"])
def test_precision_and_recall_div_by_zero(name):
    """PrecisionTest/RecallTest::test_div_by_zero: 0, unwarned."""
    zeros = np.zeros((4, 1))
    assert get_metric(name)(zeros, zeros, independent=True) == 0


def test_auc_is_exact_where_kerass_is_approximate():
    """AUCTest::test_unweighted (num_thresholds=3) gives 0.75 by Keras's trapezoids; the
    exact area (cartoonbrain's, scikit-learn's roc_auc_score) is 0.75 here too. Keras's
    AUC approximates with ``num_thresholds`` (200) thresholds; cartoonbrain's is the
    Mann–Whitney statistic, exact (the difference shows with close scores)."""
    y_pred = np.array([0, 0.5, 0.3, 0.9])[:, None]
    y_true = np.array([0, 0, 1, 1])[:, None]
    assert get_metric("auc")(y_pred, y_true, independent=True) == pytest.approx(0.75, abs=1e-12)
    close = np.array([0.501, 0.502])[:, None]  # one threshold bin in Keras: its AUC is 0.5
    assert get_metric("auc")(close, np.array([0, 1])[:, None], independent=True) == 1.0


# ------------------------------------------------- f_score_metrics_test.py
F_PRED = np.array([[0.7, 0.7, 0.7], [1, 0, 0], [0.9, 0.8, 0]])  # the same labels at ½ as at 0.66


@pytest.mark.parametrize(
    ("y_true", "average", "expected"),
    [
        ([[1, 1, 1], [1, 0, 0], [1, 1, 0]], "micro", 1.0),  # test_fbeta_perfect_score
        ([[1, 1, 1], [1, 0, 0], [1, 1, 0]], "macro", 1.0),
        ([[0, 0, 0], [0, 1, 0], [0, 0, 1]], "micro", 0.0),  # test_fbeta_worst_score
        ([[0, 0, 0], [0, 1, 0], [0, 0, 1]], "macro", 0.0),
        ([[0, 0, 1], [1, 1, 0], [1, 1, 1]], "micro", 0.6666667),  # test_fbeta_random_score
        ([[0, 0, 1], [1, 1, 0], [1, 1, 1]], "macro", 0.6555555),
    ],
)
def test_f1_score_multilabel(y_true, average, expected):
    """FBetaScoreTest with beta=1 (F1Score), multi-label sigmoid outputs. Keras's tests
    use threshold=0.66; these outputs give the same labels at cartoonbrain's ½."""
    t = np.array(y_true, dtype=float)
    assert get_metric(f"f1_{average}")(F_PRED, t, independent=True) == pytest.approx(
        expected, abs=1e-6
    )
