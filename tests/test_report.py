"""The training monitor, its diagnostics and the HTML report, as a user meets them.

Each diagnosis is checked on a network that really has the problem: the post's network
(saturated sigmoids), the post's layers with Glorot's small weights (the textbook
vanishing gradient), a ReLU network with a huge learning rate or huge weights
(exploding, diverging), ReLU units pushed dead by negative biases, sigmoids saturated by
large weights. The numbers the monitor records are restated from their definitions.
"""

import ast
import importlib.util
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import cartoonbrain as cb
from cartoonbrain import blog, cli
from cartoonbrain.datasets import MissingDependencyError
from cartoonbrain.diagnostics import (
    TrainingMonitor,
    diagnose,
    format_findings,
    print_findings,
)

pytest.importorskip("matplotlib")
from cartoonbrain.blog.inspect import blog_network, blog_report
from cartoonbrain.report import write_report

ROOT = Path(__file__).resolve().parent.parent


def kinds(findings):
    return [(f.kind, f.layer) for f in findings]


def fit_monitored(net, X, y, **kwargs):
    """fit with a TrainingMonitor; (monitor, history, error) with error the TrainingDiverged."""
    monitor = TrainingMonitor(every=kwargs.pop("every", None))
    try:
        history = net.fit(X, y, callbacks=[monitor], **kwargs)
    except cb.TrainingDiverged as exc:
        return monitor, None, exc
    return monitor, history, None


def regression_data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 8))
    return X, X @ rng.standard_normal((8, 1))


def relu_net(depth=4, width=32, seed=0):
    layers = [cb.Dense(8, width, activation="relu")]
    layers += [cb.Dense(width, width, activation="relu") for _ in range(depth - 1)]
    return cb.Network([*layers, cb.Dense(width, 1)], loss="mse", seed=seed, dtype="float64")


# ------------------------------------------------------------------ the post's network
def test_blog_network_holds_blog_runs_weights_and_data():
    net, X, T = blog_network(n_samples=7, seed=3)
    rng = np.random.default_rng(3)
    weights = blog.make_net(blog.BLOG_LAYERS, rng)
    for layer, W in zip(net.layers, weights):
        np.testing.assert_array_equal(layer.W, W)
        assert layer.b is None and layer.activation.name == "sigmoid"
    np.testing.assert_array_equal(X[0], rng.standard_normal((10, 1)).ravel())
    assert X.shape == (7, 10) and T.shape == (7, 2)
    assert net.dtype == np.float64 and net.loss.name == "squared_error"


def test_blog_network_trained_by_fit_reproduces_blog_runs_100_epochs():
    """With batch_size=1 and shuffle=False, fit's epoch loss is the post's printed one: the
    mean over the samples of ½‖y − t‖², each taken before that sample's update."""
    net, X, T = blog_network()
    history = net.fit(X, T, epochs=100, batch_size=1, shuffle=False, optimizer=cb.SGD(0.05))
    reference = blog.run(log=lambda line: None)
    np.testing.assert_allclose(history["loss"], reference, rtol=1e-12, atol=0)


def test_post_network_saturates_layer_3_and_its_gradients_do_not_vanish():
    """Measured, not assumed: with N(0, 1) weights the large W_lᵀ make up for σ' ≤ ¼, so
    ‖∇W_1‖ stays near ‖∇W_6‖; what goes wrong is that over half of layer 3's outputs
    sit in σ's flat tails. The diagnosis says so, and names the fix."""
    net, X, T = blog_network()
    monitor, history, _ = fit_monitored(
        net, X, T, epochs=5, batch_size=1, shuffle=False, optimizer=cb.SGD(learning_rate=0.05)
    )
    grads = monitor.records.array("grad_norm")
    assert np.median(grads[:, 0] / grads[:, -1]) > 0.1
    findings = diagnose(monitor, history)
    assert kinds(findings) == [("saturation", "layer 3 (Dense 150→80, sigmoid)")]
    assert "54%" in findings[0].message or "55%" in findings[0].message
    assert "glorot_uniform" in findings[0].suggestion and "relu" in findings[0].suggestion


