"""``RuleKind`` and the registry that holds one declaration per kind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["KINDS", "RuleKind", "by_keyword", "custom_keywords", "dimension_kinds", "kind", "param_kinds", "register",
           "registry_key", "rule_title", "unregister"]


#: ``(property schema so far, param, rule) -> the property schema with this rule in it``.
SchemaHook = Callable[[dict[str, Any], Any, Any], dict[str, Any]]
#: ``(param, rule) -> a Hypothesis strategy of values of param that break exactly this rule``.
InvalidHook = Callable[[Any, Any], Any]
#: ``(param, rule) -> valid values exactly on the rule's limit`` (or the one value just beyond it, invalid).
ValuesHook = Callable[[Any, Any], list[Any]]
#: ``(param, rule, siblings) -> [(why, value)]``: values a router is likely to accept by mistake; ``siblings`` are
#: ``(model id, param)`` of the same parameter on the profile's other models.
NearMissHook = Callable[[Any, Any, list[tuple[str, Any]]], list[tuple[str, Any]]]
#: ``(rule value, width, cap) -> (lowest, highest) height in pixels that keeps the rule for that width``.
HeightsHook = Callable[[Any, int, int], tuple[int, int]]


def _keyword_schema(keyword: str) -> SchemaHook:
    return lambda schema, param, rule: {**schema, keyword: rule.value}


@dataclass(frozen=True)
class RuleKind:
    """One kind of documented rule, with everything the pipeline derives from it.

    Naming: ``key`` is the spec key (``max_edge``); ``slug`` ends its
    requirement ids (``gen.<model>.<param>.max-edge``; with ``value_in_slug``
    the value is appended: ``multiple-of-16``); ``title`` is the requirement
    title, a format string over ``{param}`` and ``{value}``; ``level`` the
    RFC 2119 level a rule gets when the profile names none.

    Grammar: ``place`` is where a profile writes it, ``param`` (under the
    parameter) or ``dimensions`` (under ``params.<p>.dimensions``: a rule on a
    ``WIDTHxHEIGHT`` size, in pixels); ``grammar`` is its meta-schema
    fragment (``None``: never written, e.g. ``type``, implied by the parameter).

    Schema (and so the reference router, which validates with it):
    ``keyword`` is the JSON Schema keyword that enforces it, so a validation
    error on it means this rule; ``schema`` adds the rule to the parameter's
    property schema (default ``{keyword: value}``); ``check`` is the predicate
    ``(instance, value) -> kept`` of a custom ``x-`` keyword.

    Cases: ``invalid`` draws values breaking exactly this rule; ``beyond`` is
    the boundary value one step past the limit; ``on_limit`` the valid values
    exactly on it; ``near_misses`` the values a router is likely to accept by
    mistake (a sibling model's value, the family's common values, another
    spelling), each labelled with why; ``drawn`` false sends one example instead of boundary and
    drawn cases (``required``, ``unsupported``); ``invalid_body`` replaces
    "the cheapest valid body with this value" (``required`` leaves the field out).

    Size geometry: ``heights`` gives, for a width, the heights that keep the
    rule; ``grid`` marks the step rule (``multiple_of``).
    """

    key: str
    slug: str
    title: str
    place: str = "param"
    value_in_slug: bool = False
    level: str = "MUST"
    grammar: dict[str, Any] | None = field(default_factory=lambda: {"$ref": "#/$defs/rule"})
    keyword: str | None = None
    schema: SchemaHook | None = None
    check: Callable[[Any, Any], bool] | None = None
    invalid: InvalidHook | None = None
    beyond: Callable[[Any, Any], Any] | None = None
    on_limit: ValuesHook | None = None
    near_misses: NearMissHook | None = None
    drawn: bool = True
    invalid_body: Callable[[dict[str, Any], Any, Any], Any] | None = None
    heights: HeightsHook | None = None
    grid: bool = False

    def __post_init__(self) -> None:
        if self.keyword is None:
            object.__setattr__(self, "keyword", f"x-{self.key.replace('_', '-')}")
        if self.schema is None:
            object.__setattr__(self, "schema", _keyword_schema(self.keyword))  # type: ignore[arg-type]

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
    taken = {k.keyword: k.key for k in KINDS.values()}
    if rule_kind.keyword in taken:
        raise ValueError(f"rule kind {rule_kind.key!r}: keyword {rule_kind.keyword!r} already means {taken[rule_kind.keyword]!r}")
    if rule_kind.invalid is None and rule_kind.invalid_body is None:
        raise ValueError(f"rule kind {rule_kind.key!r} needs an invalid (or invalid_body) strategy: "
                         "a rule no case can break cannot be tested")
    KINDS[rule_kind.key] = rule_kind
    return rule_kind


def unregister(key: str) -> None:
    """Remove the kind ``key`` (for kinds a test or plugin registered); caches keyed on :func:`registry_key` follow."""
    KINDS.pop(key, None)


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


def by_keyword() -> dict[str, str]:
    """JSON Schema keyword -> the kind key an error on it means."""
    return {k.keyword: k.key for k in KINDS.values()}  # type: ignore[misc]


def custom_keywords() -> dict[str, Callable[[Any, Any], bool]]:
    """The ``x-`` keywords of the registered kinds and their predicates ``(instance, value) -> kept``."""
    return {k.keyword: k.check for k in KINDS.values() if k.check is not None}  # type: ignore[misc]


def registry_key() -> tuple[str, ...]:
    """What identifies the registry's contents, for caches of anything derived from it."""
    return tuple(KINDS)


def rule_title(key: str, param: str, value: Any) -> str:
    """The requirement title of a ``key`` rule on ``param`` with ``value`` (large integers with thousands separators)."""
    shown = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) and value >= 10_000 else value
    return kind(key).title.format(param=param, value=shown)
