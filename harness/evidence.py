"""What a case records for the report: redacted request, response, curl line, thumbnails.

Evidence is what a vendor needs to reproduce and fix a failure. It is built
from the exchange after the checks ran and holds no secret: the key appears
only as ``$ROUTER_API_KEY`` and base64 payloads are cut short.
"""

from __future__ import annotations

import base64
import io
import json
import shlex
from typing import Any, TypedDict

from PIL import Image

from .transport.client import KEY_PLACEHOLDER, Exchange

__all__ = ["Evidence", "build_evidence", "curl_command", "stream_timing", "truncate_payloads"]


class Evidence(TypedDict):
    """One exchange as a report shows it: redacted ``request`` (method, url, headers, body) and ``response``
    (status, headers, body or text, transport error), ``elapsed_s`` in seconds, a replayable ``curl`` line and
    up to four PNG ``thumbnails`` (128 px data URIs)."""

    request: dict[str, Any]
    response: dict[str, Any]
    elapsed_s: float
    curl: str
    thumbnails: list[str]

_KEEP_CHARS = 120
_KEEP_ITEMS = 10
_KEEP_KEYS = 50
_KEEP_DEPTH = 12
_THUMBNAIL_PX = 128
#: The longest curl line kept whole, in characters; a longer one has its long strings cut (and says so).
MAX_CURL_CHARS = 16_000


def truncate_payloads(value: Any, *, keep: int = _KEEP_CHARS, items: int | None = _KEEP_ITEMS,
                      names: int | None = _KEEP_KEYS, depth: int = 0) -> Any:
    """``value`` cut to a readable size, each cut saying what it left out: strings over ``keep`` characters,
    lists over ``items`` items, objects over ``names`` names (``None``: no limit), nesting over 12 levels."""
    if isinstance(value, str) and len(value) > keep:
        return f"{value[:keep]}…[{len(value):,} chars]"
    if isinstance(value, (dict, list)) and depth >= _KEEP_DEPTH:
        return f"…[{'object' if isinstance(value, dict) else 'array'} nested {depth} levels deep]"
    def inner(v: Any) -> Any:
        return truncate_payloads(v, keep=keep, items=items, names=names, depth=depth + 1)
    if isinstance(value, dict):
        pairs = list(value.items())
        shown = pairs if names is None else pairs[:names]
        cut = {truncate_payloads(k, keep=keep): inner(v) for k, v in shown}
        if len(pairs) > len(shown):
            cut["…"] = f"[{len(pairs) - len(shown):,} more names]"
        return cut
    if isinstance(value, list):
        kept = value if items is None else value[:items]
        cut_list = [inner(v) for v in kept]
        if len(value) > len(kept):
            cut_list.append(f"…[{len(value) - len(kept):,} more items]")
        return cut_list
    return value


def curl_command(exchange: Exchange, *, base_url: str | None = None) -> str:
    """A shell line that repeats the request; the key is read from ``$ROUTER_API_KEY``, and a URL under
    ``base_url`` (the router's base URL) is written ``"$ROUTER_URL"/...`` so the line replays against any router."""
    url = shlex.quote(exchange.url)
    if base_url and exchange.url.startswith(base_url.rstrip("/") + "/"):
        url = '"$ROUTER_URL"' + shlex.quote(exchange.url[len(base_url.rstrip("/")):])
    parts = ["curl", "-sS", "-X", exchange.method, url]
    for name, value in exchange.request_headers.items():
        if exchange.form is not None and name.lower() == "content-type":
            continue  # curl -F writes its own multipart Content-Type with the boundary
        if KEY_PLACEHOLDER in value:
            parts += ["-H", f'"{name}: {value}"']  # double quotes: the shell expands the variable
        else:
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    if exchange.form is not None:
        # file parts read @<name>-<i>.<ext>: the case's input images, saved from its data: URIs
        for name, value, is_file in exchange.form:
            # --form-string: a text value starting with @ or < stays text, never a file to read
            parts += ["-F", shlex.quote(f"{name}=@{value}")] if is_file else ["--form-string", shlex.quote(f"{name}={value}")]
    elif exchange.body is not None:
        parts += ["--data-binary", shlex.quote(json.dumps(exchange.body))]
        line = " ".join(parts)
        if len(line) > MAX_CURL_CHARS:
            parts[-1] = shlex.quote(json.dumps(truncate_payloads(exchange.body, keep=1000)))
            return " ".join(parts) + f"  # body shortened from {len(line):,} characters: long strings cut"
    return " ".join(parts)


