"""The check registry: each check registered once with the requirement it judges.

A check is a plain function of a :class:`~harness.checks._context.CheckContext`
that yields :class:`CheckResult` values (it decides itself whether it applies,
like Schemathesis' checks). ``@check(...)`` registers it together with its
behaviour requirement: the id, the RFC 2119 level, the title, and which words
of a profile promise the behaviour (``cites``; a profile that promises nothing
there has no such requirement). Registration order is the order checks run
and requirements are listed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..spec import Profile, Source
from ..spec.requirements import BehaviourId

__all__ = ["BEHAVIOURS", "CHECKS", "Behaviour", "Check", "CheckResult", "behaviour", "check"]


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check for one requirement; ``message`` explains a failure."""

    requirement: str
    passed: bool
    message: str = ""


#: ``(profile, model endpoint or None for profile-wide behaviour) -> the words that promise it, or None``.
Cites = Callable[[Profile, Any], "Source | None"]


@dataclass(frozen=True)
class Behaviour:
    """A behaviour requirement: ``id`` (see ``spec.requirements``), ``level`` (MUST / SHOULD), ``title`` and
    ``cites``, the profile's words that promise it (its source in the report)."""

    id: BehaviourId
    level: str
    title: str
    cites: Cites
    level_from: Callable[[Profile, Any], str | None] | None = None

    def level_in(self, profile: Profile, target: Any) -> str:
        """The level in ``profile``: the one it writes for this behaviour (``errors.level``, ``echo.level``), else ``level``."""
        written = self.level_from(profile, target) if self.level_from is not None else None
        return written or self.level


@dataclass(frozen=True)
class Check:
    """A registered check: ``judge(context)`` yields results for the case kinds in ``kinds``."""

    name: str
    kinds: frozenset[str]
    judge: Callable[[Any], Iterable[CheckResult]]
    behaviour: Behaviour | None


#: Behaviour slug -> behaviour, in registration order (the catalogue's order).
BEHAVIOURS: dict[str, Behaviour] = {}
#: Every check, in the order they run.
CHECKS: list[Check] = []


def behaviour(id: BehaviourId, *, level: str, title: str, cites: Cites,
              level_from: Callable[[Profile, Any], str | None] | None = None) -> Behaviour:
    """Declare a behaviour requirement judged by a case's own check (``accepts-valid``, ``auth.required``, ...)."""
    if id.slug in BEHAVIOURS:
        raise ValueError(f"behaviour {id.slug!r} is already registered")
    found = Behaviour(id, level, title, cites, level_from)
    BEHAVIOURS[id.slug] = found
    return found


def check(id: BehaviourId | None = None, *, kinds: Iterable[str], level: str = "MUST", title: str = "",
          cites: Cites | None = None, level_from: Callable[[Profile, Any], str | None] | None = None) -> Callable[[Callable[[Any], Iterable[CheckResult]]], Callable[[Any], Iterable[CheckResult]]]:
    """Register the decorated function as a check of the case ``kinds`` (``valid``, ``invalid``, ``auth``).

    With ``id``, the check judges that behaviour requirement, declared here with
    its ``level``, ``title`` and ``cites``; without, it judges the case's own
    requirements (the rule it exists for).
    """
    def register(judge: Callable[[Any], Iterable[CheckResult]]) -> Callable[[Any], Iterable[CheckResult]]:
        declared = None if id is None or cites is None else \
            behaviour(id, level=level, title=title, cites=cites, level_from=level_from)
        CHECKS.append(Check(judge.__name__, frozenset(kinds), judge, declared))
        return judge

    return register
