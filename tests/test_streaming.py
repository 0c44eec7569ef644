"""Streaming conformance end to end: the plan sends streaming cases, a run judges them, the report shows the stream.

The per-check behaviour is in ``test_checks.py`` and each stream fault's
requirement in ``test_cli.py``; here the whole path runs through the CLI
against the embedded reference router.
"""

from __future__ import annotations

import json

from .conftest import read_results, run_cli


def test_the_plan_lists_streaming_cases_for_every_gpt_image_model_on_both_endpoints(tmp_path):
    proc = run_cli("plan", "--profile", "openai", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    cases = [c for c in json.loads(proc.stdout)["cases"] if c["kind"] == "stream"]
    models = {"gpt-image-1", "gpt-image-1.5", "gpt-image-1-mini", "gpt-image-2"}
    assert {(c["model"], c["endpoint"], c["request"]["partial_images"]) for c in cases} == \
        {(m, e, k) for m in models for e in ("generations", "edits") for k in (0, 3)}
    assert all(c["request"]["stream"] is True and c["billable"] for c in cases)
    assert all("n" not in c["request"] for c in cases)  # one image: the cheapest


def test_a_run_sends_the_streaming_cases_and_the_report_shows_the_event_timeline(tmp_path):
    proc = run_cli("run", "--profile", "openai", "--models", "gpt-image-1", "--fault", "stream-indexes-reversed",
                   "--report-dir", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout[-2000:]
    results = read_results(tmp_path, "openai")
    streams = results["streams"]
    assert len(streams) == 4  # 2 endpoints x partial_images 0 and 3
    for timing in streams.values():
        assert timing["events"] in (1, 4) and 0 <= timing["first_event_s"] <= timing["completed_s"]
    row = next(r for r in results["requirements"] if r["id"] == "gen.stream.order")
    assert row["status"] == "failed" and "ran [2, 1, 0]" in row["failures"][0]["message"]
    exchange = results["exchanges"][row["failures"][0]["exchange"]]
    assert [e["index"] for e in exchange["response"]["events"]] == [2, 1, 0, None]
    report = (tmp_path / "openai" / "report.html").read_text()
    assert "event stream" in report and "image_generation.partial_image" in report
