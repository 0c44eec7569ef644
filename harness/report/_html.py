"""The parts of ``report.html`` that pytest-html does not draw: verdict banner, requirement table, case evidence.

pytest-html owns the page (its results table, filters and self-contained
output); these functions give it HTML fragments, built from the
``results.json`` data and the case evidence, through its hooks
(``pytest_html_results_summary`` and ``report.extras``). Every value is
escaped with ``html.escape``; nothing here loads an external asset, and
the requirement table filters with CSS alone, so the page works offline
with no script of ours.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

__all__ = ["evidence_html", "requirement_anchor", "summary_html"]

_STYLE = """<style>
.irc-banner{padding:.8em 1em;border-radius:6px;margin:.5em 0 1em;border:2px solid #999;color:#111}
#irc-requirements{color:#111}
.irc-banner h2{margin:.1em 0 .4em;font-size:1.6em}
.irc-conformant{background:#dff5df;border-color:#3a3}.irc-non-conformant{background:#fbe0e0;border-color:#c33}
.irc-not-assessed{background:#eee;border-color:#888}
.irc-meta{font-size:.9em}.irc-meta td{padding:.1em .8em .1em 0;border:none}
table.irc-requirements{border-collapse:collapse;width:100%;font-size:.9em;margin-top:.5em}
table.irc-requirements th,table.irc-requirements td{border:1px solid #ccc;padding:.25em .5em;vertical-align:top;text-align:left}
tr.irc-failed td.irc-status{background:#f6c1c1;font-weight:bold}tr.irc-passed td.irc-status{background:#cfeccf}
tr.irc-skipped td.irc-status{background:#eee}
.irc-failure pre,.conformance-evidence pre{white-space:pre-wrap;word-break:break-all;background:#f7f7f7;padding:.4em;
max-height:24em;overflow:auto}
.irc-filters label{margin-right:1em}
#irc-requirements:has(#irc-f-passed:not(:checked)) tr[data-status=passed],
#irc-requirements:has(#irc-f-failed:not(:checked)) tr[data-status=failed],
#irc-requirements:has(#irc-f-skipped:not(:checked)) tr[data-status=skipped],
#irc-requirements:has(#irc-f-MUST:not(:checked)) tr[data-level=MUST],
#irc-requirements:has(#irc-f-SHOULD:not(:checked)) tr[data-level=SHOULD]{display:none}
</style>"""

_VERDICT_TEXT = {"conformant": "Conformant", "non-conformant": "Non-conformant", "not-assessed": "Not assessed"}


def requirement_anchor(requirement_id: str) -> str:
    """The ``id`` of a requirement's row in ``report.html`` (``index.html`` links to ``report.html#<anchor>``)."""
    return "req-" + "".join(c if c.isalnum() or c in "-._" else "_" for c in requirement_id)


def _counts(rows: list[dict[str, Any]]) -> str:
    parts = []
    for level in ("MUST", "SHOULD"):
        counts = {s: sum(r["level"] == level and r["status"] == s for r in rows) for s in ("passed", "failed", "skipped")}
        parts.append(f"<b>{level}</b>: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    return "; ".join(parts)


def _banner(data: dict[str, Any]) -> str:
    verdict = data["verdict"]
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
    if data.get("not_assessed_reason"):
        meta.insert(0, ("why not assessed", data["not_assessed_reason"]))
    rows = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in meta)
    return (f"<div class='irc-banner irc-{escape(verdict)}' id='irc-verdict' data-verdict='{escape(verdict)}'>"
            f"<h2>{escape(_VERDICT_TEXT.get(verdict, verdict))}</h2><p>{_counts(data['requirements'])}</p>"
            f"<table class='irc-meta'>{rows}</table></div>")


def _failure(failure: dict[str, Any], *, open_: bool) -> str:
    request = json.dumps(failure.get("request"), indent=2)
    response = json.dumps(failure.get("response"), indent=2)
    return (f"<details class='irc-failure'{' open' if open_ else ''}><summary>{escape(failure['case'])}: "
            f"{escape(failure['message'])}</summary>"
            f"<p>reproduce (export ROUTER_API_KEY first):</p><pre class='irc-curl'>{escape(failure.get('curl') or '')}</pre>"
            f"<details><summary>request</summary><pre>{escape(request)}</pre></details>"
            f"<details><summary>response</summary><pre>{escape(response)}</pre></details></details>")


def _requirement_row(row: dict[str, Any]) -> str:
    status, level = row["status"], row["level"]
    failures = "".join(_failure(f, open_=i == 0) for i, f in enumerate(row["failures"]))
    return (f"<tr id='{requirement_anchor(row['id'])}' class='irc-{escape(status)}' data-status='{escape(status)}' "
            f"data-level='{escape(level)}'><td><code>{escape(row['id'])}</code></td><td>{escape(level)}</td>"
            f"<td>{escape(row['title'])}{failures}</td><td>{escape(row['source'])}</td>"
            f"<td class='irc-status'>{escape(status)}</td><td>{row['cases']}</td></tr>")


def _filters() -> str:
    boxes = "".join(f"<label><input type='checkbox' id='irc-f-{name}' checked> {name}</label>"
                    for name in ("failed", "passed", "skipped", "MUST", "SHOULD"))
    return f"<div class='irc-filters'>show: {boxes}</div>"


def summary_html(data: dict[str, Any]) -> str:
    """The verdict banner and the requirement table (failures first) for a ``results.json`` document."""
    rows = "".join(_requirement_row(r) for r in data["requirements"])
    return (f"{_STYLE}{_banner(data)}<div id='irc-requirements'><h3>Requirements</h3>{_filters()}"
            "<table class='irc-requirements'><thead><tr><th>id</th><th>level</th><th>title</th><th>source</th>"
            f"<th>status</th><th>cases</th></tr></thead><tbody>{rows}</tbody></table></div>")


def evidence_html(results: list[tuple[str, str, str, str]], evidence: dict[str, Any]) -> str:
    """One case's evidence: ``results`` as (outcome, level, requirement id, message) rows, then curl,
    the redacted request and response (base64 truncated) and thumbnails of the images."""
    rows = "".join(f"<tr><td>{escape(o)}</td><td>{escape(lv)}</td><td>{escape(rid)}</td><td>{escape(m)}</td></tr>"
                   for o, lv, rid, m in results)
    thumbs = "".join(f'<img src="{escape(t)}" alt="generated image" style="max-width:128px;margin:2px">'
                     for t in evidence.get("thumbnails", []))
    return (
        f"<div class='conformance-evidence'><table><tr><th>result</th><th>level</th><th>requirement</th>"
        f"<th>message</th></tr>{rows}</table>"
        f"<p><b>curl</b></p><pre>{escape(evidence.get('curl', ''))}</pre>"
        f"<p><b>request</b></p><pre>{escape(json.dumps(evidence.get('request'), indent=2))}</pre>"
        f"<p><b>response</b> ({escape(str(evidence.get('elapsed_s')))} s)</p>"
        f"<pre>{escape(json.dumps(evidence.get('response'), indent=2))}</pre>{thumbs}</div>"
    )
