"""What the reference router draws for a valid request, and the 200 body it answers with.

Images are real (Pillow, at the asked size and format, transparent when
asked), so every image check of the harness is exercised against real files.
A fault's ``image`` hook changes what is drawn, its ``payload`` hook the body.
"""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw

from ..rules.size import parse_size
from ..spec import PIL_FORMATS, ModelEndpoint

__all__ = ["ImageSpec", "generate", "render_image"]

_COLORS = [(220, 40, 40), (40, 120, 220), (40, 170, 80), (230, 180, 30)]

#: ``resolution`` value -> long edge in pixels (Grok-style aspect_ratio + resolution models).
_RESOLUTION_EDGE = {"1k": 1024, "2k": 2048}


@dataclass(frozen=True)
class ImageSpec:
    """What to draw: ``n`` images of ``width`` x ``height`` pixels, asked as ``fmt`` and encoded as
    ``encode_as`` (the same, unless a fault says otherwise); ``corrupt`` sends bytes that are no image."""

    width: int
    height: int
    fmt: str
    n: int = 1
    encode_as: str = ""
    transparent: bool = False
    corrupt: bool = False


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


def _default_size(target: ModelEndpoint, effective: dict[str, Any]) -> tuple[int, int]:
    """The pixel size drawn when the request names none: aspect_ratio x resolution, else the first allowed size."""
    ratio = effective.get("aspect_ratio")
    if isinstance(ratio, str) and ":" in ratio:
        a, b = (int(x) for x in ratio.split(":"))
        edge = _RESOLUTION_EDGE.get(effective.get("resolution", "1k"), 1024)
        return (edge, round(edge * b / a)) if a >= b else (round(edge * a / b), edge)
    param = target.params.get("size")
    if param is not None and "allowed" in param.rules:
        return parse_size(param.rules["allowed"].value[0])  # type: ignore[return-value]
    return 1024, 1024


def _image_spec(target: ModelEndpoint, body: dict[str, Any]) -> ImageSpec:
    effective = target.effective(body)
    n = effective.get("n", 1) if isinstance(effective.get("n"), int) else 1
    width, height = parse_size(body.get("size")) or _default_size(target, effective)
    fmt = effective.get("output_format") or "png"
    return ImageSpec(width, height, fmt, n=n, encode_as=fmt, transparent=effective.get("background") == "transparent")


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


def _extras(target: ModelEndpoint, *, started: float) -> dict[str, Any]:
    """Profile-specific top-level fields the response schema documents (latency, cost, extra.routing)."""
    properties = target.response.schema.get("properties", {})
    extras: dict[str, Any] = {}
    if "latency" in properties:
        extras["latency"] = max(0, int((time.time() - started) * 1000))
    if "cost" in properties:
        extras["cost"] = 0 if not target.billable else 0.004
    if "extra" in properties:
        extras["extra"] = {"routing": {"attempts": [{"provider": "reference", "region": "local", "status": "succeeded"}]}}
    return extras


def generate(target: ModelEndpoint, body: dict[str, Any], *, store: Callable[[bytes, str], str],
             image_hook: Callable[[ImageSpec, dict[str, Any]], ImageSpec] | None = None) -> dict[str, Any]:
    """The 200 body for a valid ``body``: ``created``, ``data`` (b64_json, or ``url`` from ``store(raw, fmt)``),
    the documented echoes, ``usage`` and the profile's extras. ``image_hook`` is a fault's ``image`` hook."""
    spec = _image_spec(target, body)
    if image_hook is not None:
        spec = image_hook(spec, target.effective(body))
    field = target.image_fields_for(body)[0]
    data = []
    for index in range(spec.n):
        raw = b"this is not an image" if spec.corrupt else \
            render_image(spec.width, spec.height, spec.encode_as, index=index, transparent=spec.transparent)
        data.append({field: store(raw, spec.encode_as) if field == "url" else base64.b64encode(raw).decode()})
    now = time.time()
    created = int(now * 1000) if target.response.created_unit == "milliseconds" else int(now)
    payload: dict[str, Any] = {"created": created, "data": data}
    effective = target.effective(body)
    quality = effective.get("quality", "auto")
    background = effective.get("background")
    echoes = {"size": f"{spec.width}x{spec.height}", "quality": "medium" if quality == "auto" else quality,
              "output_format": spec.fmt,
              # "auto" is resolved, as a real router reports what it made
              "background": "transparent" if spec.transparent else ("opaque" if background else None)}
    documented = set(target.response.echo_fields) | set(target.response.schema.get("properties", {}))
    payload.update({k: v for k, v in echoes.items() if k in documented})
    payload["usage"] = _usage(body, spec.n)
    payload.update(_extras(target, started=now))
    return payload

