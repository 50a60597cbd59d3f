"""The HTML training report and the blog report, as a user meets them.

The monitor and its diagnoses are tested in test_diagnostics.py; here, that the report
shows them.
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
from cartoonbrain.data.datasets import MissingDependencyError
from cartoonbrain.diagnostics import TrainingMonitor

pytest.importorskip("matplotlib")
from cartoonbrain.blog.inspect import blog_network, blog_report
from cartoonbrain.report import write_report
from monitored import fit_monitored, regression_data, relu_net

ROOT = Path(__file__).resolve().parent.parent


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
        learning_rate=0.02,  # Adam's default 0.001 is still falling steadily: underfitting
        validation_split=0.1,
        callbacks=[monitor],
    )
    optimizer = {"name": "adam", "learning_rate": 0.02}
    config = {"dataset": "digits", "optimizer": optimizer, "seed": 0, "note": "<b>&"}
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
