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

The learning-rate advice cannot point the wrong way:

- a network with dead, saturated or vanishing units is never told its rate is too small
  (its steps are small because g is; a larger rate drives more units into the flat
  tails), nor is a run whose loss ever rose above its value before training;
- one report never advises both raising and lowering the rate, "afterwards" advice
  included: lowering wins, and the advice to raise is dropped;
- with a ``probe`` (a short run of the same settings with some changed), every advised
  rate is measured against the current one: kept, with both numbers, when it did better,
  else the finding says it is uncertain and offers no fix;
- no fix names what the run already uses (Adam to a run trained with Adam), and no text
  points at findings that are not there.
"""

from __future__ import annotations

import math
import re
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


#: a short run with the given changes to the run's settings (e.g. {"learning_rate": 0.1})
#: and its score, lower better (its last validation loss, else training loss; inf: diverged)
Probe = Callable[[dict[str, Any]], float]

#: symptoms whose small g make the steps small whatever the rate
SMALL_G = ("dead", "saturation", "vanishing")


def diagnose(
    monitor: TrainingMonitor | Records,
    history: Any = None,
    *,
    error: BaseException | None = None,
    targets: ArrayLike | None = None,
    probe: Probe | None = None,
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
    probe : callable, optional
        ``probe(changes) -> score``: trains a short run of the same settings with
        ``changes`` applied (``{}``: as they are) and returns its score, lower better.
        Every advised learning rate is then measured against the current one.

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
    findings = _one_direction(_no_small_rate_with_small_g(findings, run), run)
    if probe is not None:
        findings = _probed(findings, run, probe)
    return _no_dangling_text(_tie_to_causes(findings))


def _raises(f: Finding, run: Run) -> bool:
    rate = (f.fix or {}).get("learning_rate")
    return rate is not None and run.rate is not None and rate > run.rate


def _lowers(f: Finding, run: Run) -> bool:
    rate = (f.fix or {}).get("learning_rate")
    if rate is not None and run.rate is not None:
        return bool(rate < run.rate)
    return "lower learning rate" in f.suggestion or "lower the learning rate" in f.suggestion


def _no_small_rate_with_small_g(findings: list[Finding], run: Run) -> list[Finding]:
    """No "too small" where units are dead, saturated or vanishing, or the loss rose; a
    "too small" that stands explains the underfitting (the rate limits progress)."""
    if any(f.kind in SMALL_G for f in findings) or curves.rose_above_start(run):
        return [f for f in findings if not (f.kind == "learning_rate" and _raises(f, run))]
    if any(f.kind == "learning_rate" and _raises(f, run) for f in findings):
        return [f for f in findings if f.kind != "underfitting"]
    return findings


_RAISE = re.compile(r"(,? or)? with a larger learning rate|,? raise the learning rate[^;]*")


def _one_direction(findings: list[Finding], run: Run) -> list[Finding]:
    """Lowering the rate wins over raising it, in fixes and in words."""
    if not any(_lowers(f, run) for f in findings):
        return findings
    kept = []
    for f in findings:
        if _raises(f, run):
            continue
        if _RAISE.search(f.suggestion):
            f = replace(f, suggestion=_RAISE.sub("", f.suggestion))
        kept.append(f)
    return kept


def _probed(findings: list[Finding], run: Run, probe: Probe) -> list[Finding]:
    """Each finding whose fix sets the learning rate, measured by a probe run at that rate
    against one at the current rate: kept when better, else uncertain."""
    current: float | None = None
    checked = []
    for f in findings:
        rate = (f.fix or {}).get("learning_rate")
        if rate is None or run.rate is None:
            checked.append(f)
            continue
        if current is None:
            current = probe({})
        advised = probe({"learning_rate": rate})
        measured = (
            f"a short probe run at learning_rate={rate:g} scored {advised:.3g}, against "
            f"{current:.3g} at {run.rate:g}"
        )
        if math.isfinite(advised) and advised < current:
            f = replace(f, suggestion=f"{f.suggestion} ({measured})")
        else:
            f = replace(f, suggestion=f"uncertain: {measured}, no better; {f.suggestion}", fix=None)
        checked.append(f)
    return checked


def _no_dangling_text(findings: list[Finding]) -> list[Finding]:
    """An uncertain underfitting fix points at the symptoms below only when there are some."""
    below = [f.kind for f in findings if f.kind in SMALL_G]
    if below:
        return findings
    none = "no vanishing gradients, dead or saturated units were found to say why"
    return [
        replace(f, suggestion=f.suggestion.replace(f"{curves.BELOW} may say why", none))
        for f in findings
    ]


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
