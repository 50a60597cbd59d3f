"""Preprocessing inside the model: learned once, saved with it, applied wherever it predicts."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cartoonbrain as cb
from cartoonbrain.data.preprocessing import Preprocessor, TargetEncoder
from cartoonbrain.network.builders import mlp

pd = pytest.importorskip("pandas")


def table(n=60, seed=0, missing=False):
    """A DataFrame with two numeric columns, one text column and a text label."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "size": rng.normal(50, 10, size=n),
            "colour": rng.choice(["red", "green", "blue"], size=n),
            "weight": rng.normal(-3, 0.1, size=n),
        }
    )
    if missing:
        frame.loc[rng.choice(n, 5, replace=False), "size"] = np.nan
        frame.loc[rng.choice(n, 5, replace=False), "colour"] = None
    label = np.where(frame["size"].fillna(50) + 5 * (frame["colour"] == "red") > 52, "big", "small")
    return frame, label


def classifier_for(frame, label, **options):
    pre = Preprocessor(**options).fit(frame)
    enc = TargetEncoder("classes").fit(label)
    return cb.Network(
        mlp(pre.n_features_out, (8,), len(enc.classes), "tanh"),
        loss="cross_entropy",
        seed=0,
        dtype="float64",
        preprocessor=pre,
        target_encoder=enc,
    )


def test_the_learned_statistics_and_categories():
    frame, _ = table()
    pre = Preprocessor().fit(frame)
    assert pre.feature_names_in_ == ["size", "colour", "weight"]
    assert pre.n_features_out == 1 + 3 + 1
    out = pre.transform(frame)
    np.testing.assert_allclose(out[:, 0].mean(), 0, atol=1e-12)
    np.testing.assert_allclose(out[:, 0].std(), 1, atol=1e-12)
    hot = out[:, 1:4]
    assert set(hot.sum(axis=1)) == {1.0}  # one category per row
    blue = frame["colour"].to_numpy() == "blue"
    np.testing.assert_array_equal(hot[:, 0], blue)  # categories in sorted order


@settings(max_examples=20, deadline=None)
@given(order=st.permutations(["size", "colour", "weight"]))
def test_a_dataframe_in_any_column_order_predicts_the_same(order):
    frame, label = table()
    net = classifier_for(frame, label)
    net.fit(frame, label, epochs=5, batch_size=16)
    expected = net.predict(frame)
    np.testing.assert_array_equal(net.predict(frame[list(order)]), expected)
    np.testing.assert_array_equal(net.predict(frame.to_numpy(dtype=object)), expected)


def test_missing_columns_are_named_and_extra_ones_left_out():
    frame, label = table()
    net = classifier_for(frame, label)
    with pytest.raises(ValueError, match=r"missing \['weight'\]"):
        net.predict(frame[["size", "colour"]])
    # as `cartoonbrain predict` reads a file: the model's columns by name, the others left out
    np.testing.assert_array_equal(net.predict(frame.assign(age=1)), net.predict(frame))
    with pytest.raises(ValueError, match=r"X has 2 features per sample; the model expects 3"):
        net.predict(frame.to_numpy(dtype=object)[:, :2])


def test_unknown_categories_are_an_error_or_zeros_when_asked():
    frame, label = table()
    odd = frame.copy()
    odd.loc[3, "colour"] = "purple"
    with pytest.raises(ValueError, match=r"column 'colour' has category 'purple' at row 3"):
        classifier_for(frame, label).predict(odd)
    net = classifier_for(frame, label, handle_unknown="ignore")
    row = net.preprocessor.transform(odd)[3]
    np.testing.assert_array_equal(row[1:4], 0)
    assert net.predict(odd).shape == (len(odd), 2)


@pytest.mark.parametrize("impute", ["mean", "most_frequent"])
def test_missing_cells_are_imputed_when_asked_and_named_when_not(impute):
    frame, _ = table(missing=True)
    with pytest.raises(ValueError, match=r"column 'size' is missing a value at row \d+; impute"):
        Preprocessor().fit(frame).transform(frame)
    pre = Preprocessor(impute=impute).fit(frame)
    out = pre.transform(frame)
    assert np.isfinite(out).all()
    sizes = frame["size"].dropna().to_numpy()
    fill = sizes.mean() if impute == "mean" else np.sort(sizes)[0]  # all distinct: the least
    gap = frame["size"].isna().to_numpy()
    np.testing.assert_allclose(out[gap, 0], (fill - sizes.mean()) / sizes.std(), atol=1e-12)


