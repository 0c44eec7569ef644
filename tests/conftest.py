"""Shared fixtures of the harness's own tests (no network beyond loopback, no paid router)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from harness import load_profile

# CI runs the property tests derandomized: the same examples on every run, so a
# red build is reproducible; locally they explore new examples each time.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


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


def read_results(report_dir: Path, profile: str) -> dict[str, Any]:
    return json.loads((report_dir / profile / "results.json").read_text(encoding="utf-8"))


def failed_ids(results: dict[str, Any]) -> set[str]:
    return {r["id"] for r in results["requirements"] if r["status"] == "failed"}
