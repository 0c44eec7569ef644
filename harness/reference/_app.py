"""The reference router: a Starlette app that serves a profile exactly as its spec says.

It validates requests with the very schemas the harness derives from the
profile, so profile and emulation cannot drift, and draws real images with
Pillow at the requested size and format. With a fault it breaks one rule on
purpose, which is how the project proves its checks catch that rule.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import httpx
from PIL import Image, ImageDraw, UnidentifiedImageError
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..rules.size import parse_size
from ..transport.forms import body_from_form, decode_data_uri
from ..derive.schema import header_violations, request_violations
from ..spec import PIL_FORMATS, ModelEndpoint, Profile
from ._faults import Fault

__all__ = ["INPUT_IMAGE_PATH", "create_app"]

_COLORS = [(220, 40, 40), (40, 120, 220), (40, 170, 80), (230, 180, 30)]


def _error(status: int, message: str, *, type_: str, param: str | None, code: str | None, fault: Fault | None) -> JSONResponse:
    name = fault.name if fault is not None else ""
    if name == "error-without-error-object":
        return JSONResponse({"message": message}, status_code=status)
    body: dict[str, Any] = {"error": {"message": message, "type": type_, "param": None if name == "error-param-null" else param,
                                      "code": code}}
    if name == "error-with-image" and status != 401:
        body["data"] = [{"b64_json": base64.b64encode(render_image(64, 64, "png")).decode()}]
    return JSONResponse(body, status_code=status)


def render_image(width: int, height: int, fmt: str, *, index: int = 0, transparent: bool = False) -> bytes:
    """A real ``width`` x ``height`` image (pixels) encoded as ``fmt`` (png, jpeg, webp)."""
    mode = "RGBA" if transparent and fmt != "jpeg" else "RGB"
    image = Image.new(mode, (width, height), (0, 0, 0, 0) if mode == "RGBA" else (255, 255, 255))
    r = min(width, height) // 3
    cx, cy = width // 2, height // 2
    ImageDraw.Draw(image).ellipse((cx - r, cy - r, cx + r, cy + r), fill=_COLORS[index % len(_COLORS)])
    out = io.BytesIO()
    options: dict[str, Any] = {"compress_level": 1} if fmt == "png" else {"quality": 80}
    image.save(out, format=PIL_FORMATS[fmt], **options)
    return out.getvalue()


#: Where, under the profile's ``base_path``, the router serves a 256 x 256 PNG for image-URL inputs.
INPUT_IMAGE_PATH = "/_inputs/input.png"

#: How many generated images the router keeps for ``url`` answers (oldest dropped first).
_STORED_IMAGES = 256


#: ``resolution`` value -> long edge in pixels (Grok-style aspect_ratio + resolution models).
_RESOLUTION_EDGE = {"1k": 1024, "2k": 2048}


def _default_size(op: ModelEndpoint, effective: dict[str, Any]) -> tuple[int, int]:
    """The pixel size drawn when the request names none: aspect_ratio x resolution, else the first allowed size."""
    ratio = effective.get("aspect_ratio")
    if isinstance(ratio, str) and ":" in ratio:
        a, b = (int(x) for x in ratio.split(":"))
        edge = _RESOLUTION_EDGE.get(effective.get("resolution", "1k"), 1024)
        return (edge, round(edge * b / a)) if a >= b else (round(edge * a / b), edge)
    param = op.params.get("size")
    if param is not None and "allowed" in param.rules:
        return parse_size(param.rules["allowed"].value[0])  # type: ignore[return-value]
    return 1024, 1024


def _usage(body: dict[str, Any], n: int) -> dict[str, Any]:
    text = max(1, len(str(body.get("prompt", ""))) // 4)
    image_out = 272 * n
    return {
        "total_tokens": text + image_out,
        "input_tokens": text,
        "input_tokens_details": {"image_tokens": 0, "text_tokens": text},
        "output_tokens": image_out,
        "output_tokens_details": {"image_tokens": image_out, "text_tokens": 0},
    }


#: Resets the TCP connection of the client at this ``(host, port)`` (true if it found it); given by the server.
ResetConnection = Callable[[Any], bool]


def create_app(profile: Profile, *, api_key: str | None, fault: Fault | None = None, latency_s: float = 0.0,
               reset_connection: ResetConnection | None = None) -> Starlette:
    """A Starlette app serving every endpoint of ``profile`` under its ``base_path`` (``/v1``).

    ``api_key`` None disables auth; ``latency_s`` (seconds) delays each
    answer; ``fault`` breaks exactly one rule. Images answered as ``url``
    are served from ``<base_path>/_images/<id>`` (the latest 256 are kept).
    ``reset_connection`` is how the ``connection-reset`` fault drops a
    connection (ASGI has no such message; the server provides it).
    """
    stored: OrderedDict[str, tuple[bytes, str]] = OrderedDict()

    def broken(name: str) -> bool:
        return fault is not None and fault.name == name

    def authorized(request: Request) -> bool:
        if api_key is None or (broken("no-auth")):
            return True
        return request.headers.get("authorization") == f"Bearer {api_key}"

    def violations(endpoint: str, body: dict[str, Any]) -> dict[str, str]:
        found = request_violations(profile, endpoint, body)
        if broken("accepts-unknown-model") and set(found) == {f"{profile.endpoints[endpoint].prefix}.model.known"}:
            return {}
        if fault is not None and fault.skip_rule:
            op = profile.model_endpoint(endpoint, body.get("model"))
            if op is not None:
                skipped = {r.requirement.id for r in op.rules() if r.kind == fault.skip_rule}
                found = {rid: p for rid, p in found.items() if rid not in skipped}
        return found

    calls = [0]  # answers so far (rate-limited answers every other one with 429)
    stalled: set[str] = set()  # the stall fault stalls once

    def make_handler(endpoint: str):
        async def handle(request: Request) -> Response:
            calls[0] += 1
            if latency_s:  # every answer is slow, as a loaded upstream is
                await asyncio.sleep(latency_s)
            if broken("rate-limited") and calls[0] % 2:
                return JSONResponse({"error": {"message": "Rate limit reached, retry shortly.", "type": "rate_limit_error",
                                               "param": None, "code": "rate_limited"}},
                                    status_code=429, headers={"Retry-After": "0"})
            if not authorized(request):
                sent = request.headers.get("authorization", "")
                message = f"Incorrect API key provided: {sent}." if broken("reflects-key") else "Incorrect API key provided."
                return _error(403 if broken("auth-403") else 401, message, type_="invalid_request_error", param=None,
                              code="invalid_api_key", fault=fault)
            bad_headers = {} if broken("ignores-content-type") else header_violations(profile, request.headers)
            if bad_headers:
                rid, name = next(iter(bad_headers.items()))
                return _error(400, f"Invalid or missing header '{name}': breaks {rid}.", type_="invalid_request_error",
                              param=None, code=rid, fault=fault)
            if request.headers.get("content-type", "").startswith("multipart/form-data"):
                if "multipart" not in profile.endpoints[endpoint].encodings:
                    return _error(415, "This endpoint takes application/json.", type_="invalid_request_error",
                                  param=None, code="unsupported_media_type", fault=fault)
                body = await _form_body(request, endpoint)
            else:
                try:
                    body = json.loads(await request.body())
                except ValueError:
                    return _error(400, "The request body is not valid JSON.", type_="invalid_request_error",
                                  param=None, code="invalid_json", fault=fault)
            if not isinstance(body, dict):
                return _error(400, "The request body must be a JSON object.", type_="invalid_request_error",
                              param=None, code="invalid_json", fault=fault)
            found = violations(endpoint, body)
            if found:
                rid, param = next(iter(found.items()))
                status = 500 if broken("500-on-invalid") else 422 if broken("422-on-invalid") else profile.errors.status
                message = f"Invalid value for '{param}': breaks {rid}."
                if broken("reflects-key"):  # the real key, as a careless router logs it back
                    message += f" (request authorization: {request.headers.get('authorization')})"
                return _error(status, message, type_="invalid_request_error", param=param, code=rid, fault=fault)
            op = profile.model_endpoint(endpoint, body["model"]) or next(
                o for o in profile.model_endpoints() if o.endpoint == endpoint)  # only under accepts-unknown-model
            unreadable = await _unreadable_input(op, body)
            if unreadable:
                param, why = unreadable
                return _error(400, f"Invalid image in '{param}': {why}", type_="invalid_request_error", param=param,
                              code="invalid_image", fault=fault)
            if broken("connection-reset") and reset_connection is not None:
                if reset_connection(request.client):  # TCP RST: the client sees "connection reset by peer"
                    return Response(b"")
                return _error(500, "The connection-reset fault found no connection to reset.", type_="server_error",
                              param=None, code="reset_failed", fault=fault)
            garbage = await _garbage(fault.name if fault is not None else "", stalled)
            if garbage is not None:
                return garbage
            base_url = str(request.base_url).rstrip("/") + profile.base_path
            payload = await asyncio.to_thread(_generate, op, body, base_url)
            media = "text/plain" if broken("text-plain") else "application/json"
            return Response(json.dumps(payload), media_type=media)

        return handle

    async def _form_body(request: Request, endpoint: str) -> dict[str, Any]:
        form = await request.form()
        parts: list[tuple[str, Any]] = []
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                parts.append((name, (await value.read(), value.content_type or "application/octet-stream")))
            else:
                parts.append((name, value))
        model = next((v for k, v in parts if k == "model"), None)
        return body_from_form(profile.model_endpoint(endpoint, model), parts)

    def _store(raw: bytes, fmt: str, base_url: str) -> str:
        image_id = f"{uuid.uuid4().hex}.{fmt}"
        stored[image_id] = (raw, f"image/{fmt}")
        while len(stored) > _STORED_IMAGES:
            stored.popitem(last=False)
        return f"{base_url}/_images/{image_id}"

    def _generate(op: ModelEndpoint, body: dict[str, Any], base_url: str) -> dict[str, Any]:
        effective = op.effective(body)
        n = effective.get("n", 1) if isinstance(effective.get("n"), int) else 1
        if broken("ignores-n"):
            n = 1
        size = parse_size(body.get("size")) or _default_size(op, effective)
        if broken("square-whatever-aspect-ratio") and "aspect_ratio" in effective:
            size = (max(size), max(size))
        if broken("fixed-1024"):
            size = (1024, 1024)
        fmt = effective.get("output_format") or "png"
        encode_as = "png" if broken("always-png") else fmt
        transparent = effective.get("background") == "transparent" and not broken("opaque-when-transparent")
        field = op.image_fields_for(body)[0]
        data = []
        for index in range(n):
            raw = b"this is not an image" if broken("not-an-image") else \
                render_image(*size, encode_as, index=index, transparent=transparent)
            value = _store(raw, encode_as, base_url) if field == "url" else base64.b64encode(raw).decode()
            data.append({field: value})
        now = time.time()
        in_ms = op.response.created_unit == "milliseconds" or broken("created-in-milliseconds")
        created = int(now * 1000) if in_ms else int(now)
        payload: dict[str, Any] = {"created": created, "data": data}
        shown_size = f"{size[0]}x{size[1]}"
        if broken("echo-wrong-size"):
            shown_size = f"{size[0] + 16}x{size[1]}"
        quality = effective.get("quality", "auto")
        background = effective.get("background")
        echoes = {"size": shown_size, "quality": "medium" if quality == "auto" else quality, "output_format": fmt,
                  # "auto" is resolved, as a real router reports what it made
                  "background": "transparent" if transparent else ("opaque" if background else None)}
        documented = set(op.response.echo_fields) | set(op.response.schema.get("properties", {}))
        payload.update({k: v for k, v in echoes.items() if k in documented})
        payload["usage"] = _usage(body, n)
        if broken("usage-total-off"):
            payload["usage"]["total_tokens"] += 1
        payload.update(_extras(op, started=now))
        if broken("negative-cost") and "cost" in payload:
            payload["cost"] = -0.004
        if broken("attempt-without-region") and "extra" in payload:
            del payload["extra"]["routing"]["attempts"][0]["region"]
        if broken("missing-created"):
            del payload["created"]
        return payload

    async def image(request: Request) -> Response:
        found = stored.get(request.path_params["image_id"])
        if found is None:
            return Response(status_code=404)
        return Response(found[0], media_type=found[1])

    async def input_image(request: Request) -> Response:
        return Response(render_image(256, 256, "png"), media_type="image/png")

    routes = [Route(profile.base_path + "/_images/{image_id}", image, methods=["GET"]),
              Route(profile.base_path + INPUT_IMAGE_PATH, input_image, methods=["GET"])]
    for name, endpoint in profile.endpoints.items():
        for path in (endpoint.path, *endpoint.alternative_paths):
            routes.append(Route(profile.base_path + path, make_handler(name), methods=["POST"]))
    return Starlette(routes=routes)


#: Hosts the reference router fetches image URLs from: it never sends traffic off the machine.
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


async def _unreadable_input(op: ModelEndpoint, body: dict[str, Any]) -> tuple[str, str] | None:
    """``(param, why)`` for the first input image that is not a readable image, else ``None``.

    Files arrive as ``data:`` URIs (see ``body_from_form``); ``http(s)`` URLs
    are fetched, on loopback only; each kind must be one the parameter's
    ``inputs`` lists (when it lists any).
    """
    for name, param in op.params.items():
        if param.type != "image" or name not in body:
            continue
        for value in body[name] if isinstance(body[name], list) else [body[name]]:
            decoded = decode_data_uri(value)
            kind = "data_uri" if decoded is not None else "url" if str(value).startswith(("http://", "https://")) else None
            if kind is None:
                return name, "neither a file, a data: URI nor an http(s) URL"
            if param.inputs and kind not in param.inputs and not (kind == "data_uri" and "file" in param.inputs):
                return name, f"{kind} inputs are not accepted here (documented: {', '.join(param.inputs)})"
            raw = decoded[0] if decoded is not None else await _fetch(str(value))
            if raw is None:
                return name, f"could not fetch {value!r} (this router fetches loopback URLs only)"
            try:
                Image.open(io.BytesIO(raw)).verify()
            except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
                return name, "the bytes are not an image"
    return None


async def _fetch(url: str) -> bytes | None:
    """The body of a 200 answer to GET ``url`` on a loopback host (at most 16 MiB, 5 s), else ``None``."""
    limit = 16 * 1024 * 1024
    try:
        if httpx.URL(url).host not in _LOOPBACK_HOSTS:
            return None
        # trust_env=False: no HTTP(S)_PROXY detour off the machine; redirects are not followed
        async with httpx.AsyncClient(timeout=5.0, trust_env=False) as client, client.stream("GET", url) as answer:
            if answer.status_code != 200:
                return None
            chunks, size = [], 0
            async for chunk in answer.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    return None
                chunks.append(chunk)
    except (httpx.HTTPError, httpx.InvalidURL):
        return None
    return b"".join(chunks)


async def _garbage(name: str, stalled: set[str]) -> Response | None:
    """What a broken router sends instead of an answer to a valid request, for the garbage faults."""
    if name == "garbage-json":
        return Response(b'{"created": 17, "data": [{"b64_json": "iVBOR', media_type="application/json")
    if name == "huge-body":
        return Response(b'{"data": "' + b"A" * (50 * 1024 * 1024), media_type="application/json")
    if name == "truncated-body":
        return Response(b'{"created": 1', media_type="application/json", headers={"content-length": "100000"})
    if name == "stall" and not stalled:
        stalled.add(name)  # only the first generation request stalls
        await asyncio.sleep(30)
    return None


def _extras(op: ModelEndpoint, *, started: float) -> dict[str, Any]:
    """Profile-specific top-level fields the response schema documents (latency, cost, extra.routing)."""
    properties = op.response.schema.get("properties", {})
    extras: dict[str, Any] = {}
    if "latency" in properties:
        extras["latency"] = max(0, int((time.time() - started) * 1000))
    if "cost" in properties:
        extras["cost"] = 0 if not op.billable else 0.004
    if "extra" in properties:
        extras["extra"] = {"routing": {"attempts": [{"provider": "reference", "region": "local", "status": "succeeded"}]}}
    return extras
