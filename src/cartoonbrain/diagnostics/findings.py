"""A diagnosis in plain words (:class:`Finding`), its machine-readable fix, and the console.

Each finding names what it is about (a layer, or target columns), says what was measured,
and offers a fix twice: in words (``suggestion``) and as a dict of changes to the run
(``fix``) that a program can apply and retrain with. ``fix`` is None where the right fix
is uncertain; the suggestion then says so and lists what to try. The keys of ``fix``:

    output_activation    str    the last layer's activation, e.g. "identity"
    standardize_target   True   train on (t − mean) / std, column by column (and predict
                                mean + std · y)
    standardize_inputs   True   the same for the inputs, with the training rows' statistics
    learning_rate        float  the optimizer's learning rate
    epochs               int    how many epochs to train
    init                 str    the initialiser of every layer with weights
    activation           str    the activation of every hidden layer
    dropout, l2          float  regularisation
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, TextIO

__all__ = ["CAUSES", "KINDS", "SYMPTOMS", "Finding", "format_findings", "print_findings"]

#: kinds that name a cause, in the order they are reported (most basic first)
CAUSES = (
    "target_range",
    "target_scale",
    "weight_scale",
    "learning_rate",
    "divergence",
    "overfitting",
    "underfitting",
)
#: kinds that name a symptom: what a cause shows up as inside the network
SYMPTOMS = ("exploding", "dead", "saturation", "vanishing")
KINDS = CAUSES + SYMPTOMS


@dataclass(frozen=True)
class Finding:
    """One problem, in plain words.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`: causes ("target_range", "target_scale", "weight_scale",
        "learning_rate", "divergence", "overfitting", "underfitting"), then symptoms
        ("exploding", "dead", "saturation", "vanishing").
    layer : str or None
        The layer's label, e.g. "layer 3 (Dense 150→80, sigmoid)"; None: the whole run.
    message : str
        What was measured, with its numbers.
    suggestion : str
        The fix in words; it says so when the right fix is uncertain.
    fix : dict or None
        The fix as changes to the run (see the module's table); None when uncertain.
    columns : tuple of int
        The target columns concerned (0-based), for the findings about targets.
    explained_by : str or None
        For a symptom: the kind of the cause found above that it follows from.
    """

    kind: str
    layer: str | None
    message: str
    suggestion: str
    fix: dict[str, Any] | None = None
    columns: tuple[int, ...] = ()
    explained_by: str | None = None

    def __str__(self) -> str:
        where = f"{self.layer}: " if self.layer else ""
        if self.columns:
            where += f"target column{'s' if len(self.columns) > 1 else ''} "
            where += ", ".join(str(c) for c in self.columns) + ": "
        return f"{where}{self.message}\n    fix: {self.suggestion}"


def format_findings(findings: list[Finding]) -> str:
    """The findings as console text: a headline, then each finding and its fix."""
    if not findings:
        return (
            "diagnostics: no problems found (targets, learning rate, the loss curves, gradient "
            "norms, saturated and dead units)"
        )
    count = f"{len(findings)} problem{'s' if len(findings) > 1 else ''}"
    lines = [f"diagnostics: {count} found"]
    lines += [f"  [{f.kind}] {f}" for f in findings]
    return "\n".join(lines)


def print_findings(findings: list[Finding], file: TextIO | None = None) -> None:
    """Print :func:`format_findings` to ``file`` (default stdout)."""
    print(format_findings(findings), file=file or sys.stdout, flush=True)
