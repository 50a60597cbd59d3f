"""The training report: one self-contained HTML file with the figures of a run.

:func:`write_report` writes ``DIR/report.html``: the findings of
:func:`~cartoonbrain.diagnostics.diagnose` at the top, in plain words; the loss and metric
curves; per-layer gradient norms ‖∇W_l‖ and update ratios ‖ΔW_l‖/‖W_l‖; the share of
saturated sigmoid/tanh outputs and dead ReLU units; a confusion matrix for classifiers;
the architecture, every hyper-parameter, the seed and the package versions. Figures are
PNGs embedded as ``data:`` URIs and the style sheet is inline, so the file opens in any
browser, offline, on its own. :func:`blog_report` does the same for the post's experiment.

Needs matplotlib (the ``plot`` extra); only its object-oriented API is used (no pyplot,
no global state).
"""

from __future__ import annotations

import base64
import html
import importlib.metadata
import io
import json
import math
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from . import blog
from .datasets import MissingDependencyError
from .diagnostics import Finding, LayerInfo, Records, TrainingMonitor, diagnose, format_findings
from .io import atomic_write
from .layers import Dense
from .network import Network
from .optimizers import SGD
from .train import History, TrainingDiverged

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["blog_network", "blog_report", "require_matplotlib", "versions", "write_report"]

REPORT_NAME = "report.html"


