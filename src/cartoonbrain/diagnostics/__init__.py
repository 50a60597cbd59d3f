"""Training diagnostics: watch each layer while ``fit`` runs, then name what went wrong,
causes before symptoms, each with a fix that works.

:class:`TrainingMonitor` (:mod:`.monitor`) is a callback that records, at sample points,
each layer's gradient norm, update ratio ‖ΔW_l‖/‖W_l‖, saturated and dead units, and the
first batch's loss; give it the targets (``TrainingMonitor(targets=y)``) for the checks
that need them. :func:`diagnose` (:mod:`.diagnosis`) turns the records into
:class:`Finding` s (:mod:`.findings`), in plain words and with a machine-readable ``fix``:

    causes      targets beyond the output's range and the loss floor that forces, a
                target far from unit scale (:mod:`.targets`); initial weights that blow
                the signal up (:mod:`.units`); a learning rate too large or too small,
                divergence, overfitting, underfitting (:mod:`.curves`)
    symptoms    exploding and vanishing gradients, dead and saturated units (:mod:`.units`)

The learning-rate advice cannot point the wrong way (:mod:`.diagnosis`): never "too small"
for a network with dead, saturated or vanishing units or a loss that rose above its start,
never raise and lower in one report, and, given ``diagnose(..., probe=...)`` (a short run
with some settings changed), every advised rate measured against the current one.

:func:`explain_blog_floor` says in words why the post's network stops where it does.
:func:`format_findings` / :func:`print_findings` are the console side. NumPy only.
"""

from .diagnosis import diagnose
from .findings import CAUSES, KINDS, SYMPTOMS, Finding, format_findings, print_findings
from .monitor import LayerInfo, Records, TrainingMonitor
from .targets import OUTPUT_RANGES, TargetFloor, explain_blog_floor, target_floor

__all__ = [
    "CAUSES",
    "KINDS",
    "OUTPUT_RANGES",
    "SYMPTOMS",
    "Finding",
    "LayerInfo",
    "Records",
    "TargetFloor",
    "TrainingMonitor",
    "diagnose",
    "explain_blog_floor",
    "format_findings",
    "print_findings",
    "target_floor",
]
