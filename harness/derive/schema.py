"""Profile -> JSON Schemas (Draft 2020-12) for requests, 200 responses and errors.

Every rule kind in the registry adds its keyword to the parameter's schema.
Plain JSON Schema cannot say "width x height <= 8,294,400", so such a kind
brings a custom keyword (``x-size-max-pixels``, ...) and its predicate. Other
tools ignore unknown keywords and keep the standard part; our validator
understands them, and because each keyword means exactly one kind, every
validation error maps back to exactly one requirement id.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError

from ..rules import KINDS, by_keyword, custom_keywords, registry_key
from ..spec import Condition, Model, ModelEndpoint, Param, Profile, Rule

__all__ = [
    "DRAFT",
    "compiled_validator",
    "error_schema",
    "header_violations",
    "request_schema",
    "request_violations",
    "response_schema",
    "validator_for",
]

DRAFT = "https://json-schema.org/draft/2020-12/schema"

_JSON_TYPES = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean", "object": "object", "array": "array"}


def _custom_keyword(keyword: str, check: Callable[[Any, Any], bool]):
    def validate(validator: Any, value: Any, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
        if not check(instance, value):
            yield ValidationError(f"{instance!r} breaks {keyword}={value!r}")

    return validate


@cache
def _validator_class(kinds: tuple[str, ...]) -> Any:
    """Draft 2020-12 plus the ``x-`` keyword of every registered kind that has one (``kinds``: the registry key)."""
    return jsonschema.validators.extend(
        jsonschema.Draft202012Validator,
        {keyword: _custom_keyword(keyword, check) for keyword, check in custom_keywords().items()},
    )


# ------------------------------------------------------------------ one function per param shape


def _image_schema(param: Param) -> dict[str, Any]:
    # an input image: one URL / data URI string, or an array of them (a file, in multipart)
    return {"type": ["string", "array"], "items": {"type": "string"}}


def _param_schema(param: Param) -> dict[str, Any]:
    """The property schema of ``param``: its type, text and default, then each rule's keywords in rule order."""
    schema: dict[str, Any] = _image_schema(param) if param.type == "image" else {"type": _JSON_TYPES[param.type]}
    if param.source is not None:
        schema["description"] = param.source.quote
    if param.default is not None:
        schema["default"] = param.default
    for key, rule in param.rules.items():
        schema = KINDS[key].schema(schema, param, rule)  # type: ignore[misc]
    return {**param.schema, **schema}


def _condition_schema(op: ModelEndpoint, rule: Rule) -> dict[str, Any]:
    """``if``/``then`` for a condition; absent parameters count with their documented default."""
    condition: Condition = rule.value
    if_props: dict[str, Any] = {}
    if_required: list[str] = []
    for name, values in condition.when.items():
        default = op.params[name].default
        if values is not None:
            if_props[name] = {"enum": list(values)}
        if values is None or default not in values:
            if_required.append(name)
    then: list[dict[str, Any]] = []
    for name, values in condition.then.items():
        if values is None:
            then.append({"not": {"required": [name]}})
            continue
        piece: dict[str, Any] = {"properties": {name: {"enum": list(values)}}}
        if op.params[name].default not in values:
            piece["required"] = [name]
        then.append(piece)
    return {
        "$comment": f"{rule.requirement.id}: {rule.requirement.title}",
        "if": {"properties": if_props, "required": if_required},
        "then": {"allOf": then},
    }


def request_schema(profile: Profile, op: ModelEndpoint) -> dict[str, Any]:
    """The JSON Schema of a request body for ``op`` (one model on one endpoint).

    ``model`` is a ``const``; unknown extra properties are allowed (routers
    pass many through). Size rules appear as ``x-size-*`` keywords and each
    condition as one ``allOf`` item with ``if``/``then``.
    """
    properties: dict[str, Any] = {"model": {"const": op.model}}
    properties.update({name: _param_schema(param) for name, param in op.params.items()})
    required = ["model", *(name for name, param in op.params.items() if param.required)]
    schema: dict[str, Any] = {
        "$schema": DRAFT,
        "title": f"{profile.name} {op.endpoint} request ({op.model})",
        "type": "object",
        "required": required,
        "properties": properties,
    }
    if op.conditions:
        schema["allOf"] = [_condition_schema(op, rule) for rule in op.conditions]
    return schema


def response_schema(profile: Profile, model: Model | ModelEndpoint) -> dict[str, Any]:
    """The JSON Schema of a 200 body for ``model``, as the profile writes it."""
    return {"$schema": DRAFT, "title": f"{profile.name} response ({model.name})", **model.response.schema}


