"""The reference router's streamed answer: partial images drawn progressively, then one completed event.

When a request asks to stream (the profile's ``response.stream.when``
parameter is true), the reference router answers server-sent events as the
profile's :class:`~harness.spec.StreamSpec` describes them: ``k`` partial
events (``k`` = the request's ``partials`` parameter, default 0), each a
real image of the asked size and format with less of the drawing covered,
then the completed event with the final image and ``usage``. The events are
sent through sse-starlette, one at a time with a short pause, so a client
sees a real stream.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import AsyncIterator
from typing import Any

from PIL import Image, ImageDraw
from sse_starlette import EventSourceResponse

from ..spec import PIL_FORMATS, ModelEndpoint, StreamSpec

__all__ = ["stream_events", "stream_response"]

#: Seconds between two events of a stream (a real model takes seconds; the tests need a stream, not a wait).
EVENT_GAP_S = 0.02


def _partial(final: bytes, fmt: str, *, shown: float) -> bytes:
    """``final`` with the bottom ``1 - shown`` of it covered in grey, encoded again as ``fmt``."""
    image = Image.open(io.BytesIO(final))
    image.load()
    width, height = image.size
    top = int(height * shown)
    if top < height:
        fill = (200, 200, 200, 255) if image.mode == "RGBA" else (200, 200, 200)
        ImageDraw.Draw(image).rectangle((0, top, width, height), fill=fill)
    out = io.BytesIO()
    image.save(out, format=PIL_FORMATS[fmt])
    return out.getvalue()


def stream_events(target: ModelEndpoint, body: dict[str, Any], payload: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """``(event name, data)`` of the stream for ``body``, built from the non-streamed ``payload`` of the same request.

    The first image of ``payload`` is the final one (OpenAI documents no
    stream of several images); ``created_at`` is ``payload["created"]`` in seconds.
    """
    spec: StreamSpec = target.stream  # type: ignore[assignment]
    effective = target.effective(body)
    count = effective.get(spec.partials, 0) if spec.partials else 0
    count = count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else 0
    final_b64 = payload["data"][0].get("b64_json", "") if payload.get("data") else ""
    fmt = payload.get("output_format") or effective.get("output_format") or "png"
    created = payload.get("created", 0)
    if target.response.created_unit == "milliseconds":
        created //= 1000
    quality = effective.get("quality", "auto")
    shared = {"background": payload.get("background") or effective.get("background") or "auto",
              "created_at": created, "output_format": fmt,
              "quality": payload.get("quality") or ("medium" if quality == "auto" else quality),
              "size": payload.get("size") or effective.get("size", "auto")}
    final = base64.b64decode(final_b64)
    events: list[tuple[str, dict[str, Any]]] = []
    for index in range(count):
        raw = _partial(final, fmt, shown=(index + 1) / (count + 1))
        events.append((spec.partial_event, {"type": spec.partial_event, spec.image_field: base64.b64encode(raw).decode(),
                                            **shared, spec.index_field: index}))
    usage = dict(payload.get("usage") or {})
    events.append((spec.completed_event, {"type": spec.completed_event, spec.image_field: final_b64, **shared,
                                          "usage": usage}))
    return events


def stream_response(events: list[tuple[str | None, Any]], *, media_type: str) -> EventSourceResponse:
    """The events as a ``text/event-stream`` answer (``event:`` the name, ``data:`` the JSON); an event whose
    name is ``None`` is sent as its raw bytes (a fault's broken stream)."""
    async def send() -> AsyncIterator[dict[str, str] | bytes]:
        for name, data in events:
            yield data if name is None else {"event": name, "data": json.dumps(data)}
            await asyncio.sleep(EVENT_GAP_S)

    return EventSourceResponse(send(), ping=600, media_type=media_type)
