"""Print the fault detection table: each fault -> the failed requirements that caught it, and the run time.

Usage: python benchmarks/fault_detection.py [--jobs N]
Each fault runs ``conformance run`` against the embedded reference router on
127.0.0.1 with that fault (``--timeout 5``); nothing leaves the machine.
``tests/test_cli.py::test_every_fault_is_caught_by_its_requirement`` asserts
the same thing; this script prints the whole table for the issue notes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def _run(name: str, profile: str) -> tuple[str, list[str], int, float]:
    with tempfile.TemporaryDirectory() as out:
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--profile", profile, "--fault", name,
                               "--timeout", "5", "--report-dir", out], capture_output=True, text=True)
        elapsed = time.monotonic() - started
        rows = json.loads((Path(out) / profile / "results.json").read_text())["requirements"]
    failed = [f"{r['id']} ({r['level']})" for r in rows if r["status"] == "failed"]
    return name, failed, proc.returncode, elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()

    from harness.reference import FAULTS

    with ThreadPoolExecutor(args.jobs) as pool:
        # a fault only load shows is benchmarks/load_faults.py's
        results = list(pool.map(lambda f: _run(f.name, f.profile), [f for f in FAULTS.values() if not f.under_load]))
    missed = 0
    print("| fault | profile | breaks | caught by (failed requirements) | exit | s |")
    print("|---|---|---|---|---|---|")
    for name, failed, code, elapsed in results:
        fault = FAULTS[name]
        hit = fault.breaks is None and not failed or any(
            f.split(" ")[0].endswith(fault.breaks or "\0") for f in failed)
        missed += not hit
        print(f"| {name} | {fault.profile} | {fault.breaks or '(nothing: absorbed)'} | "
              f"{', '.join(failed) or '-'} | {code} | {elapsed:.1f} |{'' if hit else ' MISSED'}")
    print(f"\n{len(results)} faults, {len(results) - missed} caught as the catalogue says, {missed} missed")


if __name__ == "__main__":
    main()
