"""Profile -> Hypothesis strategies for valid requests and for requests that break one rule.

Values are constructed, never filtered into shape: ``size`` strategies walk the
exact region each dimension rule leaves open (for each width, the heights that
keep every other rule form an interval), so "breaks exactly max_ratio" is drawn
directly instead of being rejection-sampled out of random sizes. One small
function per rule kind sits behind the ``_INVALID`` dispatch table.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from hypothesis import strategies as st
from PIL import Image, ImageDraw

from ..rules.size import DIMENSION_CHECKS
from ..spec import Condition, ModelEndpoint, Param, Rule

__all__ = [
    "BENIGN_PROMPTS",
    "cheapest_body",
    "cheapest_size",
    "input_image_data_uri",
    "input_mask_data_uri",
    "keep_conditions",
    "invalid_body",
    "invalid_value",
    "size_segments",
    "valid_body",
    "valid_value",
]

#: Short, meaningful, moderation-safe prompts: random text proves nothing and
#: can trip a real router's filters or be refused as empty.
BENIGN_PROMPTS = (
    "a red circle on a white background",
    "a small clean five-point star icon, centered on a white background",
    "a blue square next to a green triangle, flat illustration",
    "a yellow lemon on a wooden table, simple still life",
    "a paper boat on calm water, minimalist",
)

_Segment = tuple[int, int, int, int]  # (width, first height, last height, height step)


# ------------------------------------------------------------------ size geometry


def _h_interval(kind: str, value: Any, w: int, cap: int) -> tuple[int, int]:
    """Heights (inclusive, in pixels) that keep rule ``kind`` for width ``w``; empty when lo > hi."""
    if kind == "max_edge":
        return (1, value) if w <= value else (1, 0)
    if kind == "max_ratio":
        return math.ceil(w / value), w * value
    if kind == "min_pixels":
        return math.ceil(value / w), cap
    if kind == "max_pixels":
        return 1, value // w
    raise ValueError(f"no interval form for dimension rule {kind!r}")


def _first_multiple(lo: int, step: int) -> int:
    return -(-lo // step) * step


@lru_cache(maxsize=256)
def size_segments(rules: tuple[tuple[str, Any], ...], breaking: str | None) -> tuple[_Segment, ...]:
    """Every ``(w, h_lo, h_hi, step)`` run of sizes that keeps all ``rules`` but ``breaking``.

    ``breaking=None`` gives the valid region; otherwise the region breaking
    exactly that rule (and only it). Sizes are in pixels; ``rules`` is a tuple
    of ``(kind, value)`` without ``allowed``.
    """
    table = dict(rules)
    step = table.get("multiple_of", 1)
    edge = table.get("max_edge", 4096)
    cap = 2 * edge
    off_grid = breaking == "multiple_of"
    widths = range(1, cap + 1) if off_grid else range(step, cap + 1, step)
    interval_rules = [(k, v) for k, v in table.items() if k != "multiple_of"]
    segments: list[_Segment] = []
    for w in widths:
        keep = [_h_interval(k, v, w, cap) for k, v in interval_rules if k != breaking]
        lo = max([1, *(a for a, _ in keep)])
        hi = min([cap, *(b for _, b in keep)])
        if lo > hi:
            continue
        if breaking is None or breaking == "multiple_of":
            if off_grid and w % step == 0:
                # width on the grid: the height must be off it; split around multiples
                segments.extend(_off_grid_runs(w, lo, hi, step))
            else:
                first = lo if off_grid else _first_multiple(lo, step)
                if first <= hi:
                    segments.append((w, first, hi, 1 if off_grid else step))
            continue
        a, b = _h_interval(breaking, table[breaking], w, cap)
        for run_lo, run_hi in ((lo, min(hi, a - 1)), (max(lo, b + 1), hi)):
            first = _first_multiple(run_lo, step)
            if first <= run_hi:
                segments.append((w, first, run_hi, step))
    # every segment ends on its own grid, so (w, last) is itself a member
    return tuple((w, lo, lo + (hi - lo) // step * step, step) for w, lo, hi, step in segments)


def _off_grid_runs(w: int, lo: int, hi: int, step: int) -> list[_Segment]:
    runs: list[_Segment] = []
    start = lo
    while start <= hi:
        if start % step == 0:
            start += 1
            continue
        end = min(hi, (start // step + 1) * step - 1)
        runs.append((w, start, end, 1))
        start = end + 1
    return runs


def _size_from_segments(segments: tuple[_Segment, ...]) -> st.SearchStrategy[str]:
    def pick(segment: _Segment) -> st.SearchStrategy[str]:
        w, lo, hi, step = segment
        return st.integers(0, (hi - lo) // step).map(lambda k: f"{w}x{lo + k * step}")

    return st.sampled_from(segments).flatmap(pick)


def _geometry(param: Param) -> tuple[tuple[str, Any], ...]:
    return tuple((k, r.value) for k, r in param.dimension_rules.items() if k != "allowed")


def cheapest_size(param: Param) -> str:
    """The valid ``WIDTHxHEIGHT`` with the fewest pixels (ties: squarest, then smallest width)."""
    allowed = param.rule_value("allowed")
    if allowed:
        def area(s: str) -> tuple[int, int]:
            w, h = (int(x) for x in s.split("x"))
            return w * h, abs(w - h)
        return min(allowed, key=area)
    best = min(
        ((w * lo, abs(w - lo), w, lo) for w, lo, _hi, _step in size_segments(_geometry(param), None)),
        default=None,
    )
    if best is None:
        raise ValueError(f"the size rules of {param.name!r} leave no valid size")
    return f"{best[2]}x{best[3]}"


# ------------------------------------------------------------------ input images


@lru_cache(maxsize=1)
def input_image_data_uri() -> str:
    """A small real PNG (256 x 256 pixels, opaque) as a ``data:image/png;base64,`` URI.

    The input of edit cases: a data URI travels in JSON and, decoded, as a
    multipart file upload, so the same case works in both encodings.
    """
    image = Image.new("RGB", (256, 256), (255, 255, 255))
    ImageDraw.Draw(image).rectangle((64, 64, 192, 192), fill=(40, 120, 220))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@lru_cache(maxsize=1)
def input_mask_data_uri() -> str:
    """A PNG mask for :func:`input_image_data_uri` (256 x 256 pixels, RGBA): its centre is fully
    transparent, the area to edit (OpenAI: "fully transparent areas ... indicate where `image` should be edited")."""
    mask = Image.new("RGBA", (256, 256), (0, 0, 0, 255))
    ImageDraw.Draw(mask).rectangle((64, 64, 192, 192), fill=(0, 0, 0, 0))
    out = io.BytesIO()
    mask.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


# ------------------------------------------------------------------ valid values


def _present_value(param: Param) -> Any:
    """One valid value of ``param``, the cheapest documented one when there is one."""
    if param.cheapest is not None:
        return param.cheapest
    if param.type == "image":
        return input_image_data_uri()
    if param.choices:
        return param.choices[0]
    if param.dimension_rules:
        return cheapest_size(param)
    if param.type == "integer":
        low, high = param.rule_value("minimum", 1), param.rule_value("maximum", 10)
        return (low + high) // 2
    if param.default is not None:
        return param.default
    return {"string": "conformance", "number": 1, "boolean": False, "object": {}, "array": []}[param.type]


def valid_value(param: Param) -> st.SearchStrategy[Any]:
    """Any value of ``param`` that keeps every one of its rules."""
    if param.name == "prompt":
        return st.sampled_from(BENIGN_PROMPTS)
    if param.type == "image":
        limit = param.rule_value("max_items", 2)
        one = input_image_data_uri()
        return st.one_of(st.just(one), st.integers(1, min(2, limit)).map(lambda k: [one] * k))
    if param.dimension_rules and not param.choices:
        allowed = param.rule_value("allowed")
        if allowed:
            return st.sampled_from(list(allowed) + list(param.keywords))
        return _size_from_segments(size_segments(_geometry(param), None))
    if param.choices:
        return st.sampled_from(list(param.choices))
    if param.type == "integer":
        return st.integers(param.rule_value("minimum", 1), param.rule_value("maximum", 10))
    if param.type == "boolean":
        return st.booleans()
    if param.default is not None:
        return st.just(param.default)
    if param.type in ("object", "array", "number"):
        return st.just(_present_value(param))
    return st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)


def keep_conditions(op: ModelEndpoint, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` changed as little as needed so that it keeps every condition of ``op``.

    A triggered condition is kept by moving each ``then`` parameter into its
    allowed values (or removing it); when that is impossible the optional
    parameters that trigger it are dropped instead.
    """
    body = dict(body)
    for _ in range(len(op.conditions) + 1):
        broken = [rule for rule in op.conditions if not op.keeps(rule.value, body)]
        if not broken:
            return body
        condition: Condition = broken[0].value
        fixed = True
        for name, allowed in condition.then.items():
            param = op.params[name]
            if allowed is None:
                if param.required:
                    fixed = False
                body.pop(name, None)
                continue
            options = [v for v in allowed if not param.choices or v in param.choices]
            # prefer a value every other condition on this parameter also keeps (png+transparent vs jpeg+compression)
            options.sort(key=lambda v: not all(op.keeps(r.value, {**body, name: v}) for r in op.conditions))
            if options:
                body[name] = options[0]
            else:
                fixed = False
        if not fixed:
            for name in condition.when:
                if not op.params[name].required:
                    body.pop(name, None)
    return body