def require_matplotlib() -> None:
    """Raise MissingDependencyError, naming the pip install, when matplotlib is missing."""
    try:
        import matplotlib.figure  # noqa: F401
    except ImportError as error:
        raise MissingDependencyError(
            f"the training report needs matplotlib ({error}): pip install 'cartoonbrain[plot]'"
        ) from error


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _data_uri(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def versions() -> dict[str, str]:
    """Python, the packages a run depends on, and the platform: what repeating it needs."""
    found = {"python": platform.python_version()}
    for package in ("cartoonbrain", "numpy", "matplotlib", "scikit-learn"):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    found["platform"] = platform.platform()
    return found


# ---------------------------------------------------------------------- figures
def _epoch_logs(records: Records | None, history: History | None) -> dict[str, list[float]]:
    if history is not None:
        return dict(history.history)
    logs: dict[str, list[float]] = {}
    if records is None:
        return logs
    for epoch in sorted(records.epoch_logs):
        for key, value in records.epoch_logs[epoch].items():
            logs.setdefault(key, []).append(value)
    return logs


def _log_scale_if_positive(ax: Any, values: Any) -> None:
    values = np.asarray(values, dtype=np.float64)
    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size and positive.max() / positive.min() > 20:
        ax.set_yscale("log")


def _curves_figure(logs: dict[str, list[float]], records: Records | None) -> Figure | None:
    """Loss, a metric (accuracy or r2 first) and the learning rate (if it changes), per epoch."""
    if not logs.get("loss"):
        return None
    metrics = [k for k in logs if k != "loss" and not k.startswith("val_")]
    metric = next((k for k in ("accuracy", "r2") if k in metrics), metrics[0] if metrics else None)
    rates = dict(records.learning_rate) if records else {}
    if len(set(rates.values())) <= 1:
        rates = {}  # a constant rate is in the hyper-parameters
    panels = ["loss"] + ([metric] if metric else [])
    fig = _figure(10.5, 3.1)
    axes = fig.subplots(1, len(panels) + bool(rates), squeeze=False)[0]
    for ax, key in zip(axes, panels):
        for name, style in ((key, "-"), (f"val_{key}", "--")):
            if name in logs:
                epochs = np.arange(1, len(logs[name]) + 1)
                label = "validation" if name.startswith("val_") else "training"
                ax.plot(
                    epochs, logs[name], style, marker="." if len(epochs) < 40 else None, label=label
                )
        if key == "loss":
            _log_scale_if_positive(ax, logs[key] + logs.get("val_loss", []))
        ax.set(title=key, xlabel="epoch")
        ax.grid(alpha=0.3)
        ax.legend(frameon=False)
    if rates:
        seen = sorted(rates)
        axes[-1].plot(np.array(seen) + 1, [rates[e] for e in seen], color="tab:gray")
        axes[-1].set(title="learning rate (at the epoch's start)", xlabel="epoch")
        axes[-1].grid(alpha=0.3)
    return fig


def _layer_colors(n: int) -> list[Any]:
    from matplotlib import colormaps

    if n <= 10:
        return [colormaps["tab10"](i) for i in range(n)]
    return [colormaps["viridis"](i / (n - 1)) for i in range(n)]


def _per_layer_panel(ax: Any, records: Records, name: str, title: str) -> None:
    """Each layer's value: over five epochs or more, the mean of each epoch and a band
    from its 10th to its 90th percentile; else every sample point."""
    epochs, means = records.per_epoch(name)
    colors = _layer_colors(len(records.layers))
    if len(epochs) >= 5:
        x = np.array(epochs) + 1.0
        _, low = records.per_epoch(name, lambda v, axis: np.nanpercentile(v, 10, axis=axis))
        _, high = records.per_epoch(name, lambda v, axis: np.nanpercentile(v, 90, axis=axis))
        for i, info in enumerate(records.layers):
            ax.fill_between(x, low[:, i], high[:, i], color=colors[i], alpha=0.15, lw=0)
            ax.plot(x, means[:, i], color=colors[i], lw=1.6, label=_short(info))
        values = np.concatenate([low, high])
    else:
        values = records.array(name)
        for i, info in enumerate(records.layers):
            ax.plot(records.positions(), values[:, i], color=colors[i], lw=1.4, label=_short(info))
    _log_scale_if_positive(ax, values)
    ax.set(title=title, xlabel="epoch")
    ax.grid(alpha=0.3, which="both")


def _short(info: LayerInfo) -> str:
    return f"{info.number}: {info.n_in}→{info.n_out} {info.activation}"


def _gradients_figure(records: Records) -> Figure | None:
    if not records.step or not records.layers:
        return None
    fig = _figure(10.5, 3.6)
    left, right = fig.subplots(1, 2)
    _per_layer_panel(left, records, "grad_norm", "gradient norm ‖∇W_l‖")
    _per_layer_panel(right, records, "update_ratio", "update ratio ‖ΔW_l‖ / ‖W_l‖ per step")
    right.axhline(1e-3, color="black", ls=":", lw=1, label="1e-3, a healthy ratio")
    left.legend(title="layer", fontsize=8, title_fontsize=8, frameon=False)
    right.legend(fontsize=8, frameon=False, handles=right.get_lines()[-1:])
    return fig


def _units_figure(records: Records) -> Figure | None:
    """Per epoch: saturated share of sigmoid/tanh layers, dead share of ReLU layers."""
    if not records.step:
        return None
    epochs, saturated = records.per_epoch("saturated")
    dead_epochs = sorted(records.dead)
    dead = np.array([records.dead[e] for e in dead_epochs], dtype=np.float64)
    colors = _layer_colors(len(records.layers))
    fig = _figure(10.5, 3.1)
    ax = fig.subplots()
    drawn = False
    for i, info in enumerate(records.layers):
        short = f"layer {info.number}: {info.n_in}→{info.n_out} {info.activation}"
        if not np.isnan(saturated[:, i]).all():
            ax.plot(
                np.array(epochs) + 1,
                100 * saturated[:, i],
                color=colors[i],
                label=f"{short}, saturated",
            )
            drawn = True
        if dead.size and not np.isnan(dead[:, i]).all():
            ax.plot(
                np.array(dead_epochs) + 1,
                100 * dead[:, i],
                "--",
                color=colors[i],
                label=f"{short}, dead",
            )
            drawn = True
    if not drawn:
        return None
    ax.axhline(50, color="black", ls=":", lw=1)
    ax.set(xlabel="epoch", ylabel="% of the layer", ylim=(-2, 102))
    ax.set_title("saturated outputs (sigmoid, tanh) and dead units (ReLU)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def _confusion(network: Network, X: Any, y: Any) -> tuple[np.ndarray, list[Any]] | None:
    if not network.loss.classification:
        return None
    outputs = network.output_shape[0]
    if network.independent_outputs and outputs > 1:
        return None  # multi-label: no single confusion matrix
    predicted = network.predict_classes(X).reshape(-1)
    truth = np.asarray(y)
    truth = truth.argmax(axis=1) if truth.ndim == 2 and truth.shape[1] > 1 else truth.reshape(-1)
    classes = network.metadata.get("classes") or list(range(max(outputs, 2)))
    k = len(classes)
    matrix = np.zeros((k, k), dtype=np.int64)
    np.add.at(matrix, (truth.astype(np.int64), predicted.astype(np.int64)), 1)
    return matrix, list(classes)


def _confusion_figure(matrix: np.ndarray, classes: list[Any]) -> Figure:
    k = len(classes)
    size = min(7.0, 2.0 + 0.3 * k)
    fig = _figure(size + 0.6, size)
    ax = fig.subplots()
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax, shrink=0.8)
    ticks, names = np.arange(k), [str(c).replace("$", r"\$") for c in classes]  # no mathtext
    ax.set_xticks(ticks, names)
    ax.set_yticks(ticks, names)
    ax.set(xlabel="predicted class", ylabel="true class")
    accuracy = np.trace(matrix) / max(matrix.sum(), 1)
    ax.set_title(f"test set: {matrix.sum()} samples, {accuracy:.1%} correct")
    if k <= 20:
        threshold = matrix.max() / 2
        for (i, j), count in np.ndenumerate(matrix):
            if count:
                color = "white" if count > threshold else "black"
                ax.text(j, i, str(count), ha="center", va="center", fontsize=8, color=color)
    return fig


# ---------------------------------------------------------------------- HTML
_STYLE = """
body{margin:0;background:#f4f5f7;color:#1d2330;font:15px/1.5 system-ui,-apple-system,
"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
main{max-width:1100px;margin:0 auto;padding:20px 24px 40px}
h1{font-size:26px;margin:0 0 2px}h2{font-size:19px;margin:0 0 8px}
.sub{color:#5b6475;margin:0 0 14px}
section{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:14px 18px;
margin:0 0 14px}
.cards{display:flex;flex-wrap:wrap;gap:10px;background:none;border:0;padding:0}
.card{flex:1 1 110px;background:#fff;border:1px solid #dde1e8;border-radius:8px;
padding:8px 14px}.card b{display:block;font-size:20px}.card span{color:#5b6475;font-size:13px}
.finding{border-left:5px solid #d9822b;background:#fff8ef;padding:8px 12px;margin:8px 0;
border-radius:4px}.finding.severe{border-color:#c23030;background:#fdf0f0}
.kind{font-weight:700;text-transform:uppercase;font-size:12px;letter-spacing:.05em;
color:#a04f00}.severe .kind{color:#a02020}.fix{margin-top:4px}.fix b{color:#1c6e3d}
.ok{border-left:5px solid #2e8b57;background:#effaf3;padding:8px 12px;border-radius:4px}
img{max-width:100%;height:auto;display:block;margin:4px 0}
table{border-collapse:collapse;font-size:14px;width:100%}
td,th{text-align:left;padding:3px 10px 3px 0;border-bottom:1px solid #eceef2;
vertical-align:top}td:first-child{color:#5b6475;white-space:nowrap;width:30%}
code,td{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:13px}
.note{color:#5b6475;font-size:14px}
.columns{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}
.columns>section{flex:1 1 400px;min-width:0}
.layers td:first-child{width:auto}.layers td{white-space:nowrap}.num{text-align:right}
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _findings_html(findings: list[Finding]) -> str:
    if not findings:
        return (
            '<div class="ok">No problems found: gradient norms, update ratios, saturated '
            "and dead units and the loss all look healthy.</div>"
        )
    items = []
    for f in findings:
        severe = " severe" if f.kind in ("divergence", "exploding") else ""
        where = f"<b>{_e(f.layer)}</b>: " if f.layer else ""
        items.append(
            f'<div class="finding{severe}"><span class="kind">{_e(f.kind)}</span><br>'
            f'{where}{_e(f.message)}<div class="fix"><b>Fix:</b> {_e(f.suggestion)}</div></div>'
        )
    return "\n".join(items)


def _table(rows: dict[str, Any]) -> str:
    body = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in rows.items())
    return f"<table>{body}</table>"


def _flatten(config: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested dicts as dotted keys; values as JSON (strings as they are)."""
    rows: dict[str, str] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            rows.update(_flatten(value, name + "."))
        elif isinstance(value, str):
            rows[name] = value
        else:
            rows[name] = json.dumps(value, default=str, ensure_ascii=False)
    return rows


def _cards(
    logs: dict[str, list[float]], test: dict[str, float], records: Records | None, network: Network
) -> str:
    cards = [(f"{network.n_parameters:,}", "parameters")]
    if logs.get("loss"):
        cards.append((f"{len(logs['loss'])}", "epochs trained"))
        cards += [(f"{logs[k][-1]:.4g}", f"final {k}") for k in ("loss", "val_loss") if k in logs]
    cards += [(f"{v:.4g}", f"test {k}") for k, v in test.items()]
    if records is not None and records.seconds:
        cards.append((f"{records.seconds:.3g} s", "training time"))
    return "".join(f'<div class="card"><b>{_e(v)}</b><span>{_e(k)}</span></div>' for v, k in cards)


def _figure_section(title: str, fig: Figure | None, note: str) -> str:
    if fig is None:
        return ""
    return (
        f'<section><h2>{_e(title)}</h2><p class="note">{_e(note)}</p>'
        f'<img alt="{_e(title)}" src="{_data_uri(fig)}"></section>'
    )


def _gradient_note(records: Records) -> str:
    per_epoch = len(records.step) / max(len(set(records.epoch)), 1)
    steps = records.batches_per_epoch
    sampled = f"{per_epoch:.0f} of the {steps} steps" if steps else f"{per_epoch:.0f} steps"
    band = (
        " Lines: each epoch's mean; bands: from its 10th to its 90th percentile."
        if len(set(records.epoch)) >= 5
        else ""
    )
    return (
        f"At {sampled} of each epoch, right after the optimizer's step: the norm of each "
        "layer's gradient, and how much that step changed the layer's weights relative to "
        f"their size.{band} Layer l holds W_l, numbered as in the post."
    )


_UNITS_NOTE = (
    "Saturated: sigmoid outputs below 0.01 or above 0.99, tanh beyond ±0.99, where f'(a) is "
    "so small that little gradient passes. Dead: ReLU units that output 0 for every sample "
    "seen in the epoch. Above the dotted 50% line the diagnostics flag the layer."
)


def _architecture(network: Network, records: Records | None) -> str:
    """net.summary() as a table, with the post's numbering l of W_l beside each layer."""
    numbers = {info.index: info.number for info in records.layers} if records else {}
    rows, shape = [], network.input_shape
    for i, layer in enumerate(network.layers):
        shape = layer.output_shape(shape)
        out = "?" if shape is None else "×".join(map(str, shape))
        count = sum(math.prod(s) for s in layer.parameter_shapes())
        rows.append(
            f"<tr><td>{i}</td><td>{numbers.get(i, '')}</td><td>{_e(layer)}</td>"
            f"<td class='num'>{out}</td><td class='num'>{count:,}</td></tr>"
        )
    head = "<tr><th>#</th><th>l</th><th>layer</th><th>output</th><th>parameters</th></tr>"
    footer = network.summary().splitlines()[-1]
    return (
        f"<table class='layers'>{head}{''.join(rows)}</table><p class='note'>{_e(footer)}. "
        "# is the place in network.layers; l numbers the layers with weights as the post "
        "numbers W_l, as the diagnostics do.</p>"
    )


def _reproducibility(network: Network, config: dict[str, Any]) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    if "command" in config:
        rows["command"] = config["command"]
    rows.update({"seed": config.get("seed", network.seed), "dtype": network.dtype.name})
    rows.update(versions())
    return rows


def _body(
    network: Network,
    history: History | None,
    records: Records | None,
    findings: list[Finding],
    test: dict[str, float],
    confusion: tuple[np.ndarray, list[Any]] | None,
    config: dict[str, Any],
    title: str,
    notes: Sequence[str],
) -> str:
    logs = _epoch_logs(records, history)
    stamp = time.strftime("%Y-%m-%d %H:%M")
    curves_note = (
        "Per epoch: training (the mean over the epoch's batches, each taken before its "
        "update) and validation."
    )
    parts = [
        f"<header><h1>{_e(title)}</h1><p class='sub'>training report · cartoonbrain "
        f"{_e(versions().get('cartoonbrain', '?'))} · written {stamp}</p></header>",
        *(f"<p class='note'>{_e(n)}</p>" for n in notes),
        f"<section class='cards'>{_cards(logs, test, records, network)}</section>",
        f"<section id='diagnostics'><h2>Diagnostics</h2>{_findings_html(findings)}</section>",
        _figure_section("Loss and metrics", _curves_figure(logs, records), curves_note),
    ]
    if records is not None:
        parts.append(
            _figure_section(
                "Gradients and updates", _gradients_figure(records), _gradient_note(records)
            )
        )
        parts.append(
            _figure_section("Saturated and dead units", _units_figure(records), _UNITS_NOTE)
        )
    parts.append(f"<section><h2>Architecture</h2>{_architecture(network, records)}</section>")
    parts.append(_settings(network, confusion, config))
    return "\n".join(p for p in parts if p)


def _settings(
    network: Network, confusion: tuple[np.ndarray, list[Any]] | None, config: dict[str, Any]
) -> str:
    """The confusion matrix (if any), the hyper-parameters and what repeating the run needs."""
    settings = {k: v for k, v in config.items() if k != "command"}
    hyper = f"<section><h2>Hyper-parameters</h2>{_table(_flatten(settings))}</section>"
    again = (
        f"<section><h2>Reproducibility</h2>{_table(_reproducibility(network, config))}</section>"
    )
    if confusion is None:
        return f"<div class='columns'>{hyper}{again}</div>"
    note = "Test set. Rows: the true class; columns: the predicted one."
    matrix = _figure_section("Confusion matrix", _confusion_figure(*confusion), note)
    return f"<div class='columns'>{matrix}{hyper}</div>{again}"  # the matrix beside the table


def write_report(
    directory: str | Path,
    network: Network,
    history: History | None,
    monitor: TrainingMonitor | None,
    *,
    config: dict[str, Any],
    title: str,
    X_test: Any = None,
    y_test: Any = None,
    error: BaseException | None = None,
    notes: Sequence[str] = (),
) -> Path:
    """Write ``directory/report.html`` (atomically) and return its path.

    Parameters
    ----------
    directory : folder, created if needed
    network : the trained Network
    history : what ``fit`` returned (None if it raised; the monitor's epochs are used)
    monitor : the TrainingMonitor passed to ``fit`` (None: no per-layer sections)
    config : every hyper-parameter, shown as a table: optimizer, learning rate, batch
        size, epochs, seed, dataset, command-line arguments, ...
    title : the report's heading
    X_test, y_test : optional test set: test metrics, and a confusion matrix for classifiers
    error : the TrainingDiverged that stopped ``fit``, if any
    notes : paragraphs shown under the heading
    """
    require_matplotlib()
    records = monitor.records if monitor is not None else None
    findings = diagnose(records if records is not None else Records(), history, error=error)
    test: dict[str, float] = {}
    confusion = None
    if X_test is not None and y_test is not None:
        test = network.evaluate(X_test, y_test)
        confusion = _confusion(network, X_test, y_test)
    body = _body(network, history, records, findings, test, confusion, config, title, notes)
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>\n{body}\n</main></body></html>\n"
    )
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / REPORT_NAME
    data = page.encode("utf-8")

    def write(f: BinaryIO) -> None:
        f.write(data)

    atomic_write(path, write)
    return path


