"""The report's figures: matplotlib Figures drawn from a run's records, and their PNG data URIs.

    curves_figure       loss, a metric and the learning rate, per epoch
    gradients_figure    per layer: ‖∇W_l‖ and the update ratio ‖ΔW_l‖ / ‖W_l‖
    units_figure        per layer: saturated sigmoid/tanh outputs, dead ReLU units
    confusion_figure    the test set's confusion matrix (rows: true class)
    boundary_figure     two input features: the decision boundary over the data points
    unit_maps_figure    two input features: each hidden unit's output over the plane

Legends sit outside the axes (right of the panels), so they never hide a curve.

Only matplotlib's object-oriented API is used (no pyplot, no global state); it is imported
when a figure is drawn, and :func:`require_matplotlib` says what to install if it is missing.
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..data.datasets import MissingDependencyError
from ..diagnostics import LayerInfo, Records
from ..train import History
from .boundary import Grid, UnitMap

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Array = NDArray[Any]

__all__ = [
    "boundary_figure",
    "confusion_figure",
    "curves_figure",
    "data_uri",
    "epoch_logs",
    "gradients_figure",
    "require_matplotlib",
    "unit_maps_figure",
    "units_figure",
]


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


def data_uri(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def epoch_logs(records: Records | None, history: History | None) -> dict[str, list[float]]:
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


def curves_figure(logs: dict[str, list[float]], records: Records | None) -> Figure | None:
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
    fig.legend(handles=axes[0].get_lines(), frameon=False, loc="outside lower center", ncols=2)
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


def gradients_figure(records: Records) -> Figure | None:
    if not records.step or not records.layers:
        return None
    fig = _figure(10.5, 3.6)
    left, right = fig.subplots(1, 2)
    _per_layer_panel(left, records, "grad_norm", "gradient norm ‖∇W_l‖")
    _per_layer_panel(right, records, "update_ratio", "update ratio ‖ΔW_l‖ / ‖W_l‖ per step")
    right.axhline(1e-3, color="black", ls=":", lw=1, label="1e-3, a healthy ratio")
    handles = [*left.get_lines(), *right.get_lines()[-1:]]
    fig.legend(
        handles=handles,
        title="layer",
        fontsize=8,
        title_fontsize=8,
        frameon=False,
        loc="outside right upper",
    )
    return fig


def units_figure(records: Records) -> Figure | None:
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


def confusion_figure(matrix: np.ndarray, classes: list[Any]) -> Figure:
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


def _label_ids(y: Any) -> tuple[Array, list[Any]]:
    """Labels (any type; one-hot rows) as ids 0 … k−1, with the labels in that order."""
    values = np.asarray(y)
    if values.ndim == 2 and values.shape[1] > 1:
        values = values.argmax(axis=1)
    labels, ids = np.unique(values.reshape(-1), return_inverse=True)
    return ids, list(labels)


def boundary_figure(
    grid: Grid, X: Array, y: Any | None, class_names: list[Any] | None = None
) -> Figure:
    """The plane coloured by the prediction, the decision boundary (where the predicted
    class changes) drawn over it, and the data points coloured by their label (for two
    classes, in the plane's own colours: class 0 blue, class 1 red). ``class_names``
    names class ids 0 … k−1 in the legend (the model's own labels)."""
    fig = _figure(6.4, 5.0)
    ax = fig.subplots()
    classification = grid.classes is not None
    cmap = "RdBu_r" if classification else "viridis"
    levels = np.linspace(0, 1, 11) if classification and grid.outputs.shape[-1] <= 2 else 20
    filled = ax.contourf(grid.xs, grid.ys, grid.score, levels=levels, cmap=cmap, alpha=0.75)
    fig.colorbar(filled, ax=ax, shrink=0.85, label=_score_label(grid, class_names))
    if classification and grid.classes is not None and np.ptp(grid.classes) > 0:
        edges = np.arange(grid.classes.max() + 1) + 0.5  # between neighbouring class ids
        ax.contour(grid.xs, grid.ys, grid.classes, levels=edges, colors="black", linewidths=1.6)
    if y is not None:
        if classification:
            ids, labels = _label_ids(y)
            markers = "osD^v<>"
            colors = _point_colors(len(labels), cmap)
            for k, label in enumerate(labels):
                mine = ids == k
                named = label
                if class_names and isinstance(label, (int, np.integer)):
                    named = class_names[int(label)] if 0 <= label < len(class_names) else label
                ax.scatter(
                    X[mine, 0],
                    X[mine, 1],
                    s=14,
                    marker=markers[k % len(markers)],
                    edgecolors="black",
                    linewidths=0.4,
                    color=colors[k],
                    label=str(named),
                )
            fig.legend(title="label", frameon=False, fontsize=8, loc="outside right lower")
        else:
            targets = np.asarray(y, dtype=np.float64).reshape(len(X), -1)[:, 0]
            ax.scatter(
                X[:, 0],
                X[:, 1],
                c=targets,
                cmap=cmap,
                s=14,
                edgecolors="black",
                linewidths=0.4,
            )
    ax.set(xlabel="x_1 (first input)", ylabel="x_2 (second input)")
    what = "decision boundary (black) and" if classification else "prediction and"
    ax.set_title(f"{what} the data points", fontsize=11)
    return fig


def _point_colors(n: int, cmap: str) -> list[Any]:
    """Two classes in the plane's colours (the ends of its map); more in tab10's."""
    if n == 2:
        from matplotlib import colormaps

        return [colormaps[cmap](0.12), colormaps[cmap](0.88)]
    return _layer_colors(n)


def _score_label(grid: Grid, class_names: list[Any] | None = None) -> str:
    if grid.classes is None:
        return "prediction y"
    if grid.outputs.shape[-1] > 2:
        return "p(predicted class)"
    name = class_names[1] if class_names and len(class_names) == 2 else "class 1"
    return f"p({str(name).replace('$', chr(92) + '$')})"  # no mathtext


def unit_maps_figure(xs: Array, ys: Array, maps: list[UnitMap]) -> Figure | None:
    """One small map per hidden unit, a row per layer: o_l,i over the plane."""
    if not maps:
        return None
    layers = sorted({m.layer for m in maps})
    columns = max(sum(m.layer == n for m in maps) for n in layers)
    fig = _figure(1.35 * columns + 0.8, 1.45 * len(layers) + 0.3)
    axes = fig.subplots(len(layers), columns, squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for row, number in enumerate(layers):
        for col, m in enumerate(m for m in maps if m.layer == number):
            ax = axes[row, col]
            ax.set_axis_on()
            ax.imshow(
                m.values,
                origin="lower",
                cmap="RdBu_r",
                aspect="auto",
                extent=(xs[0], xs[-1], ys[0], ys[-1]),
            )
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"o_{number},{m.unit + 1}", fontsize=8)
        axes[row, 0].set_ylabel(f"layer {number}", fontsize=8)
    return fig
