"""The OpenAPI export says what a run judges: every answer of the faithful router validates against it.

Schemathesis, Prism and client generators read ``conformance openapi``; a faithful answer that the
export rejects is a false failure in every one of those tools, and a request part it mis-describes
(an image as text) makes an endpoint unreachable for them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from starlette.testclient import TestClient

from harness import build_plan, load_profile
from harness.derive.openapi import openapi_document
from harness.reference._app import create_app
from harness.transport.forms import form_parts

OPENAI = load_profile("openai")
DOCUMENT = openapi_document(OPENAI)
KEY = "sk-export-0123"


def _validator(schema: dict[str, Any], document: dict[str, Any] = DOCUMENT) -> Draft202012Validator:
    # "#/components/..." references point into the whole document
    registry = Registry().with_resource("urn:openapi", Resource.from_contents(document, DRAFT202012))
    return Draft202012Validator(json.loads(json.dumps(schema).replace('"#/', '"urn:openapi#/')), registry=registry)


def _operation(endpoint: str) -> dict[str, Any]:
    return DOCUMENT["paths"][OPENAI.endpoints[endpoint].path]["post"]


def test_the_export_is_valid_openapi_3_1_with_a_discriminator_on_model():
    validate_openapi(DOCUMENT)
    for endpoint in OPENAI.endpoints:
        for media in _operation(endpoint)["requestBody"]["content"].values():
            mapping = media["schema"]["discriminator"]["mapping"]
            assert media["schema"]["discriminator"]["propertyName"] == "model"
            assert set(mapping) == {t.model for t in OPENAI.model_endpoints() if t.endpoint == endpoint}


def test_multipart_images_are_file_parts_with_their_content_types():
    media = _operation("edits")["requestBody"]["content"]["multipart/form-data"]
    assert media["encoding"]["image"]["contentType"] == "image/png, image/webp, image/jpeg"
    assert media["encoding"]["mask"]["contentType"] == "image/png"
    gpt = DOCUMENT["components"]["schemas"]["edits.gpt-image-2.multipart-request"]
    assert gpt["properties"]["image"]["items"]["format"] == "binary" and gpt["properties"]["image"]["maxItems"] == 16
    dalle = DOCUMENT["components"]["schemas"]["edits.dall-e-2.multipart-request"]
    assert dalle["properties"]["image"]["format"] == "binary"  # one image: one file part
    # conditions between fields are kept, under an extension (Schemathesis cannot evaluate them over files)
    assert "allOf" not in gpt and gpt["x-conditions"]


def test_every_documented_error_status_has_the_error_schema_and_429_its_retry_after():
    responses = _operation("generations")["responses"]
    assert {"400", "401", "403", "404", "429"} <= set(responses)
    for status in ("400", "401", "403", "404", "429"):
        assert responses[status]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert "Retry-After" in responses["429"]["headers"]
    assert "text/event-stream" in responses["200"]["content"]  # the profile documents streaming


def test_a_documented_size_list_is_an_enum_and_size_arithmetic_stays_an_extension():
    schemas = DOCUMENT["components"]["schemas"]
    assert schemas["generations.dall-e-2.request"]["properties"]["size"]["enum"] == ["256x256", "512x512", "1024x1024"]
    gpt2 = schemas["generations.gpt-image-2.request"]["properties"]["size"]
    assert "enum" not in gpt2 and gpt2["x-size-multiple-of"] == 16


def _send(router: TestClient, profile, case) -> Any:
    path = profile.base_path + profile.endpoints[case.endpoint].path
    headers = {"Authorization": f"Bearer {KEY}"} if case.auth == "valid" else \
        ({"Authorization": "Bearer sk-wrong"} if case.auth == "wrong" else {})
    headers |= {k: v for k, v in case.headers.items() if v is not None and k.lower() != "content-type"}
    if case.encoding == "multipart":
        parts = form_parts(profile.model_endpoint(case.endpoint, case.model), case.body)
        data: dict[str, list[str]] = {}
        for field, text in parts.fields:  # repeated fields as a list (what httpx's data= takes)
            data.setdefault(field, []).append(text)
        return router.post(path, data=data, files=parts.files or None, headers=headers)
    return router.post(path, json=case.body, headers=headers)


@pytest.mark.parametrize("name", ["openai", "worldrouter", "imagerouter", "myrouter", "easyrouter", "opengateway"])
def test_every_answer_of_the_reference_router_to_a_full_plan_validates_against_the_export(name):
    """Walk the profile's whole plan (what ``conformance run`` sends) and judge each answer with the export only."""
    profile = load_profile(name)
    document = openapi_document(profile)
    checked: dict[str, int] = {}
    with TestClient(create_app(profile, api_key=KEY)) as router:
        for case in build_plan(profile):
            if case.skip or case.kind == "stream" or any(v is None for v in case.headers.values()) or \
                    any(k.lower() == "content-type" for k in case.headers):
                continue  # streams and header cases: what they send is not a body the export describes
            answer = _send(router, profile, case)
            responses = document["paths"][profile.endpoints[case.endpoint].path]["post"]["responses"]
            status = str(answer.status_code)
            assert status in responses, (case.id, status, answer.text[:300])  # every status it answers is documented
            schema = responses[status]["content"]["application/json"]["schema"]
            errors = [e.message for e in _validator(schema, document).iter_errors(answer.json())]
            assert errors == [], (case.id, status, errors[:3])
            checked[status] = checked.get(status, 0) + 1
    assert checked.get("200", 0) > 10 and checked.get(str(profile.errors.status), 0) > 10, checked