def test_a_huge_column_is_scaled_without_overflow():
    X = np.random.default_rng(0).normal(size=(20, 2)) * np.array([1e154, 1.0])
    pre = Preprocessor().fit(X)
    out = pre.transform(X)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out.std(axis=0), 1, rtol=1e-9)


def test_a_model_file_carries_its_preprocessing(tmp_path):
    frame, label = table(missing=True)
    net = classifier_for(frame, label, impute="mean")
    net.fit(frame, label, epochs=40, batch_size=16, optimizer=cb.Adam(learning_rate=0.05))
    net.save(tmp_path / "m.npz")
    again = cb.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(again.predict(frame), net.predict(frame))
    labels = again.predict_classes(frame)
    assert set(labels) <= {"big", "small"}
    assert np.mean(labels == label) > 0.7
    assert again.evaluate(frame, label)["accuracy"] == pytest.approx(np.mean(labels == label))


def test_a_regression_target_is_scaled_for_training_and_put_back_by_predict():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3))
    y = 1000 + 300 * X[:, 0] - 200 * X[:, 1]  # far from unit scale
    pre = Preprocessor().fit(X)
    enc = TargetEncoder("scale").fit(y)
    net = cb.Network(
        mlp(3, (16,), 1, "tanh"), seed=0, dtype="float64", preprocessor=pre, target_encoder=enc
    )
    net.fit(X, y, epochs=60, batch_size=16, optimizer=cb.Adam(learning_rate=0.01))
    p = net.predict(X)[:, 0]
    assert abs(p.mean() - 1000) < 30  # in the target's units
    result = net.evaluate(X, y)
    assert result["r2"] > 0.95
    assert result["mae"] == pytest.approx(np.mean(np.abs(p - y)), rel=1e-9)


def test_preprocessing_that_does_not_fit_the_network_is_refused():
    frame, _ = table()
    pre = Preprocessor().fit(frame)  # 5 features out
    with pytest.raises(ValueError, match=r"the preprocessor gives 5 features but the first"):
        cb.Network(mlp(4, (), 2), loss="cross_entropy", preprocessor=pre)
    with pytest.raises(ValueError, match=r"needs a TargetEncoder\('classes'\)"):
        cb.Network(mlp(5, (), 2), loss="cross_entropy", target_encoder=TargetEncoder("scale"))
    with pytest.raises(ValueError, match=r"must be a fitted cartoonbrain Preprocessor"):
        cb.Network(mlp(5, (), 2), loss="cross_entropy", preprocessor=Preprocessor())


def test_onnx_carries_the_numeric_preprocessing_and_target_scaling():
    ort = pytest.importorskip("onnxruntime")
    from cartoonbrain import onnx as cbonnx

    rng = np.random.default_rng(2)
    X = rng.normal(size=(80, 3)) * [1.0, 100.0, 0.01] + [0, 50, 3]
    y = 500 + 40 * X[:, 0]
    X[rng.choice(80, 6, replace=False), 1] = np.nan  # imputed by the model
    pre = Preprocessor(impute="mean").fit(X)
    enc = TargetEncoder("scale").fit(y)
    net = cb.Network(mlp(3, (8,), 1, "tanh"), seed=0, preprocessor=pre, target_encoder=enc)
    net.fit(X, y, epochs=5, batch_size=16)
    session = ort.InferenceSession(cbonnx.to_onnx(net).SerializeToString())
    (onnx_out,) = session.run(None, {"input": X.astype(np.float32)})
    np.testing.assert_allclose(onnx_out, net.predict(X), rtol=1e-5, atol=1e-3)


def test_onnx_refuses_a_text_column_naming_it():
    pytest.importorskip("onnx")
    from cartoonbrain import onnx as cbonnx

    frame, label = table()
    with pytest.raises(ValueError, match=r"column 'colour' is a text column"):
        cbonnx.to_onnx(classifier_for(frame, label))
