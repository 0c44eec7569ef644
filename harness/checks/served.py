"""Checks of a valid request's answer: served 200 as JSON in the documented shape, with the asked images."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..rules.size import parse_size
from ..spec import PIL_FORMATS, Profile, Source
from ..spec.requirements import (
    ACCEPTS_VALID,
    CONTENT_TYPE,
    DATA_COUNT,
    IMAGE_DECODES,
    IMAGE_DIMENSIONS,
    IMAGE_FORMAT,
    IMAGE_TRANSPARENT,
    RESPONSE_CREATED,
    RESPONSE_ECHO,
    RESPONSE_SCHEMA,
    USAGE_CONSISTENT,
)
from ._context import CheckContext
from ._registry import CheckResult, behaviour, check

__all__ = ["ASPECT_TOLERANCE", "CREATED_TOLERANCE_S", "usage_sums"]

#: How far ``created`` may be from the client's clock, in seconds (clock skew, queueing).
CREATED_TOLERANCE_S = 3600

#: How far an image's width/height may be from the requested ``aspect_ratio`` (rounding to pixel grids).
ASPECT_TOLERANCE = 0.02


def _response_source(profile: Profile, target: Any) -> Source | None:
    return target.response.source


def _param_source(*names: str):
    """Cite the first of ``names`` the model endpoint documents (``size``, else ``aspect_ratio``)."""
    def cites(profile: Profile, target: Any) -> Source | None:
        param = next((target.params[n] for n in names if n in target.params), None)
        return param.source if param is not None else None

    return cites


behaviour(ACCEPTS_VALID, level="MUST", title="a request that keeps every documented rule is answered 200",
          cites=lambda profile, target: profile.endpoints[target.endpoint].source)


@check(kinds=("valid",))
def served(ctx: CheckContext) -> Iterator[CheckResult]:
    """The case's own requirements (accepts-valid, and a rule whose limit the request sits on): answered 200."""
    prefix, model = ctx.target.prefix, ctx.target.model
    for rid in ctx.case.requirements:
        if rid == ACCEPTS_VALID.at(prefix) or rid.startswith(f"{prefix}.{model}."):
            yield ctx.result(rid, ctx.accepted, "" if ctx.accepted else f"valid request not served: {ctx.describe()}")


@check(CONTENT_TYPE, kinds=("valid",), title="a 200 answer is `Content-Type: application/json`", cites=_response_source)
def content_type(ctx: CheckContext) -> Iterator[CheckResult]:
    if ctx.accepted:
        media = ctx.exchange.content_type
        yield ctx.result(CONTENT_TYPE, media.split(";")[0].strip() == "application/json", f"Content-Type is {media!r}")


@check(RESPONSE_SCHEMA, kinds=("valid",), title="a 200 body has the documented response shape", cites=_response_source)
def response_schema(ctx: CheckContext) -> Iterator[CheckResult]:
    if ctx.accepted:
        yield ctx.schema_result(RESPONSE_SCHEMA, "response")


# A response that fails the schema elsewhere (a null field) still has its images judged while ``data`` is a list.


@check(IMAGE_DECODES, kinds=("valid",), title="every image decodes as a real image file", cites=_response_source)
def image_decodes(ctx: CheckContext) -> Iterator[CheckResult]:
    if ctx.accepted:
        for item in ctx.images:
            yield ctx.result(IMAGE_DECODES, item.image is not None, f"data[{item.index}]: {item.problem}")


@check(DATA_COUNT, kinds=("valid",), title="`data` holds exactly `n` images", cites=_param_source("n"))
def data_count(ctx: CheckContext) -> Iterator[CheckResult]:
    if ctx.accepted and ctx.data is not None and "n" in ctx.target.params:
        n = ctx.expected("n") or 1
        yield ctx.result(DATA_COUNT, len(ctx.data) == n, f"asked n={n}, got {len(ctx.data)} images")


@check(IMAGE_FORMAT, kinds=("valid",), cites=_param_source("output_format"),
       title="every image is in the requested `output_format` (or the documented default)")
def image_format(ctx: CheckContext) -> Iterator[CheckResult]:
    fmt = ctx.expected("output_format")
    if not ctx.accepted or fmt not in PIL_FORMATS or "output_format" not in ctx.target.params:
        return
    for item in ctx.images:
        if item.image is not None:
            yield ctx.result(IMAGE_FORMAT, item.image.format == PIL_FORMATS[fmt],
                             f"data[{item.index}]: asked output_format={fmt!r}, got {item.image.format}")


def _aspect_ratio(value: Any) -> float | None:
    """``"16:9"`` -> 1.777...; anything else -> ``None``."""
    if not isinstance(value, str) or value.count(":") != 1:
        return None
    a, b = value.split(":")
    return int(a) / int(b) if a.isdigit() and b.isdigit() and int(b) else None


@check(IMAGE_DIMENSIONS, kinds=("valid",), title="every image has the requested `size` in pixels",
       cites=_param_source("size", "aspect_ratio"))
