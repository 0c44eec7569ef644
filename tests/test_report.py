"""The report a QA lead acts on: report.html, results.json against its schema, junit.xml and index.html."""

from __future__ import annotations

import copy
import html
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from jsonschema import Draft202012Validator

from harness import build_plan, load_profile, results_schema
from harness.reference import get_fault, running_router
from harness.report import requirement_anchor

from .conftest import read_results, run_cli

KEY = "sk-report-test-0123456789"
FAULT = "accepts-size-not-multiple-of-16"
BROKEN = "gen.gpt-image-2.size.multiple-of-16"


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory):
    """A non-conformant run against a reference router kept running, so curl lines can be replayed."""
    out = tmp_path_factory.mktemp("reports")
    with running_router(load_profile("worldrouter"), api_key=KEY, fault=get_fault(FAULT)) as url:
        proc = run_cli("run", "--profile", "worldrouter", "--router-url", url, "--report-dir", str(out),
                       cwd=out, env={"ROUTER_API_KEY": KEY})
        yield out, proc, url


def _requirement_rows(page: str) -> list[tuple[str, str]]:
    """``(row id, status)`` of the requirement table rows, in page order."""
    return re.findall(r"<tr id='(req-[^']+)' class='[^']*' data-status='([a-z]+)'", page)


def test_non_conformant_report_shows_the_failure_first_with_its_source_and_a_working_curl(faulty_run):
    out, proc, url = faulty_run
    assert proc.returncode == 1, proc.stdout[-2000:]
    page = (out / "worldrouter" / "report.html").read_text(encoding="utf-8")
    assert "Non-conformant" in page and "sha256" in page and KEY not in page
    rows = _requirement_rows(page)
    assert rows[0] == (requirement_anchor(BROKEN), "failed")
    assert all(status != "failed" for _, status in rows[1:])
    first_row = page[page.index(f"<tr id='{requirement_anchor(BROKEN)}'"):]
    first_row = first_row[: first_row.index("</tr>")]
    assert html.escape("Both edges must be multiples of 16px.", quote=True) in first_row

    curl = html.unescape(re.search(r"<pre class='irc-curl'>(.*?)</pre>", first_row, re.S).group(1))
    # the line names no port of this run: "$ROUTER_URL" (the report says which URL it was), so it replays anywhere
    assert curl.startswith("curl ") and "$ROUTER_API_KEY" in curl and '"$ROUTER_URL"/images/generations' in curl
    assert url not in curl and f"this run's ROUTER_URL was <code>{url}</code>" in first_row
    results = read_results(out, "worldrouter")
    failure = results["exchanges"][results["requirements"][0]["failures"][0]["exchange"]]
    if shutil.which("curl") is None:
        pytest.fail("curl is needed to replay the report's curl line (.ci/run installs it)")
    replay = subprocess.run(["bash", "-c", curl + " -o /dev/null -w '%{http_code}'"], capture_output=True, text=True,
                            timeout=60, env={"ROUTER_API_KEY": KEY, "ROUTER_URL": url, "PATH": "/usr/bin:/bin"})
    assert replay.stdout == str(failure["response"]["status"]) == "200", replay.stderr


def test_junit_testcases_are_named_after_their_requirement_ids(faulty_run):
    out, _, _ = faulty_run
    ids = {r["id"] for r in read_results(out, "worldrouter")["requirements"]}
    cases = ET.parse(out / "worldrouter" / "junit.xml").getroot().iter("testcase")
    named = [(c.get("classname"), c.get("name"), c.find("failure") is not None) for c in cases]
    assert len(named) == len(build_plan(load_profile("worldrouter"))) > 50  # one testcase per planned case
    assert {classname for classname, _, _ in named} == {"conformance.worldrouter"}
    assert all(name.split("[", 1)[0] in ids for _, name, _ in named)
    assert {name.split("[", 1)[0] for _, name, failed in named if failed} == {BROKEN}


def test_index_links_each_profile_cell_to_the_requirement_row_in_its_report(faulty_run):
    out, _, _ = faulty_run
    page = (out / "index.html").read_text(encoding="utf-8")
    links = re.findall(r"href='(\./worldrouter/report\.html#([^']+))'>([a-z]+)</a>", page)
    report = (out / "worldrouter" / "report.html").read_text(encoding="utf-8")
    assert len(links) == len(read_results(out, "worldrouter")["requirements"])
    assert links[0][1:] == (requirement_anchor(BROKEN), "failed")  # failures first
    for _, anchor, _ in links:
        assert f"<tr id='{anchor}'" in report


def test_results_schema_is_draft_2020_12_and_rejects_a_broken_document(faulty_run):
    out, _, _ = faulty_run
    schema = results_schema()
    Draft202012Validator.check_schema(schema)
    good = read_results(out, "worldrouter")  # validated on read
    validator = Draft202012Validator(schema)
    for breakage in (lambda d: d.update(verdict="maybe"), lambda d: d.pop("requests"),
                     lambda d: d["requirements"][0].update(failures=[]),  # failed with no evidence
                     lambda d: d.update(schema_version=2)):
        broken = copy.deepcopy(good)
        breakage(broken)
        assert not validator.is_valid(broken)


def test_a_stream_cut_mid_event_renders_its_timeline():
    from harness.evidence import build_evidence
    from harness.report import evidence_html
    from harness.transport.client import Exchange, StreamEvent

    exchange = Exchange("POST", "http://127.0.0.1:1/v1/images/generations", {}, {"stream": True}, status=200,
                        headers={"content-type": "text/event-stream"},
                        events=[StreamEvent("image_generation.partial_image", '{"partial_image_index": 0}', "", 0.1, 26)],
                        stream_cut=True)
    page = evidence_html([("FAIL", "MUST", "gen.stream.order", "cut")], build_evidence(exchange, [], redact=str))
    assert "event stream" in page and "the stream ended in the middle of an event" in page
    assert "<td>image_generation.partial_image</td><td>0</td><td>0.1</td><td>26</td>" in page


def test_a_run_of_the_embedded_router_with_a_fault_names_the_fault_and_how_to_serve_it_again(tmp_path):
    proc = run_cli("run", "--profile", "worldrouter", "--fault", "fixed-1024", "--report-dir", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 1
    data = read_results(tmp_path, "worldrouter")
    assert data["fault"] == "fixed-1024" and data["embedded"] is True
    page = (tmp_path / "worldrouter" / "report.html").read_text(encoding="utf-8")
    assert "the embedded reference router ran with the fault fixed-1024 (returns 1024x1024 images" in page
    assert "conformance serve --profile worldrouter --fault fixed-1024" in page


def test_the_index_marks_profiles_an_earlier_run_left_in_the_folder_stale(tmp_path):
    assert run_cli("run", "--profile", "worldrouter", "--report-dir", str(tmp_path), cwd=tmp_path).returncode == 0
    assert run_cli("run", "--profile", "myrouter", "--seed", "7", "--report-dir", str(tmp_path), cwd=tmp_path).returncode == 0
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    rows = {name: classes for classes, name in re.findall(r"<tr class='([^']*)'><td><a href='\./([a-z]+)/report.html'", page)}
    assert rows == {"myrouter": "conformant", "worldrouter": "conformant stale"}
    assert "results an earlier run left in this folder (worldrouter)" in page
    started = read_results(tmp_path, "myrouter")["started_at"]
    assert f"<td>{started}</td><td>7</td>" in page  # when it ran, with which seed
