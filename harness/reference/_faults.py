"""The fault catalogue: named ways to break the reference router, one rule each.

A harness that cannot tell a faithful router from a broken one is worthless;
every fault here names the requirement it breaks, and the project's tests run
the suite against each fault to prove that exact requirement fails.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FAULTS", "Fault", "get_fault"]


@dataclass(frozen=True)
class Fault:
    """A named defect: what it does, the requirement (id suffix) a run must fail, and the profile that shows it.

    ``breaks`` is ``None`` for a nuisance a conformant router may cause and
    the harness must absorb (e.g. rate limiting with ``Retry-After``).
    """

    name: str
    description: str
    breaks: str | None
    skip_rule: str | None = None
    profile: str = "worldrouter"


FAULTS: dict[str, Fault] = {f.name: f for f in (
    Fault("accepts-size-not-multiple-of-16", "accepts sizes whose edges are not multiples of 16", "size.multiple-of-16", skip_rule="multiple_of"),
    Fault("accepts-ratio-above-3", "accepts sizes with a long:short ratio above 3:1", "size.max-ratio", skip_rule="max_ratio"),
    Fault("accepts-edge-above-max", "accepts sizes with an edge above the documented maximum", "size.max-edge", skip_rule="max_edge"),
    Fault("accepts-missing-prompt", "serves requests without a prompt", "prompt.required", skip_rule="required"),
    Fault("fixed-1024", "returns 1024x1024 images whatever size was asked", "image.dimensions"),
    Fault("square-whatever-aspect-ratio", "draws square images whatever aspect_ratio was asked (Grok models)",
          "image.dimensions"),
    Fault("always-png", "returns PNG whatever output_format was asked", "image.format"),
    Fault("ignores-n", "returns one image whatever n was asked", "data.count"),
    Fault("not-an-image", "returns base64 that does not decode to an image", "image.decodes"),
    Fault("no-auth", "serves requests without a valid API key", "auth.required"),
    Fault("error-without-error-object", "answers errors with a bare {\"message\": ...}", "error.shape"),
    Fault("500-on-invalid", "answers invalid input with HTTP 500", "size.multiple-of-16"),
    Fault("text-plain", "labels JSON answers Content-Type: text/plain", "content-type"),
    Fault("echo-wrong-size", "echoes a size different from the one asked", "response.echo"),
    Fault("missing-created", "omits the required created field", "response.schema"),
    Fault("created-in-milliseconds", "reports created in milliseconds where the profile documents seconds", "response.created"),
    Fault("usage-total-off", "reports total_tokens one more than input_tokens + output_tokens", "usage.consistent"),
    Fault("opaque-when-transparent", "draws an opaque image when background: transparent was asked", "image.transparent",
          profile="opengateway"),
    Fault("error-with-image", "puts a generated image in the body of a 4xx error", "error.no-image"),
    Fault("error-param-null", "leaves error.param null instead of naming the offending field", "error.param"),
    Fault("reflects-key", "repeats the Authorization header it was sent in error messages", "auth.no-key-echo"),
    Fault("auth-403", "answers a missing or wrong key with 403 instead of 401", "auth.status-401"),
    Fault("negative-cost", "reports a negative cost", "response.schema", profile="imagerouter"),
    Fault("accepts-unknown-model", "serves a model id the profile does not document", "model.known"),
    Fault("accepts-broken-conditions", "ignores rules between parameters (transparent background as jpeg)",
          "transparent-needs-png-or-webp", skip_rule="condition", profile="openai"),
    Fault("ignores-content-type", "serves requests without the required Content-Type header", "header.content-type.required",
          profile="myrouter"),
    Fault("422-on-invalid", "rejects invalid input with 422 where the profile documents 400", "error.status"),
    Fault("garbage-json", "answers valid requests 200 with a body that is not JSON", "response.schema"),
    Fault("huge-body", "answers valid requests with a 50 MB body that is not JSON", "response.schema"),
    Fault("truncated-body", "closes the connection before the announced Content-Length", "accepts-valid"),
    Fault("connection-reset", "resets the TCP connection (RST) instead of answering a valid request", "accepts-valid"),
    Fault("stall", "stalls 30 s before answering the first generation request", "accepts-valid"),
    Fault("rate-limited", "answers every other request 429 with Retry-After: 0 (the harness retries)", None),
    Fault("attempt-without-region", "omits region from extra.routing.attempts items", "response.schema",
          profile="opengateway"),
)}


def get_fault(name: str | None) -> Fault | None:
    """The fault called ``name`` (``None`` for a faithful router); ``KeyError`` lists the known ones."""
    if name is None:
        return None
    try:
        return FAULTS[name]
    except KeyError:
        raise KeyError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}") from None
