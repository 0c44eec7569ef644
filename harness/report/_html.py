"""The parts of ``report.html`` that pytest-html does not draw: verdict banner, requirement table, case evidence.

pytest-html owns the page (its results table, filters and self-contained
output); these functions give it HTML fragments, rendered from Jinja2
templates (``templates/``, autoescaped) with the ``results.json`` data and
the case evidence, through its hooks (``pytest_html_results_summary`` and
``report.extras``). Nothing here loads an external asset, and the
requirement table filters with CSS alone, so the page works offline with no
script of ours.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from ._templates import render, requirement_anchor

__all__ = ["environment_html", "evidence_html", "frame_html", "partial_report_html", "requirement_anchor", "summary_html"]

_VERDICT_TEXT = {"conformant": "Conformant", "non-conformant": "Non-conformant", "not-assessed": "Not assessed"}


def _meta(data: dict[str, Any]) -> list[tuple[str, str]]:
    requests = data["requests"]
    meta = [
        ("profile", f"{data['profile']} (sha256 {data['profile_sha256']})"),
        ("router", data["router_url"]),
        ("requests", f"{requests['sent']} sent, {requests['billable']} billable (generate images), "
                     f"{requests.get('skipped', 0)} skipped, {requests.get('retried', 0)} retried"),
        ("duration", f"{data['duration_s']:.1f} s"),
        ("seed", str(data["seed"])),
        ("harness", f"image-router-conformance {data['harness_version']}, results schema_version {data['schema_version']}"),
        ("started", data["started_at"]),
    ]
    if data.get("fault"):
        from ..reference import FAULTS

        fault = FAULTS.get(data["fault"])
        said = f" ({fault.description}; it breaks {fault.breaks or 'nothing'})" if fault is not None else ""
        meta.insert(1, ("fault", f"the embedded reference router ran with the fault {data['fault']}{said}"))
    if data.get("replayed_from"):
        meta.insert(1, ("re-judged", f"the exchanges recorded in {data['replayed_from']}; no request was sent"))
    if data.get("not_assessed_reason"):
        meta.insert(0, ("why not assessed", data["not_assessed_reason"]))
    return meta


def summary_html(data: dict[str, Any]) -> str:
    """The verdict banner and the requirement table (failures first) for a ``results.json`` document."""
    counts = {level: {status: sum(r["level"] == level and r["status"] == status for r in data["requirements"])
                      for status in ("passed", "failed", "skipped")} for level in ("MUST", "SHOULD")}
    return render("summary.html.j2", data=data, meta=_meta(data), counts=counts, verdict_text=_VERDICT_TEXT)


def partial_report_html(data: dict[str, Any]) -> str:
    """A whole page for a run still going or cut short (``complete: false``): the banner and requirement
    table of ``data``, written as the run goes so that a killed run still leaves a readable report."""
    return render("partial.html.j2", data=data, summary=Markup(summary_html(data)))


def evidence_html(results: list[tuple[str, str, str, str]], evidence: dict[str, Any]) -> str:
    """One case's evidence: ``results`` as (outcome, level, requirement id, message) rows, then curl,
    the redacted request and response (base64 truncated) and thumbnails of the images."""
    return render("evidence.html.j2", results=results, evidence=evidence)


def frame_html(*, cases: int, sent: int) -> str:
    """CSS and one line that make pytest-html's page read as a certificate: the pytest-only outcome filters
    (expected failures, reruns) and the Environment block hidden, the results table named a table of cases."""
    return render("pytest_html_frame.html.j2", cases=cases, sent=sent)


def environment_html(environment: dict[str, Any]) -> str:
    """pytest-metadata's environment table, folded (``<details>``), for the bottom of the report."""
    return render("pytest_environment.html.j2", environment=[(k, str(v)) for k, v in environment.items()])
