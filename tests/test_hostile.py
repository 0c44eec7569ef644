"""Routers that misbehave beyond the fault catalogue: the harness stays truthful, bounded and keeps the key secret.

Each hostile router is the reference router with a test-only fault that knows
the key (a real router echoing it back), served on loopback; the run goes
through the CLI exactly as a user's would, and every artifact and the
terminal are searched for the key in every spelling.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from harness import load_profile
from harness._redact import KEY_PLACEHOLDER, Redactor
from harness.reference import Fault
from harness.reference._server import running_router
from harness.transport.client import RouterClient

from ._wire import read_request, wire_router
from ._wire import response as wire_response
from .conftest import failed_ids, read_results, run_cli

KEY = "sk-live-HOSTILE-7f3a9c2e5b1d4088"


def _spellings() -> dict[str, str]:
    raw = KEY.encode()
    return {
        "json-escaped": "".join(f"\\u{b:04x}" for b in raw),
        "half-escaped": "\\u0073" + KEY[1:],  # decodes to the key; the raw bytes never hold it
        "base64": base64.b64encode(raw).decode(),
        "base64 of Bearer": base64.b64encode(b"Bearer " + raw).decode(),
        "urlsafe base64, unpadded": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "percent-encoded": "".join(f"%{b:02X}" for b in raw),
        "hex": raw.hex().upper(),
    }


def test_the_redactor_finds_every_spelling():
    redactor = Redactor(KEY)
    for name, spelled in _spellings().items():  # half-escaped too: a message may quote the raw JSON text
        assert redactor.text(f"x {spelled} y") == f"x {KEY_PLACEHOLDER} y", name
        assert redactor.bytes(f"x {spelled} y".encode()) == f"x {KEY_PLACEHOLDER} y".encode(), name
    slashed = Redactor("sk-a/b+c")  # JSON may write / as \/
    assert slashed.text('"sk-a\\/b+c"') == f'"{KEY_PLACEHOLDER}"' and slashed.text("sk-a\\u002fb+c") == KEY_PLACEHOLDER
    assert redactor.text(KEY.lower()) == KEY_PLACEHOLDER  # a header name arrives lower-cased
    assert redactor.value({KEY: [KEY, 1]}) == {KEY_PLACEHOLDER: [KEY_PLACEHOLDER, 1]}
    assert Redactor(None).text(KEY) == KEY and Redactor("").bytes(b"x") == b"x"


def _echoing_everywhere() -> Fault:
    """200s whose body and headers carry the key in every spelling (JSON built by hand: escapes survive)."""
    async def respond(request):
        fields = ", ".join(f'"{name}": "{value}"' for name, value in _spellings().items())
        body = '{"created": %d, "data": [{"b64_json": "%s"}], %s}' % (
            time.time(), base64.b64encode(KEY.encode()).decode(), fields)
        headers = {f"x-echo-{KEY}": "1", "x-token": urllib.parse.quote(KEY), "x-hex": KEY.encode().hex()}
        return Response(body, media_type="application/json", headers=headers)

    return Fault("echoes-key-everywhere", "repeats the key in every spelling in 200 bodies and headers",
                 "auth.no-key-echo", respond=respond)


def _leaks(text: str) -> list[str]:
    found = [name for name, spelled in _spellings().items() if spelled.lower() in text.lower()]
    return found + (["raw"] if KEY.lower() in text.lower() else [])


@pytest.mark.parametrize("fault", [_echoing_everywhere()], ids=lambda f: f.name)
def test_a_key_echoed_in_any_spelling_reaches_no_artifact_and_is_a_finding(tmp_path, fault):
    profile = load_profile("worldrouter")
    with running_router(profile, api_key=KEY, fault=fault) as url:
        proc = run_cli("run", "--profile", "worldrouter", "--router-url", url, "--models", "gpt-image-2",
                       "--timeout", "10", "--report-dir", str(tmp_path), cwd=tmp_path, env={"ROUTER_API_KEY": KEY})
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert _leaks(proc.stdout + proc.stderr) == []
    artifacts = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {p.name for p in artifacts} >= {"results.json", "report.html", "junit.xml"}
    for path in artifacts:
        assert _leaks(path.read_text(errors="replace")) == [], path
    results = read_results(tmp_path, "worldrouter")
    assert "auth.no-key-echo" in failed_ids(results)
    json.dumps(results, allow_nan=False)



def test_a_routers_cookies_never_ride_on_later_requests():
    """The recorded requests and curl lines show no cookie, so none may be sent."""
    seen: list[str | None] = []

    async def answer(request):
        seen.append(request.headers.get("cookie"))
        return JSONResponse({"created": 1, "data": []}, headers={"set-cookie": "session=tracked; Path=/"})

    app = Starlette(routes=[Route("/v1/images/generations", answer, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    client = RouterClient(f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}/v1", api_key=KEY)
    try:
        first = client.post("/images/generations", {"prompt": "p"})
        client.post("/images/generations", {"prompt": "p"})
    finally:
        client.close()
        server.should_exit = True
        thread.join(timeout=10)
    assert first.headers.get("set-cookie") == "session=tracked; Path=/"
    assert seen == [None, None]


class _Listener:
    """A TCP listener on 127.0.0.2 that counts connections: where a router would aim the harness."""

    def __init__(self) -> None:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.2", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


def _aimed_urls(port: int, *, replace_url: bool):
    """``data[].url`` spelled as 127.0.0.2 in legacy forms; added beside ``b64_json`` or replacing ``url``."""
    spellings = [f"http://0x7f000002:{port}/i.png", f"http://2130706434:{port}/i.png",
                 f"HTTP://127.0.0.2:{port}/i.png", f"http://user:pw@127.0.0.2:{port}/i.png"]

    def payload(body, target):
        for index, item in enumerate(body.get("data") or []):
            if replace_url or "url" not in item:
                item["url"] = spellings[index % len(spellings)]
        return body
    return payload


@pytest.mark.parametrize("profile, model, replace_url, breaks", [
    ("worldrouter", "gpt-image-2", False, None),        # images are b64_json: no URL is ever fetched
    ("imagerouter", None, True, "image.decodes"),        # images are URLs: internal ones are refused
])
def test_image_urls_aimed_at_the_harness_network_are_never_fetched(tmp_path, profile, model, replace_url, breaks):
    listener = _Listener()
    fault = Fault("aims-urls-inward", "image URLs at 127.0.0.2 in hex, decimal, upper case, with userinfo",
                  breaks, profile=profile, payload=_aimed_urls(listener.port, replace_url=replace_url))
    try:
        with running_router(load_profile(profile), api_key=KEY, fault=fault) as url:
            args = ["--models", model] if model else []
            proc = run_cli("run", "--profile", profile, "--router-url", url, *args, "--timeout", "10",
                           "--report-dir", str(tmp_path), cwd=tmp_path, env={"ROUTER_API_KEY": KEY})
    finally:
        listener.close()
    assert listener.connections == 0
    results = read_results(tmp_path, profile)
    if breaks is None:
        assert proc.returncode == 0, proc.stdout[-2000:]
    else:
        assert proc.returncode == 1 and any(r.endswith(breaks) for r in failed_ids(results)), failed_ids(results)
        assert "internal address" in (tmp_path / profile / "report.html").read_text()


def _png_of_zeros(width: int, height: int) -> bytes:
    """A valid, all-transparent RGBA PNG of ``width`` x ``height``, compressed as it streams (never allocated whole)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    squeeze = zlib.compressobj(9)
    row = b"\0" * (1 + 4 * width)  # filter byte + pixels
    idat = b"".join(squeeze.compress(row) for _ in range(height)) + squeeze.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def huge_png() -> bytes:
    return _png_of_zeros(13000, 13000)  # about 660 kB; 676 MB once decoded