def error_schema(profile: Profile) -> dict[str, Any]:
    """The JSON Schema of an error body (4xx/5xx) for the profile."""
    return {"$schema": DRAFT, "title": f"{profile.name} error", **profile.errors.schema}


def validator_for(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    """A validator for any schema this module produced (the registry's custom keywords included)."""
    return _validator_class(registry_key())(schema)


#: (profile sha256, registry, kind, endpoint, model) -> validator; a resolved profile never changes.
_COMPILED: dict[tuple[Any, ...], jsonschema.protocols.Validator] = {}


def compiled_validator(profile: Profile, kind: str, *, op: ModelEndpoint | None = None) -> jsonschema.protocols.Validator:
    """The validator of the ``request``, ``response`` or ``error`` schema, built once per profile.

    Request validation runs on every reference-router request and every
    checked answer, so the schema is derived and compiled only the first time.
    """
    key = (profile.sha256, registry_key(), kind, op.endpoint if op else "", op.model if op else "")
    if key not in _COMPILED:
        if kind == "request":
            schema = request_schema(profile, op)  # type: ignore[arg-type]
        elif kind == "response":
            schema = response_schema(profile, op)  # type: ignore[arg-type]
        else:
            schema = error_schema(profile)
        _COMPILED[key] = validator_for(schema)
    return _COMPILED[key]


def request_violations(profile: Profile, endpoint: str, body: dict[str, Any]) -> dict[str, str]:
    """The rules ``body`` breaks: requirement id -> offending parameter name.

    A missing ``model`` breaks ``<prefix>.model.required`` and a model id out
    of the documented format ``<prefix>.model.format``, where the profile
    documents them; any other model the profile lacks breaks the pseudo-rule
    ``<prefix>.model.known``; a value that breaks the parameter's schema where
    no rule of the profile covers it (``user: {}`` where ``user`` is typed
    without a source) breaks the pseudo-rule ``<prefix>.<model>.<param>.schema``. An empty
    result means the body is valid for its model on ``endpoint``. A parameter
    of the wrong type breaks only its type rule, and a condition is reported
    only when the parameters it relates are each valid on their own.
    """
    prefix = profile.endpoints[endpoint].prefix
    model_rules = profile.endpoints[endpoint].model_rules
    if "model" not in body and "required" in model_rules:
        return {model_rules["required"].requirement.id: "model"}
    model = body.get("model")
    form = model_rules.get("format")
    if form is not None and isinstance(model, str) and not re.search(form.value, model):
        return {form.requirement.id: "model"}
    op = profile.model_endpoint(endpoint, model)
    if op is None:
        return {f"{prefix}.model.known": "model"}
    found: dict[str, str] = {}
    keyword_kinds = by_keyword()
    by_param: dict[str, set[str]] = {}
    broken_conditions: list[Rule] = []
    for error in compiled_validator(profile, "request", op=op).iter_errors(body):
        where = list(error.relative_schema_path)
        if where[:1] == ["allOf"]:
            broken_conditions.append(op.conditions[where[1]])
            continue
        if error.validator == "required":
            for name in error.validator_value:
                if name not in body and name in op.params:
                    found[op.params[name].rules["required"].requirement.id] = name
            continue
        if not error.path:
            continue
        name = str(error.path[0])
        kind = keyword_kinds.get(str(error.validator))
        param = op.params.get(name)
        if param is not None and kind in param.rules:
            by_param.setdefault(name, set()).add(kind)
        elif param is not None:  # the schema's structure (a type the profile states without a source)
            found.setdefault(f"{op.prefix}.{op.model}.{name}.schema", name)
    for name, kinds in by_param.items():
        # A value of the wrong type breaks the type rule; its other failures follow from that.
        for kind in ({"type"} if "type" in kinds else kinds):
            found[op.params[name].rules[kind].requirement.id] = name
    for rule in broken_conditions:
        involved = {*rule.value.when, *rule.value.then}
        if not involved & set(by_param):
            found[rule.requirement.id] = rule.param
    return found


def header_violations(profile: Profile, headers: Mapping[str, str]) -> dict[str, str]:
    """The header rules ``headers`` (name -> value) break: requirement id -> header name.

    Names compare case-insensitively; a ``Content-Type`` compares by media
    type, so ``application/json; charset=utf-8`` is ``application/json``.
    """
    sent = {name.lower(): value for name, value in headers.items()}
    found: dict[str, str] = {}
    for name, header in profile.headers.items():
        value = sent.get(name.lower())
        if value is None:
            if header.required:
                found[header.rules["required"].requirement.id] = name
            continue
        if name.lower() == "content-type":
            value = value.split(";")[0].strip().lower()
        if "enum" in header.rules and value not in header.rules["enum"].value:
            found[header.rules["enum"].requirement.id] = name
    return found
