"""Failures that share one answer: one cause, said once, instead of many rows that look unrelated.

When every edit request gets the same 400 (a proxy that corrupts uploads),
every requirement those cases judge fails with its own message and
evidence; the reader has to notice they are one answer. Here failing cases
are grouped by the answer itself (the status and the error message, or the
transport error), and a group that fails two or more requirements is named
once, above the requirement table and in the console.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, TypedDict

from .checks._context import html_title

__all__ = ["SharedAnswer", "answer_of", "shared_answer_lines", "shared_answers"]

#: Groups shown (largest first); more would be noise on top of the table.
MAX_GROUPS = 5


class SharedAnswer(TypedDict):
    """One answer behind several failed requirements: ``answer`` in one line, the requirement ids it failed,
    how many ``cases`` got it, and one ``example`` case id."""

    answer: str
    requirements: list[str]
    cases: int
    example: str


def answer_of(response: dict[str, Any] | None) -> str | None:
    """One line that is the same for the same answer (``None`` for a 2xx or no answer recorded).

    A transport error is its text with numbers blanked (``timed out after 60.2 s`` is one answer
    whatever the seconds); an HTTP error is its status and the error message of an OpenAI-shaped
    body, else the start of the body (an HTML page's start holds its title).
    """
    if not response:
        return None
    if response.get("error"):
        return re.sub(r"\d+(?:\.\d+)?", "#", str(response["error"]))[:200]
    status = response.get("status")
    if not isinstance(status, int) or 200 <= status < 300:
        return None
    body = response.get("body")
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        text = error["message"]
    elif isinstance(error, str):
        text = error
    else:
        title = html_title(body.encode()) if isinstance(body, str) and body.lstrip()[:1] == "<" else ""
        text = f"an HTML page titled {title!r} (not the router's JSON: an intermediary's)" if title else \
            body if isinstance(body, str) else ("" if body is None else str(body))
    return f"HTTP {status}: {' '.join(text.split())[:160]}".rstrip(": ")


def shared_answers(failing: Iterable[tuple[str, dict[str, Any] | None, list[str]]]) -> list[SharedAnswer]:
    """The answers that failed two or more requirements, the most requirements first (at most
    :data:`MAX_GROUPS`); ``failing`` is ``(case id, its evidence's response, the requirement ids it failed)``."""
    groups: dict[str, tuple[dict[str, None], list[tuple[int, str]]]] = {}
    for case_id, response, failed in failing:
        answer = answer_of(response) if failed else None
        if answer is None:
            continue
        requirements, ids = groups.setdefault(answer, ({}, []))
        requirements.update(dict.fromkeys(failed))
        ids.append((len(set(failed)), case_id))
    # the example is the case that failed the most of them (a valid request, rather than one invalid in passing)
    shared = [SharedAnswer(answer=answer, requirements=list(reqs), cases=len(ids),
                           example=max(ids, key=lambda i: i[0])[1])
              for answer, (reqs, ids) in groups.items() if len(reqs) >= 2]
    shared.sort(key=lambda s: (-len(s["requirements"]), -s["cases"]))
    return shared[:MAX_GROUPS]


def shared_answer_lines(shared: Iterable[SharedAnswer]) -> list[str]:
    """The console's lines for :func:`shared_answers` (one per answer)."""
    return [f"{len(s['requirements'])} failed requirements share one answer ({s['cases']} cases, e.g. "
            f"{s['example']}): {s['answer']}" for s in shared]
