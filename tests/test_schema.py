"""Generated JSON Schemas: valid Draft 2020-12, and the seed's own examples validate."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

from harness import error_schema, request_schema, request_violations, response_schema
from harness.derive.schema import validator_for

from .conftest import seed_text

MODEL = {"model": "gpt-image-2", "prompt": "a red circle"}


def test_every_schema_is_valid_draft_2020_12(worldrouter):
    model = worldrouter.models["gpt-image-2"]
    op = model.endpoints["generations"]
    for schema in (request_schema(worldrouter, op), response_schema(worldrouter, model), error_schema(worldrouter)):
        jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize(("size", "broken"), [
    ("1000x1000", {"gen.gpt-image-2.size.multiple-of-16"}),
    ("3856x1296", {"gen.gpt-image-2.size.max-edge"}),
    ("2704x896", {"gen.gpt-image-2.size.max-ratio"}),
    ("800x800", {"gen.gpt-image-2.size.min-pixels"}),
    ("3840x2176", {"gen.gpt-image-2.size.max-pixels"}),
    ("1024*1024", {"gen.gpt-image-2.size.format"}),
    ("3840x2160", set()),   # exactly 8,294,400 pixels and the 3840 edge
    ("1024x640", set()),    # exactly 655,360 pixels
    ("2688x896", set()),    # exactly 3:1
    ("auto", set()),
])
def test_size_rules_from_the_seed(worldrouter, size, broken):
    assert set(request_violations(worldrouter, "generations", {**MODEL, "size": size})) == broken


def _seed_text() -> str:
    return seed_text("000_ff80a2310c358538.txt")


def test_seed_curl_request_example_is_valid(worldrouter):
    body = json.loads(re.search(r"-d '(\{.*?\})'", _seed_text(), re.S).group(1))
    assert body["model"] == "gpt-image-2"
    assert request_violations(worldrouter, "generations", body) == {}


def test_seed_popular_sizes_are_valid(worldrouter):
    # table rows read "2048x20482K square": the size is glued to its aspect label
    rows = re.findall(r"^(\d+)x(\d+?)(?:Square|Landscape|Portrait|[24]K )", _seed_text(), re.M)
    popular = [f"{w}x{h}" for w, h in rows]
    assert popular == ["1024x1024", "1536x1024", "1024x1536", "2048x2048", "2048x1152", "3840x2160", "2160x3840"]
    for size in popular:
        assert request_violations(worldrouter, "generations", {**MODEL, "size": size}) == {}, size


def test_seed_200_response_example_validates(worldrouter):
    text = _seed_text()
    start = text.index("200 OK\n") + len("200 OK\n")
    example = json.loads(text[start:text.index("\n\nIn the Python")])
    schema = response_schema(worldrouter, worldrouter.models["gpt-image-2"])
    assert list(validator_for(schema).iter_errors(example)) == []
    example.pop("created")
    assert list(validator_for(schema).iter_errors(example))
