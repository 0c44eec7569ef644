"""The embedded reference router and its fault catalogue."""

from __future__ import annotations

from ._app import INPUT_IMAGE_PATH, create_app
from ._faults import FAULTS, Fault, get_fault, register_fault, unregister_fault
from . import _stream_faults  # noqa: F401  (registers the stream faults)
from . import _load_faults  # noqa: F401  (registers the load faults)
from ._images import render_image
from ._server import running_router, serve_forever

__all__ = ["FAULTS", "INPUT_IMAGE_PATH", "Fault", "create_app", "get_fault", "register_fault", "render_image",
           "running_router", "serve_forever", "unregister_fault"]
