"""The rule kinds every profile may use, each declared once with all its hooks.

Reading order: a kind's name and title, then what it adds to the request
schema, then the values that break it (for invalid cases) and the values on
its limit (for boundary cases). Sizes are in pixels.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st
from PIL import Image, UnidentifiedImageError

from ._registry import RuleKind, register
from .size import SIZE_PATTERN, geometry, parse_size, region_points, size_segments, sizes
from .values import (
    BENIGN_PROMPTS,
    FAMILY_VALUES,
    case_variants,
    decode_data_uri,
    image_data_uri,
    input_image_data_uri,
    present_value,
)

__all__: list[str] = []

# ------------------------------------------------------------------ values that break one rule

_WRONG_ENUM_WORDS = ("gif", "bmp", "tiff", "ultra", "best", "svg", "maximum", "none-such")
_MALFORMED_SIZES = ("1024", "1024x", "x1024", "1024*1024", "1024 x 1024", "1024X1024", "-1024x1024", "big",
                    "1024x1024x1", "0x0")
_NEAR_SIZES = ("512x512", "256x256", "1792x1024", "1024x1792", "2048x2048", "1536x1536", "1024x768", "1280x720")


def _wrong_type(param: Any, rule: Any) -> st.SearchStrategy[Any]:
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


def _not_in_enum(param: Any, rule: Any) -> st.SearchStrategy[Any]:
    allowed = list(rule.value)
    if param.type == "boolean":
        return st.sampled_from([v for v in (True, False) if v not in allowed])
    if param.type == "integer":
        return st.integers(-5, 200).filter(lambda v: v not in allowed)
    return st.sampled_from([w for w in _WRONG_ENUM_WORDS if w not in allowed])


def _of_length(length: int) -> str:
    """A benign text of exactly ``length`` characters (the first prompt, repeated)."""
    base = BENIGN_PROMPTS[0] + ". "
    return (base * (length // len(base) + 2))[:length]


def _too_long(param: Any, rule: Any) -> st.SearchStrategy[Any]:
    return st.integers(1, 64).map(lambda extra: _of_length(rule.value + extra))


def _too_many(param: Any, rule: Any) -> st.SearchStrategy[Any]:
    return st.integers(rule.value + 1, rule.value + 2).map(lambda k: [input_image_data_uri()] * k)


def _breaks_dimension(param: Any, rule: Any) -> st.SearchStrategy[Any]:
    segments = size_segments(geometry(param), rule.kind)
    return sizes(segments) if segments else st.nothing()


def _outside(documented: Any, param: Any, siblings: list[tuple[str, Any]], *, spellings: bool
              ) -> list[tuple[str, Any]]:
    """Near misses of a closed list ``documented``: each sibling model's values, then the family's common values,
    then other spellings of the documented values (``spellings``), each value once and none of them documented."""
    allowed = list(documented)
    found: list[tuple[str, Any]] = []
    for model, sibling in siblings:
        values = sibling.rule_value("allowed") if param.dimension_rules else sibling.choices
        found += [(f"documented for {model}", v) for v in values or ()]
    found += [("a common value of the family", v) for v in FAMILY_VALUES.get(param.name, ())]
    if spellings:
        found += [("another spelling", v) for value in allowed if isinstance(value, str) for v in case_variants(value)]
    seen: list[Any] = []
    near = []
    for why, value in found:
        if value not in allowed and value not in seen and isinstance(value, type(allowed[0])):
            seen.append(value)
            near.append((why, value))
    return near


def _without(base: dict[str, Any], param: Any, rule: Any) -> st.SearchStrategy[dict[str, Any]]:
    return st.just({k: v for k, v in base.items() if k != param.name})


# ------------------------------------------------------------------ size rules: schema and limits


def _dimension_check(keeps: Callable[[int, int, Any], bool]) -> Callable[[Any, Any], bool]:
    """A size predicate as an ``x-`` keyword check: a value that is not ``WIDTHxHEIGHT`` is the ``format`` rule's."""
    def check(instance: Any, value: Any) -> bool:
        size = parse_size(instance)
        return size is None or keeps(size[0], size[1], value)

    return check


def _pattern(schema: dict[str, Any], param: Any, rule: Any) -> dict[str, Any]:

    alternatives = "|".join(sorted(param.keywords))
    return {**schema, "pattern": f"^({alternatives}|{SIZE_PATTERN})$" if alternatives else f"^{SIZE_PATTERN}$"}


def _on_limit(key: Callable[[tuple[int, int]], Any]) -> Callable[[Any, Any], list[str]]:
    """The valid size that sits exactly on the limit: the region's edge point ``key`` ranks first."""
    def values(param: Any, rule: Any) -> list[str]:
        w, h = min(region_points(param, None), key=key)
        return [f"{w}x{h}"]

    return values


