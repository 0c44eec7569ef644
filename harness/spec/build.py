"""Resolved profile data -> the typed :class:`Profile`, with semantic problems reported by line.

The meta-schema checks the grammar; this builder checks what a grammar cannot
(a condition naming a parameter the model lacks, a rule without a source)
and derives each rule's requirement: id, RFC 2119 level, title and source.
Rule keys, id slugs and titles come from the rule-kind registry.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import jsonschema

from .._errors import SpecError
from ..rules import dimension_kinds, param_kinds, rule_title
from ..rules import kind as kind_of
from .load import Located, dotted, load_chain, resolve_path
from .model import (
    ENDPOINT_PREFIX,
    Condition,
    Conflict,
    Endpoint,
    ErrorSpec,
    Header,
    Model,
    ModelEndpoint,
    Param,
    Profile,
    Requirement,
    ResponseSpec,
    StreamSpec,
    Rule,
    Source,
)

__all__ = ["load_profile"]


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a built-in profile by name (``worldrouter``) or a profile file by path.

    Raises :class:`ProfileNotFound` for an unknown name and :class:`SpecError`
    (``file:line: key: message`` per problem) for a malformed file.
    """
    path = resolve_path(name_or_path)
    data, docs = load_chain(path)
    return _Builder(data, docs, path).build()


