"""The values cases send where a rule does not decide: benign prompts, real input images, one valid value.

Valid cases cost money on a real router, and random text proves nothing
about conformance (it can trip moderation or be refused as empty), so the
values here are short, meaningful and the cheapest documented ones.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import random
from functools import cache
from typing import Any

from PIL import Image, ImageDraw

from .size import cheapest_size

__all__ = ["BENIGN_PROMPTS", "FAMILY_VALUES", "case_variants", "data_uri", "decode_data_uri", "image_data_uri",
           "incompressible_png_data_uri", "input_image_data_uri", "input_mask_data_uri", "present_value",
           "upload_bytes"]

#: Short, meaningful, moderation-safe prompts: random text proves nothing and
#: can trip a real router's filters or be refused as empty.
BENIGN_PROMPTS = (
    "a red circle on a white background",
    "a small clean five-point star icon, centered on a white background",
    "a blue square next to a green triangle, flat illustration",
    "a yellow lemon on a wooden table, simple still life",
    "a paper boat on calm water, minimalist",
)


#: The values a parameter commonly takes across the OpenAI-compatible image models: what a router is likely to
#: accept by mistake where a model documents fewer. OpenAI's API reference (the GPT image and DALL-E models'
#: ``size``, ``quality``, ``background``, ``output_format``, ``moderation``, ``response_format``, ``style``,
#: ``input_fidelity``) and the Grok Imagine family's ``aspect_ratio`` and ``resolution`` (WorldRouter's page lists
#: 1:1, 16:9, 9:16, 3:2, 2:3 and 1k / 2k; 4:3, 3:4 and 4k are the family's other common values).
FAMILY_VALUES: dict[str, tuple[str, ...]] = {
    "size": ("256x256", "512x512", "1024x1024", "1536x1024", "1024x1536", "1792x1024", "1024x1792"),
    "quality": ("auto", "low", "medium", "high", "standard", "hd"),
    "background": ("auto", "transparent", "opaque"),
    "output_format": ("png", "jpeg", "webp"),
    "moderation": ("auto", "low"),
    "response_format": ("url", "b64_json"),
    "style": ("vivid", "natural"),
    "input_fidelity": ("high", "low"),
    "aspect_ratio": ("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3"),
    "resolution": ("1k", "2k", "4k"),
}


def case_variants(value: str) -> list[str]:
    """Spellings of a documented value that are not it: another case, a leading or trailing space (``PNG``, `` 1k``)."""
    variants = [value.upper(), value.capitalize(), f" {value}", f"{value} "]
    return [v for i, v in enumerate(variants) if v != value and v not in variants[:i]]


def data_uri(raw: bytes, media_type: str) -> str:
    """``raw`` bytes as a ``data:<media_type>;base64,...`` URI."""
    return f"data:{media_type};base64,{base64.b64encode(raw).decode()}"


def decode_data_uri(value: str) -> tuple[bytes, str] | None:
    """``(bytes, media type)`` of a base64 ``data:`` URI; ``None`` for anything else."""
    if not isinstance(value, str) or not value.startswith("data:") or "," not in value:
        return None
    header, payload = value[5:].split(",", 1)
    if not header.endswith(";base64"):
        return None
    try:
        return base64.b64decode(payload, validate=True), header[: -len(";base64")] or "application/octet-stream"
    except (binascii.Error, ValueError):
        return None


def _png_data_uri(image: Image.Image) -> str:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@cache
def image_data_uri(width: int, height: int, fmt: str = "png", *, at_least_bytes: int = 0) -> str:
    """A real ``width`` x ``height`` image (pixels) in ``fmt`` (``png``, ``jpeg``, ``webp``, ``gif``) as a data URI.

    ``at_least_bytes`` pads a PNG with a text chunk until the file has at least that many bytes (it stays a valid
    image): the input that breaks a documented file-size limit.
    """
    from PIL.PngImagePlugin import PngInfo

    image = Image.new("RGB", (width, height), (255, 255, 255))
    ImageDraw.Draw(image).rectangle((width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill=(40, 120, 220))
    out = io.BytesIO()
    options: dict[str, Any] = {}
    if at_least_bytes and fmt == "png":
        info = PngInfo()
        info.add_text("padding", "x" * at_least_bytes)
        options["pnginfo"] = info
    image.save(out, format={"jpg": "JPEG", "jpeg": "JPEG"}.get(fmt, fmt.upper()), **options)
    media = {"jpg": "image/jpeg", "jpeg": "image/jpeg"}.get(fmt, f"image/{fmt}")
    return data_uri(out.getvalue(), media)


@cache
def input_image_data_uri() -> str:
    """A small real PNG (256 x 256 pixels, opaque) as a ``data:image/png;base64,`` URI.

    The input of edit cases: a data URI travels in JSON and, decoded, as a
    multipart file upload, so the same case works in both encodings.
    """
    image = Image.new("RGB", (256, 256), (255, 255, 255))
    ImageDraw.Draw(image).rectangle((64, 64, 192, 192), fill=(40, 120, 220))
    return _png_data_uri(image)


@cache
def incompressible_png_data_uri(max_bytes: int, *, seed: int = 0) -> str:
    """A square RGB PNG of seeded random pixels, as large as fits in ``max_bytes`` (bytes), as a data URI.

    Random pixels do not compress, so neither the PNG nor a gzip on the way
    makes it smaller: it is an upload of real size, the input image a user of
    a documented "less than 4MB" limit sends. The same ``seed`` gives the same
    bytes; nothing is stored. About 0.1 s per 4 MB. ``ValueError`` below
    1024 bytes (no PNG that small is worth sending).
    """
    if max_bytes < 1024:
        raise ValueError(f"max_bytes must be at least 1024, not {max_bytes}")
    side = math.isqrt(max_bytes // 3)  # 3 bytes per pixel, plus a filter byte per row and the chunks
    while True:
        pixels = random.Random(f"{seed}:{side}").randbytes(side * side * 3)
        out = io.BytesIO()
        # level 1: a normal deflate stream (level 6's filters make random rows a little larger)
        Image.frombytes("RGB", (side, side), pixels).save(out, format="PNG", compress_level=1)
        if out.tell() <= max_bytes:
            return data_uri(out.getvalue(), "image/png")
        side -= max(1, (out.tell() - max_bytes) // (3 * side) + 1)


def upload_bytes(value: Any) -> int:
    """Bytes of the files the data URIs in ``value`` (a body, a list or a string) carry, without decoding them."""
    if isinstance(value, dict):
        return sum(upload_bytes(v) for v in value.values())
    if isinstance(value, list):
        return sum(upload_bytes(v) for v in value)
    if isinstance(value, str) and value.startswith("data:") and ";base64," in value[:100]:
        payload = value.split(",", 1)[1]
        return len(payload) * 3 // 4 - payload[-2:].count("=")
    return 0


@cache
def input_mask_data_uri() -> str:
    """A PNG mask for :func:`input_image_data_uri` (256 x 256 pixels, RGBA): its centre is fully
    transparent, the area to edit (OpenAI: "fully transparent areas ... indicate where `image` should be edited")."""
    mask = Image.new("RGBA", (256, 256), (0, 0, 0, 255))
    ImageDraw.Draw(mask).rectangle((64, 64, 192, 192), fill=(0, 0, 0, 0))
    return _png_data_uri(mask)


def present_value(param: Any) -> Any:
    """One valid value of ``param`` (a :class:`~harness.spec.Param`), the cheapest documented one when there is one."""
    if param.cheapest is not None:
        return param.cheapest
    if param.type == "image":
        return input_image_data_uri()
    if param.choices:
        return param.choices[0]
    if param.dimension_rules:
        return cheapest_size(param)
    if param.type == "integer":
        low, high = param.rule_value("minimum", 1), param.rule_value("maximum", 10)
        return (low + high) // 2
    if param.default is not None:
        return param.default
    return {"string": "conformance", "number": 1, "boolean": False, "object": {}, "array": []}[param.type]
