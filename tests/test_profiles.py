"""The six built-in profiles: they load, cite their documents word for word, and accept the documents' own examples."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate as validate_openapi

from harness import catalogue, error_schema, load_profile, request_schema, request_violations, response_schema
from harness.transport.forms import body_from_form
from harness.derive.openapi import openapi_document
from harness._resources import builtin_profiles
from harness.derive.schema import header_violations, validator_for

from .conftest import seed_text

PROFILES = {name: load_profile(name) for name in builtin_profiles()}


def _normalized(text: str) -> str:
    """Only the letters and digits of ``text``: a quote may set a scraped table's cells apart (``n | no | ...``)
    and restore spacing and dashes (``1–4``), never change a word or a number."""
    return "".join(c for c in text if c.isalnum())


_seed = seed_text


def test_the_six_profiles_are_built_in():
    assert set(PROFILES) == {"openai", "worldrouter", "imagerouter", "myrouter", "easyrouter", "opengateway"}


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_requirement_has_a_source(name):
    for rid, requirement in catalogue(PROFILES[name]).items():
        assert requirement.source.file and requirement.source.quote.strip(), rid
        assert requirement.level in ("MUST", "SHOULD"), rid


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_seed_quote_is_in_its_seed(name):
    """A quote from a seed document is its words and numbers (spacing and punctuation aside), never a paraphrase."""
    profile = PROFILES[name]
    sources = [r.source for r in catalogue(profile).values()]
    sources += [r.response.source for r in profile.models.values()]
    sources += [h.source for h in profile.headers.values() if h.source]
    seeds = {s.file for s in sources if s.file.endswith(".txt")}  # the seed documents are the .txt sources
    assert seeds or name == "openai"
    for source in sources:
        if source.file in seeds:
            assert _normalized(source.quote) in _normalized(_seed(source.file)), source


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_generated_schema_is_valid_draft_2020_12(name):
    profile = PROFILES[name]
    jsonschema.Draft202012Validator.check_schema(error_schema(profile))
    for op in profile.model_endpoints():
        jsonschema.Draft202012Validator.check_schema(request_schema(profile, op))
        jsonschema.Draft202012Validator.check_schema(response_schema(profile, op))


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_openapi_document_is_valid_openapi_3_1(name):
    document = openapi_document(PROFILES[name])
    validate_openapi(document)
    assert document["openapi"] == "3.1.0"
    for op in PROFILES[name].model_endpoints():
        assert PROFILES[name].endpoints[op.endpoint].path in document["paths"]


# ------------------------------------------------------------------ the seeds' own examples


def _json_after(text: str, marker: str, *, jsonc: bool = False) -> dict[str, Any]:
    """The first JSON object after ``marker`` (``jsonc``: drop ``//`` comments first)."""
    start = text.index("{", text.index(marker))
    depth = 0
    for end, char in enumerate(text[start:], start):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0:
            break
    raw = text[start:end + 1]
    if jsonc:
        raw = re.sub(r"\s//[^\n]*", "", raw)  # a comment, not the // of https://
    return json.loads(raw)


def _curl_bodies(text: str) -> list[dict[str, Any]]:
    return [json.loads(m) for m in re.findall(r"(?:-d|--json) '(\{.*?\})'", text, re.S)]


def _openapi_errors(profile_name: str, endpoint: str, body: dict[str, Any], *, where: str) -> list[str]:
    """``body`` against ``conformance openapi``'s document, as Schemathesis or Prism read it (``x-`` keywords ignored).

    ``where`` is ``request`` (the request body's first media type) or ``200`` (the success response).
    """
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    profile = PROFILES[profile_name]
    document = openapi_document(profile)
    operation = document["paths"][profile.endpoints[endpoint].path]["post"]
    content = operation["requestBody"]["content"] if where == "request" else operation["responses"]["200"]["content"]
    schema = next(iter(content.values()))["schema"]
    # the schema's "#/components/..." references point into the whole document
    registry = Registry().with_resource("urn:openapi", Resource.from_contents(document, DRAFT202012))
    schema = json.loads(json.dumps(schema).replace('"#/', '"urn:openapi#/'))
    validator = Draft202012Validator(schema, registry=registry)
    return [e.message for e in validator.iter_errors(body)]


def _request_ok(profile_name: str, endpoint: str, body: dict[str, Any]) -> None:
    assert request_violations(PROFILES[profile_name], endpoint, body) == {}, body
    assert _openapi_errors(profile_name, endpoint, body, where="request") == [], body


def _response_ok(profile_name: str, model: str, body: dict[str, Any]) -> None:
    op = PROFILES[profile_name].models[model]
    errors = [e.message for e in validator_for(response_schema(PROFILES[profile_name], op)).iter_errors(body)]
    assert errors == []
    assert _openapi_errors(profile_name, "generations", body, where="200") == []


def test_worldrouter_examples():
    text = _seed("000_ff80a2310c358538.txt")
    bodies = _curl_bodies(text)
    assert [b["model"] for b in bodies] == ["gpt-image-2", "grok-imagine-image-quality"]
    for body in bodies:
        _request_ok("worldrouter", "generations", body)
    _response_ok("worldrouter", "gpt-image-2", _json_after(text, "200 OK"))


def test_worldrouter_grok_rules():
    profile = PROFILES["worldrouter"]
    grok = {"model": "grok-imagine-image", "prompt": "a star"}
    assert set(request_violations(profile, "generations", {**grok, "resolution": "2k"})) == {
        "gen.grok-imagine-image.resolution.enum"}
    assert request_violations(profile, "generations", {**grok, "model": "grok-imagine-image-quality", "resolution": "2k"}) == {}
    assert set(request_violations(profile, "generations", {**grok, "aspect_ratio": "4:3"})) == {
        "gen.grok-imagine-image.aspect_ratio.enum"}


def test_imagerouter_json_and_form_data_examples():
    text = _seed("001_62a8523885e1d6e1.txt")
    (body,) = _curl_bodies(text)
    assert body["model"] == "test/test" and body["image"].startswith("https://")
    _request_ok("imagerouter", "generations", body)
    # the Form-Data example, as the multipart parts a router receives
    curl = text[text.index("curl 'https://api.imagerouter.io/v1/openai/images/edits'"):]
    curl = curl[:curl.index("\n\nnote:")].replace("\\\n", " ")
    fields = [a.split("=", 1) for a in shlex.split(curl)[1:] if "=" in a and not a.startswith("http")]
    parts = [(k, (b"\x89PNG fake", "image/webp")) if v.startswith("@") else (k, v) for k, v in fields]
    assert [k for k, _ in parts].count("image[]") == 2
    op = PROFILES["imagerouter"].model_endpoint("edits", "openai/gpt-image-1")
    form_body = body_from_form(op, parts)
    assert isinstance(form_body["image"], list) and len(form_body["image"]) == 2
    _request_ok("imagerouter", "edits", form_body)
    response = _json_after(text, "The OpenAI compatible response", jsonc=True)
    assert response["created"] > 10**12  # milliseconds, as the profile says
    _response_ok("imagerouter", "test/test", response)


def test_imagerouter_defaults_and_limits():
    profile = PROFILES["imagerouter"]
    op = profile.model_endpoint("generations", "test/test")
    assert op.image_fields_for({"model": "test/test"}) == ("url",)
    assert op.image_fields_for({"model": "test/test", "response_format": "b64_ephemeral"}) == ("b64_json",)
    assert op.effective({})["output_format"] == "webp" and op.response.created_unit == "milliseconds"
    assert not op.billable
    too_many = {"model": "test/test", "image": ["data:image/png;base64,AA=="] * 17}
    assert set(request_violations(profile, "edits", too_many)) == {"edit.test/test.image.max-items"}


#: Examples that are placeholders, set aside with the reason; the test proves each really is one.
SET_ASIDE = {
    ("myrouter", "request"): ('"<string>" for model, prompt and size and "n": 123 are type names, not values', "<string>"),
    ("myrouter", "response"): ('"<string>" for b64_json, output_format, quality and size', "<string>"),
    ("easyrouter", "response"): ('"created": 0 and "string" for b64_json and url are type names, not values', '"string"'),
}


def test_myrouter_examples_are_placeholders_and_set_aside():
    text = _seed("002_6a7907fc6f9d001e.txt")
    request = json.loads(re.search(r"--data '\s*(\{.*?\})\s*'", text, re.S).group(1))
    response = _json_after(text, "'\n{")
    for kind, example in (("request", request), ("response", response)):
        reason, marker = SET_ASIDE[("myrouter", kind)]
        assert marker in json.dumps(example), reason
    assert request["n"] == 123  # outside 1~10: a type placeholder, not a value


def test_myrouter_rules():
    profile = PROFILES["myrouter"]
    base = {"model": "gpt-image-1.5", "prompt": "a star"}
    _request_ok("myrouter", "generations", {**base, "size": "1536x1024", "quality": "high", "n": 10})
    assert set(request_violations(profile, "generations", {**base, "size": "2048x2048"})) == {"gen.gpt-image-1.5.size.allowed"}
    assert set(request_violations(profile, "generations", {**base, "n": 11})) == {"gen.gpt-image-1.5.n.maximum"}
    assert set(header_violations(profile, {})) == {"header.content-type.required"}
    assert set(header_violations(profile, {"content-type": "text/plain"})) == {"header.content-type.enum"}
    assert header_violations(profile, {"Content-Type": "application/json; charset=utf-8"}) == {}
    required = response_schema(profile, profile.models["gpt-image-1"])["required"]
    assert required == ["created", "data", "output_format", "quality", "size"]


def test_easyrouter_examples_and_per_model_rules():
    text = _seed("003_1b789a6f7ed5a8c0.txt")
    (body,) = _curl_bodies(text)
    _request_ok("easyrouter", "generations", body)
    reason, marker = SET_ASIDE[("easyrouter", "response")]
    assert marker in json.dumps(_json_after(text, "Response Body")) or marker in text, reason
    profile = PROFILES["easyrouter"]
    long_prompt = "x" * 1001
    assert set(request_violations(profile, "generations", {"model": "dall-e-2", "prompt": long_prompt})) == {
        "gen.dall-e-2.prompt.max-length"}
    assert request_violations(profile, "generations", {"model": "dall-e-3", "prompt": long_prompt}) == {}
    assert set(request_violations(profile, "generations", {"model": "dall-e-3", "prompt": "p", "n": 2})) == {
        "gen.dall-e-3.n.only-1"}
    transparent = {"model": "gpt-image-1", "prompt": "p", "background": "transparent"}
    assert request_violations(profile, "generations", transparent) == {}  # png is the default
    assert set(request_violations(profile, "generations", {**transparent, "output_format": "jpeg"})) == {
        "gen.gpt-image-1.background.transparent-needs-png-or-webp"}


def test_opengateway_examples_and_rules():
    text = _seed("004_96b766ab585f9678.txt")
    (body,) = _curl_bodies(text)
    _request_ok("opengateway", "generations", body)
    response = _json_after(text, "Response\n")
    _response_ok("opengateway", "openai/gpt-image-2", response)
    response["extra"]["routing"]["attempts"][0].pop("region")
    with pytest.raises(AssertionError):
        _response_ok("opengateway", "openai/gpt-image-2", response)
    profile = PROFILES["opengateway"]
    base = {"model": "openai/gpt-image-1-mini", "prompt": "p"}
    assert set(request_violations(profile, "generations", {**base, "stream": True})) == {
        "gen.openai/gpt-image-1-mini.stream.enum"}
    assert set(request_violations(profile, "generations", {**base, "partial_images": 1})) == {
        "gen.openai/gpt-image-1-mini.partial_images.unsupported"}
    assert set(request_violations(profile, "generations", {**base, "output_compression": 50})) == {
        "gen.openai/gpt-image-1-mini.output_compression.needs-jpeg-or-webp"}
    assert request_violations(profile, "generations", {**base, "output_compression": 50, "output_format": "webp",
                                                       "extra": {"fallbacks": ["openai/gpt-image-1.5"]}}) == {}
    # "Use the owner/model format": a bare id breaks the format; an id in the format that is not served is unknown
    assert set(request_violations(profile, "generations", {**base, "model": "gpt-image-2"})) == {"gen.model.format"}
    assert set(request_violations(profile, "generations", {**base, "model": "acme/gpt-image-2"})) == {"gen.model.known"}
    assert set(request_violations(profile, "generations", {"prompt": "p"})) == {"gen.model.required"}
    assert not profile.headers["x-opengateway-user-id"].required


def test_openai_baseline_rules():
    profile = PROFILES["openai"]
    assert set(profile.models) == {"gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5", "gpt-image-2", "dall-e-2", "dall-e-3"}
    assert set(profile.models["dall-e-3"].endpoints) == {"generations"}
    assert profile.endpoints["edits"].encodings == ("multipart",)
    gen = {"model": "gpt-image-1", "prompt": "p"}
    assert set(request_violations(profile, "generations", {**gen, "background": "transparent", "output_format": "jpeg"})) == {
        "gen.gpt-image-1.background.transparent-needs-png-or-webp"}
    assert set(request_violations(profile, "generations", {**gen, "output_compression": 80})) == {
        "gen.gpt-image-1.output_compression.needs-jpeg-or-webp"}
    assert set(request_violations(profile, "generations", {"model": "dall-e-3", "prompt": "p", "n": 2})) == {
        "gen.dall-e-3.n.only-1"}
    assert set(request_violations(profile, "generations", {"model": "gpt-image-2", "prompt": "p", "size": "1000x1000"})) == {
        "gen.gpt-image-2.size.multiple-of-16"}
    # moderation is a generations field; input_fidelity an edits one, and not on gpt-image-1-mini
    assert "moderation" not in profile.model_endpoint("edits", "gpt-image-1").params
    assert "input_fidelity" in profile.model_endpoint("edits", "gpt-image-1").params
    assert "input_fidelity" not in profile.model_endpoint("edits", "gpt-image-1-mini").params
    assert set(request_violations(profile, "edits", {"model": "dall-e-2", "prompt": "p"})) == {"edit.dall-e-2.image.required"}
    # multipart-only: a text field cannot have the wrong type, a number field can ("two" does not parse)
    typed = {rule.param for rule in profile.model_endpoint("edits", "gpt-image-1").rules() if rule.kind == "type"}
    assert "n" in typed and "prompt" not in typed and "image" not in typed
    from harness.transport.forms import body_from_form as decode
    edit = profile.model_endpoint("edits", "gpt-image-1")
    parts = [("model", "gpt-image-1"), ("prompt", "p"), ("image[]", (b"png", "image/png")), ("n", "two")]
    assert set(request_violations(profile, "edits", decode(edit, parts))) == {"edit.gpt-image-1.n.type"}
