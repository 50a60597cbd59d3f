"""The training report: one self-contained HTML file with the figures of a run.

:func:`write_report` writes ``DIR/report.html``: the findings of
:func:`~cartoonbrain.diagnostics.diagnose` at the top, in plain words; the loss and metric
curves; per-layer gradient norms ‖∇W_l‖ and update ratios ‖ΔW_l‖/‖W_l‖; the share of
saturated sigmoid/tanh outputs and dead ReLU units; a confusion matrix for classifiers;
for a network on two input features, its decision boundary over the data points and a
small map of each hidden unit's output (:mod:`.boundary`); the architecture, every
hyper-parameter, the seed and the package versions. Figures
(:mod:`.figures`) are PNGs embedded as ``data:`` URIs and the style sheet is inline, so the
file opens in any browser, offline, on its own. Nothing here trains: it renders a network,
its History and its TrainingMonitor's records as they are given.
"""

from __future__ import annotations

import html
import importlib.metadata
import json
import math
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from ..diagnostics import Finding, Records, TrainingMonitor, diagnose
from ..io import atomic_write
from ..metrics import confusion_matrix
from ..network.network import Network
from ..train import History
from .boundary import decision_grid, two_features, unit_maps
from .figures import (
    boundary_figure,
    confusion_figure,
    curves_figure,
    data_uri,
    epoch_logs,
    gradients_figure,
    require_matplotlib,
    unit_maps_figure,
    units_figure,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["REPORT_NAME", "versions", "write_report"]

REPORT_NAME = "report.html"


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


def _confusion(network: Network, X: Any, y: Any) -> tuple[np.ndarray, list[Any]] | None:
    if not network.loss.classification:
        return None
    outputs = network.output_shape[0]
    if network.independent_outputs and outputs > 1:
        return None  # multi-label: no single confusion matrix
    predicted = network.predict_classes(X).reshape(-1)
    truth = np.asarray(y)
    truth = truth.argmax(axis=1) if truth.ndim == 2 and truth.shape[1] > 1 else truth.reshape(-1)
    encoder = network.target_encoder
    if encoder is not None:  # the user's labels: back to class ids
        truth = encoder.encode(truth)
        predicted = predicted if network.independent_outputs else encoder.encode(predicted)
    classes = network.metadata.get("classes") or list(range(max(outputs, 2)))
    matrix = confusion_matrix(truth.astype(np.int64), predicted.astype(np.int64), len(classes))
    return matrix, list(classes)


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
        f'<img alt="{_e(title)}" src="{data_uri(fig)}"></section>'
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


def _plane(network: Network, X: Any, y: Any) -> str:
    """For two input features: the decision boundary over the points, and the unit maps."""
    points = two_features(X)
    if points is None:
        return ""
    grid = decision_grid(network, points, resolution=120)
    kind = "decision boundary" if grid.classes is not None else "prediction"
    note = f"The {kind} over the {len(points)} data points: the plane around them coloured by " + (
        "the predicted probability, the decision boundary drawn in black where the "
        "predicted class changes, each point marked by its label."
        if grid.classes is not None
        else "the prediction, each point coloured by its target on the same scale."
    )
    parts = [
        _figure_section(
            f"What the network learned: the {kind}",
            boundary_figure(grid, points, y, network.metadata.get("classes")),
            note,
        )
    ]
    xs, ys, maps = unit_maps(network, points)
    if maps:
        maps_note = (
            "Each hidden unit's output o_l,i = f(W_l o_{l-1} + b_l)_i over the same plane (red "
            "high, blue low), a row per hidden layer, as TensorFlow Playground draws its "
            "neurons: the output layer combines these pictures into the one above."
        )
        parts.append(
            _figure_section(
                "What each hidden unit computes", unit_maps_figure(xs, ys, maps), maps_note
            )
        )
    return "\n".join(parts)


def _architecture(network: Network, records: Records | None) -> str:
    """net.summary() as a table, with the post's numbering l of W_l beside each layer."""
    numbers = {info.index: info.number for info in records.layers} if records else {}
    rows, shape = [], network.input_shape
    for i, layer in enumerate(network.layers):
        shape = layer.output_shape(shape)
        out = "?" if shape is None else "×".join(map(str, shape))
        count = sum(math.prod(s) for s in layer.parameter_shapes())
        rows.append(
            f"<tr><td>{i + 1}</td><td>{numbers.get(i, '')}</td><td>{_e(layer)}</td>"
            f"<td class='num'>{out}</td><td class='num'>{count:,}</td></tr>"
        )
    head = "<tr><th>#</th><th>l</th><th>layer</th><th>output</th><th>parameters</th></tr>"
    footer = network.summary(print_fn=None).splitlines()[-1]
    return (
        f"<table class='layers'>{head}{''.join(rows)}</table><p class='note'>{_e(footer)}. "
        "# numbers every layer from 1, as summary() and gradcheck do; l numbers the layers "
        "with weights as the post numbers W_l, as the diagnostics do.</p>"
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
    plane: str = "",
) -> str:
    logs = epoch_logs(records, history)
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
        _figure_section("Loss and metrics", curves_figure(logs, records), curves_note),
    ]
    if records is not None:
        parts.append(
            _figure_section(
                "Gradients and updates", gradients_figure(records), _gradient_note(records)
            )
        )
        parts.append(
            _figure_section("Saturated and dead units", units_figure(records), _UNITS_NOTE)
        )
    parts.append(plane)
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
    matrix = _figure_section("Confusion matrix", confusion_figure(*confusion), note)
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
    X_train: Any = None,
    y_train: Any = None,
    findings: list[Finding] | None = None,
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
    X_train, y_train : optional training rows (raw, as ``fit`` took them) and targets: for
        two input features, the decision boundary over these points (else over the test
        set's) and each hidden unit's map
    findings : the diagnosis to show, when already made (e.g. with a probe); by default
        :func:`~cartoonbrain.diagnostics.diagnose` of the records
    error : the TrainingDiverged that stopped ``fit``, if any
    notes : paragraphs shown under the heading
    """
    require_matplotlib()
    records = monitor.records if monitor is not None else None
    if findings is None:
        findings = diagnose(records if records is not None else Records(), history, error=error)
    test: dict[str, float] = {}
    confusion = None
    if X_test is not None and y_test is not None:
        test = network.evaluate(X_test, y_test)
        confusion = _confusion(network, X_test, y_test)
    shown = (X_train, y_train) if X_train is not None else (X_test, y_test)
    plane = _plane(network, *shown) if shown[0] is not None and error is None else ""
    body = _body(network, history, records, findings, test, confusion, config, title, notes, plane)
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>\n{body}\n</main></body></html>\n"
    )
    return _write_page(Path(directory), page)


def _write_page(folder: Path, page: str) -> Path:
    """``folder/report.html``, written atomically (the folder is created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / REPORT_NAME
    data = page.encode("utf-8")

    def write(f: BinaryIO) -> None:
        f.write(data)

    atomic_write(path, write)
    return path
