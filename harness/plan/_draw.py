"""Small helpers of the plan: seeded Hypothesis draws, case labels, bodies with one field set."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from ..derive.strategies import keep_conditions
from ..rules.values import upload_bytes
from ..rules import kind
from ..spec import ModelEndpoint, Param

#: Uploads larger than this (bytes) are sent only with ``large_inputs``: they cost time and bandwidth on every run.
LARGE_UPLOAD = 8 * 1024 * 1024


def megabytes(size: int) -> str:
    """``size`` bytes in decimal megabytes, as upload limits are written (``3.9 MB``)."""
    return f"{size / 1_000_000:.1f} MB"


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
    """How a case id shows ``value`` of ``param``: itself when short, input images by count, format and size."""
    if param.type == "image":
        return _image_label(value)
    text = value if isinstance(value, str) and param.type == "string" else json.dumps(value)
    return text if len(text) <= 40 else f"{text[:24]}…({len(text)} chars)"


def _image_label(value: Any) -> str:
    if isinstance(value, list):
        return f"{len(value)} images" if len(value) != 1 else "1 image"
    decoded = value.split(",", 1)[0].removeprefix("data:").removesuffix(";base64") \
        if isinstance(value, str) and value.startswith("data:") else None
    if decoded is None:
        return json.dumps(value) if len(json.dumps(value)) <= 40 else f"{json.dumps(value)[:24]}…"
    size = upload_bytes(value)
    shown = megabytes(size) if size >= 100_000 else f"{size:,} bytes"
    return f"{decoded.removeprefix('image/') or 'a'} file of {shown}"


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
