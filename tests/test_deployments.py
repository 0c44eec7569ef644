"""What real deployments break and the harness must name: realistic uploads, image URLs behind a gateway,
and many failures that are one answer.

A proxy in front of a router refuses bodies over its limit (nginx: 1 MB), rewrites the ``Host`` the
upstream builds image URLs from, or mangles uploads; each test here proves the harness sends what
finds it, or says what it found in words that point at the cause.
"""

from __future__ import annotations

import gzip
import io

from PIL import Image

from harness import build_plan, certify, load_profile
from harness._diagnosis import answer_of, shared_answers
from harness.derive.schema import request_violations
from harness.plan import LARGE_UPLOAD
from harness.rules.values import decode_data_uri, incompressible_png_data_uri, upload_bytes

from .conftest import load_results, run_cli

OPENAI = load_profile("openai")
LIMIT = 4 * 1024 * 1024  # dall-e-2's "less than 4MB", the smallest input-image limit openai.yaml documents


# ------------------------------------------------------------------ input images of a realistic size


def test_the_incompressible_png_is_close_under_its_limit_real_and_seeded():
    uri = incompressible_png_data_uri(LIMIT * 15 // 16, seed=3)
    raw, media = decode_data_uri(uri)
    assert media == "image/png" and LIMIT * 15 // 16 * 0.99 < len(raw) <= LIMIT * 15 // 16
    assert upload_bytes(uri) == len(raw) and upload_bytes({"image": [uri, uri]}) == 2 * len(raw)
    with Image.open(io.BytesIO(raw)) as image:
        assert image.format == "PNG" and image.width == image.height  # dall-e-2 asks for a square png
    assert len(gzip.compress(raw)) > 0.99 * len(raw)  # no proxy's gzip makes the upload smaller
    assert incompressible_png_data_uri(LIMIT * 15 // 16, seed=3) == uri
    assert incompressible_png_data_uri(LIMIT * 15 // 16, seed=4) != uri


def test_every_edit_model_with_a_documented_file_limit_gets_one_upload_close_under_the_smallest_limit():
    plan = build_plan(OPENAI)
    uploads = {c.model: c for c in plan if c.kind == "valid" and not c.skip and c.upload_bytes > 1_000_000}
    edit_models = {op.model for op in OPENAI.model_endpoints()
                   if op.endpoint == "edits" and "max_bytes" in op.params["image"].rules}
    assert set(uploads) == edit_models and len(edit_models) >= 2
    for case in uploads.values():
        assert 0.9 * LIMIT < case.upload_bytes < LIMIT and case.billable
        assert "edit.accepts-valid" in case.requirements
    # on dall-e-2 the 3.9 MB file sits on the model's own limit, so it judges that rule too
    assert uploads["dall-e-2"].requirements[0] == "edit.dall-e-2.image.max-bytes"
    assert uploads["gpt-image-2"].id == "edit.accepts-valid[gpt-image-2 image of 3.9 MB]"


def test_uploads_over_the_large_limit_are_planned_skipped_saying_their_size_until_asked_for():
    plan = build_plan(OPENAI, models=("gpt-image-2",))
    large = [c for c in plan if "49.2 MB" in c.id or "52.4 MB" in c.id or "16 images of 3.9 MB" in c.id]
    assert {c.kind for c in large} == {"valid", "invalid"} and len(large) == 3
    assert all(c.skip.startswith("an upload of ") and "--large-inputs" in c.skip for c in large)
    assert all(c.upload_bytes < LARGE_UPLOAD for c in large)  # nothing large is even built
    sent = {c.id: c for c in build_plan(OPENAI, models=("gpt-image-2",), large_inputs=True) if c.id in {x.id for x in large}}
    assert len(sent) == 3 and not any(c.skip for c in sent.values())
    assert sent["edit.gpt-image-2.image.max-bytes[gpt-image-2 image of 49.2 MB]"].upload_bytes > 49_000_000
    assert sent["edit.gpt-image-2.image.max-items[gpt-image-2 16 images of 3.9 MB]"].upload_bytes > 16 * 3_900_000
    too_large = sent["edit.gpt-image-2.image.max-bytes[png file of 52.4 MB]"]
    assert request_violations(OPENAI, "edits", too_large.body) == {"edit.gpt-image-2.image.max-bytes": "image"}


def test_a_requirement_left_to_a_skipped_upload_says_why_in_results_json(tmp_path):
    result = certify(OPENAI, models=("dall-e-2", "gpt-image-2"))
    row = next(r for r in result.requirements if r["id"] == "edit.gpt-image-2.image.max-bytes")
    assert row["status"] == "skipped" and "--large-inputs sends it" in row["skipped"]
    # the 3.9 MB uploads went through the reference router and were served
    passed = {r["id"] for r in result.requirements if r["status"] == "passed"}
    assert "edit.dall-e-2.image.max-bytes" in passed and result.verdict == "conformant"
    assert load_results(result.write(tmp_path / "results.json"))["requirements"]  # the added field is in the schema


def test_plan_text_shows_the_upload_a_case_costs(capsys):
    from harness.cli import main

    assert main(["plan", "--profile", "openai", "--models", "dall-e-2"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "edit.dall-e-2.image.max-bytes[dall-e-2 image of 3.9 MB]" in line)
    assert line.startswith("$ valid") and "[upload 3.9 MB]" in line
    assert "$ = billable" in out and "MB of input images uploaded" in out.splitlines()[-1]


# ------------------------------------------------------------------ image URLs a client can download

def test_a_router_whose_image_urls_name_another_port_fails_the_url_check_end_to_end(monkeypatch):
    from harness.reference._server import running_router

    from .conftest import free_ports

    (elsewhere,) = free_ports(1)
    monkeypatch.setenv("IRC_TEST_URL_KEY", "sk-urls-0123")
    with running_router(OPENAI, api_key="sk-urls-0123", public_url=f"http://127.0.0.1:{elsewhere}/v1") as url:
        result = certify(OPENAI, router_url=url, api_key_env="IRC_TEST_URL_KEY", models=("dall-e-3",))
    row = next(r for r in result.requirements if r["id"] == "gen.image.url-reachable")
    assert row["status"] == "failed" and f"127.0.0.1:{elsewhere}" in row["failures"][0]["message"]


# ------------------------------------------------------------------ one cause, said once


def test_answer_of_is_the_same_for_the_same_answer_and_names_html_pages():
    error = {"status": 400, "body": {"error": {"message": "bad  image", "type": "x"}}}
    assert answer_of(error) == "HTTP 400: bad image"
    assert answer_of({"status": 200, "body": {}}) is None and answer_of(None) is None
    assert answer_of({"error": "timed out after 60.2 s"}) == answer_of({"error": "timed out after 61.9 s"})
    page = {"status": 413, "body": "<html><head><title>413 Request Entity Too Large</title></head></html>"}
    assert "HTML page titled '413 Request Entity Too Large'" in answer_of(page)


def test_shared_answers_groups_failures_by_answer_only_when_they_fail_two_requirements():
    same = {"status": 400, "body": {"error": {"message": "the bytes are not an image"}}}
    other = {"status": 400, "body": {"error": {"message": "something else"}}}
    shared = shared_answers([("a", same, ["error.param"]), ("b", same, ["edit.accepts-valid", "edit.x.n.maximum"]),
                             ("c", other, ["error.param"]), ("d", same, [])])
    assert shared == [{"answer": "HTTP 400: the bytes are not an image", "cases": 2, "example": "b",
                       "requirements": ["error.param", "edit.accepts-valid", "edit.x.n.maximum"]}]


def test_a_router_that_corrupts_every_upload_gets_a_report_that_opens_with_the_shared_answer(tmp_path):
    # a subprocess, as a user runs it (in process, pytest.main would leave the suite module imported)
    proc = run_cli("run", "--profile", "openai", "--models", "gpt-image-2", "--fault", "corrupts-uploads",
                   "--report-dir", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "failed requirements share one answer" in proc.stdout  # the console says it too
    results = load_results(tmp_path / "openai" / "results.json")
    first = results["shared_answers"][0]
    assert "the bytes are not an image" in first["answer"] and "edit.accepts-valid" in first["requirements"]
    assert len(first["requirements"]) >= 5 and first["example"].startswith("edit.")
    html = (tmp_path / "openai" / "report.html").read_text(encoding="utf-8")
    banner, table = html.index("share one answer"), html.index("<h3>Requirements</h3>")
    assert html.index("id='irc-verdict'") < banner < table  # said in the banner, above the table
