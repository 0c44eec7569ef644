"""Profile -> the requirement catalogue: every statement a run can pass or fail.

Behaviour requirements come from the check registry, each citing the words
of *this* profile that promise it (so a report always quotes the router's own
documentation); rule requirements come from the profile's rules. A
requirement written in the profile's ``requirements:`` section replaces the
derived one with the same id (its level, source and, if given, title).
"""

from __future__ import annotations

from ..spec import Profile, Requirement
from ._registry import BEHAVIOURS

__all__ = ["catalogue"]


def catalogue(profile: Profile) -> dict[str, Requirement]:
    """Every requirement of ``profile`` by id: behaviour requirements first (per endpoint, then profile-wide),
    then header and parameter rules in spec order, then contested values (``conflicts``)."""
    found: dict[str, Requirement] = {}
    per_endpoint = [b for b in BEHAVIOURS.values() if b.id.per_endpoint]
    for target in profile.model_endpoints():
        for behaviour in per_endpoint:
            source = behaviour.cites(profile, target)
            rid = behaviour.id.at(target.prefix)
            if source is not None and rid not in found:
                found[rid] = Requirement(rid, behaviour.level_in(profile, target), behaviour.title, source)
    for behaviour in (b for b in BEHAVIOURS.values() if not b.id.per_endpoint):
        source = behaviour.cites(profile, None)
        if source is not None:
            found.setdefault(behaviour.id.slug, Requirement(behaviour.id.slug, behaviour.level_in(profile, None),
                                                            behaviour.title, source))
    for rule in (*profile.header_rules(), *profile.model_rules()):
        found.setdefault(rule.requirement.id, rule.requirement)
    for _target, rule in profile.rules():
        found.setdefault(rule.requirement.id, rule.requirement)
    for target in profile.model_endpoints():
        for param in target.params.values():
            for conflict in param.conflicts.values():
                found.setdefault(conflict.requirement.id, conflict.requirement)
    for rid, written in profile.requirements.items():
        derived = found.get(rid)
        title = written.title or (derived.title if derived else rid)
        found[rid] = Requirement(rid, written.level, title, written.source)
    return found