def _thumbnail(image: Image.Image) -> str:
    thumb = image.copy()
    thumb.thumbnail((_THUMBNAIL_PX, _THUMBNAIL_PX))
    if thumb.mode not in ("RGB", "RGBA"):
        thumb = thumb.convert("RGBA")
    out = io.BytesIO()
    thumb.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def _response_body(exchange: Exchange) -> Any:
    try:
        body = truncate_payloads(exchange.json())
        json.dumps(body)  # what the report will do with it
        return body
    except (ValueError, RecursionError):
        text = exchange.content[:2000].decode("utf-8", "replace")
        return text + (f"…[{len(exchange.content):,} bytes]" if len(exchange.content) > 2000 else "")


def _index_of(data: str) -> Any:
    """The ``partial_image_index`` an event's JSON data carries (``None``: none, or not JSON)."""
    try:
        value = json.loads(data)
    except ValueError:
        return None
    index = value.get("partial_image_index") if isinstance(value, dict) else None
    return index if isinstance(index, int) and not isinstance(index, bool) else None


def _timeline(exchange: Exchange) -> list[dict[str, Any]]:
    """The event stream as a timeline: event type, partial image index, seconds since the request left,
    characters of data (the first 64 events; data itself is not repeated: base64 images)."""
    rows: list[dict[str, Any]] = [{"event": e.event[:80], "index": _index_of(e.data), "at_s": round(e.at_s, 3),
                                   "size": e.size} for e in (exchange.events or [])[:64]]
    if exchange.stream_cut:
        rows.append({"event": "(the stream ended in the middle of an event)", "index": None, "at_s": None, "size": 0})
    return rows


def _shown_headers(headers: dict[str, str]) -> dict[str, str]:
    """The first 40 response headers, values over 256 characters cut (the checks saw all that was kept)."""
    shown = {name: truncate_payloads(value, keep=256) for name, value in list(headers.items())[:40]}
    if len(headers) > 40:
        shown["…"] = f"[{len(headers) - 40} more headers]"
    return shown


def build_evidence(exchange: Exchange, images: list[Image.Image], *, redact: Any,
                   base_url: str | None = None) -> Evidence:
    """The JSON-ready evidence of one exchange; ``redact`` scrubs the key from any text; ``base_url`` is the
    router's base URL, which the curl line writes as ``"$ROUTER_URL"``."""
    evidence: Evidence = {
        "request": {
            "method": exchange.method,
            "url": exchange.url,
            "headers": exchange.request_headers,
            "body": truncate_payloads(exchange.body),
            "bytes": exchange.request_bytes,
        },
        "response": {
            "status": exchange.status,
            "headers": _shown_headers(exchange.headers),
            **({"headers_not_kept": exchange.headers_dropped} if exchange.headers_dropped else {}),
            "body": _response_body(exchange),
            **({"events": _timeline(exchange)} if exchange.events is not None else {}),
            "error": exchange.error,
        },
        "elapsed_s": round(exchange.elapsed_s, 3),
        "curl": curl_command(exchange, base_url=base_url),
        "thumbnails": [_thumbnail(image) for image in images[:4]],
    }
    return json.loads(redact(json.dumps(evidence)))


def stream_timing(profile: Any, case: Any, exchange: Exchange) -> dict[str, Any] | None:
    """A streamed answer's timing, for ``results.json``: ``events`` (count), ``first_event_s`` and ``completed_s``
    (seconds since the request left); ``None`` for an answer that was not a stream. ``profile`` and ``case``
    (a :class:`~harness.spec.Profile` and :class:`~harness.spec.Case`) say which event completes it."""
    if exchange.events is None:
        return None
    target = profile.model_endpoint(case.endpoint, case.model)
    completed = target.stream.completed_event if target is not None and target.stream is not None else None
    def is_completed(event: Any) -> bool:
        if event.event == completed:
            return True
        try:
            data = json.loads(event.data)
        except ValueError:
            return False
        return isinstance(data, dict) and data.get("type") == completed

    done = next((e.at_s for e in exchange.events if is_completed(e)), None)
    return {"events": len(exchange.events), "first_event_s": round(exchange.events[0].at_s, 3) if exchange.events else None,
            "completed_s": round(done, 3) if done is not None else None}
