"""``DIR/index.html``: the profiles run side by side, and a profiles x requirements matrix.

A QA lead opens this first: one row per profile with its verdict, then every
requirement id any profile has, with each profile's status linking straight
to that requirement's row (its failing cases and curl lines) in the
profile's ``report.html``. Built from the ``results.json`` files alone, so it
never disagrees with them; static HTML (``templates/index.html.j2``), no
script, no external asset.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..results import STATUS_ORDER
from ._templates import render

__all__ = ["write_index"]


def _matrix(runs: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, dict[str, Any]]]]:
    """``(requirement id, {profile: row})`` for every id any profile has, failures first, then by id."""
    by_id: dict[str, dict[str, dict[str, Any]]] = {}
    for name, data in runs.items():
        for row in data["requirements"]:
            by_id.setdefault(row["id"], {})[name] = row
    ids = sorted(by_id, key=lambda rid: (min(STATUS_ORDER.get(r["status"], 3) for r in by_id[rid].values()), rid))
    return [(rid, by_id[rid]) for rid in ids]


def write_index(report_dir: Path, profiles: list[str], *, current: list[str] | None = None) -> Path:
    """Write ``report_dir/index.html`` for the ``profiles`` that have a ``results.json``; returns its path.

    Each row says when its run started, with which seed, fault and harness version. ``current``: the
    profiles this invocation ran; the others (results left in the folder by an earlier run) are marked
    stale, so one folder never passes off old verdicts as new ones. ``None``: none is marked.
    """
    runs = {name: json.loads((report_dir / name / "results.json").read_text(encoding="utf-8")) for name in profiles}
    stale = set() if current is None else set(runs) - set(current)
    path = report_dir / "index.html"
    path.write_text(render("index.html.j2", runs=runs, matrix=_matrix(runs), stale=stale) + "\n", encoding="utf-8")
    return path
