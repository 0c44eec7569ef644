"""Certify the reverse proxies people put in front of image models: nginx, Caddy, openai-forward (marker ``gateway``).

Each test starts the reference router (the upstream) and one gateway on loopback, configured by the
recipe in ``examples/gateways/`` (key check, key swap, an OpenAI-shaped 401), and runs
``conformance run --profile openai`` through it as a CI job would. The exit code, verdict and failed
requirement ids must be exactly those recorded in ``tests/gateway/proxies.json``, each one explained
in ``docs/gateways/<name>.md``: a change either way (a new failure, a deviation fixed) fails the test.

nginx and Caddy come from Debian's packages (``.ci/run`` installs them); openai-forward from PyPI, into
a virtual environment cached like LiteLLM's. Missing binaries skip, unless ``IRC_REQUIRE_GATEWAYS=1``
(CI), which turns the skip into a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness import build_plan, load_profile
from harness.reference._server import running_router

from .conftest import failed_ids, free_ports, gateway_venv, read_results, run_cli, wait_for_port

pytestmark = pytest.mark.gateway

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "gateways"
EXPECTED = json.loads((Path(__file__).parent / "gateway" / "proxies.json").read_text())
OPENAI = load_profile("openai")
GATEWAY_KEY = "sk-gateway-0123456789"  # what clients of the gateway (the harness) send
UPSTREAM_KEY = "sk-upstream-9876543210"  # what the gateway sends to the reference router
OPENAI_FORWARD = "0.8.1"


def _binary(name: str) -> str:
    found = shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None)
    if found is None:
        reason = f"{name} is not installed (Debian: apt-get install {name}); .ci/run installs it"
        if os.environ.get("IRC_REQUIRE_GATEWAYS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def _version(command: list[str]) -> str:
    proc = subprocess.run(command, capture_output=True, text=True, timeout=30)
    return (proc.stdout + proc.stderr).strip()


def _render(template: Path, values: dict[str, str]) -> str:
    """``template`` with each ``${NAME}`` of ``values`` filled in (envsubst with a list of names)."""
    text = template.read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace("${%s}" % name, value)
    assert "${" not in text, "a placeholder of the recipe was not filled in"
    return text


@contextmanager
def _process(command: list[str], *, port: int, cwd: Path, env: dict[str, str] | None = None) -> Iterator[None]:
    log = (cwd / "gateway.log").open("w")
    proc = subprocess.Popen(command, cwd=cwd, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        if not wait_for_port(port, timeout_s=60):
            log.flush()
            pytest.fail(f"{command[0]} did not listen on 127.0.0.1:{port}: {(cwd / 'gateway.log').read_text()[-2000:]}")
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _certify_through(gateway_port: int, tmp_path: Path, expected: dict) -> None:
    """``conformance run --profile openai`` through the gateway; its outcome must be exactly ``expected``."""
    proc = run_cli("run", "--profile", "openai", "--router-url", f"http://127.0.0.1:{gateway_port}/v1",
                   "--report-dir", str(tmp_path / "reports"), "--timeout", "60",
                   cwd=tmp_path, env={"ROUTER_API_KEY": GATEWAY_KEY, "NO_PROXY": "127.0.0.1,localhost"}, timeout=900)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr[-3000:]
    results = read_results(tmp_path / "reports", "openai")
    assert results["requests"]["sent"] == len([c for c in build_plan(OPENAI) if not c.skip])  # the run completed
    assert GATEWAY_KEY not in (tmp_path / "reports" / "openai" / "report.html").read_text()
    outcome = {"exit": proc.returncode, "verdict": results["verdict"], "failed": sorted(failed_ids(results))}
    assert outcome == {"exit": expected["exit"], "verdict": expected["verdict"], "failed": sorted(expected["failed"])}, \
        proc.stdout[-3000:]
    rows = {r["id"]: r for r in results["requirements"]}
    for rid, needle in expected.get("messages", {}).items():  # the evidence names the cause
        assert any(needle in f["message"] for f in rows[rid]["failures"]), (rid, needle, rows[rid]["failures"][:1])


# ------------------------------------------------------------------ nginx


@pytest.mark.parametrize("setup", sorted(EXPECTED["nginx"]["setups"]))
def test_nginx_in_front_of_the_reference_router(setup, tmp_path):
    nginx = _binary("nginx")
    version = _version([nginx, "-v"])
    assert EXPECTED["nginx"]["version"] in version, f"expectations are for nginx {EXPECTED['nginx']['version']}: {version}"
    expected = EXPECTED["nginx"]["setups"][setup]
    upstream_port, gateway_port = free_ports(2)
    public = f"http://127.0.0.1:{gateway_port}/v1" if expected.get("public_url") else None
    config = _render(EXAMPLES / "nginx.conf", {
        "GATEWAY_PORT": str(gateway_port), "UPSTREAM": f"127.0.0.1:{upstream_port}", "GATEWAY_KEY": GATEWAY_KEY,
        "UPSTREAM_KEY": UPSTREAM_KEY, "CLIENT_MAX_BODY_SIZE": expected["client_max_body_size"],
        "PREFIX": str(tmp_path)})
    (tmp_path / "nginx.conf").write_text(config)
    with running_router(OPENAI, api_key=UPSTREAM_KEY, port=upstream_port, public_url=public), \
            _process([nginx, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")], port=gateway_port, cwd=tmp_path):
        _certify_through(gateway_port, tmp_path, expected)


# ------------------------------------------------------------------ Caddy


@pytest.mark.parametrize("setup", sorted(EXPECTED["caddy"]["setups"]))
def test_caddy_in_front_of_the_reference_router(setup, tmp_path):
    caddy = _binary("caddy")
    version = _version([caddy, "version"])
    assert version.startswith(EXPECTED["caddy"]["version"]), f"expectations are for Caddy {EXPECTED['caddy']['version']}: {version}"
    expected = EXPECTED["caddy"]["setups"][setup]
    upstream_port, gateway_port = free_ports(2)
    public = f"http://127.0.0.1:{gateway_port}/v1" if expected.get("public_url") else None
    env = {"GATEWAY_PORT": str(gateway_port), "UPSTREAM": f"127.0.0.1:{upstream_port}", "GATEWAY_KEY": GATEWAY_KEY,
           "UPSTREAM_KEY": UPSTREAM_KEY, "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    command = [caddy, "run", "--config", str(EXAMPLES / "Caddyfile"), "--adapter", "caddyfile"]
    with running_router(OPENAI, api_key=UPSTREAM_KEY, port=upstream_port, public_url=public), \
            _process(command, port=gateway_port, cwd=tmp_path, env=env):
        _certify_through(gateway_port, tmp_path, expected)


# ------------------------------------------------------------------ openai-forward


@pytest.fixture(scope="module")
def openai_forward() -> Path:
    """The ``python`` of a virtual environment holding ``openai-forward==0.8.1`` and the pyyaml it imports
    without declaring (installed once)."""
    return gateway_venv("openai-forward", OPENAI_FORWARD, [f"openai-forward=={OPENAI_FORWARD}", "pyyaml"]) / "bin" / "python"


@pytest.mark.parametrize("setup", sorted(EXPECTED["openai-forward"]["setups"]))
def test_openai_forward_in_front_of_the_reference_router(openai_forward, setup, tmp_path):
    expected = EXPECTED["openai-forward"]["setups"][setup]
    upstream_port, gateway_port = free_ports(2)
    public = f"http://127.0.0.1:{gateway_port}/v1" if expected.get("public_url") else None
    recipe = (EXAMPLES / "openai-forward.env").read_text(encoding="utf-8")
    env_file = (recipe.replace("http://127.0.0.1:8001", f"http://127.0.0.1:{upstream_port}")
                .replace("sk-upstream-example", UPSTREAM_KEY).replace("fk-gateway-example", GATEWAY_KEY))
    assert env_file != recipe
    (tmp_path / ".env").write_text(env_file)
    command = [str(openai_forward), "-m", "uvicorn", "openai_forward.app:app", "--host", "127.0.0.1",
               "--port", str(gateway_port)]
    foreign = {k: "" for k in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")}
    with running_router(OPENAI, api_key=UPSTREAM_KEY, port=upstream_port, public_url=public), \
            _process(command, port=gateway_port, cwd=tmp_path, env=foreign):
        _certify_through(gateway_port, tmp_path, expected)
