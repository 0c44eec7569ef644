"""The check catalogue: judge one router answer against the profile.

Each check is a small function that returns :class:`CheckResult` values tied
to requirement ids; ``check_case`` picks the checks for the case's kind. A
check never raises on a bad answer: garbage from a router is a failed check
whose message is the evidence.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from jsonschema.exceptions import best_match
from PIL import Image, UnidentifiedImageError

from ..transport.client import Exchange
from ..rules.size import parse_size
from ..derive.schema import compiled_validator
from ..spec import PIL_FORMATS, Case, ModelEndpoint, Profile, behaviour_id

__all__ = ["CheckResult", "Verdict", "check_case"]

#: Statuses that mean "rejected as invalid" rather than an auth or load problem.
_NOT_A_REJECTION = {401, 403, 407, 429}


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check for one requirement; ``message`` explains a failure."""

    requirement: str
    passed: bool
    message: str = ""


@dataclass
class Verdict:
    """All check results of one case, plus the decoded images (for thumbnails)."""

    results: list[CheckResult] = field(default_factory=list)
    images: list[Image.Image] = field(default_factory=list)

    def add(self, requirement: str, passed: bool, message: str = "") -> None:
        self.results.append(CheckResult(requirement, passed, message))


def _describe(exchange: Exchange) -> str:
    if exchange.error:
        return exchange.error
    snippet = exchange.content[:200].decode("utf-8", "replace")
    return f"HTTP {exchange.status}: {snippet}"


def _json_body(exchange: Exchange) -> tuple[Any, str | None]:
    try:
        return exchange.json(), None
    except ValueError as exc:
        return None, f"body is not JSON ({exc.__class__.__name__}: {str(exc)[:120]})"


# ------------------------------------------------------------------ valid requests


def _check_valid(profile: Profile, op: ModelEndpoint, case: Case, exchange: Exchange, verdict: Verdict) -> None:
    prefix = op.prefix
    accepted = exchange.error is None and exchange.status == 200
    for rid in case.requirements:
        if rid == behaviour_id("accepts-valid", prefix) or rid.startswith(f"{prefix}.{op.model}."):
            verdict.add(rid, accepted, "" if accepted else f"valid request not served: {_describe(exchange)}")
    if not accepted:
        return
    content_type = exchange.content_type
    verdict.add(behaviour_id("content-type", prefix), content_type.split(";")[0].strip() == "application/json",
                f"Content-Type is {content_type!r}")
    body, problem = _json_body(exchange)
    schema_rid = behaviour_id("response.schema", prefix)
    if problem:
        verdict.add(schema_rid, False, problem)
        return
    error = best_match(compiled_validator(profile, "response", op=op).iter_errors(body))
    where = "/".join(str(p) for p in error.absolute_path) if error is not None else ""
    verdict.add(schema_rid, error is None, f"{where or '(body)'}: {error.message[:300]}" if error else "")
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return  # nothing more can be read; a schema slip elsewhere (a null field) still lets the images be judged
    _check_created(op, body, exchange, verdict)
    _check_usage(op, body, verdict)
    _check_images(op, case, body, exchange, verdict)
    _check_echo(op, case, body, verdict)


#: How far ``created`` may be from the client's clock, in seconds (clock skew, queueing).
CREATED_TOLERANCE_S = 3600


def _check_created(op: ModelEndpoint, body: dict[str, Any], exchange: Exchange, verdict: Verdict) -> None:
    created = body.get("created")
    if not isinstance(created, (int, float)) or isinstance(created, bool):
        return  # the response schema judges presence and type
    unit = op.response.created_unit
    try:
        off = (created / 1000 if unit == "milliseconds" else created) - exchange.sent_at
    except OverflowError:
        off = float("inf")
    verdict.add(behaviour_id("response.created", op.prefix), abs(off) <= CREATED_TOLERANCE_S,
                f"created={created} read in {unit} is {off:+,.0f} s from the client clock"
                f" (documented unit: {unit}; allowed ±{CREATED_TOLERANCE_S} s)")


