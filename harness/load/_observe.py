"""One answer under load, judged where it arrived and written down as a plain record (an observation).

The load engine runs in Locust's processes (gevent), possibly on other
machines; what reaches the master and the verdict is this JSON-ready
record, never the exchange itself. It is judged by the very checks
``conformance run`` applies (:func:`harness.checks.check_case`), and every
string in it is redacted after decoding. Rate limiting (429, or 503 with a
``Retry-After``) is load shed as RFC 6585 and RFC 9110 allow: it is judged
for its shape and its ``Retry-After``, not as a refusal of a valid request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..checks import check_case
from ..derive.schema import compiled_validator
from ..evidence import build_evidence
from ..spec import Case, Profile
from ..transport.client import Exchange, retry_after_s
from ._workload import Combination

__all__ = ["Observation", "answer_class", "observe"]

#: An observation: see :func:`observe` for its keys.
Observation = dict[str, Any]
#: At most this many failed check results kept per answer.
_KEEP_FAILURES = 8


def answer_class(exchange: Exchange) -> str:
    """``transport-error`` (no HTTP answer), ``rate-limited`` (429, or 503 with ``Retry-After``: load shed),
    ``server-error`` (any other 5xx) or ``answer``."""
    status = exchange.status
    if status is None:
        return "transport-error"
    if status == 429 or (status == 503 and "retry-after" in exchange.headers):
        return "rate-limited"
    return "server-error" if status >= 500 else "answer"


def _error_shape(profile: Profile, exchange: Exchange) -> str | None:
    """``None`` when the body is a documented error object; else what is wrong with it."""
    try:
        body = exchange.json()
    except ValueError as exc:
        return f"the body is not JSON ({str(exc)[:120]})"
    error = next(iter(compiled_validator(profile, "error").iter_errors(body)), None)
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "(body)"
    return f"{where}: {error.message}"  # cut only once redacted: the message quotes the router's value


def _data_count(exchange: Exchange) -> int | None:
    """How many items the answer's ``data`` holds (only the first ``n`` are decoded); ``None``: no such list."""
    try:
        body = exchange.json()
    except ValueError:
        return None
    data = body.get("data") if isinstance(body, dict) else None
    return len(data) if isinstance(data, list) else None


def observe(profile: Profile, case: Case, combination: Combination | None, exchange: Exchange, *,
            started: float, ended: float, levels: dict[str, str], redact: Callable[[str], str],
            base_url: str, keep_evidence: Callable[[str], bool]) -> Observation:
    """The observation of ``exchange``, the answer to ``case`` (valid cases: leased ``combination``).

    ``started`` / ``ended`` are wall-clock times (seconds since the epoch)
    around the request. Keys: ``case``, ``kind``, ``combination`` (its label
    or ``None``), ``billable``, ``start``, ``end``, ``latency_ms``,
    ``status`` (``None``: no HTTP answer), ``class`` (:func:`answer_class`),
    ``error`` (the transport error), ``failures`` (``[requirement, level,
    message]`` of failed checks, at most 8), ``judged`` (check results),
    ``images`` (``[[width, height, format], ...]`` as each decoded image
    declares them, or ``None``), ``count`` (items in ``data``),
    ``retry_after`` (the header, or ``None``), ``retry_after_usable``,
    ``shape`` (a rate-limit answer's error-shape problem, or ``None``) and,
    when ``keep_evidence(key)`` says so, ``evidence``.
    """
    kind = answer_class(exchange)
    record: Observation = {
        "case": case.id, "kind": case.kind, "combination": combination.label if combination else None,
        "billable": case.billable, "start": round(started, 4), "end": round(ended, 4),
        "latency_ms": round((ended - started) * 1000, 2), "status": exchange.status, "class": kind,
        "error": redact(exchange.error) if exchange.error else None, "failures": [], "judged": 0, "images": None,
        "retry_after": None, "retry_after_usable": None, "shape": None,
    }
    images: list[Any] = []
    if kind == "rate-limited":
        value = exchange.headers.get("retry-after")
        record["retry_after"] = redact(value)[:100] if value is not None else None
        record["retry_after_usable"] = retry_after_s(value) is not None
        shape = _error_shape(profile, exchange)
        record["shape"] = redact(shape)[:300] if shape else None
        key = "rate-limited" if shape is None and record["retry_after_usable"] else "rate-limited:bad"
    else:
        try:
            verdict = check_case(profile, case, exchange)
            results, images, shown = verdict.results, verdict.images, verdict.shown
        except Exception as exc:  # an answer no check foresaw: a failed case with evidence, never a crash
            results, shown = [], []
            record["failures"].append([case.requirements[0], "MUST",
                                       redact(f"the harness could not judge it: {exc!r}")[:300]])
        record["judged"] = len(results)
        failed = [r for r in results if not r.passed]
        record["failures"] += [[r.requirement, levels.get(r.requirement, "MUST"), redact(r.message)[:300]]
                               for r in failed[:_KEEP_FAILURES]]
        if case.kind == "valid" and shown:
            record["images"] = [list(header) for header in shown]
            record["count"] = _data_count(exchange)
        key = f"{kind}:{record['failures'][0][0]}" if record["failures"] else kind
    if (kind != "answer" or record["failures"]) and keep_evidence(key):
        record["evidence"] = build_evidence(exchange, images[:4], redact=redact, base_url=base_url)
    return record
