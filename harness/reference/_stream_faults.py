"""The reference router's stream faults: each breaks one rule of a streamed answer (OpenAI's GPT image models).

A stream fault's ``stream`` hook gets the faithful events (``(name, data)``;
a ``None`` name sends ``data`` as raw bytes) and returns what is sent instead,
or a whole :class:`~starlette.responses.Response`. Registered with the rest of
the catalogue when :mod:`harness.reference` is imported.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from starlette.responses import JSONResponse, Response

from ._faults import Fault, register_fault

__all__ = ["STREAM_FAULTS"]


def _events_of(kind: str, events: list[tuple[str | None, Any]]) -> list[tuple[str | None, Any]]:
    return [e for e in events if isinstance(e[1], dict) and e[1].get("type", "").endswith(kind)]


def _renamed(events: list[tuple[str | None, Any]]) -> list[tuple[str | None, Any]]:
    """Partial events named ``..._partial`` (a gateway's own spelling), in ``event:`` and ``type`` alike."""
    out: list[tuple[str | None, Any]] = []
    for name, data in events:
        if isinstance(data, dict) and data.get("type", "").endswith(".partial_image"):
            renamed = data["type"].replace(".partial_image", ".partial")
            name, data = renamed, {**data, "type": renamed}
        out.append((name, data))
    return out


def _one_more_partial(events: list[tuple[str | None, Any]]) -> list[tuple[str | None, Any]]:
    completed = events[-1]
    data = completed[1]
    partial = {k: v for k, v in data.items() if k != "usage"}
    partial["type"] = data["type"].replace(".completed", ".partial_image")
    partial["partial_image_index"] = len(events) - 1
    return [*events[:-1], (partial["type"], partial), completed]


def _indexes_reversed(events: list[tuple[str | None, Any]]) -> list[tuple[str | None, Any]]:
    partials = _events_of(".partial_image", events)
    count = len(partials)
    return [(n, {**d, "partial_image_index": count - 1 - d["partial_image_index"]}) if (n, d) in partials else (n, d)
            for n, d in events]


def _without_usage(events: list[tuple[str | None, Any]]) -> list[tuple[str | None, Any]]:
    name, data = events[-1]
    return [*events[:-1], (name, {k: v for k, v in data.items() if k != "usage"})]


def _cut(events: list[tuple[str | None, Any]]) -> list[tuple[str | None, Any]]:
    name, data = events[-1]
    whole = f"event: {name}\r\ndata: {json.dumps(data)}\r\n\r\n".encode()
    return [*events[:-1], (None, whole[: len(whole) // 2])]


def _undecodable_partials(events: list[tuple[str | None, Any]]) -> list[tuple[str | None, Any]]:
    junk = base64.b64encode(b"\x89PNG\r\n\x1a\n not really").decode()
    return [(n, {**d, "b64_json": junk}) if isinstance(d, dict) and d.get("type", "").endswith(".partial_image")
            else (n, d) for n, d in events] or events


def _as_plain_json(events: list[tuple[str | None, Any]]) -> Response:
    data = events[-1][1]
    return JSONResponse({"created": data["created_at"], "data": [{"b64_json": data["b64_json"]}],
                         "usage": data.get("usage")})


def _stream_500(events: list[tuple[str | None, Any]]) -> Response:
    return JSONResponse({"error": {"message": "upstream stream failed", "type": "server_error", "param": None,
                                   "code": None}}, status_code=500)


STREAM_FAULTS = tuple(
    Fault(name, description, breaks, profile="openai", models=("gpt-image-1",), **hooks)  # type: ignore[arg-type]
    for name, description, breaks, hooks in (
        ("stream-ignored", "answers stream: true with a plain JSON body", "stream.served", {"stream": _as_plain_json}),
        ("stream-500", "answers stream: true with 500", "stream.served", {"stream": _stream_500}),
        ("stream-wrong-content-type", "labels the event stream Content-Type: text/plain", "stream.served",
         {"stream_media_type": "text/plain"}),
        ("stream-wrong-event-name", "names partial events image_generation.partial", "stream.events",
         {"stream": _renamed}),
        ("stream-completed-without-usage", "sends the completed event without usage", "stream.events",
         {"stream": _without_usage}),
        ("stream-more-partials", "sends one partial image more than partial_images asked", "stream.order",
         {"stream": _one_more_partial}),
        ("stream-indexes-reversed", "numbers partial images backwards", "stream.order", {"stream": _indexes_reversed}),
        ("stream-no-completed", "ends the stream without the completed event", "stream.order",
         {"stream": lambda events: events[:-1]}),
        ("stream-cut-mid-event", "ends the stream in the middle of the completed event", "stream.order",
         {"stream": _cut}),
        ("stream-undecodable-partials", "sends partial images that are not images", "stream.images",
         {"stream": _undecodable_partials}),
    )
)


for _fault in STREAM_FAULTS:
    register_fault(_fault)
