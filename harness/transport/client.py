"""The HTTP client: one request per case, bounded in time and size, key kept secret.

A router under test may be slow, broken or hostile. Nothing it does may crash
or hang the harness: every transport failure, oversized body or timeout comes
back as an :class:`Exchange` whose ``error`` says what happened, and the API
key is redacted from everything the exchange records.
"""

from __future__ import annotations

import email.utils
import http.cookiejar
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.from_thread
import httpx
import httpx_sse

from .._errors import RouterUnreachable
from .._json import Parsed, parse
from .._redact import KEY_PLACEHOLDER, Redactor
from ._urls import refusal
from .forms import FormParts

__all__ = ["Exchange", "KEY_PLACEHOLDER", "Limits", "MAX_EVENTS", "RouterClient", "StreamEvent", "httpx_path"]


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


class RouterClient:
    """Sends requests to a router at ``base_url`` (an OpenAI SDK ``base_url``, e.g. ``http://host/v1``).

    ``api_key`` is sent as ``Authorization: Bearer``; it never appears in an
    :class:`Exchange`, an exception, or a log line. Every request is bounded
    by ``limits`` in total time and size; no connection is ever reused (an
    answer that runs past its ``Content-Length`` cannot become the next
    case's answer) and no cookie is kept. Safe to call from several threads.
    Close it with :meth:`close`.
    """

    def __init__(self, base_url: str, *, api_key: str | None, limits: Limits = Limits(),
                 headers: dict[str, str] | None = None, allow_private_image_urls: bool = False) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.redactor = Redactor(api_key)
        self.limits = limits
        self.allow_private_image_urls = allow_private_image_urls
        self._retry_left_s = limits.run_retry_budget_s
        self._retry_lock = threading.Lock()
        self._extra_headers = dict(headers or {})
        # httpx's async client under one event loop in a thread of its own: only there can a whole
        # request (connect, headers, body) be cancelled at a deadline; sync reads only time out per read
        self._portal_cm = anyio.from_thread.start_blocking_portal()
        self._portal = self._portal_cm.__enter__()
        self._http: httpx.AsyncClient = self._portal.call(self._open)

    async def _open(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=httpx.Timeout(self.limits.total_s, connect=self.limits.connect_s),
            limits=httpx.Limits(max_keepalive_connections=0),  # never reuse a connection
            follow_redirects=False,
            cookies=_no_cookies(),  # a router's Set-Cookie must not ride on later cases (the evidence would not show it)
        )

    def close(self) -> None:
        """Close the connections, cancel any request still in flight and stop the event loop (idempotent)."""
        if self._portal_cm is None:
            return
        try:
            self._portal.call(self._aclose)
            self._portal.call(self._portal.stop, True)  # cancel what is in flight (an interrupted run)
        except RuntimeError:
            pass  # the portal already stopped
        finally:
            self._portal_cm.__exit__(None, None, None)
            self._portal_cm = None

    async def _aclose(self) -> None:
        with anyio.move_on_after(2):
            await self._http.aclose()

    def redact(self, text: str) -> str:
        """``text`` with the API key, in any spelling (see :class:`~harness._redact.Redactor`), replaced."""
        return self.redactor.text(text)

    @property
    def host(self) -> str:
        """The router's host name or address, as in ``base_url``."""
        try:
            return httpx.URL(self.base_url).host
        except httpx.InvalidURL:
            return ""

    def probe(self) -> None:
        """Raise :class:`RouterUnreachable` when no connection to the router can be made.

        Any HTTP answer, even a 404, or a connection that then stalls, proves
        the router is reachable; its body is never read. Bounded in total by
        ``limits.connect_s`` plus 5 seconds, and by ``limits.total_s``.
        """
        error = self._portal.call(self._probe, self.base_url + "/models")
        if error is not None:
            raise RouterUnreachable(self.base_url, reason=self.redact(error))

    async def _probe(self, url: str) -> str | None:
        with anyio.move_on_after(min(self.limits.total_s, self.limits.connect_s + 5)):
            try:
                async with self._http.stream("GET", url, headers={"Accept-Encoding": "identity"}):
                    pass
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol) as exc:
                return str(exc) or type(exc).__name__
            except httpx.HTTPError:
                pass  # it answered something; the cases will judge it
        return None

    def post(self, path: str, body: dict[str, Any], *, auth: str = "valid",
             headers: dict[str, str | None] | None = None, form: FormParts | None = None) -> Exchange:
        """POST ``body`` to ``path`` as JSON, or as multipart/form-data when ``form`` is given.

        ``auth`` is ``valid``, ``missing`` or ``wrong``. ``headers`` adds or
        replaces request headers; a ``None`` value removes one (e.g.
        ``{"Content-Type": None}`` sends the JSON without it). ``form`` (see
        ``forms.form_parts``) is sent instead of JSON; ``body`` is then only
        what the exchange records.
        """
        sent = {} if form is not None else {"Content-Type": "application/json"}
        sent.update(self._extra_headers)
        for name, value in (headers or {}).items():
            sent = {k: v for k, v in sent.items() if k.lower() != name.lower()}
            if value is not None:
                sent[name] = value
        shown = dict(sent)
        if auth == "valid" and self._api_key:
            sent["Authorization"] = f"Bearer {self._api_key}"
            shown["Authorization"] = f"Bearer {KEY_PLACEHOLDER}"
        elif auth == "wrong":
            sent["Authorization"] = shown["Authorization"] = "Bearer sk-conformance-wrong-key-0000"
        sent.setdefault("Accept-Encoding", _ACCEPT_ENCODING)
        exchange = Exchange("POST", self.base_url + path, shown, body, redactor=self.redactor)
        if form is None:
            request = self._http.build_request("POST", self.base_url + path, headers=sent, content=json.dumps(body).encode())
        else:
            # text parts as filename-less parts, so a form without files is still multipart
            parts = [(name, (None, value.encode())) for name, value in form.fields] + list(form.files)
            request = self._http.build_request("POST", self.base_url + path, headers=sent, files=parts)
            request.read()
            exchange.request_headers["Content-Type"] = "multipart/form-data"
            exchange.form = [(name, value, False) for name, value in form.fields] + \
                [(name, filename, True) for name, (filename, _raw, _media) in form.files]
        exchange.request_bytes = len(request.content)
        self._send(request, exchange)
        waited = 0.0
        while exchange.status in (429, 503) and exchange.retries < self.limits.max_retries:
            wait = _retry_after_s(exchange.headers.get("retry-after"))
            if wait is None:
                break  # no usable Retry-After: the answer stands
            if waited + wait > self.limits.retry_budget_s or not self._spend_retry(wait):
                exchange.retry_exhausted = True  # over budget: the answer stands, and says the router is saturated
                break
            time.sleep(wait)
            waited += wait
            retries = exchange.retries + 1
            exchange = Exchange(exchange.method, exchange.url, exchange.request_headers, exchange.body,
                                form=exchange.form, retries=retries, redactor=self.redactor,
                                request_bytes=exchange.request_bytes)
            self._send(request, exchange)
        if exchange.status in (429, 503) and exchange.retries >= self.limits.max_retries > 0:
            exchange.retry_exhausted = True
        return exchange

    def _spend_retry(self, wait_s: float) -> bool:
        """Take ``wait_s`` seconds from the client-wide retry budget; ``False`` when it cannot pay."""
        with self._retry_lock:
            if wait_s > self._retry_left_s:
                return False
            self._retry_left_s -= wait_s
            return True

    def fetch_image_urls(self, exchange: Exchange, *, limit: int = 16) -> None:
        """GET the first ``limit`` ``data[].url`` of a 200 JSON answer into ``exchange.downloads`` (url -> Exchange).

        Call it only when the case's images are URLs. Image URLs are fetched
        without the API key (they are meant to be public), under the same
        limits, and only where :func:`~harness.transport._urls.refusal`
        allows: a refused URL is recorded as a download whose ``error`` says why.
        """
        if exchange.status != 200:
            return
        try:
            data = exchange.json().get("data")
        except (ValueError, AttributeError):
            return
        urls = [item["url"] for item in data if isinstance(item, dict) and isinstance(item.get("url"), str)] \
            if isinstance(data, list) else []
        for url in urls[:limit]:
            download = Exchange("GET", url[:2000], {}, None, redactor=self.redactor)
            refused = refusal(url, router_host=self.host, allow_private=self.allow_private_image_urls)
            if refused is None:
                try:
                    request = self._http.build_request("GET", url, headers={"Accept-Encoding": _ACCEPT_ENCODING})
                except (httpx.InvalidURL, ValueError, UnicodeError) as exc:  # idna errors are UnicodeErrors
                    refused = f"unusable URL ({type(exc).__name__})"
                else:
                    self._send(request, download)
            if refused is not None:
                download.error = f"not fetched: {self.redact(refused)}"
            exchange.downloads[url] = download

    def _send(self, request: httpx.Request, exchange: Exchange) -> None:
        started = time.monotonic()
        exchange.sent_at = time.time()
        try:
            self._portal.call(self._exchange, request, exchange, started)
        except httpx.TimeoutException as exc:
            exchange.timed_out = True
            exchange.error = f"timed out ({type(exc).__name__}) after {time.monotonic() - started:.1f} s"
        except httpx.HTTPError as exc:
            exchange.error = self.redact(f"transport error: {type(exc).__name__}: {exc}"[:500])
        exchange.elapsed_s = time.monotonic() - started

    async def _exchange(self, request: httpx.Request, exchange: Exchange, started: float) -> None:
        """Send ``request`` and read its answer into ``exchange`` within ``limits.total_s`` seconds
        (``started``: the monotonic clock when it left)."""
        limits = self.limits
        chunks: list[bytes] = []
        with anyio.move_on_after(limits.total_s) as deadline:
            response = await self._http.send(request, stream=True)
            try:
                exchange.status = response.status_code
                self._keep_headers(response, exchange)
                exchange.error = _refused_body(response, limits)
                if exchange.error is None and _is_event_stream(response):
                    await self._read_events(response, exchange, started=started)
                    return
                size = 0
                async for chunk in (response.aiter_bytes() if exchange.error is None else _nothing()):
                    size += len(chunk)
                    if size > limits.max_body_bytes:
                        exchange.error = f"response body exceeds {limits.max_body_bytes:,} bytes; stopped reading"
                        break
                    chunks.append(chunk)
            finally:
                # the key never travels further than this: checks, evidence and reports see it redacted
                exchange.content = self.redactor.bytes(b"".join(chunks))
                with anyio.move_on_after(2, shield=True):
                    await response.aclose()
        if deadline.cancelled_caught:
            exchange.timed_out = True
            what = "the rest of the answer" if exchange.status is not None else "an answer"
            exchange.error = f"no complete answer within {limits.total_s:g} s (--timeout); stopped waiting for {what}"

    async def _read_events(self, response: httpx.Response, exchange: Exchange, *, started: float) -> None:
        """Read a ``text/event-stream`` answer with httpx-sse into ``exchange.events``, within ``max_body_bytes``
        and at most ``MAX_EVENTS`` events (the caller's deadline bounds the time)."""
        bounded = _BoundedText(response, self.limits.max_body_bytes)
        exchange.events = []
        try:
            async for sse in httpx_sse.EventSource(bounded).aiter_sse():  # type: ignore[arg-type]
                if len(exchange.events) >= MAX_EVENTS:
                    exchange.error = f"more than {MAX_EVENTS} events; stopped reading"
                    return
                exchange.events.append(StreamEvent(self.redact(sse.event[:200]), self.redact(sse.data),
                                                   self.redact(sse.id[:200]), time.monotonic() - started,
                                                   len(sse.data)))
        except _TooLarge:
            exchange.error = f"event stream exceeds {self.limits.max_body_bytes:,} characters; stopped reading"
        finally:
            exchange.stream_cut = bounded.seen and not bounded.ended_on_blank_line

    def _keep_headers(self, response: httpx.Response, exchange: Exchange) -> None:
        """At most ``limits.max_headers`` headers, names lower-cased, values cut; all redacted."""
        items = response.headers.multi_items()
        cut = self.limits.max_header_chars
        for name, value in items[:self.limits.max_headers]:
            name, value = self.redact(name.lower())[:200], self.redact(value)
            exchange.headers[name] = value if len(value) <= cut else f"{value[:cut]}…[{len(value):,} chars]"
        exchange.headers_dropped = max(0, len(items) - self.limits.max_headers)


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


