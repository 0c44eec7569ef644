"""``RuleKind`` and the registry that holds one declaration per kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["KINDS", "RuleKind", "dimension_kinds", "kind", "param_kinds", "register", "rule_title"]


@dataclass(frozen=True)
class RuleKind:
    """One kind of documented rule.

    ``key`` is the spec key (``max_edge``); ``slug`` ends its requirement ids
    (``gen.<model>.<param>.max-edge``; with ``value_in_slug`` the value is
    appended: ``multiple-of-16``); ``title`` is the requirement title, a
    format string over ``{param}`` and ``{value}``. ``place`` is where a
    profile writes it: ``param`` (under the parameter) or ``dimensions``
    (under ``params.<p>.dimensions``: a rule on a ``WIDTHxHEIGHT`` size, in pixels).
    """

    key: str
    slug: str
    title: str
    place: str = "param"
    value_in_slug: bool = False

    def requirement_slug(self, value: Any) -> str:
        """The id slug of a rule of this kind with ``value`` (``multiple-of-16``)."""
        return f"{self.slug}-{value}" if self.value_in_slug else self.slug


#: Spec key -> kind, in registration order (the order rules are built and reported).
KINDS: dict[str, RuleKind] = {}


def register(rule_kind: RuleKind) -> RuleKind:
    """Add ``rule_kind`` to the registry and return it; ``ValueError`` if its key is taken."""
    if rule_kind.key in KINDS:
        raise ValueError(f"rule kind {rule_kind.key!r} is already registered")
    if rule_kind.place not in ("param", "dimensions"):
        raise ValueError(f"rule kind {rule_kind.key!r}: place must be 'param' or 'dimensions'")
    KINDS[rule_kind.key] = rule_kind
    return rule_kind


def kind(key: str) -> RuleKind:
    """The kind registered as ``key``; ``KeyError`` names the known ones."""
    try:
        return KINDS[key]
    except KeyError:
        raise KeyError(f"unknown rule kind {key!r}; known: {', '.join(KINDS)}") from None


def param_kinds() -> list[RuleKind]:
    """Kinds written directly under a parameter, in registration order."""
    return [k for k in KINDS.values() if k.place == "param"]


def dimension_kinds() -> list[RuleKind]:
    """Kinds written under ``dimensions:`` (rules on a size's width and height, in pixels)."""
    return [k for k in KINDS.values() if k.place == "dimensions"]


def rule_title(key: str, param: str, value: Any) -> str:
    """The requirement title of a ``key`` rule on ``param`` with ``value`` (large integers with thousands separators)."""
    shown = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) and value >= 10_000 else value
    return kind(key).title.format(param=param, value=shown)