def test_post_layers_with_small_weights_have_vanishing_gradients_in_layer_1():
    """The textbook case: six sigmoid layers with Glorot's weights; each layer back
    multiplies g by σ' ≤ ¼, and ‖∇W_1‖ ends up ~1/500 of ‖∇W_6‖."""
    net, X, T = blog_network()
    glorot = cb.Network(
        [cb.Dense(W.shape[1], W.shape[0], "sigmoid", bias=False) for W in net.parameters()],
        loss="squared_error",
        seed=0,
        dtype="float64",
    )
    monitor, history, _ = fit_monitored(
        glorot, X, T, epochs=3, batch_size=1, shuffle=False, optimizer=cb.SGD(learning_rate=0.05)
    )
    findings = diagnose(monitor, history)
    assert kinds(findings) == [("vanishing", "layer 1 (Dense 10→100, sigmoid)")]
    assert "vanishes" in findings[0].message
    assert "ReLU with He initialisation" in findings[0].suggestion


@pytest.mark.parametrize("readable", [False, True], ids=["fused", "readable"])
def test_blog_report_prints_blog_runs_lines_and_its_losses_match(tmp_path, readable):
    """The lines of run_fused (or run, with readable), then the diagnostics; fit's losses
    equal the post's loop's to rounding."""
    lines = []
    path, losses = blog_report(
        tmp_path, epochs=4, n_samples=20, seed=2, log=lines.append, readable=readable
    )
    run = blog.run if readable else blog.run_fused
    printed = run(epochs=4, n_samples=20, seed=2, log=lambda line: None)
    reference = blog.run(epochs=4, n_samples=20, seed=2, log=lambda line: None)
    np.testing.assert_allclose(losses, reference, rtol=1e-12, atol=0)
    assert lines[:4] == [f"Epoch {e} / 4; Loss {v!r}" for e, v in enumerate(printed, 1)]
    assert lines[4].startswith("diagnostics: ")
    page = path.read_text(encoding="utf-8")
    assert path == tmp_path / "report.html"
    assert "The blog post&#x27;s network" in page and "saturation" in page


# ------------------------------------------------------------------ exploding, diverging
def test_huge_learning_rate_is_diagnosed_as_diverging_and_exploding():
    X, y = regression_data()
    monitor, history, error = fit_monitored(
        relu_net(), X, y, epochs=20, batch_size=32, optimizer=cb.SGD(learning_rate=0.5)
    )
    assert error is not None and history is None
    findings = diagnose(monitor, error=error)
    assert [f.kind for f in findings] == ["divergence", "exploding"]
    assert "the loss became inf" in findings[0].message
    for finding in findings:
        assert "lower the learning rate (now 0.5)" in finding.suggestion
        assert "initial weights" not in finding.suggestion  # He's: the step blew them up
    assert re.match(r"layer \d \(Dense 32→32, relu\)", findings[1].layer)


def test_huge_initial_weights_are_diagnosed_as_exploding_with_the_init_named():
    X, y = regression_data()
    net = relu_net(depth=6)
    for layer in net.layers:
        layer.W *= 3  # three times He's scale, in every layer
    monitor, _, error = fit_monitored(
        net, X, y, epochs=3, batch_size=32, optimizer=cb.SGD(learning_rate=1e-6)
    )
    exploding = [f for f in diagnose(monitor, error=error) if f.kind == "exploding"]
    assert len(exploding) == 1
    assert "its initial weights are large for" in exploding[0].suggestion
    assert "He's is" in exploding[0].suggestion


def test_a_rising_loss_is_diverging_even_while_finite():
    history = cb.History()
    for epoch, loss in enumerate([1.0, 0.5, 0.8, 6.0]):
        history.append(epoch, {"loss": loss})
    findings = diagnose(TrainingMonitor(), history)
    assert kinds(findings) == [("divergence", None)]
    assert "rose from 0.5 (epoch 2) to 6 (epoch 4)" in findings[0].message


