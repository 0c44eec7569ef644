"""Print the harness's peak memory for large answers, against the size of the images they carry.

Usage: python benchmarks/bench_memory.py [--size 3840x2160] [--n 4]

A reference router (``conformance serve``) runs on 127.0.0.1 in a
subprocess; this process sends one valid request for ``n`` images of
``size``, judges the answer with every check and builds its evidence, and
prints the growth of its peak RSS (``VmHWM``, Linux) over the baseline
taken just before, next to the decoded size of the images (RGBA, 4 bytes
per pixel). Issue 15 asks for that growth to stay within 3x the decoded size.
Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time


def _peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (``VmHWM`` of /proc/self/status)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="worldrouter")
    parser.add_argument("--model", default="gpt-image-2")
    parser.add_argument("--size", default="3840x2160")
    parser.add_argument("--n", type=int, default=4)
    args = parser.parse_args()

    from harness import load_profile
    from harness.checks import check_case
    from harness.evidence import build_evidence
    from harness.spec import Case
    from harness.transport.client import Limits, RouterClient

    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "harness.cli", "serve", "--profile", args.profile,
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        profile = load_profile(args.profile)
        client = RouterClient(f"http://127.0.0.1:{port}{profile.base_path}", api_key=None, limits=Limits.from_timeout(300))
        deadline = time.monotonic() + 30
        while True:
            try:
                client.probe()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        body = {"model": args.model, "prompt": "a red circle", "size": args.size, "n": args.n, "quality": "low"}
        case = Case(id="bench", kind="valid", endpoint="generations", model=args.model, body=body,
                    requirements=("gen.accepts-valid",), billable=True, origin="benchmark")
        client.post(profile.endpoints["generations"].path, {**body, "n": 1, "size": "1024x1024"})  # warm up
        baseline = _peak_rss_mb()
        started = time.perf_counter()
        exchange = client.post(profile.endpoints["generations"].path, body)
        sent = time.perf_counter() - started
        verdict = check_case(profile, case, exchange)
        evidence = build_evidence(exchange, verdict.images, redact=client.redact)
        judged = time.perf_counter() - started - sent
        grown = _peak_rss_mb() - baseline
        w, h = (int(x) for x in args.size.split("x"))
        decoded = 4 * w * h * args.n / 2**20
        failed = sorted({r.requirement for r in verdict.results if not r.passed})
        print(f"answer: HTTP {exchange.status}, {len(exchange.content) / 2**20:.1f} MiB body, "
              f"{len(verdict.images)} images decoded, failed: {failed or 'none'}, "
              f"{len(evidence['thumbnails'])} thumbnails")
        print(f"request {sent:.2f} s, checks and evidence {judged:.2f} s")
        print(f"decoded images (RGBA): {decoded:.0f} MiB; peak RSS growth: {grown:.0f} MiB "
              f"({grown / decoded:.2f}x the decoded size; baseline {baseline:.0f} MiB)")
        client.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
