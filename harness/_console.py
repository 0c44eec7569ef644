"""What ``conformance run`` prints when a profile's run ends: the verdict, then what failed and how to re-send it.

A CI log is often all a reader of a failed gate sees. So the log names each failed requirement with
its level and a one-line reason, gives one case that shows it, and gives the line that re-sends
that case, without anyone having to open the HTML report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._diagnosis import shared_answer_lines
from .results import RunResult

__all__ = ["FAILED_SHOWN", "summary_lines"]

#: Failed requirements listed by default (``verbose`` lists all); the report has the rest.
FAILED_SHOWN = 15


def _one_line(text: str, limit: int = 160) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else f"{flat[:limit - 1]}…"


def summary_lines(data: dict[str, Any], report: Path, *, quiet: bool = False, verbose: bool = False,
                  strict: bool = False, fail_on: tuple[str, ...] = ()) -> list[str]:
    """The console lines for one profile's ``results.json`` ``data``.

    ``quiet``: the verdict line only. Otherwise the answers shared by several failures, then each failed
    requirement (MUST first, at most :data:`FAILED_SHOWN` unless ``verbose``) with its first failing case,
    that case's message and its replay line. ``strict`` / ``fail_on``: the gate's options (see
    :meth:`harness.results.RunResult.gate_failures`); the verdict line says when the gate and the verdict
    differ, and waived failures are marked.
    """
    counts: dict[str, int] = {}
    for row in data["requirements"]:
        key = f"{row['level']} {row['status']}"
        counts[key] = counts.get(key, 0) + 1
    shown = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    reason = f" ({data['not_assessed_reason']})" if data.get("not_assessed_reason") else ""
    failed = [r for r in data["requirements"] if r["status"] == "failed"]  # MUST first: results.json's order
    gate = set(RunResult(data).gate_failures(strict=strict, fail_on=fail_on))  # type: ignore[arg-type]
    waived = [r for r in failed if "waived" in r]
    if data["verdict"] != "not-assessed":
        if gate and not any(r["level"] == "MUST" for r in failed if r["id"] in gate):
            reason += f" (the gate fails on {len(gate)} failed requirement{'s' * (len(gate) > 1)}: "\
                      f"{'--strict' if strict else '--fail-on'})"
        if waived:
            reason += f" ({len(waived)} failed requirement{'s' * (len(waived) > 1)} waived"\
                      f"{'; the gate passes' if not gate else ''})"
    lines = [f"{data['profile']}: {data['verdict']}{reason}; requirements: {shown}; "
             f"{'recorded requests judged' if data.get('replayed_from') else 'requests sent'} "
             f"{data['requests']['sent']}, billable {data['requests']['billable']}; report: {report}"]
    if quiet:
        return lines
    lines += [f"  {line}" for line in shared_answer_lines(data.get("shared_answers") or ())]
    for row in failed if verbose else failed[:FAILED_SHOWN]:
        first = row["failures"][0]
        said = f" (waived: {row['waived']})" if "waived" in row else ""
        lines.append(f"  FAILED {row['level']} {row['id']}{said}: {_one_line(first['message'])}")
        lines.append(f"    case: {first['case']}")
        if first.get("replay"):
            lines.append(f"    replay: {first['replay']}")
    if len(failed) > FAILED_SHOWN and not verbose:
        lines.append(f"  … and {len(failed) - FAILED_SHOWN} more failed requirements (--verbose lists them; "
                     f"the report has each)")
    return lines
