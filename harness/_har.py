"""Recording a run as HAR 1.2, and reading one back: certify a paid router once, re-judge it for free.

``conformance run --record DIR`` writes ``DIR/<profile>.har``: one entry per case (and one per image
download), with the request as sent and the answer's bytes as base64, already redacted (the client
redacts the key as answers arrive). HAR is what browsers, proxies and API tools read, so a recording
can also be opened elsewhere. What HAR has no field for is kept in ``_``-prefixed fields, as HAR 1.2
allows: the case id, a transport error, the events of a stream, and in ``log._conformance`` the plan's
options and the verdict. ``conformance rejudge DIR`` reads it back into :class:`Exchange` objects and
judges them again with today's profile and checks, sending nothing.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

from ._files import write_atomic
from ._errors import HarnessError
from ._version import __version__
from .transport._exchange import Exchange, StreamEvent

__all__ = ["HAR_VERSION", "RecordedAnswers", "Recorder", "RecordingError", "read_recording", "recorder_for"]

HAR_VERSION = "1.2"


class RecordingError(HarnessError):
    """A recording that cannot be re-judged: missing, not HAR, or not written by ``conformance run --record``."""


def _stamp(unix_s: float) -> str:
    return dt.datetime.fromtimestamp(unix_s or 0, dt.timezone.utc).isoformat().replace("+00:00", "Z")


def _headers(headers: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in headers.items()]


def _entry(case_id: str, exchange: Exchange, *, download_of: str | None = None) -> dict[str, Any]:
    request: dict[str, Any] = {"method": exchange.method, "url": exchange.url, "httpVersion": "HTTP/1.1",
                               "cookies": [], "headers": _headers(exchange.request_headers), "queryString": [],
                               "headersSize": -1, "bodySize": exchange.request_bytes}
    if exchange.form is not None:
        request["postData"] = {"mimeType": "multipart/form-data",
                               "params": [{"name": n, **({"fileName": v} if is_file else {"value": v})}
                                          for n, v, is_file in exchange.form],
                               "_body": exchange.body}
    elif exchange.body is not None:
        request["postData"] = {"mimeType": "application/json", "text": json.dumps(exchange.body)}
    response = {"status": exchange.status or 0, "statusText": "", "httpVersion": "HTTP/1.1", "cookies": [],
                "headers": _headers(exchange.headers), "redirectURL": "", "headersSize": -1,
                "bodySize": len(exchange.content),
                "content": {"size": len(exchange.content), "mimeType": exchange.content_type,
                            "text": base64.b64encode(exchange.content).decode(), "encoding": "base64"}}
    entry: dict[str, Any] = {
        "startedDateTime": _stamp(exchange.sent_at), "time": round(exchange.elapsed_s * 1000, 3),
        "request": request, "response": response, "cache": {},
        "timings": {"send": 0, "wait": round(exchange.elapsed_s * 1000, 3), "receive": 0},
        "_case": case_id, "_status": exchange.status, "_error": exchange.error, "_timed_out": exchange.timed_out,
        "_retries": exchange.retries, "_retry_exhausted": exchange.retry_exhausted,
        "_headers_dropped": exchange.headers_dropped, "_sent_at": exchange.sent_at,
    }
    if download_of is not None:
        entry["_download_of"] = download_of
    if exchange.events is not None:
        entry["_events"] = [e.__dict__ for e in exchange.events]
        entry["_stream_cut"] = exchange.stream_cut
    return entry


class Recorder:
    """Collects the HAR entries of a run as its cases are sent (from several threads) and writes the file.

    ``path`` is ``DIR/<profile>.har``; :meth:`write` replaces it atomically, so a run that is killed leaves
    the last complete file.
    """

    def __init__(self, path: Path, meta: dict[str, Any]) -> None:
        self.path = path
        self.meta = meta
        self._entries: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def add(self, case_id: str, exchange: Exchange) -> None:
        entries = [_entry(case_id, exchange)]
        entries += [_entry(case_id, d, download_of=url) for url, d in exchange.downloads.items()]
        with self._lock:
            self._entries += entries

    def write(self, verdict: dict[str, Any]) -> Path:
        """Write the recording with ``verdict`` (``verdict``, ``failed``: the recorded run's judgement)."""
        with self._lock:
            entries = list(self._entries)
        document = {"log": {"version": HAR_VERSION, "creator": {"name": "image-router-conformance",
                                                                 "version": __version__},
                            "entries": entries, "_conformance": {**self.meta, **verdict}}}
        return write_atomic(self.path, json.dumps(document))


def _exchange(entry: dict[str, Any]) -> Exchange:
    request, response = entry["request"], entry["response"]
    post = request.get("postData") or {}
    if post.get("mimeType") == "multipart/form-data":
        body = post.get("_body")
        form = [(p["name"], p.get("fileName", p.get("value", "")), "fileName" in p) for p in post.get("params", [])]
    else:
        body = json.loads(post["text"]) if post.get("text") else None
        form = None
    content = response.get("content", {})
    raw = base64.b64decode(content.get("text", "")) if content.get("encoding") == "base64" else \
        content.get("text", "").encode()
    exchange = Exchange(request["method"], request["url"], {h["name"]: h["value"] for h in request["headers"]}, body,
                        status=entry.get("_status"), headers={h["name"]: h["value"] for h in response["headers"]},
                        content=raw, elapsed_s=entry.get("time", 0) / 1000, sent_at=entry.get("_sent_at", 0.0),
                        retries=entry.get("_retries", 0), retry_exhausted=entry.get("_retry_exhausted", False),
                        timed_out=entry.get("_timed_out", False), error=entry.get("_error"),
                        headers_dropped=entry.get("_headers_dropped", 0), request_bytes=request.get("bodySize", 0),
                        form=form)
    if "_events" in entry:
        exchange.events = [StreamEvent(**e) for e in entry["_events"]]
        exchange.stream_cut = entry.get("_stream_cut", False)
    return exchange


def read_recording(path: Path) -> tuple[dict[str, Any], dict[str, Exchange]]:
    """``(log._conformance, case id -> its exchange with its downloads)`` of a recording.

    Raises :class:`RecordingError` naming the file when it is missing, not JSON or not one of ours.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        log = document["log"]
        meta = log["_conformance"]
        entries = log["entries"]
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read the recording ({exc.strerror})") from None
    except (ValueError, KeyError, TypeError):
        raise RecordingError(f"{path}: not a recording of conformance run --record (HAR {HAR_VERSION} with "
                             "log._conformance)") from None
    exchanges: dict[str, Exchange] = {}
    for entry in entries:
        if "_download_of" not in entry:
            exchanges[entry["_case"]] = _exchange(entry)
    for entry in entries:
        if "_download_of" in entry and entry["_case"] in exchanges:
            exchanges[entry["_case"]].downloads[entry["_download_of"]] = _exchange(entry)
    return meta, exchanges


class RecordedAnswers:
    """Stands for the client in a replay: answers come from the recording, already redacted."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    @staticmethod
    def redact(text: str) -> str:
        return text

    def close(self) -> None:
        pass


def recorder_for(profile: Any, config: Any) -> Recorder | None:
    """The recorder of a run of ``profile`` with ``config`` (a :class:`~harness.options.RunConfig`): ``None`` unless
    ``config.record`` names a folder."""
    if config.record is None:
        return None
    meta = {"profile": profile.name, "profile_sha256": profile.sha256, "seed": config.seed,
            "examples": config.examples, "models": list(config.models), "large_inputs": config.large_inputs,
            "fault": config.fault if config.router_url is None else None, "embedded": config.router_url is None}
    return Recorder(Path(config.record) / f"{profile.name}.har", meta)