# ------------------------------------------------------------------ dead and saturated units
def test_relu_units_pushed_below_zero_are_dead():
    X, y = regression_data()
    net = relu_net(depth=2)
    net.layers[1].b[...] = -100.0  # layer 2's affines are all far below 0
    monitor, history, _ = fit_monitored(net, X, y, epochs=2, batch_size=32, optimizer="adam")
    findings = diagnose(monitor, history)
    assert kinds(findings) == [("dead", "layer 2 (Dense 32→32, relu)")]
    assert "100% of its ReLU units are dead" in findings[0].message
    assert "he_uniform" in findings[0].suggestion and "leaky_relu" in findings[0].suggestion


def test_a_unit_is_dead_only_if_it_is_zero_for_every_sample_of_the_epoch():
    """o = relu(x W ᵀ) with W = [[1], [−1]]: on x = ±1 each batch of one sample has one
    unit at 0, but over the epoch both units fire; on x > 0 only, unit 2 is dead."""
    for X, expected in ((np.array([[1.0], [-1.0]]), 0.0), (np.array([[1.0], [2.0]]), 0.5)):
        net = cb.Network([cb.Dense(1, 2, "relu"), cb.Dense(2, 1)], seed=0, dtype="float64")
        net.layers[0].W[...] = [[1.0], [-1.0]]
        monitor, _, _ = fit_monitored(
            net, X, np.zeros(2), epochs=1, batch_size=1, optimizer=cb.SGD(1e-9), every=1
        )
        assert monitor.records.dead[0][0] == expected


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_large_weights_saturate_sigmoid_and_tanh_layers(activation):
    X, y = regression_data()
    net = cb.Network(
        [cb.Dense(8, 16, activation), cb.Dense(16, 1)], loss="mse", seed=0, dtype="float64"
    )
    net.layers[0].W *= 100
    monitor, history, _ = fit_monitored(net, X, y, epochs=2, batch_size=32, optimizer="adam")
    findings = [f for f in diagnose(monitor, history) if f.kind == "saturation"]
    assert [f.layer for f in findings] == [f"layer 1 (Dense 8→16, {activation})"]
    assert "its initial weights are large for 8 inputs" in findings[0].suggestion


def test_saturated_share_counts_the_flat_tails():
    """sigmoid: o < 0.01 or o > 0.99; tanh: |o| > 0.99; NaN for other activations."""
    from cartoonbrain.diagnostics import _saturated_share

    class Fake:
        def __init__(self, name, o):
            self.activation, self.transforms = cb.ACTIVATIONS[name], np.array(o)

    assert _saturated_share(Fake("sigmoid", [[0.005, 0.5], [0.995, 0.98]])) == 0.5
    assert _saturated_share(Fake("tanh", [[-0.995, 0.5, 0.999, 0.98]])) == 0.5
    assert np.isnan(_saturated_share(Fake("relu", [[0.0, 1.0]])))


# ------------------------------------------------------------------ the numbers recorded
def test_recorded_norms_are_the_gradient_and_the_steps_change():
    """With plain SGD, ΔW_l = −lr ∇W_l, so ‖ΔW_l‖ / ‖W_l‖ = lr ‖∇W_l‖ / ‖W_l‖."""
    X, y = regression_data(n=64)
    net = relu_net(depth=2)
    seen = []
    monitor = TrainingMonitor(every=1)
    spy = cb.LambdaCallback(
        on_batch_end=lambda b, logs: seen.append([np.linalg.norm(layer.dW) for layer in dense])
    )
    dense = [layer for layer in net.layers if isinstance(layer, cb.Dense)]
    net.fit(X, y, epochs=2, batch_size=16, optimizer=cb.SGD(0.01), callbacks=[monitor, spy])
    r = monitor.records
    assert len(r.step) == 8 and r.batches_per_epoch == 4
    np.testing.assert_allclose(r.grad_norm, seen, rtol=1e-12, atol=0)
    expected = 0.01 * r.array("grad_norm") / r.array("weight_norm")
    np.testing.assert_allclose(r.array("update_ratio"), expected, rtol=1e-9, atol=0)
    np.testing.assert_allclose(r.positions(), np.arange(1, 9) / 4)