def image_dimensions(ctx: CheckContext) -> Iterator[CheckResult]:
    """The exact ``size`` asked, or the asked ``aspect_ratio`` within ``ASPECT_TOLERANCE``."""
    if not ctx.accepted:
        return
    size = parse_size(ctx.case.body.get("size"))
    ratio = _aspect_ratio(ctx.expected("aspect_ratio")) if size is None else None
    for item in ctx.images:
        image = item.image
        if image is None:
            continue
        if size is not None:
            yield ctx.result(IMAGE_DIMENSIONS, image.size == size,
                             f"data[{item.index}]: asked {size[0]}x{size[1]}, got {image.size[0]}x{image.size[1]}")
        if ratio is not None:
            got = image.size[0] / image.size[1]
            yield ctx.result(IMAGE_DIMENSIONS, abs(got / ratio - 1) <= ASPECT_TOLERANCE,
                             f"data[{item.index}]: asked aspect_ratio={ctx.expected('aspect_ratio')}, "
                             f"got {image.size[0]}x{image.size[1]} ({got:.3f}:1)")


@check(RESPONSE_ECHO, kinds=("valid",), level="SHOULD", title="the response echoes the request's output fields",
       cites=lambda profile, target: target.response.echo_source,
       level_from=lambda profile, target: target.response.echo_level)
def response_echo(ctx: CheckContext) -> Iterator[CheckResult]:
    body = ctx.body
    if not ctx.accepted or ctx.data is None:
        return
    for name in ctx.target.response.echo_fields:
        # "auto" asks the router to choose, so any concrete answer is an honest echo
        if name in ctx.case.body and name in body and ctx.case.body[name] != "auto":
            yield ctx.result(RESPONSE_ECHO, body[name] == ctx.case.body[name],
                             f"asked {name}={ctx.case.body[name]!r}, response says {body[name]!r}")


@check(RESPONSE_CREATED, kinds=("valid",), cites=_response_source,
       title="`created` is the generation time in the documented unit (within an hour of the client clock)")
def response_created(ctx: CheckContext) -> Iterator[CheckResult]:
    created = ctx.body.get("created") if ctx.accepted and ctx.data is not None else None
    if not isinstance(created, (int, float)) or isinstance(created, bool):
        return  # the response schema judges presence and type
    unit = ctx.target.response.created_unit
    try:
        off = (created / 1000 if unit == "milliseconds" else created) - ctx.exchange.sent_at
    except OverflowError:
        off = float("inf")
    yield ctx.result(RESPONSE_CREATED, abs(off) <= CREATED_TOLERANCE_S,
                     f"created={created} read in {unit} is {off:+,.0f} s from the client clock"
                     f" (documented unit: {unit}; allowed ±{CREATED_TOLERANCE_S} s)")


def _documents_usage(profile: Profile, target: Any) -> Source | None:
    return target.response.source if "usage" in target.response.schema.get("properties", {}) else None


def _ints(mapping: dict[str, Any]) -> dict[str, int]:
    return {k: v for k, v in mapping.items() if isinstance(v, int) and not isinstance(v, bool)}


@check(USAGE_CONSISTENT, kinds=("valid",), level="SHOULD", cites=_documents_usage,
       title="`usage` adds up: total = input + output tokens, and each details block sums to its total")
def usage_consistent(ctx: CheckContext) -> Iterator[CheckResult]:
    usage = ctx.body.get("usage") if ctx.accepted and ctx.data is not None else None
    if not isinstance(usage, dict) or _documents_usage(ctx.profile, ctx.target) is None:
        return
    for passed, message in usage_sums(usage):
        yield ctx.result(USAGE_CONSISTENT, passed, message)


def usage_sums(usage: dict[str, Any]) -> Iterator[tuple[bool, str]]:
    """``(adds up, message)`` for each sum in a ``usage`` object (token counts): total = input + output, and
    each ``*_tokens_details`` block against its total (equal when it has both parts, at most when not)."""
    numbers = _ints(usage)
    if {"total_tokens", "input_tokens", "output_tokens"} <= set(numbers):
        total = numbers["input_tokens"] + numbers["output_tokens"]
        yield (numbers["total_tokens"] == total,
               f"total_tokens={numbers['total_tokens']}, input_tokens + output_tokens = {total}")
    for side in ("input", "output"):
        details = usage.get(f"{side}_tokens_details")
        tokens = numbers.get(f"{side}_tokens")
        if not isinstance(details, dict) or tokens is None:
            continue
        parts = list(_ints(details).values())
        # all parts present: they sum to the total; some missing: they cannot exceed it
        complete = {"image_tokens", "text_tokens"} <= set(details)
        yield (sum(parts) == tokens if complete else sum(parts) <= tokens,
               f"{side}_tokens_details sum to {sum(parts)}, {side}_tokens={tokens}")


def _documents_transparency(profile: Profile, target: Any) -> Source | None:
    background = target.params.get("background")
    return background.source if background is not None and "transparent" in background.choices else None


@check(IMAGE_TRANSPARENT, kinds=("valid",), cites=_documents_transparency,
       title="with `background: transparent`, every image has transparent pixels")
def image_transparent(ctx: CheckContext) -> Iterator[CheckResult]:
    if not ctx.accepted or ctx.expected("background") != "transparent":
        return
    # where another document contradicts transparent for this model, an opaque image fails that conflict's
    # requirement (its own level), not the endpoint-wide MUST
    background = ctx.target.params.get("background")
    conflict = background.conflicts.get("transparent") if background is not None else None
    rid = conflict.requirement.id if conflict is not None else IMAGE_TRANSPARENT
    for item in ctx.images:
        if item.image is not None:
            alpha = item.image.convert("RGBA").getextrema()[3]
            yield ctx.result(rid, alpha[0] < 255, f"data[{item.index}]: asked background=transparent, "
                                                                f"got a {item.image.mode} image with no transparent pixel")
