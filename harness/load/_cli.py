"""The ``conformance load`` subcommand: its flags (one per :class:`LoadConfig` field) and its console output."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .._errors import EXIT_USAGE
from ._config import LoadConfig

__all__ = ["add_load_parser", "load_command"]

_EPILOG = ("exit codes: 0 every MUST load requirement passed; 1 one failed (with --strict, a SHOULD one too); "
           "2 usage error (a paid router with no --max-generations, no API key, Locust not installed); "
           "3 the router could not be assessed. A real router is paid per image: --max-generations is required.")


def add_load_parser(sub: Any) -> argparse.ArgumentParser:
    """Add ``load`` to the ``conformance`` subcommands."""
    load = sub.add_parser("load", help="load a router with Locust and check the contract holds under concurrency",
                          epilog=_EPILOG)
    d = LoadConfig()
    load.add_argument("--profile", default=d.profile, metavar="NAME|PATH", help=f"profile (default {d.profile})")
    load.add_argument("--router-url", help="router base URL, e.g. https://gw.example/v1 (default: the embedded "
                      "reference router)")
    load.add_argument("--api-key-env", default=d.api_key_env, metavar="VAR", help="variable holding the API key")
    load.add_argument("--users", type=int, default=d.users, help=f"Locust users, one request in flight each "
                      f"(default {d.users})")
    load.add_argument("--spawn-rate", type=float, default=d.spawn_rate, help="users started per second")
    load.add_argument("--duration", type=float, default=d.duration, metavar="SECONDS",
                      help=f"seconds of load (default {d.duration:g})")
    load.add_argument("--max-generations", type=int, metavar="N",
                      help="at most N billable requests in all, workers included (required with --router-url)")
    load.add_argument("--invalid-share", type=float, default=d.invalid_share, metavar="SHARE",
                      help=f"share of requests that are invalid cases, 0 to 1 (default {d.invalid_share:g})")
    load.add_argument("--seed", type=int, default=d.seed, help="seed of the plan the pool is drawn from")
    load.add_argument("--models", type=lambda s: tuple(m for m in s.split(",") if m), default=(),
                      help="only these model ids, comma-separated")
    load.add_argument("--header", action="append", dest="headers", default=[], metavar="'NAME: VALUE'",
                      help="extra request header (repeatable)")
    load.add_argument("--timeout", type=float, default=d.timeout, metavar="SECONDS", help="seconds per request")
    load.add_argument("--fault", help="break the embedded router (e.g. crossed-answers; see serve --list-faults)")
    load.add_argument("--latency", type=float, default=d.latency, metavar="SECONDS",
                      help="embedded router: seconds before each answer")
    load.add_argument("--strict", action="store_true", help="a failed SHOULD load requirement fails the run too")
    load.add_argument("--report-dir", default=d.report_dir, help="load.json and load.html go to DIR/<profile>/")
    load.add_argument("--allow-private-image-urls", action="store_true",
                      help="fetch image URLs on private addresses other than the router's own host")
    role = load.add_mutually_exclusive_group()
    role.add_argument("--master", action="store_true", help="be a Locust master: hand the work to --expect-workers "
                      "workers and judge what they observe")
    role.add_argument("--worker", action="store_true", help="be a Locust worker of the master at --master-host")
    load.add_argument("--expect-workers", type=int, default=d.expect_workers, metavar="N",
                      help="master: start once N workers are connected")
    load.add_argument("--master-bind-host", default=d.master_bind_host, help="master: address to listen on")
    load.add_argument("--master-host", default="127.0.0.1", help="worker: the master's address")
    load.add_argument("--master-port", type=int, default=d.master_port, help="master port (both roles)")
    load.add_argument("--worker-wait", type=float, default=d.worker_wait, metavar="SECONDS",
                      help="master: how long to wait for the workers")
    return load


def _config(args: argparse.Namespace) -> LoadConfig:
    return LoadConfig(profile=args.profile, router_url=args.router_url, api_key_env=args.api_key_env,
                      users=args.users, spawn_rate=args.spawn_rate, duration=args.duration,
                      max_generations=args.max_generations, invalid_share=args.invalid_share, seed=args.seed,
                      models=tuple(args.models), headers=tuple(args.headers), timeout=args.timeout, fault=args.fault,
                      latency=args.latency, allow_private_image_urls=args.allow_private_image_urls,
                      strict=args.strict, mode="master" if args.master else "local",
                      expect_workers=args.expect_workers, master_bind_host=args.master_bind_host,
                      master_port=args.master_port, worker_wait=args.worker_wait, report_dir=args.report_dir)


def summary_lines(data: dict[str, Any], *, strict: bool) -> list[str]:
    """What the console shows of a finished load run: the verdict line, then one line per requirement."""
    totals = data["totals"]
    head = (f"{data['profile']} under load: {data['verdict'].upper()}: {totals['requests']} requests in "
            f"{totals['duration_s']} s ({totals['throughput_rps']}/s), at most {totals['max_in_flight']} in flight")
    lines = [head] + ([f"  not assessed: {data['not_assessed']}"] if data["not_assessed"] else [])
    for r in data["requirements"]:
        gate = r["status"] == "failed" and (r["level"] == "MUST" or strict)
        mark = {"passed": "ok  ", "failed": "FAIL" if gate else "warn", "skipped": "skip"}[r["status"]]
        lines.append(f"  {mark} {r['level']:<6} {r['id']}: {r['message']}")
    return lines


def load_command(args: argparse.Namespace) -> int:
    """Run ``conformance load``; print the verdict and where the reports are; return the exit code."""
    from . import run_load, run_worker

    try:
        if args.worker:
            return run_worker(master_host=args.master_host, master_port=args.master_port,
                              api_key_env=args.api_key_env)
        config = _config(args)
    except ValueError as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"load: {config.users} users ({config.spawn_rate:g}/s) for {config.duration:g} s against "
          f"{config.router_url or 'the embedded reference router'} ({config.profile})", flush=True)
    try:
        code, data = run_load(config, progress=True)
    except ValueError as exc:  # an unknown model id
        print(f"conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print("\n".join(summary_lines(data, strict=config.strict)))
    print(f"report: {config.report_dir}/{data['profile']}/load.html (and load.json)")
    return code
