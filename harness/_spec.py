"""YAML profile -> typed :class:`Profile`.

A profile is the single source of truth for a router's documented contract:
the JSON Schemas, the Hypothesis strategies, the requirement catalogue and the
reference router are all derived from the object this module returns. Loading
validates every file against ``specs/meta-schema.json`` and reports problems as
``file:line: key: message`` so a spec author can jump straight to the mistake.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from ._errors import ProfileNotFound, SpecError
from ._resources import builtin_profiles, specs_dir

__all__ = [
    "DIMENSION_RULES",
    "Condition",
    "Endpoint",
    "ErrorSpec",
    "Header",
    "Model",
    "Operation",
    "Param",
    "Profile",
    "Requirement",
    "ResponseSpec",
    "Rule",
    "Source",
    "load_profile",
]

#: ``output_format`` value -> the format name Pillow reads and writes.
PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "jpg": "JPEG", "webp": "WEBP"}

#: Endpoint name -> the prefix of its requirement ids.
ENDPOINT_PREFIX = {"generations": "gen", "edits": "edit"}

#: Dimension rules of ``size``, in the order they are reported.
DIMENSION_RULES = ("allowed", "max_edge", "multiple_of", "max_ratio", "min_pixels", "max_pixels")

#: Parameter rules that reject a request, spec key -> requirement slug.
_PARAM_RULE_SLUGS = {
    "required": "required",
    "type": "type",
    "enum": "enum",
    "minimum": "minimum",
    "maximum": "maximum",
    "max_length": "max-length",
    "max_items": "max-items",
    "unsupported": "unsupported",
    "format": "format",
    "allowed": "allowed",
    "max_edge": "max-edge",
    "multiple_of": "multiple-of",
    "max_ratio": "max-ratio",
    "min_pixels": "min-pixels",
    "max_pixels": "max-pixels",
}

#: Spec keys of a parameter that are rules (the rest describe the parameter).
_PARAM_RULE_KEYS = ("required", "enum", "minimum", "maximum", "max_length", "max_items", "unsupported")


@dataclass(frozen=True)
class Source:
    """Where a rule comes from: a document (seed file name or reference) and its words."""

    file: str
    quote: str

    def __str__(self) -> str:
        return f"{self.file}: {self.quote!r}"


@dataclass(frozen=True)
class Requirement:
    """One checkable statement: stable ``id``, RFC 2119 ``level`` (MUST/SHOULD), title, source."""

    id: str
    level: str
    title: str
    source: Source


@dataclass(frozen=True)
class Condition:
    """A rule between parameters: when every ``when`` parameter matches, each ``then`` one must.

    ``when`` maps a parameter to the values that trigger the rule (``None``:
    any value, i.e. the parameter is present). ``then`` maps a parameter to
    the values it may then take, defaults applied (``None``: it must be absent).
    """

    when: dict[str, tuple[Any, ...] | None]
    then: dict[str, tuple[Any, ...] | None]

    def triggered(self, body: dict[str, Any], effective: dict[str, Any]) -> bool:
        """Whether a request triggers the rule: ``present`` means sent in ``body``;
        values compare with defaults applied (``effective``)."""
        return all(
            (name in body) if values is None else (name in effective and effective[name] in values)
            for name, values in self.when.items()
        )

    def kept(self, body: dict[str, Any], effective: dict[str, Any]) -> bool:
        """Whether a request keeps the rule (an untriggered rule is always kept); ``absent`` means not sent."""
        if not self.triggered(body, effective):
            return True
        return all(
            (name not in body) if values is None else (effective.get(name) in values)
            for name, values in self.then.items()
        )


@dataclass(frozen=True)
class Rule:
    """A rule that a conformant router enforces by rejecting a request that breaks it.

    ``kind`` is a spec key (``enum``, ``maximum``, ``multiple_of``, ``condition``,
    ...), ``value`` its bound, list or :class:`Condition`; ``param`` the
    parameter it constrains (for a condition, the first ``then`` parameter);
    ``requirement`` is what a router breaks by accepting such a request.
    """

    kind: str
    param: str
    value: Any
    requirement: Requirement


@dataclass(frozen=True)
class Param:
    """A request parameter of one model on one endpoint; ``rules`` maps rule kind -> :class:`Rule`.

    ``type`` is a JSON type or ``image`` (a file upload, URL or data URI, or
    an array of them). ``exercise`` false means valid cases never send it
    (documented, but unsafe or pointless to draw, e.g. ``stream``).
    """

    name: str
    type: str
    source: Source | None
    default: Any = None
    values: tuple[Any, ...] = ()
    cheapest: Any = None
    keywords: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    exercise: bool = True
    schema: dict[str, Any] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=dict)

    @property
    def required(self) -> bool:
        return "required" in self.rules

    def rule_value(self, kind: str, default: Any = None) -> Any:
        rule = self.rules.get(kind)
        return default if rule is None else rule.value

    @property
    def dimension_rules(self) -> dict[str, Rule]:
        return {k: r for k, r in self.rules.items() if k in DIMENSION_RULES}

    @property
    def choices(self) -> tuple[Any, ...]:
        """The values a valid case may send: the enum, else the known-good ``values``."""
        if "enum" in self.rules:
            return tuple(self.rules["enum"].value)
        return self.values


@dataclass(frozen=True)
class ResponseSpec:
    """A model's 200 response.

    ``schema`` is its JSON Schema; ``created_unit`` is ``seconds`` or
    ``milliseconds``; ``image_fields`` lists the ``data[]`` fields an image may
    come in (``b64_json``, ``url``) in order of preference; ``by_response_format``
    maps a ``response_format`` value to the field it selects; ``echo_fields``
    are request fields the body repeats.
    """

    schema: dict[str, Any]
    source: Source
    created_unit: str = "seconds"
    image_fields: tuple[str, ...] = ("b64_json",)
    by_response_format: dict[str, str] = field(default_factory=dict)
    echo_fields: tuple[str, ...] = ()
    echo_level: str = "SHOULD"
    echo_source: Source | None = None


@dataclass(frozen=True)
class Operation:
    """One model served on one endpoint: what a single request targets.

    ``params`` are the parameters documented for this model on this endpoint;
    ``conditions`` are the rules between them (kind ``condition``).
    """

    endpoint: str
    prefix: str
    model: str
    params: dict[str, Param]
    conditions: tuple[Rule, ...]
    response: ResponseSpec
    billable: bool
    source: Source | None

    @property
    def name(self) -> str:
        return self.model

    def rules(self) -> list[Rule]:
        """Every rule of this operation: parameter rules in spec order, then conditions."""
        return [rule for param in self.params.values() for rule in param.rules.values()] + list(self.conditions)

    def effective(self, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` with each absent parameter's documented default filled in."""
        values = {n: p.default for n, p in self.params.items() if p.default is not None and n not in body}
        return {**values, **body}

    def keeps(self, condition: Condition, body: dict[str, Any]) -> bool:
        """Whether ``body`` keeps ``condition`` (documented defaults applied as the schema applies them)."""
        return condition.kept(body, self.effective(body))

    def image_fields_for(self, body: dict[str, Any]) -> tuple[str, ...]:
        """The ``data[]`` fields an image may come in for ``body`` (``response_format`` applied)."""
        chosen = self.effective(body).get("response_format")
        if chosen in self.response.by_response_format:
            return (self.response.by_response_format[chosen],)
        return self.response.image_fields


