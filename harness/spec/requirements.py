"""Profile -> the requirement catalogue: every statement a run can pass or fail.

Two kinds of requirement exist. Rule requirements come straight from a
parameter rule in the spec ("size: both edges multiples of 16"). Behaviour
requirements are the same for every router (a valid request is answered 200,
``data`` holds ``n`` images, errors have the documented shape) but each cites
the words of *this* profile that promise the behaviour, so a report always
quotes the router's own documentation.
"""

from __future__ import annotations

from .model import Profile, Requirement, Source

__all__ = ["catalogue", "behaviour_id"]

#: Behaviour requirement slug -> (level, title). Ids are ``<prefix>.<slug>``
#: for endpoint behaviour and the bare slug for ``error.*`` / ``auth.*``.
_BEHAVIOUR = {
    "accepts-valid": ("MUST", "a request that keeps every documented rule is answered 200"),
    "content-type": ("MUST", "a 200 answer is `Content-Type: application/json`"),
    "response.schema": ("MUST", "a 200 body has the documented response shape"),
    "data.count": ("MUST", "`data` holds exactly `n` images"),
    "image.decodes": ("MUST", "every image decodes as a real image file"),
    "image.format": ("MUST", "every image is in the requested `output_format` (or the documented default)"),
    "image.dimensions": ("MUST", "every image has the requested `size` in pixels"),
    "response.echo": ("SHOULD", "the response echoes the request's output fields"),
    "response.created": ("MUST", "`created` is the generation time in the documented unit (within an hour of the client clock)"),
    "usage.consistent": ("SHOULD", "`usage` adds up: total = input + output tokens, and each details block sums to its total"),
    "image.transparent": ("MUST", "with `background: transparent`, every image has transparent pixels"),
    "model.known": ("SHOULD", "an unknown model is rejected with a 4xx"),
    "error.shape": ("MUST", "an error body has the documented error shape"),
    "error.status": ("SHOULD", "an invalid request is answered with the documented error status"),
    "error.no-image": ("MUST", "an error answer carries no generated image"),
    "error.param": ("SHOULD", "`error.param` names the offending request field"),
    "auth.status-401": ("SHOULD", "a missing or wrong API key is answered 401 (403 is tolerated)"),
    "auth.no-key-echo": ("SHOULD", "an auth error never repeats the key it was sent (security)"),
    "auth.required": ("MUST", "a request without an API key is rejected with 401 or 403"),
    "auth.wrong-key": ("MUST", "a request with a wrong API key is rejected with 401 or 403"),
}


def behaviour_id(slug: str, prefix: str = "gen") -> str:
    """The requirement id of a behaviour: ``gen.data.count``, ``error.shape``, ``auth.required``."""
    if slug not in _BEHAVIOUR:
        raise KeyError(f"unknown behaviour requirement {slug!r}")
    return slug if slug.startswith(("error.", "auth.")) else f"{prefix}.{slug}"


def catalogue(profile: Profile) -> dict[str, Requirement]:
    """Every requirement of ``profile`` by id: behaviour requirements first, then rules in spec order.

    A requirement written in the profile's ``requirements:`` section replaces
    the derived one with the same id (its level, source and, if given, title).
    """
    found: dict[str, Requirement] = {}

    def add(slug: str, prefix: str, source: Source | None, *, level: str | None = None) -> None:
        if source is None:
            return
        default_level, title = _BEHAVIOUR[slug]
        rid = behaviour_id(slug, prefix)
        found.setdefault(rid, Requirement(rid, level or default_level, title, source))

    for op in profile.model_endpoints():
        params, prefix, response = op.params, op.prefix, op.response
        endpoint = profile.endpoints[op.endpoint]
        add("accepts-valid", prefix, endpoint.source)
        add("content-type", prefix, response.source)
        add("response.schema", prefix, response.source)
        add("image.decodes", prefix, response.source)
        add("data.count", prefix, params["n"].source if "n" in params else None)
        add("image.format", prefix, params["output_format"].source if "output_format" in params else None)
        shape = params.get("size") or params.get("aspect_ratio")
        add("image.dimensions", prefix, shape.source if shape is not None else None)
        add("response.echo", prefix, response.echo_source, level=response.echo_level)
        add("response.created", prefix, response.source)
        add("usage.consistent", prefix, response.source if "usage" in response.schema.get("properties", {}) else None)
        background = params.get("background")
        if background is not None and "transparent" in background.choices:
            add("image.transparent", prefix, background.source)
        add("model.known", prefix, op.source or endpoint.source)
    add("error.shape", "", profile.errors.source, level=profile.errors.level)
    add("error.status", "", profile.errors.source)
    add("error.no-image", "", profile.errors.source)
    add("error.param", "", profile.errors.source)
    add("auth.status-401", "", profile.auth_source)
    add("auth.no-key-echo", "", profile.auth_source)
    add("auth.required", "", profile.auth_source)
    add("auth.wrong-key", "", profile.auth_source)
    for rule in profile.header_rules():
        found.setdefault(rule.requirement.id, rule.requirement)
    for _op, rule in profile.rules():
        found.setdefault(rule.requirement.id, rule.requirement)
    for rid, written in profile.requirements.items():
        derived = found.get(rid)
        title = written.title or (derived.title if derived else rid)
        found[rid] = Requirement(rid, written.level, title, written.source)
    return found
