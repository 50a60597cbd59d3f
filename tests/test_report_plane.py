"""Pictures of what a network on two input features learned: its decision boundary over the
data points and each hidden unit's map (report/boundary.py computes, report/figures.py
draws, report/html.py shows), and legends that never hide a curve."""

import numpy as np
import pytest

import cartoonbrain as cb
from cartoonbrain import cli
from cartoonbrain.diagnostics import TrainingMonitor
from cartoonbrain.report.boundary import decision_grid, plane, two_features, unit_maps

pytest.importorskip("matplotlib")
from cartoonbrain.report import figures, write_report
from monitored import fit_monitored


def two_class_net(outputs=2, seed=0):
    loss = "cross_entropy" if outputs > 1 else "binary_cross_entropy"
    layers = [cb.Dense(2, 5, "tanh"), cb.Dropout(0.3), cb.Dense(5, 3, "relu"), cb.Dense(3, outputs)]
    return cb.Network(layers, loss=loss, seed=seed, dtype="float64")


def moons(n=120):
    data = cb.datasets.load("moons")
    return data.X_train[:n], data.y_train[:n]


@pytest.mark.parametrize("outputs", [1, 2, 3])
def test_the_decision_grid_is_the_prediction_at_every_point(outputs):
    net = two_class_net(outputs)
    X, _ = moons(40)
    grid = decision_grid(net, X, resolution=7)
    xs, ys, points = plane(X, 7)
    np.testing.assert_array_equal(grid.xs, xs)
    assert grid.outputs.shape == (7, 7, outputs) and grid.classes.shape == (7, 7)
    expected = net.predict(points).reshape(7, 7, outputs)
    np.testing.assert_allclose(grid.outputs, expected, rtol=1e-12, atol=0)
    i, j = 2, 5  # outputs[i, j] is the point (xs[j], ys[i])
    np.testing.assert_allclose(grid.outputs[i, j], net.predict([[xs[j], ys[i]]])[0], rtol=1e-12)
    if outputs == 1:
        np.testing.assert_array_equal(grid.classes, grid.outputs[..., 0] > 0.5)
    else:
        np.testing.assert_array_equal(grid.classes, grid.outputs.argmax(axis=-1))
    # the grid reaches 10% beyond the data on every side
    assert xs[0] < X[:, 0].min() and xs[-1] > X[:, 0].max() and ys[0] < X[:, 1].min()
    np.testing.assert_allclose(xs[-1] - xs[0], 1.2 * np.ptp(X[:, 0]), rtol=1e-12)


def test_unit_maps_are_each_hidden_layer_s_transforms_over_the_plane():
    """o_1 = tanh(x W_1ᵀ + b_1), Dropout off, o_2 = relu(o_1 W_2ᵀ + b_2); the output layer
    is not a hidden layer."""
    net = two_class_net()
    X, _ = moons(40)
    _, _, maps = unit_maps(net, X, resolution=6)
    _, _, points = plane(X, 6)
    d1, d2 = net.layers[0], net.layers[2]
    o1 = np.tanh(points @ d1.W.T + d1.b)
    o2 = np.maximum(o1 @ d2.W.T + d2.b, 0)
    assert [(m.layer, m.unit) for m in maps] == [(1, u) for u in range(5)] + [
        (2, u) for u in range(3)
    ]
    for m in maps:
        expected = (o1 if m.layer == 1 else o2)[:, m.unit].reshape(6, 6)
        np.testing.assert_allclose(m.values, expected, rtol=1e-12, atol=1e-15)
    assert maps[6].label == "layer 2 (relu), unit 2"
    assert len(unit_maps(net, X, 4, max_units=2, max_layers=1)[2]) == 2


def test_maps_go_through_the_model_s_preprocessor():
    X, _ = moons(60)
    scaler = cb.Preprocessor().fit(X * 100)
    net = cb.Network(
        [cb.Dense(2, 4, "tanh"), cb.Dense(4, 2)], loss="cross_entropy", seed=0, preprocessor=scaler
    )
    grid = decision_grid(net, X * 100, resolution=5)
    _, _, points = plane(X * 100, 5)
    np.testing.assert_allclose(grid.outputs.reshape(25, 2), net.predict(points), rtol=1e-6)
    assert len(unit_maps(net, X * 100, 5)[2]) == 4


@pytest.mark.parametrize(
    "bad", [np.zeros((5, 3)), np.zeros(4), [["a", "b"]], np.full((2, 2), np.nan)]
)
def test_only_rows_of_two_numbers_are_mapped(bad):
    assert two_features(bad) is None
    with pytest.raises(ValueError, match=r"rows of two finite numbers, \(n_samples, 2\)"):
        decision_grid(two_class_net(), bad)
    with pytest.raises(ValueError, match="resolution must be an integer of at least 2"):
        plane(np.zeros((3, 2)), 1)


