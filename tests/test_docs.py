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