@dataclass(frozen=True)
class Model:
    """One model id with its operations (one per endpoint it serves) and its response."""

    name: str
    endpoints: tuple[str, ...]
    operations: dict[str, Operation]
    response: ResponseSpec
    source: Source | None
    billable: bool = True


@dataclass(frozen=True)
class Endpoint:
    """An endpoint: ``path`` relative to the router base URL, accepted ``encodings``."""

    name: str
    path: str
    source: Source | None
    alternative_paths: tuple[str, ...] = ()
    encodings: tuple[str, ...] = ("json",)

    @property
    def prefix(self) -> str:
        return ENDPOINT_PREFIX[self.name]


@dataclass(frozen=True)
class Header:
    """A documented request header; ``rules`` holds ``required`` / ``enum`` rules."""

    name: str
    source: Source | None
    example: str | None = None
    rules: dict[str, Rule] = field(default_factory=dict)

    @property
    def required(self) -> bool:
        return "required" in self.rules


@dataclass(frozen=True)
class ErrorSpec:
    """The error body: JSON Schema, RFC 2119 level of the shape, expected 4xx status."""

    schema: dict[str, Any]
    level: str
    status: int
    source: Source


@dataclass(frozen=True)
class Profile:
    """A router's documented contract, fully resolved (``extends:`` applied).

    ``path`` is the file it was loaded from; ``sha256`` hashes the resolved
    data, so a report names exactly the contract it certified. ``base_path``
    is the path of the base URL (``/v1``); endpoint paths are relative to it.
    ``requirements`` are written explicitly in the profile (they override the
    level and source of a derived behaviour requirement with the same id).
    """

    name: str
    title: str
    path: Path
    sha256: str
    source: str
    base_path: str
    auth_scheme: str
    auth_source: Source
    endpoints: dict[str, Endpoint]
    errors: ErrorSpec
    models: dict[str, Model]
    headers: dict[str, Header] = field(default_factory=dict)
    requirements: dict[str, Requirement] = field(default_factory=dict)

    def operations(self) -> list[Operation]:
        """Every (model, endpoint) operation, models in spec order."""
        return [op for model in self.models.values() for op in model.operations.values()]

    def operation(self, endpoint: str, model: Any) -> Operation | None:
        """The operation ``model`` (an id) on ``endpoint``, or ``None`` when not documented."""
        found = self.models.get(model) if isinstance(model, str) else None
        return found.operations.get(endpoint) if found is not None else None

    def rules(self) -> list[tuple[Operation, Rule]]:
        """Every ``(operation, rule)`` pair, in spec order."""
        return [(op, rule) for op in self.operations() for rule in op.rules()]

    def header_rules(self) -> list[Rule]:
        """The rules of documented request headers (``required``, ``enum``)."""
        return [rule for header in self.headers.values() for rule in header.rules.values()]