def cheapest_body(op: ModelEndpoint) -> dict[str, Any]:
    """The least expensive valid body: required fields, one image, cheapest quality and size."""
    body: dict[str, Any] = {"model": op.model}
    for name, param in op.params.items():
        if name == "prompt":
            body[name] = BENIGN_PROMPTS[0]
        elif name == "n":
            body[name] = 1
        elif param.cheapest is not None:
            body[name] = param.cheapest
        elif param.dimension_rules:
            body[name] = cheapest_size(param)
        elif param.required:
            body[name] = _present_value(param)
    return keep_conditions(op, body)


def valid_body(op: ModelEndpoint) -> st.SearchStrategy[dict[str, Any]]:
    """Any body ``op`` accepts: required params always, each optional one present or not.

    ``n`` is kept at 1 or 2 so a drawn case costs at most two images;
    parameters marked ``exercise: false`` are never sent; the draw is then
    moved into every condition's allowed region (by construction, no filter).
    """
    required = {"model": st.just(op.model)}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for name, param in op.params.items():
        if (not param.exercise or "unsupported" in param.rules) and not param.required:
            continue
        strategy = st.integers(1, min(2, param.rule_value("maximum", 2))) if name == "n" else valid_value(param)
        (required if param.required else optional)[name] = strategy
    return st.fixed_dictionaries(required, optional=optional).map(lambda body: keep_conditions(op, body))


