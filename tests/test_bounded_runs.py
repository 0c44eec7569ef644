"""A run is bounded in time and always leaves its reports: breaker, deadline, retry budget, SIGTERM.

A router that stops answering, a run that outlives its budget and a CI job
killing the run at its own time limit all end the same way: exit 3 (not
assessed), a readable ``report.html`` and a strict-JSON ``results.json``
that says why, and never a verdict on cases that were not judged.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from harness import load_profile
from harness.reference import Fault
from harness.reference._server import running_router

from ._wire import read_request, wire_router
from .conftest import read_results, run_cli

KEY = "sk-bounded-0123456789"


def _strict(path: Path) -> dict:
    def refuse(token: str) -> float:
        raise AssertionError(f"non-finite number {token} in {path}")
    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def _hangs(conn: socket.socket, index: int) -> None:
    """Accepts, reads the request, then sends the start of a header block and never finishes it."""
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Wait: ")
    time.sleep(30)


def test_a_router_that_stops_answering_trips_the_breaker_and_the_run_ends_not_assessed(tmp_path):
    with wire_router(_hangs) as url:
        started = time.monotonic()
        proc = run_cli("run", "--profile", "worldrouter", "--router-url", url, "--timeout", "1",
                       "--report-dir", str(tmp_path), cwd=tmp_path, env={"ROUTER_API_KEY": KEY})
        elapsed = time.monotonic() - started
    assert proc.returncode == 3, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert elapsed < 60, elapsed  # three 1-second timeouts, not one per case
    results = read_results(tmp_path, "worldrouter")
    assert results["verdict"] == "not-assessed" and results["complete"] is True
    assert "stopped answering" in results["not_assessed_reason"]
    assert results["requests"]["sent"] == 3
    assert all(r["status"] != "passed" for r in results["requirements"])
    assert "stopped answering" in (tmp_path / "worldrouter" / "report.html").read_text()
    _strict(tmp_path / "worldrouter" / "results.json")


def test_a_run_past_its_deadline_sends_nothing_more_and_is_not_assessed(tmp_path):
    proc = run_cli("run", "--profile", "worldrouter", "--latency", "0.2", "--deadline", "2",
                   "--report-dir", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 3, proc.stdout[-2000:]
    results = read_results(tmp_path, "worldrouter")
    assert results["verdict"] == "not-assessed"
    assert "--deadline of 2 s passed" in results["not_assessed_reason"]
    assert results["requests"]["skipped"] > 0  # the cases after the deadline were not sent
    if results["requests"]["sent"] == 0:  # a loaded machine may pass the deadline before the first request
        assert all(r["status"] != "passed" for r in results["requirements"])


def test_retry_after_every_time_costs_the_budget_not_a_minute_per_case(tmp_path):
    def always_busy(request):
        return JSONResponse({"error": {"message": "busy", "type": "rate_limit_error", "param": None,
                                       "code": "rate_limited"}}, status_code=429, headers={"Retry-After": "19"})

    fault = Fault("always-429", "answers every request 429 with Retry-After: 19", None,
                  intercept=lambda state: always_busy(None))
    with running_router(load_profile("worldrouter"), api_key=KEY, fault=fault) as url:
        started = time.monotonic()
        proc = run_cli("run", "--profile", "worldrouter", "--router-url", url, "--timeout", "10",
                       "--report-dir", str(tmp_path), cwd=tmp_path, env={"ROUTER_API_KEY": KEY})
        elapsed = time.monotonic() - started
    assert proc.returncode == 3, proc.stdout[-2000:]
    assert elapsed < 60, elapsed  # Retry-After 19 > --timeout 10: not waited; three in a row trip the breaker
    assert "stopped answering" in read_results(tmp_path, "worldrouter")["not_assessed_reason"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_mid_run_leaves_a_partial_report_marked_incomplete(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", "--profile", "worldrouter",
                             "--latency", "0.3", "--report-dir", str(tmp_path)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ})
    results_path = tmp_path / "worldrouter" / "results.json"
    deadline = time.monotonic() + 60
    while not results_path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert results_path.exists(), "results.json is written as the run goes"
    partial = _strict(results_path)
    assert partial["complete"] is False and partial["verdict"] == "not-assessed"
    proc.send_signal(signal.SIGTERM)
    stopped = time.monotonic()
    out, err = proc.communicate(timeout=30)
    assert time.monotonic() - stopped < 15
    assert proc.returncode == 3, out[-2000:] + err[-2000:]
    results = read_results(tmp_path, "worldrouter")
    assert results["complete"] is False and results["verdict"] == "not-assessed"
    assert "interrupted" in results["not_assessed_reason"]
    assert 0 < results["requests"]["sent"] < 60
    report = (tmp_path / "worldrouter" / "report.html").read_text()
    assert "interrupted" in report


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_run_killed_outright_still_leaves_a_readable_partial_report(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", "--profile", "worldrouter",
                             "--latency", "0.3", "--report-dir", str(tmp_path)],
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    report = tmp_path / "worldrouter" / "report.html"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (report.exists() and "gen.accepts-valid" in report.read_text()):
        time.sleep(0.2)
    time.sleep(2.5)  # past the next checkpoint
    proc.kill()
    proc.wait(timeout=10)
    page = report.read_text(encoding="utf-8")
    assert "This report is partial" in page and "Not assessed" in page
    results = read_results(tmp_path, "worldrouter")
    assert results["complete"] is False and results["verdict"] == "not-assessed"
    assert results["requests"]["sent"] > 0
