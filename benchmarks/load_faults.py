"""Load on the embedded router: throughput of a faithful run, and whether each concurrency fault is caught.

Prints, per run, the verdict, the failed load requirements, requests, throughput, latency p50/p95 of the
200s, the most requests in flight and the wall time. Everything is on loopback (the embedded reference
router); nothing is billed. Usage: ``python benchmarks/load_faults.py [--users 20] [--duration 15]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _run(fault: str | None, *, users: int, duration: float, work: Path) -> dict:
    out = work / (fault or "faithful")
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "load", "--users", str(users), "--spawn-rate",
                           str(users), "--duration", str(duration), "--report-dir", str(out),
                           *(["--fault", fault] if fault else [])], capture_output=True, text=True)
    data = json.loads((out / "worldrouter" / "load.json").read_text(encoding="utf-8"))
    ok = data["latency_ms"].get("200", {})
    return {"fault": fault or "(faithful)", "exit": proc.returncode, "verdict": data["verdict"],
            "failed": [r["id"] for r in data["requirements"] if r["status"] == "failed"],
            "requests": data["totals"]["requests"], "rps": data["totals"]["throughput_rps"],
            "p50": ok.get("p50"), "p95": ok.get("p95"), "in_flight": data["totals"]["max_in_flight"],
            "wall": round(time.monotonic() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=float, default=15.0)
    args = parser.parse_args()
    from harness.reference import FAULTS

    faults = [None, *(name for name, f in FAULTS.items() if f.under_load), "rate-limited"]
    print("| fault | exit | verdict | failed load requirements | requests | per s | 200 p50 / p95 ms | max in flight | wall s |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        for fault in faults:
            row = _run(fault, users=args.users, duration=args.duration, work=Path(work))
            print(f"| {row['fault']} | {row['exit']} | {row['verdict']} | {', '.join(row['failed']) or '-'} | "
                  f"{row['requests']} | {row['rps']} | {row['p50']} / {row['p95']} | {row['in_flight']} | "
                  f"{row['wall']} |")


if __name__ == "__main__":
    main()
