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
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from .._errors import RouterUnreachable
from .._redact import KEY_PLACEHOLDER, Redactor
from .forms import FormParts

__all__ = ["Exchange", "RouterClient", "Limits", "KEY_PLACEHOLDER", "httpx_path"]


@dataclass(frozen=True)
class Limits:
    """Timeouts in seconds and the largest response body read, in bytes.

    ``read_s`` bounds each wait for data; ``total_s`` bounds a whole answer
    that keeps trickling in. A 429 or 503 with ``Retry-After`` is retried up
    to ``max_retries`` times while the waits add up to at most ``retry_budget_s``.
    """

    connect_s: float = 5.0
    read_s: float = 180.0
    total_s: float = 300.0
    max_body_bytes: int = 64 * 1024 * 1024
    retry_budget_s: float = 60.0
    max_retries: int = 3


@dataclass
class Exchange:
    """One request and what came back; ``error`` is set when no full answer arrived.

    ``request_headers`` are already redacted. ``elapsed_s`` is wall time in seconds;
    ``sent_at`` is the client clock (Unix seconds) when the request left.
    ``form`` lists the multipart parts sent as ``(name, text or filename, is_file)``;
    ``downloads`` holds the fetched ``data[].url`` images by URL.
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
    error: str | None = None
    downloads: dict[str, Exchange] = field(default_factory=dict)
    form: list[tuple[str, str, bool]] | None = None
    redactor: Redactor = field(default_factory=lambda: Redactor(None), repr=False, compare=False)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self) -> Any:
        """The body parsed as JSON, every string redacted after decoding (a key sent as ``\\u`` escapes
        decodes to the key); raises ``ValueError`` when it is not JSON (or nests absurdly deep)."""
        try:
            return self.redactor.value(json.loads(self.content))
        except RecursionError:
            raise ValueError("JSON nested too deeply to parse") from None


class RouterClient:
    """Sends requests to a router at ``base_url`` (an OpenAI SDK ``base_url``, e.g. ``http://host/v1``).

    ``api_key`` is sent as ``Authorization: Bearer``; it never appears in an
    :class:`Exchange`, an exception, or a log line.
    """

    def __init__(self, base_url: str, *, api_key: str | None, limits: Limits = Limits(),
                 headers: dict[str, str] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.redactor = Redactor(api_key)
        self.limits = limits
        self._extra_headers = dict(headers or {})
        self._http = httpx.Client(
            timeout=httpx.Timeout(limits.read_s, connect=limits.connect_s),
            follow_redirects=False,
            cookies=_no_cookies(),  # a router's Set-Cookie must not ride on later cases (the evidence would not show it)
        )

    def close(self) -> None:
        self._http.close()

    def redact(self, text: str) -> str:
        """``text`` with the API key, in any spelling (see :class:`~harness._redact.Redactor`), replaced."""
        return self.redactor.text(text)

    def probe(self) -> None:
        """Raise :class:`RouterUnreachable` when no connection to the router can be made.

        Any HTTP answer, even a 404, proves the router is reachable. Its body
        is never read, and its connection is not kept (``Connection: close``):
        a server that drops a connection after an error must not leave a dead
        one in the pool for the first real request.
        """
        try:
            with self._http.stream("GET", self.base_url + "/models", headers={"Connection": "close"},
                                   timeout=self.limits.connect_s + 5):
                pass
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol) as exc:
            raise RouterUnreachable(self.base_url, reason=self.redact(str(exc) or type(exc).__name__)) from None
        except httpx.HTTPError:
            return  # it answered something; the cases will judge it

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
        self._send(request, exchange)
        waited = 0.0
        while exchange.status in (429, 503) and exchange.retries < self.limits.max_retries:
            wait = _retry_after_s(exchange.headers.get("retry-after"))
            if wait is None or waited + wait > self.limits.retry_budget_s:
                break  # no usable Retry-After, or over budget: the answer stands
            time.sleep(wait)
            waited += wait
            retries = exchange.retries + 1
            exchange = Exchange(exchange.method, exchange.url, exchange.request_headers, exchange.body,
                                form=exchange.form, retries=retries, redactor=self.redactor)
            self._send(request, exchange)
        return exchange

    def fetch_image_urls(self, exchange: Exchange, *, limit: int = 16) -> None:
        """GET every ``data[].url`` of a 200 JSON answer into ``exchange.downloads`` (url -> Exchange).

        Image URLs are fetched without the API key (they are meant to be
        public) and under the same time and size limits; at most ``limit``.
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
            download = Exchange("GET", url, {}, None, redactor=self.redactor)
            try:
                parsed = httpx.URL(url)
                if parsed.scheme not in ("http", "https"):
                    raise ValueError(f"not an http(s) URL: {url[:120]!r}")
                self._send(self._http.build_request("GET", parsed), download)
            except (httpx.InvalidURL, ValueError, UnicodeError) as exc:  # idna errors are UnicodeErrors
                download.error = f"unusable URL: {type(exc).__name__}: {str(exc)[:200]}"
            exchange.downloads[url] = download

    def _send(self, request: httpx.Request, exchange: Exchange) -> None:
        started = time.monotonic()
        exchange.sent_at = time.time()
        try:
            with self._http.stream(request.method, request.url, headers=request.headers, content=request.content) as response:
                exchange.status = response.status_code
                exchange.headers = {self.redact(k.lower()): self.redact(v) for k, v in response.headers.items()}
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.limits.max_body_bytes:
                        exchange.error = f"response body exceeds {self.limits.max_body_bytes:,} bytes; stopped reading"
                        break
                    if time.monotonic() - started > self.limits.total_s:
                        exchange.error = f"response still arriving after {self.limits.total_s:.0f} s; stopped reading"
                        break
                    chunks.append(chunk)
                # the key never travels further than this: checks, evidence and reports see it redacted
                exchange.content = self.redactor.bytes(b"".join(chunks))
        except httpx.TimeoutException as exc:
            exchange.error = f"timed out ({type(exc).__name__}) after {time.monotonic() - started:.1f} s"
        except httpx.HTTPError as exc:
            exchange.error = self.redact(f"transport error: {type(exc).__name__}: {exc}")
        exchange.elapsed_s = time.monotonic() - started


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
