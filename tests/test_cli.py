"""``conformance`` end to end, as a user runs it: exit codes 0/1/2/3, reports, no traceback, no leaked key."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from harness._resources import specs_dir
from harness.reference import FAULTS

from .conftest import failed_ids, read_results, run_cli


def test_run_against_reference_router_is_conformant(tmp_path):
    proc = run_cli("run", "--profile", "worldrouter", "--report-dir", str(tmp_path / "reports"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = read_results(tmp_path / "reports", "worldrouter")
    assert results["verdict"] == "conformant"
    assert results["schema_version"] == 1 and results["requests"]["billable"] > 0
    assert all(r["status"] == "passed" for r in results["requirements"])
    for name in ("report.html", "junit.xml"):
        assert (tmp_path / "reports" / "worldrouter" / name).stat().st_size > 1000
    assert "worldrouter/report.html" in (tmp_path / "reports" / "index.html").read_text()


def test_router_accepting_1000x1000_fails_the_multiple_of_16_rule(tmp_path):
    proc = run_cli("run", "--profile", "worldrouter", "--fault", "accepts-size-not-multiple-of-16",
                   "--report-dir", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    results = read_results(tmp_path, "worldrouter")
    assert results["verdict"] == "non-conformant"
    assert failed_ids(results) == {"gen.gpt-image-2.size.multiple-of-16"}
    row, = (r for r in results["requirements"] if r["status"] == "failed")
    assert row["source"] == "000_ff80a2310c358538.txt: 'Both edges must be multiples of 16px.'"
    assert {f["request"]["body"]["size"] for f in row["failures"]} >= {"1024x1032"}
    assert "gen.gpt-image-2.size.multiple-of-16" in (tmp_path / "worldrouter" / "report.html").read_text()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_router_exits_3_with_one_clear_line(tmp_path):
    url = f"http://127.0.0.1:{_free_port()}/v1"
    proc = run_cli("run", "--profile", "worldrouter", "--router-url", url, "--report-dir", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 3
    assert "Traceback" not in proc.stdout + proc.stderr
    assert sum("router not reachable" in line for line in proc.stdout.splitlines()) <= 2
    results = read_results(tmp_path, "worldrouter")
    assert results["verdict"] == "not-assessed" and results["requests"]["sent"] == 0
    assert (tmp_path / "worldrouter" / "report.html").exists()


def test_yaml_syntax_error_exits_2_naming_file_and_line(tmp_path):
    text = (specs_dir() / "profiles" / "worldrouter.yaml").read_text().replace("    path: /images/generations",
                                                                                  "    path: [/images/generations")
    (tmp_path / "bad.yaml").write_text(text)
    proc = run_cli("run", "--profile", "bad.yaml", "--report-dir", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("conformance: bad.yaml:") and "YAML syntax error" in proc.stderr


def test_api_key_never_appears_in_any_artifact(tmp_path):
    key = "sk-live-SECRET-d41d8cd98f00b204"
    proc = run_cli("run", "--profile", "worldrouter", "--fault", "not-an-image", "--report-dir", str(tmp_path),
                   cwd=tmp_path, env={"ROUTER_API_KEY": key})
    assert proc.returncode == 1
    assert key not in proc.stdout + proc.stderr
    artifacts = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(artifacts) >= 4
    for path in artifacts:
        assert key not in path.read_text(errors="replace"), path
    assert "$ROUTER_API_KEY" in (tmp_path / "worldrouter" / "results.json").read_text()


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_every_fault_is_caught_by_its_requirement(tmp_path, fault):
    proc = run_cli("run", "--profile", "worldrouter", "--fault", fault, "--report-dir", str(tmp_path), cwd=tmp_path)
    results = read_results(tmp_path, "worldrouter")
    caught = failed_ids(results)
    assert any(rid.endswith(FAULTS[fault].breaks) for rid in caught), (fault, caught)
    must = {r["id"] for r in results["requirements"] if r["status"] == "failed" and r["level"] == "MUST"}
    assert proc.returncode == (1 if must else 0)


def test_plan_sends_nothing_and_counts_cost(tmp_path):
    proc = run_cli("plan", "--profile", "worldrouter", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0
    import json
    plan = json.loads(proc.stdout)
    assert plan["totals"]["billable_requests"] == sum(c["billable"] for c in plan["cases"]) > 0
    assert {"requirement", "valid", "billable", "endpoint", "model", "request"} <= set(plan["cases"][0])
