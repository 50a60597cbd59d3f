"""The scikit-learn estimators: every check of ``check_estimator``, one step restated
against MLPClassifier/MLPRegressor, and what users meet (pipelines, grid search, pickle,
labels, partial_fit, sample_weight, warm_start, dtypes, messages)."""

import copy
import pickle
import re
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone
from sklearn.datasets import load_digits, make_blobs, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import has_fit_parameter

import cartoonbrain as cb
from cartoonbrain import Dropout, Network
from cartoonbrain.sklearn import (
    NeuralNetClassifier,
    NeuralNetRegressor,
)
from tolerance import assert_same_maths

# As in scikit-learn's own tests, max_iter reached (a ConvergenceWarning) is not an error
# here; the tests about the warning ask for it with pytest.warns.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=120, centers=3, n_features=4, random_state=0)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=360, random_state=0, stratify=y)


# ---------------------------------------------------------------------------------------
# scikit-learn's own checks, all of them, with nothing expected to fail
# ---------------------------------------------------------------------------------------
@parametrize_with_checks([NeuralNetClassifier(), NeuralNetRegressor()])
def test_check_estimator(estimator, check):
    check(estimator)


# ---------------------------------------------------------------------------------------
# A worked example: one full-batch SGD step from the same weights as scikit-learn's MLP,
# which restates the objective Σ w ℓ / Σ w + (α / 2 Σ w) Σ‖W‖² and its gradient.
# ---------------------------------------------------------------------------------------
def _one_step_each(ours, theirs, X, y, sample_weight):
    """Fit ours for one epoch to get weights, give MLP the same, take one more step each."""
    with pytest.warns(ConvergenceWarning):
        ours.fit(X, y)
        theirs.fit(X, y)
    theirs.coefs_ = [c.copy() for c in ours.coefs_]
    theirs.intercepts_ = [b.copy() for b in ours.intercepts_]
    ours.set_params(warm_start=True)
    theirs.set_params(warm_start=True)
    fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
    with pytest.warns(ConvergenceWarning):
        ours.fit(X, y, **fit_params)
        theirs.fit(X, y, **fit_params)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_one_sgd_step_matches_scikit_learns_mlp(kind, weighted):
    if weighted and not has_fit_parameter(MLPClassifier, "sample_weight"):
        pytest.skip("MLP's sample_weight needs scikit-learn >= 1.7")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    if kind == "classifier":
        y = rng.integers(0, 3, size=30)  # 3 classes: softmax on both sides
        ours, theirs = NeuralNetClassifier, MLPClassifier
    else:
        y = X @ [1.0, -2.0, 0.5, 0.0] + 0.1 * rng.normal(size=30)
        ours, theirs = NeuralNetRegressor, MLPRegressor
    options = dict(
        hidden_layer_sizes=(5, 3),
        activation="tanh",
        solver="sgd",
        momentum=0.0,
        alpha=0.3,
        learning_rate_init=0.1,
        batch_size=30,
        shuffle=False,
        max_iter=1,
        random_state=0,
    )
    ours, theirs = ours(**options), theirs(**options)
    weights = rng.integers(0, 4, size=30).astype(float) if weighted else None
    _one_step_each(ours, theirs, X, y, weights)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.loss_curve_[-1], theirs.loss_curve_[-1], rtol=1e-12, atol=0)


# ---------------------------------------------------------------------------------------
# scikit-learn's tools
# ---------------------------------------------------------------------------------------
def test_grid_search_over_a_pipeline_on_digits(digits):
    X_train, X_test, y_train, y_test = digits
    classifier = NeuralNetClassifier(learning_rate_init=0.01, tol=1e-3, random_state=0)
    search = GridSearchCV(
        make_pipeline(StandardScaler(), classifier),
        {
            "neuralnetclassifier__hidden_layer_sizes": [(32,), (64,)],
            "neuralnetclassifier__alpha": [1e-4, 1e-2],
        },
        cv=3,
        n_jobs=2,
    )
    search.fit(X_train, y_train)
    assert search.best_score_ >= 0.9
    assert search.score(X_test, y_test) >= 0.9
    assert isinstance(search.best_estimator_[-1].network_, Network)


