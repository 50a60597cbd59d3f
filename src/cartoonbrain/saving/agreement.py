"""What a model says of itself must agree before anything is predicted.

A model file's arrays may fit its architecture while its parts disagree: a class list
(``metadata["classes"]``, what ``cartoonbrain predict`` writes) that is not the target
encoder's, three classes for two outputs, a task that is not the loss's, feature names
that are not the preprocessor's. Labels would then contradict their own probabilities, or
a predictions CSV be malformed. :func:`check_agreement` refuses such a model when it is
loaded (``cb.load`` makes the ValueError a ModelFileError naming the file).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..data.preprocessing import TargetEncoder

if TYPE_CHECKING:
    from ..network.network import Network

__all__ = ["check_agreement"]


def check_agreement(net: Network) -> None:
    """What the metadata says (what ``cartoonbrain predict`` and ``evaluate`` write and
    read by) must agree with the network and its codecs, before anything is predicted:
    the class list with the target encoder's and with the outputs' width, the task with
    the loss, the feature names with the preprocessor's. ValueError naming the first
    disagreement (``cb.load`` makes it a ModelFileError naming the file)."""
    meta, encoder, pre = net.metadata, net.target_encoder, net.preprocessor
    classes, task = meta.get("classes"), meta.get("task")
    if task is not None and task != ("classification" if net.loss.classification else "regression"):
        raise ValueError(
            f"metadata task {str(task)[:40]!r} disagrees with the loss {net.loss.name!r}"
        )
    if classes is not None:
        if not isinstance(classes, list) or not all(type(c) in (str, int, float) for c in classes):
            raise ValueError("metadata classes must be a list of labels (strings or numbers)")
        if not net.loss.classification:
            raise ValueError(
                f"metadata lists classes but the loss {net.loss.name!r} is a regression's"
            )
        if encoder is not None and encoder.classes and classes != encoder.classes:
            raise ValueError(
                f"metadata classes {_cut(classes)} disagree with the target encoder's "
                f"{_cut(encoder.classes)}"
            )
        listed = TargetEncoder("classes")
        listed.classes = list(classes)
        listed.check_width(net.output_shape[-1], net.independent_outputs)
    names = meta.get("feature_names")
    if pre is not None and names is not None and list(names) != pre.feature_names_in_:
        raise ValueError(
            f"metadata feature_names {_cut(names)} disagree with the preprocessor's "
            f"{_cut(pre.feature_names_in_)}"
        )


def _cut(values: Any, n: int = 6) -> str:
    shown = ", ".join(repr(v)[:30] for v in list(values)[:n])
    return f"[{shown}{', ...' if len(values) > n else ''}]"
