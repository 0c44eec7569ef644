"""Certify a real gateway: LiteLLM's proxy, with the reference router as its upstream (marker ``gateway``).

QA teams point the harness at gateways they did not write; this proves it
works on the most used open-source one. LiteLLM is installed at a pinned
version into its own virtual environment, cached between runs (in
``$IRC_GATEWAY_CACHE`` or ``~/.cache/image-router-conformance``), and started
on 127.0.0.1 with a ``model_list`` whose ``api_base`` is a reference router
on loopback. The verdict and failed requirement ids must be exactly those in
``tests/gateway/litellm-<version>.json``; each one is explained in
``docs/gateways/litellm.md``. A change in either direction (a new failure,
or a deviation LiteLLM fixed) fails the test, so the expectations stay true.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import yaml

from harness import build_plan, load_profile
from harness.reference import running_router

from .conftest import failed_ids, read_results, run_cli

pytestmark = pytest.mark.gateway

LITELLM_VERSION = "1.102.4"
EXPECTATIONS = json.loads((Path(__file__).parent / "gateway" / f"litellm-{LITELLM_VERSION}.json").read_text())
MASTER_KEY = "sk-gateway-master-0123456789"  # what clients of the gateway send (the harness's ROUTER_API_KEY)
UPSTREAM_KEY = "sk-upstream-9876543210"  # what the gateway sends to the reference router


def _cache_dir() -> Path:
    return Path(os.environ.get("IRC_GATEWAY_CACHE") or Path.home() / ".cache" / "image-router-conformance")


@pytest.fixture(scope="module")
def litellm() -> Path:
    """The ``litellm`` command of a virtual environment holding ``litellm[proxy]==LITELLM_VERSION`` (installed once)."""
    venv = _cache_dir() / f"litellm-{LITELLM_VERSION}"
    ready = venv / ".installed"
    if not ready.exists():
        shutil.rmtree(venv, ignore_errors=True)
        venv.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", f"litellm[proxy]=={LITELLM_VERSION}"],
                       check=True, timeout=900)
        ready.write_text(LITELLM_VERSION)
    return venv / "bin" / "litellm"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proxy_config(upstream: str, models: list[str]) -> dict:
    """LiteLLM's config: each model routed to ``upstream`` as an OpenAI-compatible provider, a master key."""
    return {
        "model_list": [{"model_name": m, "litellm_params": {"model": f"openai/{m}", "api_base": upstream,
                                                            "api_key": UPSTREAM_KEY}} for m in models],
        "general_settings": {"master_key": MASTER_KEY},
        "litellm_settings": {"telemetry": False},
    }


@contextmanager
def litellm_proxy(litellm: Path, config: dict, workdir: Path) -> Iterator[str]:
    """Run the proxy on 127.0.0.1 until it answers its liveness probe; yields its base URL (``.../v1``)."""
    path = workdir / "litellm.yaml"
    path.write_text(yaml.safe_dump(config))
    port = _free_port()
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}  # no cost map download at start
    log = (workdir / "litellm.log").open("w")
    proc = subprocess.Popen([str(litellm), "--config", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=workdir)
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"LiteLLM did not start:\n{(workdir / 'litellm.log').read_text()[-3000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health/liveliness", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.mark.parametrize("profile", sorted(EXPECTATIONS["profiles"]))
def test_litellm_in_front_of_the_reference_router(litellm, profile, tmp_path):
    expected = EXPECTATIONS["profiles"][profile]
    models = expected["models"]
    with running_router(load_profile(profile), api_key=UPSTREAM_KEY) as upstream:
        with litellm_proxy(litellm, proxy_config(upstream, models), tmp_path) as url:
            proc = run_cli("run", "--profile", profile, "--models", ",".join(models), "--router-url", url,
                           "--report-dir", str(tmp_path / "reports"), "--timeout", "60", cwd=tmp_path,
                           env={"ROUTER_API_KEY": MASTER_KEY})
    assert "Traceback" not in proc.stdout + proc.stderr
    results = read_results(tmp_path / "reports", profile)
    report = tmp_path / "reports" / profile / "report.html"
    assert report.stat().st_size > 10_000 and MASTER_KEY not in report.read_text()
    plan = build_plan(load_profile(profile), models=tuple(models))
    assert results["requests"]["sent"] == len([c for c in plan if not c.skip])  # the run completed
    assert (results["verdict"], sorted(failed_ids(results))) == (expected["verdict"], sorted(expected["failed"]))
    assert proc.returncode == (1 if expected["verdict"] == "non-conformant" else 0)
