"""Print how --workers scales against a slow router: wall time vs total latency / workers.

The embedded reference router is slowed to ``--latency`` seconds per answer;
a run with N workers should take about (requests x latency) / N plus the
harness's own fixed cost (plan, checks, report). Run:

    python benchmarks/bench_workers.py --latency 1.0 --workers 8
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _run(profile: str, latency: float, workers: int, out: Path) -> tuple[float, dict]:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "harness.cli", "run", "--profile", profile, "--latency", str(latency),
                    "--workers", str(workers), "--report-dir", str(out)], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    return wall, json.loads((out / profile / "results.json").read_text(encoding="utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="worldrouter")
    parser.add_argument("--latency", type=float, default=1.0, help="seconds per answer")
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base_wall, _ = _run(args.profile, 0.0, 1, Path(tmp) / "base")
        wall, results = _run(args.profile, args.latency, args.workers, Path(tmp) / "slow")
    sent = results["requests"]["sent"]
    ideal = sent * args.latency / args.workers
    print(f"profile {args.profile}: {sent} requests x {args.latency:.2f} s = {sent * args.latency:.1f} s total latency")
    print(f"no latency, 1 worker (fixed cost): {base_wall:.2f} s")
    print(f"{args.workers} workers: {wall:.2f} s wall; total latency / workers = {ideal:.2f} s; ratio {wall / ideal:.2f}x")
    print(f"verdict {results['verdict']}")


if __name__ == "__main__":
    main()