def test_the_monitor_samples_about_50_steps_an_epoch():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((1000, 2)), rng.standard_normal(1000)
    net = cb.Network([cb.Dense(2, 4, "tanh"), cb.Dense(4, 1)], seed=0)
    monitor, _, _ = fit_monitored(net, X, y, epochs=3, batch_size=4, optimizer="sgd")
    counts = np.bincount(monitor.records.epoch)
    assert monitor.records.batches_per_epoch == 250
    assert all(25 <= c <= 51 for c in counts), counts
    assert len(set(monitor.records.learning_rate.values())) == 1


def test_digits_training_is_sampled_and_healthy():
    data = cb.datasets.load("digits")
    net = cb.Network(
        [cb.Dense(64, 128, "relu"), cb.Dropout(0.2), cb.Dense(128, 10)],
        loss="cross_entropy",
        seed=0,
    )
    monitor, history, _ = fit_monitored(
        net, data.X_train, data.y_train, epochs=4, batch_size=32, optimizer="adam"
    )
    r = monitor.records
    assert [info.index for info in r.layers] == [0, 2]  # Dropout has no weights
    assert 4 <= len(r.step) <= 4 * 51 and set(r.epoch) == {0, 1, 2, 3}
    assert np.isfinite(r.array("grad_norm")).all()
    assert diagnose(monitor, history) == []
    assert format_findings([]).startswith("diagnostics: no problems found")


def test_print_findings_names_each_layer_and_fix(capsys):
    X, y = regression_data()
    monitor, _, error = fit_monitored(
        relu_net(), X, y, epochs=20, batch_size=32, optimizer=cb.SGD(learning_rate=0.5)
    )
    print_findings(diagnose(monitor, error=error))
    out = capsys.readouterr().out
    assert out.startswith("diagnostics: 2 problems found\n")
    assert "[divergence] training diverged" in out
    assert "[exploding] layer" in out and out.count("fix: lower the learning rate") == 2


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_monitor_rejects_bad_strides(bad):
    with pytest.raises(ValueError, match="positive integer"):
        TrainingMonitor(every=bad)


# ------------------------------------------------------------------ the report
@pytest.fixture(scope="module")
def digits_report(tmp_path_factory):
    data = cb.datasets.load("digits")
    net = cb.Network(
        [cb.Dense(64, 32, "relu"), cb.Dense(32, 10)],
        loss="cross_entropy",
        seed=0,
        metadata={"classes": list(data.classes)},
    )
    monitor = TrainingMonitor()
    history = net.fit(
        data.X_train,
        data.y_train,
        epochs=3,
        batch_size=64,
        validation_split=0.1,
        callbacks=[monitor],
    )
    config = {"dataset": "digits", "optimizer": {"name": "adam"}, "seed": 0, "note": "<b>&"}
    directory = tmp_path_factory.mktemp("report")
    path = write_report(
        directory,
        net,
        history,
        monitor,
        config=config,
        title="digits <test>",
        X_test=data.X_test,
        y_test=data.y_test,
    )
    return path, net


