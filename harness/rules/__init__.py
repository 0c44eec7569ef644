"""The rule-kind registry: every kind of documented rule, declared once.

A rule kind (``enum``, ``max_edge``, ``multiple_of``, ...) is what a profile
writes under a parameter, what a requirement id ends in, what the request
schema enforces (and so what the reference router rejects), what an invalid
case breaks and where a boundary case sits. Each kind is one
:class:`RuleKind` in ``KINDS`` (the standard ones are in ``_kinds``); the
meta-schema, the spec builder, schema and strategy derivation and the planner
all iterate over this registry, so a new kind is one ``register`` call.
"""

from __future__ import annotations

from . import _kinds  # noqa: F401  (registers the standard kinds)
from ._registry import (
    KINDS,
    RuleKind,
    by_keyword,
    custom_keywords,
    dimension_kinds,
    kind,
    param_kinds,
    register,
    registry_key,
    rule_title,
    unregister,
)

__all__ = ["KINDS", "RuleKind", "by_keyword", "custom_keywords", "dimension_kinds", "kind", "param_kinds", "register",
           "registry_key", "rule_title", "unregister"]