def _is_event_stream(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").partition(";")[0].strip().lower() == "text/event-stream"


async def _nothing() -> Any:
    return
    yield


_ACCEPT_ENCODING = "gzip, deflate"
_DECODABLE = {"gzip", "deflate"}


def _refused_body(response: httpx.Response, limits: Limits) -> str | None:
    """Why the body of ``response`` is not read at all: a declared size over the limit, or an encoding
    that is stacked (``gzip, gzip``: a few kilobytes can inflate to gigabytes) or was never asked for."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_body_bytes:
        return f"Content-Length {int(declared):,} exceeds {limits.max_body_bytes:,} bytes; body not read"
    codings = [c.strip().lower() for c in response.headers.get_list("content-encoding", split_commas=True)]
    codings = [c for c in codings if c and c != "identity"]
    if len(codings) > 1:
        return f"stacked Content-Encoding {', '.join(codings)[:80]!r} refused (decompression bomb guard); body not read"
    if codings and codings[0] not in _DECODABLE:
        return f"Content-Encoding {codings[0][:40]!r} was not asked for (Accept-Encoding: {_ACCEPT_ENCODING}); body not read"
    return None


def _no_cookies() -> http.cookiejar.CookieJar:
    """A cookie jar that keeps nothing: every request is exactly what the case and its curl line say."""
    return http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


def httpx_path(url: str) -> str:
    """The path of ``url`` (``http://host/v1/x`` -> ``/v1/x``); ``""`` when it does not parse."""
    try:
        return httpx.URL(url).path
    except httpx.InvalidURL:
        return ""


def _retry_after_s(value: str | None) -> float | None:
    """``Retry-After`` (delay seconds or an HTTP date, RFC 9110) in seconds from now; ``None`` if unusable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())
