"""The rule-kind registry: a new kind is one declaration, and it reaches every step of the pipeline."""

from __future__ import annotations

import io

import pytest
from hypothesis import strategies as st
from PIL import Image

import harness
from harness import SpecError, build_plan, certify, load_profile, request_schema, request_violations
from harness._resources import specs_dir
from harness.reference import Fault, register_fault, unregister_fault
from harness.report import summary_html
from harness.rules import KINDS, RuleKind, kind, register, unregister
from harness.rules.values import BENIGN_PROMPTS, decode_data_uri
from harness.spec.load import meta_schema

TOY_PROFILE = """\
spec_version: 1
name: toy
extends: worldrouter
source: toy-docs.md
models:
  grok-imagine-image: null
  grok-imagine-image-quality: null
  gpt-image-2:
    params:
      prompt:
        min_length: {value: 12, source: "Prompts have at least 12 characters."}
"""
RID = "gen.gpt-image-2.prompt.min-length"


def _short(param, rule):
    return st.integers(1, rule.value - 1).map(lambda k: BENIGN_PROMPTS[0][:k])


# The whole declaration of a toy kind: name, title, schema keyword, values that break it, the value just past it.
MIN_LENGTH = RuleKind("min_length", "min-length", "`{param}` shorter than {value} characters is rejected",
                      keyword="minLength", invalid=_short,
                      beyond=lambda param, rule: BENIGN_PROMPTS[0][: rule.value - 1])


@pytest.fixture
def toy_kind():
    register(MIN_LENGTH)
    register_fault(Fault("accepts-short-prompts", "serves prompts shorter than the minimum", "prompt.min-length",
                         skip_rule="min_length"))
    try:
        yield MIN_LENGTH
    finally:
        unregister("min_length")
        unregister_fault("accepts-short-prompts")


def test_without_the_kind_the_profile_key_is_an_unknown_rule(tmp_path):
    (tmp_path / "toy.yaml").write_text(TOY_PROFILE)
    with pytest.raises(SpecError, match="unknown rule 'min_length'"):
        load_profile(tmp_path / "toy.yaml")


def test_a_toy_rule_kind_reaches_schema_plan_reference_router_and_report(tmp_path, toy_kind):
    (tmp_path / "toy.yaml").write_text(TOY_PROFILE)
    assert "min_length" in meta_schema()["$defs"]["param"]["properties"]
    profile = load_profile(tmp_path / "toy.yaml")
    target = profile.model_endpoint("generations", "gpt-image-2")

    # schema: the kind's keyword on the parameter
    assert request_schema(profile, target)["properties"]["prompt"]["minLength"] == 12

    # plan: the boundary value one step past the limit, then drawn values, all breaking only this rule
    cases = [c for c in build_plan(profile) if c.requirements[0] == RID]
    assert cases and all(c.kind == "invalid" for c in cases)
    assert cases[0].origin == "boundary" and len(cases[0].body["prompt"]) == 11
    for case in cases:
        assert request_violations(profile, "generations", case.body) == {RID: "prompt"}

    # reference router: it rejects what breaks the rule, as documented, so the run is conformant ...
    result = certify(profile)
    row = next(r for r in result.requirements if r["id"] == RID)
    assert result.verdict == "conformant" and row["status"] == "passed" and row["cases"] == len(cases)
    assert row["title"] == "`prompt` shorter than 12 characters is rejected"
    assert row["source"] == "toy-docs.md: 'Prompts have at least 12 characters.'"

    # ... and a router that lets the rule through fails exactly that requirement
    broken = certify(profile, fault="accepts-short-prompts")
    assert broken.verdict == "non-conformant" and broken.failed() == {RID}

    # report: the requirement row, with its failing case
    page = summary_html(broken.data)
    assert f"<code>{RID}</code>" in page and "shorter than 12 characters" in page


def test_registering_a_taken_key_or_keyword_is_refused():
    with pytest.raises(ValueError, match="already registered"):
        register(RuleKind("enum", "enum", "x", keyword="x-enum-again", invalid=_short))
    with pytest.raises(ValueError, match="already means 'max_length'"):
        register(RuleKind("max_chars", "max-chars", "x", keyword="maxLength", invalid=_short))
    with pytest.raises(ValueError, match="needs an invalid"):
        register(RuleKind("untestable", "untestable", "x", keyword="x-untestable"))
    assert "max_chars" not in KINDS and "untestable" not in KINDS


def test_every_kind_has_what_the_pipeline_needs():
    for key, rule_kind in KINDS.items():
        assert kind(key) is rule_kind
        assert rule_kind.invalid is not None or rule_kind.invalid_body is not None, key
        assert "{param}" in rule_kind.title, key
        if rule_kind.place == "dimensions":  # a size rule is enforced by its own keyword and predicate
            assert rule_kind.check is not None and rule_kind.keyword.startswith("x-size-"), key
    with pytest.raises(KeyError, match="unknown rule kind 'max_edges'"):
        kind("max_edges")


