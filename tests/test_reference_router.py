"""The reference router answers every request the way the profile says, errors included, in process.

Other tools (Schemathesis, Prism) read our OpenAPI export and send what it allows or forbids; the
reference router is the faithful router they are run against, so every answer it gives must be the
profile's: typed fields checked, routing errors in the error shape, unreadable bodies refused as such.
"""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from harness import load_profile
from harness.reference._app import create_app

KEY = "sk-reference-0123"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(load_profile("openai"), api_key=KEY)) as c:
        yield c


def _error(answer) -> dict:
    assert answer.headers["content-type"].startswith("application/json"), answer.text
    error = answer.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}  # OpenAI's error object
    return error


def test_a_field_the_profile_types_without_a_rule_is_still_type_checked(client):
    body = {"model": "gpt-image-2", "prompt": "a red circle", "user": {}}
    answer = client.post("/v1/images/generations", json=body, headers=AUTH)
    assert answer.status_code == 400
    assert _error(answer)["param"] == "user"
    ok = client.post("/v1/images/generations", json={**body, "user": "conformance-harness"}, headers=AUTH)
    assert ok.status_code == 200


def test_a_method_it_does_not_take_is_405_with_allow_in_the_error_shape(client):
    answer = client.get("/v1/images/generations", headers=AUTH)
    assert answer.status_code == 405 and answer.headers["allow"] == "POST"  # RFC 9110 15.5.6: MUST send Allow
    assert _error(answer)["code"] == "method_not_allowed"


def test_a_path_it_does_not_serve_is_404_in_the_error_shape(client):
    answer = client.post("/v1/images/variations", json={}, headers=AUTH)
    assert answer.status_code == 404 and _error(answer)["code"] == "not_found"


@pytest.mark.parametrize("content_type, body", [
    ("multipart/form-data", b"garbage"),  # no boundary
    ("multipart/form-data; boundary=xx", b"--xx\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--xx--\r\n"),
])
def test_a_multipart_body_it_cannot_read_is_400_in_the_error_shape(client, content_type, body):
    answer = client.post("/v1/images/edits", content=body, headers={**AUTH, "Content-Type": content_type})
    assert answer.status_code == 400
    assert _error(answer)["code"] == "invalid_multipart"


def test_a_body_that_is_not_json_is_400_in_the_error_shape(client):
    answer = client.post("/v1/images/generations", content=b"{bad", headers={**AUTH, "Content-Type": "application/json"})
    assert answer.status_code == 400 and _error(answer)["code"] == "invalid_json"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_a_file_part_sent_without_a_filename_is_still_the_file(client, fmt):
    """Schemathesis sends file parts with a Content-Type and no filename; Starlette hands those over as text.
    The router takes the bytes back (UTF-8, else Latin-1), so the image is served, not refused as text."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 200, 30)).save(out, format=fmt)
    files = {"image": (None, out.getvalue(), f"image/{fmt.lower()}")}
    answer = client.post("/v1/images/edits", data={"model": "gpt-image-2", "prompt": "a green square"},
                         files=files, headers=AUTH)
    assert answer.status_code == 200, answer.text[:300]
    broken = client.post("/v1/images/edits", data={"model": "gpt-image-2", "prompt": "x"},
                         files={"image": (None, b"\x89PNG but not one", "image/png")}, headers=AUTH)
    assert broken.status_code == 400 and _error(broken)["param"] == "image"
