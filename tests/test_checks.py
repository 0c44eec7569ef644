"""Each registered check, judged on recorded exchanges: a faithful answer passes, one broken answer fails it.

The faithful 200 bodies are what the reference router answers for the case
(``reference._images.generate``); each test breaks one thing in it by hand,
so a check is exercised directly, without a server or a subprocess.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from harness import build_plan, catalogue, load_profile
from harness.checks import CHECKS, Check, check_case
from harness.reference._images import generate, render_image
from harness.spec import Case
from harness.transport.client import Exchange

WORLD = load_profile("worldrouter")
GATEWAY = load_profile("opengateway")
PLANS = {p.name: build_plan(p) for p in (WORLD, GATEWAY)}


def case(profile_name: str, case_id: str) -> Case:
    return next(c for c in PLANS[profile_name] if c.id == case_id)


def faithful(profile, case: Case) -> dict[str, Any]:
    target = profile.model_endpoint(case.endpoint, case.model)
    return generate(target, case.body, store=lambda raw, fmt: "unused")


def answer(body: Any = None, *, status: int = 200, content_type: str = "application/json", raw: bytes | None = None,
           error: str | None = None, request_headers: dict[str, str] | None = None) -> Exchange:
    content = raw if raw is not None else json.dumps(body).encode()
    return Exchange("POST", "http://127.0.0.1:1/v1/images/generations", request_headers or {}, {}, status=status,
                    headers={"content-type": content_type}, content=content if error is None else b"",
                    sent_at=time.time(), error=error, )


def judged(profile, case: Case, exchange: Exchange) -> dict[str, list[tuple[bool, str]]]:
    """requirement id -> [(passed, message)] of every result for this exchange."""
    out: dict[str, list[tuple[bool, str]]] = {}
    for result in check_case(profile, case, exchange).results:
        out.setdefault(result.requirement, []).append((result.passed, result.message))
    return out


def failed(results: dict[str, list[tuple[bool, str]]]) -> set[str]:
    return {rid for rid, outcomes in results.items() if not all(ok for ok, _ in outcomes)}


def b64_image(width: int, height: int, fmt: str = "png", **kw: Any) -> str:
    return base64.b64encode(render_image(width, height, fmt, **kw)).decode()


REQUIRED_ONLY = "gen.accepts-valid[gpt-image-2 required fields only]"
JPEG = "gen.image.format[gpt-image-2 output_format=jpeg]"
N2 = "gen.data.count[gpt-image-2 n=2]"
ON_LIMIT = "gen.gpt-image-2.size.max-ratio[480x1440 on the limit]"
GROK_RATIO = "gen.image.dimensions[grok-imagine-image aspect_ratio=16:9]"
TOO_SMALL = "gen.gpt-image-2.size.multiple-of-16[1024x1032]"
MISSING_KEY = "auth.required[missing key]"
WRONG_KEY = "auth.wrong-key[wrong key]"


# ------------------------------------------------------------------ valid requests


def test_a_faithful_answer_passes_every_check_of_its_case():
    for case_id in (REQUIRED_ONLY, JPEG, N2, ON_LIMIT, GROK_RATIO):
        c = case("worldrouter", case_id)
        results = judged(WORLD, c, answer(faithful(WORLD, c)))
        assert failed(results) == set(), (case_id, results)
        assert set(c.requirements) <= set(results)  # every requirement the case exists for was judged


def test_served_fails_on_server_error_and_on_transport_failure():
    c = case("worldrouter", ON_LIMIT)
    results = judged(WORLD, c, answer({"error": {"message": "boom"}}, status=500))
    assert failed(results) == {ON_LIMIT.split("[")[0], "gen.accepts-valid"}
    assert "valid request not served: HTTP 500" in results["gen.accepts-valid"][0][1]
    results = judged(WORLD, c, answer(error="timed out (ReadTimeout) after 5.0 s"))
    assert results["gen.accepts-valid"] == [(False, "valid request not served: timed out (ReadTimeout) after 5.0 s")]
    assert "gen.response.schema" not in results  # nothing arrived to judge


def test_content_type_must_be_json():
    c = case("worldrouter", REQUIRED_ONLY)
    results = judged(WORLD, c, answer(faithful(WORLD, c), content_type="text/plain"))
    assert failed(results) == {"gen.content-type"}


def test_response_schema_fails_on_a_missing_field_and_on_a_body_that_is_not_json():
    c = case("worldrouter", REQUIRED_ONLY)
    body = faithful(WORLD, c)
    del body["created"]
    assert failed(judged(WORLD, c, answer(body))) == {"gen.response.schema"}
    results = judged(WORLD, c, answer(raw=b'{"created": 17, "data": [{"b64_json": "iVBOR'))
    assert failed(results) == {"gen.response.schema"}
    assert results["gen.response.schema"][0][1].startswith("body is not JSON")


def test_image_decodes_fails_on_base64_that_is_no_image():
    c = case("worldrouter", REQUIRED_ONLY)
    body = faithful(WORLD, c)
    body["data"][0]["b64_json"] = base64.b64encode(b"this is not an image").decode()
    results = judged(WORLD, c, answer(body))
    assert failed(results) == {"gen.image.decodes"}
    assert "Pillow cannot decode" in results["gen.image.decodes"][0][1]


def test_data_count_fails_when_fewer_images_than_n():
    c = case("worldrouter", N2)
    body = faithful(WORLD, c)
    body["data"] = body["data"][:1]
    results = judged(WORLD, c, answer(body))
    assert failed(results) == {"gen.data.count"} and results["gen.data.count"][0][1] == "asked n=2, got 1 images"


def test_image_format_fails_on_png_for_jpeg():
    c = case("worldrouter", JPEG)
    body = faithful(WORLD, c)
    body["data"][0]["b64_json"] = b64_image(1024, 1024, "png")
    results = judged(WORLD, c, answer(body))
    assert "gen.image.format" in failed(results)
    assert "asked output_format='jpeg', got PNG" in results["gen.image.format"][0][1]


def test_image_dimensions_fails_on_the_wrong_size_and_the_wrong_aspect_ratio():
    c = case("worldrouter", ON_LIMIT)
    body = faithful(WORLD, c)
    body["data"][0]["b64_json"] = b64_image(1024, 1024)
    results = judged(WORLD, c, answer(body))
    assert "gen.image.dimensions" in failed(results)
    assert "asked 480x1440, got 1024x1024" in results["gen.image.dimensions"][0][1]
    grok = case("worldrouter", GROK_RATIO)
    body = faithful(WORLD, grok)
    body["data"][0]["b64_json"] = b64_image(1024, 1024)  # square for 16:9
    assert failed(judged(WORLD, grok, answer(body))) == {"gen.image.dimensions"}
    body["data"][0]["b64_json"] = b64_image(1024, 577)  # 1.775:1, within 2 % of 16:9
    assert failed(judged(WORLD, grok, answer(body))) == set()


def test_response_echo_is_a_should_on_the_asked_fields():
    c = case("worldrouter", JPEG)
    body = faithful(WORLD, c)
    body["output_format"] = "png"
    results = judged(WORLD, c, answer(body))
    assert failed(results) == {"gen.response.echo"}
    assert (False, "asked output_format='jpeg', response says 'png'") in results["gen.response.echo"]


def test_response_created_fails_in_milliseconds_where_seconds_are_documented():
    c = case("worldrouter", REQUIRED_ONLY)
    body = faithful(WORLD, c)
    body["created"] = int(time.time() * 1000)
    results = judged(WORLD, c, answer(body))
    assert failed(results) == {"gen.response.created"} and "read in seconds" in results["gen.response.created"][0][1]


def test_usage_consistent_fails_when_the_total_does_not_add_up():
    c = case("worldrouter", REQUIRED_ONLY)
    body = faithful(WORLD, c)
    body["usage"]["total_tokens"] += 1
    assert failed(judged(WORLD, c, answer(body))) == {"gen.usage.consistent"}
    body = faithful(WORLD, c)
    body["usage"]["output_tokens_details"]["image_tokens"] += 5  # details exceed their total
    assert failed(judged(WORLD, c, answer(body))) == {"gen.usage.consistent"}


def test_image_transparent_fails_on_an_opaque_image():
    c = next(c for c in PLANS["opengateway"] if c.requirements[0] == "gen.image.transparent")
    body = faithful(GATEWAY, c)
    assert failed(judged(GATEWAY, c, answer(body))) == set()
    width, height = (int(x) for x in (c.body.get("size") or "1024x1024").split("x"))
    body["data"][0]["b64_json"] = b64_image(width, height, c.body.get("output_format", "png"))
    assert failed(judged(GATEWAY, c, answer(body))) == {"gen.image.transparent"}


# ------------------------------------------------------------------ invalid requests


def _error(message: str = "bad size", param: str | None = "size") -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": None}}


def test_rejected_passes_a_documented_400_and_fails_200_500_and_401():
    c = case("worldrouter", TOO_SMALL)
    rid = "gen.gpt-image-2.size.multiple-of-16"
    assert failed(judged(WORLD, c, answer(_error(), status=400))) == set()
    results = judged(WORLD, c, answer(faithful(WORLD, c)))
    assert results[rid] == [(False, "accepted (HTTP 200) a request that breaks this rule")]
    results = judged(WORLD, c, answer(_error(), status=500))
    assert results[rid] == [(False, "answered HTTP 500 (server error) instead of rejecting with a 4xx")]
    assert "error.shape" not in results  # a 500 is no rejection, so its body is not judged as one
    results = judged(WORLD, c, answer(_error(), status=401))
    assert results[rid] == [(False, "answered HTTP 401, which is not a rejection of invalid input")]


@pytest.mark.parametrize("status", [404, 405])
def test_rejected_never_counts_a_404_or_405(status):
    """A 404 is a route or resource not found: the rule was never judged, so it cannot pass."""
    c = case("worldrouter", TOO_SMALL)
    results = judged(WORLD, c, answer(_error(), status=status))
    assert results["gen.gpt-image-2.size.multiple-of-16"] == [
        (False, f"answered HTTP {status} (no such route or resource), which is not a rejection of invalid input")]
    assert "error.shape" not in results


def test_error_checks_each_fail_alone():
    c = case("worldrouter", TOO_SMALL)
    assert failed(judged(WORLD, c, answer(_error(), status=422))) == {"error.status"}
    assert failed(judged(WORLD, c, answer({"message": "bad size"}, status=400))) == {"error.shape"}
    assert failed(judged(WORLD, c, answer({**_error(), "data": [{"b64_json": b64_image(8, 8)}]}, status=400))) == \
        {"error.no-image"}
    results = judged(WORLD, c, answer(_error(param="prompt"), status=400))
    assert failed(results) == {"error.param"}
    assert results["error.param"][0][1] == "error.param is 'prompt'; the request got size wrong"


def test_error_param_is_not_judged_when_the_error_shape_is_wrong():
    c = case("worldrouter", TOO_SMALL)
    results = judged(WORLD, c, answer({"message": "bad", "param": "prompt"}, status=400))
    assert "error.param" not in results and failed(results) == {"error.shape"}


# ------------------------------------------------------------------ auth


def test_refused_and_the_auth_checks():
    missing = case("worldrouter", MISSING_KEY)
    unauthorized = _error("Incorrect API key provided.", param=None)
    assert failed(judged(WORLD, missing, answer(unauthorized, status=401))) == set()
    assert failed(judged(WORLD, missing, answer(unauthorized, status=403))) == {"auth.status-401"}
    results = judged(WORLD, missing, answer(faithful(WORLD, missing)))
    assert results["auth.required"] == [(False, "answered HTTP 200 to a request with a missing key")]
    wrong = case("worldrouter", WRONG_KEY)
    sent = {"Authorization": "Bearer sk-conformance-wrong-key-0000"}
    echoed = _error("Incorrect API key provided: Bearer sk-conformance-wrong-key-0000.", param=None)
    assert failed(judged(WORLD, wrong, answer(echoed, status=401, request_headers=sent))) == {"auth.no-key-echo"}


# ------------------------------------------------------------------ the registry


def test_a_check_that_raises_fails_the_case_requirement_and_the_others_still_run(monkeypatch):
    def explodes(ctx):
        raise RuntimeError("unforeseen")
        yield  # pragma: no cover

    monkeypatch.setattr("harness.checks.CHECKS", [Check("explodes", frozenset({"valid"}), explodes, None), *CHECKS])
    c = case("worldrouter", REQUIRED_ONLY)
    results = judged(WORLD, c, answer(faithful(WORLD, c)))
    assert results["gen.accepts-valid"][0] == (False, "the harness could not judge this answer (explodes): "
                                                      "RuntimeError('unforeseen')")
    assert results["gen.response.schema"] == [(True, "")] and "gen.image.decodes" in results


@pytest.mark.parametrize("registered", CHECKS, ids=lambda c: c.name)
def test_every_check_is_exercised_here(registered):
    """A new check without a unit test here fails this: each name must appear in a test of this module."""
    with open(__file__, encoding="utf-8") as source:
        text = source.read()
    behaviour = registered.behaviour
    mentioned = registered.name in text or (behaviour is not None and behaviour.id.slug in text)
    assert mentioned, f"check {registered.name!r} has no unit test in tests/test_checks.py"


# ------------------------------------------------------------------ the JSON text (RFC 8259)


def _text(c: Case) -> str:
    return json.dumps(faithful(WORLD, c))


@pytest.mark.parametrize("raw, requirement", [
    pytest.param(lambda t: b"\xef\xbb\xbf" + t.encode(), "json.strict", id="byte-order-mark"),
    pytest.param(lambda t: t.replace('"created": ', '"x": NaN, "created": ', 1).encode(), "json.strict", id="NaN"),
    pytest.param(lambda t: t.replace('"created": ', '"created": "now", "created": ', 1).encode(),
                 "json.interoperable", id="duplicate-name"),
    pytest.param(lambda t: t.replace('"created": ', '"x": 1e999, "created": ', 1).encode(),
                 "json.interoperable", id="number-beyond-a-double"),
])
def test_json_only_a_lenient_parser_reads_fails_its_rfc_8259_requirement(raw, requirement):
    c = case("worldrouter", REQUIRED_ONLY)
    results = judged(WORLD, c, answer(raw=raw(_text(c))))
    assert failed(results) == {requirement}, results.get(requirement)
    assert json.dumps(results, allow_nan=False)  # the judged values stay finite
    clean = judged(WORLD, c, answer(raw=_text(c).encode()))
    assert clean["json.strict"] == [(True, "")] and clean["json.interoperable"] == [(True, "")]


def test_an_image_declaring_more_pixels_than_the_request_can_need_is_not_decoded():
    c = case("worldrouter", REQUIRED_ONLY)
    body = faithful(WORLD, c)
    body["data"][0]["b64_json"] = b64_image(4200, 4200)  # 17.6 M pixels; the largest documented size is 8.3 M
    results = judged(WORLD, c, answer(body))
    assert not results["gen.image.decodes"][0][0]
    assert "declares 4200x4200 pixels" in results["gen.image.decodes"][0][1]


def test_only_the_images_asked_for_are_decoded():
    c = case("worldrouter", N2)
    body = faithful(WORLD, c)
    body["data"] += [{"b64_json": "not an image"}] * 50
    results = judged(WORLD, c, answer(body))
    assert len(results["gen.image.decodes"]) == 2 and all(ok for ok, _ in results["gen.image.decodes"])
    assert failed(results) == {"gen.data.count"}


# ------------------------------------------------------------------ streams (kind "stream")

OPENAI = load_profile("openai")
STREAM_PLAN = build_plan(OPENAI, models=("gpt-image-1",))
STREAM_3 = "gen.stream.served[gpt-image-1 partial_images=3]"


def _stream_answer(c: Case, edit=None, *, content_type: str = "text/event-stream", cut: bool = False) -> Exchange:
    from harness.reference._stream import stream_events
    from harness.transport.client import StreamEvent

    target = OPENAI.model_endpoint(c.endpoint, c.model)
    events = stream_events(target, c.body, faithful(OPENAI, c))
    if edit is not None:
        events = edit(events)
    exchange = answer(raw=b"", content_type=content_type)
    exchange.events = [StreamEvent(name, json.dumps(data), "", 0.01 * i, len(json.dumps(data)))
                       for i, (name, data) in enumerate(events)]
    exchange.stream_cut = cut
    return exchange


def _stream_case(case_id: str = STREAM_3) -> Case:
    return next(c for c in STREAM_PLAN if c.id == case_id)


def test_a_faithful_stream_passes_every_stream_check():
    c = _stream_case()
    results = judged(OPENAI, c, _stream_answer(c))
    assert failed(results) == set(), results
    assert {"gen.stream.served", "gen.stream.events", "gen.stream.order", "gen.stream.images",
            "gen.stream.usage"} <= set(results)


def test_stream_served_fails_a_plain_json_answer_or_an_error():
    c = _stream_case()
    plain = judged(OPENAI, c, answer(faithful(OPENAI, c)))
    assert failed(plain) == {"gen.stream.served"} and "the stream was ignored" in plain["gen.stream.served"][0][1]
    broken = judged(OPENAI, c, answer({"error": {"message": "x"}}, status=500))
    assert "not served: HTTP 500" in broken["gen.stream.served"][0][1]


@pytest.mark.parametrize("edit, requirement, words", [
    pytest.param(lambda ev: [(n, {**d, "type": "image_generation.partial"}) for n, d in ev], "gen.stream.events",
                 "is none of", id="unknown-type"),
    pytest.param(lambda ev: [("image_generation.completed", d) for _, d in ev], "gen.stream.events",
                 "named 'image_generation.completed' but its type is", id="event-name-differs-from-type"),
    pytest.param(lambda ev: [*ev[:-1], (ev[-1][0], {k: v for k, v in ev[-1][1].items() if k != "usage"})],
                 "gen.stream.events", "'usage' is a required property", id="completed-without-usage"),
    pytest.param(lambda ev: ev[:-1], "gen.stream.order", "no image_generation.completed", id="no-completed"),
    pytest.param(lambda ev: [*ev, ev[-1]], "gen.stream.order", "2 image_generation.completed events", id="two-completed"),
    pytest.param(lambda ev: [ev[-1], *ev[:-1]], "gen.stream.order", "events after", id="completed-first"),
    pytest.param(lambda ev: [ev[1], ev[0], *ev[2:]], "gen.stream.order", "ran [1, 0, 2]", id="out-of-order"),
    pytest.param(lambda ev: [ev[0], *ev], "gen.stream.order", "4 partial events; partial_images=3", id="too-many"),
    pytest.param(lambda ev: [(n, {**d, "b64_json": "bm90IGFuIGltYWdl"}) for n, d in ev], "gen.stream.images",
                 "cannot decode", id="undecodable"),
    pytest.param(lambda ev: [*ev[:-1], (ev[-1][0], {**ev[-1][1], "usage": {**ev[-1][1]["usage"], "total_tokens": 1}})],
                 "gen.stream.usage", "total_tokens=1", id="usage-off"),
])
def test_each_stream_check_fails_the_one_thing_it_judges(edit, requirement, words):
    c = _stream_case()
    results = judged(OPENAI, c, _stream_answer(c, edit))
    assert requirement in failed(results), results
    assert any(words in message for ok, message in results[requirement] if not ok), results[requirement]


def test_a_stream_cut_mid_event_fails_the_order():
    c = _stream_case()
    results = judged(OPENAI, c, _stream_answer(c, cut=True))
    assert failed(results) == {"gen.stream.order"}
    assert "the stream ended in the middle of an event" in results["gen.stream.order"][0][1]


# ------------------------------------------------------------------ answers that are not the router's


NGINX_413 = (b"<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n"
             b"<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n"
             b"</body>\r\n</html>\r\n")


def test_a_413_from_a_proxy_names_the_request_size_and_the_intermediary():
    c = case("worldrouter", REQUIRED_ONLY)
    exchange = answer(raw=NGINX_413, status=413, content_type="text/html")
    exchange.request_bytes = 3_912_345
    message = judged(WORLD, c, exchange)["gen.accepts-valid"][0][1]
    assert "HTTP 413" in message and "3,912,345 bytes" in message and "proxy" in message


def test_an_html_page_is_named_an_intermediarys_answer_with_its_title():
    c = case("worldrouter", REQUIRED_ONLY)
    page = b"<!doctype html><html><head><title>502 Bad  Gateway</title></head><body>oops</body></html>"
    exchange = answer(raw=page, status=502, content_type="text/html; charset=utf-8")
    message = judged(WORLD, c, exchange)["gen.accepts-valid"][0][1]
    assert "HTML page ('502 Bad Gateway')" in message and "intermediary" in message


def test_a_413_page_on_an_invalid_request_fails_error_shape_and_status_naming_the_intermediary():
    c = case("worldrouter", TOO_SMALL)
    exchange = answer(raw=NGINX_413, status=413, content_type="text/html")
    exchange.request_bytes = 4_200_000
    results = judged(WORLD, c, exchange)
    shape, status = results["error.shape"][0], results["error.status"][0]
    assert not shape[0] and "body is not JSON" in shape[1] and "4,200,000 bytes" in shape[1]
    assert not status[0] and "HTTP 413, documented 400" in status[1] and "proxy" in status[1]


def test_an_empty_image_field_is_told_from_an_absent_one():
    c = case("worldrouter", REQUIRED_ONLY)
    body = faithful(WORLD, c)
    body["data"][0]["b64_json"] = ""
    assert judged(WORLD, c, answer(body))["gen.image.decodes"] == [(False, "data[0]: b64_json is empty")]
    del body["data"][0]["b64_json"]
    assert judged(WORLD, c, answer(body))["gen.image.decodes"] == [(False, "data[0]: no b64_json field")]


# ------------------------------------------------------------------ image URLs a client can download (image_url_reachable)

OPENAI = load_profile("openai")
DALLE3 = "gen.accepts-valid[dall-e-3 required fields only]"
ROUTER = "http://127.0.0.1:4000/v1/images/generations"


def _url_answer(url: str, *, download_status: int = 200) -> tuple[Case, Exchange]:
    case = next(c for c in build_plan(OPENAI, models=("dall-e-3",)) if c.id == DALLE3)
    target = OPENAI.model_endpoint(case.endpoint, case.model)
    body = generate(target, case.body, store=lambda raw, fmt: url)
    exchange = Exchange("POST", ROUTER, {}, case.body, status=200, headers={"content-type": "application/json"},
                        content=json.dumps(body).encode(), sent_at=time.time())
    exchange.downloads[url] = Exchange("GET", url, {}, None, status=download_status,
                                       headers={"content-type": "image/png"},
                                       content=render_image(1024, 1024, "png") if download_status == 200 else b"no")
    return case, exchange


def _url_result(url: str, **kw: int) -> tuple[bool, str]:
    case, exchange = _url_answer(url, **kw)
    results = [r for r in check_case(OPENAI, case, exchange).results if r.requirement == "gen.image.url-reachable"]
    assert len(results) == 1, results
    return results[0].passed, results[0].message


@pytest.mark.parametrize("url", ["http://127.0.0.1:4000/v1/_images/a.png", "http://localhost:4000/v1/_images/a.png",
                                 "https://93.184.215.14/a.png"])
def test_an_image_url_on_the_routers_own_origin_or_a_public_address_passes(url):
    assert _url_result(url) == (True, "")


def test_an_image_url_on_another_internal_port_is_the_upstream_handed_around_the_gateway():
    passed, message = _url_result("http://127.0.0.1:8001/v1/_images/a.png")
    assert not passed
    assert "internal address (127.0.0.1)" in message and "127.0.0.1:4000" in message and "--public-url" in message


def test_an_image_url_that_wants_credentials_fails_at_should_and_says_so():
    passed, message = _url_result("http://127.0.0.1:4000/v1/_images/a.png", download_status=401)
    assert not passed and "HTTP 401 to a GET without credentials" in message
    assert catalogue(OPENAI)["gen.image.url-reachable"].level == "SHOULD"