# ---------------------------------------------------------------------- the post
def blog_network(
    n_samples: int = 50, seed: int | None = 0, layers: Sequence[tuple[int, int]] = blog.BLOG_LAYERS
) -> tuple[Network, np.ndarray, np.ndarray]:
    """The post's network as a cb.Network, with blog.run's weights and data.

    Draws from ``default_rng(seed)`` in blog.run's order (the weights, layer by layer, then
    the samples, then the labels) and builds ``Dense(n_in, n_out, "sigmoid", bias=False)``
    layers holding exactly those weights; float64, loss ``squared_error`` (½‖y − t‖² per
    sample). Trained with ``SGD(learning_rate)``, ``batch_size=1``, ``shuffle=False``, each
    epoch's ``loss`` is blog.run's: the mean of each sample's loss before its update.

    Returns
    -------
    network, X of shape (n_samples, n_in), T of shape (n_samples, n_out)
    """
    rng = np.random.default_rng(seed)
    weights = blog.make_net(layers, rng)
    n_in, n_out = weights[0].shape[1], weights[-1].shape[0]
    X = np.hstack([rng.standard_normal((n_in, 1)) for _ in range(n_samples)]).T
    T = np.hstack([rng.standard_normal((n_out, 1)) for _ in range(n_samples)]).T
    dense = [
        Dense(W.shape[1], W.shape[0], activation="sigmoid", init="standard_normal", bias=False)
        for W in weights
    ]
    network = Network(dense, loss="squared_error", seed=seed, dtype="float64")
    for layer, W in zip(dense, weights):
        assert layer.W is not None
        layer.W[...] = W
    return network, X, T


