"""``conformance`` end to end, as a user runs it: exit codes 0/1/2/3, reports, no traceback, no leaked key."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness._resources import specs_dir
from harness.reference import FAULTS

from .conftest import failed_ids, free_ports, read_results, run_cli, wait_for_port


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
    exchanges = results["exchanges"]
    assert {exchanges[f["exchange"]]["request"]["body"]["size"] for f in row["failures"]} >= {"1024x1032"}
    assert all(f["request"] is None and f["curl"].startswith("curl ") for f in row["failures"])  # stored once
    assert "gen.gpt-image-2.size.multiple-of-16" in (tmp_path / "worldrouter" / "report.html").read_text()


def test_unreachable_router_exits_3_with_one_clear_line(tmp_path):
    url = f"http://127.0.0.1:{free_ports()[0]}/v1"
    proc = run_cli("run", "--profile", "worldrouter", "--router-url", url, "--report-dir", str(tmp_path), cwd=tmp_path,
                   env={"ROUTER_API_KEY": "sk-some-key"})
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


@pytest.mark.parametrize("fault", ["not-an-image", "reflects-key"])
def test_api_key_never_appears_in_any_artifact(tmp_path, fault):
    """Not even when the router repeats the key in its answers (reflects-key echoes the Authorization header)."""
    key = "sk-live-SECRET-d41d8cd98f00b204"
    proc = run_cli("run", "--profile", "worldrouter", "--fault", fault, "--report-dir", str(tmp_path),
                   cwd=tmp_path, env={"ROUTER_API_KEY": key})
    assert proc.returncode == (1 if fault == "not-an-image" else 0)
    assert key not in proc.stdout + proc.stderr
    artifacts = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(artifacts) >= 4
    for path in artifacts:
        assert key not in path.read_text(errors="replace"), path
    # the evidence shows where the key was: in curl lines and, for reflects-key, in the router's own answers
    report = (tmp_path / "worldrouter" / "report.html").read_text()
    assert "$ROUTER_API_KEY" in report
    if fault == "reflects-key":
        assert "request authorization: Bearer $ROUTER_API_KEY" in report


@pytest.mark.parametrize("fault", sorted(name for name, f in FAULTS.items() if f.breaks and not f.under_load))
def test_every_fault_is_caught_by_its_requirement(tmp_path, fault):
    profile = FAULTS[fault].profile
    models = ["--models", ",".join(FAULTS[fault].models)] if FAULTS[fault].models else []
    proc = run_cli("run", "--profile", profile, "--fault", fault, *models, "--timeout", "5",
                   "--report-dir", str(tmp_path), cwd=tmp_path)
    results = read_results(tmp_path, profile)
    caught = failed_ids(results)
    assert any(rid.endswith(FAULTS[fault].breaks) for rid in caught), (fault, caught)
    must = {r["id"] for r in results["requirements"] if r["status"] == "failed" and r["level"] == "MUST"}
    assert proc.returncode == (1 if must else 0)


def test_plan_sends_nothing_and_counts_cost(tmp_path):
    proc = run_cli("plan", "--profile", "worldrouter", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0
    plan = json.loads(proc.stdout)
    assert plan["totals"]["billable_requests"] == sum(c["billable"] for c in plan["cases"]) > 0
    assert {"requirement", "valid", "billable", "endpoint", "model", "request"} <= set(plan["cases"][0])
    # openai's 4 MB input images and 32000-character prompts are cut, saying how long they were
    proc = run_cli("plan", "--profile", "openai", "--format", "json", cwd=tmp_path)
    prompts = [c["request"].get("prompt", "") for c in json.loads(proc.stdout)["cases"]]
    assert "…[32,000 chars]" in " ".join(p for p in prompts if isinstance(p, str))
    assert len(proc.stdout) < 2_000_000


def test_profiles_lists_the_six_from_any_directory(tmp_path):
    proc = run_cli("profiles", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    names = [line.split()[0] for line in proc.stdout.splitlines()]
    assert names == ["easyrouter", "imagerouter", "myrouter", "openai", "opengateway", "worldrouter"]


def test_unknown_rule_exits_2_with_file_line_and_key(tmp_path):
    text = (specs_dir() / "profiles" / "worldrouter.yaml").read_text().replace("          max_edge:\n", "          max_edges:\n")
    (tmp_path / "x.yaml").write_text(text)
    line = text.splitlines().index("          max_edges:") + 1
    proc = run_cli("plan", "--profile", "x.yaml", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"x.yaml:{line}: models.gpt-image-2.params.size.dimensions: unknown rule 'max_edges'" in proc.stderr


def test_schema_prints_one_draft_2020_12_schema_and_openapi_one_document(tmp_path):
    proc = run_cli("schema", "--profile", "opengateway", "--model", "openai/gpt-image-2", "--kind", "request", cwd=tmp_path)
    schema = json.loads(proc.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["model"] == {"const": "openai/gpt-image-2"}
    assert schema["allOf"][0]["if"] == {"properties": {}, "required": ["output_compression"]}
    proc = run_cli("openapi", "--profile", "imagerouter", cwd=tmp_path)
    document = json.loads(proc.stdout)
    assert document["openapi"] == "3.1.0" and document["servers"] == [{"url": "/v1/openai"}]
    assert set(document["paths"]) == {"/images/generations", "/images/edits"}
    content = document["paths"]["/images/edits"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "multipart/form-data"}


def test_a_users_own_profile_extending_openai(tmp_path):
    (tmp_path / "acme.yaml").write_text(
        "spec_version: 1\nname: acme\nextends: openai\nsource: acme-docs.txt\n"
        "models:\n  dall-e-2: null\n  dall-e-3: null\n  gpt-image-1-mini: null\n  gpt-image-1.5: null\n  gpt-image-1: null\n"
        "  gpt-image-2:\n    endpoints: [generations]\n    params:\n      size:\n        dimensions:\n"
        "          max_edge: {value: 2048, source: 'Edges up to 2048px.'}\n"
        "          max_pixels: {value: 4194304, source: 'At most 2048x2048.'}\n")
    proc = run_cli("run", "--profile", "acme.yaml", "--report-dir", str(tmp_path / "r"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = read_results(tmp_path / "r", "acme")
    rows = {r["id"]: r for r in results["requirements"]}
    assert rows["gen.gpt-image-2.size.max-edge"]["source"] == "acme-docs.txt: 'Edges up to 2048px.'"
    assert rows["gen.gpt-image-2.size.max-edge"]["status"] == "passed"


def test_every_profile_passes_against_its_faithful_reference_router(tmp_path):
    """Every check passes against a router that keeps its rules (the faults show each one failing).

    ImageRouter answers with URLs (fetched and decoded); OpenAI's edits are multipart/form-data.
    """
    proc = run_cli("run", "--report-dir", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    for profile in ("easyrouter", "imagerouter", "myrouter", "openai", "opengateway", "worldrouter"):
        results = read_results(tmp_path, profile)
        assert results["verdict"] == "conformant" and not failed_ids(results), profile
    for profile in ("imagerouter", "openai"):
        rows = {r["id"]: r for r in read_results(tmp_path, profile)["requirements"]}
        assert rows["gen.image.decodes"]["status"] == rows["edit.image.decodes"]["status"] == "passed"
        assert rows["edit.accepts-valid"]["cases"] > 0
    rows = {r["id"]: r for r in read_results(tmp_path, "opengateway")["requirements"]}
    assert rows["gen.image.transparent"]["status"] == "passed"


def test_429_with_retry_after_is_retried_not_failed(tmp_path):
    proc = run_cli("run", "--profile", "worldrouter", "--fault", "rate-limited", "--report-dir", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:]
    results = read_results(tmp_path, "worldrouter")
    assert results["verdict"] == "conformant" and not failed_ids(results)
    assert results["requests"]["retried"] >= results["requests"]["sent"] // 2 > 0


def test_image_url_inputs_are_fetched_by_the_router_and_skipped_without_a_url(tmp_path):
    """ImageRouter takes input images as URLs: the embedded router serves one and fetches it back;
    a URL that serves no image makes those valid cases fail; a real router without --input-image-url skips them."""
    from harness.spec import load_profile
    from harness.reference import running_router

    args = ("run", "--profile", "imagerouter", "--models", "test/test")
    proc = run_cli(*args, "--report-dir", str(tmp_path / "ok"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert read_results(tmp_path / "ok", "imagerouter")["requests"]["skipped"] == 0
    assert "image as URL" in (tmp_path / "ok" / "imagerouter" / "junit.xml").read_text()

    missing = f"http://127.0.0.1:{free_ports()[0]}/missing.png"
    proc = run_cli(*args, "--input-image-url", missing, "--report-dir", str(tmp_path / "bad"), cwd=tmp_path)
    assert proc.returncode == 1
    bad = read_results(tmp_path / "bad", "imagerouter")
    rows = {r["id"]: r for r in bad["requirements"]}
    failures = rows["gen.accepts-valid"]["failures"] + rows["edit.accepts-valid"]["failures"]
    assert {bad["exchanges"][f["exchange"]]["request"]["body"]["image"] for f in failures} == {missing}
    assert all("image as URL" in f["case"] for f in failures) and len(failures) == 2

    with running_router(load_profile("imagerouter"), api_key="sk-url-test") as url:
        proc = run_cli(*args, "--router-url", url, "--report-dir", str(tmp_path / "real"), cwd=tmp_path,
                       env={"ROUTER_API_KEY": "sk-url-test"})
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert read_results(tmp_path / "real", "imagerouter")["requests"]["skipped"] == 2


def test_readme_serve_and_curl_example_gives_an_image_a_person_can_open(tmp_path):
    """README: ``conformance serve --profile worldrouter --port 8000 --api-key sk-test``, then its curl line."""
    import re
    import subprocess
    import sys

    from PIL import Image

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    serve = re.search(r"`(conformance serve --profile worldrouter --port 8000 [^`]*)`", readme).group(1)
    curl = next(block for block in re.findall(r"```sh\n(.*?)```", readme, re.S) if "127.0.0.1:8000" in block)
    port = free_ports()[0]
    server = subprocess.Popen([sys.executable, "-m", "harness.cli", *serve.split()[1:-4], "--port", str(port),
                               *serve.split()[-2:]], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        script = curl.replace("127.0.0.1:8000", f"127.0.0.1:{port}").replace("| python ", f"| {sys.executable} ")
        proc = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
    finally:
        server.terminate()
        server.wait(timeout=10)
    with Image.open(tmp_path / "out.png") as image:
        assert (image.format, image.size) == ("PNG", (1536, 1024))


def test_a_schema_failure_does_not_hide_the_image_checks(tmp_path):
    """A response missing ``created`` fails the schema, yet its images are still decoded and measured."""
    proc = run_cli("run", "--profile", "worldrouter", "--fault", "missing-created", "--report-dir", str(tmp_path),
                   cwd=tmp_path)
    assert proc.returncode == 1
    rows = {r["id"]: r for r in read_results(tmp_path, "worldrouter")["requirements"]}
    assert rows["gen.response.schema"]["status"] == "failed"
    for rid in ("gen.image.decodes", "gen.image.dimensions", "gen.data.count", "gen.image.format"):
        assert rows[rid]["status"] == "passed" and rows[rid]["cases"] > 0, rid


@pytest.mark.parametrize("fault", ["accepts-ratio-above-3", "error-param-null", "truncated-body"])
def test_certify_and_conformance_run_fail_the_same_requirements(tmp_path, fault):
    """The Python API and the command line are one engine: the same verdict and the same failed ids."""
    from harness import certify

    proc = run_cli("run", "--profile", "worldrouter", "--fault", fault, "--timeout", "5",
                   "--report-dir", str(tmp_path), cwd=tmp_path)
    results = read_results(tmp_path, "worldrouter")
    result = certify("worldrouter", fault=fault, timeout=5)
    assert failed_ids(results) and result.failed() == failed_ids(results)
    assert result.verdict == results["verdict"] and result.exit_code == proc.returncode
    assert result.data["requests"]["sequence_sha256"] == results["requests"]["sequence_sha256"]


# ------------------------------------------------------------------ the operator's mistakes are not the router's failures


@pytest.mark.parametrize("variable", ["ROUTER_API_KEY", "MY_KEY"])
def test_missing_or_empty_key_variable_exits_2_naming_it(tmp_path, variable):
    args = ["run", "--profile", "worldrouter", "--router-url", "http://127.0.0.1:9/v1", "--report-dir", str(tmp_path)]
    if variable != "ROUTER_API_KEY":
        args += ["--api-key-env", variable]
    proc = run_cli(*args, cwd=tmp_path, env={variable: ""})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith(f"conformance: the API key variable {variable} is not set")
    assert "Traceback" not in proc.stderr and not (tmp_path / "worldrouter").exists()


@pytest.fixture(scope="module")
def keyed_router():
    from harness.reference import running_router
    from harness.spec import load_profile

    with running_router(load_profile("worldrouter"), api_key="sk-right-0123") as url:
        yield url


@pytest.mark.parametrize("mistake", ["wrong key", "base URL without /v1"])
def test_wrong_key_or_base_url_is_not_assessed_and_passes_nothing(tmp_path, keyed_router, mistake):
    url, key = keyed_router, "sk-right-0123"
    if mistake == "wrong key":
        key = "sk-wrong-4567"
    else:
        url = url.removesuffix("/v1")
    proc = run_cli("run", "--profile", "worldrouter", "--router-url", url, "--report-dir", str(tmp_path), cwd=tmp_path,
                   env={"ROUTER_API_KEY": key})
    assert proc.returncode == 3, proc.stdout[-2000:]
    assert "Traceback" not in proc.stdout + proc.stderr and key not in proc.stdout + proc.stderr
    results = read_results(tmp_path, "worldrouter")
    assert results["verdict"] == "not-assessed"
    assert {r["status"] for r in results["requirements"]} == {"skipped"}
    reason = results["not_assessed_reason"]
    if mistake == "wrong key":
        assert reason.startswith("the router rejected the API key (HTTP 401") and "ROUTER_API_KEY" in reason
    else:
        assert "answered HTTP 404" in reason and f"did you mean {url}/v1?" in reason
    assert reason in proc.stdout  # the console says why, once per profile line


def test_a_404_json_answer_to_valid_requests_is_judged_not_excused(tmp_path):
    """A router's own 404 (model_not_found) is its answer: the route exists, so the run is judged, and fails."""
    from harness import certify

    result = certify("worldrouter", fault="404-for-valid")
    assert result.verdict == "non-conformant" and "gen.accepts-valid" in result.failed()
    assert result.data["not_assessed_reason"] is None


