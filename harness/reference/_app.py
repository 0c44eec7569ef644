"""The reference router: a Starlette app that serves a profile exactly as its spec says.

It validates requests with the very schemas the harness derives from the
profile (so profile and emulation cannot drift) and draws real images with
Pillow at the requested size and format. With a fault it breaks one rule on
purpose, through the hooks the fault registers (see ``_faults``): that is how
the project proves its checks catch that rule.
"""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import httpx
from PIL import Image, UnidentifiedImageError
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..derive.schema import header_violations, request_violations
from ..spec import ModelEndpoint, Profile
from ..rules.values import decode_data_uri
from ..transport.forms import body_from_form
from ._faults import ErrorContext, Fault, RouterState, Validation, ValidRequest
from ._images import generate, render_image
from ._stream import stream_events, stream_response

__all__ = ["INPUT_IMAGE_PATH", "create_app"]

#: Where, under the profile's ``base_path``, the router serves a 256 x 256 PNG for image-URL inputs.
INPUT_IMAGE_PATH = "/_inputs/input.png"

#: How many generated images the router keeps for ``url`` answers (oldest dropped first).
_STORED_IMAGES = 256

#: Resets the TCP connection of the client at this ``(host, port)`` (true if it found it); given by the server.
ResetConnection = Callable[[Any], bool]