def blog_report(
    directory: str | Path,
    epochs: int = 100,
    n_samples: int = 50,
    learning_rate: float = 0.05,
    seed: int | None = 0,
    *,
    log: Callable[[str], object] | None = None,
) -> tuple[Path, list[float]]:
    """Run the post's experiment and write its training report to ``directory``.

    ``log`` (default ``print``) gets blog.run's ``Epoch e / E; Loss L`` lines, exactly as
    ``cartoonbrain blog`` prints them, then the diagnostics. The report comes from the same
    maths through :func:`blog_network` and ``fit`` with a TrainingMonitor.

    Returns
    -------
    the report's path, and the per-epoch losses of the network's run (equal to blog.run's
    to rounding)
    """
    require_matplotlib()
    if seed is None:  # one seed for both runs, and for the report
        seed = int(np.random.default_rng().integers(2**31))
    emit = print if log is None else log
    reference = blog.run(epochs, n_samples, learning_rate, seed=seed, log=emit)
    network, X, T = blog_network(n_samples, seed)
    monitor, history, error = TrainingMonitor(), None, None
    try:
        history = network.fit(
            X,
            T,
            epochs=epochs,
            batch_size=1,
            shuffle=False,
            optimizer=SGD(learning_rate=learning_rate),
            callbacks=[monitor],
        )
        losses = history["loss"]
    except TrainingDiverged as exc:
        error = exc
        losses = [monitor.records.epoch_logs[e]["loss"] for e in sorted(monitor.records.epoch_logs)]
    emit(format_findings(diagnose(monitor, history, error=error)))
    gap = max((abs(a - b) / abs(b) for a, b in zip(losses, reference) if b), default=0.0)
    config = {
        "experiment": "the blog post's: cartoonbrain blog / blog.run",
        "layers (n_out, n_in)": [list(shape) for shape in blog.BLOG_LAYERS],
        "layer": "Dense(n_in, n_out, activation='sigmoid', bias=False), W ~ N(0, 1)",
        "loss": "squared_error, ½‖y − t‖² per sample",
        "optimizer": SGD(learning_rate=learning_rate).get_config(),
        "epochs": epochs,
        "batch_size": "1 (one sample at a time, in order: shuffle=False)",
        "data": f"{n_samples} samples x ~ N(0, I), labels t ~ N(0, I), drawn after the weights",
        "seed": seed,
    }
    notes = [
        "The post's network and data, rebuilt from cb.Dense layers and trained by fit; its "
        f"per-epoch losses agree with blog.run's to a relative {gap:.1e}"
        + (f" (over {len(losses)} of {epochs} epochs)." if len(losses) < epochs else ".")
    ]
    path = write_report(
        directory,
        network,
        history,
        monitor,
        config=config,
        notes=notes,
        title="The blog post's network",
        error=error,
    )
    return path, [float(v) for v in losses]