def _beyond(key: Callable[[tuple[int, int]], Any]) -> Callable[[Any, Any], str | None]:
    """The invalid size one step beyond the limit: the edge point ``key`` ranks first among those breaking only it."""
    def value(param: Any, rule: Any) -> str | None:
        points = region_points(param, rule.kind)
        if not points:
            return None
        w, h = min(points, key=key)
        return f"{w}x{h}"

    return value


def _off_grid(param: Any, rule: Any) -> str | None:
    """Half a step off the grid next to a valid 1024 (1024x1032 for 16 px), the likeliest near miss."""
    step = rule.value
    if step > 1:
        return f"1024x{1024 + step // 2}"
    return _beyond(lambda wh: (abs(wh[0] - 1024) + abs(wh[1] - 1024), wh))(param, rule)


def _area(wh: tuple[int, int]) -> int:
    return wh[0] * wh[1]


def _skew(wh: tuple[int, int]) -> int:
    return abs(wh[0] - wh[1])


# ------------------------------------------------------------------ input images: format, shape, file size


def _input_files(instance: Any) -> list[bytes]:
    """The bytes of every data-URI input image in ``instance`` (a string or a list); URLs are not fetched here."""
    values = instance if isinstance(instance, list) else [instance]
    return [decoded[0] for decoded in map(decode_data_uri, values) if decoded is not None]


def _sniff(raw: bytes) -> tuple[str | None, tuple[int, int] | None]:
    """``(Pillow format in lower case, (width, height) in pixels)`` of an image file; ``(None, None)`` if none."""
    try:
        with Image.open(io.BytesIO(raw)) as image:
            return (image.format or "").lower() or None, image.size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None, None


def _format_kept(instance: Any, allowed: Any) -> bool:
    names = {"jpeg" if str(a).lower() == "jpg" else str(a).lower() for a in allowed}
    return all(fmt is None or fmt in names for fmt, _ in map(_sniff, _input_files(instance)))


def _square_kept(instance: Any, value: Any) -> bool:
    return all(size is None or size[0] == size[1] for _, size in map(_sniff, _input_files(instance)))


def _input_pixels_kept(instance: Any, limit: Any) -> bool:
    return all(size is None or size[0] * size[1] <= limit for _, size in map(_sniff, _input_files(instance)))


def _square_side(limit: int) -> int:
    """The side (pixels) of the largest square image of at most ``limit`` pixels."""
    return math.isqrt(limit)


def _unlisted_format(param: Any, rule: Any) -> st.SearchStrategy[Any]:
    allowed = {"jpeg" if str(a).lower() == "jpg" else str(a).lower() for a in rule.value}
    # draw the format, then make the file: strategies of megabyte strings have megabyte reprs
    return st.sampled_from([f for f in ("gif", "webp", "jpeg", "png") if f not in allowed]).map(
        lambda fmt: image_data_uri(256, 256, fmt))


def _too_large(param: Any, rule: Any) -> st.SearchStrategy[Any]:
    # drawn lazily: the planner sends a file this large only when asked to (harness.plan.LARGE_UPLOAD)
    return st.just(rule.value).map(lambda limit: image_data_uri(256, 256, "png", at_least_bytes=limit))


def _unsupported_schema(schema: dict[str, Any], param: Any, rule: Any) -> dict[str, Any]:
    # any value is rejected: no type to keep and no default, nothing else to describe but the text
    return {"not": {}, **{k: v for k, v in schema.items() if k not in ("type", "items", "default")}}


def _same(schema: dict[str, Any], param: Any, rule: Any) -> dict[str, Any]:
    return schema