def test_cross_val_score_of_the_regressor():
    X, y = make_regression(n_samples=150, n_features=5, noise=1.0, random_state=0)
    regressor = NeuralNetRegressor(hidden_layer_sizes=(32,), learning_rate_init=0.01, tol=1e-3)
    model = make_pipeline(StandardScaler(), regressor.set_params(random_state=0))
    scores = cross_val_score(model, X, y / y.std(), cv=3)
    assert scores.shape == (3,) and scores.min() > 0.9


def test_clone_copies_parameters_not_the_fit(blobs):
    X, y = blobs
    model = NeuralNetClassifier(
        hidden_layer_sizes=(8,), max_iter=100, learning_rate_init=0.01, random_state=3
    )
    model.fit(X, y)
    twin = clone(model)
    assert twin.get_params() == model.get_params()
    assert not hasattr(twin, "network_") and not hasattr(twin, "coefs_")
    with pytest.raises(NotFittedError):
        twin.predict(X)


@pytest.mark.parametrize("copier", ["pickle", "deepcopy"])
def test_a_copy_predicts_and_trains_on_identically(blobs, copier):
    """The copy's layers still share the one flat parameter buffer that trains them."""
    X, y = blobs
    model = NeuralNetClassifier(
        hidden_layer_sizes=(8,), dropout=0.1, max_iter=100, learning_rate_init=0.01, random_state=0
    )
    model.fit(X, y)
    twin = pickle.loads(pickle.dumps(model)) if copier == "pickle" else copy.deepcopy(model)
    before = model.predict_proba(X)
    np.testing.assert_array_equal(twin.predict_proba(X), before)
    for estimator in (model, twin):  # dropout and shuffling continue the same generator
        estimator.partial_fit(X, y)
    after = twin.predict_proba(X)
    assert not np.array_equal(after, before)  # the step reached the weights predict uses
    np.testing.assert_array_equal(after, model.predict_proba(X))


# ---------------------------------------------------------------------------------------
# Labels and targets
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "labels",
    [
        np.array(["cat", "dog", "emu"]),
        np.array(["cat", "dog", "emu"], dtype=object),
        np.array([-3, 0, 5]),
        np.array([-1.0, 2.0, 7.0]),
        np.array([-1, 1, 1]),  # two classes
        np.array([True, False, False]),
    ],
)
def test_any_labels_come_back_as_given(blobs, labels):
    X, y = blobs
    y_named = labels[y]
    model = NeuralNetClassifier(
        hidden_layer_sizes=(8,), max_iter=100, learning_rate_init=0.01, random_state=0
    )
    model.fit(X, y_named)
    np.testing.assert_array_equal(model.classes_, np.unique(y_named))
    predicted = model.predict(X)
    assert set(predicted) <= set(y_named)
    assert np.mean(predicted == y_named) > 0.95
    probabilities = model.predict_proba(X)
    assert probabilities.shape == (len(X), len(model.classes_))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(model.classes_[probabilities.argmax(axis=1)], predicted)
    np.testing.assert_allclose(
        model.predict_log_proba(X), np.log(probabilities), rtol=1e-12, atol=0
    )


def test_binary_cross_entropy_gives_mlps_single_logistic_output(blobs):
    X, y = blobs
    y = np.where(y == 0, "a", "b")
    model = NeuralNetClassifier(
        hidden_layer_sizes=(8,),
        loss="binary_cross_entropy",
        max_iter=100,
        learning_rate_init=0.01,
        random_state=0,
    ).fit(X, y)
    assert model.n_outputs_ == 1 and model.out_activation_ == "sigmoid"
    assert model.coefs_[-1].shape == (8, 1)
    probabilities = model.predict_proba(X)
    assert probabilities.shape == (len(X), 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=0, atol=1e-12)
    assert model.score(X, y) > 0.95


