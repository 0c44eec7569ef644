"""``DIR/index.html``: one row per profile run, with its verdict and links to its report files."""

from __future__ import annotations

import html
import json
from pathlib import Path

__all__ = ["write_index"]

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Image router conformance</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3em .6em}}
.conformant{{background:#d4f7d4}}.non-conformant{{background:#f9d0d0}}.not-assessed{{background:#eee}}</style></head>
<body><h1>Image router conformance</h1>
<table><tr><th>profile</th><th>verdict</th><th>MUST failed</th><th>SHOULD failed</th><th>requests (billable)</th><th>router</th><th>files</th></tr>
{rows}</table></body></html>
"""


def write_index(report_dir: Path, profiles: list[str]) -> Path:
    """Write ``report_dir/index.html`` for the ``profiles`` that have a results.json; returns its path."""
    rows = []
    for name in profiles:
        data = json.loads((report_dir / name / "results.json").read_text(encoding="utf-8"))
        failed = [r for r in data["requirements"] if r["status"] == "failed"]
        must = sum(r["level"] == "MUST" for r in failed)
        e = html.escape
        rows.append(
            f"<tr class='{e(data['verdict'])}'><td>{e(name)}</td><td>{e(data['verdict'])}</td><td>{must}</td>"
            f"<td>{len(failed) - must}</td><td>{data['requests']['sent']} ({data['requests']['billable']})</td>"
            f"<td>{e(data['router_url'])}</td><td><a href='{e(name)}/report.html'>report</a> "
            f"<a href='{e(name)}/results.json'>results.json</a> <a href='{e(name)}/junit.xml'>junit.xml</a></td></tr>"
        )
    path = report_dir / "index.html"
    path.write_text(_PAGE.format(rows="\n".join(rows)), encoding="utf-8")
    return path
