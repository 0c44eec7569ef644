"""Profile -> an OpenAPI 3.1 document, so other tools can use our specs.

Schemathesis, Prism, Dredd and API gateways read OpenAPI, not our YAML. The
document is built from the very JSON Schemas the harness validates with
(OpenAPI 3.1 schema objects are JSON Schema 2020-12), one request and one
response schema per model: requests are told apart by the ``model`` const (and a discriminator), responses
are ``anyOf``. Our ``x-size-*`` and ``x-image-*`` keywords are OpenAPI extensions: other tools ignore them and
keep the rest.
"""

from __future__ import annotations

import re
from typing import Any

from .._version import __version__
from ..derive.schema import DRAFT, error_schema, request_schema, response_schema
from ..spec import ModelEndpoint, Profile

__all__ = ["openapi_document"]

_MEDIA = {"json": "application/json", "multipart": "multipart/form-data"}


def _component_name(*parts: str) -> str:
    # component names must match ^[a-zA-Z0-9.\-_]+$; model ids may hold "/"
    return re.sub(r"[^A-Za-z0-9._-]", "_", ".".join(parts))


def _unique(schemas: dict[str, Any], name: str) -> str:
    # "a/b" and "a_b" sanitize alike: number the later one rather than overwrite
    candidate, serial = name, 2
    while candidate in schemas:
        candidate, serial = f"{name}-{serial}", serial + 1
    return candidate


def _strip_dialect(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k != "$schema"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _header_parameters(profile: Profile) -> list[dict[str, Any]]:
    params = []
    for header in profile.headers.values():
        if header.name.lower() in ("content-type", "accept", "authorization"):
            continue  # OpenAPI describes these through requestBody, responses and security
        schema: dict[str, Any] = {"type": "string"}
        if "enum" in header.rules:
            schema["enum"] = list(header.rules["enum"].value)
        entry: dict[str, Any] = {"name": header.name, "in": "header", "required": header.required, "schema": schema}
        if header.source is not None:
            entry["description"] = header.source.quote
        params.append(entry)
    return params


#: Error statuses every operation documents: the profile's own for invalid requests, then auth, an unknown
#: model or route, and rate limiting (with ``Retry-After``), each in the profile's error shape.
_ERRORS = {"401": "Missing or wrong API key", "403": "The key may not use this model or endpoint",
           "404": "Unknown model, or no such route", "429": "Rate limited: retry after Retry-After seconds"}

_MIME = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "webp": "image/webp", "gif": "image/gif"}


def _binary(param: Any) -> dict[str, Any]:
    formats = param.rule_value("formats") or ["png", "jpeg", "webp"]
    return {"type": "string", "format": "binary", "contentMediaType": _MIME.get(str(formats[0]).lower(), "image/png")}


def _multipart(schema: dict[str, Any], target: ModelEndpoint) -> dict[str, Any]:
    """A request schema as a ``multipart/form-data`` body: each input image a file part (``format: binary``),
    several as repeated parts; the ``x-image-*`` keywords stay, for tools that read them."""
    properties = dict(schema.get("properties", {}))
    for name, param in target.params.items():
        if param.type != "image" or name not in properties:
            continue
        kept = {k: v for k, v in properties[name].items() if k not in ("type", "items", "maxItems", "minItems")}
        most = param.rule_value("max_items", 1)
        one = _binary(param)
        properties[name] = {**kept, **one} if most <= 1 else \
            {**kept, "type": "array", "items": one, "minItems": 1, "maxItems": most}
    multipart = {**schema, "properties": properties}
    if "allOf" in multipart:
        # the conditions between fields, unchanged, under an extension: Schemathesis 4.32.5 stops with
        # "Unsupported type: 'Binary'" on any if/then (or anyOf) over an object holding a file part
        multipart["x-conditions"] = multipart.pop("allOf")
    return multipart


def _encoding(targets: list[ModelEndpoint]) -> dict[str, Any]:
    """The ``encoding`` of a multipart body: each image field's documented content types (union over models)."""
    types: dict[str, dict[str, None]] = {}
    for target in targets:
        for name, param in target.params.items():
            if param.type == "image":
                formats = param.rule_value("formats") or ["png", "jpeg", "webp"]
                types.setdefault(name, {}).update(dict.fromkeys(_MIME.get(str(f).lower(), "image/png") for f in formats))
    return {name: {"contentType": ", ".join(media)} for name, media in types.items()}


def _body(refs: dict[str, str], *, multipart: bool, targets: list[ModelEndpoint]) -> dict[str, Any]:
    # each request schema holds its model as a const: exactly one applies, and the discriminator says which
    schema = {"oneOf": [_ref(name) for name in refs.values()],
              "discriminator": {"propertyName": "model",
                                "mapping": {model: f"#/components/schemas/{name}" for model, name in refs.items()}}}
    media: dict[str, Any] = {"schema": schema}
    if multipart:
        media["encoding"] = _encoding(targets)
    return media


def _closed_sizes(schema: dict[str, Any], target: ModelEndpoint) -> dict[str, Any]:
    """``schema`` with an ``enum`` on each size whose values are a documented list (``x-size-allowed``), so tools
    that ignore ``x-`` keywords still know them; arithmetic rules (multiple of 16, pixel bounds) stay ``x-``."""
    properties = dict(schema.get("properties", {}))
    for name, prop in properties.items():
        allowed = prop.get("x-size-allowed")
        param = target.params.get(name)
        if allowed and param is not None and not any(k in prop for k in ("x-size-multiple-of", "x-size-max-edge")):
            properties[name] = {**prop, "enum": [*param.keywords, *allowed]}
    return {**schema, "properties": properties}


