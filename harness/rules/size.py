"""The arithmetic of ``size`` rules, shared by schema validation and strategies.

One small predicate per rule kind behind a dispatch table, so that the JSON
Schema keywords, the Hypothesis strategies and the reference router all agree
on what "a multiple of 16" or "ratio at most 3:1" means. Units are pixels.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["SIZE_PATTERN", "DIMENSION_CHECKS", "parse_size"]

#: ``WIDTHxHEIGHT`` with positive decimal integers and no leading zeros.
SIZE_PATTERN = r"[1-9][0-9]{0,5}x[1-9][0-9]{0,5}"
_SIZE_RE = re.compile(rf"^{SIZE_PATTERN}$")


def parse_size(value: Any) -> tuple[int, int] | None:
    """``"1024x768"`` -> ``(1024, 768)`` (width, height in pixels); anything else -> ``None``."""
    if not isinstance(value, str) or not _SIZE_RE.match(value):
        return None
    width, height = value.split("x")
    return int(width), int(height)


def _allowed(w: int, h: int, allowed: Any) -> bool:
    return f"{w}x{h}" in allowed


def _max_edge(w: int, h: int, limit: Any) -> bool:
    return max(w, h) <= limit


def _multiple_of(w: int, h: int, step: Any) -> bool:
    return w % step == 0 and h % step == 0


def _max_ratio(w: int, h: int, ratio: Any) -> bool:
    # Integer arithmetic: long <= ratio * short, exact at the 3:1 boundary.
    return max(w, h) <= ratio * min(w, h)


def _min_pixels(w: int, h: int, limit: Any) -> bool:
    return w * h >= limit


def _max_pixels(w: int, h: int, limit: Any) -> bool:
    return w * h <= limit


#: Rule kind -> predicate ``(width, height, rule value) -> bool`` (True: the size keeps the rule).
DIMENSION_CHECKS: dict[str, Callable[[int, int, Any], bool]] = {
    "allowed": _allowed,
    "max_edge": _max_edge,
    "multiple_of": _multiple_of,
    "max_ratio": _max_ratio,
    "min_pixels": _min_pixels,
    "max_pixels": _max_pixels,
}