def test_report_is_one_self_contained_html_file(digits_report):
    path, _ = digits_report
    assert path.name == "report.html"
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.html"]  # no temporaries
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "://" not in page  # no http://, https://, file:// (base64 has no colon)
    assert not re.search(r"""(src|href)=["'](?!data:)""", page)
    images = re.findall(r'<img alt="[^"]*" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 4  # curves, gradients, dead units, confusion matrix
    assert page.count("<img") == 4


def test_report_shows_architecture_hyperparameters_versions_and_findings(digits_report):
    path, net = digits_report
    page = path.read_text(encoding="utf-8")
    assert "Dense(n_in=64, n_out=32, activation=&#x27;relu&#x27;" in page
    assert f"{net.n_parameters:,}" in page
    for text in ("optimizer.name", "adam", "dataset", "Reproducibility", "seed"):
        assert text in page
    assert f"<td>numpy</td><td>{np.__version__}</td>" in page
    assert "<td>python</td><td>" in page and "<td>matplotlib</td>" in page
    assert "No problems found" in page and "test accuracy" in page
    assert "Confusion matrix" in page
    # everything user-given is escaped
    assert "digits &lt;test&gt;" in page and "&lt;b&gt;&amp;" in page and "<b>&" not in page


def test_report_of_a_diverged_run_says_so_at_the_top(tmp_path):
    X, y = regression_data()
    net = relu_net()
    monitor, history, error = fit_monitored(
        net, X, y, epochs=20, batch_size=32, optimizer=cb.SGD(learning_rate=0.5)
    )
    path = write_report(tmp_path, net, history, monitor, config={}, title="boom", error=error)
    page = path.read_text(encoding="utf-8")
    assert page.index("training diverged") < page.index("<img")
    assert "lower the learning rate (now 0.5)" in page


def test_report_without_matplotlib_says_what_to_install(tmp_path, monkeypatch, digits_report):
    _, net = digits_report
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(MissingDependencyError, match=re.escape("pip install 'cartoonbrain[plot]'")):
        write_report(tmp_path, net, None, TrainingMonitor(), config={}, title="t")
    assert not (tmp_path / "report.html").exists()


# ------------------------------------------------------------------ as a person sees it
def load_script():
    spec = importlib.util.spec_from_file_location(
        "screenshot_report", ROOT / "scripts" / "screenshot_report.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs chromium (apt-get install)")
def test_report_renders_in_headless_chromium(digits_report, tmp_path):
    from matplotlib.image import imread

    path, _ = digits_report
    png = load_script().screenshot(path, tmp_path / "shot.png", width=1000, height=1600)
    pixels = imread(png)[..., :3]
    assert pixels.shape[:2] == (1600, 1000)
    # the figures are there: many distinct colours, and plot blues and oranges among them
    colours = np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 500
    red, green, blue = (pixels[..., i] for i in range(3))
    assert np.count_nonzero((blue - red > 0.3) & (blue > 0.5)) > 500  # tab:blue lines
    assert np.count_nonzero((red - blue > 0.4) & (green > 0.3)) > 200  # tab:orange lines


# ------------------------------------------------------------------ the command line


def test_cli_train_report_prints_findings_and_writes_the_report(tmp_path, capsys):
    argv = ["train", "--epochs", "2", "--quiet", "--out", str(tmp_path / "m.npz")]
    assert cli.main([*argv, "--report", str(tmp_path / "rep")]) == 0
    out = capsys.readouterr().out
    assert "diagnostics: " in out and str(tmp_path / "rep" / "report.html") in out
    page = (tmp_path / "rep" / "report.html").read_text(encoding="utf-8")
    assert "Confusion matrix" in page and "<td>seed</td><td>0</td>" in page


def test_cli_blog_report_prints_the_same_lines(tmp_path, capsys):
    assert cli.main(["blog", "--epochs", "3"]) == 0
    plain = capsys.readouterr().out
    assert cli.main(["blog", "--epochs", "3", "--report", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(plain)
    assert "[saturation] layer 3" in out and (tmp_path / "report.html").exists()


def test_cli_blog_readable_report_prints_the_readable_lines(tmp_path, capsys):
    assert cli.main(["blog", "--epochs", "2", "--readable"]) == 0
    plain = capsys.readouterr().out
    assert cli.main(["blog", "--epochs", "2", "--readable", "--report", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith(plain)


# ------------------------------------------------------------------ rendering only
def test_report_package_renders_and_does_not_train():
    """report/ imports no optimizer, no blog and no loop, and calls no fit: the training
    that a report shows happens elsewhere (blog.inspect for the post's experiment)."""
    package = ROOT / "src" / "cartoonbrain" / "report"
    modules = sorted(package.glob("*.py"))
    assert {m.name for m in modules} >= {"__init__.py", "figures.py", "html.py"}
    for module in modules:
        tree = ast.parse(module.read_text(encoding="utf-8"))
        imported = {
            node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        }
        assert not any(
            name.split(".")[0] in ("blog", "optimizers", "layers") for name in imported
        ), (module.name, imported)
        calls = {
            node.func.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        }
        assert not calls & {"fit", "train_step", "step"}, (module.name, calls)
