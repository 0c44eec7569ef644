"""What one request to a router came to (:class:`Exchange`, :class:`StreamEvent`) and the bounds on it (:class:`Limits`).

These are plain records: the client fills them, the checks, the evidence and
the reports read them. They hold nothing secret: every string in them is
already redacted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._json import Parsed, parse
from .._redact import Redactor

__all__ = ["Exchange", "Limits", "StreamEvent"]


@dataclass(frozen=True)
class Limits:
    """Time in seconds and sizes in bytes that bound every request to the router.

    ``total_s`` bounds a whole request (connect, headers and body together),
    whatever the router does: a body trickling a byte at a time, headers
    that never end. ``connect_s`` bounds the TCP (and TLS) connect. A 429 or
    503 with ``Retry-After`` is retried up to ``max_retries`` times while the
    waits add up to at most ``retry_budget_s`` for the request and
    ``run_retry_budget_s`` for all requests of the client together. At most ``max_headers``
    response headers are kept, each value cut at ``max_header_chars``.
    """

    connect_s: float = 10.0
    total_s: float = 180.0
    max_body_bytes: int = 64 * 1024 * 1024
    retry_budget_s: float = 60.0
    run_retry_budget_s: float = 300.0
    max_retries: int = 3
    max_headers: int = 100
    max_header_chars: int = 1024

    @classmethod
    def from_timeout(cls, timeout_s: float) -> Limits:
        """The limits of ``--timeout timeout_s``: each request lasts at most ``timeout_s`` seconds in total,
        and a case waits at most as long again for ``Retry-After`` (60 s at most)."""
        return cls(connect_s=min(10.0, timeout_s), total_s=timeout_s, retry_budget_s=min(60.0, timeout_s))


@dataclass(frozen=True)
class StreamEvent:
    """One server-sent event as it arrived: ``event`` (``message`` when unnamed), ``data`` (redacted),
    ``id``, ``at_s`` (seconds since the request left) and ``size`` (characters of its data)."""

    event: str
    data: str
    id: str
    at_s: float
    size: int


@dataclass
class Exchange:
    """One request and what came back; ``error`` is set when no full answer arrived.

    ``request_headers`` are already redacted. ``elapsed_s`` is wall time in seconds;
    ``sent_at`` is the client clock (Unix seconds) when the request left;
    ``request_bytes`` the size of the body sent (bytes).
    ``retry_exhausted``: a 429/503 asked to be retried (``Retry-After``) and
    the retry budget could not pay for the wait. ``timed_out``: the answer
    did not complete within ``Limits.total_s``.
    ``form`` lists the multipart parts sent as ``(name, text or filename, is_file)``;
    ``events`` holds the server-sent events of a ``text/event-stream`` answer
    (``None`` for any other); ``stream_cut`` is true when the stream ended in
    the middle of an event (after its last blank line came more text).
    ``downloads`` holds the fetched ``data[].url`` images by URL. ``headers`` holds
    at most :attr:`Limits.max_headers` of the response headers; ``headers_dropped``
    counts the rest.
    """

    method: str
    url: str
    request_headers: dict[str, str]
    body: dict[str, Any] | None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b""
    elapsed_s: float = 0.0
    sent_at: float = 0.0
    retries: int = 0
    retry_exhausted: bool = False
    timed_out: bool = False
    error: str | None = None
    headers_dropped: int = 0
    events: list[StreamEvent] | None = None
    stream_cut: bool = False
    request_bytes: int = 0
    downloads: dict[str, Exchange] = field(default_factory=dict)
    form: list[tuple[str, str, bool]] | None = None
    redactor: Redactor = field(default_factory=lambda: Redactor(None), repr=False, compare=False)
    _parsed: Parsed | ValueError | None = field(default=None, repr=False, compare=False)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def parsed_json(self) -> Parsed:
        """The body read as JSON once (see :func:`harness._json.parse`: what RFC 8259 forbids is noted, and
        the value is finite), every string redacted after decoding (a key sent as ``\\u`` escapes decodes
        to the key); raises ``ValueError`` when it is not JSON."""
        if self._parsed is None:
            try:
                parsed = parse(self.content)
                parsed.value = self.redactor.value(parsed.value)
                self._parsed = parsed
            except ValueError as exc:
                self._parsed = ValueError(str(exc)[:300])
        if isinstance(self._parsed, ValueError):
            raise self._parsed
        return self._parsed

    def json(self) -> Any:
        """The body's JSON value (see :meth:`parsed_json`); raises ``ValueError`` when it is not JSON."""
        return self.parsed_json().value
