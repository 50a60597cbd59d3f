"""``diagnose``: every check, causes before symptoms, and symptoms tied to their causes.

The checks run in the order of :data:`.findings.KINDS`: the targets (outside the output's
range, far from unit scale), the initial weights' scale, the learning rate, divergence,
overfitting and underfitting, then what shows inside the network (exploding and vanishing
gradients, dead and saturated units). A symptom is only worth a fix while it costs something, so:

- a run whose training loss ended good (below 10% of the baseline, a constant
  prediction's or the loss before training) gets no dead, saturated or vanishing
  finding: whatever they cost, the loss does not show it, and acting on them can make the
  run worse (a ReLU network trained with Adam at 0.1 with 84% of a layer dead reaches a
  validation loss of 0.065; made leaky, 0.156);
- once a root cause is found (the targets, the initial weights, the learning rate,
  divergence), a symptom says that it may follow from it, offers no fix of its own
  (``fix=None``), and keeps its own advice only for the case that it outlasts the
  cause's fix; an underfitting or overfitting finding names the cause too (and keeps its
  fix, which may still help); a cause in the data or the initial weights does the same to
  the learning-rate and divergence findings (lowering the rate does not shrink weights
  that are too large).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from numpy.typing import ArrayLike

from . import curves, targets, units
from .findings import SYMPTOMS, Finding
from .monitor import Records, TrainingMonitor, _as_targets
from .run import Run

__all__ = ["diagnose"]

#: causes in the data or the initial weights: they explain the learning rate's trouble too
PRIMARY_CAUSES = ("target_range", "target_scale", "weight_scale")
#: causes in the training's settings
STEP_CAUSES = ("learning_rate", "divergence")
#: causes that can explain a symptom (underfitting and overfitting are themselves results)
ROOT_CAUSES = PRIMARY_CAUSES + STEP_CAUSES

_CAUSE_CHECKS: list[Callable[[Run], list[Finding]]] = [
    targets.target_range,
    targets.target_scale,
    units.weight_scale,
    curves.learning_rate,
    curves.divergence,
    curves.overfitting,
    curves.underfitting,
]
_SYMPTOM_CHECKS: list[Callable[[Run], list[Finding]]] = [
    units.exploding,
    units.dead,
    units.saturation,
    units.vanishing,
]

_WHY = {
    "target_range": "targets beyond the output's range push its units into their flat tails "
    "and hold the loss at a floor",
    "target_scale": "a target far from unit scale scales every gradient and the distance the "
    "weights must travel",
    "weight_scale": "weights that multiply the signal at every layer make every loss and "
    "gradient huge from the first step",
    "learning_rate": "steps of the wrong size show up as odd gradients and units",
    "divergence": "a diverging run blows up its gradients and units",
}


def diagnose(
    monitor: TrainingMonitor | Records,
    history: Any = None,
    *,
    error: BaseException | None = None,
    targets: ArrayLike | None = None,
) -> list[Finding]:
    """The problems a :class:`TrainingMonitor` saw, causes first, each with its fix.

    Parameters
    ----------
    monitor : TrainingMonitor or its Records
    history : History, optional
        ``fit``'s; without it the epoch losses the monitor saw are used.
    error : exception, optional
        The :class:`~cartoonbrain.train.TrainingDiverged` that stopped ``fit``, if any.
    targets : array of shape (n_samples,) or (n_samples, n_outputs), optional
        The training targets; by default those given to ``TrainingMonitor(targets=...)``.
        With them, targets beyond the output's range are measured (share and loss floor)
        and a target's scale is read from its mean and std rather than the first loss.

    Returns
    -------
    list of Finding, causes ("target_range", "target_scale", "weight_scale",
    "learning_rate", "divergence", "overfitting", "underfitting") before symptoms
    ("exploding", "dead", "saturation", "vanishing")
    """
    records = monitor.records if isinstance(monitor, TrainingMonitor) else monitor
    T = _as_targets(targets) if targets is not None else records.targets
    run = Run.of(records, history, error, T)
    findings = [f for check in _CAUSE_CHECKS for f in check(run)]
    if records.step and records.layers:
        symptoms = [f for check in _SYMPTOM_CHECKS for f in check(run)]
        if run.good:  # what they cost, the loss does not show: no advice to act on them
            symptoms = [f for f in symptoms if f.kind == "exploding"]
        findings += symptoms
    return _tie_to_causes(findings)


def _tie_to_causes(findings: list[Finding]) -> list[Finding]:
    """Symptoms (and underfitting) after a root cause: marked as following from it."""
    root = next((f.kind for f in findings if f.kind in ROOT_CAUSES), None)
    if root is None:
        return findings
    first = f"fix the {root.replace('_', ' ')} problem above first ({_WHY[root]}); "
    tied = []
    for f in findings:
        later = f"if this is still here afterwards: {f.suggestion}"
        if f.kind in SYMPTOMS or (root in PRIMARY_CAUSES and f.kind in STEP_CAUSES):
            f = replace(f, suggestion=first + later, fix=None, explained_by=root)
        elif f.kind in ("underfitting", "overfitting"):  # their own fixes may still work
            f = replace(f, suggestion=first + later, explained_by=root)
        tied.append(f)
    return tied
