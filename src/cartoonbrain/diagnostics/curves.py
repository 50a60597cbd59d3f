"""Causes read from the loss curves: divergence, a learning rate too large or too small,
overfitting and underfitting.

The learning-rate test is scale-free: it never compares a gradient norm with a fixed
number (a gradient is as large as the loss's units make it: a target in the hundreds
makes every gradient a hundred times larger, with nothing wrong in the learning rate).
It reads two ratios instead:

    update ratio   u = ‖ΔW_l‖ / ‖W_l‖ per step, the median over training, then over the
                   layers: how far one step moves the weights relative to their size. It is
                   the same for any scaling of the loss under Adam, and it is what a
                   learning rate sets directly; ~1e-3 is usual (Karpathy's rule of thumb).
    curve shape    r = (the training loss's drop per epoch over the last third of the
                   epochs) / (its drop per epoch before that): a curve that has flattened
                   has r near 0, one still falling at the pace it started has r ≈ 1.

Too small: the loss is still falling steadily (r ≥ 0.5) and the steps are tiny (u < 3e-4):
the step size is what limits progress. Too large: the loss jumped ten times above where it
started (the steps overshoot) and did not recover to a good loss, or it is diverging. A
loss still falling steadily with steps of the usual size is underfitting: training stopped
early.

Overfitting: the validation loss rose after its lowest epoch, on average over the two or
more epochs since and at the end, while the training loss kept falling (stopping at that
epoch is the fix), or it ended at least twice the training
loss with a gap that matters (then which regulariser helps, and how much, is uncertain).
"""

from __future__ import annotations

import math

import numpy as np

from .findings import Finding
from .monitor import quietly
from .run import Run

__all__ = ["divergence", "learning_rate", "overfitting", "underfitting"]

#: the loss rising this many times above its lowest epoch is "diverging"
DIVERGING_FACTOR = 10.0
#: the loss jumping this many times above where it started: the steps overshoot
OVERSHOOT_FACTOR = 10.0
#: a median update ratio ‖ΔW‖/‖W‖ below this is a tiny step
SMALL_STEPS = 3e-4
#: the update ratio a good learning rate usually gives
USUAL_STEPS = 1e-3
#: the loss fell over the last third of the epochs at least this fraction as fast as before
STILL_FALLING = 0.5
#: ... and the loss fell by at least this fraction of its last value over that third
VISIBLE_DROP = 0.05
#: ... or of SLOW_DROP, with tiny steps: a learning rate too small shows as a slow fall
SLOW_DROP = 0.01
#: the loss ended above this fraction of where it started: it learned (almost) nothing
LEARNED_NOTHING = 0.9
#: validation loss at least this many times the training loss is a large gap ...
GAP_FACTOR = 2.0
#: ... when the gap is also at least this fraction of the baseline loss
GAP_SHARE = 0.01
#: the validation loss rising this fraction above its lowest epoch
VAL_RISE = 0.1
#: the curve checks need this many epochs
MIN_EPOCHS = 3


def _lower_rate(run: Run) -> tuple[str, dict[str, float] | None]:
    rate = run.rate
    words = f"lower the learning rate{run.rate_text()}, e.g. ten times"
    return words, ({"learning_rate": rate / 10} if rate else None)


def divergence(run: Run) -> list[Finding]:
    """The loss became inf/NaN (``fit`` raised), or rose ten times above its lowest."""
    words, fix = _lower_rate(run)
    suggestion = (
        f"{words}; clip gradients (clip_norm=1.0 on the optimizer); scale inputs and targets "
        "to about unit size"
    )
    losses = run.losses
    if run.error is not None or not all(math.isfinite(v) for v in losses):
        what = str(run.error).split(";")[0] if run.error is not None else None
        what = what or "the loss became inf or NaN"
        return [Finding("divergence", None, f"training diverged: {what}.", suggestion, fix)]
    if len(losses) >= 2:
        low = int(np.argmin(losses))
        if losses[-1] > DIVERGING_FACTOR * losses[low] and losses[low] > 0:
            message = (
                f"the loss is diverging: it rose from {losses[low]:.3g} (epoch {low + 1}) "
                f"to {losses[-1]:.3g} (epoch {len(losses)})."
            )
            return [Finding("divergence", None, message, suggestion, fix)]
    return []