# --------------------------------------------------------------------------- loading


class _Located:
    """A parsed YAML document plus a map from key paths to 1-based line numbers."""

    def __init__(self, path: Path, display: str) -> None:
        self.display = display
        text = path.read_text(encoding="utf-8")
        self.lines: dict[tuple[Any, ...], int] = {}
        problems: list[tuple[str, int, str, str]] = []
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            self.data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line = mark.line + 1 if mark else 1
            problem = getattr(exc, "problem", None) or str(exc)
            raise SpecError([(display, line, "", f"YAML syntax error: {problem}")]) from None
        if node is not None:
            self._index(node, (), problems)
        if problems:
            raise SpecError(problems)

    def _index(self, node: yaml.Node, path: tuple[Any, ...], problems: list) -> None:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, value_node in node.value:
                key = key_node.value
                if key == "<<":  # a YAML merge key: its keys belong to this mapping
                    self._index(value_node, path, problems)
                    continue
                if key in seen:
                    problems.append((self.display, key_node.start_mark.line + 1, _dotted(path), f"duplicate key {key!r}"))
                seen.add(key)
                self.lines[path + (key,)] = key_node.start_mark.line + 1
                self._index(value_node, path + (key,), problems)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._index(item, path + (i,), problems)

    def line(self, path: tuple[Any, ...]) -> int:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)