class _Rejected(Exception):
    """A request the router answers with an error: ``status``, OpenAI-style error fields and why (``kind``)."""

    def __init__(self, status: int, message: str, *, code: str, param: str | None = None, kind: str = "request",
                 type_: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param, self.kind, self.type = status, message, code, param, kind, type_


class _Router:
    """One profile served with one (or no) fault; each endpoint's handler is :meth:`handle`."""

    def __init__(self, profile: Profile, *, api_key: str | None, fault: Fault | None, latency_s: float,
                 reset_connection: ResetConnection | None, public_url: str | None = None) -> None:
        self.profile = profile
        self.public_url = public_url.rstrip("/") if public_url else None
        self.api_key = api_key
        self.fault = fault or Fault("", "", None)  # a fault with no hooks is a faithful router
        self.latency_s = latency_s
        self.reset_connection = reset_connection
        self.state = RouterState()
        self.stored: OrderedDict[str, tuple[bytes, str]] = OrderedDict()

    def error(self, rejected: _Rejected, request: Request) -> Response:
        body: dict[str, Any] = {"error": {"message": rejected.message, "type": rejected.type, "param": rejected.param,
                                          "code": rejected.code}}
        status = rejected.status
        if self.fault.error is not None:
            context = ErrorContext(rejected.kind, request.headers.get("authorization", ""))
            status, body = self.fault.error(status, body, context)
        return JSONResponse(body, status_code=status)

    async def handle(self, request: Request, endpoint: str) -> Response:
        self.state.in_flight += 1
        try:
            answer = await self._handle(request, endpoint)
            return await self.fault.answer(self.state, answer) if self.fault.answer and answer.status_code == 200 \
                else answer
        finally:
            self.state.in_flight -= 1

    async def _handle(self, request: Request, endpoint: str) -> Response:
        self.state.calls += 1
        if self.latency_s:  # every answer is slow, as a loaded upstream is
            await asyncio.sleep(self.latency_s)
        intercepted = self.fault.intercept(self.state) if self.fault.intercept else None
        if intercepted is not None:
            return intercepted
        try:
            self.authorize(request)
            body = await self.body(request, endpoint)
            target = self.validate(endpoint, body)
            await self.check_inputs(target, body)
        except _Rejected as rejected:
            return self.error(rejected, request)
        if self.fault.respond is not None:
            answer = await self.fault.respond(ValidRequest(request.client, self.state, self.reset_connection))
            if answer is not None:
                return answer
        base_url = self.public_url or str(request.base_url).rstrip("/") + self.profile.base_path
        payload = await asyncio.to_thread(self.payload, target, body, base_url)
        if target.streams_for(body):
            events: Any = await asyncio.to_thread(stream_events, target, body, payload)
            if self.fault.stream is not None:
                events = self.fault.stream(events)
            if isinstance(events, Response):
                return events
            return stream_response(events, media_type=self.fault.stream_media_type or target.stream.media_type)  # type: ignore[union-attr]
        text = json.dumps(payload)
        return Response(self.fault.encode(text) if self.fault.encode else text,
                        media_type=self.fault.media_type or "application/json")

    def authorize(self, request: Request) -> None:
        ok = self.api_key is None or request.headers.get("authorization") == f"Bearer {self.api_key}"
        if self.fault.authorize is not None:
            ok = self.fault.authorize(ok)
        if not ok:
            raise _Rejected(401, "Incorrect API key provided.", code="invalid_api_key", kind="auth")

    async def body(self, request: Request, endpoint: str) -> dict[str, Any]:
        """The request as the JSON body the schemas judge (multipart forms mapped onto it)."""
        bad_headers = header_violations(self.profile, request.headers)
        if self.fault.headers is not None:
            bad_headers = self.fault.headers(bad_headers)
        if bad_headers:
            rid, name = next(iter(bad_headers.items()))
            raise _Rejected(400, f"Invalid or missing header '{name}': breaks {rid}.", code=rid)
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            if "multipart" not in self.profile.endpoints[endpoint].encodings:
                raise _Rejected(415, "This endpoint takes application/json.", code="unsupported_media_type")
            return await self.form_body(request, endpoint)
        try:
            body = json.loads(await request.body())
        except ValueError:
            raise _Rejected(400, "The request body is not valid JSON.", code="invalid_json") from None
        if not isinstance(body, dict):
            raise _Rejected(400, "The request body must be a JSON object.", code="invalid_json")
        return body

    async def form_body(self, request: Request, endpoint: str) -> dict[str, Any]:
        try:
            form = await request.form()
        except HTTPException as exc:  # Starlette's answer to no boundary, a part without a name, too many parts
            raise _Rejected(400, f"The multipart/form-data body cannot be read: {exc.detail}",
                            code="invalid_multipart") from None
        parts: list[tuple[str, Any]] = []
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                raw = await value.read()
                raw = self.fault.upload(raw) if self.fault.upload else raw
                parts.append((name, (raw, value.content_type or "application/octet-stream")))
            else:
                parts.append((name, value))
        model = next((v for k, v in parts if k == "model"), None)
        target = self.profile.model_endpoint(endpoint, model)
        images = {name for p in (target.params.values() if target else ()) if p.type == "image"
                  for name in (p.name, f"{p.name}[]", *p.aliases)}
        # a file part sent without a filename (Schemathesis does) arrives as text: take back its bytes
        parts = [(name, (_part_bytes(value), "application/octet-stream"))
                 if name in images and isinstance(value, str) and value and not value.startswith(_TEXT_INPUTS)
                 else (name, value) for name, value in parts]
        return body_from_form(target, parts)

    def validate(self, endpoint: str, body: dict[str, Any]) -> ModelEndpoint:
        """The model endpoint ``body`` targets; :class:`_Rejected` naming the first rule it breaks."""
        found = request_violations(self.profile, endpoint, body)
        target = self.profile.model_endpoint(endpoint, body.get("model"))
        if self.fault.violations is not None:
            found = self.fault.violations(Validation(found, target, self.profile.endpoints[endpoint].prefix, body,
                                                     self.profile))
        if found:
            rid, param = next(iter(found.items()))
            raise _Rejected(self.profile.errors.status, f"Invalid value for '{param}': breaks {rid}.", code=rid,
                            param=param, kind="rule")
        # an unknown model is only served under a fault: answer as the endpoint's first model would
        return target or next(t for t in self.profile.model_endpoints() if t.endpoint == endpoint)

    async def check_inputs(self, target: ModelEndpoint, body: dict[str, Any]) -> None:
        unreadable = await _unreadable_input(target, body)
        if unreadable:
            param, why = unreadable
            raise _Rejected(400, f"Invalid image in '{param}': {why}", code="invalid_image", param=param)

    def store(self, raw: bytes, fmt: str, base_url: str) -> str:
        image_id = f"{uuid.uuid4().hex}.{fmt}"
        self.stored[image_id] = (raw, f"image/{fmt}")
        while len(self.stored) > _STORED_IMAGES:
            self.stored.popitem(last=False)
        return f"{base_url}/_images/{image_id}"

    def payload(self, target: ModelEndpoint, body: dict[str, Any], base_url: str) -> dict[str, Any]:
        payload = generate(target, body, store=lambda raw, fmt: self.store(raw, fmt, base_url),
                           image_hook=self.fault.image)
        return self.fault.payload(payload, target) if self.fault.payload else payload

    async def image(self, request: Request) -> Response:
        found = self.stored.get(request.path_params["image_id"])
        if found is None:
            return Response(status_code=404)
        return Response(found[0], media_type=found[1])


def create_app(profile: Profile, *, api_key: str | None, fault: Fault | None = None, latency_s: float = 0.0,
               reset_connection: ResetConnection | None = None, public_url: str | None = None) -> Starlette:
    """A Starlette app serving every endpoint of ``profile`` under its ``base_path`` (``/v1``).

    ``api_key`` None disables auth; ``latency_s`` (seconds) delays each
    answer; ``fault`` breaks exactly one rule. Images answered as ``url``
    are served from ``<base_path>/_images/<id>`` (the latest 256 are kept)
    and named ``<public_url>/_images/<id>``: ``public_url`` is the base URL
    clients reach the router at, as the OpenAI SDK takes it (behind a gateway:
    the gateway's, e.g. ``https://gateway.example/v1``); ``None`` builds it from
    each request's ``Host``.
    ``reset_connection`` is how the ``connection-reset`` fault drops a
    connection (ASGI has no such message; the server provides it).
    """
    router = _Router(profile, api_key=api_key, fault=fault, latency_s=latency_s, reset_connection=reset_connection,
                     public_url=public_url)

    async def input_image(request: Request) -> Response:
        return Response(render_image(256, 256, "png"), media_type="image/png")

    def handler(endpoint: str):
        async def handle(request: Request) -> Response:
            return await router.handle(request, endpoint)

        return handle

    routes = [Route(profile.base_path + "/_images/{image_id}", router.image, methods=["GET"]),
              Route(profile.base_path + INPUT_IMAGE_PATH, input_image, methods=["GET"])]
    for name, endpoint in profile.endpoints.items():
        for path in (endpoint.path, *endpoint.alternative_paths):
            routes.append(Route(profile.base_path + path, handler(name), methods=["POST"]))

    async def routing_error(request: Request, exc: Exception) -> Response:
        # a path it does not serve (404) or a method it does not take (405, with Allow: RFC 9110 15.5.6),
        # in the profile's error shape like every other error
        assert isinstance(exc, HTTPException)
        rejected = _Rejected(exc.status_code, str(exc.detail), kind="routing", type_="invalid_request_error",
                             code={404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error"))
        return JSONResponse({"error": {"message": rejected.message, "type": rejected.type, "param": None,
                                       "code": rejected.code}}, status_code=exc.status_code, headers=exc.headers)

    return Starlette(routes=routes, exception_handlers={HTTPException: routing_error})


#: How an input image written as text starts (a data URI or a URL); other text in an image field is a file's bytes.
_TEXT_INPUTS = ("data:", "http://", "https://")


def _part_bytes(text: str) -> bytes:
    """The bytes of a multipart part Starlette decoded as text: UTF-8 when they were valid UTF-8, else Latin-1
    (its fallback, which maps each byte to one character and so gives them back exactly)."""
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw  # not UTF-8: Starlette fell back to Latin-1, which this undoes
    return text.encode("utf-8")  # valid UTF-8 would have been decoded as UTF-8


#: Hosts the reference router fetches image URLs from: it never sends traffic off the machine.
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


async def _unreadable_input(target: ModelEndpoint, body: dict[str, Any]) -> tuple[str, str] | None:
    """``(param, why)`` for the first input image that is not a readable image, else ``None``.

    Files arrive as ``data:`` URIs (see ``body_from_form``); ``http(s)`` URLs
    are fetched, on loopback only; each kind must be one the parameter's
    ``inputs`` lists (when it lists any).
    """
    for name, param in target.params.items():
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
