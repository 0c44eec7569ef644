"""Profile -> the plan: the exact, ordered list of cases a run sends.

A case is one HTTP request plus what it is for: the requirement ids it
exercises and whether a conformant router bills it. The plan always holds the
boundary examples (each limit exactly, and one step beyond), then a few
Hypothesis draws per rule; draws are seeded, so the same seed gives the same
plan, byte for byte. Valid cases use the cheapest settings unless the rule
under test needs others, because every valid case costs real money.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property
from typing import Any

from ..derive.schema import request_violations
from ..spec import Case, ModelEndpoint, Profile
from ..spec import requirements as ids
from ._draw import LARGE_UPLOAD, contested, draw, label_of, megabytes, on_limit_values, with_value
from ._invalid import InvalidCases
from ..derive.strategies import (
    cheapest_body,
    input_image_data_uri,
    input_mask_data_uri,
    keep_conditions,
    valid_body,
)
from ..rules.values import incompressible_png_data_uri

_REJECTION = ids.REJECTION

__all__ = ["LARGE_UPLOAD", "build_plan"]


class _PlanBuilder(InvalidCases):
    def __init__(self, profile: Profile, *, seed: int, examples: int, input_image_url: str | None,
                 large_inputs: bool) -> None:
        self.profile = profile
        self.seed = seed
        self.examples = examples
        self.input_image_url = input_image_url
        self.large_inputs = large_inputs
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
            requirements=(requirement, *also), billable=kind in ("valid", "stream") and op.billable and not skip,
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
        self.uploads(op, base)
        if "multipart" in self.profile.endpoints[op.endpoint].encodings and self.encoding(op) != "multipart":
            self.add(requirement=accepts, label=f"{op.model} multipart/form-data", kind="valid", op=op, body=base,
                     origin="example", encoding="multipart", note="the endpoint documents both encodings")
        headers = self.optional_headers()
        for i, body in enumerate(draw(valid_body(op), self.examples, self.seed)):
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
            for key, value in on_limit_values(param):
                body = with_value(op, base, param.name, value)
                if request_violations(self.profile, op.endpoint, body):
                    continue
                rid = param.rules[key].requirement.id
                if self.attach(op, rid, param.name, value):
                    continue  # a planned case already sends this value: it judges the limit too, at no extra cost
                also = (accepts, ids.IMAGE_DIMENSIONS.at(op.prefix)) if param.dimension_rules else (accepts,)
                if param.name == "n":
                    also += (ids.DATA_COUNT.at(op.prefix),)
                shown = value if param.dimension_rules else f"{param.name}={label_of(value, param)}"
                self.add(requirement=param.rules[key].requirement.id, label=f"{shown} on the limit", kind="valid",
                         op=op, body=body, origin="boundary", also=also, note=f"valid: exactly at the {key} limit")

    @cached_property
    def smallest_upload_limit(self) -> int | None:
        """The smallest file-size limit (bytes) any input image of the profile documents; ``None`` if none does
        (computed once per plan: every edit model asks for it)."""
        limits = [p.rules["max_bytes"].value for op in self.profile.model_endpoints() for p in op.params.values()
                  if p.type == "image" and "max_bytes" in p.rules]
        return min(limits, default=None)

    def uploads(self, op: ModelEndpoint, base: dict[str, Any]) -> None:
        """Valid cases whose input ``image`` has a realistic size, where its model documents a file-size limit.

        One PNG of incompressible (seeded random) pixels close under the
        smallest limit the profile documents (a 3.9 MB file under dall-e-2's
        "less than 4MB"): the upload a proxy in front of a router refuses when
        its body limit is the default (nginx: 1 MB). On the model's own limit
        it judges the ``max_bytes`` rule too. Uploads over
        :data:`LARGE_UPLOAD` (the model's own 50 MB-class limit, ``max_items``
        such files at once) are planned but skipped unless ``large_inputs``,
        their size said in the reason.
        """
        image = op.params.get("image")
        smallest = self.smallest_upload_limit
        if image is None or image.type != "image" or not image.exercise or "max_bytes" not in image.rules \
                or smallest is None:
            return
        accepts = ids.ACCEPTS_VALID.at(op.prefix)
        own = image.rules["max_bytes"]
        limits = sorted({min(own.value, smallest), own.value})
        for limit in limits:
            size = limit * 15 // 16
            requirement = own.requirement.id if limit == own.value else accepts
            note = f"valid: an input image of {size:,} bytes, under the {limit:,}-byte limit"
            self.upload_case(op, base, requirement=requirement, also=(accepts,) if requirement != accepts else (),
                             label=f"{op.model} image of {megabytes(size)}", files=1, size=size, note=note)
        most = image.rules.get("max_items")
        if most is not None and most.value > 1:
            size = min(limits) * 15 // 16
            self.upload_case(op, base, requirement=most.requirement.id, also=(accepts,), files=most.value, size=size,
                             label=f"{op.model} {most.value} images of {megabytes(size)}",
                             note=f"valid: {most.value} input images of {size:,} bytes each")

    def upload_case(self, op: ModelEndpoint, base: dict[str, Any], *, requirement: str, also: tuple[str, ...],
                    label: str, files: int, size: int, note: str) -> None:
        total = files * size
        if total > LARGE_UPLOAD and not self.large_inputs:
            self.add(requirement=requirement, label=label, kind="valid", op=op, body=base, origin="boundary",
                     also=also, note=note, skip=f"an upload of {megabytes(total)}: --large-inputs sends it")
            return
        one = incompressible_png_data_uri(size, seed=self.seed)
        body = with_value(op, base, "image", [one] * files if files > 1 else one)
        if not request_violations(self.profile, op.endpoint, body):  # a model whose other rules refuse it: none
            self.add(requirement=requirement, label=label, kind="valid", op=op, body=body, origin="boundary",
                     also=also, note=note)

    def attach(self, op: ModelEndpoint, requirement: str, name: str, value: Any) -> bool:
        """Add ``requirement`` to the first planned valid case of ``op`` that sends ``name`` = ``value``."""
        for index, case in enumerate(self.cases):
            if case.kind == "valid" and case.model == op.model and case.endpoint == op.endpoint and not case.skip \
                    and name in case.body and case.body[name] == value and not contested(op, case.body):
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

    def streaming(self, op: ModelEndpoint) -> None:
        """Streaming cases where the model documents a stream: the cheapest body (one image) asking for it,
        with no partial images and with the most the profile allows."""
        stream = op.stream
        if stream is None:
            return
        base = {k: v for k, v in cheapest_body(op).items() if k != "n"}
        partials = op.params.get(stream.partials) if stream.partials else None
        counts: list[int | None] = sorted({0, partials.rule_value("maximum", 0)}) if partials is not None else [None]
        also = tuple(b.at(op.prefix) for b in (ids.STREAM_EVENTS, ids.STREAM_ORDER, ids.STREAM_IMAGES))
        for count in counts:
            body = {**base, stream.when: True, **({stream.partials: count} if count is not None else {})}
            label = f"{op.model} {stream.partials}={count}" if count is not None else op.model
            self.add(requirement=ids.STREAM_SERVED.at(op.prefix), label=label, kind="stream", op=op, body=body,
                     origin="example", also=also)

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
        for op in ops:
            self.streaming(op)
        # valid cases of more than two images (n on its maximum) go last, so a generation budget spends on them last
        self.cases.sort(key=lambda c: c.kind == "valid" and c.images > 2)
        return self.cases


def build_plan(profile: Profile, *, seed: int = 0, examples: int = 2, models: tuple[str, ...] = (),
               input_image_url: str | None = None, large_inputs: bool = False) -> list[Case]:
    """Every case a run of ``profile`` sends, in send order.

    Auth and invalid cases (free on a conformant router) come first, then the
    valid (billable) ones, so that a generation budget is spent last.
    ``examples`` is the number of Hypothesis draws per rule and per model; the
    same ``seed`` gives the same list. ``models`` keeps only those models'
    cases (all when empty); ``ValueError`` names an id the profile lacks.
    ``large_inputs`` also sends the uploads over :data:`LARGE_UPLOAD` bytes
    (otherwise planned as skipped, with their size).
    """
    unknown = [m for m in models if m not in profile.models]
    if unknown:
        raise ValueError(f"profile {profile.name!r} has no model {', '.join(map(repr, unknown))}; "
                         f"models: {', '.join(profile.models)}")
    return _PlanBuilder(profile, seed=seed, examples=examples, input_image_url=input_image_url,
                        large_inputs=large_inputs).build(models)
