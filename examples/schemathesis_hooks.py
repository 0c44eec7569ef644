"""Schemathesis hooks for image endpoints: real PNG, JPEG and WebP files where the export declares image parts.

Schemathesis fills a ``format: binary`` part with random bytes, which no image router accepts, so
every edit it sends is refused and the endpoint's success path is never reached. Registering a
strategy per media type (Schemathesis' "custom media types") makes those parts real images.

Use: ``SCHEMATHESIS_HOOKS=schemathesis_hooks schemathesis run openapi.json ...`` with this folder on
``PYTHONPATH`` (Schemathesis 4.x and Pillow in its environment).
"""

from __future__ import annotations

import io

import schemathesis
from hypothesis import strategies as st
from PIL import Image

#: The content-type strings ``conformance openapi`` writes in ``encoding`` (each must match exactly).
MEDIA_TYPES = ("image/png", "image/jpeg", "image/webp", "image/png, image/webp, image/jpeg",
               "image/png, image/jpeg, image/webp")


def _image(fmt: str, side: int, colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (side, side), colour).save(out, format=fmt)
    return out.getvalue()


def _files(fmt: str) -> st.SearchStrategy[bytes]:
    # square and small: dall-e-2 documents "a square png file less than 4MB"
    return st.sampled_from([_image(fmt, side, colour) for side in (64, 256) for colour in ((200, 40, 40), (20, 90, 200))])


for media in MEDIA_TYPES:
    schemathesis.openapi.media_type(media, _files({"image/jpeg": "JPEG", "image/webp": "WEBP"}.get(media, "PNG")))
