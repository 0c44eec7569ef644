"""The client against routers that misbehave on the wire: every request ends in time, bounded in size.

Each router here writes raw bytes (see ``_wire``); the client must come back
with an :class:`Exchange` whose ``error`` says what happened, within
``--timeout``, without reading what it must not read.
"""

from __future__ import annotations

import gzip
import socket
import time

import pytest

from harness.transport._urls import refusal
from harness.transport.client import Limits, RouterClient

from ._wire import read_request, response, wire_router


def _client(url: str, timeout_s: float = 2.0) -> RouterClient:
    return RouterClient(url, api_key="sk-wire-test", limits=Limits.from_timeout(timeout_s))


def _post_once(handler, body: dict | None = None, *, limits: Limits | None = None):
    """POST ``body`` once to a wire router running ``handler``; the exchange and the seconds it took."""
    with wire_router(handler) as url:
        client = RouterClient(url, api_key="sk-wire-test", limits=limits or Limits.from_timeout(2.0))
        try:
            started = time.monotonic()
            exchange = client.post("/images/generations", body or {"prompt": "p"})
            return exchange, time.monotonic() - started
        finally:
            client.close()


def _drip(first: bytes, byte: bytes = b"a", every_s: float = 0.2, for_s: float = 20.0):
    def handler(conn: socket.socket, index: int) -> None:
        read_request(conn)
        conn.sendall(first)
        ends = time.monotonic() + for_s
        while time.monotonic() < ends:
            conn.sendall(byte)
            time.sleep(every_s)
    return handler