def _hostile_run(tmp_path, fault, *, profile="worldrouter", models=("gpt-image-2",), timeout="10"):
    with running_router(load_profile(profile), api_key=KEY, fault=fault) as url:
        args = ["--models", ",".join(models)] if models else []
        started = time.monotonic()
        proc = run_cli("run", "--profile", profile, "--router-url", url, *args, "--timeout", timeout,
                       "--report-dir", str(tmp_path), cwd=tmp_path, env={"ROUTER_API_KEY": KEY})
        elapsed = time.monotonic() - started
    artifacts = {p.name: p for p in (tmp_path / profile).iterdir()}
    assert {"results.json", "report.html", "junit.xml"} <= set(artifacts), proc.stderr[-2000:]
    for path in artifacts.values():
        assert path.stat().st_size < 20 * 1024 * 1024, (path, path.stat().st_size)
        assert _leaks(path.read_text(errors="replace")) == [], path
    assert _leaks(proc.stdout + proc.stderr) == []
    json.loads((tmp_path / profile / "results.json").read_text(), parse_constant=lambda token: pytest.fail(token))
    return proc, read_results(tmp_path, profile), elapsed


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # Linux: kilobytes


def test_huge_declared_images_are_refused_from_their_header_and_memory_stays_bounded(tmp_path, huge_png):
    b64 = base64.b64encode(huge_png).decode()

    def payload(body, target):
        body["data"] = [{"b64_json": b64} for _ in body.get("data") or [None]] * 3
        return body

    fault = Fault("huge-images", "three 13000x13000 PNGs per answer", "image.decodes", payload=payload)
    proc, results, _ = _hostile_run(tmp_path, fault)
    assert proc.returncode == 1
    assert "gen.image.decodes" in failed_ids(results)
    assert _peak_rss_mb() < 1024, _peak_rss_mb()
    messages = [f["message"] for r in results["requirements"] for f in r["failures"] if r["id"] == "gen.image.decodes"]
    assert any("declares 13000x13000 pixels" in m for m in messages), messages[:3]


