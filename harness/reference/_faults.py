"""The fault catalogue: named ways to break the reference router, one rule each.

A harness that cannot tell a faithful router from a broken one is worthless.
Each fault here is a :class:`Fault` registered by name with the hooks it
changes, in the order the router meets them: ``intercept`` (before auth),
``authorize``, ``headers`` and ``violations`` (validation), ``error`` (every
error answer), ``respond`` (instead of generating), ``image`` (what is drawn),
``payload`` (the 200 body), ``media_type`` and ``answer`` (the finished 200, as
it leaves). A hook left ``None`` keeps
that step faithful. Every fault names the requirement it breaks, and the
project's tests run the suite against each fault to prove that exact
requirement fails. An unknown fault name is an error, never a silent no-op.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from starlette.responses import JSONResponse, Response

from ..rules.values import FAMILY_VALUES
from ..spec import ModelEndpoint, Profile
from ._images import ImageSpec, render_image

__all__ = ["FAULTS", "ErrorContext", "Fault", "RouterState", "ValidRequest", "get_fault", "register_fault",
           "unregister_fault"]


@dataclass
class RouterState:
    """What a router remembers between requests: answers so far, and faults that act once."""

    calls: int = 0
    done: set[str] = field(default_factory=set)
    in_flight: int = 0  # requests being handled now (a concurrency fault's trigger)
    shared: Any = None  # the buffer the crossed-answers fault shares between requests


@dataclass(frozen=True)
class ErrorContext:
    """Why the router is answering with an error: ``kind`` is ``auth`` (key missing or wrong), ``rule`` (a
    documented rule broken) or ``request`` (any other bad request); ``authorization`` is the header it was sent."""

    kind: str
    authorization: str


@dataclass(frozen=True)
class Validation:
    """What the router's validation found (``found``: requirement id -> parameter) for ``body``, which targets
    ``target`` (``None``: an unknown model) on the endpoint with requirement-id ``prefix``; what ``violations`` hooks
    act on."""

    found: dict[str, str]
    target: ModelEndpoint | None
    prefix: str
    body: dict[str, Any]
    profile: Profile


@dataclass(frozen=True)
class ValidRequest:
    """A request that passed validation, about to be served: what ``respond`` hooks act on."""

    client: Any
    state: RouterState
    reset_connection: Callable[[Any], bool] | None


@dataclass(frozen=True)
class Fault:
    """A named defect: what it does, the requirement (id suffix) a run must fail, the profile that shows it, its hooks.

    ``breaks`` is ``None`` for a nuisance a conformant router may cause and
    the harness must absorb (rate limiting with ``Retry-After``).
    ``under_load`` marks a fault that only requests in flight together show
    (``conformance load`` catches it; ``conformance run`` sends one request at
    a time and must not). ``answer`` acts on the finished answer to a valid
    request, just before it is sent.
    ``skip_rule`` is shorthand for a ``violations`` hook that lets every rule
    of that kind (``multiple_of``, ``condition``, ...) through.
    """

    name: str
    description: str
    breaks: str | None
    profile: str = "worldrouter"
    skip_rule: str | None = None
    intercept: Callable[[RouterState], Response | None] | None = None
    authorize: Callable[[bool], bool] | None = None
    headers: Callable[[dict[str, str]], dict[str, str]] | None = None
    violations: Callable[[Validation], dict[str, str]] | None = None
    error: Callable[[int, dict[str, Any], ErrorContext], tuple[int, dict[str, Any]]] | None = None
    respond: Callable[[ValidRequest], Awaitable[Response | None]] | None = None
    image: Callable[[ImageSpec, dict[str, Any]], ImageSpec] | None = None
    payload: Callable[[dict[str, Any], ModelEndpoint], dict[str, Any]] | None = None
    media_type: str | None = None
    encode: Callable[[str], bytes] | None = None  # the 200 body's JSON text -> the bytes sent
    upload: Callable[[bytes], bytes] | None = None  # a multipart file part's bytes -> what the router reads
    # a streamed answer's events ((name, data); a None name sends data as raw bytes) -> what is sent instead,
    # or a whole Response (the stream ignored, an error)
    stream: Callable[[list[tuple[str | None, Any]]], list[tuple[str | None, Any]] | Response] | None = None
    stream_media_type: str | None = None
    answer: Callable[[RouterState, Response], Awaitable[Response]] | None = None
    under_load: bool = False
    models: tuple[str, ...] = ()  # enough models of ``profile`` for a run to show the fault (empty: all)

    def __post_init__(self) -> None:
        if self.skip_rule is not None and self.violations is None:
            object.__setattr__(self, "violations", _skipping(self.skip_rule))


def _skipping(rule_kind: str) -> Callable[[Validation], dict[str, str]]:
    def violations(seen: Validation) -> dict[str, str]:
        if seen.target is None:
            return seen.found
        skipped = {r.requirement.id for r in seen.target.rules() if r.kind == rule_kind}
        return {rid: p for rid, p in seen.found.items() if rid not in skipped}

    return violations


def _unknown_model_served(seen: Validation) -> dict[str, str]:
    return {} if set(seen.found) == {f"{seen.prefix}.model.known"} else seen.found


def _enum_lenient(accepts: Callable[[Validation, str, Any], bool]) -> Callable[[Validation], dict[str, str]]:
    """A ``violations`` hook that lets an ``enum`` break through when ``accepts(validation, param, value)``."""
    def violations(seen: Validation) -> dict[str, str]:
        if seen.target is None:
            return seen.found
        enum_ids = {p.rules["enum"].requirement.id for p in seen.target.params.values() if "enum" in p.rules}
        return {rid: p for rid, p in seen.found.items()
                if not (rid in enum_ids and accepts(seen, p, seen.body.get(p)))}

    return violations


def _lets_through(*slugs: str) -> Callable[[Validation], dict[str, str]]:
    """A ``violations`` hook that serves requests breaking the ``model`` rules ``slugs`` (with the first model)."""
    return lambda seen: {rid: p for rid, p in seen.found.items()
                         if rid not in {f"{seen.prefix}.model.{slug}" for slug in slugs}}


def _refuses_contested(seen: Validation) -> dict[str, str]:
    """A gateway that forwards every request: the upstream refuses the values another document contradicts."""
    found = dict(seen.found)
    for name, param in (seen.target.params.items() if seen.target else ()):
        conflict = param.conflicts.get(seen.body.get(name)) if isinstance(seen.body.get(name), str) else None
        if conflict is not None:
            found[conflict.requirement.id] = name
    return found


def _exclusive_maximum(seen: Validation) -> dict[str, str]:
    """Off by one: a value exactly on a ``maximum`` or ``max_length`` is refused as if it were past it."""
    found = dict(seen.found)
    for name, param in (seen.target.params.items() if seen.target else ()):
        value = seen.body.get(name)
        for key in ("maximum", "max_length"):
            rule = param.rules.get(key)
            size = len(value) if key == "max_length" and isinstance(value, str) else value
            if rule is not None and size == rule.value:
                found.setdefault(rule.requirement.id, name)
    return found


def _sibling_value(seen: Validation, param: str, value: Any) -> bool:
    """``value`` is documented for ``param`` on another model of the profile (WorldRouter: 2k on grok-imagine-image)."""
    return any(value in t.params[param].choices for t in seen.profile.model_endpoints()
               if t.model != seen.body.get("model") and param in t.params)


def _spelled_otherwise(seen: Validation, param: str, value: Any) -> bool:
    allowed = seen.target.params[param].choices if seen.target else ()
    return isinstance(value, str) and value.strip().lower() in [str(v).lower() for v in allowed]


# ------------------------------------------------------------------ error answers


def _on(kind: str, change: Callable[[int, dict[str, Any], ErrorContext], tuple[int, dict[str, Any]]]):
    """An ``error`` hook that changes only errors of ``kind`` (``auth``, ``rule``, ``request``)."""
    return lambda status, body, ctx: change(status, body, ctx) if ctx.kind == kind else (status, body)


def _with_error(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**body, "error": {**body["error"], **changes}}


def _reflect_key(status: int, body: dict[str, Any], ctx: ErrorContext) -> tuple[int, dict[str, Any]]:
    message = body["error"]["message"]
    if ctx.kind == "auth":  # the whole header, as a careless router writes it back
        return status, _with_error(body, message=f"Incorrect API key provided: {ctx.authorization}.")
    if ctx.kind == "rule":
        return status, _with_error(body, message=f"{message} (request authorization: {ctx.authorization})")
    return status, body


def _with_image(status: int, body: dict[str, Any], ctx: ErrorContext) -> tuple[int, dict[str, Any]]:
    if ctx.kind == "auth":
        return status, body
    return status, {**body, "data": [{"b64_json": base64.b64encode(render_image(64, 64, "png")).decode()}]}


# ------------------------------------------------------------------ answers instead of images


def _answer(content: Callable[[], bytes], **headers: str) -> Callable[[ValidRequest], Awaitable[Response]]:
    """A ``respond`` hook answering 200 ``application/json`` with ``content()`` (made per answer, not at import)."""
    async def respond(request: ValidRequest) -> Response:
        return Response(content(), media_type="application/json", headers=headers or None)

    return respond


async def _stall_once(request: ValidRequest) -> None:
    if "stall" not in request.state.done:
        request.state.done.add("stall")  # only the first generation request stalls
        await asyncio.sleep(30)
    return None


async def _model_not_found(request: ValidRequest) -> Response:
    return JSONResponse({"error": {"message": "The model does not exist or you do not have access to it.",
                                   "type": "invalid_request_error", "param": "model", "code": "model_not_found"}},
                        status_code=404)


async def _reset(request: ValidRequest) -> Response:
    if request.reset_connection is not None and request.reset_connection(request.client):
        return Response(b"")  # TCP RST: the client sees "connection reset by peer"
    return JSONResponse({"error": {"message": "The connection-reset fault found no connection to reset.",
                                   "type": "server_error", "param": None, "code": "reset_failed"}}, status_code=500)


def _rate_limit(state: RouterState) -> Response | None:
    if state.calls % 2 == 0:
        return None
    return JSONResponse({"error": {"message": "Rate limit reached, retry shortly.", "type": "rate_limit_error",
                                   "param": None, "code": "rate_limited"}}, status_code=429, headers={"Retry-After": "0"})


# ------------------------------------------------------------------ 200 bodies


def _edit(change: Callable[[dict[str, Any]], None], *, when: str | None = None):
    """A ``payload`` hook that applies ``change`` (in place) when the body has field ``when``."""
    def payload(body: dict[str, Any], target: ModelEndpoint) -> dict[str, Any]:
        if when is None or when in body:
            change(body)
        return body

    return payload


def _wider(body: dict[str, Any]) -> None:
    w, h = body["size"].split("x")
    body["size"] = f"{int(w) + 16}x{h}"


def _square(spec: ImageSpec, effective: dict[str, Any]) -> ImageSpec:
    if "aspect_ratio" not in effective:
        return spec
    edge = max(spec.width, spec.height)
    return replace(spec, width=edge, height=edge)


#: Fault name -> fault, in catalogue order.
FAULTS: dict[str, Fault] = {}


def register_fault(fault: Fault) -> Fault:
    """Add ``fault`` to the catalogue and return it; ``ValueError`` if the name is taken."""
    if fault.name in FAULTS:
        raise ValueError(f"fault {fault.name!r} is already registered")
    FAULTS[fault.name] = fault
    return fault


def unregister_fault(name: str) -> None:
    """Remove the fault ``name`` from the catalogue (for faults a test registered)."""
    FAULTS.pop(name, None)


def get_fault(name: str | None) -> Fault | None:
    """The fault called ``name`` (``None`` for a faithful router); ``KeyError`` lists the known ones."""
    if name is None:
        return None
    try:
        return FAULTS[name]
    except KeyError:
        raise KeyError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}") from None


for _fault in (
    Fault("accepts-size-not-multiple-of-16", "accepts sizes whose edges are not multiples of 16", "size.multiple-of-16",
          skip_rule="multiple_of"),
    Fault("accepts-ratio-above-3", "accepts sizes with a long:short ratio above 3:1", "size.max-ratio",
          skip_rule="max_ratio"),
    Fault("accepts-edge-above-max", "accepts sizes with an edge above the documented maximum", "size.max-edge",
          skip_rule="max_edge"),
    Fault("accepts-missing-prompt", "serves requests without a prompt", "prompt.required", skip_rule="required"),
    Fault("fixed-1024", "returns 1024x1024 images whatever size was asked", "image.dimensions",
          image=lambda spec, effective: replace(spec, width=1024, height=1024)),
    Fault("square-whatever-aspect-ratio", "draws square images whatever aspect_ratio was asked (Grok models)",
          "image.dimensions", image=_square),
    Fault("always-png", "returns PNG whatever output_format was asked", "image.format",
          image=lambda spec, effective: replace(spec, encode_as="png")),
    Fault("ignores-n", "returns one image whatever n was asked", "data.count",
          image=lambda spec, effective: replace(spec, n=1)),
    Fault("not-an-image", "returns base64 that does not decode to an image", "image.decodes",
          image=lambda spec, effective: replace(spec, corrupt=True)),
    Fault("no-auth", "serves requests without a valid API key", "auth.required", authorize=lambda ok: True),
    Fault("error-without-error-object", "answers errors with a bare {\"message\": ...}", "error.shape",
          error=lambda status, body, ctx: (status, {"message": body["error"]["message"]})),
    Fault("500-on-invalid", "answers invalid input with HTTP 500", "size.multiple-of-16",
          error=_on("rule", lambda status, body, ctx: (500, body))),
    Fault("text-plain", "labels JSON answers Content-Type: text/plain", "content-type", media_type="text/plain"),
    Fault("echo-wrong-size", "echoes a size different from the one asked", "response.echo",
          payload=_edit(_wider, when="size")),
    Fault("missing-created", "omits the required created field", "response.schema",
          payload=_edit(lambda body: body.pop("created"))),
    Fault("created-in-milliseconds", "reports created in milliseconds where the profile documents seconds",
          "response.created", payload=_edit(lambda body: body.update(created=int(time.time() * 1000)))),
    Fault("usage-total-off", "reports total_tokens one more than input_tokens + output_tokens", "usage.consistent",
          payload=_edit(lambda body: body["usage"].update(total_tokens=body["usage"]["total_tokens"] + 1))),
    Fault("opaque-when-transparent", "draws an opaque image when background: transparent was asked",
          "image.transparent", profile="opengateway",
          image=lambda spec, effective: replace(spec, transparent=False)),
    Fault("error-with-image", "puts a generated image in the body of a 4xx error", "error.no-image", error=_with_image),
    Fault("error-param-null", "leaves error.param null instead of naming the offending field", "error.param",
          error=lambda status, body, ctx: (status, _with_error(body, param=None))),
    Fault("reflects-key", "repeats the Authorization header it was sent in error messages", "auth.no-key-echo",
          error=_reflect_key),
    Fault("auth-403", "answers a missing or wrong key with 403 instead of 401", "auth.status-401",
          error=_on("auth", lambda status, body, ctx: (403, body))),
    Fault("negative-cost", "reports a negative cost", "response.schema", profile="imagerouter",
          payload=_edit(lambda body: body.update(cost=-0.004), when="cost")),
    Fault("accepts-unknown-model", "serves a model id the profile does not document", "model.known",
          violations=_unknown_model_served),
    Fault("accepts-sibling-values", "accepts a value another model of the profile documents (resolution 2k on "
          "grok-imagine-image)", "resolution.enum", violations=_enum_lenient(_sibling_value)),
    Fault("accepts-common-values", "accepts the family's common values the model does not document (aspect_ratio "
          "4:3, resolution 4k)", "aspect_ratio.enum",
          violations=_enum_lenient(lambda seen, param, value: value in FAMILY_VALUES.get(param, ()))),
    Fault("case-insensitive-enums", "accepts documented values in another case or with spaces (1K, ' 1:1')",
          "resolution.enum", violations=_enum_lenient(_spelled_otherwise)),
    Fault("accepts-missing-model", "serves a request without model, as if it named its first model",
          "model.required", violations=_lets_through("required")),
    Fault("accepts-bare-model-ids", "serves gpt-image-2 as openai/gpt-image-2 where the owner/model format is documented",
          "model.format", violations=_lets_through("format"), profile="opengateway"),
    Fault("accepts-any-input-format", "takes input images and masks of any file format (a GIF mask)", "mask.formats",
          skip_rule="formats", profile="openai"),
    Fault("refuses-contested-values", "forwards background: transparent to gpt-image-2, which refuses it "
          "(the page documents it; OpenAI says otherwise)", "background.transparent-conflict",
          violations=_refuses_contested, profile="opengateway"),
    Fault("exclusive-maximum", "rejects a value exactly on a maximum (n=10, a 32000-character prompt) as if past it",
          "n.maximum", violations=_exclusive_maximum, profile="openai"),
    Fault("accepts-broken-conditions", "ignores rules between parameters (transparent background as jpeg)",
          "transparent-needs-png-or-webp", skip_rule="condition", profile="openai"),
    Fault("ignores-content-type", "serves requests without the required Content-Type header",
          "header.content-type.required", profile="myrouter", headers=lambda found: {}),
    Fault("422-on-invalid", "rejects invalid input with 422 where the profile documents 400", "error.status",
          error=_on("rule", lambda status, body, ctx: (422, body))),
    Fault("garbage-json", "answers valid requests 200 with a body that is not JSON", "response.schema",
          respond=_answer(lambda: b'{"created": 17, "data": [{"b64_json": "iVBOR')),
    Fault("huge-body", "answers valid requests with a 50 MB body that is not JSON", "response.schema",
          respond=_answer(lambda: b'{"data": "' + b"A" * (50 * 1024 * 1024))),
    Fault("truncated-body", "closes the connection before the announced Content-Length", "accepts-valid",
          respond=_answer(lambda: b'{"created": 1', **{"content-length": "100000"})),
    Fault("connection-reset", "resets the TCP connection (RST) instead of answering a valid request", "accepts-valid",
          respond=_reset),
    Fault("stall", "stalls 30 s before answering the first generation request", "accepts-valid", respond=_stall_once),
    Fault("404-for-valid", "answers valid requests 404 model_not_found (a documented model it does not serve); "
          "a router's answer, not a missing route", "accepts-valid", respond=_model_not_found),
    Fault("rate-limited", "answers every other request 429 with Retry-After: 0 (the harness retries)", None,
          intercept=_rate_limit),
    Fault("json-bom", "sends a UTF-8 byte order mark before the JSON of every 200", "json.strict",
          encode=lambda text: b"\xef\xbb\xbf" + text.encode()),
    Fault("duplicate-created", "writes created twice, the first time as a string", "json.interoperable",
          encode=lambda text: text.replace('{"created": ', '{"created": "now", "created": ', 1).encode()),
    # seen on a real proxy: it re-encoded multipart bodies as UTF-8 text, so every uploaded image arrived corrupt
    Fault("corrupts-uploads", "reads multipart file uploads as UTF-8 text (bytes that are not UTF-8 become U+FFFD), "
          "as a proxy that re-encodes bodies does: every input image is refused", "accepts-valid", profile="openai",
          models=("gpt-image-2",), upload=lambda raw: raw.decode("utf-8", "replace").encode("utf-8")),
    Fault("attempt-without-region", "omits region from extra.routing.attempts items", "response.schema",
          profile="opengateway",
          payload=_edit(lambda body: body["extra"]["routing"]["attempts"][0].pop("region"), when="extra")),
):
    register_fault(_fault)
