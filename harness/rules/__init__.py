"""The rule-kind registry: every kind of documented rule, declared once.

A rule kind (``enum``, ``max_edge``, ``multiple_of``, ...) is what a profile
writes under a parameter, what a requirement id ends in, what the request
schema enforces and what an invalid case breaks. Each kind is one
:class:`RuleKind` in ``KINDS``; the spec builder, the meta-schema, the schema
and strategy derivation and the planner all iterate over this registry, so a
new kind is one declaration (see ``register``).
"""

from __future__ import annotations

from . import _kinds  # noqa: F401  (registers the standard kinds)
from ._registry import KINDS, RuleKind, dimension_kinds, kind, param_kinds, register, rule_title

__all__ = ["KINDS", "RuleKind", "dimension_kinds", "kind", "param_kinds", "register", "rule_title"]