def test_thousands_of_undecodable_items_and_headers_keep_every_artifact_small(tmp_path):
    async def respond(request):
        body = {"created": int(time.time()), "data": [{"b64_json": "AAAA" * 5} for _ in range(2000)]}
        return JSONResponse(body, headers={f"x-junk-{i}": "j" * 10 for i in range(3000)})

    fault = Fault("junk-flood", "2000 undecodable data[] items and 3000 headers on every answer", "data.count",
                  respond=respond)
    proc, results, _ = _hostile_run(tmp_path, fault)
    assert proc.returncode == 1
    assert {"gen.data.count", "gen.image.decodes"} <= failed_ids(results)
    for row in results["requirements"]:
        assert len(row["failures"]) <= 10
    sizes = {p.name: p.stat().st_size for p in (tmp_path / "worldrouter").iterdir()}
    assert sizes["results.json"] < 2_000_000 and sizes["report.html"] < 8_000_000, sizes


@pytest.mark.parametrize("text, finding, level_must", [
    pytest.param(lambda t: t.replace('"created": ', '"created": 1e999, "x": ', 1), "json.interoperable", True,
                 id="created-1e999"),  # and created is no longer a number: response.schema (MUST)
    pytest.param(lambda t: t.replace('"created": ', '"nan_field": NaN, "created": ', 1), "json.strict", True,
                 id="NaN"),
    pytest.param(lambda t: t.replace('"created": ', '"inf": -Infinity, "created": ', 1), "json.strict", True,
                 id="-Infinity"),
])
def test_json_that_python_forgives_is_a_finding_and_results_stay_strict_json(tmp_path, text, finding, level_must):
    fault = Fault("loose-json", "JSON only a lenient parser reads", finding, encode=lambda t: text(t).encode())
    proc, results, _ = _hostile_run(tmp_path, fault)
    assert finding in failed_ids(results)
    assert proc.returncode == (1 if level_must else 0)


# ------------------------------------------------------------------ whole runs against routers that misbehave on the wire


def _wire_drip(first: bytes):
    def handler(conn, index):
        read_request(conn)
        conn.sendall(first)
        for _ in range(100):
            conn.sendall(b"a")
            time.sleep(0.3)
    return handler


def _wire_answer(make):
    def handler(conn, index):
        read_request(conn)
        conn.sendall(make())
    return handler