def _check_usage(op: ModelEndpoint, body: dict[str, Any], verdict: Verdict) -> None:
    usage = body.get("usage")
    if not isinstance(usage, dict) or "usage" not in op.response.schema.get("properties", {}):
        return
    rid = behaviour_id("usage.consistent", op.prefix)
    numbers = {k: v for k, v in usage.items() if isinstance(v, int) and not isinstance(v, bool)}
    if {"total_tokens", "input_tokens", "output_tokens"} <= set(numbers):
        total = numbers["input_tokens"] + numbers["output_tokens"]
        verdict.add(rid, numbers["total_tokens"] == total,
                    f"total_tokens={numbers['total_tokens']}, input_tokens + output_tokens = {total}")
    for side in ("input", "output"):
        details = usage.get(f"{side}_tokens_details")
        tokens = numbers.get(f"{side}_tokens")
        if not isinstance(details, dict) or tokens is None:
            continue
        parts = [v for v in details.values() if isinstance(v, int) and not isinstance(v, bool)]
        # all parts present: they sum to the total; some missing: they cannot exceed it
        complete = {"image_tokens", "text_tokens"} <= set(details)
        ok = sum(parts) == tokens if complete else sum(parts) <= tokens
        verdict.add(rid, ok, f"{side}_tokens_details sum to {sum(parts)}, {side}_tokens={tokens}")


def _expected(op: ModelEndpoint, case: Case, name: str) -> Any:
    return op.effective(case.body).get(name)


def _check_images(op: ModelEndpoint, case: Case, body: dict[str, Any], exchange: Exchange, verdict: Verdict) -> None:
    prefix = op.prefix
    data = body.get("data") or []
    n = _expected(op, case, "n") or 1
    if "n" in op.params:
        verdict.add(behaviour_id("data.count", prefix), len(data) == n, f"asked n={n}, got {len(data)} images")
    fmt = _expected(op, case, "output_format")
    size = parse_size(case.body.get("size"))
    ratio = _aspect_ratio(_expected(op, case, "aspect_ratio")) if size is None else None
    fields = op.image_fields_for(case.body)
    for index, item in enumerate(data):
        image, problem = _image_of(item, fields, exchange)
        verdict.add(behaviour_id("image.decodes", prefix), image is not None, f"data[{index}]: {problem}")
        if image is None:
            continue
        verdict.images.append(image)
        if fmt in PIL_FORMATS and "output_format" in op.params:
            verdict.add(behaviour_id("image.format", prefix), image.format == PIL_FORMATS[fmt],
                        f"data[{index}]: asked output_format={fmt!r}, got {image.format}")
        if size is not None:
            verdict.add(behaviour_id("image.dimensions", prefix), image.size == size,
                        f"data[{index}]: asked {size[0]}x{size[1]}, got {image.size[0]}x{image.size[1]}")
        if ratio is not None:
            got = image.size[0] / image.size[1]
            verdict.add(behaviour_id("image.dimensions", prefix), abs(got / ratio - 1) <= ASPECT_TOLERANCE,
                        f"data[{index}]: asked aspect_ratio={_expected(op, case, 'aspect_ratio')}, "
                        f"got {image.size[0]}x{image.size[1]} ({got:.3f}:1)")
        if _expected(op, case, "background") == "transparent":
            alpha = image.convert("RGBA").getextrema()[3]
            verdict.add(behaviour_id("image.transparent", prefix), alpha[0] < 255,
                        f"data[{index}]: asked background=transparent, got a {image.mode} image with no transparent pixel")


#: How far an image's width/height may be from the requested ``aspect_ratio`` (rounding to pixel grids).
ASPECT_TOLERANCE = 0.02


def _aspect_ratio(value: Any) -> float | None:
    """``"16:9"`` -> 1.777...; anything else -> ``None``."""
    if not isinstance(value, str) or value.count(":") != 1:
        return None
    a, b = value.split(":")
    return int(a) / int(b) if a.isdigit() and b.isdigit() and int(b) else None


def _image_of(item: Any, fields: tuple[str, ...], exchange: Exchange) -> tuple[Image.Image | None, str]:
    """The decoded image of one ``data[]`` item, from the first of ``fields`` it carries."""
    if not isinstance(item, dict):
        return None, f"not an object: {str(item)[:80]!r}"
    field = next((f for f in fields if item.get(f)), None)
    if field is None:
        return None, f"no {' or '.join(fields)} field"
    if field == "b64_json":
        return _decode(item[field])
    if not isinstance(item[field], str):
        return None, f"{field} is not a string: {str(item[field])[:80]!r}"
    download = exchange.downloads.get(item[field])
    if download is None:
        return None, f"url {str(item[field])[:120]!r} was not fetched"
    if download.error or download.status != 200:
        return None, f"GET {download.url[:120]}: {download.error or f'HTTP {download.status}'}"
    return _open(download.content)


def _decode(b64: Any) -> tuple[Image.Image | None, str]:
    if not isinstance(b64, str) or not b64:
        return None, "no base64 image string"
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        return None, f"not valid base64 ({exc})"
    return _open(raw)


