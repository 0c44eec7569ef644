"""Shared fixtures of the harness's own tests (no network beyond loopback, no paid router)."""

from __future__ import annotations

import json
import os
import socket
import time
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from jsonschema import Draft202012Validator

from harness import load_profile, results_schema

# CI runs the property tests derandomized: the same examples on every run, so a
# red build is reproducible; locally they explore new examples each time.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

#: The routers' source documents. Outside this workspace they are absent, and the tests that read them skip;
#: CI sets IRC_REQUIRE_SEEDS=1, which turns that skip into a failure.
SEEDS = Path(os.environ.get("IRC_SEEDS_DIR") or Path(__file__).resolve().parents[2] / "shared" / "seeds")


def seed_text(name: str) -> str:
    """The text of source document ``name``; skips the test (fails it under IRC_REQUIRE_SEEDS=1) when absent."""
    path = SEEDS / name
    if not path.is_file():
        reason = f"source document {name} not found in {SEEDS} (set IRC_SEEDS_DIR to the seeds folder)"
        if os.environ.get("IRC_REQUIRE_SEEDS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def worldrouter():
    return load_profile("worldrouter")


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``conformance ARGS`` as a user would, in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )


_RESULTS = Draft202012Validator(results_schema())


def read_results(report_dir: Path, profile: str) -> dict[str, Any]:
    """``report_dir/profile/results.json``, after checking it against the shipped results schema (every test's file is)."""
    return load_results(report_dir / profile / "results.json")


def load_results(path: Path) -> dict[str, Any]:
    """A results.json file, asserted valid against the shipped results schema."""
    data = json.loads(path.read_text(encoding="utf-8"))
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _RESULTS.iter_errors(data)]
    assert not problems, problems[:5]
    return data


def failed_ids(results: dict[str, Any]) -> set[str]:
    return {r["id"] for r in results["requirements"] if r["status"] == "failed"}


def free_ports(count: int = 1) -> list[int]:
    """``count`` distinct free TCP ports on 127.0.0.1 (all bound at once, so never the same one twice)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def wait_for_port(port: int, *, timeout_s: float = 20.0) -> bool:
    """True once something listens on 127.0.0.1:``port`` (a server started in a subprocess); False after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def gateway_venv(name: str, version: str, requirements: list[str]) -> Path:
    """A virtual environment holding ``requirements`` (a gateway pinned at ``version``), installed once into
    ``$IRC_GATEWAY_CACHE`` or ``~/.cache/image-router-conformance`` as ``<name>-<version>``; its folder.

    A file lock keeps two pytest-xdist workers from installing into the same folder at once; a
    half-finished install (no ``.installed`` marker) is redone.
    """
    import fcntl
    import shutil

    cache = Path(os.environ.get("IRC_GATEWAY_CACHE") or Path.home() / ".cache" / "image-router-conformance")
    venv = cache / f"{name}-{version}"
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / f"{name}-{version}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / ".installed").exists():
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", *requirements], check=True, timeout=900)
            (venv / ".installed").write_text(version)
    return venv