def _event_schema(targets: list[ModelEndpoint]) -> dict[str, Any]:
    """One server-sent event of a streamed answer (as Schemathesis reads a ``text/event-stream`` schema):
    a documented event name and JSON ``data``; the last event carries the image."""
    names = sorted({name for t in targets if t.stream is not None
                    for name in (t.stream.partial_event, t.stream.completed_event)})
    return {"type": "object", "required": ["data"],
            "description": "one server-sent event, when the request asks to stream",
            "properties": {"event": {"enum": names}, "data": {"type": "string", "contentMediaType": "application/json"},
                           "id": {"type": "string"}, "retry": {"type": "integer", "minimum": 0}}}


def _operation(profile: Profile, endpoint: str, targets: list[ModelEndpoint], schemas: dict[str, Any]) -> dict[str, Any]:
    ep = profile.endpoints[endpoint]
    bodies: dict[str, dict[str, str]] = {enc: {} for enc in ep.encodings}
    responses = []
    for target in targets:
        request = _closed_sizes(_strip_dialect(request_schema(profile, target)), target)
        for enc in ep.encodings:
            suffix = "request" if enc == "json" else "multipart-request"
            name = _unique(schemas, _component_name(endpoint, target.model, suffix))
            schemas[name] = request if enc == "json" else _multipart(request, target)
            bodies[enc][target.model] = name
        response = _strip_dialect(response_schema(profile, target))
        res_name = _component_name(target.model, "response")
        if schemas.get(res_name, response) != response:
            res_name = _unique(schemas, res_name)
        schemas[res_name] = response
        if _ref(res_name) not in responses:  # models sharing one response schema list it once
            responses.append(_ref(res_name))
    error = {"description": "Error", "content": {"application/json": {"schema": _ref("Error")}}}
    errors = {str(profile.errors.status): {**error, "description": "Invalid request"},
              **{status: {**error, "description": text} for status, text in _ERRORS.items()}}
    errors["429"]["headers"] = {"Retry-After": {"description": "seconds to wait (RFC 9110 10.2.3)",
                                                "schema": {"type": "integer", "minimum": 0}}}
    operation: dict[str, Any] = {
        "operationId": endpoint,
        "summary": ep.source.quote if ep.source else endpoint,
        "requestBody": {
            "required": True,
            "content": {_MEDIA[enc]: _body(bodies[enc], multipart=enc == "multipart", targets=targets)
                        for enc in ep.encodings},
        },
        "responses": {
            "200": {"description": "Generated images",
                    # anyOf: one 200 body may fit several models' schemas (they differ in what they promise,
                    # not in a field that tells them apart), and oneOf would then reject the router's own example
                    "content": {"application/json": {"schema": {"anyOf": responses}},
                                **({"text/event-stream": {"schema": _event_schema(targets)}}
                                   if any(t.stream is not None for t in targets) else {})}},
            **errors,
        },
    }
    parameters = _header_parameters(profile)
    if parameters:
        operation["parameters"] = parameters
    return operation


def openapi_document(profile: Profile) -> dict[str, Any]:
    """An OpenAPI 3.1.0 document (a JSON-ready dict) describing ``profile``.

    ``servers`` holds the profile's ``base_path`` (relative: point it at your
    router's origin); each endpoint is one ``post`` operation whose request
    body, per documented encoding, is a ``oneOf`` of the per-model request
    schemas under a ``discriminator`` on ``model`` (each holds its ``model``
    as a ``const``, so exactly one applies); in ``multipart/form-data`` input
    images are file parts (``format: binary``) with their content types in
    ``encoding``. The 200 response is an ``anyOf`` of the distinct per-model
    response schemas; the profile's error status, 401, 403, 404 and 429 (with
    ``Retry-After``) carry the profile's error schema. What JSON Schema cannot
    say is in ``x-`` keywords (``x-size-*``: size arithmetic in pixels,
    ``x-image-*``: input-image format, bytes, pixels, squareness), which
    other tools ignore.
    """
    schemas: dict[str, Any] = {"Error": _strip_dialect(error_schema(profile))}
    paths: dict[str, Any] = {}
    for endpoint in profile.endpoints.values():
        targets = [target for target in profile.model_endpoints() if target.endpoint == endpoint.name]
        if not targets:
            continue
        operation = _operation(profile, endpoint.name, targets, schemas)
        for index, path in enumerate((endpoint.path, *endpoint.alternative_paths)):
            # operationIds are unique per document: an alternative path gets its own
            paths[path] = {"post": operation if index == 0 else {**operation, "operationId": f"{endpoint.name}-{index}"}}
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": DRAFT,
        "info": {
            "title": f"{profile.title} images API",
            "version": profile.sha256[:12],
            "description": (f"Generated by image-router-conformance {__version__} from the `{profile.name}` "
                            f"profile; rules quote {profile.source}."),
        },
        "servers": [{"url": profile.base_path}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": profile.auth_source.quote}},
            "schemas": schemas,
        },
    }