def test_multi_label_targets(blobs):
    X, y = blobs
    Y = np.column_stack([y == 0, y != 1, np.ones_like(y)]).astype(int)
    model = NeuralNetClassifier(
        hidden_layer_sizes=(16,), max_iter=100, learning_rate_init=0.01, random_state=0
    )
    model.fit(X, Y)
    assert model.out_activation_ == "sigmoid"
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    assert model.predict(X).shape == Y.shape and model.predict_proba(X).shape == Y.shape
    assert model.score(X, Y) > 0.9  # every label of a sample right


def test_multi_output_regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    Y = X @ rng.normal(size=(4, 3))
    model = NeuralNetRegressor(hidden_layer_sizes=(16,), learning_rate_init=0.01, random_state=0)
    model.fit(X, Y)
    assert model.n_outputs_ == 3 and model.predict(X).shape == (200, 3)
    assert model.score(X, Y) > 0.95
    assert model.fit(X, Y[:, 0]).predict(X).shape == (200,)


@pytest.mark.parametrize(
    ("X_dtype", "dtype", "expected"),
    [
        (np.float32, "auto", np.float32),
        (np.float64, "auto", np.float64),
        (np.int64, "auto", np.float64),
        (np.float64, "float32", np.float32),
        (np.float32, np.float64, np.float64),
    ],
)
def test_float32_input_stays_float32(blobs, X_dtype, dtype, expected):
    X, y = blobs
    X = (X * 10).astype(X_dtype)
    model = NeuralNetClassifier(hidden_layer_sizes=(8,), max_iter=5, dtype=dtype, random_state=0)
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y)
    assert model.network_.dtype == expected
    assert model.predict_proba(X).dtype == expected
    assert all(c.dtype == expected for c in model.coefs_ + model.intercepts_)
    regressor = NeuralNetRegressor(hidden_layer_sizes=(8,), max_iter=5, dtype=dtype, random_state=0)
    with pytest.warns(ConvergenceWarning):
        assert regressor.fit(X, y.astype(float)).predict(X).dtype == expected


# ---------------------------------------------------------------------------------------
# Training: sample_weight, partial_fit, warm_start, early stopping, schedules, verbose
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("estimator", [NeuralNetClassifier, NeuralNetRegressor])
def test_zero_weights_drop_samples_and_integer_weights_repeat_them(blobs, estimator):
    X, y = blobs
    w = np.random.default_rng(0).integers(0, 3, size=len(X))
    model = estimator(hidden_layer_sizes=(8,), max_iter=20, shuffle=False, random_state=0)
    # one batch holds every sample (batch_size="auto" is min(200, n)), so only the order
    # of the sums differs
    with pytest.warns(ConvergenceWarning):
        weighted = clone(model).fit(X, y, sample_weight=w)
        repeated = clone(model).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-10, atol=0)
    for a, b in zip(weighted.coefs_, repeated.coefs_):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)


def test_unit_weights_change_nothing(blobs):
    X, y = blobs
    model = NeuralNetClassifier(
        hidden_layer_sizes=(8,), max_iter=100, learning_rate_init=0.01, random_state=0
    )
    plain = clone(model).fit(X, y)
    ones = clone(model).fit(X, y, sample_weight=np.ones(len(X)))
    np.testing.assert_array_equal(plain.predict_proba(X), ones.predict_proba(X))


def test_partial_fit_takes_classes_first(blobs):
    X, y = blobs
    model = NeuralNetClassifier(
        hidden_layer_sizes=(8,), batch_size=20, learning_rate_init=0.01, random_state=0
    )
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        model.partial_fit(X, y)
    first = y != 2  # class 2 is absent from the first batch
    model.partial_fit(X[first], y[first], classes=[0, 1, 2])
    assert model.predict_proba(X).shape == (len(X), 3) and model.n_iter_ == 1
    for _ in range(30):
        model.partial_fit(X, y)
    assert model.score(X, y) > 0.95 and model.t_ == first.sum() + 30 * len(X)
    with pytest.raises(ValueError, match=r"y has labels \[3\] that are not among the classes"):
        model.partial_fit(X, y + 1)
    with pytest.raises(ValueError, match="is not the same as on last call"):
        model.partial_fit(X, y, classes=[0, 1])


