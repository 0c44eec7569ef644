"""The check step: judge one router answer against the profile, and list what a run can pass or fail.

Checks are registered functions (``_registry``), one per behaviour
requirement, beside its id, level and title: ``served`` / ``rejected`` /
``refused`` judge each case's own requirement, the others the behaviour every
answer of that kind owes (``served.py``: 200 answers, ``rejected.py``: errors,
``auth.py``: missing and wrong keys). A check never raises on a bad answer:
garbage from a router is a failed check whose message is the evidence.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from PIL import Image

from ..spec import Case, Profile
from ..transport.client import Exchange
# registering the checks, in catalogue order: 200 answers, then errors, then auth
from . import served  # noqa: F401, I001
from . import image_urls  # noqa: F401
from . import rejected  # noqa: F401
from . import auth  # noqa: F401
from . import json_text  # noqa: F401
from . import streamed  # noqa: F401
from ._catalogue import catalogue
from ._context import CheckContext
from ._registry import BEHAVIOURS, CHECKS, Behaviour, Check, CheckResult, behaviour, check

__all__ = ["BEHAVIOURS", "CHECKS", "Behaviour", "Check", "CheckContext", "CheckResult", "Verdict", "behaviour",
           "catalogue", "check", "check_case", "failures"]


@dataclass
class Verdict:
    """All check results of one case, plus the decoded images (for thumbnails) and what each image declared."""

    results: list[CheckResult] = field(default_factory=list)
    images: list[Image.Image] = field(default_factory=list)
    #: (width, height, PIL format) of each ``data`` image as its file declares them, decoded or too large to be
    shown: list[tuple[int, int, str | None]] = field(default_factory=list)

    def add(self, requirement: str, passed: bool, message: str = "") -> None:
        self.results.append(CheckResult(requirement, passed, message))


def check_case(profile: Profile, case: Case, exchange: Exchange) -> Verdict:
    """Judge ``exchange`` (the answer to ``case``) with every registered check of the case's kind.

    A check that raises on an answer nobody foresaw becomes a failed result
    on the case's own requirement, with the exception as its message; the
    other checks still run. Raises ``ValueError`` for a case naming a model
    endpoint the profile lacks (a planning bug, not a router fault).
    """
    target = profile.model_endpoint(case.endpoint, case.model)
    if target is None:  # a case for an unknown model (model.known) still names a documented one
        raise ValueError(f"case {case.id!r} names no model endpoint of profile {profile.name!r}")
    context = CheckContext(profile, target, case, exchange)
    verdict = Verdict()
    for registered in CHECKS:
        if case.kind not in registered.kinds:
            continue
        try:
            verdict.results.extend(registered.judge(context))
        except Exception as exc:  # an answer no check foresaw: a failed case with evidence, never a crash
            verdict.add(case.requirements[0], False,
                        f"the harness could not judge this answer ({registered.name}): {exc!r}"[:500])
    verdict.images = context.images_seen
    if "images" in context.__dict__:  # only what a check decoded: reading it here would decode what none asked for
        verdict.shown = [d.header for d in context.images if d.header is not None]
    return verdict


def failures(verdict: Verdict, levels: dict[str, str], level: str) -> Iterator[CheckResult]:
    """The failed results of ``verdict`` whose requirement has RFC 2119 ``level``."""
    return (r for r in verdict.results if not r.passed and levels.get(r.requirement, "MUST") == level)