@pytest.mark.parametrize("first", [
    pytest.param(b"HTTP/1.1 200 OK\r\nX-Slow: ", id="headers-that-never-end"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{",
                 id="body-a-byte-at-a-time"),
])
def test_a_request_ends_at_its_total_timeout_however_the_router_drips(first):
    with wire_router(_drip(first)) as url:
        client = _client(url)
        try:
            started = time.monotonic()
            exchange = client.post("/images/generations", {"prompt": "p"})
            elapsed = time.monotonic() - started
            client.probe()  # reachable: it answered the TCP connect; bounded all the same
            probed = time.monotonic() - started - elapsed
        finally:
            client.close()
    assert elapsed < 4.0 and probed < 4.0, (elapsed, probed)
    assert exchange.error is not None and "within 2 s" in exchange.error


def _answer(raw: bytes):
    def handler(conn: socket.socket, index: int) -> None:
        read_request(conn)
        conn.sendall(raw)
    return handler


def _bomb() -> bytes:
    return gzip.compress(gzip.compress(b"\0" * (200 * 1024 * 1024), compresslevel=9), compresslevel=9)


@pytest.mark.parametrize("headers, body, refused", [
    pytest.param(("Content-Encoding: gzip, gzip",), None, "stacked Content-Encoding", id="stacked-gzip-bomb"),
    pytest.param(("Content-Encoding: gzip", "Content-Encoding: gzip"), None, "stacked", id="two-encoding-headers"),
    pytest.param(("Content-Encoding: br",), b"{}", "was not asked for", id="encoding-never-asked"),
])
def test_a_body_the_client_did_not_ask_to_decode_is_not_read(headers, body, refused):
    body = _bomb() if body is None else body
    exchange, _ = _post_once(_answer(response(body, headers=headers)), {"prompt": "p"})
    assert exchange.status == 200 and exchange.content == b""
    assert refused in (exchange.error or "")


def test_a_declared_body_over_the_limit_is_not_read():
    raw = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n{}"
    exchange, _ = _post_once(_answer(raw), {"prompt": "p"})
    assert "exceeds" in (exchange.error or "") and exchange.content == b""


def test_an_answer_that_runs_past_its_content_length_never_becomes_the_next_answer():
    smuggled = response(b'{"smuggled": true}')

    def handler(conn: socket.socket, index: int) -> None:
        read_request(conn)
        if index == 0:
            conn.sendall(response(b'{"first": true}') + smuggled)
            read_request(conn)  # if the client reuses this connection, it reads the smuggled answer
            conn.sendall(smuggled)
        else:
            conn.sendall(response(b'{"second": true}'))

    with wire_router(handler) as url:
        client = _client(url)
        try:
            first = client.post("/images/generations", {"prompt": "p"})
            second = client.post("/images/generations", {"prompt": "p"})
        finally:
            client.close()
    assert first.json() == {"first": True}
    assert second.json() == {"second": True}


def test_thousands_of_headers_are_kept_to_a_bounded_few():
    headers = ("X-Long: " + "w" * 8000,) + tuple(f"X-H-{i}: v" for i in range(5000))  # under h11's 100 kB
    exchange, _ = _post_once(_answer(response(b"{}", headers=headers)), {"prompt": "p"})
    assert len(exchange.headers) == Limits().max_headers
    assert exchange.headers_dropped == 5003 - Limits().max_headers  # + Content-Type, Content-Length, X-Long
    assert all(len(v) < 1100 for v in exchange.headers.values())
    assert exchange.headers["x-long"].endswith("…[8,000 chars]")


def test_a_header_block_past_the_parsers_limit_is_a_transport_error_not_a_crash():
    headers = ("X-Long: " + "w" * 200_000,)
    exchange, _ = _post_once(_answer(response(b"{}", headers=headers)), {"prompt": "p"})
    assert exchange.status is None and "transport error" in (exchange.error or "")


@pytest.mark.parametrize("url", [
    "http://0x7f000002:8080/i.png",         # hex
    "http://2130706434/i.png",              # decimal
    "http://127.1/i.png",                   # short form
    "HTTP://127.0.0.2/i.png",               # upper-case scheme
    "http://[::1]:8080/i.png",
    "http://[::ffff:127.0.0.2]/i.png",      # IPv4-mapped IPv6
    "http://169.254.169.254/latest/meta-data",
    "http://10.0.0.7/i.png",
    "http://192.168.1.1/i.png",
    "http://0.0.0.0/i.png",
    "http://user:secret@203.0.113.9/i.png",  # credentials in the URL
    "file:///etc/passwd",
    "gopher://203.0.113.9/",
    "ftp://203.0.113.9/i.png",
])
def test_image_urls_aimed_at_the_harness_network_are_refused(url):
    assert refusal(url, router_host="203.0.113.1") is not None


def test_image_urls_on_public_hosts_or_the_routers_own_host_are_allowed():
    assert refusal("https://8.8.8.8/i.png", router_host="203.0.113.1") is None
    assert refusal("http://127.0.0.1:9999/i.png", router_host="127.0.0.1") is None
    assert refusal("http://127.0.0.2/i.png", router_host="127.0.0.1", allow_private=True) is None
    assert refusal("http://user:pw@127.0.0.1/i.png", router_host="127.0.0.1", allow_private=True) is not None


def _event_stream(body: bytes):
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"

    def handler(conn: socket.socket, index: int) -> None:
        read_request(conn)
        conn.sendall(head + body)
    return handler


def test_an_event_stream_is_read_event_by_event_with_httpx_sse():
    body = b'event: a\ndata: {"x": 1}\n\n: a comment\n\nevent: b\ndata: {"y":\ndata: 2}\nid: 7\n\n'
    exchange, _ = _post_once(_event_stream(body), {"prompt": "p", "stream": True})
    assert exchange.error is None and not exchange.stream_cut
    assert [(e.event, e.data, e.id) for e in exchange.events] == [("a", '{"x": 1}', ""), ("b", '{"y":\n2}', "7")]
    assert all(e.at_s >= 0 for e in exchange.events)


def test_an_event_stream_cut_in_the_middle_of_an_event_says_so():
    body = b'event: a\ndata: {"x": 1}\n\nevent: image_generation.completed\ndata: {"b64_json": "iVBOR'
    exchange, _ = _post_once(_event_stream(body), {"prompt": "p", "stream": True})
    assert [e.event for e in exchange.events] == ["a"] and exchange.stream_cut


def test_an_event_stream_is_bounded_in_size_and_in_events():
    endless_line = b"data: " + b"A" * 3_000_000
    many = b"".join(b"event: e\ndata: %d\n\n" % i for i in range(1000))
    for body, expected in ((endless_line, "exceeds"), (many, "more than 256 events")):
        exchange, _ = _post_once(_event_stream(body), {"prompt": "p", "stream": True},
                                 limits=Limits(total_s=5, max_body_bytes=1_000_000))
        assert expected in (exchange.error or ""), exchange.error
        assert len(exchange.events or []) <= 256


def test_a_stream_that_stalls_ends_at_the_timeout_with_the_events_seen_so_far():
    def handler(conn: socket.socket, index: int) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
                     b'event: image_generation.partial_image\ndata: {"partial_image_index": 0}\n\n')
        time.sleep(20)

    exchange, elapsed = _post_once(handler, {"prompt": "p", "stream": True})
    assert elapsed < 4.0
    assert [e.event for e in exchange.events] == ["image_generation.partial_image"]
    assert exchange.timed_out and "within 2 s" in exchange.error
