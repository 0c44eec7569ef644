"""Certify a real gateway: LiteLLM's proxy, with the reference router as its upstream (marker ``gateway``).

QA teams point the harness at gateways they did not write; this proves it
works on the most used open-source one. LiteLLM is installed at a pinned
version into its own virtual environment, cached between runs (in
``$IRC_GATEWAY_CACHE`` or ``~/.cache/image-router-conformance``), and started
on 127.0.0.1 by ``examples/certify-gateway.sh`` (README's CI recipe) with
``examples/litellm.yaml``, whose ``api_base`` is a reference router on loopback. The verdict and failed requirement ids must be exactly those in
``tests/gateway/litellm-<version>.json``; each one is explained in
``docs/gateways/litellm.md``. A change in either direction (a new failure,
or a deviation LiteLLM fixed) fails the test, so the expectations stay true.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from harness import build_plan, load_profile

from .conftest import failed_ids, free_ports, gateway_venv, read_results

pytestmark = pytest.mark.gateway

LITELLM_VERSION = "1.102.4"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EXPECTATIONS = json.loads((Path(__file__).parent / "gateway" / f"litellm-{LITELLM_VERSION}.json").read_text())
MASTER_KEY = "sk-gateway-master-0123456789"  # what clients of the gateway send (the harness's ROUTER_API_KEY)
UPSTREAM_KEY = "sk-upstream-9876543210"  # what the gateway sends to the reference router


@pytest.fixture(scope="module")
def litellm() -> Path:
    """The ``litellm`` command of a virtual environment holding ``litellm[proxy]==LITELLM_VERSION`` (installed once)."""
    return gateway_venv("litellm", LITELLM_VERSION, [f"litellm[proxy]=={LITELLM_VERSION}"]) / "bin" / "litellm"


#: Settings that would change what LiteLLM does (a database, its own options) or send traffic through a proxy.
_FOREIGN = ("DATABASE_URL", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.mark.parametrize("profile", sorted(EXPECTATIONS["profiles"]))
def test_litellm_in_front_of_the_reference_router(litellm, profile, tmp_path):
    """README's gateway recipe, ``examples/certify-gateway.sh``, run as a CI job would run it."""
    expected = EXPECTATIONS["profiles"][profile]
    models = expected["models"]
    upstream_port, gateway_port = free_ports(2)
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN and not k.startswith("LITELLM_")}
    env.update({"PROFILE": profile, "MODELS": ",".join(models), "REPORT_DIR": str(tmp_path / "reports"),
                "UPSTREAM_PORT": str(upstream_port), "GATEWAY_PORT": str(gateway_port),
                "UPSTREAM_KEY": UPSTREAM_KEY, "GATEWAY_KEY": MASTER_KEY, "NO_PROXY": "127.0.0.1,localhost",
                "PATH": os.pathsep.join([str(litellm.parent), str(Path(sys.executable).parent), os.environ["PATH"]])})
    script = subprocess.Popen(["bash", str(EXAMPLES / "certify-gateway.sh")], env=env, cwd=tmp_path, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        stdout, stderr = script.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        os.killpg(script.pid, signal.SIGKILL)  # the script, the upstream and the gateway
        raise
    proc = subprocess.CompletedProcess(script.args, script.returncode, stdout, stderr)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr[-3000:]
    results = read_results(tmp_path / "reports", profile)
    report = tmp_path / "reports" / profile / "report.html"
    assert report.stat().st_size > 10_000 and MASTER_KEY not in report.read_text()
    plan = build_plan(load_profile(profile), models=tuple(models))
    assert results["requests"]["sent"] == len([c for c in plan if not c.skip])  # the run completed
    assert (results["verdict"], sorted(failed_ids(results))) == (expected["verdict"], sorted(expected["failed"]))
    assert proc.returncode == (1 if expected["verdict"] == "non-conformant" else 0), proc.stdout[-2000:]