def test_partial_fit_epochs_equal_fit_epochs(blobs):
    """partial_fit keeps the optimizer and the generator: five calls are fit(max_iter=5)."""
    X, y = blobs
    stepped = NeuralNetClassifier(hidden_layer_sizes=(8,), batch_size=16, random_state=0)
    for _ in range(5):
        stepped.partial_fit(X, y, classes=[0, 1, 2])
    fitted = clone(stepped).set_params(max_iter=5).fit(X, y)
    for a, b in zip(stepped.coefs_, fitted.coefs_):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(stepped.loss_curve_, fitted.loss_curve_)


def test_warm_start_continues_where_fit_stopped(blobs):
    """SGD without momentum has no state, so 3 epochs then 2 more are 5 epochs."""
    X, y = blobs
    options = dict(hidden_layer_sizes=(8,), solver="sgd", momentum=0.0, random_state=0)
    warm = NeuralNetClassifier(max_iter=3, warm_start=True, **options).fit(X, y)
    warm.set_params(max_iter=2).fit(X, y)
    cold = NeuralNetClassifier(max_iter=5, **options).fit(X, y)
    assert len(warm.loss_curve_) == 5 and warm.n_iter_ == 2
    np.testing.assert_array_equal(warm.loss_curve_, cold.loss_curve_)
    for a, b in zip(warm.coefs_, cold.coefs_):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="warm_start can only be used where `y` has the same"):
        warm.fit(X[y != 2], y[y != 2])


def test_max_iter_reached_is_a_convergence_warning_at_the_callers_line(blobs):
    X, y = blobs
    model = NeuralNetClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\) reached") as record:
        model.fit(X, y)
    assert record[0].filename == __file__
    assert model.n_iter_ == 3 and len(model.loss_curve_) == 3


def test_training_stops_when_the_loss_stalls(blobs):
    X, y = blobs
    model = NeuralNetClassifier(hidden_layer_sizes=(8,), tol=1e-2, random_state=0).fit(X, y)
    assert model.n_iter_ < model.max_iter and len(model.loss_curve_) == model.n_iter_
    # MLP's rule: n_iter_no_change + 1 epochs in a row without an improvement by tol
    best = np.minimum.accumulate(model.loss_curve_)
    stalled = [model.loss_curve_[i] > best[i - 1] - model.tol for i in range(1, model.n_iter_)]
    assert all(stalled[-(model.n_iter_no_change + 1) :])
    assert model.best_loss_ == min(model.loss_curve_) and model.validation_scores_ is None


def test_early_stopping_keeps_the_best_weights(digits):
    X_train, X_test, y_train, y_test = digits
    model = make_pipeline(
        StandardScaler(),
        NeuralNetClassifier(early_stopping=True, learning_rate_init=0.01, random_state=0),
    ).fit(X_train, y_train)
    classifier = model[-1]
    assert classifier.n_iter_ < classifier.max_iter and classifier.best_loss_ is None
    assert len(classifier.validation_scores_) == classifier.n_iter_
    assert classifier.best_validation_score_ == max(classifier.validation_scores_)
    assert model.score(X_test, y_test) > 0.9
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
        classifier.partial_fit(X_train, y_train)


@pytest.mark.parametrize("solver", ["sgd", "rmsprop", "adamw"])
def test_every_solver_learns(blobs, solver):
    X, y = blobs
    model = NeuralNetClassifier(
        hidden_layer_sizes=(8,), solver=solver, learning_rate_init=0.01, random_state=0
    )
    assert model.fit(X, y).score(X, y) > 0.95


