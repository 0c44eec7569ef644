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
from typing import Any

import anyio
import anyio.from_thread
import httpx

from .._errors import RouterUnreachable
from .._redact import KEY_PLACEHOLDER, Redactor
from ._exchange import Exchange, Limits, StreamEvent
from ._sse import MAX_EVENTS, is_event_stream, read_events
from ._urls import refusal
from .forms import FormParts

__all__ = ["Exchange", "KEY_PLACEHOLDER", "Limits", "MAX_EVENTS", "RouterClient", "StreamEvent", "httpx_path", "retry_after_s"]


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
            wait = retry_after_s(exchange.headers.get("retry-after"))
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
                if exchange.error is None and is_event_stream(response):
                    await read_events(response, exchange, started=started, limit=limits.max_body_bytes, redact=self.redact)
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

    def _keep_headers(self, response: httpx.Response, exchange: Exchange) -> None:
        """At most ``limits.max_headers`` headers, names lower-cased, values cut; all redacted."""
        items = response.headers.multi_items()
        cut = self.limits.max_header_chars
        for name, value in items[:self.limits.max_headers]:
            name, value = self.redact(name.lower())[:200], self.redact(value)
            exchange.headers[name] = value if len(value) <= cut else f"{value[:cut]}…[{len(value):,} chars]"
        exchange.headers_dropped = max(0, len(items) - self.limits.max_headers)


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


def retry_after_s(value: str | None) -> float | None:
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