def _open(raw: bytes) -> tuple[Image.Image | None, str]:
    try:
        image = Image.open(io.BytesIO(raw))
        image.load()
    # Pillow signals a corrupt file with SyntaxError or EOFError as well as OSError
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        return None, f"{len(raw):,} bytes that Pillow cannot decode ({exc.__class__.__name__})"
    return image, ""


def _check_echo(op: ModelEndpoint, case: Case, body: dict[str, Any], verdict: Verdict) -> None:
    for name in op.response.echo_fields:
        # "auto" asks the router to choose, so any concrete answer is an honest echo
        if name in case.body and name in body and case.body[name] != "auto":
            verdict.add(behaviour_id("response.echo", op.prefix), body[name] == case.body[name],
                        f"asked {name}={case.body[name]!r}, response says {body[name]!r}")


# ------------------------------------------------------------------ rejected requests


def _check_error_body(profile: Profile, case: Case, exchange: Exchange, verdict: Verdict) -> None:
    body, problem = _json_body(exchange)
    if problem:
        verdict.add("error.shape", False, problem)
        return
    error = best_match(compiled_validator(profile, "error").iter_errors(body))
    where = "/".join(str(p) for p in error.absolute_path) if error is not None else ""
    verdict.add("error.shape", error is None, f"{where or '(body)'}: {error.message[:300]}" if error else "")
    if "error.no-image" in case.requirements:
        data = body.get("data") if isinstance(body, dict) else None
        images = [i for i in data if isinstance(i, dict) and (i.get("b64_json") or i.get("url"))] if isinstance(data, list) else []
        verdict.add("error.no-image", not images, f"the error body carries {len(images)} image(s) in data[]")
    named = body.get("error", {}).get("param") if isinstance(body, dict) and isinstance(body.get("error"), dict) else None
    if "error.param" in case.requirements and case.params and error is None:
        verdict.add("error.param", named in case.params,
                    f"error.param is {named!r}; the request got {' / '.join(case.params)} wrong")


def _check_invalid(profile: Profile, op: ModelEndpoint, case: Case, exchange: Exchange, verdict: Verdict) -> None:
    rid = case.requirements[0]
    status = exchange.status
    if exchange.error is not None or status is None:
        verdict.add(rid, False, f"no answer: {exchange.error}")
        return
    rejected = 400 <= status < 500 and status not in _NOT_A_REJECTION
    if status == 200:
        message = "accepted (HTTP 200) a request that breaks this rule"
    elif status >= 500:
        message = f"answered HTTP {status} (server error) instead of rejecting with a 4xx"
    else:
        message = f"answered HTTP {status}, which is not a rejection of invalid input"
    verdict.add(rid, rejected, message)
    if not rejected:
        return
    if "error.status" in case.requirements:
        verdict.add("error.status", status == profile.errors.status, f"HTTP {status}, documented {profile.errors.status}")
    _check_error_body(profile, case, exchange, verdict)


def _check_auth(profile: Profile, op: ModelEndpoint, case: Case, exchange: Exchange, verdict: Verdict) -> None:
    rid = case.requirements[0]
    if exchange.error is not None or exchange.status is None:
        verdict.add(rid, False, f"no answer: {exchange.error}")
        return
    verdict.add(rid, exchange.status in (401, 403), f"answered HTTP {exchange.status} to a request with a {case.auth} key")
    if exchange.status in (401, 403):
        verdict.add("auth.status-401", exchange.status == 401, f"answered HTTP {exchange.status}")
        sent = (exchange.request_headers.get("Authorization") or "").removeprefix("Bearer ")
        if sent:
            verdict.add("auth.no-key-echo", sent.encode() not in exchange.content,
                        "the error body repeats the API key it was sent")
        _check_error_body(profile, case, exchange, verdict)


_BY_KIND: dict[str, Callable[[Profile, ModelEndpoint, Case, Exchange, Verdict], None]] = {
    "valid": _check_valid,
    "invalid": _check_invalid,
    "auth": _check_auth,
}


def check_case(profile: Profile, case: Case, exchange: Exchange) -> Verdict:
    """Judge ``exchange`` (the answer to ``case``) and return every check result."""
    verdict = Verdict()
    op = profile.model_endpoint(case.endpoint, case.model)
    if op is None:  # a case for an unknown model (model.known) still names a documented one
        raise ValueError(f"case {case.id!r} names no operation of profile {profile.name!r}")
    _BY_KIND[case.kind](profile, op, case, exchange, verdict)
    return verdict


def failures(verdict: Verdict, levels: dict[str, str], level: str) -> Iterator[CheckResult]:
    """The failed results of ``verdict`` whose requirement has RFC 2119 ``level``."""
    return (r for r in verdict.results if not r.passed and levels.get(r.requirement, "MUST") == level)
