"""Hypothesis properties of the generation engine: valid draws are valid, invalid draws break exactly their rule."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import build_plan, load_profile, request_violations
from harness._resources import builtin_profiles
from harness.derive.schema import header_violations
from harness.rules.size import parse_size
from harness.derive.strategies import invalid_body, valid_body

PROFILE = load_profile("worldrouter")
MODEL = PROFILE.model_endpoint("generations", "gpt-image-2")
PROFILES = [load_profile(name) for name in builtin_profiles()]
OPERATIONS = [(profile, op) for profile in PROFILES for op in profile.model_endpoints()]
RULES = [(profile, op, rule) for profile in PROFILES for op, rule in profile.rules()]


def _ids(items):
    return [f"{p.name}:{op.endpoint}:{op.model}" for p, op, *_ in items]


# Indexes, not the objects, are drawn: a failing example then shows a number, not a whole profile's repr.
@settings(max_examples=300, deadline=None)  # draws carry MB-sized images; speed is benchmarks' job
@given(st.integers(0, len(OPERATIONS) - 1).flatmap(lambda i: st.tuples(st.just(i), valid_body(OPERATIONS[i][1]))))
def test_every_valid_draw_keeps_every_rule(drawn):
    index, body = drawn
    profile, op = OPERATIONS[index]
    assert request_violations(profile, op.endpoint, body) == {}


@settings(max_examples=500, deadline=None)
@given(st.integers(0, len(RULES) - 1).flatmap(lambda i: st.tuples(st.just(i), invalid_body(*RULES[i][1:]))))
def test_every_invalid_draw_breaks_exactly_its_rule(drawn):
    index, body = drawn
    profile, op, rule = RULES[index]
    assert set(request_violations(profile, op.endpoint, body)) == {rule.requirement.id}


@settings(max_examples=200, deadline=None)
@given(valid_body(MODEL))
def test_valid_sizes_cover_the_whole_region(body):
    size = parse_size(body.get("size"))
    if size is not None:
        w, h = size
        assert w % 16 == 0 and h % 16 == 0 and max(w, h) <= 3840
        assert max(w, h) <= 3 * min(w, h) and 655_360 <= w * h <= 8_294_400


def test_valid_draws_reach_far_corners():
    # constructed, not filtered: extreme shapes appear, not only the popular sizes
    from harness.rules.size import geometry, size_segments
    segments = size_segments(geometry(MODEL.params["size"]), None)
    widths = {w for w, *_ in segments}
    assert min(widths) == 480 and max(widths) == 3840  # 480x1440 is 3:1 at the pixel minimum


@pytest.mark.parametrize("size", ["1280x3840", "480x1440", "640x1024", "2880x2880",   # on each limit
                                  "1296x3856", "1024x1032", "1264x3808", "576x1136", "2368x3504"])  # one step beyond
def test_boundary_examples_are_in_every_plan(size):
    for seed in (0, 1, 7):
        sizes = {case.body.get("size") for case in build_plan(PROFILE, seed=seed) if case.origin == "boundary"}
        assert size in sizes


@pytest.mark.parametrize("profile", PROFILES, ids=[p.name for p in PROFILES])
def test_plan_invalid_cases_each_break_their_labelled_rule(profile):
    for case in build_plan(profile, seed=3, examples=4):
        if case.skip:  # planned, not sent (a 50 MB upload without --large-inputs): its body is not the one it breaks
            continue
        sent = {"Content-Type": "application/json", **case.headers}
        found = set(request_violations(profile, case.endpoint, case.body))
        found |= set(header_violations(profile, {k: v for k, v in sent.items() if v is not None}))
        if case.kind == "invalid":
            assert found == {case.requirements[0]}, case.id
        else:
            assert found == set(), case.id


def test_same_seed_same_requests_byte_for_byte():
    first = json.dumps([c.to_json() for c in build_plan(PROFILE, seed=42)]).encode()
    again = json.dumps([c.to_json() for c in build_plan(PROFILE, seed=42)]).encode()
    other = json.dumps([c.to_json() for c in build_plan(PROFILE, seed=43)]).encode()
    assert first == again
    assert first != other


def test_billable_cases_come_last_and_are_cheap():
    plan = build_plan(PROFILE, seed=0)
    kinds = [c.kind for c in plan]
    assert all(c.kind == "valid" for c in plan[kinds.index("valid"):])
    assert all(c.body.get("quality", "low") == "low" for c in plan if c.billable and c.origin != "drawn")


@pytest.mark.parametrize("name", sorted(builtin_profiles()))
def test_every_invalid_case_of_a_parameter_rule_keeps_every_condition(name):
    """Each invalid case breaks exactly one rule: its parameter's value, never a condition besides (a negative
    output_compression still comes with the jpeg its condition needs)."""
    profile = load_profile(name)
    conditions = {rule.requirement.id for _, rule in profile.rules() if rule.kind == "condition"}
    for case in build_plan(profile):
        target = profile.model_endpoint(case.endpoint, case.model)
        if case.kind != "invalid" or target is None or case.requirements[0] in conditions:
            continue
        broken = set(case.params)
        for rule in target.conditions:
            if not broken & set(rule.value.then):
                assert target.keeps(rule.value, case.body), (case.id, rule.requirement.id)
