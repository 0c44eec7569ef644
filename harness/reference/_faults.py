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
    """A named defect: what it does, and the requirement (id suffix) a run must fail."""

    name: str
    description: str
    breaks: str
    skip_rule: str | None = None


FAULTS: dict[str, Fault] = {f.name: f for f in (
    Fault("accepts-size-not-multiple-of-16", "accepts sizes whose edges are not multiples of 16", "size.multiple-of-16", skip_rule="multiple_of"),
    Fault("accepts-ratio-above-3", "accepts sizes with a long:short ratio above 3:1", "size.max-ratio", skip_rule="max_ratio"),
    Fault("accepts-edge-above-max", "accepts sizes with an edge above the documented maximum", "size.max-edge", skip_rule="max_edge"),
    Fault("accepts-missing-prompt", "serves requests without a prompt", "prompt.required", skip_rule="required"),
    Fault("fixed-1024", "returns 1024x1024 images whatever size was asked", "image.dimensions"),
    Fault("always-png", "returns PNG whatever output_format was asked", "image.format"),
    Fault("ignores-n", "returns one image whatever n was asked", "data.count"),
    Fault("not-an-image", "returns base64 that does not decode to an image", "image.decodes"),
    Fault("no-auth", "serves requests without a valid API key", "auth.required"),
    Fault("error-without-error-object", "answers errors with a bare {\"message\": ...}", "error.shape"),
    Fault("500-on-invalid", "answers invalid input with HTTP 500", "size.multiple-of-16"),
    Fault("text-plain", "labels JSON answers Content-Type: text/plain", "content-type"),
    Fault("echo-wrong-size", "echoes a size different from the one asked", "response.echo"),
    Fault("missing-created", "omits the required created field", "response.schema"),
)}


def get_fault(name: str | None) -> Fault | None:
    """The fault called ``name`` (``None`` for a faithful router); ``KeyError`` lists the known ones."""
    if name is None:
        return None
    try:
        return FAULTS[name]
    except KeyError:
        raise KeyError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}") from None