class _Builder:
    """Turns resolved profile data into the typed model, reporting semantic problems with lines."""

    def __init__(self, data: dict[str, Any], docs: list[Located], path: Path) -> None:
        self.data = data
        self.docs = docs
        self.path = path
        self.problems: list[tuple[str, int, str, str]] = []
        self.default_file = data.get("source", data["name"])

    def problem(self, path: tuple[Any, ...], message: str) -> None:
        doc = next((d for d in self.docs if path in d.lines), self.docs[0])
        self.problems.append((doc.display, doc.line(path), dotted(path), message))

    def source(self, raw: Any, path: tuple[Any, ...], *, required: bool = True) -> Source | None:
        if raw is None:
            if required:
                self.problem(path, "missing source: quote the document this rule comes from")
            return None
        file, quote = (self.default_file, raw) if isinstance(raw, str) else (raw.get("file", self.default_file), raw["quote"])
        document = (self.data.get("documents") or {}).get(file) or {}
        return Source(file, quote, title=document.get("title", ""), url=document.get("url", ""))

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
                model_rules=self.model_rules(ENDPOINT_PREFIX[name], d.get("model") or {}),
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

    def model_rules(self, prefix: str, raw: dict[str, Any]) -> dict[str, Rule]:
        """The rules on the ``model`` field for the endpoint with requirement-id ``prefix``."""
        titles = {"required": "a request without `model` is rejected",
                  "format": "a `model` id not in the documented format ({value}) is rejected"}
        rules: dict[str, Rule] = {}
        for kind, title in titles.items():
            if kind not in raw:
                continue
            value, level, src_raw, slug = self._rule_parts(kind, raw[kind], None)
            if kind == "required" and value is False:
                continue
            if kind == "format":
                try:
                    re.compile(str(value))
                except re.error as exc:
                    self.problem(("model", kind), f"not a regular expression: {exc}")
                    continue
            src = self.source(src_raw, ("model", kind, "source"))
            if src is not None:
                rid = f"{prefix}.model.{slug or kind}"
                rules[kind] = Rule(kind, "model", value, Requirement(rid, level, title.format(value=value), src))
        return rules

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
            rid = f"header.{name.lower()}.{slug or kind_of(kind).requirement_slug(value)}"
            title = f"a request without the `{name}` header is rejected" if kind == "required" else \
                f"a `{name}` header outside {value} is rejected"
            rules[kind] = Rule(kind, name, value, Requirement(rid, level, title, src))
        return Header(name=name, source=source, example=raw.get("example"), rules=rules)

    def model(self, name: str, raw: dict[str, Any], endpoints: dict[str, Endpoint]) -> Model:
        at = ("models", name)
        served = tuple(raw.get("endpoints", ("generations",)))
        for ep in served:
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
            streams=self.streams(rraw.get("stream"), at + ("response", "stream"), served),
        )
        source = self.source(raw.get("source"), at + ("source",), required=False)
        billable = raw.get("billable", True)
        model_endpoints = {
            ep: self.model_endpoint(name, ep, raw, response, source, billable, typed="json" in endpoints[ep].encodings)
            for ep in served if ep in endpoints
        }
        for ep, target in model_endpoints.items():
            stream = target.stream
            for key, pname in (("when", stream.when if stream else None), ("partials", stream.partials if stream else None)):
                if pname is not None and pname not in target.params:
                    self.problem(at + ("response", "stream", key), f"no parameter {pname!r} on {ep} for this model")
        return Model(name=name, endpoints=model_endpoints, response=response,
                     source=source, billable=billable)

    def streams(self, raw: dict[str, Any] | None, at: tuple[Any, ...], served: tuple[str, ...]) -> dict[str, StreamSpec]:
        """``response.stream`` -> a :class:`StreamSpec` per served endpoint its ``events`` name."""
        if not raw:
            return {}
        missing = [key for key in ("when", "events", "partial_schema", "completed_schema") if key not in raw]
        for key in missing:  # checked here, after extends merged: an extending profile may override one key
            self.problem(at, f"missing {key!r}")
        if missing:
            return {}
        source = self.source(raw.get("source"), at + ("source",))
        for key in ("partial_schema", "completed_schema"):
            self._check_schema(raw.get(key, {}), at + (key,))
        events = raw.get("events") or {}  # an endpoint the model does not serve (after an override) does not apply
        return {
            endpoint: StreamSpec(
                when=raw["when"], partials=raw.get("partials"), media_type=raw.get("media_type", "text/event-stream"),
                partial_event=names["partial"], completed_event=names["completed"],
                partial_schema=raw["partial_schema"], completed_schema=raw["completed_schema"],
                source=source,  # type: ignore[arg-type]
                image_field=raw.get("image_field", "b64_json"), index_field=raw.get("index_field", "partial_image_index"),
            )
            for endpoint, names in events.items() if endpoint in served and source is not None
        }

    def model_endpoint(self, model: str, endpoint: str, raw: dict[str, Any], response: ResponseSpec,
                       source: Source | None, billable: bool, *, typed: bool) -> ModelEndpoint:
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
        return ModelEndpoint(endpoint=endpoint, prefix=prefix, model=model, params=params, conditions=conditions,
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
        """``(value, level, source, id slug)`` of a rule written bare or as a mapping (level: the kind's default)."""
        level = kind_of(kind).level
        if isinstance(rule_raw, dict):
            value = rule_raw.get("values", rule_raw.get("value", True))
            return value, rule_raw.get("level", level), rule_raw.get("source", param_source), rule_raw.get("id")
        return rule_raw, level, param_source, None

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
        # explicit rules in registry order; ``format`` may also be implied (below) and ``type`` never is written
        specs += [(k.key, raw[k.key], at + (k.key,)) for k in param_kinds() if k.key != "format" and k.key in raw
                  and k.grammar is not None]
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
            slug = slug or kind_of(kind).requirement_slug(value)
            rid = f"{prefix}.{model}.{name}.{slug}"
            rules[kind] = Rule(kind, name, value, Requirement(rid, level, rule_title(kind, name, value), src))
        choices = tuple(rules["enum"].value) if "enum" in rules else tuple(raw.get("values", ()))
        documented = raw["enum"].get("source") if isinstance(raw.get("enum"), dict) else None
        conflicts = {value: self.conflict(prefix, model, name, value, spec, at + ("conflicts", value), choices,
                                          documented=documented or raw.get("source"))
                     for value, spec in (raw.get("conflicts") or {}).items()}
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
            dimensions=tuple(k for k in rules if k in {d.key for d in dimension_kinds()}),
            conflicts={v: c for v, c in conflicts.items() if c is not None},
        )

    def conflict(self, prefix: str, model: str, name: str, value: Any, raw: dict[str, Any], at: tuple[Any, ...],
                 choices: tuple[Any, ...], *, documented: Any) -> Conflict | None:
        """A documented value another document contradicts: the requirement that a router serves it anyway."""
        if value not in choices:
            self.problem(at, f"{value!r} is not a documented value of {name!r} (conflicts name one of {list(choices)})")
            return None
        src = self.source(raw.get("source", documented), at + ("source",))
        against = self.source(raw.get("contradicted_by"), at + ("contradicted_by",))
        if src is None or against is None:
            return None
        rid = f"{prefix}.{model}.{name}.{value}-conflict"
        title = raw.get("title") or (f"a request with `{name}` {json.dumps(value)} is served (documented here; "
                                     f"contradicted by {against.title or against.file})")
        return Conflict(name, value, Requirement(rid, raw["level"], title, src), against, raw["note"])


def _condition_title(condition: Condition) -> str:
    def show(values: tuple[Any, ...] | None, word: str) -> str:
        return word if values is None else " or ".join(json.dumps(v) for v in values)

    when = " and ".join(f"`{p}` {show(v, 'present')}" for p, v in condition.when.items())
    then = " and ".join(f"`{p}` {show(v, 'absent')}" for p, v in condition.then.items())
    return f"with {when}, a request without {then} is rejected"