def _stacked_bomb() -> bytes:
    import gzip

    bomb = gzip.compress(gzip.compress(b"\0" * (256 * 1024 * 1024), compresslevel=9), compresslevel=9)
    return wire_response(bomb, headers=("Content-Encoding: gzip, gzip",))


_BOMB: list[bytes] = []


def _bomb_once() -> bytes:
    if not _BOMB:
        _BOMB.append(_stacked_bomb())
    return _BOMB[0]


_ERROR = b'{"error": {"message": "no", "type": "invalid_request_error", "param": null, "code": null}}'

#: name -> (the router, what results.json must say about it)
_WIRE_ROUTERS = {
    "headers-that-never-end": _wire_drip(b"HTTP/1.1 200 OK\r\nX-Slow: "),
    "body-a-byte-every-300-ms": _wire_drip(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                           b"Content-Length: 100000\r\n\r\n{"),
    "stacked-gzip-bomb": _wire_answer(_bomb_once),
    "answers-past-content-length": _wire_answer(lambda: wire_response(_ERROR, status="400 Bad Request")
                                                + wire_response(b'{"created": 1, "data": []}')),
    "5000-headers": _wire_answer(lambda: wire_response(_ERROR, status="400 Bad Request",
                                                       headers=tuple(f"X-H-{i}: {KEY}" for i in range(5000)))),
    "not-http-at-all": _wire_answer(lambda: b"\x00\x01\x02 SSH-2.0-OpenSSH_9.6\r\n" * 50),
    "closes-at-once": lambda conn, index: conn.close(),
    "bom-and-nan-in-errors": _wire_answer(lambda: wire_response(b"\xef\xbb\xbf" + _ERROR.replace(b"null}}", b"NaN}}"),
                                                                status="400 Bad Request")),
}


_WIRE_FINDINGS = {
    "headers-that-never-end": "the router stopped answering",
    "body-a-byte-every-300-ms": "the router stopped answering",
    "stacked-gzip-bomb": "stacked Content-Encoding 'gzip, gzip' refused",
    "answers-past-content-length": "valid request not served: HTTP 400",
    "5000-headers": "RemoteProtocolError",  # past the parser's 100 kB header limit
    "not-http-at-all": "RemoteProtocolError",
    "closes-at-once": "no case got an answer",
    "bom-and-nan-in-errors": "a UTF-8 byte order mark before the text; NaN (not a JSON number)",
}


@pytest.mark.parametrize("name", sorted(_WIRE_ROUTERS))
def test_a_run_against_a_router_broken_on_the_wire_ends_in_time_with_its_reports(tmp_path, name):
    if name == "stacked-gzip-bomb":
        _bomb_once()  # made before the run: making it takes longer than --timeout
    with wire_router(_WIRE_ROUTERS[name]) as url:
        started = time.monotonic()
        proc = run_cli("run", "--profile", "worldrouter", "--router-url", url, "--models", "gpt-image-2",
                       "--timeout", "3", "--report-dir", str(tmp_path), cwd=tmp_path, env={"ROUTER_API_KEY": KEY})
        elapsed = time.monotonic() - started
    assert proc.returncode in (1, 3), proc.stdout[-2000:] + proc.stderr[-2000:]
    assert elapsed < 120, elapsed
    assert "Traceback" not in proc.stdout + proc.stderr
    assert _leaks(proc.stdout + proc.stderr) == []
    for path in (tmp_path / "worldrouter").iterdir():
        assert path.stat().st_size < 20 * 1024 * 1024, (path, path.stat().st_size)
        assert _leaks(path.read_text(errors="replace")) == [], path
    results = read_results(tmp_path, "worldrouter")
    json.loads((tmp_path / "worldrouter" / "results.json").read_text(), parse_constant=lambda t: pytest.fail(t))
    assert results["verdict"] in ("non-conformant", "not-assessed")
    assert _WIRE_FINDINGS[name] in json.dumps(results), name
    assert '"created": 1, "data": []' not in json.dumps(results)  # a smuggled answer is never read as the next one
    assert "<html" in (tmp_path / "worldrouter" / "report.html").read_text()[:2000].lower()
    assert _peak_rss_mb() < 1024
