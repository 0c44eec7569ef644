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
from typing import Any

from PIL import Image, ImageDraw
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .._dimensions import parse_size
from .._schema import request_violations
from .._spec import PIL_FORMATS, Model, Profile
from ._faults import Fault

__all__ = ["create_app"]

_COLORS = [(220, 40, 40), (40, 120, 220), (40, 170, 80), (230, 180, 30)]


def _error(status: int, message: str, *, type_: str, param: str | None, code: str | None, fault: Fault | None) -> JSONResponse:
    if fault is not None and fault.name == "error-without-error-object":
        return JSONResponse({"message": message}, status_code=status)
    return JSONResponse({"error": {"message": message, "type": type_, "param": param, "code": code}}, status_code=status)


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


def _default_size(model: Model) -> tuple[int, int]:
    param = model.params.get("size")
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


def create_app(profile: Profile, *, api_key: str | None, fault: Fault | None = None, latency_s: float = 0.0) -> Starlette:
    """A Starlette app serving every endpoint of ``profile`` under the base path ``/v1``.

    ``api_key`` None disables auth; ``latency_s`` (seconds) delays each
    generation; ``fault`` breaks exactly one rule.
    """

    def authorized(request: Request) -> bool:
        if api_key is None or (fault is not None and fault.name == "no-auth"):
            return True
        return request.headers.get("authorization") == f"Bearer {api_key}"

    def violations(endpoint: str, body: dict[str, Any]) -> dict[str, str]:
        found = request_violations(profile, endpoint, body)
        if fault is not None and fault.skip_rule:
            model = profile.models.get(body.get("model"))  # type: ignore[arg-type]
            if model is not None:
                skipped = {r.requirement.id for p in model.params.values() for k, r in p.rules.items() if k == fault.skip_rule}
                found = {rid: p for rid, p in found.items() if rid not in skipped}
        return found

    def make_handler(endpoint: str):
        async def handle(request: Request) -> Response:
            if not authorized(request):
                return _error(401, "Incorrect API key provided.", type_="invalid_request_error", param=None,
                              code="invalid_api_key", fault=fault)
            try:
                body = json.loads(await request.body())
            except ValueError:
                return _error(400, "The request body is not valid JSON.", type_="invalid_request_error", param=None,
                              code="invalid_json", fault=fault)
            if not isinstance(body, dict):
                return _error(400, "The request body must be a JSON object.", type_="invalid_request_error",
                              param=None, code="invalid_json", fault=fault)
            found = violations(endpoint, body)
            if found:
                rid, param = next(iter(found.items()))
                status = 500 if fault is not None and fault.name == "500-on-invalid" else profile.errors.status
                return _error(status, f"Invalid value for '{param}': breaks {rid}.", type_="invalid_request_error",
                              param=param, code=rid, fault=fault)
            if latency_s:
                await asyncio.sleep(latency_s)
            payload = await asyncio.to_thread(_generate, profile.models[body["model"]], body)
            media = "text/plain" if fault is not None and fault.name == "text-plain" else "application/json"
            return Response(json.dumps(payload), media_type=media)

        return handle

    def _generate(model: Model, body: dict[str, Any]) -> dict[str, Any]:
        n = body.get("n", 1) if isinstance(body.get("n"), int) else 1
        if fault is not None and fault.name == "ignores-n":
            n = 1
        size = parse_size(body.get("size")) or _default_size(model)
        if fault is not None and fault.name == "fixed-1024":
            size = (1024, 1024)
        fmt = body.get("output_format") or (model.params["output_format"].default if "output_format" in model.params else "png") or "png"
        encode_as = "png" if fault is not None and fault.name == "always-png" else fmt
        data = []
        for index in range(n):
            raw = b"this is not an image" if fault is not None and fault.name == "not-an-image" else render_image(*size, encode_as, index=index)
            data.append({model.response.image_field: base64.b64encode(raw).decode()})
        now = time.time()
        created = int(now * 1000) if model.response.created_unit == "milliseconds" else int(now)
        payload: dict[str, Any] = {"created": created, "data": data}
        shown_size = f"{size[0]}x{size[1]}"
        if fault is not None and fault.name == "echo-wrong-size":
            shown_size = f"{size[0] + 16}x{size[1]}"
        echoes = {"size": shown_size, "quality": body.get("quality", "auto"), "output_format": fmt, "background": body.get("background")}
        payload.update({k: v for k, v in echoes.items() if k in model.response.echo_fields})
        payload["usage"] = _usage(body, n)
        if fault is not None and fault.name == "missing-created":
            del payload["created"]
        return payload

    routes = []
    for name, endpoint in profile.endpoints.items():
        for path in (endpoint.path, *endpoint.alternative_paths):
            routes.append(Route("/v1" + path, make_handler(name), methods=["POST"]))
    return Starlette(routes=routes)
