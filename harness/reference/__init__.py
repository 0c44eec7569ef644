"""The embedded reference router and its fault catalogue."""

from __future__ import annotations

from ._app import create_app, render_image
from ._faults import FAULTS, Fault, get_fault
from ._server import running_router, serve_forever

__all__ = ["FAULTS", "Fault", "create_app", "get_fault", "render_image", "running_router", "serve_forever"]