def _report(tmp_path, X, y, net, **kwargs):
    monitor, history, _ = fit_monitored(net, X, y, epochs=3, batch_size=32, learning_rate=0.05)
    return write_report(tmp_path, net, history, monitor, config={}, title="t", **kwargs)


def test_a_two_feature_report_shows_its_decision_boundary_and_unit_maps(tmp_path):
    X, y = moons()
    page = _report(tmp_path, X, y, two_class_net(), X_train=X, y_train=y).read_text("utf-8")
    assert "What the network learned: the decision boundary" in page
    assert "decision boundary drawn in black" in page and "over the 120 data points" in page
    assert "What each hidden unit computes" in page
    assert page.count("<img") == 5  # curves, gradients, units, boundary, unit maps


def test_a_report_without_two_features_has_no_plane(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 3)), rng.integers(0, 2, 64)
    net = cb.Network([cb.Dense(3, 4, "tanh"), cb.Dense(4, 2)], loss="cross_entropy", seed=0)
    page = _report(tmp_path, X, y, net, X_train=X, y_train=y).read_text("utf-8")
    assert "decision boundary" not in page and "hidden unit" not in page


def test_a_regression_on_two_features_shows_its_prediction(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 2))
    net = cb.Network([cb.Dense(2, 4, "tanh"), cb.Dense(4, 1)], loss="mse", seed=0)
    page = _report(tmp_path, X, X.sum(axis=1), net, X_test=X, y_test=X.sum(axis=1)).read_text(
        "utf-8"
    )
    assert "What the network learned: the prediction" in page and "decision boundary" not in page


def test_cli_train_on_xor_reports_the_decision_boundary(tmp_path, capsys):
    argv = ["train", "--dataset", "xor", "--epochs", "3", "--quiet", "--hidden", "4"]
    argv += ["--validation-split", "0"]  # 4 rows: none to spare
    assert cli.main([*argv, "--out", str(tmp_path / "m.npz"), "--report", str(tmp_path / "r")]) == 0
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "decision boundary" in page and "over the 4 data points" in page


# ------------------------------------------------------------------ legends
def _overlaps(a, b):
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def legends_off_the_axes(fig):
    """Each legend's box against every axes' box, in pixels, after drawing."""
    fig.canvas.draw() if hasattr(fig.canvas, "draw") else None
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    assert legends, "no legend drawn"
    return all(
        not _overlaps(legend.get_window_extent(renderer), ax.get_window_extent(renderer))
        for legend in legends
        for ax in fig.axes
    )


def test_no_legend_covers_a_plot(tmp_path):
    X, y = moons()
    net = two_class_net()
    monitor = TrainingMonitor()
    history = net.fit(X, y, epochs=6, batch_size=16, validation_split=0.25, callbacks=[monitor])
    records = monitor.records
    logs = figures.epoch_logs(records, history)
    drawn = [
        figures.curves_figure(logs, records),
        figures.gradients_figure(records),
        figures.units_figure(records),
        figures.boundary_figure(decision_grid(net, X, 20), two_features(X), y),
    ]
    assert all(fig is not None for fig in drawn)
    for fig in drawn:
        assert legends_off_the_axes(fig)
    # the check can fail: a legend inside its axes
    fig = figures._figure(4, 3)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], label="a line")
    ax.legend(loc="center")
    assert not legends_off_the_axes(fig)


def test_the_architecture_table_numbers_layers_from_1_as_summary_does(tmp_path):
    X, y = moons(64)
    net = two_class_net()
    page = _report(tmp_path, X, y, net).read_text("utf-8")
    rows = [line.split()[0] for line in net.summary(print_fn=None).splitlines()[2:6]]
    assert rows == ["1", "2", "3", "4"]
    for number, layer in zip(rows, net.layers, strict=True):
        assert f"<tr><td>{number}</td><td>" in page and type(layer).__name__ in page
    assert "<tr><td>0</td>" not in page


def test_the_boundary_names_the_model_s_classes_and_colours_points_as_the_plane():
    X, y = moons(60)
    grid = decision_grid(two_class_net(), X, 10)
    fig = figures.boundary_figure(grid, X, y, ["cat", "dog"])
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["cat", "dog"]
    colorbar = fig.axes[1]
    assert colorbar.get_ylabel() == "p(dog)"
    from matplotlib import colormaps

    points = [c for c in fig.axes[0].collections if c.get_offsets().shape[0] == len(X[y == 0])]
    np.testing.assert_allclose(points[0].get_facecolor()[0], colormaps["RdBu_r"](0.12))
