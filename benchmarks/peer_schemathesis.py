"""Print Schemathesis and ``conformance run`` side by side, on the faithful reference router and on each fault.

Usage: python benchmarks/peer_schemathesis.py --profile worldrouter [--max-examples 50] [--faults a,b]

Needs Schemathesis (``pip install -e ".[peer]"``: an optional extra, never a test dependency). For
the faithful router and for every fault of the catalogue, one reference router is started on
127.0.0.1 (``conformance serve --fault F``), then Schemathesis runs on ``conformance openapi``'s
export of the profile (``--checks all --phases examples,coverage,fuzzing --mode all``, with the image
hooks of ``examples/schemathesis_hooks.py``) and ``conformance run`` runs against the same router.
Per row: whether each tool caught the fault, its requests, its billable requests (answered 200 on an
image endpoint: a paid router would charge them) and its wall time. Schemathesis "caught" a fault
when it reports a failing check (code and operation) it does not report on the faithful router, ST202
excepted (its answer to every rule JSON Schema cannot state); ``conformance run`` when a requirement
failed. Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-peer-benchmark-0123"


@dataclass
class Outcome:
    found: frozenset[str]  # Schemathesis: "operation: check"; conformance: failed requirement ids
    requests: int
    billable: int
    seconds: float


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(profile: str, fault: str | None, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "harness.cli", "serve", "--profile", profile, "--host", "127.0.0.1",
               "--port", str(port), "--api-key", KEY, *(["--fault", fault] if fault else [])]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"conformance serve did not listen on 127.0.0.1:{port}")


def _schemathesis(executable: str, spec: Path, base_url: str, *, max_examples: int, seed: int) -> Outcome:
    with tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
               "PYTHONPATH": os.pathsep.join([str(ROOT / "examples"), os.environ.get("PYTHONPATH", "")])}
        started = time.monotonic()
        subprocess.run([executable, "run", str(spec), "--url", base_url, "-H", f"Authorization: Bearer {KEY}",
                        "--checks", "all", "--phases", "examples,coverage,fuzzing", "--mode", "all",
                        "--max-examples", str(max_examples), "--seed", str(seed), "--no-color",
                        "--request-timeout", "10",
                        "--report", "junit,har", "--report-dir", out],
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=1800)
        seconds = time.monotonic() - started
        found: set[str] = set()
        for junit in Path(out).glob("junit*"):
            for case in ElementTree.parse(junit).iter("testcase"):
                for failure in case.iter("failure"):  # message: the check codes, "ST101, ST103"
                    found |= {f"{case.get('name')}: {code.strip()}" for code in (failure.get("message") or "?").split(",")}
        requests = billable = 0
        for har in Path(out).glob("har*"):
            for entry in json.loads(har.read_text())["log"]["entries"]:
                requests += 1
                billable += entry["response"]["status"] == 200
    return Outcome(frozenset(found), requests, billable, seconds)


def _conformance(profile: str, base_url: str, *, seed: int) -> Outcome:
    with tempfile.TemporaryDirectory() as out:
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "harness.cli", "run", "--profile", profile, "--router-url", base_url,
                        "--seed", str(seed), "--timeout", "10", "--report-dir", out],
                       env={**os.environ, "ROUTER_API_KEY": KEY}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=1800)
        seconds = time.monotonic() - started
        data = json.loads((Path(out) / profile / "results.json").read_text())
    failed = frozenset(r["id"] for r in data["requirements"] if r["status"] == "failed")
    return Outcome(failed, data["requests"]["sent"], data["requests"]["billable"], seconds)


def _operations(profile) -> list[str]:
    return [f"POST {path}" for e in profile.endpoints.values() for path in (e.path, *e.alternative_paths)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="worldrouter")
    parser.add_argument("--max-examples", type=int, default=50, help="Schemathesis examples per operation and phase")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--faults", default="", help="comma-separated fault names (default: the whole catalogue)")
    parser.add_argument("--schemathesis", default=shutil.which("schemathesis") or shutil.which("st"),
                        help="the schemathesis command (default: on PATH)")
    args = parser.parse_args()
    if not args.schemathesis:
        print("schemathesis not found: pip install -e '.[peer]' (Schemathesis 4.32.5)", file=sys.stderr)
        return 2

    from harness import load_profile
    from harness.derive.openapi import openapi_document
    from harness.reference import FAULTS

    profile = load_profile(args.profile)
    faults = [f for f in args.faults.split(",") if f] or [n for n, f in FAULTS.items() if not f.under_load]
    with tempfile.TemporaryDirectory() as work:
        spec = Path(work) / "openapi.json"
        spec.write_text(json.dumps(openapi_document(profile)))
        rows: list[tuple[str, Outcome, Outcome]] = []
        for fault in [None, *faults]:
            port = _free_port()
            server = _serve(args.profile, fault, port)
            try:
                base = f"http://127.0.0.1:{port}{profile.base_path}"
                peer = _schemathesis(args.schemathesis, spec, base, max_examples=args.max_examples, seed=args.seed)
                ours = _conformance(args.profile, base, seed=args.seed)
            finally:
                server.terminate()
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:  # a fault holding a connection open (stall): no graceful end
                    server.kill()
                    server.wait()
            rows.append((fault or "(faithful)", peer, ours))
    # ST202 (schema-valid request rejected) is what Schemathesis reports for every rule JSON Schema cannot state
    # (size arithmetic, conditions between multipart fields: README lists them), so it never counts as a catch
    baseline_peer = rows[0][1].found | {f"{op}: ST202" for op in _operations(profile)}
    baseline_ours = rows[0][2].found
    print(f"profile {args.profile}; Schemathesis --max-examples {args.max_examples}; seed {args.seed}\n")
    print("| fault | breaks | Schemathesis caught | requests | billable | s | conformance caught | requests | billable | s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    totals = {"peer": [0, 0, 0, 0.0], "ours": [0, 0, 0, 0.0]}
    for name, peer, ours in rows:
        fault = FAULTS.get(name)
        peer_hit = bool(peer.found - baseline_peer) if fault else bool(peer.found)
        ours_hit = bool(ours.found - baseline_ours) if fault else bool(ours.found)
        for key, hit, outcome in (("peer", peer_hit, peer), ("ours", ours_hit, ours)):
            if fault is not None:
                totals[key][0] += hit
            totals[key][1] += outcome.requests
            totals[key][2] += outcome.billable
            totals[key][3] += outcome.seconds
        shown = (lambda hit: "yes" if hit else "no") if fault else (lambda hit: "false failures" if hit else "none")
        print(f"| {name} | {fault.breaks if fault else '-'} | {shown(peer_hit)} | {peer.requests} | {peer.billable} | "
              f"{peer.seconds:.1f} | {shown(ours_hit)} | {ours.requests} | {ours.billable} | {ours.seconds:.1f} |")
    count = len(rows) - 1
    peer, ours = totals["peer"], totals["ours"]
    print(f"\nfaults caught: Schemathesis {peer[0]}/{count}, conformance {ours[0]}/{count}")
    own = [(name, p, o) for name, p, o in rows[1:] if FAULTS[name].profile == args.profile]
    if own and len(own) < count:
        caught = [sum(bool(x.found - base) for _, *xs in own for x, base in [(xs[i], (baseline_peer, baseline_ours)[i])])
                  for i in (0, 1)]
        print(f"of the {len(own)} the catalogue shows on {args.profile}: Schemathesis {caught[0]}, conformance "
              f"{caught[1]} (a fault that breaks nothing, rate-limited, counts as caught only as a false alarm)")
    print(f"requests: Schemathesis {peer[1]}, conformance {ours[1]} (ratio {peer[1] / max(ours[1], 1):.2f})")
    print(f"billable: Schemathesis {peer[2]}, conformance {ours[2]} (ratio {peer[2] / max(ours[2], 1):.2f})")
    print(f"wall time: Schemathesis {peer[3]:.0f} s, conformance {ours[3]:.0f} s (ratio {peer[3] / max(ours[3], 1e-9):.2f})")
    if rows[0][1].found:
        print("\nSchemathesis on the faithful router (each is listed in README with its reason):")
        for item in sorted(rows[0][1].found):
            print(f"  {item}")
    print("\nWhat each tool found beyond the faithful router's findings:")
    for name, peer, ours in rows[1:]:
        print(f"  {name}: Schemathesis {sorted(peer.found - baseline_peer) or '-'}; "
              f"conformance {sorted(ours.found - baseline_ours) or '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
