"""Profile -> the plan: the exact, ordered list of cases a run sends.

A case is one HTTP request plus what it is for: the requirement ids it
exercises and whether a conformant router bills it. The plan always holds the
boundary examples (each limit exactly, and one step beyond), then a few
Hypothesis draws per rule; draws are seeded, so the same seed gives the same
plan, byte for byte. Valid cases use the cheapest settings unless the rule
under test needs others, because every valid case costs real money.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from collections.abc import Iterator
from typing import Any

from hypothesis import Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from .derive.schema import request_violations
from .rules import kind
from .spec import Case, ModelEndpoint, Param, Profile, Rule
from .spec import requirements as ids
from .derive.strategies import (
    cheapest_body,
    input_image_data_uri,
    input_mask_data_uri,
    invalid_body,
    keep_conditions,
    valid_body,
)

_REJECTION = ids.REJECTION

__all__ = ["build_plan"]


def _draw(strategy: st.SearchStrategy[Any], count: int, seed: int) -> list[Any]:
    """``count`` examples of ``strategy``, the same ones for the same ``seed``.

    An empty strategy gives no examples: a rule that other rules already
    imply (``max_pixels`` 2048x2048 under ``max_edge`` 2048) cannot be broken
    on its own, so no case can test it alone and its requirement stays skipped.
    """
    drawn: list[Any] = []
    if strategy.is_empty:
        return drawn

    @hypothesis_seed(seed)
    @settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate],
        deadline=None,
    )
    @given(strategy)
    def collect(value: Any) -> None:
        if len(drawn) < count and value not in drawn:
            drawn.append(value)

    collect()
    return drawn


def _label(value: Any, param: Param) -> str:
    text = value if isinstance(value, str) and param.type == "string" else json.dumps(value)
    return text if len(text) <= 40 else f"{text[:24]}…({len(text)} chars)"


def _with(op: ModelEndpoint, base: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    """``base`` with ``name`` set to ``value``, the other parameters moved into every condition ``value`` triggers
    (an ``output_compression`` gets its jpeg), so the body breaks no rule but the one ``value`` may break."""
    return keep_conditions(op, {**base, name: value}) | {name: value}


def _on_limit(param: Param) -> list[tuple[str, Any]]:
    """``(rule kind, valid value exactly on its limit)`` for every rule of ``param`` whose kind has limits."""
    found = []
    for key, rule in param.rules.items():
        on_limit = kind(key).on_limit
        found += [(key, value) for value in (on_limit(param, rule) if on_limit else ())]
    return found


def _contested(op: ModelEndpoint, body: dict[str, Any]) -> bool:
    """Whether ``body`` sends a value another document contradicts (its case judges nothing at MUST)."""
    return any(name in op.params and value in op.params[name].conflicts for name, value in body.items()
               if isinstance(value, (str, int, float, bool)))


# ------------------------------------------------------------------ the plan


class _PlanBuilder:
    def __init__(self, profile: Profile, *, seed: int, examples: int, input_image_url: str | None) -> None:
        self.profile = profile
        self.seed = seed
        self.examples = examples
        self.input_image_url = input_image_url
        self.cases: list[Case] = []
        self.ids: set[str] = set()

    def add(self, *, requirement: str, label: str, kind: str, op: ModelEndpoint, body: dict[str, Any],
            origin: str, also: tuple[str, ...] = (), auth: str = "valid", note: str = "",
            headers: dict[str, str | None] | None = None, encoding: str | None = None,
            params: tuple[str, ...] = (), skip: str = "") -> None:
        case_id = f"{requirement}[{label}]"
        serial = 2
        while case_id in self.ids:
            case_id = f"{requirement}[{label}#{serial}]"
            serial += 1
        self.ids.add(case_id)
        headers = {**self.required_headers(), **(headers or {})}
        self.cases.append(Case(
            id=case_id, kind=kind, endpoint=op.endpoint, model=op.model, body=body,
            requirements=(requirement, *also), billable=kind == "valid" and op.billable and not skip,
            origin=origin, auth=auth, note=note, headers=headers,
            encoding=encoding or self.encoding(op), params=params, skip=skip,
        ))

    def encoding(self, op: ModelEndpoint) -> str:
        """JSON where the endpoint takes it (every tool speaks it), else its first documented encoding."""
        encodings = self.profile.endpoints[op.endpoint].encodings
        return "json" if "json" in encodings else encodings[0]

    def required_headers(self) -> dict[str, str | None]:
        """The documented required headers with their example values (sent by every case)."""
        return {h.name: h.example for h in self.profile.headers.values() if h.required and h.example}

    def optional_headers(self) -> dict[str, str | None]:
        """The documented optional headers with their example values (sent by drawn valid cases)."""
        return {h.name: h.example for h in self.profile.headers.values() if not h.required and h.example}

    def valid(self, op: ModelEndpoint) -> None:
        prefix = op.prefix
        accepts = ids.ACCEPTS_VALID.at(prefix)
        base = cheapest_body(op)
        required_only = {k: v for k, v in base.items() if k == "model" or op.params[k].required}
        self.add(requirement=accepts, label=f"{op.model} required fields only", kind="valid", op=op,
                 body=required_only, origin="example", note="documented defaults apply")
        fmt = op.params.get("output_format")
        for value in (fmt.choices if fmt is not None and fmt.exercise else ()):
            self.add(requirement=ids.IMAGE_FORMAT.at(prefix), label=f"{op.model} output_format={value}",
                     kind="valid", op=op, body={**base, "output_format": value}, origin="example", also=(accepts,))
        rf = op.params.get("response_format")
        for value in (rf.choices if rf is not None and rf.exercise else ()):
            if value != base.get("response_format", rf.default):
                self.add(requirement=accepts, label=f"{op.model} response_format={value}", kind="valid", op=op,
                         body={**base, "response_format": value}, origin="example")
        n = op.params.get("n")
        if n is not None and n.rule_value("maximum", 2) >= 2:
            self.add(requirement=ids.DATA_COUNT.at(prefix), label=f"{op.model} n=2", kind="valid",
                     op=op, body={**base, "n": 2}, origin="example", also=(accepts,))
        for param in op.params.values():
            if param.type != "image":
                continue
            if param.name == "image" and "url" in param.inputs:
                self.url_input(op, base)
            if param.name == "mask" and "image" in op.params:
                self.add(requirement=accepts, label=f"{op.model} with mask", kind="valid", op=op,
                         body={**base, "image": base.get("image", input_image_data_uri()), "mask": input_mask_data_uri()},
                         origin="example", note="a mask the size of the input image, transparent where to edit")
        ratio = op.params.get("aspect_ratio")
        other = [v for v in (ratio.choices if ratio is not None else ()) if v != ratio.default]
        if other:  # one non-square shape proves the router draws the asked ratio (each costs an image)
            self.add(requirement=ids.IMAGE_DIMENSIONS.at(prefix), label=f"{op.model} aspect_ratio={other[0]}",
                     kind="valid", op=op, body={**base, "aspect_ratio": other[0]}, origin="example", also=(accepts,))
        background = op.params.get("background")
        transparent = keep_conditions(op, {**base, "background": "transparent"}) if background is not None and \
            "transparent" in background.uncontested else {}
        if transparent.get("background") == "transparent":  # not where a condition refuses it (gpt-image-2)
            self.add(requirement=ids.IMAGE_TRANSPARENT.at(prefix), label=f"{op.model} background=transparent",
                     kind="valid", op=op, body=transparent, origin="example", also=(accepts,))
        self.conflicts(op, base)
        self.on_limit(op, base)
        if "multipart" in self.profile.endpoints[op.endpoint].encodings and self.encoding(op) != "multipart":
            self.add(requirement=accepts, label=f"{op.model} multipart/form-data", kind="valid", op=op, body=base,
                     origin="example", encoding="multipart", note="the endpoint documents both encodings")
        headers = self.optional_headers()
        for i, body in enumerate(_draw(valid_body(op), self.examples, self.seed)):
            self.add(requirement=accepts, label=f"{op.model} drawn {i + 1}", kind="valid", op=op,
                     body=body, origin="drawn", headers=headers)

    def conflicts(self, op: ModelEndpoint, base: dict[str, Any]) -> None:
        """One valid case per contested value (``conflicts``), judged only at the conflict's own level.

        It carries neither accepts-valid nor any MUST of its own: a documented
        value the upstream model refuses cannot decide a MUST verdict. The
        image checks still run on a 200 (a served ``transparent`` must be
        transparent; that check takes the conflict's level, see checks.served).
        """
        for param in op.params.values():
            for conflict in param.conflicts.values():
                body = keep_conditions(op, {**base, param.name: conflict.value})
                if body.get(param.name) != conflict.value:
                    continue  # another rule of the profile forbids it in the cheapest body
                self.add(requirement=conflict.requirement.id, label=f"{op.model} {param.name}={conflict.value}",
                         kind="valid", op=op, body=body, origin="example", note=f"contested: {conflict.note}")

    def on_limit(self, op: ModelEndpoint, base: dict[str, Any]) -> None:
        """One valid case exactly on each limit (a maximum, a length, a size edge): a router must not reject it.

        The value sits in the cheapest body, moved into every condition; a
        value the profile's other rules forbid there is not sent.
        """
        accepts = ids.ACCEPTS_VALID.at(op.prefix)
        for param in op.params.values():
            if not param.exercise:
                continue
            for key, value in _on_limit(param):
                body = _with(op, base, param.name, value)
                if request_violations(self.profile, op.endpoint, body):
                    continue
                rid = param.rules[key].requirement.id
                if self.attach(op, rid, param.name, value):
                    continue  # a planned case already sends this value: it judges the limit too, at no extra cost
                also = (accepts, ids.IMAGE_DIMENSIONS.at(op.prefix)) if param.dimension_rules else (accepts,)
                if param.name == "n":
                    also += (ids.DATA_COUNT.at(op.prefix),)
                shown = value if param.dimension_rules else f"{param.name}={_label(value, param)}"
                self.add(requirement=param.rules[key].requirement.id, label=f"{shown} on the limit", kind="valid",
                         op=op, body=body, origin="boundary", also=also, note=f"valid: exactly at the {key} limit")

    def attach(self, op: ModelEndpoint, requirement: str, name: str, value: Any) -> bool:
        """Add ``requirement`` to the first planned valid case of ``op`` that sends ``name`` = ``value``."""
        for index, case in enumerate(self.cases):
            if case.kind == "valid" and case.model == op.model and case.endpoint == op.endpoint and not case.skip \
                    and name in case.body and case.body[name] == value and not _contested(op, case.body):
                self.cases[index] = replace(case, requirements=(*case.requirements, requirement))
                return True
        return False

    def url_input(self, op: ModelEndpoint, base: dict[str, Any]) -> None:
        """One valid case whose input image is an http(s) URL the router must fetch.

        Only the user can name a URL that their router can reach
        (``input_image_url``); without one the case is planned but skipped.
        """
        url = self.input_image_url
        self.add(requirement=ids.ACCEPTS_VALID.at(op.prefix), label=f"{op.model} image as URL", kind="valid",
                 op=op, body={**base, "image": url or "https://example.invalid/input.png"}, origin="example",
                 note="the input image as a URL the router fetches",
                 skip="" if url else "no input image URL: pass --input-image-url with a PNG the router can fetch")

    def invalid(self, op: ModelEndpoint) -> None:
        for param in op.params.values():
            for rule in param.rules.values():
                self.rule_cases(op, param, rule)
        for rule in op.conditions:
            self.condition_cases(op, rule)
        known = ids.MODEL_KNOWN.at(op.prefix)
        # an unknown id in the documented format, if there is one, so that it breaks model.known alone
        unknown = next((m for m in ("no-such-image-model", "no-such-owner/no-such-image-model")
                        if request_violations(self.profile, op.endpoint, {**cheapest_body(op), "model": m}) ==
                        {known: "model"}), "no-such-image-model")
        self.add(requirement=known, label=unknown, kind="invalid", op=op, body={**cheapest_body(op), "model": unknown},
                 origin="example", also=_REJECTION, params=("model",))

    def rule_cases(self, op: ModelEndpoint, param: Param, rule: Rule) -> None:
        """The invalid cases of one rule: its boundary value one step beyond the limit, then drawn values
        (or, for a kind that is not ``drawn``, one example)."""
        rid = rule.requirement.id
        if rule.kind == "type" and self.encoding(op) == "multipart":
            # form fields are text: the wrong type is text that does not parse as the documented one
            self.add(requirement=rid, label=f"{param.name}=not-a-{param.type}", kind="invalid", op=op,
                     body=_with(op, cheapest_body(op), param.name, f"not-a-{param.type}"), origin="example",
                     also=_REJECTION, params=(param.name,))
            return
        also = _REJECTION
        base = cheapest_body(op)
        bodies: list[tuple[str, dict[str, Any]]] = []
        rule_kind = kind(rule.kind)
        if not rule_kind.drawn:
            bodies += [("example", b) for b in _draw(invalid_body(op, rule), 1, self.seed)]
        else:
            beyond = rule_kind.beyond(param, rule) if rule_kind.beyond else None
            if beyond is not None:
                bodies.append(("boundary", _with(op, base, param.name, beyond)))
            bodies += self.near_misses(op, param, rule, base)
            seen = [b for _, b in bodies]
            bodies += [("drawn", b) for b in _draw(invalid_body(op, rule), self.examples, self.seed) if b not in seen]
        for origin, body in bodies:
            label = _label(body.get(param.name), param) if param.name in body else f"without {param.name}"
            if origin.startswith("near-miss"):  # quoted, so that a stray space shows
                label = f"{json.dumps(body[param.name])}, {origin.removeprefix('near-miss: ')}"
                origin = "near-miss"
            self.add(requirement=rid, label=label, kind="invalid", op=op, body=body, origin=origin, also=also,
                     params=(param.name,))

    def near_misses(self, op: ModelEndpoint, param: Param, rule: Rule,
                    base: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """Up to one value of each kind of near miss (a sibling model's, the family's, another spelling), chosen by
        the seed, each in the cheapest body and kept only when it breaks this rule and nothing else."""
        hook = kind(rule.kind).near_misses
        if hook is None:
            return []
        siblings = [(t.model, t.params[param.name]) for t in self.profile.model_endpoints()
                    if t.model != op.model and param.name in t.params]
        by_why: dict[str, list[tuple[str, Any]]] = {}
        for why, value in hook(param, rule, siblings):
            by_why.setdefault("sibling" if why.startswith("documented for") else why, []).append((why, value))
        chooser = random.Random(f"{self.seed}:{rule.requirement.id}")
        found = []
        for candidates in by_why.values():
            why, value = chooser.choice(candidates)
            body = _with(op, base, param.name, value)
            if request_violations(self.profile, op.endpoint, body) == {rule.requirement.id: param.name}:
                found.append((f"near-miss: {why}", body))
        return found

    def condition_cases(self, op: ModelEndpoint, rule: Rule) -> None:
        also = _REJECTION
        involved = (*rule.value.then, *rule.value.when)
        for body in _draw(invalid_body(op, rule), self.examples, self.seed):
            shown = ", ".join(f"{k}={_label(body[k], op.params[k])}"
                              for k in dict.fromkeys((*rule.value.when, *rule.value.then)) if k in body)
            self.add(requirement=rule.requirement.id, label=shown, kind="invalid", op=op, body=body,
                     origin="drawn", also=also, params=involved)

    def model_cases(self, op: ModelEndpoint) -> None:
        """The rules on ``model`` itself, once per endpoint: a request without it; a model id out of the
        documented format (the likeliest one: a documented id with its ``owner/`` dropped)."""
        rules = self.profile.endpoints[op.endpoint].model_rules
        base = cheapest_body(op)
        bodies = []
        if "required" in rules:
            bodies.append((rules["required"], "without model", {k: v for k, v in base.items() if k != "model"}))
        if "format" in rules:
            bare = op.model.split("/", 1)[-1]
            bodies.append((rules["format"], json.dumps(bare), {**base, "model": bare}))
        for rule, label, body in bodies:
            if request_violations(self.profile, op.endpoint, body) == {rule.requirement.id: "model"}:
                self.add(requirement=rule.requirement.id, label=label, kind="invalid", op=op, body=body,
                         origin="example", also=_REJECTION, params=("model",))

    def header_cases(self, op: ModelEndpoint) -> None:
        also = (ids.ERROR_SHAPE.slug, ids.ERROR_NO_IMAGE.slug)
        for rule in self.profile.header_rules():
            if rule.kind == "required":
                headers: dict[str, str | None] = {rule.param: None}
                label = f"without {rule.param}"
            else:
                wrong = "text/plain" if rule.param.lower() == "content-type" else "none-such"
                headers, label = {rule.param: wrong}, f"{rule.param}: {wrong}"
            self.add(requirement=rule.requirement.id, label=label, kind="invalid", op=op, body=cheapest_body(op),
                     origin="example", also=also, headers=headers)

    def auth(self, op: ModelEndpoint) -> None:
        for auth, rid in (("missing", ids.AUTH_REQUIRED.slug), ("wrong", ids.AUTH_WRONG_KEY.slug)):
            self.add(requirement=rid, label=f"{auth} key", kind="auth", op=op,
                     body=cheapest_body(op), origin="example", auth=auth,
                     also=(ids.AUTH_STATUS_401.slug, ids.AUTH_NO_KEY_ECHO.slug, ids.ERROR_SHAPE.slug))

    def build(self, models: tuple[str, ...] = ()) -> list[Case]:
        ops = [op for op in self.profile.model_endpoints() if not models or op.model in models]
        self.auth(ops[0])
        self.header_cases(ops[0])
        for endpoint in self.profile.endpoints:
            first = next((op for op in ops if op.endpoint == endpoint), None)
            if first is not None:
                self.model_cases(first)
        for op in ops:
            self.invalid(op)
        for op in ops:
            self.valid(op)
        # valid cases of more than two images (n on its maximum) go last, so a generation budget spends on them last
        self.cases.sort(key=lambda c: c.kind == "valid" and c.images > 2)
        return self.cases


def build_plan(profile: Profile, *, seed: int = 0, examples: int = 2, models: tuple[str, ...] = (),
               input_image_url: str | None = None) -> list[Case]:
    """Every case a run of ``profile`` sends, in send order.

    Auth and invalid cases (free on a conformant router) come first, then the
    valid (billable) ones, so that a generation budget is spent last.
    ``examples`` is the number of Hypothesis draws per rule and per model; the
    same ``seed`` gives the same list. ``models`` keeps only those models'
    cases (all when empty); ``ValueError`` names an id the profile lacks.
    """
    unknown = [m for m in models if m not in profile.models]
    if unknown:
        raise ValueError(f"profile {profile.name!r} has no model {', '.join(map(repr, unknown))}; "
                         f"models: {', '.join(profile.models)}")
    return _PlanBuilder(profile, seed=seed, examples=examples, input_image_url=input_image_url).build(models)
