"""Routers that misbehave below HTTP: raw bytes on a loopback socket.

A well-behaved server framework (Starlette, uvicorn) cannot send headers that
never end, a body that runs past its ``Content-Length`` or a header block of
5000 lines; these tests need exactly that, so the hostile router here writes
bytes. Each connection runs ``handler(connection, index)`` in its own thread;
:func:`read_request` reads one request off it.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Handler = Callable[[socket.socket, int], None]


def read_request(conn: socket.socket, *, timeout_s: float = 5.0) -> bytes:
    """One request (head and ``Content-Length`` body) from ``conn``; what arrived if it ends early."""
    conn.settimeout(timeout_s)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body
    except OSError:
        return data


def response(body: bytes, *, status: str = "200 OK", headers: tuple[str, ...] = (),
             content_type: str = "application/json") -> bytes:
    """A complete HTTP/1.1 response with ``Content-Length``."""
    lines = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@contextmanager
def wire_router(handler: Handler, *, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``handler`` on ``host`` (loopback); yields the base URL (``http://host:port/v1``)."""
    counter = iter(range(1_000_000))
    lock = threading.Lock()

    class _Connection(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            with lock:
                index = next(counter)
            try:
                handler(self.request, index)
            except OSError:
                pass  # the client gave up: exactly what these routers provoke

    class _Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = _Server((host, 0), _Connection)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
