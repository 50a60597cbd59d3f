"""The training report: rendering only, no training.

    figures.py   matplotlib figures from a run's records, as PNG data URIs
    html.py      the page: :func:`write_report` writes one self-contained ``report.html``

Give :func:`write_report` a trained network, what ``fit`` returned and the
:class:`~cartoonbrain.diagnostics.TrainingMonitor` that watched it. (The report of the
post's experiment, which trains first, is :func:`cartoonbrain.blog.inspect.blog_report`.)
Needs matplotlib (the ``plot`` extra).
"""

from __future__ import annotations

from .figures import require_matplotlib
from .html import REPORT_NAME, versions, write_report

__all__ = ["REPORT_NAME", "require_matplotlib", "versions", "write_report"]
