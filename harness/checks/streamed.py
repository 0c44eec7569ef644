"""Checks of a streamed answer: server-sent events, partial images in order, then exactly one completed event.

A case of kind ``stream`` asks for a stream (the profile's ``response.stream``,
:class:`~harness.spec.StreamSpec`). Its answer must be ``200`` with the
stream's media type (a plain JSON answer means the router ignored
``stream: true``); every event a documented type whose data matches its
schema; at most ``partials`` partial events indexed 0, 1, ... before one
completed event, nothing after it, and a clean end; every image decoding at
the asked size and format; and ``usage`` on the completed event adding up.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from ..rules.size import parse_size
from ..spec import PIL_FORMATS, Profile, Source, StreamSpec
from ..spec.requirements import STREAM_EVENTS, STREAM_IMAGES, STREAM_ORDER, STREAM_SERVED, STREAM_USAGE
from ..transport.client import StreamEvent
from ._context import CheckContext, decode_b64_image
from ._registry import CheckResult, behaviour, check
from .served import usage_sums

__all__: list[str] = []


def _stream_source(profile: Profile, target: Any) -> Source | None:
    return target.stream.source if target is not None and target.stream is not None else None


behaviour(STREAM_SERVED, level="MUST", cites=_stream_source,
          title="a valid request asking to stream is answered 200 as an event stream (`text/event-stream`)")


@lru_cache(maxsize=64)
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_json))


def _event_schema(spec: StreamSpec, name: str) -> dict[str, Any]:
    """The schema of event ``name``'s data: the profile's partial or completed schema with ``type`` fixed to it."""
    base = spec.partial_schema if name == spec.partial_event else spec.completed_schema
    return {**base, "properties": {**base.get("properties", {}), "type": {"const": name}}}


def _data(event: StreamEvent) -> tuple[Any, str]:
    try:
        return json.loads(event.data), ""
    except ValueError as exc:
        return None, f"data is not JSON ({type(exc).__name__})"


def _streamed(ctx: CheckContext) -> StreamSpec | None:
    """The stream spec when the answer is a stream to judge (200 with events), else ``None``."""
    spec = ctx.target.stream
    return spec if spec is not None and ctx.exchange.status == 200 and ctx.exchange.events is not None else None


@check(kinds=("stream",))
def stream_served(ctx: CheckContext) -> Iterator[CheckResult]:
    """The case's own requirement: 200 with the stream's media type (plain JSON: the stream was ignored)."""
    rid = ctx.case.requirements[0]
    spec = ctx.target.stream
    if spec is None:
        return
    if ctx.exchange.status is None:
        yield ctx.no_answer(rid)
        return
    media = ctx.exchange.content_type.split(";")[0].strip().lower()
    if ctx.exchange.status != 200:
        yield ctx.result(rid, False, f"{spec.when}: true not served: {ctx.describe()}")
    elif media != spec.media_type:
        ignored = " (the stream was ignored: a plain JSON answer)" if media == "application/json" else ""
        yield ctx.result(rid, False, f"{spec.when}: true answered 200 with Content-Type {media or 'none'!r}, "
                                     f"not {spec.media_type}{ignored}")
    else:
        yield ctx.result(rid, True)


@check(STREAM_EVENTS, kinds=("stream",), cites=_stream_source,
       title="every event of a stream is a documented type whose data matches its schema")
def stream_events(ctx: CheckContext) -> Iterator[CheckResult]:
    spec = _streamed(ctx)
    if spec is None:
        return
    known = (spec.partial_event, spec.completed_event)
    for position, event in enumerate(ctx.exchange.events or []):
        data, problem = _data(event)
        name = data.get("type") if isinstance(data, dict) else None
        if problem:
            yield ctx.result(STREAM_EVENTS, False, f"event {position} ({event.event}): {problem}")
        elif name not in known:
            yield ctx.result(STREAM_EVENTS, False, f"event {position}: type {str(name)[:80]!r} is none of {known}")
        elif event.event not in ("message", name):
            yield ctx.result(STREAM_EVENTS, False, f"event {position}: named {event.event[:80]!r} but its type is {name!r}")
        else:
            error = best_match(_validator(json.dumps(_event_schema(spec, name), sort_keys=True)).iter_errors(data))
            where = "/".join(str(p) for p in error.absolute_path) if error is not None else ""
            yield ctx.result(STREAM_EVENTS, error is None,
                             f"event {position} ({name}) {where or '(data)'}: {error.message[:300]}" if error else "")


def _order_problems(spec: StreamSpec, events: list[tuple[str | None, Any]], asked: int | None) -> list[str]:
    """What breaks the documented order in ``events`` (``(type, data)``): partials 0, 1, ... (at most
    ``asked``), then exactly one completed event, then nothing."""
    problems = []
    types = [t for t, _ in events]
    completed = [i for i, t in enumerate(types) if t == spec.completed_event]
    partials = [d for t, d in events if t == spec.partial_event]
    if not completed:
        problems.append(f"no {spec.completed_event} event (the stream ended after {len(partials)} partial events)")
    elif len(completed) > 1:
        problems.append(f"{len(completed)} {spec.completed_event} events; the stream has exactly one")
    elif completed[0] != len(types) - 1:
        problems.append(f"{len(types) - 1 - completed[0]} events after {spec.completed_event}")
    if asked is not None and len(partials) > asked:
        problems.append(f"{len(partials)} partial events; {spec.partials}={asked} asked for at most {asked}")
    indexes = [d.get(spec.index_field) if isinstance(d, dict) else None for d in partials]
    if indexes != list(range(len(indexes))):
        problems.append(f"{spec.index_field} ran {indexes[:8]}, not 0, 1, 2, ...")
    return problems


@check(STREAM_ORDER, kinds=("stream",), cites=_stream_source,
       title="a stream holds at most `partial_images` partial events, indexed 0, 1, ..., then exactly one "
             "completed event, and ends cleanly")
def stream_order(ctx: CheckContext) -> Iterator[CheckResult]:
    spec = _streamed(ctx)
    if spec is None:
        return
    events = [(d.get("type") if isinstance(d, dict) else None, d) for d, _ in map(_data, ctx.exchange.events or [])]
    asked = ctx.expected(spec.partials) if spec.partials else 0
    problems = _order_problems(spec, events, asked if isinstance(asked, int) else None)
    if ctx.exchange.stream_cut:
        problems.append("the stream ended in the middle of an event")
    if ctx.exchange.error:
        problems.append(f"the stream broke off: {ctx.exchange.error}")
    yield ctx.result(STREAM_ORDER, not problems, "; ".join(problems))


@check(STREAM_IMAGES, kinds=("stream",), cites=_stream_source,
       title="every partial and the final image of a stream decodes at the asked size and format")
def stream_images(ctx: CheckContext) -> Iterator[CheckResult]:
    spec = _streamed(ctx)
    if spec is None:
        return
    size = parse_size(ctx.case.body.get("size"))
    fmt = ctx.expected("output_format")
    for position, event in enumerate(ctx.exchange.events or []):
        data, _ = _data(event)
        if not isinstance(data, dict) or data.get("type") not in (spec.partial_event, spec.completed_event):
            continue
        image, problem, _ = decode_b64_image(data.get(spec.image_field), ctx.max_pixels)
        what = f"event {position} ({data['type']})"
        if image is None:
            yield ctx.result(STREAM_IMAGES, False, f"{what}: {problem}")
            continue
        ctx.images_seen.append(image)
        if size is not None:
            yield ctx.result(STREAM_IMAGES, image.size == size,
                             f"{what}: asked {size[0]}x{size[1]}, got {image.size[0]}x{image.size[1]}")
        if fmt in PIL_FORMATS:
            yield ctx.result(STREAM_IMAGES, image.format == PIL_FORMATS[fmt],
                             f"{what}: asked output_format={fmt!r}, got {image.format}")


def _documents_stream_usage(profile: Profile, target: Any) -> Source | None:
    stream = target.stream if target is not None else None
    return stream.source if stream is not None and "usage" in stream.completed_schema.get("properties", {}) else None


@check(STREAM_USAGE, kinds=("stream",), level="SHOULD", cites=_documents_stream_usage,
       title="`usage` of the completed event adds up: total = input + output tokens")
def stream_usage(ctx: CheckContext) -> Iterator[CheckResult]:
    spec = _streamed(ctx)
    if spec is None:
        return
    for event in ctx.exchange.events or []:
        data, _ = _data(event)
        if isinstance(data, dict) and data.get("type") == spec.completed_event and isinstance(data.get("usage"), dict):
            for passed, message in usage_sums(data["usage"]):
                yield ctx.result(STREAM_USAGE, passed, message)