# ------------------------------------------------------------------ invalid values, one per rule kind

_WRONG_ENUM_WORDS = ("gif", "bmp", "tiff", "ultra", "best", "svg", "maximum", "none-such")
_MALFORMED_SIZES = ("1024", "1024x", "x1024", "1024*1024", "1024 x 1024", "1024X1024", "-1024x1024", "big", "1024x1024x1", "0x0")


def _wrong_type(param: Param) -> st.SearchStrategy[Any]:
    wrong = {
        "string": st.one_of(st.integers(1, 4096), st.just(["a"]), st.just({"v": 1})),
        "integer": st.one_of(st.sampled_from(["1", "two"]), st.just(1.5), st.just([1])),
        "number": st.sampled_from(["1", "x"]),
        "boolean": st.sampled_from(["yes", 3]),
        "object": st.sampled_from(["x", 1]),
        "array": st.sampled_from(["x", 1]),
        "image": st.one_of(st.integers(1, 4096), st.just({"url": 1})),
    }
    return wrong[param.type]


def _not_in_enum(param: Param) -> st.SearchStrategy[Any]:
    allowed = list(param.rules["enum"].value)
    if param.type == "boolean":
        return st.sampled_from([v for v in (True, False) if v not in allowed])
    if param.type == "integer":
        return st.integers(-5, 200).filter(lambda v: v not in allowed)
    return st.sampled_from([w for w in _WRONG_ENUM_WORDS if w not in allowed])


