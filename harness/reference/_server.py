"""Run the reference router with uvicorn: in a background thread (tests, ``run``) or in the foreground (``serve``)."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from ..spec import Profile
from ._app import create_app
from ._faults import Fault

__all__ = ["running_router", "serve_forever"]


def _resetter(server: list[uvicorn.Server]):
    """A ``reset_connection`` for the app: abort the client's connection with SO_LINGER 0, so the peer gets a TCP RST."""

    def reset(client: object) -> bool:
        for protocol in list(server[0].server_state.connections) if server else ():
            if getattr(protocol, "client", None) == tuple(client or ()):  # type: ignore[arg-type]
                sock = protocol.transport.get_extra_info("socket")
                if sock is not None:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                protocol.transport.abort()
                return True
        return False

    return reset


def _app(profile: Profile, *, api_key: str | None, fault: Fault | None, latency_s: float, server: list[uvicorn.Server],
         public_url: str | None = None):
    return create_app(profile, api_key=api_key, fault=fault, latency_s=latency_s, reset_connection=_resetter(server),
                      public_url=public_url)


@contextmanager
def running_router(profile: Profile, *, api_key: str | None, fault: Fault | None = None, latency_s: float = 0.0,
                   host: str = "127.0.0.1", port: int = 0, public_url: str | None = None) -> Iterator[str]:
    """Serve ``profile`` on ``host`` (loopback) in a thread; yields the base URL (``http://127.0.0.1:PORT`` + the profile's ``base_path``).

    ``port=0`` picks a free ephemeral port. Raises ``RuntimeError`` if the
    server does not start within 10 seconds. ``public_url``: the base image
    URLs are built from (see :func:`create_app`).
    """
    holder: list[uvicorn.Server] = []
    config = uvicorn.Config(_app(profile, api_key=api_key, fault=fault, latency_s=latency_s, server=holder,
                                 public_url=public_url),
                            host=host, port=port, log_level="warning", lifespan="off", limit_concurrency=256,
                            proxy_headers=False,
                            timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    holder.append(server)
    thread = threading.Thread(target=server.run, name=f"reference-router-{profile.name}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"reference router for {profile.name!r} did not start on {host}:{port}")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}{profile.base_path}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def serve_forever(profile: Profile, *, api_key: str | None, fault: Fault | None, latency_s: float, host: str, port: int,
                  public_url: str | None = None) -> None:
    """Serve ``profile`` in the foreground until interrupted; ``public_url`` as for :func:`running_router`."""
    holder: list[uvicorn.Server] = []
    config = uvicorn.Config(_app(profile, api_key=api_key, fault=fault, latency_s=latency_s, server=holder,
                                 public_url=public_url),
                            host=host, port=port, log_level="info", proxy_headers=False)
    holder.append(uvicorn.Server(config))
    holder[0].run()
