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
                   has r near 0, one still falling at the pace it started has r ≈ 1. Each
                   drop per epoch is a robust slope (Theil–Sen: the median of the slopes
                   between every pair of epochs), and the curve counts as still falling
                   only when its drop over the w epochs of the last third is more than
                   2 σ √w, σ its noise (the spread of its epoch-to-epoch changes, 1.4826 ·
                   MAD; noise alone moves a curve by about σ √w over w epochs): a noisy
                   loss is not read as "still falling".

Too large: the training loss rose above its value before training (by 50%; the steps
overshoot) and did not recover to a good loss, or it is diverging. Too small: the steps
are tiny (u < 3e-4) while the loss is short of good, and either still falling steadily, or
it barely moved (the weights did not travel), or a schedule lowered the rate on the way
(which flattens the curve whatever the rate). Never too small: a loss that ever rose above
its value before training; a network with saturated, dead or vanishing units (the steps
are small because g is: :func:`.diagnosis.diagnose` drops the finding then). A loss still
falling steadily with steps of the usual size is underfitting: training stopped early.

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
#: an epoch's training loss this fraction above the loss before training: the steps
#: overshoot. (The loss before training is one batch's: a first epoch of large N(0, 1)
#: weights averaged 5.90 against its first batch's 4.51, 31% above, with nothing wrong in
#: the rate; SGD at 5 and at 20 and Adam at 0.5 on digits rose 105-360% above it.)
ROSE_ABOVE = 0.5
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
#: what an uncertain underfitting fix points to; diagnose() rewrites it when none is found
BELOW = "the findings below (vanishing gradients, dead or saturated units)"
#: the curve checks need this many epochs
MIN_EPOCHS = 3
#: a drop counts when it is more than this many times the curve's noise
NOISE_MULTIPLE = 2.0


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


def robust_slope(values: list[float]) -> float:
    """The Theil–Sen slope per epoch of ``values``: the median of (v_j − v_i) / (j − i)
    over every pair i < j (NaN for fewer than two values)."""
    v = np.asarray(values, dtype=np.float64)
    if len(v) < 2:
        return math.nan
    i, j = np.triu_indices(len(v), 1)
    return float(np.median((v[j] - v[i]) / (j - i)))


def noise(values: list[float]) -> float:
    """The spread of the epoch-to-epoch changes: 1.4826 · median |Δ − median Δ| (the
    standard deviation of Δ for normal noise; 0 for a curve that falls evenly)."""
    changes = np.diff(np.asarray(values, dtype=np.float64))
    if changes.size == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(changes - np.median(changes))))


