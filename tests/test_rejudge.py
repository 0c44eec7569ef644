"""Record a run as HAR and judge it again later without sending anything (``--record``, ``conformance rejudge``).

A vendor certifying a paid router pays for every generation; after a profile fix or a harness upgrade
the recording is judged again for free. These tests record runs of the embedded router, then re-judge
them with nothing listening, and with a changed profile.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness._har import read_recording

from .conftest import failed_ids, read_results, run_cli
from harness._resources import specs_dir


def _record(tmp_path: Path, *extra: str) -> Path:
    proc = run_cli("run", "--profile", "worldrouter", "--record", str(tmp_path / "rec"), "--report-dir",
                   str(tmp_path / "first"), *extra, cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    return tmp_path / "rec"


def test_a_recording_is_har_1_2_with_every_case_redacted(tmp_path):
    rec = _record(tmp_path, "--fault", "reflects-key")
    document = json.loads((rec / "worldrouter.har").read_text())
    log = document["log"]
    assert log["version"] == "1.2" and log["creator"]["name"] == "image-router-conformance"
    sent = read_results(tmp_path / "first", "worldrouter")["requests"]["sent"]
    assert len({e["_case"] for e in log["entries"]}) == sent
    entry = log["entries"][0]
    assert {"startedDateTime", "time", "request", "response", "cache", "timings"} <= set(entry)
    assert entry["response"]["content"]["encoding"] == "base64"
    # the embedded router made a key; the fault echoes it in answers: the recording holds only the placeholder
    text = json.dumps(document)
    assert "$ROUTER_API_KEY" in text and "sk-reference-" not in text  # the made-up key is never spelled out
    assert text.count("sk-") == text.count("sk-conformance-wrong-key")  # only the deliberately wrong key
    meta, exchanges = read_recording(rec / "worldrouter.har")
    assert meta["seed"] == 0 and meta["fault"] == "reflects-key" and len(exchanges) == sent


def test_rejudging_sends_nothing_and_reaches_the_same_verdict(tmp_path):
    rec = _record(tmp_path, "--fault", "fixed-1024")
    first = read_results(tmp_path / "first", "worldrouter")
    proc = run_cli("rejudge", str(rec), "--report-dir", str(tmp_path / "again"), cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    again = read_results(tmp_path / "again", "worldrouter")
    assert (again["verdict"], failed_ids(again)) == (first["verdict"], failed_ids(first))
    assert again["replayed_from"].endswith("worldrouter.har") and again["requests"]["sent"] == first["requests"]["sent"]
    assert "re-judged without sending anything: verdict non-conformant; 0 requirements changed" in proc.stdout
    assert "recorded requests judged" in proc.stdout


def test_a_recording_of_a_real_router_is_rejudged_with_the_router_gone_and_no_key(tmp_path):
    from harness import load_profile
    from harness.reference._server import running_router

    key = "sk-rejudge-0123456789"
    with running_router(load_profile("worldrouter"), api_key=key, fault=None) as url:
        proc = run_cli("run", "--profile", "worldrouter", "--router-url", url, "--record", str(tmp_path / "rec"),
                       "--report-dir", str(tmp_path / "first"), cwd=tmp_path, env={"ROUTER_API_KEY": key})
        assert proc.returncode == 0
    assert key not in (tmp_path / "rec" / "worldrouter.har").read_text()
    # the router is gone and ROUTER_API_KEY is not set: a replay needs neither
    proc = run_cli("rejudge", str(tmp_path / "rec" / "worldrouter.har"), "--report-dir", str(tmp_path / "again"),
                   cwd=tmp_path, env={"ROUTER_API_KEY": ""})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert read_results(tmp_path / "again", "worldrouter")["router_url"] == url


def test_a_changed_profile_says_which_requirement_changed_and_why(tmp_path):
    rec = _record(tmp_path)
    text = (specs_dir() / "profiles" / "worldrouter.yaml").read_text()
    assert text.count("created_unit: seconds") >= 1
    (tmp_path / "worldrouter-ms.yaml").write_text(text.replace("created_unit: seconds", "created_unit: milliseconds"))
    proc = run_cli("rejudge", str(rec), "--profile", str(tmp_path / "worldrouter-ms.yaml"), "--report-dir",
                   str(tmp_path / "again"), cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "the profile changed since the recording" in proc.stdout
    assert "gen.response.created (MUST): passed -> failed: " in proc.stdout
    assert "re-judged without sending anything: verdict conformant -> non-conformant" in proc.stdout


def test_a_file_that_is_not_a_recording_is_a_usage_error(tmp_path):
    (tmp_path / "x.har").write_text('{"log": {"entries": []}}')
    proc = run_cli("rejudge", str(tmp_path / "x.har"), cwd=tmp_path)
    assert proc.returncode == 2 and "not a recording of conformance run --record" in proc.stderr
