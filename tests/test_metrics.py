"""Metrics against scikit-learn's on the same predictions, and by name in fit/evaluate."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cartoonbrain as cb
from cartoonbrain.metrics import METRICS, get_metric

metrics = pytest.importorskip("sklearn.metrics")


@st.composite
def predictions(draw, kind):
    """(probabilities y, targets t, independent) as the network gives them to a metric."""
    n = draw(st.integers(4, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "binary_sigmoid":
        y = rng.uniform(size=(n, 1)).round(draw(st.sampled_from([1, 3])))  # ties too
        t = rng.integers(0, 2, size=(n, 1)).astype(float)
        return y, t, True
    if kind == "multilabel":
        k = draw(st.integers(2, 4))
        return rng.uniform(size=(n, k)), rng.integers(0, 2, size=(n, k)).astype(float), True
    k = 2 if kind == "binary_softmax" else draw(st.integers(3, 6))
    z = rng.normal(size=(n, k)) * draw(st.sampled_from([0.1, 3.0]))
    y = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return y, rng.integers(0, k, size=n), False


def sklearn_view(y, t, independent):
    """(true labels, predicted labels, scores) as scikit-learn's functions take them."""
    if independent and y.shape[1] > 1:
        return t.astype(int), (y > 0.5).astype(int), y
    if y.shape[1] == 1:
        return t[:, 0].astype(int), (y[:, 0] > 0.5).astype(int), y[:, 0]
    return t, y.argmax(axis=1), y[:, 1] if y.shape[1] == 2 else y


KINDS = ["binary_sigmoid", "binary_softmax", "multiclass", "multilabel"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("score", ["precision", "recall", "f1"])
@pytest.mark.parametrize("average", ["binary", "macro", "micro"])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_precision_recall_f1_equal_scikit_learns(kind, score, average, data):
    y, t, independent = data.draw(predictions(kind))
    name = score if average == "binary" else f"{score}_{average}"
    truth, guess, _ = sklearn_view(y, t, independent)
    if average == "binary" and kind in ("multiclass", "multilabel"):
        with pytest.raises(ValueError, match=f"{score} is for two classes"):
            METRICS[name](y, t, independent=independent)
        return
    sk = getattr(metrics, f"{score}_score")
    expected = sk(truth, guess, average=average, zero_division=0)
    assert METRICS[name](y, t, independent=independent) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_auc_equals_scikit_learns_roc_auc(kind, data):
    y, t, independent = data.draw(predictions(kind))
    truth, _, scores = sklearn_view(y, t, independent)
    classes_seen = np.unique(truth) if truth.ndim == 1 else np.unique(truth, axis=0)
    if truth.ndim == 1 and len(classes_seen) < (2 if kind != "multiclass" else y.shape[1]):
        with pytest.raises(ValueError, match="auc needs samples of both classes"):
            METRICS["auc"](y, t, independent=independent)  # scikit-learn: a warning and NaN
        return
    if truth.ndim == 2 and (truth.min(axis=0) == truth.max(axis=0)).any():
        return  # a label with one value: undefined on both sides
    expected = metrics.roc_auc_score(truth, scores, multi_class="ovr", average="macro")
    assert METRICS["auc"](y, t, independent=independent) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("k", [1, 2, 3])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_top_k_accuracy_equals_scikit_learns(k, data):
    y, t, _ = data.draw(predictions("multiclass"))
    if k >= y.shape[1]:  # every class is among the top k: scikit-learn warns, and says 1
        assert get_metric(f"top_{k}_accuracy")(y, t) == 1.0
        return
    expected = metrics.top_k_accuracy_score(t, y, k=k, labels=np.arange(y.shape[1]))
    assert get_metric(f"top_{k}_accuracy")(y, t) == pytest.approx(expected, abs=1e-12)


def test_metrics_by_name_in_fit_and_evaluate():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] + 0.5 * rng.normal(size=120) > 0).astype(int)
    net = cb.Network([cb.Dense(4, 8, "tanh"), cb.Dense(8, 2)], loss="cross_entropy", seed=0)
    names = ["accuracy", "precision", "recall", "f1", "f1_macro", "auc", "top_2_accuracy"]
    history = net.fit(X, y, epochs=3, metrics=names, validation_split=0.25)
    assert set(names) <= set(history.history) and {f"val_{m}" for m in names} <= set(
        history.history
    )
    result = net.evaluate(X, y, metrics=names)
    p = net.predict(X)
    assert result["f1"] == pytest.approx(metrics.f1_score(y, p.argmax(axis=1)), abs=1e-12)
    assert result["auc"] == pytest.approx(metrics.roc_auc_score(y, p[:, 1]), abs=1e-12)
    assert result["top_2_accuracy"] == 1.0
    with pytest.raises(ValueError, match=r"unknown metric 'f2'; expected one of .*top_<k>"):
        net.evaluate(X, y, metrics=["f2"])