def test_invscaling_and_adaptive_learning_rates(blobs):
    X, y = blobs
    sgd = dict(hidden_layer_sizes=(8,), solver="sgd", random_state=0)
    model = NeuralNetClassifier(learning_rate="invscaling", max_iter=4, **sgd).fit(X, y)
    assert model.t_ == 4 * len(X)
    assert model._optimizer.learning_rate == pytest.approx(0.001 / (model.t_ + 1) ** 0.5)
    model = NeuralNetClassifier(learning_rate="adaptive", tol=0.5, **sgd).fit(X, y)
    # every 11 epochs without improvement divide the rate by 5, until it is ≤ 1e-6
    assert model._optimizer.learning_rate == pytest.approx(0.001 / 5**5)
    assert model.n_iter_ == 1 + 6 * 11


def test_dropout_layers_and_repeatable_fits(blobs):
    X, y = blobs
    model = NeuralNetClassifier(
        hidden_layer_sizes=(8, 8), dropout=0.25, max_iter=100, learning_rate_init=0.01
    )
    first = clone(model).set_params(random_state=7).fit(X, y)
    again = clone(model).set_params(random_state=7).fit(X, y)
    dropouts = [layer for layer in first.network_.layers if isinstance(layer, Dropout)]
    assert [d.rate for d in dropouts] == [0.25, 0.25]
    np.testing.assert_array_equal(first.predict_proba(X), again.predict_proba(X))


def test_verbose_prints_mlps_lines_or_a_progress_bar(blobs, capsys):
    X, y = blobs
    NeuralNetClassifier(hidden_layer_sizes=(4,), max_iter=3, verbose=2).fit(X, y)
    out = capsys.readouterr().out
    assert re.findall(r"Iteration (\d+), loss = \d+\.\d{8}", out) == ["1", "2", "3"]
    NeuralNetClassifier(hidden_layer_sizes=(4,), max_iter=3, verbose=True).fit(X, y)
    captured = capsys.readouterr()
    assert captured.out == "" and "NeuralNetClassifier" in captured.err


# ---------------------------------------------------------------------------------------
# Fitted attributes
# ---------------------------------------------------------------------------------------
def test_coefs_are_read_only_transposed_weights(blobs):
    X, y = blobs
    model = NeuralNetClassifier(
        hidden_layer_sizes=(8, 5), max_iter=100, learning_rate_init=0.01, random_state=0
    )
    model.fit(X, y)
    assert [c.shape for c in model.coefs_] == [(4, 8), (8, 5), (5, 3)]
    assert [b.shape for b in model.intercepts_] == [(8,), (5,), (3,)]
    W = model.network_.parameters()[0::2]
    for c, w in zip(model.coefs_, W):
        np.testing.assert_array_equal(c, w.T)
    with pytest.raises(ValueError, match="read-only"):
        model.coefs_[0][0, 0] = 1.0
    assert model.n_layers_ == 4 and model.n_features_in_ == 4 and model.n_outputs_ == 3
    assert model.out_activation_ == "softmax"
    # network_.evaluate reports MLP's full-batch objective: (α / 2n) Σ‖W‖² for n samples
    assert model.network_.l2 == model.alpha and model.network_.l2_per_sample


def test_feature_names_in_from_a_dataframe(blobs):
    pandas = pytest.importorskip("pandas")
    X, y = blobs
    frame = pandas.DataFrame(X, columns=["a", "b", "c", "d"])
    model = NeuralNetRegressor(
        hidden_layer_sizes=(4,), max_iter=100, learning_rate_init=0.01, random_state=0
    )
    model.fit(frame, y.astype(float))
    np.testing.assert_array_equal(model.feature_names_in_, ["a", "b", "c", "d"])


# ---------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"hidden_layer_sizes": (10, 0)}, r"hidden_layer_sizes must be > 0, got \[10, 0\]"),
        ({"solver": "adagrad"}, "'solver' parameter of NeuralNetClassifier must be"),
        ({"alpha": -1.0}, "'alpha' parameter of NeuralNetClassifier must be"),
        ({"dropout": 1.0}, "'dropout' parameter of NeuralNetClassifier must be"),
        ({"dtype": "float16"}, "'dtype' parameter of NeuralNetClassifier must be"),
        ({"loss": "mse"}, "'loss' parameter of NeuralNetClassifier must be"),
        ({"loss": "binary_cross_entropy"}, "loss='binary_cross_entropy' needs 2 classes"),
    ],
)
def test_bad_parameters_are_named(blobs, params, message):
    X, y = blobs
    with pytest.raises(ValueError, match=message):
        NeuralNetClassifier(**params).fit(X, y)