def _shape(run: Run) -> tuple[int, float, float] | None:
    """(w, r, d): the last third's length w in epochs; r, how fast the loss fell per epoch
    over it relative to the epochs before (robust slopes); d, its drop over it relative to
    its last value. None if it cannot tell."""
    losses = run.losses
    n = len(losses)
    if n < MIN_EPOCHS or not all(math.isfinite(v) for v in losses) or losses[-1] <= 0:
        return None
    w = max(1, n // 3)
    last, before = -robust_slope(losses[-w - 1 :]), -robust_slope(losses[: n - w])
    if not before > 0:
        return None
    return w, last / before, last * w / losses[-1]


def still_falling(run: Run, visible: float = VISIBLE_DROP) -> bool:
    """The training loss is still falling at about the pace it started (see the module),
    by at least ``visible`` of its last value over the last third of the epochs, and by
    more than its noise."""
    shape = _shape(run)
    if shape is None or not (shape[1] >= STILL_FALLING and shape[2] >= visible):
        return False
    w, _, d = shape  # noise alone moves a curve by about its noise times √w over w epochs
    return d * run.losses[-1] > NOISE_MULTIPLE * noise(run.losses) * math.sqrt(w)


def rose_above_start(run: Run) -> tuple[int, float] | None:
    """(epoch, loss) of the highest epoch when the training loss ever rose more than
    ROSE_ABOVE above its value before training (the steps overshoot); else None."""
    seen = [(v, e) for e, v in enumerate(run.losses) if math.isfinite(v)]
    start = run.reference
    if not seen or not (math.isfinite(start) and start > 0):
        return None
    peak, epoch = max(seen)
    return (epoch + 1, peak) if peak > (1 + ROSE_ABOVE) * start else None


def _schedule_lowered(run: Run) -> bool:
    rates = [run.records.learning_rate[e] for e in sorted(run.records.learning_rate)]
    return len(rates) >= 2 and rates[-1] < 0.5 * rates[0]


def step_size(run: Run) -> float:
    """The median over the layers of each layer's median update ratio over training."""
    with quietly():
        ratios = np.nanmedian(run.records.array("update_ratio"), axis=0)
    finite = ratios[np.isfinite(ratios)]
    return float(np.median(finite)) if finite.size else math.nan


def too_small(run: Run) -> bool:
    """Tiny steps (u < SMALL_STEPS) hold the loss back: it is short of good, never rose
    above its start, fell at all, and is still falling steadily, barely moved, or ran under
    a schedule that lowered the rate. (Symptoms that make g small are ruled out by
    :func:`.diagnosis.diagnose`.)"""
    u, rate, losses = step_size(run), run.rate, run.losses
    if not (rate and u < SMALL_STEPS) or run.good or run.error is not None:
        return False
    if len(losses) < MIN_EPOCHS or not all(map(math.isfinite, losses)):
        return False
    if rose_above_start(run) is not None or not losses[-1] < max(run.reference, losses[0]):
        return False
    return still_falling(run, SLOW_DROP) or _barely_moved(run) or _schedule_lowered(run)


def _barely_moved(run: Run) -> bool:
    start = max(run.reference, run.losses[0])
    return start > 0 and run.losses[-1] >= LEARNED_NOTHING * start


def learning_rate(run: Run) -> list[Finding]:
    """A learning rate too large (the loss rose above its start) or too small (tiny steps
    hold the loss back: see :func:`too_small`)."""
    too_large = _overshoot(run)
    if too_large:
        return too_large
    if not too_small(run):
        return []
    u, rate = step_size(run), run.rate
    assert rate
    factor = float(np.clip(USUAL_STEPS / u, 3.0, 30.0))
    new_rate = float(f"{rate * factor:.2g}")
    message = (
        f"the learning rate is too small: each step moves the weights by {u:.2g} of their "
        f"size (‖ΔW‖/‖W‖, the median over training and layers; about {USUAL_STEPS:g} "
        f"is usual), and the loss ended at {run.losses[-1]:.3g}, against "
        f"{max(run.reference, run.losses[0]):.3g} at the start: "
    )
    shape = _shape(run)
    if still_falling(run, SLOW_DROP) and shape is not None:
        message += (
            f"it is still falling at the pace it started (over the last {shape[0]} epochs "
            f"{shape[1]:.0%} as fast per epoch as before)."
        )
    elif _barely_moved(run):
        message += "the weights barely moved, and neither did the loss."
    else:
        message += "the schedule lowered the rate further on the way."
    suggestion = f"raise the learning rate{run.rate_text()} to {new_rate:g}"
    return [Finding("learning_rate", None, message, suggestion, {"learning_rate": new_rate})]


def _overshoot(run: Run) -> list[Finding]:
    """An epoch's loss more than ROSE_ABOVE above the loss before training, yet finite,
    in a run that did not recover to a good loss."""
    if run.error is not None or run.good or divergence(run):
        return []  # diverging (divergence says so), or it overshot and recovered
    rose = rose_above_start(run)
    if rose is None:
        return []
    epoch, peak = rose
    words, fix = _lower_rate(run)
    message = (
        f"the learning rate is too large: the training loss rose from {run.reference:.3g} "
        f"(before training) to {peak:.3g} (epoch {epoch}), so the steps overshoot; it "
        f"ended at {run.losses[-1]:.3g}."
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
        suggestion = f"train longer (epochs={epochs})"
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
        f"uncertain: {BELOW} may say why; else check the learning rate{about}, the inputs' "
        "scale, and that the targets depend on the inputs at all"
    )
    return [Finding("underfitting", None, message, suggestion, None)]
