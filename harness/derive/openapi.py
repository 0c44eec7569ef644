"""Profile -> an OpenAPI 3.1 document, so other tools can use our specs.

Schemathesis, Prism, Dredd and API gateways read OpenAPI, not our YAML. The
document is built from the very JSON Schemas the harness validates with
(OpenAPI 3.1 schema objects are JSON Schema 2020-12), one request and one
response schema per model: requests are told apart by the ``model`` const, responses are ``anyOf``. Our ``x-size-*``
keywords are OpenAPI extensions: other tools ignore them and keep the rest.
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


def _operation(profile: Profile, endpoint: str, targets: list[ModelEndpoint], schemas: dict[str, Any]) -> dict[str, Any]:
    requests, responses = [], []
    for target in targets:
        req_name = _unique(schemas, _component_name(endpoint, target.model, "request"))
        response = _strip_dialect(response_schema(profile, target))
        res_name = _component_name(target.model, "response")
        if schemas.get(res_name, response) != response:
            res_name = _unique(schemas, res_name)
        schemas[req_name] = _strip_dialect(request_schema(profile, target))
        schemas[res_name] = response
        requests.append(_ref(req_name))
        if _ref(res_name) not in responses:  # models sharing one response schema list it once
            responses.append(_ref(res_name))
    ep = profile.endpoints[endpoint]
    error = {"description": "Error", "content": {"application/json": {"schema": _ref("Error")}}}
    operation: dict[str, Any] = {
        "operationId": endpoint,
        "summary": ep.source.quote if ep.source else endpoint,
        "requestBody": {
            "required": True,
            "content": {_MEDIA[enc]: {"schema": {"oneOf": requests}} for enc in ep.encodings},
        },
        "responses": {
            "200": {"description": "Generated images",
                    # anyOf: one 200 body may fit several models' schemas (they differ in what they promise,
                    # not in a field that tells them apart), and oneOf would then reject the router's own example
                    "content": {"application/json": {"schema": {"anyOf": responses}}}},
            str(profile.errors.status): {**error, "description": "Invalid request"},
            "401": {**error, "description": "Missing or wrong API key"},
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
    body is a ``oneOf`` of the per-model request schemas (each has its ``model``
    as a ``const``, so exactly one applies) and the 200 response an ``anyOf``
    of the distinct per-model response schemas.
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
