"""Profile -> JSON Schemas (Draft 2020-12) for requests, 200 responses and errors.

Plain JSON Schema cannot say "width x height <= 8,294,400", so each ``size``
dimension rule becomes its own custom keyword (``x-size-max-pixels``, ...).
Other tools ignore unknown keywords and still get the standard part; our
validator understands them, and because there is exactly one keyword per rule,
every validation error maps back to exactly one requirement id.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError

from ._dimensions import DIMENSION_CHECKS, SIZE_PATTERN, parse_size
from ._spec import Model, Param, Profile

__all__ = [
    "DRAFT",
    "RequestValidator",
    "error_schema",
    "request_schema",
    "request_violations",
    "response_schema",
    "validator_for",
]

DRAFT = "https://json-schema.org/draft/2020-12/schema"

_JSON_TYPES = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean", "object": "object", "array": "array"}

#: Custom keyword -> the dimension rule kind it enforces.
_SIZE_KEYWORDS = {f"x-size-{kind.replace('_', '-')}": kind for kind in DIMENSION_CHECKS}

#: JSON Schema keyword -> the spec rule kind an error on it means.
_KEYWORD_RULES = {
    "type": "type",
    "enum": "enum",
    "minimum": "minimum",
    "maximum": "maximum",
    "maxLength": "max_length",
    "pattern": "format",
    **_SIZE_KEYWORDS,
}


def _size_keyword(kind: str):
    check = DIMENSION_CHECKS[kind]

    def validate(validator: Any, value: Any, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
        size = parse_size(instance)
        if size is not None and not check(size[0], size[1], value):
            yield ValidationError(f"{instance!r} breaks {kind}={value!r}")

    return validate


#: Draft 2020-12 plus one keyword per ``size`` dimension rule.
RequestValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    {keyword: _size_keyword(kind) for keyword, kind in _SIZE_KEYWORDS.items()},
)


# ------------------------------------------------------------------ one function per param shape


def _param_schema(param: Param) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": _JSON_TYPES[param.type]}
    if param.source is not None:
        schema["description"] = param.source.quote
    if param.default is not None:
        schema["default"] = param.default
    for kind, keyword in (("enum", "enum"), ("minimum", "minimum"), ("maximum", "maximum"), ("max_length", "maxLength")):
        if kind in param.rules:
            schema[keyword] = param.rules[kind].value
    if "format" in param.rules:
        schema.update(_size_schema(param))
    return schema


def _size_schema(param: Param) -> dict[str, Any]:
    alternatives = "|".join(sorted(param.keywords))
    pattern = f"^({alternatives}|{SIZE_PATTERN})$" if alternatives else f"^{SIZE_PATTERN}$"
    schema: dict[str, Any] = {"pattern": pattern}
    for kind, rule in param.dimension_rules.items():
        schema[f"x-size-{kind.replace('_', '-')}"] = rule.value
    return schema


def request_schema(profile: Profile, endpoint: str, model: Model) -> dict[str, Any]:
    """The JSON Schema of a request body that ``model`` accepts on ``endpoint``.

    ``model`` is a ``const``; unknown extra properties are allowed (routers
    pass many through). Size rules appear as ``x-size-*`` keywords.
    """
    properties: dict[str, Any] = {"model": {"const": model.name}}
    properties.update({name: _param_schema(param) for name, param in model.params.items()})
    required = ["model", *(name for name, param in model.params.items() if param.required)]
    return {
        "$schema": DRAFT,
        "title": f"{profile.name} {endpoint} request ({model.name})",
        "type": "object",
        "required": required,
        "properties": properties,
    }


def response_schema(profile: Profile, model: Model) -> dict[str, Any]:
    """The JSON Schema of a 200 body for ``model``, as the profile writes it."""
    return {"$schema": DRAFT, "title": f"{profile.name} response ({model.name})", **model.response.schema}


def error_schema(profile: Profile) -> dict[str, Any]:
    """The JSON Schema of an error body (4xx/5xx) for the profile."""
    return {"$schema": DRAFT, "title": f"{profile.name} error", **profile.errors.schema}


def validator_for(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    """A validator for any schema this module produced (custom keywords included)."""
    return RequestValidator(schema)


#: (profile sha256, kind, endpoint, model) -> validator; a resolved profile never changes.
_COMPILED: dict[tuple[str, str, str, str], jsonschema.protocols.Validator] = {}


def compiled_validator(profile: Profile, kind: str, *, endpoint: str = "", model: Model | None = None) -> jsonschema.protocols.Validator:
    """The validator of the ``request``, ``response`` or ``error`` schema, built once per profile.

    Request validation runs on every reference-router request and every
    checked answer, so the schema is derived and compiled only the first time.
    """
    key = (profile.sha256, kind, endpoint, model.name if model else "")
    if key not in _COMPILED:
        if kind == "request":
            schema = request_schema(profile, endpoint, model)  # type: ignore[arg-type]
        elif kind == "response":
            schema = response_schema(profile, model)  # type: ignore[arg-type]
        else:
            schema = error_schema(profile)
        _COMPILED[key] = validator_for(schema)
    return _COMPILED[key]


def request_violations(profile: Profile, endpoint: str, body: dict[str, Any]) -> dict[str, str]:
    """The rules ``body`` breaks: requirement id -> offending parameter name.

    An unknown model breaks the pseudo-rule ``<prefix>.model.known``. An empty
    result means the body is valid for its model on ``endpoint``.
    """
    prefix = profile.endpoints[endpoint].prefix
    model = profile.models.get(body.get("model")) if isinstance(body.get("model"), str) else None
    if model is None or endpoint not in model.endpoints:
        return {f"{prefix}.model.known": "model"}
    found: dict[str, str] = {}
    by_param: dict[str, set[str]] = {}
    for error in compiled_validator(profile, "request", endpoint=endpoint, model=model).iter_errors(body):
        if error.validator == "required":
            for name in error.validator_value:
                if name not in body and name in model.params:
                    found[model.params[name].rules["required"].requirement.id] = name
            continue
        if not error.path:
            continue
        name = str(error.path[0])
        kind = _KEYWORD_RULES.get(str(error.validator))
        param = model.params.get(name)
        if param is not None and kind in param.rules:
            by_param.setdefault(name, set()).add(kind)
    for name, kinds in by_param.items():
        # A value of the wrong type breaks the type rule; its other failures follow from that.
        for kind in ({"type"} if "type" in kinds else kinds):
            found[model.params[name].rules[kind].requirement.id] = name
    return found