def _below(param: Param) -> st.SearchStrategy[Any]:
    low = param.rules["minimum"].value
    return st.integers(low - 100, low - 1)


def _above(param: Param) -> st.SearchStrategy[Any]:
    high = param.rules["maximum"].value
    return st.integers(high + 1, high + 100)


def _too_long(param: Param) -> st.SearchStrategy[Any]:
    limit = param.rules["max_length"].value
    base = BENIGN_PROMPTS[0] + ". "
    return st.integers(1, 64).map(lambda extra: (base * (limit // len(base) + 2))[: limit + extra])


def _too_many(param: Param) -> st.SearchStrategy[Any]:
    limit = param.rules["max_items"].value
    return st.integers(limit + 1, limit + 2).map(lambda k: [input_image_data_uri()] * k)


def _unsupported(param: Param) -> st.SearchStrategy[Any]:
    return st.just(_present_value(param))


def _malformed(param: Param) -> st.SearchStrategy[Any]:
    return st.sampled_from([s for s in _MALFORMED_SIZES if s not in param.keywords])


def _not_allowed(param: Param) -> st.SearchStrategy[Any]:
    allowed = set(param.rules["allowed"].value)
    near = ["512x512", "256x256", "1792x1024", "1024x1792", "2048x2048", "1536x1536", "1024x768", "1280x720"]
    return st.sampled_from([s for s in near if s not in allowed])


def _breaks_dimension(kind: str) -> Callable[[Param], st.SearchStrategy[Any]]:
    def strategy(param: Param) -> st.SearchStrategy[Any]:
        segments = size_segments(_geometry(param), kind)
        if not segments:
            return st.nothing()
        return _size_from_segments(segments)

    return strategy


_INVALID: dict[str, Callable[[Param], st.SearchStrategy[Any]]] = {
    "type": _wrong_type,
    "enum": _not_in_enum,
    "minimum": _below,
    "maximum": _above,
    "max_length": _too_long,
    "max_items": _too_many,
    "unsupported": _unsupported,
    "format": _malformed,
    "allowed": _not_allowed,
    **{kind: _breaks_dimension(kind) for kind in DIMENSION_CHECKS if kind != "allowed"},
}


def invalid_value(param: Param, rule: Rule) -> st.SearchStrategy[Any]:
    """Values of ``param`` that break ``rule`` and keep its other rules (``required`` has none)."""
    try:
        return _INVALID[rule.kind](param)
    except KeyError:
        raise ValueError(f"no invalid-value strategy for rule kind {rule.kind!r}") from None


def _breaks_condition(op: ModelEndpoint, rule: Rule) -> st.SearchStrategy[dict[str, Any]]:
    """Bodies that trigger ``rule``'s condition and then break its first ``then`` parameter."""
    condition: Condition = rule.value
    body = cheapest_body(op)
    for name, values in condition.when.items():
        body[name] = values[0] if values is not None else _present_value(op.params[name])
    name, allowed = next(iter(condition.then.items()))
    param = op.params[name]
    if allowed is None:
        return st.just({**body, name: _present_value(param)})
    outside = [v for v in param.choices if v not in allowed]
    if not outside:
        return st.nothing()
    return st.sampled_from(outside).map(lambda value: {**body, name: value})


def invalid_body(op: ModelEndpoint, rule: Rule) -> st.SearchStrategy[dict[str, Any]]:
    """The cheapest valid body of ``op`` with exactly ``rule`` broken."""
    if rule.kind == "condition":
        return _breaks_condition(op, rule)
    base = cheapest_body(op)
    if rule.kind == "required":
        return st.just({k: v for k, v in base.items() if k != rule.param})
    param = op.params[rule.param]
    return invalid_value(param, rule).map(lambda value: keep_conditions(op, {**base, rule.param: value}) | {rule.param: value})
