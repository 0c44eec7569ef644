"""The official ``openai`` SDK as a real client of the reference router, for every profile.

If the router answers in a shape the SDK cannot parse, every application
built on it breaks, whatever our own schemas say. Each operation is called
with the SDK (``images.generate`` / ``images.edit``, ``base_url`` at the
reference router on loopback); fields the SDK does not name go in
``extra_body`` as a user would send them (Grok's ``aspect_ratio``).
"""

from __future__ import annotations

import base64
import inspect
import io
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from PIL import Image

from harness.transport.forms import decode_data_uri
from harness._resources import builtin_profiles
from harness.spec import ModelEndpoint, Profile, load_profile
from harness.derive.strategies import cheapest_body, input_image_data_uri
from harness.reference import running_router



KEY = "sk-sdk-test"
PROFILES = sorted(builtin_profiles())


@pytest.fixture(scope="module", params=PROFILES)
def served(request: pytest.FixtureRequest) -> Iterator[tuple[Profile, Any]]:
    """``(profile, openai.OpenAI client)`` with ``base_url`` at a reference router serving the profile."""
    profile = load_profile(request.param)
    headers = {h.name: h.example for h in profile.headers.values() if h.example and h.name.lower() != "content-type"}
    with running_router(profile, api_key=KEY) as url:
        with openai.OpenAI(base_url=url, api_key=KEY, max_retries=0, timeout=30, default_headers=headers) as client:
            yield profile, client


def _as_file(value: str, index: int) -> tuple[str, bytes, str]:
    raw, media = decode_data_uri(value)  # type: ignore[misc]
    return f"input-{index}.png", raw, media


def _sdk_call(client: Any, op: ModelEndpoint) -> tuple[Any, dict[str, Any]]:
    """Call the SDK method for ``op`` with its cheapest valid body; returns ``(answer, body)``."""
    body = cheapest_body(op)
    method = client.images.generate if op.endpoint == "generations" else client.images.edit
    if op.endpoint == "edits":
        body.setdefault("image", input_image_data_uri())
    named = set(inspect.signature(method).parameters)
    kwargs: dict[str, Any] = {k: v for k, v in body.items() if k in named}
    extra = {k: v for k, v in body.items() if k not in named}
    if "image" in kwargs:
        images = kwargs["image"] if isinstance(kwargs["image"], list) else [kwargs["image"]]
        files = [_as_file(v, i) for i, v in enumerate(images)]
        kwargs["image"] = files if isinstance(kwargs["image"], list) else files[0]
    return method(**kwargs, extra_body=extra or None), body


def _decode(item: Any) -> Image.Image:
    if item.b64_json:
        return Image.open(io.BytesIO(base64.b64decode(item.b64_json)))
    assert item.url, "the SDK parsed neither b64_json nor url"
    return Image.open(io.BytesIO(httpx.get(item.url, timeout=10).content))


def test_the_sdk_parses_every_operation_answer(served):
    profile, client = served
    for op in profile.model_endpoints():
        answer, body = _sdk_call(client, op)
        assert isinstance(answer, openai.types.ImagesResponse), op.name
        assert isinstance(answer.created, int) and answer.created > 0
        assert len(answer.data) == body.get("n", 1), op.name
        for item in answer.data:
            image = _decode(item)
            image.load()
            if isinstance(body.get("size"), str) and "x" in body["size"]:
                assert f"{image.width}x{image.height}" == body["size"], op.name
        if answer.usage is not None:
            assert answer.usage.total_tokens == answer.usage.input_tokens + answer.usage.output_tokens


def test_the_sdk_raises_its_typed_errors_from_our_error_answers(served):
    profile, client = served
    op = next(iter(profile.model_endpoints()))
    bad = {**cheapest_body(op), "model": "no-such-image-model"}
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(**{k: v for k, v in bad.items() if k in ("model", "prompt")},
                               extra_body={k: v for k, v in bad.items() if k not in ("model", "prompt")} or None)
    assert caught.value.status_code == profile.errors.status
    assert caught.value.param == "model" and caught.value.code
    with openai.OpenAI(base_url=str(client.base_url), api_key="sk-wrong", max_retries=0,
                       default_headers=dict(client.default_headers)) as wrong:
        with pytest.raises(openai.AuthenticationError) as denied:
            wrong.images.generate(model=op.model, prompt="a red circle")
    assert KEY not in str(denied.value) and "sk-wrong" not in str(denied.value.body)


@pytest.mark.parametrize("partials", [0, 2])
def test_the_sdk_consumes_the_reference_routers_stream_on_both_endpoints(partials):
    """``stream=True, partial_images=k``: k partial events (indexes 0..k-1), then one completed event whose
    image decodes at the asked size and format, with usage that adds up (ImageGenStreamEvent, ImageEditStreamEvent)."""
    profile = load_profile("openai")
    with running_router(profile, api_key=KEY) as url:
        with openai.OpenAI(base_url=url, api_key=KEY, max_retries=0, timeout=30) as client:
            for op in (op for op in profile.model_endpoints() if op.stream is not None):
                body = {**cheapest_body(op), "stream": True, "partial_images": partials, "size": "1024x1536"}
                body.pop("n", None)
                if op.endpoint == "edits":
                    stream = client.images.edit(image=_as_file(input_image_data_uri(), 0),
                                                **{k: v for k, v in body.items() if k != "image"})
                else:
                    stream = client.images.generate(**body)
                events = list(stream)
                kinds = [type(e).__name__ for e in events]
                prefix = "ImageGen" if op.endpoint == "generations" else "ImageEdit"
                assert kinds == [f"{prefix}PartialImageEvent"] * partials + [f"{prefix}CompletedEvent"], (op.name, kinds)
                assert [e.partial_image_index for e in events[:-1]] == list(range(partials))
                for event in events:
                    image = Image.open(io.BytesIO(base64.b64decode(event.b64_json)))
                    assert image.size == (1024, 1536) and image.format == "PNG", op.name
                usage = events[-1].usage
                assert usage.total_tokens == usage.input_tokens + usage.output_tokens