for _kind in (
    RuleKind("type", "type", "a `{param}` of the wrong JSON type is rejected", level="SHOULD", grammar=None,
             keyword="type", schema=_same, invalid=_wrong_type),
    RuleKind("required", "required", "a request without `{param}` is rejected", keyword="required", schema=_same,
             drawn=False, invalid_body=_without),
    RuleKind("enum", "enum", "`{param}` outside {value} is rejected", keyword="enum", invalid=_not_in_enum,
             near_misses=lambda param, rule, siblings: _outside(rule.value, param, siblings, spellings=True)),
    RuleKind("minimum", "minimum", "`{param}` below {value} is rejected", keyword="minimum",
             invalid=lambda param, rule: st.integers(rule.value - 100, rule.value - 1),
             beyond=lambda param, rule: rule.value - 1, on_limit=lambda param, rule: [rule.value]),
    RuleKind("maximum", "maximum", "`{param}` above {value} is rejected", keyword="maximum",
             invalid=lambda param, rule: st.integers(rule.value + 1, rule.value + 100),
             beyond=lambda param, rule: rule.value + 1, on_limit=lambda param, rule: [rule.value]),
    RuleKind("max_length", "max-length", "`{param}` longer than {value} characters is rejected", keyword="maxLength",
             invalid=_too_long, on_limit=lambda param, rule: [_of_length(rule.value)]),
    RuleKind("max_items", "max-items", "more than {value} `{param}` items are rejected", keyword="maxItems",
             invalid=_too_many, on_limit=lambda param, rule: [[input_image_data_uri()] * rule.value]),
    RuleKind("formats", "formats", "an input `{param}` that is not a {value} file is rejected",
             keyword="x-image-formats", check=_format_kept, invalid=_unlisted_format),
    RuleKind("square", "square", "a non-square input `{param}` is rejected", keyword="x-image-square",
             check=_square_kept, invalid=lambda param, rule: st.just(image_data_uri(256, 128, "png"))),
    RuleKind("max_bytes", "max-bytes", "an input `{param}` file of {value} bytes or more is rejected",
             keyword="x-image-max-bytes", invalid=_too_large,
             check=lambda instance, limit: all(len(raw) < limit for raw in _input_files(instance))),
    # the image itself, not the requested output size: a square file one pixel row past the limit breaks it
    RuleKind("max_input_pixels", "max-input-pixels", "an input `{param}` image of more than {value} pixels is rejected",
             keyword="x-image-max-pixels", check=_input_pixels_kept,
             invalid=lambda param, rule: st.just(_square_side(rule.value) + 1).map(lambda s: image_data_uri(s, s)),
             on_limit=lambda param, rule: [image_data_uri(_square_side(rule.value), _square_side(rule.value))]),
    RuleKind("unsupported", "unsupported", "a request with `{param}` (not supported) is rejected", keyword="not",
             schema=_unsupported_schema, drawn=False, invalid=lambda param, rule: st.just(present_value(param))),
    RuleKind("format", "format", "a malformed `{param}` (not WIDTHxHEIGHT or a documented keyword) is rejected",
             keyword="pattern", schema=_pattern,
             invalid=lambda param, rule: st.sampled_from([s for s in _MALFORMED_SIZES if s not in param.keywords])),
    RuleKind("allowed", "allowed", "`{param}` outside {value} is rejected", place="dimensions",
             keyword="x-size-allowed", check=_dimension_check(lambda w, h, allowed: f"{w}x{h}" in allowed),
             invalid=lambda param, rule: st.sampled_from([s for s in _NEAR_SIZES if s not in set(rule.value)]),
             on_limit=lambda param, rule: list(rule.value),
             near_misses=lambda param, rule, siblings: _outside(rule.value, param, siblings, spellings=False)),
    RuleKind("max_edge", "max-edge", "`{param}` with an edge above {value} px is rejected", place="dimensions",
             keyword="x-size-max-edge", check=_dimension_check(lambda w, h, limit: max(w, h) <= limit),
             heights=lambda limit, w, cap: (1, limit) if w <= limit else (1, 0), invalid=_breaks_dimension,
             on_limit=_on_limit(lambda wh: (-max(wh), _area(wh))), beyond=_beyond(lambda wh: (max(wh), _area(wh)))),
    RuleKind("multiple_of", "multiple-of", "`{param}` with an edge that is not a multiple of {value} px is rejected",
             place="dimensions", value_in_slug=True, keyword="x-size-multiple-of",
             check=_dimension_check(lambda w, h, step: w % step == 0 and h % step == 0), grid=True,
             invalid=_breaks_dimension, beyond=_off_grid),
    # integer arithmetic: long <= ratio * short, exact at the 3:1 boundary
    RuleKind("max_ratio", "max-ratio", "`{param}` with long:short edge ratio above {value}:1 is rejected",
             place="dimensions", keyword="x-size-max-ratio",
             check=_dimension_check(lambda w, h, ratio: max(w, h) <= ratio * min(w, h)),
             heights=lambda ratio, w, cap: (math.ceil(w / ratio), w * ratio), invalid=_breaks_dimension,
             on_limit=_on_limit(lambda wh: (-max(wh) / min(wh), _area(wh))),
             beyond=_beyond(lambda wh: (max(wh) / min(wh), _area(wh)))),
    RuleKind("min_pixels", "min-pixels", "`{param}` with fewer than {value} pixels is rejected", place="dimensions",
             keyword="x-size-min-pixels", check=_dimension_check(lambda w, h, limit: w * h >= limit),
             heights=lambda limit, w, cap: (math.ceil(limit / w), cap), invalid=_breaks_dimension,
             on_limit=_on_limit(lambda wh: (_area(wh), _skew(wh))), beyond=_beyond(lambda wh: (-_area(wh), _skew(wh)))),
    RuleKind("max_pixels", "max-pixels", "`{param}` with more than {value} pixels is rejected", place="dimensions",
             keyword="x-size-max-pixels", check=_dimension_check(lambda w, h, limit: w * h <= limit),
             heights=lambda limit, w, cap: (1, limit // w), invalid=_breaks_dimension,
             on_limit=_on_limit(lambda wh: (-_area(wh), _skew(wh))), beyond=_beyond(lambda wh: (_area(wh), _skew(wh)))),
):
    register(_kind)
