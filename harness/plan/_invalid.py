"""The plan's invalid cases: each breaks exactly one documented rule, at its boundary, as a near miss, or drawn."""

from __future__ import annotations

import json
import random
from typing import Any

from ..derive.schema import request_violations
from ..derive.strategies import cheapest_body, invalid_body
from ..rules import kind
from ..spec import ModelEndpoint, Param, Rule
from ..spec import requirements as ids
from ._draw import LARGE_UPLOAD, draw, label_of, megabytes, with_value

_REJECTION = ids.REJECTION

__all__ = ["InvalidCases"]


class InvalidCases:
    """The invalid-case methods of the plan builder (a mixin: ``add``, ``encoding``, ``profile``, ``seed``,
    ``examples``, ``large_inputs`` come from it)."""

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
                     body=with_value(op, cheapest_body(op), param.name, f"not-a-{param.type}"), origin="example",
                     also=_REJECTION, params=(param.name,))
            return
        also = _REJECTION
        base = cheapest_body(op)
        if rule.kind == "max_bytes" and rule.value > LARGE_UPLOAD and not self.large_inputs:
            self.add(requirement=rid, label=f"png file of {megabytes(rule.value)}", kind="invalid", op=op, body=base,
                     origin="boundary", also=also, params=(param.name,),
                     skip=f"an upload of {megabytes(rule.value)}: --large-inputs sends it")
            return
        bodies: list[tuple[str, dict[str, Any]]] = []
        rule_kind = kind(rule.kind)
        if not rule_kind.drawn:
            bodies += [("example", b) for b in draw(invalid_body(op, rule), 1, self.seed)]
        else:
            beyond = rule_kind.beyond(param, rule) if rule_kind.beyond else None
            if beyond is not None:
                bodies.append(("boundary", with_value(op, base, param.name, beyond)))
            bodies += self.near_misses(op, param, rule, base)
            seen = [b for _, b in bodies]
            bodies += [("drawn", b) for b in draw(invalid_body(op, rule), self.examples, self.seed) if b not in seen]
        for origin, body in bodies:
            label = label_of(body.get(param.name), param) if param.name in body else f"without {param.name}"
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
            body = with_value(op, base, param.name, value)
            if request_violations(self.profile, op.endpoint, body) == {rule.requirement.id: param.name}:
                found.append((f"near-miss: {why}", body))
        return found

    def condition_cases(self, op: ModelEndpoint, rule: Rule) -> None:
        also = _REJECTION
        involved = (*rule.value.then, *rule.value.when)
        for body in draw(invalid_body(op, rule), self.examples, self.seed):
            shown = ", ".join(f"{k}={label_of(body[k], op.params[k])}"
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
