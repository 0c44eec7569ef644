"""``conformance load``: the pool, the verdict, and whole load runs on Locust against the embedded router.

The runs are real: Locust users in their own process, the embedded reference
router on 127.0.0.1, the verdict read back from load.json (validated against
the shipped schema) and load.html.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from harness import load_profile
from harness.derive.schema import request_violations
from harness.load import Combination, build_workload, load_schema
from harness._redact import Redactor
from harness.load._observe import observe
from harness.load._verdict import judge, level_of, suspects
from harness.transport.client import Exchange

from .conftest import run_cli

_SCHEMA = Draft202012Validator(load_schema())


def _load_json(report_dir: Path, profile: str = "worldrouter") -> dict[str, Any]:
    data = json.loads((report_dir / profile / "load.json").read_text(encoding="utf-8"))
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _SCHEMA.iter_errors(data)]
    assert not problems, problems[:5]
    return data


def _status(data: dict[str, Any]) -> dict[str, str]:
    return {r["id"]: r["status"] for r in data["requirements"]}


# ------------------------------------------------------------------ the pool


@pytest.mark.parametrize("name", ["openai", "worldrouter", "easyrouter", "opengateway", "myrouter", "imagerouter"])
def test_the_pool_holds_valid_requests_with_pairwise_distinct_combinations(name):
    profile = load_profile(name)
    workload = build_workload(profile)
    assert workload.pool, name
    shown = [workload.combinations[c.id] for c in workload.pool]
    assert len(set(shown)) == len(shown)  # no two requests in flight can ask for the same answer
    for case in workload.pool:
        assert request_violations(profile, case.endpoint, case.body) == {}, case.id
        assert case.kind == "valid" and case.billable
    assert [c.n for c in shown] == sorted(c.n for c in shown)  # cheapest first
    assert all(c.kind == "invalid" and not c.billable for c in workload.invalid)


def test_every_endpoint_gets_combinations_of_its_own():
    pool = build_workload(load_profile("openai")).pool
    assert {c.endpoint for c in pool} == {"generations", "edits"}
    assert all(c.encoding == "multipart" for c in pool if c.endpoint == "edits")


def test_worker_shares_are_disjoint_and_cover_the_pool(worldrouter):
    workload = build_workload(worldrouter)
    shares = [workload.share(slot, 3) for slot in range(3)]
    ids = [c.id for share in shares for c in share.pool]
    assert sorted(ids) == sorted(c.id for c in workload.pool) and len(set(ids)) == len(ids)


def test_a_combination_is_shown_only_by_its_own_size_format_and_count():
    combo = Combination((1024, 1536), None, "PNG", 2)
    assert combo.shown_by([[1024, 1536, "PNG"], [1024, 1536, "PNG"]], 2)
    assert not combo.shown_by([[1024, 1536, "PNG"]], 1)  # n
    assert not combo.shown_by([[1536, 1024, "PNG"], [1536, 1024, "PNG"]], 2)  # size
    assert not combo.shown_by([[1024, 1536, "JPEG"], [1024, 1536, "JPEG"]], 2)  # format
    ratio = Combination(None, ("16:9", 16 / 9), None, 1)
    assert ratio.shown_by([[1024, 576, "PNG"]], 1) and not ratio.shown_by([[1024, 1024, "PNG"]], 1)


def test_a_pool_never_holds_two_combinations_one_answer_could_show(worldrouter):
    workload = build_workload(worldrouter)
    shown = [workload.combinations[c.id] for c in workload.pool]
    assert not [(a.label, b.label) for i, a in enumerate(shown) for b in shown[i + 1:] if a.overlaps(b)]
    assert Combination((2880, 2880), None, "PNG", 1).overlaps(Combination(None, ("1:1", 1.0), None, 1))
    assert not Combination((2880, 2880), None, "PNG", 1).overlaps(Combination(None, ("1:1", 1.0), None, 2))


def test_concurrency_levels_are_powers_of_two():
    assert [level_of(n) for n in (1, 2, 3, 4, 5, 8, 9, 20, 64, 65)] == \
        ["1", "2", "3-4", "3-4", "5-8", "5-8", "9-16", "17-32", "33-64", "65-128"]


# ------------------------------------------------------------------ the verdict, on made-up observations


def _observation(case: str, start: float, end: float, *, status: int = 200, images=None, count=None,
                 kind: str = "valid", answer: str = "answer", failures=(), **extra: Any) -> dict[str, Any]:
    return {"case": case, "kind": kind, "combination": None, "billable": kind == "valid", "start": start, "end": end,
            "latency_ms": (end - start) * 1000, "status": status, "class": answer, "error": None,
            "failures": list(failures), "judged": 5, "images": images, "count": count, "retry_after": None,
            "retry_after_usable": None, "shape": None, "worker": 0, **extra}


_A = Combination((1024, 1024), None, "PNG", 1)
_B = Combination((1536, 1024), None, "PNG", 1)
_C = Combination((1024, 1536), None, "JPEG", 1)


def test_an_answer_showing_what_another_request_in_flight_asked_for_is_a_crossed_answer(worldrouter):
    crossed = _observation("a", 0.0, 1.0, images=[[1536, 1024, "PNG"]], count=1,
                           failures=[["gen.image.dimensions", "MUST", "asked 1024x1024, got 1536x1024"]])
    observations = [crossed, _observation("b", 0.2, 1.2, images=[[1536, 1024, "PNG"]], count=1)]
    assert suspects(observations, {"a": _A, "b": _B}) == ["a"]
    verdict = judge(worldrouter, observations, {"a": _A, "b": _B}, alone={"a": {"status": 200, "shows_own": True}})
    rows = {r["id"]: r for r in verdict["requirements"]}
    assert rows["load.no-crossed-answers"]["status"] == "failed"
    message = rows["load.no-crossed-answers"]["examples"][0]["message"]
    assert "what b asked for, in flight at the same time" in message and "served right alone" in message
    assert rows["load.contract-held"]["status"] == "passed"  # the crossing explains its failures: counted once


def test_an_answer_wrong_alone_too_is_no_crossing_however_it_looks(worldrouter):
    """A router that ignores size gives every request the same default: alone it is wrong too, so it is the
    contract that breaks, not the load."""
    wrong = _observation("b", 0.0, 1.0, images=[[1024, 1024, "PNG"]], count=1,
                         failures=[["gen.image.dimensions", "MUST", "asked 1536x1024, got 1024x1024"]])
    observations = [_observation("a", 0.1, 1.1, images=[[1024, 1024, "PNG"]], count=1), wrong]
    rows = {r["id"]: r for r in judge(worldrouter, observations, {"a": _A, "b": _B},
                                      alone={"b": {"status": 200, "shows_own": False}})["requirements"]}
    assert rows["load.no-crossed-answers"]["status"] == "passed"
    assert rows["load.contract-held"]["status"] == "failed" and rows["load.contract-held"]["failed"] == 1


def test_a_wrong_answer_nobody_asked_for_is_a_contract_failure_not_a_crossing(worldrouter):
    wrong = _observation("a", 0.0, 1.0, images=[[512, 512, "PNG"]], count=1,
                         failures=[["gen.image.dimensions", "MUST", "asked 1024x1024, got 512x512"]])
    observations = [wrong, _observation("b", 0.2, 1.2, images=[[1536, 1024, "PNG"]], count=1)]
    rows = {r["id"]: r for r in judge(worldrouter, observations, {"a": _A, "b": _B}, alone={})["requirements"]}
    assert rows["load.no-crossed-answers"]["status"] == "passed"
    assert rows["load.contract-held"]["status"] == "failed" and "gen.image.dimensions" in rows["load.contract-held"]["message"]


def test_a_5xx_is_load_only_when_the_request_alone_is_served(worldrouter):
    failing = [["gen.accepts-valid", "MUST", "HTTP 500"]]
    observations = [_observation("a", 0.0, 1.0, status=500, answer="server-error", failures=failing),
                    _observation("c", 0.1, 1.1, status=500, answer="server-error", failures=failing),
                    _observation("b", 0.2, 1.2, images=[[1536, 1024, "PNG"]], count=1)]
    rows = {r["id"]: r for r in judge(worldrouter, observations, {"a": _A, "b": _B, "c": _C},
                                      alone={"a": {"status": 200, "shows_own": True},
                                             "c": {"status": 500, "shows_own": False}})["requirements"]}
    assert rows["load.no-load-only-5xx"]["status"] == "failed" and rows["load.no-load-only-5xx"]["failed"] == 1
    assert "served alone" in rows["load.no-load-only-5xx"]["message"]
    # c fails alone too: not a load effect, but the contract is not held either
    assert rows["load.contract-held"]["status"] == "failed" and rows["load.contract-held"]["failed"] == 1


def test_rate_limiting_is_judged_for_its_shape_and_retry_after(worldrouter):
    observations = [_observation("a", 0.0, 1.0, status=429, answer="rate-limited", retry_after=None,
                                 retry_after_usable=False),
                    _observation("b", 0.2, 1.2, status=429, answer="rate-limited", retry_after="1",
                                 retry_after_usable=True, shape="error: 'error' is a required property")]
    rows = {r["id"]: r for r in judge(worldrouter, observations, {"a": _A, "b": _B}, alone={})["requirements"]}
    assert rows["load.rate-limit-retry-after"]["status"] == "failed" and rows["load.rate-limit-retry-after"]["level"] == "SHOULD"
    assert rows["load.rate-limit-shape"]["status"] == "failed" and rows["load.rate-limit-shape"]["failed"] == 1
    assert rows["load.no-crossed-answers"]["status"] == "skipped"  # no 200 answer: nothing could cross


def test_one_request_at_a_time_proves_nothing_about_load(worldrouter):
    observations = [_observation("a", 0.0, 1.0, images=[[1024, 1024, "PNG"]], count=1),
                    _observation("b", 1.5, 2.5, images=[[1536, 1024, "PNG"]], count=1)]
    rows = {r["id"]: r for r in judge(worldrouter, observations, {"a": _A, "b": _B}, alone={})["requirements"]}
    assert rows["load.no-crossed-answers"]["status"] == "skipped"
    assert "never two requests in flight" in rows["load.no-crossed-answers"]["message"]
    assert rows["load.contract-held"]["status"] == "passed"


# ------------------------------------------------------------------ whole runs


def test_twenty_users_for_thirty_seconds_against_the_embedded_router_pass_and_draw_the_plots(tmp_path):
    done = run_cli("load", "--users", "20", "--spawn-rate", "10", "--duration", "30", "--report-dir", "r",
                   cwd=tmp_path, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    data = _load_json(tmp_path / "r")
    assert data["verdict"] == "passed" and data["totals"]["max_in_flight"] >= 10
    assert _status(data)["load.no-crossed-answers"] == "passed"
    assert _status(data)["load.contract-held"] == "passed" and _status(data)["load.no-load-only-5xx"] == "passed"
    assert data["totals"]["by_status"].get("200", 0) > 100 and "400" in data["totals"]["by_status"]  # invalid share
    assert any(level["in_flight"] == "17-32" for level in data["levels"])
    page = (tmp_path / "r" / "worldrouter" / "load.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 3 and "latency percentiles per status" in page and "concurrency over time" in page
    assert "PASSED" in done.stdout and "load.html" in done.stdout


@pytest.mark.parametrize("fault, requirement, strict", [
    ("crossed-answers", "load.no-crossed-answers", False),
    ("500-under-load", "load.no-load-only-5xx", False),
    ("429-no-retry-after", "load.rate-limit-retry-after", True),  # a SHOULD: it fails the gate under --strict
])
def test_each_concurrency_fault_fails_the_run_naming_its_requirement(tmp_path, fault, requirement, strict):
    done = run_cli("load", "--users", "16", "--spawn-rate", "16", "--duration", "6", "--fault", fault,
                   *(["--strict"] if strict else []), "--report-dir", "r", cwd=tmp_path, timeout=180)
    assert done.returncode == 1, done.stdout + done.stderr
    data = _load_json(tmp_path / "r")
    failed = {r["id"] for r in data["requirements"] if r["status"] == "failed"}
    assert failed == {requirement}, failed
    assert "FAIL" in done.stdout and requirement in done.stdout
    example = next(r for r in data["requirements"] if r["id"] == requirement)["examples"][0]
    assert example["evidence"]["curl"].startswith("curl") and "$ROUTER_API_KEY" in example["evidence"]["curl"]


def test_the_429_fault_without_strict_is_a_warning_and_a_conformant_rate_limiter_passes(tmp_path):
    done = run_cli("load", "--users", "16", "--spawn-rate", "16", "--duration", "5", "--fault",
                   "429-no-retry-after", "--report-dir", "a", cwd=tmp_path, timeout=180)
    assert done.returncode == 0 and "warn SHOULD load.rate-limit-retry-after" in done.stdout, done.stdout
    done = run_cli("load", "--users", "8", "--spawn-rate", "8", "--duration", "5", "--fault", "rate-limited",
                   "--report-dir", "b", cwd=tmp_path, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    data = _load_json(tmp_path / "b")
    assert _status(data)["load.rate-limit-retry-after"] == "passed" and _status(data)["load.rate-limit-shape"] == "passed"


def test_a_paid_router_needs_a_generation_budget_and_nothing_is_sent_without_one(tmp_path):
    with socket.socket() as listener:  # a router that would see any request: none may arrive
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.5)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
        done = run_cli("load", "--router-url", url, "--duration", "5", "--report-dir", "r", cwd=tmp_path,
                       env={"ROUTER_API_KEY": "sk-paid-0123456789"}, timeout=60)
        with pytest.raises(socket.timeout):
            listener.accept()
    assert done.returncode == 2 and "--max-generations" in done.stderr, done.stderr
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("users", [4, 30])  # 30: more users than combinations, so users queue for a lease
def test_the_generation_budget_bounds_billable_requests(tmp_path, users):
    done = run_cli("load", "--users", str(users), "--spawn-rate", str(users), "--duration", "30",
                   "--max-generations", "12", "--models", "grok-imagine-image", "--invalid-share", "0",
                   "--report-dir", "r", cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    data = _load_json(tmp_path / "r")
    assert data["totals"]["billable"] + 1 <= 12  # the preflight request counts too
    assert "budget" in data["totals"]["stopped"] and data["totals"]["duration_s"] < 25


def test_a_router_that_ignores_size_breaks_the_contract_not_the_load(tmp_path):
    done = run_cli("load", "--users", "12", "--spawn-rate", "12", "--duration", "5", "--fault", "fixed-1024",
                   "--report-dir", "r", cwd=tmp_path, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    data = _load_json(tmp_path / "r")
    assert _status(data)["load.no-crossed-answers"] == "passed"  # its wrong answers are wrong alone too
    assert _status(data)["load.contract-held"] == "failed"
    assert any(r is not None and r["shows_own"] is False for r in data["alone"].values())


def test_an_unreachable_router_is_not_assessed_not_failed(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = run_cli("load", "--router-url", f"http://127.0.0.1:{port}/v1", "--max-generations", "5",
                   "--duration", "3", "--report-dir", "r", cwd=tmp_path, env={"ROUTER_API_KEY": "sk-x-0123456789"},
                   timeout=60)
    assert done.returncode == 3, done.stdout + done.stderr
    data = _load_json(tmp_path / "r")
    assert data["verdict"] == "not-assessed" and data["totals"]["requests"] == 0
    assert all(r["status"] != "passed" for r in data["requirements"])


def test_an_observation_holds_no_key_even_when_the_router_json_escapes_it(worldrouter):
    key = "sk-load/secret+4f9a1c77e2"
    redactor = Redactor(key)
    workload = build_workload(worldrouter)
    case = workload.pool[0]
    body = json.dumps({"error": {"message": f"upstream refused key {key}", "type": "server_error", "param": None,
                                 "code": None}}).replace("/", "\\/")  # a router writing \/ for /
    assert key not in body and key.replace("/", "\\/") in body
    exchange = Exchange("POST", "http://127.0.0.1:1/v1/images/generations", {"authorization": f"Bearer {key}"},
                        case.body, status=500, headers={"content-type": "application/json"}, content=body.encode(),
                        redactor=redactor)
    record = observe(worldrouter, case, workload.combinations[case.id], exchange, started=0.0, ended=1.0,
                     levels={}, redact=redactor.text, base_url="http://127.0.0.1:1/v1", keep_evidence=lambda key: True)
    text = json.dumps(record)
    assert record["class"] == "server-error" and "evidence" in record
    assert key not in text and key.replace("/", "\\/") not in text and "sk-load" not in text
    assert "$ROUTER_API_KEY" in text


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_one_master_and_two_workers_on_loopback(tmp_path):
    port = str(_free_port())
    command = [sys.executable, "-m", "harness.cli", "load"]
    master = subprocess.Popen([*command, "--master", "--expect-workers", "2", "--master-port", port, "--users", "10",
                               "--spawn-rate", "10", "--duration", "8", "--report-dir", "r"], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    workers = [subprocess.Popen([*command, "--worker", "--master-host", "127.0.0.1", "--master-port", port],
                                cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env={**os.environ})
               for _ in range(2)]
    try:
        out, _ = master.communicate(timeout=180)
        assert master.returncode == 0, out
        for worker in workers:
            worker_out, _ = worker.communicate(timeout=60)  # each quits when its master does
            assert worker.returncode == 0, worker_out
    finally:
        for process in (master, *workers):
            process.kill()
    data = _load_json(tmp_path / "r")
    assert data["verdict"] == "passed" and data["totals"]["workers"] == 2
    assert set(data["totals"]["by_worker"]) == {"0", "1"}  # both workers sent, and the master judged them all
    assert data["totals"]["max_in_flight"] >= 5
    assert _status(data)["load.no-crossed-answers"] == "passed"


def test_a_worker_without_the_key_stops_the_run_as_the_operators_mistake(tmp_path):
    """With a real router the key never travels to workers: a worker must have it in its own environment."""
    port, router_port = str(_free_port()), _free_port()
    router = subprocess.Popen([sys.executable, "-m", "harness.cli", "serve", "--port", str(router_port),
                               "--api-key", "sk-served-0123456789"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    environment = {k: v for k, v in os.environ.items() if k != "ROUTER_API_KEY"}
    command = [sys.executable, "-m", "harness.cli", "load"]
    try:
        _wait_for_port(router_port)
        master = subprocess.Popen([*command, "--master", "--expect-workers", "1", "--master-port", port,
                                   "--router-url", f"http://127.0.0.1:{router_port}/v1", "--max-generations", "20",
                                   "--duration", "20", "--report-dir", "r"], cwd=tmp_path, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  env={**environment, "ROUTER_API_KEY": "sk-served-0123456789"})
        worker = subprocess.Popen([*command, "--worker", "--master-port", port], cwd=tmp_path, env=environment,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        out, _ = master.communicate(timeout=120)
        worker.communicate(timeout=60)
    finally:
        for process in (router, master, worker):
            process.kill()
    assert master.returncode == 2, out
    data = _load_json(tmp_path / "r")
    assert data["verdict"] == "not-assessed" and "set ROUTER_API_KEY on the worker" in data["not_assessed"]
    assert "sk-served" not in json.dumps(data)


def _wait_for_port(port: int, timeout: float = 20.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


def test_run_load_from_python_never_imports_locust_or_gevent_into_the_caller(tmp_path):
    script = ("import sys\nfrom harness.load import LoadConfig, run_load\n"
              "code, data = run_load(LoadConfig(users=4, spawn_rate=4, duration=3, report_dir='r'))\n"
              "print(code, data['verdict'], 'locust' in sys.modules, 'gevent' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["0", "passed", "False", "False"], done.stdout + done.stderr
