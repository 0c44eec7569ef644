"""Reading a server-sent event stream from an untrusted router: httpx-sse does the parsing, this bounds it.

httpx-sse reads ``response.aiter_text()`` without limit; a router sending one
endless line would grow its buffer until the deadline. :class:`_BoundedText`
stands in for the response and stops at the size limit, and remembers whether
the stream ended on a blank line (httpx-sse drops an unfinished last event
silently, as the SSE spec says; the checks want to know).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import httpx_sse

from ._exchange import Exchange, StreamEvent

__all__ = ["MAX_EVENTS", "is_event_stream", "read_events"]


#: The most server-sent events read from one answer (a stream documents a handful).
MAX_EVENTS = 256


class _TooLarge(Exception):
    pass


class _BoundedText:
    """What httpx-sse reads of a response (its headers and ``aiter_text``), stopped at ``limit`` characters;
    remembers whether the text ended on a blank line (the end of an event)."""

    def __init__(self, response: httpx.Response, limit: int) -> None:
        self._response, self._limit, self._size, self._tail = response, limit, 0, ""
        self.seen = False

    @property
    def headers(self) -> httpx.Headers:
        return self._response.headers

    @property
    def ended_on_blank_line(self) -> bool:
        return self._tail.endswith(("\n\n", "\r\r", "\r\n\r\n"))

    async def aiter_text(self) -> Any:
        async for text in self._response.aiter_text():
            self._size += len(text)
            if self._size > self._limit:
                raise _TooLarge
            if text:
                self.seen = True
                self._tail = (self._tail + text)[-4:]
            yield text


def is_event_stream(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").partition(";")[0].strip().lower() == "text/event-stream"


async def read_events(response: httpx.Response, exchange: Exchange, *, started: float, limit: int,
                      redact: Callable[[str], str]) -> None:
    """Read a ``text/event-stream`` answer with httpx-sse into ``exchange.events``: at most ``limit``
    characters and :data:`MAX_EVENTS` events (the caller's deadline bounds the time); ``started`` is the
    monotonic clock when the request left; every string passes through ``redact``."""
    bounded = _BoundedText(response, limit)
    exchange.events = []
    try:
        async for sse in httpx_sse.EventSource(bounded).aiter_sse():  # type: ignore[arg-type]
            if len(exchange.events) >= MAX_EVENTS:
                exchange.error = f"more than {MAX_EVENTS} events; stopped reading"
                return
            exchange.events.append(StreamEvent(redact(sse.event[:200]), redact(sse.data),
                                               redact(sse.id[:200]), time.monotonic() - started,
                                               len(sse.data)))
    except _TooLarge:
        exchange.error = f"event stream exceeds {limit:,} characters; stopped reading"
    finally:
        exchange.stream_cut = bounded.seen and not bounded.ended_on_blank_line