def _shape(run: Run) -> tuple[int, float, float] | None:
    """(w, r, d): the last third's length w in epochs; r, how fast the loss fell per epoch
    over it relative to the epochs before; d, its drop over it relative to its last value.
    None if it cannot tell."""
    losses = run.losses
    n = len(losses)
    if n < MIN_EPOCHS or not all(math.isfinite(v) for v in losses) or losses[-1] <= 0:
        return None
    w = max(1, n // 3)
    last, before = losses[-w - 1] - losses[-1], losses[0] - losses[-w - 1]
    if not before > 0:
        return None
    return w, (last / w) / (before / (n - 1 - w)), last / losses[-1]


def still_falling(run: Run, visible: float = VISIBLE_DROP) -> bool:
    """The training loss is still falling at about the pace it started (see the module),
    by at least ``visible`` of its last value over the last third of the epochs."""
    shape = _shape(run)
    return shape is not None and shape[1] >= STILL_FALLING and shape[2] >= visible


def step_size(run: Run) -> float:
    """The median over the layers of each layer's median update ratio over training."""
    with quietly():
        ratios = np.nanmedian(run.records.array("update_ratio"), axis=0)
    finite = ratios[np.isfinite(ratios)]
    return float(np.median(finite)) if finite.size else math.nan


def learning_rate(run: Run) -> list[Finding]:
    """A learning rate too large (the loss overshoots) or too small (tiny steps while the
    loss still falls steadily)."""
    too_large = _overshoot(run)
    if too_large:
        return too_large
    u, rate = step_size(run), run.rate
    if not (still_falling(run, SLOW_DROP) and u < SMALL_STEPS and rate):
        return []
    factor = float(np.clip(USUAL_STEPS / u, 3.0, 30.0))
    new_rate = float(f"{rate * factor:.1g}")
    shape = _shape(run)
    assert shape is not None
    w, r, _ = shape
    message = (
        f"the learning rate is too small: each step moves the weights by {u:.2g} of their "
        f"size (‖ΔW‖/‖W‖, the median over training and layers; about {USUAL_STEPS:g} "
        f"is usual), while the loss is still falling at the pace it started: over the last "
        f"{w} epochs {r:.0%} as fast per epoch as before."
    )
    suggestion = f"raise the learning rate{run.rate_text()} to {new_rate:g}"
    return [Finding("learning_rate", None, message, suggestion, {"learning_rate": new_rate})]


def _overshoot(run: Run) -> list[Finding]:
    """An epoch's loss OVERSHOOT_FACTOR times above the loss before training, yet finite."""
    seen = [v for v in run.losses if math.isfinite(v)]
    start = run.reference
    if run.error is not None or not seen or not (math.isfinite(start) and start > 0):
        return []
    if run.good:
        return []  # it overshot, and recovered
    peak = max(seen)
    if not peak > OVERSHOOT_FACTOR * start:
        return []
    words, fix = _lower_rate(run)
    message = (
        f"the learning rate is too large: the loss jumped from {start:.3g} (before training) "
        f"to {peak:.3g}, so the steps overshoot; the loss ended at {run.losses[-1]:.3g}."
        if run.losses
        else f"the learning rate is too large: the loss jumped from {start:.3g} to {peak:.3g}."
    )
    return [Finding("learning_rate", None, message, words, fix)]


def overfitting(run: Run) -> list[Finding]:
    """Validation loss rising while the training loss falls, or far above it."""
    train, val = run.losses, run.val_losses
    if len(val) < 2 or len(train) != len(val) or not all(map(math.isfinite, train + val)):
        return []
    best = int(np.argmin(val))
    after = val[best + 1 :]
    rising = len(after) >= 2 and float(np.mean(after)) > (1 + VAL_RISE) * val[best]
    if rising and val[-1] > (1 + VAL_RISE) * val[best] and train[-1] < train[best]:
        message = (
            f"the network overfits: the validation loss rose from {val[best]:.3g} (epoch "
            f"{best + 1}, its lowest) to {val[-1]:.3g} while the training loss fell from "
            f"{train[best]:.3g} to {train[-1]:.3g}."
        )
        suggestion = (
            f"stop at epoch {best + 1} (epochs={best + 1}, or EarlyStopping("
            "restore_best_weights=True)); regularising (dropout, l2) or more data may let "
            "it learn longer"
        )
        return [Finding("overfitting", None, message, suggestion, {"epochs": best + 1})]
    gap = val[-1] - train[-1]
    if val[-1] >= GAP_FACTOR * train[-1] and gap >= GAP_SHARE * run.baseline:
        message = (
            f"the network overfits: the validation loss ({val[-1]:.3g}) ended "
            f"{val[-1] / train[-1]:.1f} times the training loss ({train[-1]:.3g}), and the "
            f"lowest it reached was {val[best]:.3g} (epoch {best + 1})."
        )
        suggestion = (
            "uncertain which regulariser helps, and by how much: try more dropout, an l2 "
            "penalty, fewer units or more training data, and keep what lowers val_loss "
            "(an l2 penalty is added to the reported losses, so compare accuracy or r2 too)"
        )
        return [Finding("overfitting", None, message, suggestion, None)]
    return []


def underfitting(run: Run) -> list[Finding]:
    """The training loss still falling steadily at the end, or barely moved at all;
    validation (if any) close to training."""
    train, val = run.losses, run.val_losses
    if val and train and val[-1] >= GAP_FACTOR * train[-1]:
        return []  # that is overfitting
    if divergence(run):
        return []  # a diverging run is past underfitting
    if still_falling(run):
        if step_size(run) < SMALL_STEPS and run.rate and not _overshoot(run):
            return []  # the learning rate is too small: learning_rate() says so
        shape = _shape(run)
        assert shape is not None
        w, r, d = shape
        follows = f"; validation follows it ({val[-1]:.3g})" if val else ""
        message = (
            f"the network underfits: the training loss is still falling steadily, by "
            f"{d:.0%} over the last {w} epoch{'s' if w > 1 else ''} ({r:.0%} as fast per epoch "
            f"as before), to {train[-1]:.3g}{follows}: training stopped before it finished "
            "learning."
        )
        epochs = 2 * len(train)
        suggestion = f"train longer (epochs={epochs}), or with a larger learning rate"
        return [Finding("underfitting", None, message, suggestion, {"epochs": epochs})]
    return _learned_nothing(run)


def _learned_nothing(run: Run) -> list[Finding]:
    """The training loss ended near a constant prediction's (targets known), or near where
    it started (targets unknown)."""
    train = run.losses
    if len(train) < MIN_EPOCHS or not math.isfinite(train[-1]):
        return []
    known = run.targets is not None and run.regression
    start = run.baseline if known else max(run.reference, train[0])
    if not (start > 0 and train[-1] >= LEARNED_NOTHING * start):
        return []
    against = "a constant prediction's (the targets' mean)" if known else "where it started"
    message = (
        f"the network learned almost nothing: after {len(train)} epochs the training loss "
        f"is {train[-1]:.3g}, against {start:.3g}, {against}."
    )
    u, rate = step_size(run), run.rate
    now = [f"now {rate:g}"] if rate is not None else []
    now += [f"its steps are small: ‖ΔW‖/‖W‖ = {u:.2g}"] if u < SMALL_STEPS else []
    about = " (" + "; ".join(now) + ")" if now else ""
    suggestion = (
        "uncertain: the findings below (vanishing gradients, dead or saturated units) may "
        f"say why; else check the learning rate{about}, the inputs' scale, and that the "
        "targets depend on the inputs at all"
    )
    return [Finding("underfitting", None, message, suggestion, None)]
