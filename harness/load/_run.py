"""``conformance load`` from start to verdict, in the parent process that gevent never touches.

It checks the options (a paid router needs ``--max-generations``), starts
the embedded router if no URL is given, checks once that the router can be
assessed (the same preflight as ``conformance run``: a missing key or a base
URL without ``/v1`` is the operator's mistake, exit 2 or 3, never a load
failure), runs the Locust engine (:mod:`._engine`) in its own process, re-sends
alone each request that got a 5xx under load, judges (:mod:`._verdict`) and
writes ``load.json`` and ``load.html``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .._errors import EXIT_MUST_FAILED, EXIT_NOT_ASSESSED, EXIT_OK, EXIT_USAGE, NotAssessed, UsageError
from .._send import send_case
from ..options import RunConfig
from ..runner import Run
from ..spec import Profile, load_profile
from ._config import LoadConfig
from ._observe import Observation, observe
from ._summary import load_document
from ._verdict import MAX_ALONE, judge, suspects
from ._workload import Workload, build_workload

__all__ = ["run_load", "run_worker"]

#: How the engine process starts: Locust (gevent's monkey patching) is imported before anything of ours, which
#: ``python -m harness.load._engine`` could not do (it imports the ``harness`` package first).
ENGINE = ("-c", "import locust, sys; from harness.load._engine import main; sys.exit(main(sys.argv[1:]))")


def _require_locust() -> None:
    if importlib.util.find_spec("locust") is None:
        raise UsageError("conformance load runs on Locust, which is not installed: "
                         "pip install 'image-router-conformance[load]'")


def _check_options(config: LoadConfig) -> None:
    _require_locust()
    if config.router_url is not None and config.max_generations is None:
        raise UsageError("load against a real router is paid per generated image: give --max-generations N "
                         "(at most N billable requests in all, workers included) to start")
    if config.router_url is not None and config.fault is not None:
        raise UsageError("--fault breaks the embedded reference router; it cannot be used with --router-url")
    if config.mode == "worker":
        raise UsageError("a worker takes its work from the master: use run_worker()")


def _engine_spec(config: LoadConfig, profile_arg: str, url: str, budget: int | None, out: Path) -> dict[str, Any]:
    return {"mode": config.mode, "profile": profile_arg, "seed": config.seed, "models": list(config.models),
            "router_url": url, "api_key_env": config.api_key_env, "embedded": config.router_url is None,
            "users": config.users, "spawn_rate": config.spawn_rate, "duration_s": config.duration,
            "max_generations": budget, "invalid_share": config.invalid_share, "timeout_s": config.timeout,
            "headers": list(config.headers), "allow_private_image_urls": config.allow_private_image_urls,
            "master_bind_host": config.master_bind_host, "master_port": config.master_port,
            "expect_workers": config.expect_workers, "worker_wait_s": config.worker_wait, "out": str(out)}


def _run_engine(spec: dict[str, Any], *, key: str | None, work: Path,
                progress: bool) -> tuple[int, dict[str, Any], str]:
    """Run the engine process; its exit code, ``engine.json`` and the tail of its log. With ``progress`` (and
    a terminal), a tqdm line shows the seconds of load and the answers so far."""
    (work / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    env = {**os.environ, **({spec["api_key_env"]: key} if key else {})}
    limit = spec["duration_s"] + 2 * spec["worker_wait_s"] + 2 * spec["timeout_s"] + 120  # connect, then arm
    with (work / "engine.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, *ENGINE, str(work / "spec.json")], env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        try:
            _wait(process, work / "observations.jsonl", duration=spec["duration_s"], limit=limit, progress=progress)
            code = process.returncode
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            code = -1
    try:
        outcome = json.loads((work / "engine.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        outcome = {"error": "the load engine wrote no outcome", "timeline": [], "locust": []}
    tail = (work / "engine.log").read_text(encoding="utf-8", errors="replace")[-2000:]
    return code, outcome, tail


def _wait(process: subprocess.Popen[bytes], observations: Path, *, duration: float, limit: float,
          progress: bool) -> None:
    """Wait for ``process`` at most ``limit`` seconds (``TimeoutExpired`` after), drawing the progress line."""
    terminal = sys.__stderr__
    bar = None
    if progress and terminal is not None and terminal.isatty():
        from tqdm import tqdm

        bar = tqdm(total=round(duration), desc="load", file=terminal, leave=False,
                   bar_format="{desc}: {bar} {n}/{total} s{postfix} [{elapsed}]")
    started, answers, offset = time.monotonic(), 0, 0
    try:
        while process.poll() is None:
            if time.monotonic() - started > limit:
                raise subprocess.TimeoutExpired(process.args, limit)
            time.sleep(0.5)
            if bar is not None and observations.is_file():
                with observations.open("rb") as handle:  # only what was appended since the last look
                    handle.seek(offset)
                    chunk = handle.read()
                offset += len(chunk)
                answers += chunk.count(b"\n")
                bar.n = min(round(duration), round(time.monotonic() - started))
                bar.set_postfix(answers=answers, refresh=True)
    finally:
        if bar is not None:
            bar.close()


def _observations(path: Path) -> list[Observation]:
    if not path.is_file():
        return []
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            continue  # a line cut short by a killed engine: the rest still counts
    return found


def _alone(run: Run, profile: Profile, workload: Workload, observations: list[Observation],
           budget: int | None) -> dict[str, dict[str, Any] | None]:
    """Re-send alone, one at a time after the load, each suspect (:func:`._verdict.suspects`: a suspected
    crossing, a 5xx with others in flight), at most :data:`MAX_ALONE` and within ``budget``: case id ->
    ``{"status", "shows_own"}``, or ``None`` when it was not re-sent."""
    client = run.connect()
    levels = {rid: req.level for rid, req in run.catalogue.items()}
    alone: dict[str, dict[str, Any] | None] = {}
    for case_id in suspects(observations, workload.combinations):
        case = workload.case(case_id)
        resent = sum(1 for r in alone.values() if r is not None)
        if case is None or resent >= MAX_ALONE or (budget is not None and case.billable and budget <= 0):
            alone[case_id] = None
            continue
        budget = None if budget is None else budget - case.billable
        started = time.time()
        exchange = send_case(client, profile, case)
        seen = observe(profile, case, workload.combinations.get(case_id), exchange, started=started,
                       ended=time.time(), levels=levels, redact=client.redact, base_url=client.base_url,
                       keep_evidence=lambda key: False)
        combination = workload.combinations.get(case_id)
        alone[case_id] = {"status": exchange.status,
                          "shows_own": combination.shown_by(seen["images"], seen.get("count")) if combination else None}
    return alone


def run_load(config: LoadConfig, *, progress: bool = False) -> tuple[int, dict[str, Any]]:
    """Load ``config.profile``'s router; the exit code and the ``load.json`` document (also written, with
    ``load.html``, to ``config.report_dir/<profile>/``).

    Exit codes as ``conformance run``: 0 every MUST load requirement passed,
    1 one failed (or, with ``strict``, a SHOULD one), 2 a worker could not
    take its share (no API key in its environment, a profile it lacks), 3
    the router could not be assessed. ``progress``: draw a tqdm line while the load runs (on a
    terminal only). Raises :class:`UsageError` (no ``max_generations`` for a
    real router, Locust missing), :class:`MissingApiKey`, :class:`SpecError`
    / :class:`ProfileNotFound`; ``ValueError`` for an unknown model id.
    """
    _check_options(config)
    profile = load_profile(config.profile)
    workload = build_workload(profile, seed=config.seed, models=config.models)
    if not workload.pool:
        raise UsageError(f"profile {profile.name!r} has no valid request whose answer shows its size "
                         "(an explicit size or aspect ratio): nothing to load it with")
    run_config = RunConfig(router_url=config.router_url, api_key_env=config.api_key_env, seed=config.seed,
                           models=config.models, headers=config.headers, timeout=config.timeout,
                           fault=config.fault, latency=config.latency,
                           allow_private_image_urls=config.allow_private_image_urls)
    out = Path(config.report_dir) / profile.name
    started = time.time()
    settings = {k: v for k, v in asdict(config).items() if k != "report_dir"}
    settings["headers"] = [f"{h.split(':', 1)[0]}: …" for h in config.headers]  # a header may carry a token
    with Run(profile, run_config, style="cli") as run:
        def document(observations: list[Observation], verdict: dict[str, Any], engine: dict[str, Any],
                     alone: dict[str, int | None], problem: str | None) -> dict[str, Any]:
            return load_document(profile, router_url=run.record.router_url, embedded=run.embedded,
                                 fault=config.fault, workload=workload, observations=observations, verdict=verdict,
                                 engine=engine, alone=alone, config=settings, not_assessed=problem, started=started)
        try:
            client = run.connect(cases=[workload.pool[0]])
        except NotAssessed as exc:
            return _finish(out, document([], {}, {}, {}, str(exc)), config, redact=str)
        budget = None if config.max_generations is None else config.max_generations - workload.pool[0].billable
        with tempfile.TemporaryDirectory(prefix="conformance-load-") as tmp:
            work = Path(tmp)
            spec = _engine_spec(config, str(config.profile), client.base_url, budget, work)
            code, outcome, log = _run_engine(spec, key=run.api_key, work=work, progress=progress)
            observations = _observations(work / "observations.jsonl")
        # what the engine says it sent (observations of requests cut short at the stop may be missing)
        spent = max(outcome.get("billable_sent", 0), sum(o["billable"] for o in observations if o["kind"] == "valid"))
        problem = None if code == 0 and not outcome.get("error") else \
            f"{outcome.get('error') or 'the load engine failed'} (exit {code}); its log ends: " \
            f"{client.redact(log)[-600:]}"  # redacted whole, then cut: a cut key would go unrecognised
        alone = {} if problem else _alone(run, profile, workload, observations,
                                          None if budget is None else budget - spent)
        verdict = judge(profile, observations, workload.combinations, alone=alone)
        if not observations and problem is None:
            problem = "no answer arrived during the load"
        elif observations and all(o["class"] == "transport-error" for o in observations):
            problem = problem or "every request failed in transport (no HTTP answer): the router stopped answering"
        code_now, data = _finish(out, document(observations, verdict, outcome, alone, problem), config,
                                 redact=client.redact)
        return (EXIT_USAGE if code == EXIT_USAGE else code_now), data  # a worker's missing key: the operator's


def _finish(out: Path, data: dict[str, Any], config: LoadConfig, *,
            redact: Callable[[str], str]) -> tuple[int, dict[str, Any]]:
    from ._report import write_reports

    data = json.loads(redact(json.dumps(data)))  # belt and braces: the engine redacted; no key survives here either
    write_reports(out, data)
    return exit_code(data, strict=config.strict), data


def exit_code(data: dict[str, Any], *, strict: bool = False) -> int:
    """0, 1 (a failed MUST load requirement; with ``strict`` a SHOULD one too) or 3 (not assessed)."""
    if data["verdict"] == "not-assessed":
        return EXIT_NOT_ASSESSED
    failed = [r for r in data["requirements"] if r["status"] == "failed" and (strict or r["level"] == "MUST")]
    return EXIT_MUST_FAILED if failed else EXIT_OK


def run_worker(*, master_host: str, master_port: int, api_key_env: str) -> int:
    """Run one Locust worker of a distributed load run until its master quits; the engine's exit code."""
    _require_locust()
    with tempfile.TemporaryDirectory(prefix="conformance-worker-") as tmp:
        spec = Path(tmp) / "spec.json"
        spec.write_text(json.dumps({"mode": "worker", "master_host": master_host, "master_port": master_port,
                                    "api_key_env": api_key_env}), encoding="utf-8")
        return subprocess.run([sys.executable, *ENGINE, str(spec)]).returncode
