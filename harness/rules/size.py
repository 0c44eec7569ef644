"""The geometry of ``WIDTHxHEIGHT`` sizes, shared by every dimension rule kind (units: pixels).

A dimension kind (``max_edge``, ``max_ratio``, ...) declares, for a width
``w``, the interval of heights that keep it (``RuleKind.heights``), or that it
is a grid (``multiple_of``). From those declarations alone this module walks
the exact region a set of rules leaves open, or the region that breaks
exactly one of them, so strategies draw "breaks exactly max_ratio" directly
instead of rejection-sampling random sizes.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from hypothesis import strategies as st

from ._registry import kind

__all__ = ["SIZE_PATTERN", "Segment", "cheapest_size", "geometry", "parse_size", "region_points", "size_segments", "sizes"]

#: ``WIDTHxHEIGHT`` with positive decimal integers and no leading zeros.
SIZE_PATTERN = r"[1-9][0-9]{0,5}x[1-9][0-9]{0,5}"
_SIZE_RE = re.compile(rf"^{SIZE_PATTERN}$")

#: ``(width, first height, last height, height step)``, pixels: one run of sizes.
Segment = tuple[int, int, int, int]


def parse_size(value: Any) -> tuple[int, int] | None:
    """``"1024x768"`` -> ``(1024, 768)`` (width, height in pixels); anything else -> ``None``."""
    if not isinstance(value, str) or not _SIZE_RE.match(value):
        return None
    width, height = value.split("x")
    return int(width), int(height)


def geometry(param: Any) -> tuple[tuple[str, Any], ...]:
    """``(kind key, value)`` of the dimension rules of ``param`` that have a geometry (not ``allowed``)."""
    return tuple((k, r.value) for k, r in param.dimension_rules.items()
                 if kind(k).heights is not None or kind(k).grid)


def _first_multiple(lo: int, step: int) -> int:
    return -(-lo // step) * step


@lru_cache(maxsize=256)
def size_segments(rules: tuple[tuple[str, Any], ...], breaking: str | None) -> tuple[Segment, ...]:
    """Every ``(w, h_lo, h_hi, step)`` run of sizes that keeps all ``rules`` but ``breaking``.

    ``breaking=None`` gives the valid region; otherwise the region breaking
    exactly that rule (and only it). Sizes are in pixels; ``rules`` is
    :func:`geometry` of a parameter. Widths run up to twice the largest edge
    (``max_edge``, else 4096).
    """
    table = dict(rules)
    grid_key = next((k for k in table if kind(k).grid), None)
    step = table[grid_key] if grid_key else 1
    edge = table.get("max_edge", 4096)
    cap = 2 * edge
    off_grid = breaking is not None and breaking == grid_key
    widths = range(1, cap + 1) if off_grid else range(step, cap + 1, step)
    interval_rules = [(kind(k).heights, v, k) for k, v in table.items() if k != grid_key]
    segments: list[Segment] = []
    for w in widths:
        keep = [heights(v, w, cap) for heights, v, k in interval_rules if k != breaking]  # type: ignore[misc]
        lo = max([1, *(a for a, _ in keep)])
        hi = min([cap, *(b for _, b in keep)])
        if lo > hi:
            continue
        if breaking is None or off_grid:
            if off_grid and w % step == 0:
                # width on the grid: the height must be off it; split around multiples
                segments.extend(_off_grid_runs(w, lo, hi, step))
            else:
                first = lo if off_grid else _first_multiple(lo, step)
                if first <= hi:
                    segments.append((w, first, hi, 1 if off_grid else step))
            continue
        a, b = kind(breaking).heights(table[breaking], w, cap)  # type: ignore[misc]
        for run_lo, run_hi in ((lo, min(hi, a - 1)), (max(lo, b + 1), hi)):
            first = _first_multiple(run_lo, step)
            if first <= run_hi:
                segments.append((w, first, run_hi, step))
    # every segment ends on its own grid, so (w, last) is itself a member
    return tuple((w, lo, lo + (hi - lo) // step * step, step) for w, lo, hi, step in segments)


def _off_grid_runs(w: int, lo: int, hi: int, step: int) -> list[Segment]:
    runs: list[Segment] = []
    start = lo
    while start <= hi:
        if start % step == 0:
            start += 1
            continue
        end = min(hi, (start // step + 1) * step - 1)
        runs.append((w, start, end, 1))
        start = end + 1
    return runs


def sizes(segments: tuple[Segment, ...]) -> st.SearchStrategy[str]:
    """A strategy of any ``WIDTHxHEIGHT`` in ``segments``: a run, then a step along it."""
    def pick(segment: Segment) -> st.SearchStrategy[str]:
        w, lo, hi, step = segment
        return st.integers(0, (hi - lo) // step).map(lambda k: f"{w}x{lo + k * step}")

    return st.sampled_from(segments).flatmap(pick)


def region_points(param: Any, breaking: str | None) -> list[tuple[int, int]]:
    """The first and last size of every run of :func:`size_segments` (the region's edges), as ``(w, h)``."""
    points: list[tuple[int, int]] = []
    for w, lo, hi, _step in size_segments(geometry(param), breaking):
        points += [(w, lo), (w, hi)]
    return points


def cheapest_size(param: Any) -> str:
    """The valid ``WIDTHxHEIGHT`` of ``param`` with the fewest pixels (ties: squarest, then smallest width).

    Raises ``ValueError`` when its rules leave no valid size.
    """
    allowed = param.rule_value("allowed")
    if allowed:
        def area(s: str) -> tuple[int, int]:
            w, h = (int(x) for x in s.split("x"))
            return w * h, abs(w - h)
        return min(allowed, key=area)
    best = min(((w * lo, abs(w - lo), w, lo) for w, lo, _hi, _step in size_segments(geometry(param), None)),
               default=None)
    if best is None:
        raise ValueError(f"the size rules of {param.name!r} leave no valid size")
    return f"{best[2]}x{best[3]}"
