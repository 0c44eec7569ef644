"""Documents generated from the profiles stay current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_fidelity_table_is_current():
    """docs/fidelity.md lists every requirement each profile encodes; regenerate with `python docs/fidelity.py`."""
    proc = subprocess.run([sys.executable, str(DOCS / "fidelity.py"), "--check"], capture_output=True, text=True)
    assert proc.returncode == 0, "docs/fidelity.md is stale: run python docs/fidelity.py" + proc.stderr


def test_fidelity_table_has_every_profile_and_requirement():
    from harness import catalogue, load_profile
    from harness._resources import builtin_profiles

    text = (DOCS / "fidelity.md").read_text(encoding="utf-8")
    for name in builtin_profiles():
        assert f"(`{name}`)" in text
        for rid in catalogue(load_profile(name)):
            assert f"| `{rid}` |" in text, rid


def test_every_recorded_gateway_deviation_is_explained_in_its_guide():
    """Each failed id in tests/gateway/*.json is named in docs/gateways/<gateway>.md (a model id may be
    written as ``<model>``), so an expectation never changes without its explanation."""
    import json
    import re

    from harness import load_profile

    models = {m for name in ("openai", "worldrouter") for m in load_profile(name).models}
    recorded = Path(__file__).parent / "gateway"
    litellm = json.loads(next(recorded.glob("litellm-*.json")).read_text())
    expectations = {"litellm": [i for p in litellm["profiles"].values() for i in p["failed"]]}
    for gateway, entry in json.loads((recorded / "proxies.json").read_text()).items():
        if isinstance(entry, dict) and "setups" in entry:
            expectations[gateway] = [i for setup in entry["setups"].values() for i in setup["failed"]]
    assert set(expectations) == {"litellm", "nginx", "caddy", "openai-forward"}
    pattern = re.compile("|".join(re.escape(m) for m in sorted(models, key=len, reverse=True)))
    for gateway, failed in expectations.items():
        guide = (DOCS / "gateways" / f"{gateway}.md").read_text(encoding="utf-8")
        for rid in failed:
            assert f"`{rid}`" in guide or f"`{pattern.sub('<model>', rid)}`" in guide, (gateway, rid)
