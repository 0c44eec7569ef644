"""The typed model of a router's documented contract: what every later step reads.

A :class:`Profile` is what ``load_profile`` returns: endpoints, models, the
parameters each model takes on each endpoint (:class:`ModelEndpoint`), their
rules, and where each rule comes from (a planned request is a
:class:`~harness.spec.case.Case`, in ``case``). Nothing here does I/O; loading and building live in ``load`` and ``build``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Condition",
    "Conflict",
    "ENDPOINT_PREFIX",
    "Endpoint",
    "ErrorSpec",
    "Header",
    "Model",
    "ModelEndpoint",
    "PIL_FORMATS",
    "Param",
    "Profile",
    "Requirement",
    "ResponseSpec",
    "Rule",
    "Source",
    "StreamSpec",
]

#: ``output_format`` value -> the format name Pillow reads and writes.
PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "jpg": "JPEG", "webp": "WEBP"}

#: Endpoint name -> the prefix of its requirement ids.
ENDPOINT_PREFIX = {"generations": "gen", "edits": "edit"}



@dataclass(frozen=True)
class Source:
    """Where a rule comes from: a document (seed file name or reference) and its words.

    ``title`` and ``url`` name the document for a reader (from the profile's
    ``documents``; empty when it does not say).
    """

    file: str
    quote: str
    title: str = field(default="", compare=False)
    url: str = field(default="", compare=False)

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
class Conflict:
    """A documented value that another document contradicts (``conflicts:`` in the spec).

    The profile documents ``value`` for ``param``, but another source (the
    upstream model's own reference) says it is refused. The value stays valid
    in the request schema; ``requirement`` (id ``<prefix>.<model>.<param>.<value>-conflict``,
    usually at SHOULD) is what a router breaks by refusing it, citing the words that
    document the value; ``contradicted_by`` quotes the other document and ``note``
    says why the level is what it is. Drawn valid cases never send the value, so
    no MUST verdict depends on it.
    """

    param: str
    value: Any
    requirement: Requirement
    contradicted_by: Source
    note: str


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
    an array of them). ``dimensions`` names the rule kinds of ``rules`` that
    constrain a ``WIDTHxHEIGHT`` size in pixels. ``exercise`` false means valid cases never send it
    (documented, but unsafe or pointless to draw, e.g. ``stream``). ``conflicts`` maps a documented
    value that another document contradicts to its :class:`Conflict`.
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
    dimensions: tuple[str, ...] = ()
    conflicts: dict[Any, Conflict] = field(default_factory=dict)

    @property
    def required(self) -> bool:
        return "required" in self.rules

    def rule_value(self, kind: str, default: Any = None) -> Any:
        rule = self.rules.get(kind)
        return default if rule is None else rule.value

    @property
    def dimension_rules(self) -> dict[str, Rule]:
        """The ``size`` rules on width and height (``dimensions:`` in the spec), in spec order."""
        return {k: r for k, r in self.rules.items() if k in self.dimensions}

    @property
    def choices(self) -> tuple[Any, ...]:
        """The values a valid case may send: the enum, else the known-good ``values``."""
        if "enum" in self.rules:
            return tuple(self.rules["enum"].value)
        return self.values

    @property
    def uncontested(self) -> tuple[Any, ...]:
        """The :attr:`choices` no other document contradicts: what drawn valid cases send."""
        return tuple(v for v in self.choices if v not in self.conflicts)


@dataclass(frozen=True)
class StreamSpec:
    """A model endpoint's answer when the request asks to stream: server-sent events.

    The request parameter ``when`` set to true asks for it (OpenAI: ``stream``);
    ``partials`` names the parameter giving the most partial-image events
    (``partial_images``; ``None``: none). The answer is ``media_type``: zero or
    more ``partial_event`` events whose ``index_field`` counts 0, 1, ..., then
    exactly one ``completed_event``, then the end of the stream. Each event's
    data is JSON matching ``partial_schema`` / ``completed_schema`` (the
    ``type`` field equals the event name); ``image_field`` holds the base64 image.
    """

    when: str
    partials: str | None
    media_type: str
    partial_event: str
    completed_event: str
    partial_schema: dict[str, Any]
    completed_schema: dict[str, Any]
    source: Source
    image_field: str = "b64_json"
    index_field: str = "partial_image_index"


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
    streams: dict[str, StreamSpec] = field(default_factory=dict)  # endpoint name -> its stream


@dataclass(frozen=True)
class ModelEndpoint:
    """One model served on one endpoint: what a single request targets.

    (Not an OpenAPI operation, which is a path and a method: one OpenAPI
    operation covers every model of an endpoint.)

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
        """Every rule of this model endpoint: parameter rules in spec order, then conditions."""
        return [rule for param in self.params.values() for rule in param.rules.values()] + list(self.conditions)

    def effective(self, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` with each absent parameter's documented default filled in."""
        values = {n: p.default for n, p in self.params.items() if p.default is not None and n not in body}
        return {**values, **body}

    def keeps(self, condition: Condition, body: dict[str, Any]) -> bool:
        """Whether ``body`` keeps ``condition`` (documented defaults applied as the schema applies them)."""
        return condition.kept(body, self.effective(body))

    @property
    def stream(self) -> StreamSpec | None:
        """How this model answers on this endpoint when asked to stream (``None``: the profile documents no stream)."""
        return self.response.streams.get(self.endpoint)

    def streams_for(self, body: dict[str, Any]) -> bool:
        """Whether ``body`` asks for a stream (its ``stream.when`` parameter is ``true``)."""
        return self.stream is not None and body.get(self.stream.when) is True

    def image_fields_for(self, body: dict[str, Any]) -> tuple[str, ...]:
        """The ``data[]`` fields an image may come in for ``body`` (``response_format`` applied)."""
        chosen = self.effective(body).get("response_format")
        if chosen in self.response.by_response_format:
            return (self.response.by_response_format[chosen],)
        return self.response.image_fields


@dataclass(frozen=True)
class Model:
    """One model id: what it is on each endpoint it serves (``endpoints``: endpoint name -> :class:`ModelEndpoint`)."""

    name: str
    endpoints: dict[str, ModelEndpoint]
    response: ResponseSpec
    source: Source | None
    billable: bool = True


@dataclass(frozen=True)
class Endpoint:
    """An endpoint: ``path`` relative to the router base URL, accepted ``encodings``.

    ``model_rules`` are the rules on the ``model`` field itself (``required``,
    ``format``: a regular expression), with requirement ids ``<prefix>.model.<slug>``.
    """

    name: str
    path: str
    source: Source | None
    alternative_paths: tuple[str, ...] = ()
    encodings: tuple[str, ...] = ("json",)
    model_rules: dict[str, Rule] = field(default_factory=dict)

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

    def model_endpoints(self) -> list[ModelEndpoint]:
        """Every (model, endpoint) pair the profile documents, models in spec order."""
        return [target for model in self.models.values() for target in model.endpoints.values()]

    def model_endpoint(self, endpoint: str, model: Any) -> ModelEndpoint | None:
        """``model`` (an id) on ``endpoint``, or ``None`` when the profile does not document it there."""
        found = self.models.get(model) if isinstance(model, str) else None
        return found.endpoints.get(endpoint) if found is not None else None

    def rules(self) -> list[tuple[ModelEndpoint, Rule]]:
        """Every ``(model endpoint, rule)`` pair, in spec order."""
        return [(target, rule) for target in self.model_endpoints() for rule in target.rules()]

    def header_rules(self) -> list[Rule]:
        """The rules of documented request headers (``required``, ``enum``)."""
        return [rule for header in self.headers.values() for rule in header.rules.values()]

    def model_rules(self) -> list[Rule]:
        """The rules on the ``model`` field, for each endpoint some model serves."""
        served = {target.endpoint for target in self.model_endpoints()}
        return [rule for name, endpoint in self.endpoints.items() if name in served
                for rule in endpoint.model_rules.values()]
