"""``conformance rejudge DIR``: judge recorded exchanges again, offline, and say what changed.

The recording (``run --record``, ``harness._har``) carries the plan options and the verdict it got;
re-judging builds the same plan, judges each recorded answer with today's profile and checks, writes
the same reports, and prints the verdict change and every requirement whose status moved, with why.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._errors import EXIT_MUST_FAILED, EXIT_NOT_ASSESSED, EXIT_OK, EXIT_USAGE

__all__ = ["rejudge"]


def rejudge(args: argparse.Namespace, *, run_one: Callable[[str, argparse.Namespace], tuple[int, Path]]) -> int:
    """``conformance rejudge``: each recording judged again through ``run_one`` (``conformance run``'s own path,
    with the recording's plan options and ``replay``), then what changed against the recorded verdict.
    Returns the exit code, as ``run``."""
    from ._har import read_recording
    from .options import OPTIONS

    files = sorted(args.recording.glob("*.har")) if args.recording.is_dir() else [args.recording]
    if not files:
        print(f"conformance: no .har recording in {args.recording}", file=sys.stderr)
        return EXIT_USAGE
    codes = []
    for path in files:
        meta, _ = read_recording(path)
        values: dict[str, Any] = {o.name: o.default for o in OPTIONS}
        values.update(seed=meta["seed"], examples=meta["examples"], models=tuple(meta["models"]),
                      large_inputs=meta["large_inputs"], replay=str(path), headers=[], cases=[],
                      fault=meta.get("fault"), router_url=None if meta.get("embedded") else meta.get("router_url"))
        run_args = argparse.Namespace(**values, report_dir=args.report_dir, quiet=False, verbose=False)
        code, results = run_one(args.profile_override or meta["profile"], run_args)
        codes.append(code)
        _say_changes(meta, results)
    for code in (EXIT_USAGE, EXIT_NOT_ASSESSED, EXIT_MUST_FAILED):
        if code in codes:
            return code
    return EXIT_OK


def _say_changes(meta: dict[str, Any], results: Path) -> None:
    """Print how the new judgement differs from the recorded one: the verdict, and each requirement whose status
    changed, with the reason it failed now."""
    try:
        data = json.loads(results.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if data["profile_sha256"] != meta.get("profile_sha256"):
        print(f"  the profile changed since the recording (sha256 {meta.get('profile_sha256', '?')[:12]} -> "
              f"{data['profile_sha256'][:12]})")
    before = meta.get("statuses", {})
    changed = [(r, before.get(r["id"], "absent")) for r in data["requirements"] if before.get(r["id"], "absent") != r["status"]]
    verdict = data["verdict"] if data["verdict"] == meta.get("verdict") else f"{meta.get('verdict')} -> {data['verdict']}"
    print(f"  re-judged without sending anything: verdict {verdict}; {len(changed)} requirements changed")
    for row, was in changed:
        why = f": {' '.join(row['failures'][0]['message'].split())[:160]}" if row["failures"] else ""
        print(f"    {row['id']} ({row['level']}): {was} -> {row['status']}{why}")
