"""The embedded reference router and its fault catalogue."""

from __future__ import annotations

from ._app import INPUT_IMAGE_PATH, create_app, render_image
from ._faults import FAULTS, Fault, get_fault
from ._server import running_router, serve_forever

__all__ = ["FAULTS", "INPUT_IMAGE_PATH", "Fault", "create_app", "get_fault", "render_image", "running_router", "serve_forever"]