def test_serve_public_url_is_the_base_of_the_image_urls_it_answers(tmp_path):
    """``conformance serve --public-url``: behind a gateway, image URLs name the gateway, not the upstream's Host."""
    import subprocess
    import sys

    import httpx

    from harness.derive.strategies import cheapest_body
    from harness.spec import load_profile

    port = free_ports()[0]
    public = "http://gateway.example:8443/v1"  # only named in answers; nothing is sent there
    server = subprocess.Popen([sys.executable, "-m", "harness.cli", "serve", "--profile", "imagerouter", "--port",
                               str(port), "--public-url", public], cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        profile = load_profile("imagerouter")
        op = next(op for op in profile.model_endpoints() if op.endpoint == "generations")
        answer = httpx.post(f"http://127.0.0.1:{port}{profile.base_path}/images/generations",
                            json=cheapest_body(op), timeout=30)
        url = answer.json()["data"][0]["url"]
        assert url.startswith(f"{public}/_images/"), url
        local = url.replace(public, f"http://127.0.0.1:{port}{profile.base_path}")
        assert httpx.get(local, timeout=10).headers["content-type"].startswith("image/")
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_version_help_with_exit_codes_and_option_defaults(tmp_path):
    from harness import __version__

    assert run_cli("--version", cwd=tmp_path).stdout.strip() == f"conformance {__version__}"
    for args in ((), ("run",)):
        text = " ".join(run_cli(*args, "--help", cwd=tmp_path).stdout.split())
        assert "exit codes: 0 every MUST requirement passed; 1 a MUST requirement failed; 2 usage" in text
        assert "3 the router could not be assessed" in text
    serve = " ".join(run_cli("serve", "--help", cwd=tmp_path).stdout.split())
    assert "--port PORT port to listen on (default: 8000)" in serve and "(default: None)" not in serve


def test_a_missing_profile_path_is_named_a_missing_file_not_an_unknown_name(tmp_path):
    proc = run_cli("plan", "--profile", "profiles/acme.yaml", cwd=tmp_path)
    assert proc.returncode == 2
    assert "profile file 'profiles/acme.yaml' not found" in proc.stderr and "built-in profiles" not in proc.stderr
    assert "no profile 'acme'; built-in profiles:" in run_cli("plan", "--profile", "acme", cwd=tmp_path).stderr


def test_output_cut_short_by_its_reader_is_no_traceback(tmp_path):
    proc = subprocess.run(f"{sys.executable} -m harness.cli openapi --profile openai | head -c 10", shell=True,
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.stdout == '{\n  "opena' and "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


def test_a_failing_case_replays_alone_with_the_line_its_report_gives(tmp_path):
    import shlex

    run_cli("run", "--profile", "worldrouter", "--fault", "fixed-1024", "--report-dir", str(tmp_path / "a"), cwd=tmp_path)
    row = next(r for r in read_results(tmp_path / "a", "worldrouter")["requirements"] if r["id"] == "gen.image.dimensions")
    failure = row["failures"][0]
    words = shlex.split(failure["replay"])  # the line as a shell reads it: the id survives its spaces and brackets
    assert words[:2] == ["conformance", "run"] and words[words.index("--case") + 1] == failure["case"]
    proc = run_cli(*words[1:], "--report-dir", str(tmp_path / "b"), cwd=tmp_path)
    replayed = read_results(tmp_path / "b", "worldrouter")
    assert proc.returncode == 1 and replayed["requests"]["sent"] == 1
    assert "gen.image.dimensions" in failed_ids(replayed)
    original = json.loads((tmp_path / "a" / "worldrouter" / "results.json").read_text())["exchanges"][failure["case"]]
    assert replayed["exchanges"][failure["case"]]["request"]["body"] == original["request"]["body"]  # the same body
    assert "re-send this case with the harness:" in (tmp_path / "a" / "worldrouter" / "report.html").read_text()


def test_an_unknown_case_id_is_a_usage_error_naming_the_closest(tmp_path):
    proc = run_cli("run", "--profile", "worldrouter", "--case", "gen.accepts-valid[gpt-image-2 required field only]",
                   "--report-dir", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2 and "closest: 'gen.accepts-valid[gpt-image-2 required fields only]'" in proc.stderr
    assert not (tmp_path / "worldrouter" / "results.json").exists()


def test_the_console_names_each_failed_requirement_with_a_case_and_its_replay(tmp_path):
    proc = run_cli("run", "--profile", "worldrouter", "--fault", "fixed-1024", "--report-dir", str(tmp_path), cwd=tmp_path)
    out = proc.stdout
    assert "FAILED MUST gen.image.dimensions: data[0]: asked 640x1024, got 1024x1024" in out
    must = out.index("FAILED MUST"), out.index("FAILED SHOULD")
    assert must[0] < must[1]  # MUST first
    assert "    replay: conformance run --profile worldrouter --seed 0 --fault fixed-1024 --case '" in out
    quiet = run_cli("run", "--profile", "worldrouter", "--fault", "fixed-1024", "--quiet", "--report-dir",
                    str(tmp_path), cwd=tmp_path).stdout
    assert "worldrouter: non-conformant" in quiet and "FAILED" not in quiet


def test_the_console_lists_the_first_failed_requirements_unless_verbose():
    from harness._console import FAILED_SHOWN, summary_lines

    rows = [{"id": f"gen.rule-{i}", "level": "MUST", "status": "failed",
             "failures": [{"case": f"gen.rule-{i}[x]", "message": "line one\nline two", "replay": "conformance run"}]}
            for i in range(FAILED_SHOWN + 3)]
    data = {"profile": "p", "verdict": "non-conformant", "requirements": rows, "requests": {"sent": 1, "billable": 0}}
    default = summary_lines(data, Path("r.html"))
    assert sum(line.startswith("  FAILED") for line in default) == FAILED_SHOWN
    assert default[-1].startswith("  … and 3 more failed requirements") and "line one line two" in default[1]
    assert sum(line.startswith("  FAILED") for line in summary_lines(data, Path("r.html"), verbose=True)) == len(rows)


def test_a_gate_holds_should_with_strict_or_named_ids_and_takes_its_options_from_a_toml_file(tmp_path):
    # 422-on-invalid breaks error.status, a SHOULD: conformant, exit 0 by default
    base = ("run", "--profile", "worldrouter", "--fault", "422-on-invalid", "--models", "gpt-image-2")
    assert run_cli(*base, "--report-dir", str(tmp_path / "a"), cwd=tmp_path).returncode == 0
    strict = run_cli(*base, "--strict", "--report-dir", str(tmp_path / "b"), cwd=tmp_path)
    assert strict.returncode == 1 and "the gate fails on 1 failed requirement: --strict" in strict.stdout
    named = run_cli(*base, "--fail-on", "error.status", "--report-dir", str(tmp_path / "b"), cwd=tmp_path)
    assert named.returncode == 1
    assert run_cli(*base, "--fail-on", "error.shape", "--report-dir", str(tmp_path / "b"), cwd=tmp_path).returncode == 0
    (tmp_path / "conformance.toml").write_text('profile = "worldrouter"\nfault = "422-on-invalid"\n'
                                              'models = ["gpt-image-2"]\nstrict = true\nquiet = true\nreport_dir = "c"\n')
    from_file = run_cli("run", cwd=tmp_path)  # ./conformance.toml is read without --config
    assert from_file.returncode == 1 and (tmp_path / "c" / "worldrouter" / "results.json").exists()
    assert "FAILED" not in from_file.stdout  # quiet, from the file
    (tmp_path / "gate.toml").write_text((tmp_path / "conformance.toml").read_text().replace("strict = true", "strict = false"))
    assert run_cli("run", "--config", "gate.toml", cwd=tmp_path).returncode == 0  # --config names another file


def test_a_waived_failure_does_not_fail_the_gate_and_shows_as_waived_never_passed(tmp_path):
    reason = "the upstream renders 1024x1024 only, ticket 42"
    proc = run_cli("run", "--profile", "worldrouter", "--fault", "fixed-1024", "--ignore",
                   f"gen.image.dimensions: {reason}", "--report-dir", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert f"FAILED MUST gen.image.dimensions (waived: {reason})" in proc.stdout
    assert "1 failed requirement waived; the gate passes" in proc.stdout
    row = next(r for r in read_results(tmp_path, "worldrouter")["requirements"] if r["id"] == "gen.image.dimensions")
    assert row["status"] == "failed" and row["waived"] == reason  # the measurement stands; the waiver is beside it
    page = (tmp_path / "worldrouter" / "report.html").read_text(encoding="utf-8")
    assert f"waived: {reason}" in page
    typo = run_cli("run", "--profile", "worldrouter", "--ignore", "gen.image.dimension: x", "--report-dir",
                   str(tmp_path / "t"), cwd=tmp_path)
    assert typo.returncode == 2 and "cannot waive 'gen.image.dimension'" in typo.stderr


@pytest.mark.parametrize("text, said", [
    ('profile = "worldrouter"\nbogus = 1\n', "gate.toml: unknown key 'bogus'; known: "),
    ('profile = "worldrouter\n', "gate.toml: not TOML: "),
    ('api_key = "sk-x"\n', "the key never goes in a file; set api_key_env"),
    ('ignore = ["gen.image.dimensions"]\n', "a waiver is 'REQUIREMENT_ID: the reason it is waived'"),
])
def test_a_bad_config_file_is_a_usage_error_that_names_the_file_and_key(tmp_path, text, said):
    (tmp_path / "gate.toml").write_text(text)
    proc = run_cli("run", "--config", "gate.toml", "--report-dir", str(tmp_path / "r"), cwd=tmp_path)
    assert proc.returncode == 2 and said in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "r").exists()


def test_a_ci_log_gets_one_start_line_per_profile_and_no_pytest_noise(tmp_path):
    proc = run_cli("run", "--profile", "worldrouter", "--profile", "myrouter", "--report-dir", str(tmp_path), cwd=tmp_path)
    lines = proc.stdout.splitlines()
    starts = [line for line in lines if ": sending " in line]
    assert [s.split(":")[0] for s in starts] == ["worldrouter", "myrouter"]
    assert starts[0].startswith("worldrouter: sending 102 cases (22 billable")
    # no progress dots, no pytest session banners: the verdict lines follow the start lines
    assert not any(set(line) <= set(".sF ") and line.strip() for line in lines) and "passed in" not in proc.stdout
    assert "test session starts" not in proc.stdout


def test_the_progress_line_counts_cases_billable_and_failures_on_a_terminal(tmp_path):
    """tqdm draws it on a TTY: run under a pseudo-terminal (stdlib pty) and read what it drew."""
    import os
    import pty

    (tmp_path / "run.py").write_text(
        "import sys\nfrom harness.cli import main\n"
        f"sys.exit(main(['run', '--profile', 'worldrouter', '--fault', 'fixed-1024', '--max-generations', '30', "
        f"'--report-dir', {str(tmp_path / 'r')!r}]))\n")
    pid, fd = pty.fork()
    if pid == 0:  # the child: a terminal 120 columns wide (a new pty has no size, and tqdm would draw nothing)
        import fcntl
        import struct
        import termios

        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        os.execv(sys.executable, [sys.executable, str(tmp_path / "run.py")])
    drawn = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        drawn += chunk
    os.waitpid(pid, 0)
    text = drawn.decode("utf-8", "replace")
    assert "worldrouter:" in text and "/102 [" in text and "case/s" in text  # done/total, elapsed and ETA, rate
    frames = [f for f in text.split("\r") if "failing cases " in f]
    assert frames and "/30, failing cases " in frames[-1]  # billable spent of the cap, failing cases so far
    assert max(int(f.split("failing cases ")[1].split("]")[0]) for f in frames) >= 1
    assert "non-conformant" in text


def test_plan_shows_each_body_under_its_case_when_asked(tmp_path):
    plain = run_cli("plan", "--profile", "worldrouter", cwd=tmp_path).stdout.splitlines()
    shown = run_cli("plan", "--profile", "worldrouter", "--show-bodies", cwd=tmp_path).stdout.splitlines()
    index = next(i for i, line in enumerate(shown) if "gen.gpt-image-2.size.multiple-of-16[" in line)
    body = json.loads(shown[index + 1])
    assert body["model"] == "gpt-image-2" and "size" in body
    assert len(shown) > len(plain) and plain[0].startswith("$ = billable")
