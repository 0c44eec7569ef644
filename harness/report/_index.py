"""``DIR/index.html``: the profiles run side by side, and a profiles x requirements matrix.

A QA lead opens this first: one row per profile with its verdict, then every
requirement id any profile has, with each profile's status linking straight
to that requirement's row (its failing cases and curl lines) in the
profile's ``report.html``. Built from the ``results.json`` files alone, so it
never disagrees with them; static HTML, no script, no external asset.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..results import STATUS_ORDER
from ._html import requirement_anchor

__all__ = ["write_index"]

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Image router conformance</title>
<style>body{{font-family:sans-serif;margin:2em;color:#111}}table{{border-collapse:collapse;margin-bottom:2em}}
td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}
.conformant{{background:#d4f7d4}}.non-conformant{{background:#f9d0d0}}.not-assessed{{background:#eee}}
td.failed{{background:#f6c1c1;font-weight:bold}}td.passed{{background:#dff5df}}td.skipped{{background:#f3f3f3}}
td.absent{{color:#999}}thead th{{position:sticky;top:0;background:#fff}}</style></head>
<body><h1>Image router conformance</h1>
<h2>Profiles</h2>
<table id="profiles"><tr><th>profile</th><th>verdict</th><th>MUST failed</th><th>SHOULD failed</th>
<th>requests (billable)</th><th>router</th><th>files</th></tr>
{rows}</table>
<h2>Requirements by profile</h2>
<p>Each cell links to the requirement in that profile's report (failing cases and their curl lines).
Failed requirements come first; a dash means the profile has no such requirement.</p>
<table id="matrix"><thead><tr><th>requirement</th>{heads}</tr></thead><tbody>
{matrix}</tbody></table></body></html>
"""


def _href(name: str, file: str) -> str:
    """A relative link to ``<name>/<file>``, safe for any folder name (``./`` keeps it from reading as a scheme)."""
    return escape(f"./{quote(name)}/{file}")


def _profile_row(name: str, data: dict[str, Any]) -> str:
    failed = [r for r in data["requirements"] if r["status"] == "failed"]
    must = sum(r["level"] == "MUST" for r in failed)
    e = escape
    return (f"<tr class='{e(data['verdict'])}'><td><a href='{_href(name, 'report.html')}'>{e(name)}</a></td>"
            f"<td>{e(data['verdict'])}</td><td>{must}</td><td>{len(failed) - must}</td>"
            f"<td>{data['requests']['sent']} ({data['requests']['billable']})</td><td>{e(data['router_url'])}</td>"
            f"<td><a href='{_href(name, 'report.html')}'>report</a> <a href='{_href(name, 'results.json')}'>results.json</a> "
            f"<a href='{_href(name, 'junit.xml')}'>junit.xml</a></td></tr>")


def _matrix(runs: dict[str, dict[str, Any]]) -> str:
    by_id: dict[str, dict[str, dict[str, Any]]] = {}
    for name, data in runs.items():
        for row in data["requirements"]:
            by_id.setdefault(row["id"], {})[name] = row
    ids = sorted(by_id, key=lambda rid: (min(STATUS_ORDER.get(r["status"], 3) for r in by_id[rid].values()), rid))
    lines = []
    for rid in ids:
        cells = []
        for name in runs:
            row = by_id[rid].get(name)
            if row is None:
                cells.append("<td class='absent'>-</td>")
                continue
            link = _href(name, f"report.html#{requirement_anchor(rid)}")
            cells.append(f"<td class='{escape(row['status'])}' title='{escape(row['level'])}: {escape(row['title'])}'>"
                         f"<a href='{link}'>{escape(row['status'])}</a> <small>{escape(row['level'])}</small></td>")
        lines.append(f"<tr><td><code>{escape(rid)}</code></td>{''.join(cells)}</tr>")
    return "\n".join(lines)


def write_index(report_dir: Path, profiles: list[str]) -> Path:
    """Write ``report_dir/index.html`` for the ``profiles`` that have a ``results.json``; returns its path."""
    runs = {name: json.loads((report_dir / name / "results.json").read_text(encoding="utf-8")) for name in profiles}
    page = _PAGE.format(rows="\n".join(_profile_row(n, d) for n, d in runs.items()),
                        heads="".join(f"<th><a href='{_href(n, 'report.html')}'>{escape(n)}</a></th>" for n in runs),
                        matrix=_matrix(runs))
    path = report_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
