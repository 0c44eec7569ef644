"""Small helpers of the plan: seeded Hypothesis draws, case labels, bodies with one field set."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from ..derive.strategies import keep_conditions
from ..rules import kind
from ..spec import ModelEndpoint, Param

def draw(strategy: st.SearchStrategy[Any], count: int, seed: int) -> list[Any]:
    """``count`` examples of ``strategy``, the same ones for the same ``seed``.

    An empty strategy gives no examples: a rule that other rules already
    imply (``max_pixels`` 2048x2048 under ``max_edge`` 2048) cannot be broken
    on its own, so no case can test it alone and its requirement stays skipped.
    """
    drawn: list[Any] = []
    if strategy.is_empty:
        return drawn

    @hypothesis_seed(seed)
    @settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate],
        deadline=None,
    )
    @given(strategy)
    def collect(value: Any) -> None:
        if len(drawn) < count and value not in drawn:
            drawn.append(value)

    collect()
    return drawn


def label_of(value: Any, param: Param) -> str:
    text = value if isinstance(value, str) and param.type == "string" else json.dumps(value)
    return text if len(text) <= 40 else f"{text[:24]}…({len(text)} chars)"


def with_value(op: ModelEndpoint, base: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    """``base`` with ``name`` set to ``value``, the other parameters moved into every condition ``value`` triggers
    (an ``output_compression`` gets its jpeg), so the body breaks no rule but the one ``value`` may break."""
    return keep_conditions(op, {**base, name: value}) | {name: value}


def on_limit_values(param: Param) -> list[tuple[str, Any]]:
    """``(rule kind, valid value exactly on its limit)`` for every rule of ``param`` whose kind has limits."""
    found = []
    for key, rule in param.rules.items():
        on_limit = kind(key).on_limit
        found += [(key, value) for value in (on_limit(param, rule) if on_limit else ())]
    return found


def contested(op: ModelEndpoint, body: dict[str, Any]) -> bool:
    """Whether ``body`` sends a value another document contradicts (its case judges nothing at MUST)."""
    return any(name in op.params and value in op.params[name].conflicts for name, value in body.items()
               if isinstance(value, (str, int, float, bool)))


# ------------------------------------------------------------------ the plan