def test_bad_data_is_named(blobs):
    X, y = blobs
    model = NeuralNetClassifier(
        hidden_layer_sizes=(4,), max_iter=100, learning_rate_init=0.01, random_state=0
    )
    with pytest.raises(ValueError, match="Unknown label type"):
        model.fit(X, X[:, 0])
    with pytest.raises(ValueError, match="multiclass-multioutput"):
        model.fit(X, np.column_stack([y, y]))
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        model.fit(X, y, sample_weight=-np.ones(len(X)))
    model.fit(X, y)
    with pytest.raises(
        ValueError, match="X has 3 features, but NeuralNetClassifier is expecting 4"
    ):
        model.predict(X[:, :3])
    with pytest.warns(UserWarning, match="`batch_size` .* It is going to be clipped"):
        model.set_params(batch_size=500).fit(X, y)


# ---------------------------------------------------------------------------------------
# Behaviour for behaviour with scikit-learn's MLP, in the same run
# ---------------------------------------------------------------------------------------
def _sgd_options(**more):
    options = dict(
        hidden_layer_sizes=(5,),
        activation="tanh",
        solver="sgd",
        momentum=0.0,
        alpha=0.1,
        learning_rate_init=0.1,
        batch_size=30,
        shuffle=False,
        max_iter=1,
        random_state=0,
    )
    return {**options, **more}


def _assert_same_fit(ours, theirs):
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.loss_curve_[-1], theirs.loss_curve_[-1], rtol=1e-12)


def test_multi_label_loss_is_summed_over_labels_as_mlps():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    Y = (rng.normal(size=(30, 5)) > 0).astype(int)  # 5 labels
    ours, theirs = NeuralNetClassifier(**_sgd_options()), MLPClassifier(**_sgd_options())
    _one_step_each(ours, theirs, X, Y, None)
    _assert_same_fit(ours, theirs)


