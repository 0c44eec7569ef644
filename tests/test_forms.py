"""multipart/form-data <-> JSON body: what the client sends is what the reference router validates."""

from __future__ import annotations

from harness import load_profile
from harness.transport.forms import body_from_form, decode_data_uri, form_parts
from harness.derive.strategies import input_image_data_uri

OPENAI = load_profile("openai")
EDIT = OPENAI.model_endpoint("edits", "gpt-image-1")


def _received(data, files):
    """The parts as a server reads them: text fields, and files as (bytes, media type)."""
    return list(data) + [(name, (raw, media)) for name, (_filename, raw, media) in files]


def test_round_trip_keeps_types_and_images():
    image = input_image_data_uri()
    body = {"model": "gpt-image-1", "prompt": "a star", "n": 2, "image": [image, image], "output_compression": 80}
    data, files = form_parts(EDIT, body)
    assert [name for name, _ in files] == ["image[]", "image[]"]
    assert ("n", "2") in data
    assert body_from_form(EDIT, _received(data, files)) == body


def test_a_single_image_is_one_field_and_text_that_is_not_a_number_stays_text():
    image = input_image_data_uri()
    data, files = form_parts(EDIT, {"model": "gpt-image-1", "prompt": "p", "image": image, "n": "two"})
    assert [name for name, _ in files] == ["image"]
    back = body_from_form(EDIT, _received(data, files))
    assert back["image"] == image and back["n"] == "two"  # the schema then reports the type error


def test_decode_data_uri_rejects_what_is_not_one():
    raw, media = decode_data_uri(input_image_data_uri())
    assert raw.startswith(b"\x89PNG") and media == "image/png"
    assert decode_data_uri("https://example.com/a.png") is None
    assert decode_data_uri("data:image/png;base64,@@@") is None


def test_an_array_field_name_is_a_list_even_with_one_part():
    back = body_from_form(EDIT, [("model", "gpt-image-1"), ("image[]", (b"png", "image/png"))])
    assert isinstance(back["image"], list) and len(back["image"]) == 1
