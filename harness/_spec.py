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
    "Endpoint",
    "ErrorSpec",
    "Model",
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
    "format": "format",
    "allowed": "allowed",
    "max_edge": "max-edge",
    "multiple_of": "multiple-of",
    "max_ratio": "max-ratio",
    "min_pixels": "min-pixels",
    "max_pixels": "max-pixels",
}


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
class Rule:
    """A parameter rule that a conformant router enforces by rejecting the request.

    ``kind`` is a spec key (``enum``, ``maximum``, ``multiple_of``, ...), ``value``
    its bound or list; ``requirement`` is what a router breaks by accepting a
    request that violates it.
    """

    kind: str
    param: str
    value: Any
    requirement: Requirement


@dataclass(frozen=True)
class Param:
    """A request parameter of one model; ``rules`` maps rule kind -> :class:`Rule`."""

    name: str
    type: str
    source: Source | None
    default: Any = None
    values: tuple[Any, ...] = ()
    cheapest: Any = None
    keywords: tuple[str, ...] = ()
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


@dataclass(frozen=True)
class ResponseSpec:
    """A model's 200 response: JSON Schema, ``created`` unit, image field, echoed fields."""

    schema: dict[str, Any]
    source: Source
    created_unit: str = "seconds"
    image_field: str = "b64_json"
    echo_fields: tuple[str, ...] = ()
    echo_level: str = "SHOULD"
    echo_source: Source | None = None


@dataclass(frozen=True)
class Model:
    """One model id with the endpoints it serves, its parameters and its response."""

    name: str
    endpoints: tuple[str, ...]
    params: dict[str, Param]
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
    data, so a report names exactly the contract it certified.
    """

    name: str
    title: str
    path: Path
    sha256: str
    source: str
    auth_scheme: str
    auth_source: Source
    endpoints: dict[str, Endpoint]
    errors: ErrorSpec
    models: dict[str, Model]

    def rules(self) -> list[tuple[str, Model, Rule]]:
        """Every ``(endpoint, model, rule)`` triple, in spec order."""
        return [
            (ep, model, rule)
            for model in self.models.values()
            for ep in model.endpoints
            for param in model.params.values()
            for rule in param.rules.values()
        ]


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
    for error in _meta_validator().iter_errors(doc.data):
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


def _load_chain(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], list[_Located]]:
    doc = _Located(path, _display(path))
    problems = _meta_problems(doc)
    if problems:
        raise SpecError(problems)
    parent = doc.data.get("extends")
    if parent is None:
        return doc.data, [doc]
    parent_path = _resolve_path(parent, relative_to=path.parent)
    if parent_path.resolve() in seen or parent_path.resolve() == path.resolve():
        raise SpecError([(doc.display, doc.line(("extends",)), "extends", f"circular extends: {parent!r}")])
    base, docs = _load_chain(parent_path, seen + (path.resolve(),))
    child = {k: v for k, v in doc.data.items() if k != "extends"}
    return _merge(base, child), [doc, *docs]


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
            source=self.source(err.get("source"), ("errors", "source")),
        )
        for key in ("schema",):
            if key not in err:
                self.problem(("errors",), f"missing {key!r}")
        self._check_schema(errors.schema, ("errors", "schema"))
        models = {name: self.model(name, raw or {}, endpoints) for name, raw in d["models"].items()}
        if not models:
            self.problem(("models",), "a profile needs at least one model")
        auth = d["auth"]
        auth_source = self.source(auth.get("source"), ("auth", "source"))
        if self.problems:
            raise SpecError(self.problems)
        canonical = json.dumps(d, sort_keys=True, default=str).encode()
        return Profile(
            name=d["name"],
            title=d.get("title", d["name"]),
            path=self.path,
            sha256=hashlib.sha256(canonical).hexdigest(),
            source=self.default_file,
            auth_scheme=auth.get("scheme", "bearer"),
            auth_source=auth_source,  # type: ignore[arg-type]
            endpoints=endpoints,
            errors=errors,
            models=models,
        )

    def _check_schema(self, schema: Any, path: tuple[Any, ...]) -> None:
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            self.problem(path + tuple(exc.absolute_path), f"not a valid JSON Schema: {exc.message}")

    def model(self, name: str, raw: dict[str, Any], endpoints: dict[str, Endpoint]) -> Model:
        at = ("models", name)
        model_endpoints = tuple(raw.get("endpoints", ("generations",)))
        for ep in model_endpoints:
            if ep not in endpoints:
                self.problem(at + ("endpoints",), f"endpoint {ep!r} is not declared under endpoints")
        params = {
            pname: self.param(name, model_endpoints, pname, praw or {}, at + ("params", pname))
            for pname, praw in (raw.get("params") or {}).items()
        }
        rraw = raw.get("response") or {}
        if "schema" not in rraw:
            self.problem(at + ("response",), "missing 'schema': the JSON Schema of a 200 body")
        self._check_schema(rraw.get("schema", {}), at + ("response", "schema"))
        echo = rraw.get("echo") or {}
        response = ResponseSpec(
            schema=rraw.get("schema", {}),
            source=self.source(rraw.get("source"), at + ("response", "source")),  # type: ignore[arg-type]
            created_unit=rraw.get("created_unit", "seconds"),
            image_field=rraw.get("image_field", "b64_json"),
            echo_fields=tuple(echo.get("fields", ())),
            echo_level=echo.get("level", "SHOULD"),
            echo_source=self.source(echo.get("source"), at + ("response", "echo", "source"), required=bool(echo)),
        )
        return Model(
            name=name,
            endpoints=model_endpoints,
            params=params,
            response=response,
            source=self.source(raw.get("source"), at + ("source",), required=False),
            billable=raw.get("billable", True),
        )

    def param(self, model: str, eps: tuple[str, ...], name: str, raw: dict[str, Any], at: tuple[Any, ...]) -> Param:
        psource = self.source(raw.get("source"), at + ("source",), required=False)
        ptype = raw.get("type", "string")
        rules: dict[str, Rule] = {}
        # The type rule is implicit in every typed parameter, cited by the parameter's own source.
        specs: list[tuple[str, Any, tuple[Any, ...]]] = [("type", {"value": ptype, "source": raw.get("source")}, at + ("type",))]
        specs += [(k, raw[k], at + (k,)) for k in ("required", "enum", "minimum", "maximum", "max_length") if k in raw]
        if raw.get("dimensions") or raw.get("keywords"):
            specs.append(("format", {"value": True, "source": raw.get("source")}, at + ("keywords",)))
        specs += [(k, v, at + ("dimensions", k)) for k, v in (raw.get("dimensions") or {}).items()]
        prefix = "/".join(ENDPOINT_PREFIX[e] for e in eps) if len(eps) > 1 else ENDPOINT_PREFIX.get(eps[0], eps[0])
        for kind, rule_raw, path in specs:
            if isinstance(rule_raw, dict):
                value = rule_raw.get("values", rule_raw.get("value", True))
                level = rule_raw.get("level", "MUST" if kind != "type" else "SHOULD")
                src_raw = rule_raw.get("source", raw.get("source"))
                slug = rule_raw.get("id")
            else:
                value, level, src_raw, slug = rule_raw, "MUST", raw.get("source"), None
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
            rules=rules,
        )


_TITLES = {
    "required": "a request without `{param}` is rejected",
    "type": "a `{param}` of the wrong JSON type is rejected",
    "enum": "`{param}` outside {value} is rejected",
    "minimum": "`{param}` below {value} is rejected",
    "maximum": "`{param}` above {value} is rejected",
    "max_length": "`{param}` longer than {value} characters is rejected",
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
