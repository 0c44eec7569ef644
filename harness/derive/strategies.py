"""Profile -> Hypothesis strategies for valid requests and for requests that break one rule.

Values are constructed, never filtered into shape: each rule kind in the
registry draws the values that break exactly it (``RuleKind.invalid``), and
``size`` values walk the exact region the dimension rules leave open
(``rules.size``). This module composes them into whole request bodies and
keeps every condition between parameters by construction.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from ..rules import kind
from ..rules.size import cheapest_size, geometry, size_segments, sizes
from ..rules.values import BENIGN_PROMPTS, input_image_data_uri, input_mask_data_uri, present_value
from ..spec import Condition, ModelEndpoint, Param, Rule

__all__ = [
    "BENIGN_PROMPTS",
    "cheapest_body",
    "cheapest_size",
    "input_image_data_uri",
    "input_mask_data_uri",
    "invalid_body",
    "invalid_value",
    "keep_conditions",
    "valid_body",
    "valid_value",
]


# ------------------------------------------------------------------ valid values


def valid_value(param: Param) -> st.SearchStrategy[Any]:
    """Any value of ``param`` that keeps every one of its rules."""
    if param.name == "prompt":
        return st.sampled_from(BENIGN_PROMPTS)
    if param.type == "image":
        limit = param.rule_value("max_items", 2)
        one = input_image_data_uri()
        return st.one_of(st.just(one), st.integers(1, min(2, limit)).map(lambda k: [one] * k))
    if param.dimension_rules and not param.choices:
        allowed = param.rule_value("allowed")
        if allowed:
            return st.sampled_from(list(allowed) + list(param.keywords))
        return sizes(size_segments(geometry(param), None))
    if param.choices:  # a value another document contradicts is sent once, by its own case (plan), never drawn
        return st.sampled_from(list(param.uncontested or param.choices))
    if param.type == "integer":
        return st.integers(param.rule_value("minimum", 1), param.rule_value("maximum", 10))
    if param.type == "boolean":
        return st.booleans()
    if param.default is not None:
        return st.just(param.default)
    if param.type in ("object", "array", "number"):
        return st.just(present_value(param))
    return st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)


def keep_conditions(op: ModelEndpoint, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` changed as little as needed so that it keeps every condition of ``op``.

    A triggered condition is kept by moving each ``then`` parameter into its
    allowed values (or removing it); when that is impossible the optional
    parameters that trigger it are dropped instead.
    """
    body = dict(body)
    for _ in range(len(op.conditions) + 1):
        broken = [rule for rule in op.conditions if not op.keeps(rule.value, body)]
        if not broken:
            return body
        condition: Condition = broken[0].value
        fixed = True
        for name, allowed in condition.then.items():
            param = op.params[name]
            if allowed is None:
                if param.required:
                    fixed = False
                body.pop(name, None)
                continue
            options = [v for v in allowed if not param.choices or v in param.choices]
            # prefer a value every other condition on this parameter also keeps (png+transparent vs jpeg+compression),
            # then one no other document contradicts
            options.sort(key=lambda v: (not all(op.keeps(r.value, {**body, name: v}) for r in op.conditions),
                                        v in param.conflicts))
            if options:
                body[name] = options[0]
            else:
                fixed = False
        if not fixed:
            for name in condition.when:
                if not op.params[name].required:
                    body.pop(name, None)
    return body


def cheapest_body(op: ModelEndpoint) -> dict[str, Any]:
    """The least expensive valid body: required fields, one image, cheapest quality and size."""
    body: dict[str, Any] = {"model": op.model}
    for name, param in op.params.items():
        if name == "prompt":
            body[name] = BENIGN_PROMPTS[0]
        elif name == "n":
            body[name] = 1
        elif param.cheapest is not None:
            body[name] = param.cheapest
        elif param.dimension_rules:
            body[name] = cheapest_size(param)
        elif param.required:
            body[name] = present_value(param)
    return keep_conditions(op, body)


def valid_body(op: ModelEndpoint) -> st.SearchStrategy[dict[str, Any]]:
    """Any body ``op`` accepts: required params always, each optional one present or not.

    ``n`` is kept at 1 or 2 so a drawn case costs at most two images;
    parameters marked ``exercise: false`` are never sent; the draw is then
    moved into every condition's allowed region (by construction, no filter).
    """
    required = {"model": st.just(op.model)}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for name, param in op.params.items():
        if (not param.exercise or "unsupported" in param.rules) and not param.required:
            continue
        strategy = st.integers(1, min(2, param.rule_value("maximum", 2))) if name == "n" else valid_value(param)
        (required if param.required else optional)[name] = strategy
    return st.fixed_dictionaries(required, optional=optional).map(lambda body: keep_conditions(op, body))


def _breaks_condition(op: ModelEndpoint, rule: Rule) -> st.SearchStrategy[dict[str, Any]]:
    """Bodies that trigger ``rule``'s condition and then break its first ``then`` parameter."""
    condition: Condition = rule.value
    body = cheapest_body(op)
    for name, values in condition.when.items():
        body[name] = values[0] if values is not None else present_value(op.params[name])
    name, allowed = next(iter(condition.then.items()))
    param = op.params[name]
    if allowed is None:
        return st.just({**body, name: present_value(param)})
    outside = [v for v in param.choices if v not in allowed]
    if not outside:
        return st.nothing()
    return st.sampled_from(outside).map(lambda value: {**body, name: value})


def invalid_body(op: ModelEndpoint, rule: Rule) -> st.SearchStrategy[dict[str, Any]]:
    """The cheapest valid body of ``op`` with exactly ``rule`` broken."""
    if rule.kind == "condition":
        return _breaks_condition(op, rule)
    base = cheapest_body(op)
    param = op.params[rule.param]
    whole_body = kind(rule.kind).invalid_body
    if whole_body is not None:
        return whole_body(base, param, rule)
    return invalid_value(param, rule).map(lambda value: keep_conditions(op, {**base, rule.param: value}) | {rule.param: value})


def invalid_value(param: Param, rule: Rule) -> st.SearchStrategy[Any]:
    """Values of ``param`` that break ``rule`` and keep its other rules (``RuleKind.invalid``)."""
    found = kind(rule.kind).invalid
    if found is None:
        raise ValueError(f"rule kind {rule.kind!r} draws whole bodies, not values (see invalid_body)")
    return found(param, rule)