def test_the_public_api_certifies_without_pytest():
    import subprocess
    import sys

    code = ("import sys, harness; r = harness.certify('worldrouter'); "
            "assert 'pytest' not in sys.modules, 'pytest imported'; print(r.verdict)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "conformant"
    assert harness.certify.__doc__ and "RunConfig" in harness.certify.__doc__


@pytest.mark.parametrize(("fault", "why"), [
    ("accepts-sibling-values", "documented for grok-imagine-image-quality"),
    ("accepts-common-values", "a common value of the family"),
    ("case-insensitive-enums", "another spelling"),
])
def test_near_misses_catch_routers_that_accept_likely_wrong_values(fault, why):
    """Nonsense words (gif, maximum) pass such routers; the near misses a router is likely to accept do not."""
    result = certify("worldrouter", fault=fault)
    assert result.verdict == "non-conformant" and result.exit_code == 1
    enum_rows = [r for r in result.requirements if r["status"] == "failed"]
    assert enum_rows and all(r["id"].endswith(".enum") for r in enum_rows)
    failing = [f["case"] for r in enum_rows for f in r["failures"]]
    near = ("documented for", "a common value of the family", "another spelling")
    assert all(any(w in case for w in near) for case in failing), failing  # only near misses catch it
    assert any(why in case for case in failing), failing
    assert "gen.grok-imagine-image.resolution.enum" in result.failed()


def test_near_misses_break_only_their_rule_and_follow_the_seed():
    profile = load_profile("openai")
    for seed in (0, 1):
        near = [c for c in build_plan(profile, seed=seed) if c.origin == "near-miss"]
        assert len(near) >= 30
        for case in near:
            assert request_violations(profile, case.endpoint, case.body) == {case.requirements[0]: case.params[0]}
    same = [c.id for c in build_plan(profile, seed=3) if c.origin == "near-miss"]
    assert same == [c.id for c in build_plan(profile, seed=3) if c.origin == "near-miss"]
    assert same != [c.id for c in build_plan(profile, seed=4) if c.origin == "near-miss"]


def test_a_contested_value_is_sent_once_and_never_decides_a_must_verdict():
    """OpenGateway documents background transparent for every model; OpenAI says gpt-image-2 refuses it."""
    profile = load_profile("opengateway")
    conflict = profile.model_endpoint("generations", "openai/gpt-image-2").params["background"].conflicts["transparent"]
    assert conflict.requirement.level == "SHOULD" and "gpt-image-2" in conflict.contradicted_by.quote
    assert not profile.model_endpoint("generations", "openai/gpt-image-1.5").params["background"].conflicts
    plan = build_plan(profile, seed=0, examples=8)
    sending = [c for c in plan if c.model == "openai/gpt-image-2" and c.kind == "valid"
               and c.body.get("background") == "transparent"]
    assert [c.requirements for c in sending] == [(conflict.requirement.id,)]
    # a gateway that forwards it and relays the upstream refusal: one SHOULD fails, the verdict stands
    result = certify("opengateway", fault="refuses-contested-values")
    assert result.exit_code == 0 and result.verdict == "conformant"
    assert result.failed() == {conflict.requirement.id}


def test_a_conflict_must_name_a_documented_value(tmp_path):
    text = (specs_dir() / "profiles" / "opengateway.yaml").read_text().replace(
        "        conflicts:\n          transparent:", "        conflicts:\n          translucent:", 1)
    (tmp_path / "x.yaml").write_text(text)
    line = text.splitlines().index("          translucent:") + 1
    with pytest.raises(SpecError, match=rf"x.yaml:{line}: .*background.conflicts.translucent: 'translucent' is not a "
                                        r"documented value of 'background'"):
        load_profile(tmp_path / "x.yaml")


def test_an_input_image_pixel_limit_gets_a_case_on_it_and_one_past_it_and_the_reference_router_keeps_it(tmp_path):
    """``max_input_pixels`` is a standard kind: a profile that documents one gets both cases without code."""
    text = (specs_dir() / "profiles" / "openai.yaml").read_text()
    marker = "        max_bytes: {value: 4194304, level: SHOULD, source: *dalle-image-source}\n"
    assert marker in text
    text = text.replace(marker, marker + "        max_input_pixels: {value: 262144, source: {file: toy-docs.md, "
                                         "quote: \"Input images have at most 262,144 pixels.\"}}\n", 1)
    (tmp_path / "px.yaml").write_text(text)
    profile = load_profile(tmp_path / "px.yaml")
    rid = "edit.dall-e-2.image.max-input-pixels"
    cases = [c for c in build_plan(profile, models=("dall-e-2",)) if c.requirements[0] == rid]
    assert {c.kind for c in cases} == {"valid", "invalid"}
    for case in cases:
        violations = request_violations(profile, "edits", case.body)
        assert violations == ({rid: "image"} if case.kind == "invalid" else {}), case.id
    sides = {c.kind: Image.open(io.BytesIO(decode_data_uri(c.body["image"])[0])).size for c in cases}
    assert sides == {"valid": (512, 512), "invalid": (513, 513)}  # on the limit, and one pixel row past it
    result = certify(profile, models=("dall-e-2",))
    row = next(r for r in result.requirements if r["id"] == rid)
    assert row["status"] == "passed" and row["cases"] == len(cases) and result.verdict == "conformant"
    assert row["title"] == "an input `image` image of more than 262,144 pixels is rejected"
