"""Report fragments for pytest-html (banner, requirement table, evidence) and ``index.html`` across profiles."""

from __future__ import annotations

from ._html import environment_html, evidence_html, frame_html, partial_report_html, requirement_anchor, summary_html
from ._index import write_index

__all__ = ["environment_html", "evidence_html", "frame_html", "partial_report_html", "requirement_anchor",
           "summary_html", "write_index"]