def _dotted(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


_META_VALIDATOR: jsonschema.protocols.Validator | None = None


def _meta_validator() -> jsonschema.protocols.Validator:
    global _META_VALIDATOR
    if _META_VALIDATOR is None:
        schema = json.loads((specs_dir() / "meta-schema.json").read_text(encoding="utf-8"))
        _META_VALIDATOR = jsonschema.Draft202012Validator(schema)
    return _META_VALIDATOR


def _meta_problems(doc: _Located) -> list[tuple[str, int, str, str]]:
    if not isinstance(doc.data, dict):
        return [(doc.display, 1, "", "a profile is a YAML mapping")]
    problems = []
    # ``null`` is the deletion marker of ``extends`` merges, valid wherever a mapping value is
    for error in _meta_validator().iter_errors(_without_nulls(doc.data)):
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = error.schema.get("properties", {})
            for key in error.instance:
                if key not in allowed:
                    in_param = path[-2:-1] == ("params",) or path[-1:] == ("dimensions",)
                    word = "rule" if in_param else "key"
                    problems.append((doc.display, doc.line(path + (key,)), _dotted(path), f"unknown {word} {key!r}"))
            continue
        if error.context:
            error = jsonschema.exceptions.best_match(error.context)
            path = path + tuple(error.relative_path)
        problems.append((doc.display, doc.line(path), _dotted(path), error.message))
    return problems


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _merge(base: Any, override: Any) -> Any:
    """``extends:`` semantics: mappings merge key by key, ``null`` deletes, anything else replaces."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = _merge(base.get(key), value)
        return merged
    return override


def _resolve_path(name_or_path: str | Path, *, relative_to: Path | None = None) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml"):
        if not candidate.is_absolute() and relative_to is not None and not candidate.exists():
            candidate = relative_to / candidate
        if candidate.is_file():
            return candidate
    if relative_to is not None and (relative_to / f"{name_or_path}.yaml").is_file():
        return relative_to / f"{name_or_path}.yaml"
    builtins = builtin_profiles()
    if str(name_or_path) in builtins:
        return builtins[str(name_or_path)]
    raise ProfileNotFound(str(name_or_path), available=list(builtins))


def _resolve_model_extends(models: dict[str, Any], doc: _Located) -> dict[str, Any]:
    """Apply ``models.<m>.extends: <other model>`` (the same deep merge as profile ``extends``)."""
    resolved: dict[str, Any] = {}
    problems: list[tuple[str, int, str, str]] = []

    def resolve(name: str, chain: tuple[str, ...]) -> Any:
        if name not in resolved:
            raw = models.get(name)
            parent = raw.get("extends") if isinstance(raw, dict) else None
            if parent is not None:
                at = ("models", name, "extends")
                raw = {k: v for k, v in raw.items() if k != "extends"}
                if not isinstance(models.get(parent), dict):
                    problems.append((doc.display, doc.line(at), _dotted(at), f"no model {parent!r} in this profile to extend"))
                elif parent in chain:
                    problems.append((doc.display, doc.line(at), _dotted(at), f"circular extends: {parent!r}"))
                else:
                    raw = _merge(resolve(parent, chain + (name,)), raw)
            resolved[name] = raw
        return resolved[name]

    for name in models:
        resolve(name, ())
    if problems:
        raise SpecError(problems)
    return resolved


def _load_chain(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], list[_Located]]:
    """The profile at ``path`` with every ``extends`` applied, and the documents it came from (child first).

    Each file's models are resolved (model ``extends``) before a child file
    merges over them, so a child may delete a model others were copied from.
    """
    doc = _Located(path, _display(path))
    problems = _meta_problems(doc)
    if problems:
        raise SpecError(problems)
    own = dict(doc.data)
    parent = own.pop("extends", None)
    if isinstance(own.get("models"), dict):
        own["models"] = _resolve_model_extends(own["models"], doc)
    if parent is None:
        return _without_nulls(own), [doc]
    parent_path = _resolve_path(parent, relative_to=path.parent)
    if parent_path.resolve() in seen or parent_path.resolve() == path.resolve():
        raise SpecError([(doc.display, doc.line(("extends",)), "extends", f"circular extends: {parent!r}")])
    base, docs = _load_chain(parent_path, seen + (path.resolve(),))
    return _without_nulls(_merge(base, own)), [doc, *docs]


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a built-in profile by name (``worldrouter``) or a profile file by path.

    Raises :class:`ProfileNotFound` for an unknown name and :class:`SpecError`
    (``file:line: key: message`` per problem) for a malformed file.
    """
    path = _resolve_path(name_or_path)
    data, docs = _load_chain(path)
    return _Builder(data, docs, path).build()


class _Builder:
    """Turns resolved profile data into the typed model, reporting semantic problems with lines."""

    def __init__(self, data: dict[str, Any], docs: list[_Located], path: Path) -> None:
        self.data = data
        self.docs = docs
        self.path = path
        self.problems: list[tuple[str, int, str, str]] = []
        self.default_file = data.get("source", data["name"])

    def problem(self, path: tuple[Any, ...], message: str) -> None:
        doc = next((d for d in self.docs if path in d.lines), self.docs[0])
        self.problems.append((doc.display, doc.line(path), _dotted(path), message))

    def source(self, raw: Any, path: tuple[Any, ...], *, required: bool = True) -> Source | None:
        if raw is None:
            if required:
                self.problem(path, "missing source: quote the document this rule comes from")
            return None
        if isinstance(raw, str):
            return Source(self.default_file, raw)
        return Source(raw.get("file", self.default_file), raw["quote"])

    def build(self) -> Profile:
        d = self.data
        for key in ("endpoints", "models", "errors", "auth"):
            if key not in d:
                self.problem((), f"missing {key!r} (after extends)")
        if self.problems:
            raise SpecError(self.problems)
        endpoints = {
            name: Endpoint(
                name=name,
                path=raw["path"],
                source=self.source(raw.get("source"), ("endpoints", name, "source")),
                alternative_paths=tuple(raw.get("alternative_paths", ())),
                encodings=tuple(raw.get("encodings", ("json",))),
            )
            for name, raw in d["endpoints"].items()
        }
        err = d["errors"]
        errors = ErrorSpec(
            schema=err.get("schema") or {},
            level=err.get("level", "MUST"),
            status=err.get("status", 400),
            source=self.source(err.get("source"), ("errors", "source")),  # type: ignore[arg-type]
        )
        if "schema" not in err:
            self.problem(("errors",), "missing 'schema'")
        self._check_schema(errors.schema, ("errors", "schema"))
        models = {name: self.model(name, raw or {}, endpoints) for name, raw in d["models"].items()}
        if not models:
            self.problem(("models",), "a profile needs at least one model")
        auth = d["auth"]
        auth_source = self.source(auth.get("source"), ("auth", "source"))
        headers = {name: self.header(name, raw or {}) for name, raw in (d.get("headers") or {}).items()}
        requirements = {rid: self.requirement(rid, raw) for rid, raw in (d.get("requirements") or {}).items()}
        if self.problems:
            raise SpecError(self.problems)
        canonical = json.dumps(d, sort_keys=True, default=str).encode()
        return Profile(
            name=d["name"],
            title=d.get("title", d["name"]),
            path=self.path,
            sha256=hashlib.sha256(canonical).hexdigest(),
            source=self.default_file,
            base_path=d.get("base_path", "/v1"),
            auth_scheme=auth.get("scheme", "bearer"),
            auth_source=auth_source,  # type: ignore[arg-type]
            endpoints=endpoints,
            errors=errors,
            models=models,
            headers=headers,
            requirements=requirements,
        )

    def _check_schema(self, schema: Any, path: tuple[Any, ...]) -> None:
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            self.problem(path + tuple(exc.absolute_path), f"not a valid JSON Schema: {exc.message}")

    def requirement(self, rid: str, raw: dict[str, Any]) -> Requirement:
        at = ("requirements", rid)
        source = self.source(raw.get("source"), at + ("source",))
        return Requirement(rid, raw.get("level", "MUST"), raw.get("title", ""), source or Source(self.default_file, "?"))

    def header(self, name: str, raw: dict[str, Any]) -> Header:
        at = ("headers", name)
        source = self.source(raw.get("source"), at + ("source",))
        rules: dict[str, Rule] = {}
        for kind in ("required", "enum"):
            if kind not in raw:
                continue
            value, level, src_raw, slug = self._rule_parts(kind, raw[kind], raw.get("source"))
            if kind == "required" and value is False:
                continue
            src = self.source(src_raw, at + (kind,))
            if src is None:
                continue
            rid = f"header.{name.lower()}.{slug or _PARAM_RULE_SLUGS[kind]}"
            title = f"a request without the `{name}` header is rejected" if kind == "required" else \
                f"a `{name}` header outside {value} is rejected"
            rules[kind] = Rule(kind, name, value, Requirement(rid, level, title, src))
        return Header(name=name, source=source, example=raw.get("example"), rules=rules)

    def model(self, name: str, raw: dict[str, Any], endpoints: dict[str, Endpoint]) -> Model:
        at = ("models", name)
        model_endpoints = tuple(raw.get("endpoints", ("generations",)))
        for ep in model_endpoints:
            if ep not in endpoints:
                self.problem(at + ("endpoints",), f"endpoint {ep!r} is not declared under endpoints")
        rraw = raw.get("response") or {}
        if "schema" not in rraw:
            self.problem(at + ("response",), "missing 'schema': the JSON Schema of a 200 body")
        self._check_schema(rraw.get("schema", {}), at + ("response", "schema"))
        echo = rraw.get("echo") or {}
        image_field = rraw.get("image_field", "b64_json")
        response = ResponseSpec(
            schema=rraw.get("schema", {}),
            source=self.source(rraw.get("source"), at + ("response", "source")),  # type: ignore[arg-type]
            created_unit=rraw.get("created_unit", "seconds"),
            image_fields=tuple(image_field) if isinstance(image_field, list) else (image_field,),
            by_response_format=dict(rraw.get("by_response_format") or {}),
            echo_fields=tuple(echo.get("fields", ())),
            echo_level=echo.get("level", "SHOULD"),
            echo_source=self.source(echo.get("source"), at + ("response", "echo", "source"), required=bool(echo)),
        )
        source = self.source(raw.get("source"), at + ("source",), required=False)
        billable = raw.get("billable", True)
        operations = {
            ep: self.operation(name, ep, raw, response, source, billable, typed="json" in endpoints[ep].encodings)
            for ep in model_endpoints if ep in endpoints
        }
        return Model(name=name, endpoints=model_endpoints, operations=operations, response=response,
                     source=source, billable=billable)

    def operation(self, model: str, endpoint: str, raw: dict[str, Any], response: ResponseSpec,
                  source: Source | None, billable: bool, *, typed: bool) -> Operation:
        """One model on one endpoint; ``typed`` is false for multipart-only endpoints (form fields are text)."""
        at = ("models", model)
        prefix = ENDPOINT_PREFIX[endpoint]
        params: dict[str, Param] = {}
        for pname, praw in (raw.get("params") or {}).items():
            praw = praw or {}
            # a parameter of an endpoint the model does not serve (e.g. after an override) simply does not apply
            if endpoint in praw.get("endpoints", (endpoint,)):
                params[pname] = self.param(prefix, model, pname, praw, at + ("params", pname), typed=typed)
        conditions = tuple(
            self.condition(prefix, model, params, craw, at + ("conditions", i))
            for i, craw in enumerate(raw.get("conditions") or ())
            if endpoint in craw.get("endpoints", (endpoint,))
        )
        return Operation(endpoint=endpoint, prefix=prefix, model=model, params=params, conditions=conditions,
                         response=response, billable=billable, source=source)

    def condition(self, prefix: str, model: str, params: dict[str, Param], raw: dict[str, Any],
                  at: tuple[Any, ...]) -> Rule:
        def values(spec: dict[str, Any], word: str, key: str) -> dict[str, tuple[Any, ...] | None]:
            out: dict[str, tuple[Any, ...] | None] = {}
            for pname, allowed in spec.items():
                if pname not in params:
                    self.problem(at + (key, pname), f"no parameter {pname!r} on this model")
                out[pname] = None if allowed == word else tuple(allowed)
            return out

        condition = Condition(when=values(raw["if"], "present", "if"), then=values(raw["then"], "absent", "then"))
        src = self.source(raw.get("source"), at + ("source",))
        rid = f"{prefix}.{model}.{raw['id']}"
        first = next(iter(condition.then))
        title = raw.get("title") or _condition_title(condition)
        return Rule("condition", first, condition, Requirement(rid, raw.get("level", "MUST"), title,
                                                               src or Source(self.default_file, "?")))

    @staticmethod
    def _rule_parts(kind: str, rule_raw: Any, param_source: Any) -> tuple[Any, str, Any, str | None]:
        """``(value, level, source, id slug)`` of a rule written bare or as a mapping."""
        if isinstance(rule_raw, dict):
            value = rule_raw.get("values", rule_raw.get("value", True))
            level = rule_raw.get("level", "MUST" if kind != "type" else "SHOULD")
            return value, level, rule_raw.get("source", param_source), rule_raw.get("id")
        return rule_raw, "MUST", param_source, None

    def param(self, prefix: str, model: str, name: str, raw: dict[str, Any], at: tuple[Any, ...], *,
              typed: bool = True) -> Param:
        psource = self.source(raw.get("source"), at + ("source",), required=False)
        ptype = raw.get("type", "string")
        rules: dict[str, Rule] = {}
        # The type rule is implicit in every typed parameter, cited by the parameter's own source.
        # An unsupported parameter has no type to keep: any value breaks ``unsupported``.
        # Form fields are text: on a multipart-only endpoint a text or image field cannot have the
        # wrong type, while a number, boolean or JSON field can (it does not parse).
        untypable = not typed and ptype in ("string", "image")
        specs: list[tuple[str, Any, tuple[Any, ...]]] = [] if "unsupported" in raw or untypable else [
            ("type", {"value": ptype, "source": raw.get("source")}, at + ("type",))]
        specs += [(k, raw[k], at + (k,)) for k in _PARAM_RULE_KEYS if k in raw]
        if "format" in raw:
            specs.append(("format", raw["format"], at + ("format",)))
        elif raw.get("dimensions") or raw.get("keywords"):
            # WIDTHxHEIGHT (or a keyword) is implied by any size rule, cited by the parameter's source
            specs.append(("format", {"value": True, "source": raw.get("source")}, at + ("keywords",)))
        specs += [(k, v, at + ("dimensions", k)) for k, v in (raw.get("dimensions") or {}).items()]
        for kind, rule_raw, path in specs:
            value, level, src_raw, slug = self._rule_parts(kind, rule_raw, raw.get("source"))
            if kind == "required" and value is False:
                continue
            if kind == "type" and src_raw is None:
                continue  # an implicit type rule needs the parameter's own source to cite
            src = self.source(src_raw, path)
            if src is None:
                continue
            slug = slug or _PARAM_RULE_SLUGS[kind] + (f"-{value}" if kind == "multiple_of" else "")
            rid = f"{prefix}.{model}.{name}.{slug}"
            rules[kind] = Rule(kind, name, value, Requirement(rid, level, _rule_title(name, kind, value), src))
        return Param(
            name=name,
            type=ptype,
            source=psource,
            default=raw.get("default"),
            values=tuple(raw.get("values", ())),
            cheapest=raw.get("cheapest"),
            keywords=tuple(raw.get("keywords", ())),
            inputs=tuple(raw.get("inputs", ())),
            aliases=tuple(raw.get("aliases", ())),
            exercise=raw.get("exercise", True),
            schema=dict(raw.get("schema") or {}),
            rules=rules,
        )


_TITLES = {
    "required": "a request without `{param}` is rejected",
    "type": "a `{param}` of the wrong JSON type is rejected",
    "enum": "`{param}` outside {value} is rejected",
    "minimum": "`{param}` below {value} is rejected",
    "maximum": "`{param}` above {value} is rejected",
    "max_length": "`{param}` longer than {value} characters is rejected",
    "max_items": "more than {value} `{param}` items are rejected",
    "unsupported": "a request with `{param}` (not supported) is rejected",
    "format": "a malformed `{param}` (not WIDTHxHEIGHT or a documented keyword) is rejected",
    "allowed": "`{param}` outside {value} is rejected",
    "max_edge": "`{param}` with an edge above {value} px is rejected",
    "multiple_of": "`{param}` with an edge that is not a multiple of {value} px is rejected",
    "max_ratio": "`{param}` with long:short edge ratio above {value}:1 is rejected",
    "min_pixels": "`{param}` with fewer than {value} pixels is rejected",
    "max_pixels": "`{param}` with more than {value} pixels is rejected",
}


def _rule_title(param: str, kind: str, value: Any) -> str:
    shown = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) and value >= 10_000 else value
    return _TITLES[kind].format(param=param, value=shown)


def _condition_title(condition: Condition) -> str:
    def show(values: tuple[Any, ...] | None, word: str) -> str:
        return word if values is None else " or ".join(json.dumps(v) for v in values)

    when = " and ".join(f"`{p}` {show(v, 'present')}" for p, v in condition.when.items())
    then = " and ".join(f"`{p}` {show(v, 'absent')}" for p, v in condition.then.items())
    return f"with {when}, a request without {then} is rejected"