def test_poisson_loss_matches_mlp_regressors():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 4))
    y = rng.poisson(np.exp(0.3 * X[:, 0])).astype(float)
    options = _sgd_options(loss="poisson", learning_rate_init=0.01)
    ours, theirs = NeuralNetRegressor(**options), MLPRegressor(**options)
    _one_step_each(ours, theirs, X, y, None)
    _assert_same_fit(ours, theirs)
    assert ours.out_activation_ == theirs.out_activation_ == "exp"
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-10)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_lbfgs_takes_mlps_steps_from_the_same_weights(kind):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 4))
    if kind == "classifier":
        y, ours, theirs = rng.integers(0, 3, size=40), NeuralNetClassifier, MLPClassifier
    else:
        y, ours, theirs = X @ [1.0, -1.0, 0.5, 0.0], NeuralNetRegressor, MLPRegressor
    options = dict(hidden_layer_sizes=(6,), activation="tanh", solver="lbfgs", alpha=0.01)
    ours, theirs = ours(**options, max_iter=1), theirs(**options, max_iter=1)
    with pytest.warns(ConvergenceWarning):
        ours.fit(X, y)
        theirs.fit(X, y)
    theirs.coefs_ = [c.copy() for c in ours.coefs_]
    theirs.intercepts_ = [b.copy() for b in ours.intercepts_]
    for model in (ours, theirs):
        model.set_params(warm_start=True, max_iter=15)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours.fit(X, y)
        theirs.fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-6)
    for a, b in zip(ours.coefs_, theirs.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert hasattr(ours, "partial_fit") == hasattr(theirs, "partial_fit")


def test_max_fun_limits_lbfgs_evaluations_as_mlps():
    X, y = make_regression(n_samples=50, n_features=3, random_state=0)
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        NeuralNetRegressor(solver="lbfgs", max_fun=5, random_state=0).fit(X, y)


def test_early_stopping_through_a_divergence_keeps_the_best_weights_as_mlp():
    """MLP with early_stopping does not raise when the loss overflows: it keeps the best
    weights. So do we; we also record the epoch's NaN loss and score, and stop there."""
    X, y = load_digits(return_X_y=True)
    X, y = X[:300] * 1e3, y[:300]  # unscaled and huge: this rate overflows in ~14 epochs
    options = dict(
        solver="sgd",
        learning_rate_init=1e6,
        early_stopping=True,
        n_iter_no_change=50,
        max_iter=30,
        random_state=0,
        hidden_layer_sizes=(16,),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLP's overflow warnings and its ConvergenceWarning
        theirs = MLPClassifier(**options).fit(X, y)
    ours = NeuralNetClassifier(**options).fit(X, y)  # no error, no warning
    assert np.isnan(theirs.loss_curve_[-1]) and np.isnan(ours.loss_curve_[-1])
    assert np.isnan(ours.validation_scores_[-1])
    for model in (ours, theirs):
        assert all(np.isfinite(c).all() for c in model.coefs_ + model.intercepts_)
    assert ours.best_validation_score_ == np.nanmax(ours.validation_scores_)
    assert np.isin(ours.predict(X), ours.classes_).all()
    with pytest.raises(ValueError, match="Solver produced non-finite parameter weights"):
        NeuralNetClassifier(**{**options, "early_stopping": False}).fit(X, y)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_trains_and_predicts_like_dense(blobs, fmt):
    scipy_sparse = pytest.importorskip("scipy.sparse")
    X, y = blobs
    X = np.where(np.abs(X) > 1, X, 0.0)
    sparse = scipy_sparse.csr_matrix(X) if fmt == "csr" else scipy_sparse.csc_matrix(X)
    options = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0, batch_size=16)
    with pytest.warns(ConvergenceWarning):
        dense_model = NeuralNetClassifier(**options).fit(X, y)
        sparse_model = NeuralNetClassifier(**options).fit(sparse, y)
    assert_same_maths(sparse_model.predict_proba(sparse), dense_model.predict_proba(X))
    assert_same_maths(sparse_model.loss_curve_, dense_model.loss_curve_)


def test_a_single_class_is_fitted_and_predicted_as_mlp_does(blobs):
    X, _ = blobs
    y = np.full(len(X), "only")
    theirs = MLPClassifier(max_iter=5, random_state=0)
    with pytest.warns(ConvergenceWarning):
        theirs.fit(X, y)
        ours = NeuralNetClassifier(max_iter=5, random_state=0).fit(X, y)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    np.testing.assert_allclose(ours.predict_proba(X), 1.0)


@pytest.mark.parametrize(
    ("ours", "theirs"), [(NeuralNetClassifier, MLPClassifier), (NeuralNetRegressor, MLPRegressor)]
)
def test_every_mlp_parameter_is_accepted(ours, theirs):
    params = theirs().get_params()
    model = ours(**params)
    assert {k: model.get_params()[k] for k in params} == params


def test_verbose_says_the_validation_score_and_why_it_stopped_as_mlp(blobs, capsys):
    X, y = blobs
    options = dict(max_iter=200, early_stopping=True, n_iter_no_change=2, verbose=2, random_state=0)
    NeuralNetClassifier(**options).fit(X, y)
    ours = capsys.readouterr().out.splitlines()
    MLPClassifier(**{**options, "verbose": True}).fit(X, y)
    theirs = capsys.readouterr().out.splitlines()

    def kinds(lines):
        return {re.sub(r"[-+0-9.e]+", "#", line) for line in lines}

    assert kinds(ours) == kinds(theirs)


def test_activation_and_solver_options_come_from_the_registries(blobs):
    X, y = blobs
    # every registered elementwise activation and every registered optimizer is accepted
    for name in set(cb.ACTIVATIONS) - {"softmax"}:
        NeuralNetClassifier(activation=name)._validate_params()
    for name in cb.optimizers.OPTIMIZERS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = NeuralNetClassifier(hidden_layer_sizes=(4,), solver=name, max_iter=2)
            assert model.fit(X, y).n_iter_ == 2
    with pytest.raises(ValueError, match="'activation' parameter of NeuralNetClassifier must"):
        NeuralNetClassifier(activation="softmax").fit(X, y)


def test_multi_output_regression_steps_as_mlp_and_reports_what_it_steps_on():
    """MLPRegressor steps on ½ Σ_j (y − t)² (its gradient) but reports that divided by the
    number of outputs k; we report the loss we step on: the same weights, k× the curve."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(30, 4))
    Y = X @ rng.normal(size=(4, 3))  # 3 outputs
    ours, theirs = NeuralNetRegressor(**_sgd_options()), MLPRegressor(**_sgd_options())
    _one_step_each(ours, theirs, X, Y, None)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    penalty = 0.1 / (2 * 30) * sum(np.sum(c**2) for c in theirs.coefs_)  # before the step
    assert ours.loss_curve_[-1] > theirs.loss_curve_[-1]
    assert (ours.loss_curve_[-1] - penalty) == pytest.approx(
        3 * (theirs.loss_curve_[-1] - penalty), rel=0.05
    )


def test_early_stopping_split_names_the_users_class():
    """A deliberate difference (README, "Differences from scikit-learn"): MLPClassifier
    stratifies on its private label-binarized target and names the class ``'True'``; the
    early-stopping split here names the user's own class."""
    X, y = [[1, 2], [2, 3], [3, 4], [4, 5]], ["a", "a", "a", "b"]
    with pytest.raises(ValueError, match=r"Classes with too few members are: \['b'\]"):
        NeuralNetClassifier(early_stopping=True).fit(X, y)
    with pytest.raises(ValueError, match=r"Classes with too few members are: \['True'\]"):
        MLPClassifier(early_stopping=True).fit(X, y)


def test_a_diverging_fit_with_early_stopping_finishes_with_a_nan_score():
    """As MLP (scikit-learn#29504): weights that overflow score NaN on the validation set,
    the fit finishes and keeps the best weights, instead of raising NonFinitePrediction."""
    X, y = make_regression(n_samples=150, n_features=4, noise=1.0, random_state=0)
    options = {
        "hidden_layer_sizes": 100, "activation": "identity", "solver": "sgd",
        "learning_rate_init": 1.0, "max_iter": 20, "early_stopping": True, "random_state": 0,
    }  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model = NeuralNetRegressor(**options).fit(X, y)
    assert np.isnan(model.validation_scores_[-1])
    assert all(np.isfinite(c).all() for c in model.coefs_)  # the best weights, kept


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_with_momentum_and_invscaling_steps_as_mlp(nesterov):
    """MLP's SGD keeps the rate inside its velocity (v ← μ v − lr g), Keras's rule, which
    SGD follows: with a rate that falls every epoch (invscaling) and momentum, four
    full-batch epochs from the same weights give MLP's weights."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 4)), rng.integers(0, 3, size=30)
    options = _sgd_options(
        momentum=0.9, nesterovs_momentum=nesterov, learning_rate="invscaling", power_t=0.5
    )
    ours, theirs = NeuralNetClassifier(**options), MLPClassifier(**options)
    with pytest.warns(ConvergenceWarning):
        ours.fit(X, y)
        theirs.fit(X, y)
    theirs.coefs_ = [c.copy() for c in ours.coefs_]
    theirs.intercepts_ = [b.copy() for b in ours.intercepts_]
    for model in (ours, theirs):
        model.set_params(warm_start=True, max_iter=4)
        with pytest.warns(ConvergenceWarning):
            model.fit(X, y)
    assert ours._optimizer.learning_rate != options["learning_rate_init"]  # it fell
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
