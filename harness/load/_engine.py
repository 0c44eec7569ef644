"""The Locust side of ``conformance load``: users that send the workload, in a process of their own.

Importing Locust monkey-patches the standard library for gevent, so this
module only ever runs in a process started with Locust imported before
anything else (``_run.ENGINE``, given a spec file written by the parent): the
parent (``conformance load``) keeps the embedded router, the verdict and the
reports in a process gevent never touched. Three modes map onto Locust's:
``local`` (one process), ``master`` (no users of its own: it hands each
worker its share of the pool and collects their observations) and
``worker`` (connects to a master; its share arrives as a message). The API
key is read from the environment variable the spec names (never from the
spec file or argv); only the embedded router's own key, made for one run,
travels from the master to its workers.

Each user loops: lease a pool case (its combination is then in flight
nowhere else), send it, give the lease back, judge the answer
(:func:`~harness.load._observe.observe`) and hand the observation to the
sink (a JSON Lines file, or the master). The latency is taken before the
judging, so a slow decode never counts against the router.
"""

from __future__ import annotations

import locust  # noqa: F401, I001  (gevent's monkey patching comes first)

import json
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import gevent
from gevent.event import Event
from gevent.queue import Queue
from locust import User, constant, events, task
from locust.env import Environment
from locust.exception import StopUser

from .._send import send_case
from ..checks import catalogue
from ..spec import load_profile
from .._redact import Redactor
from ..transport.client import Limits, RouterClient
from ._observe import Observation, observe
from ._workload import build_workload

__all__ = ["main"]

_OBSERVATION = "conformance-observation"
_WORKLOAD = "conformance-workload"
_WORKER_ERROR = "conformance-worker-error"
_ARMED = "conformance-armed"
_STOP = "conformance-stop"
_SPENT = "conformance-spent"
_LATE = "conformance-late"
_STOPPED = "conformance-stopped"
#: Evidence (request, response, curl) kept for at most this many answers per kind of failure, per process.
_EVIDENCE_PER_KIND = 3


class LoadFailure(Exception):
    """What Locust's own statistics record for an answer that failed a check (the first failure)."""


class _Driver:
    """One process's share of the workload, its client and its generation budget (billable requests)."""

    def __init__(self, spec: dict[str, Any], *, slot: int, slots: int, api_key: str | None,
                 sink: Callable[[Observation], None]) -> None:
        self.profile = load_profile(spec["profile"])
        workload = build_workload(self.profile, seed=spec["seed"], models=tuple(spec["models"])).share(slot, slots)
        self.workload = workload
        self.free: Queue = Queue()
        for case in workload.pool:
            self.free.put(case)
        self.invalid_share = spec["invalid_share"] if workload.invalid else 0.0
        budget = spec["max_generations"]
        self.budget = None if budget is None else budget // slots + (1 if slot < budget % slots else 0)
        self.levels = {rid: req.level for rid, req in catalogue(self.profile).items()}
        headers = dict(h.split(":", 1) for h in spec["headers"] if ":" in h)
        self.client = RouterClient(spec["router_url"], api_key=api_key,
                                   limits=replace(Limits.from_timeout(spec["timeout_s"]), max_retries=0),
                                   headers={k.strip(): v.strip() for k, v in headers.items()},
                                   allow_private_image_urls=spec["allow_private_image_urls"])
        self.sink = sink
        self.spent = Event()
        self.billable_sent = 0
        self.on_spent: Callable[[], None] = lambda: None
        self._kept: Counter[str] = Counter()
        self.slot = slot

    def _keep_evidence(self, key: str) -> bool:
        self._kept[key] += 1
        return self._kept[key] <= _EVIDENCE_PER_KIND

    def _take(self, rng: random.Random) -> tuple[Any, bool]:
        """The next case and whether it holds a lease; raises :class:`StopUser` once the budget is spent."""
        if self.invalid_share and (not self.workload.pool or rng.random() < self.invalid_share):
            return rng.choice(self.workload.invalid), False
        if self.budget is not None and self.budget <= 0 or not self.workload.pool:
            if not self.spent.is_set():
                self.spent.set()
                self.on_spent()
            raise StopUser()
        if self.budget is not None:
            self.budget -= 1  # reserved before waiting: users queued for a lease cannot overspend it together
        case = self.free.get()  # waits while every combination of this share is in flight
        self.billable_sent += case.billable
        return case, True

    def one(self, rng: random.Random) -> None:
        case, leased = self._take(rng)
        started = time.time()
        try:
            exchange = send_case(self.client, self.profile, case)
        finally:
            if leased:
                self.free.put(case)  # the answer is in: the combination may be asked again
        ended = started + exchange.elapsed_s if exchange.elapsed_s else time.time()
        record = observe(self.profile, case, self.workload.combinations.get(case.id), exchange, started=started,
                         ended=ended, levels=self.levels, redact=self.client.redact, base_url=self.client.base_url,
                         keep_evidence=self._keep_evidence)
        record["worker"] = self.slot
        must = [f for f in record["failures"] if f[1] == "MUST"]
        failure = LoadFailure(f"{must[0][0]}: {must[0][2]}"[:200]) if must else None
        if record["class"] in ("rate-limited", "server-error", "transport-error"):
            failure = LoadFailure(f"{record['class']} (HTTP {record['status']})")
        events.request.fire(request_type="POST", name=f"{case.kind} {self.profile.endpoints[case.endpoint].path}",
                            response_time=record["latency_ms"], response_length=len(exchange.content),
                            exception=failure, context={})
        self.sink(record)


_STATE: dict[str, Any] = {"driver": None, "ready": Event()}


class ConformanceUser(User):
    """A Locust user sending the workload back to back (no think time: the point is requests in flight)."""

    wait_time = constant(0)

    def on_start(self) -> None:
        _STATE["ready"].wait(timeout=120)
        self.driver = _STATE["driver"]  # None: this process has no share (a late worker, or none arrived)
        self.rng = random.Random(f"{id(self)}-{time.time()}")

    @task
    def send(self) -> None:
        if self.driver is None:
            raise StopUser()  # from a task, not on_start: Locust stops it quietly
        self.driver.one(self.rng)


def _environment(spec: dict[str, Any]) -> Environment:
    return Environment(user_classes=[ConformanceUser], events=events, stop_timeout=min(spec["timeout_s"], 60.0))


def _file_sink(path: Path) -> Callable[[Observation], None]:
    handle = path.open("a", encoding="utf-8")

    def sink(record: Observation) -> None:
        handle.write(json.dumps(record, separators=(",", ":")) + "\n")
        handle.flush()

    return sink


def _stats(environment: Environment) -> list[dict[str, Any]]:
    rows = []
    for entry in [*environment.stats.entries.values(), environment.stats.total]:
        rows.append({"name": entry.name, "method": entry.method, "requests": entry.num_requests,
                     "failures": entry.num_failures, "avg_ms": round(entry.avg_response_time, 2),
                     "p50_ms": entry.get_response_time_percentile(0.5),
                     "p95_ms": entry.get_response_time_percentile(0.95), "max_ms": entry.max_response_time})
    return rows


def _drive(runner: Any, spec: dict[str, Any], outcome: dict[str, Any], *, stop: Callable[[], bool],
           halt: Callable[[], None]) -> None:
    """Start ``spec['users']`` users, sample the user count each second, ``halt()`` them at the duration (or
    once ``stop()`` says so)."""
    runner.start(spec["users"], spawn_rate=spec["spawn_rate"])
    outcome["started"] = time.time()
    deadline = outcome["started"] + spec["duration_s"]
    while time.time() < deadline:
        outcome["timeline"].append([round(time.time(), 3), runner.user_count])
        if stop():
            break
        gevent.sleep(min(1.0, max(0.0, deadline - time.time())))
    halt()
    outcome["ended"] = time.time()


def _local(spec: dict[str, Any], outcome: dict[str, Any]) -> int:
    driver = _Driver(spec, slot=0, slots=1, api_key=os.environ.get(spec["api_key_env"]) or None,
                     sink=_file_sink(Path(spec["out"]) / "observations.jsonl"))
    environment = _environment(spec)
    runner = environment.create_local_runner()
    _STATE.update(driver=driver)
    _STATE["ready"].set()
    outcome.update(workers=1, pool=len(driver.workload.pool))

    def spent() -> bool:
        if driver.spent.is_set():
            outcome["stopped"] = "the generation budget (--max-generations) was spent"
        return driver.spent.is_set()

    _drive(runner, spec, outcome, stop=spent, halt=runner.stop)
    outcome["billable_sent"] = driver.billable_sent
    outcome["locust"] = _stats(environment)
    runner.quit()
    driver.client.close()
    return 0


def _master(spec: dict[str, Any], outcome: dict[str, Any]) -> int:
    environment = _environment(spec)
    runner = environment.create_master_runner(master_bind_host=spec["master_bind_host"],
                                              master_bind_port=spec["master_port"])
    sink = _file_sink(Path(spec["out"]) / "observations.jsonl")
    errors: list[str] = []
    runner.register_message(_OBSERVATION, lambda environment, msg, **_: sink(msg.data))
    runner.register_message(_WORKER_ERROR, lambda environment, msg, **_: errors.append(str(msg.data)))
    armed: set[str] = set()
    runner.register_message(_ARMED, lambda environment, msg, **_: armed.add(str(msg.data)))
    expected, waited = spec["expect_workers"], time.time()
    while len(runner.clients.ready) < expected and time.time() - waited < spec["worker_wait_s"]:
        gevent.sleep(0.2)
    ready = sorted(client.id for client in runner.clients.ready)
    if len(ready) < expected:
        outcome["error"] = (f"only {len(ready)} of {expected} workers connected within {spec['worker_wait_s']:g} s "
                            f"(start them with: conformance load --worker --master-host HOST --master-port "
                            f"{spec['master_port']})")
        runner.quit()
        return 3
    shared = {k: v for k, v in spec.items() if k != "out"}
    key = os.environ.get(spec["api_key_env"]) if spec["embedded"] else None  # a made-up key, for one run
    for slot, client_id in enumerate(ready):
        runner.send_message(_WORKLOAD, {"spec": shared, "slot": slot, "slots": len(ready), "api_key": key},
                            client_id=client_id)
    outcome["workers"] = len(ready)
    waited = time.time()  # each worker builds its share (plan, pool, client) before any user starts
    while len(armed) < len(ready) and not errors and time.time() - waited < spec["worker_wait_s"]:
        gevent.sleep(0.1)
    if errors or len(armed) < len(ready):
        outcome["error"] = "; ".join(errors) or f"only {len(armed)} of {len(ready)} workers took their share"
        runner.quit()
        return 2 if errors else 3
    stopped: dict[str, int] = {}
    runner.register_message(_STOPPED,
                            lambda environment, msg, **_: stopped.update({msg.data["id"]: msg.data["billable"]}))
    spent: set[str] = set()
    runner.register_message(_SPENT, lambda environment, msg, **_: spent.add(str(msg.data)))

    def halt() -> None:
        """Ask each worker to stop its users (in-flight requests finish and are observed), and wait for them:
        Locust's own stop makes a worker sleep ``stop_timeout`` before it would take the quit."""
        for client_id in ready:
            runner.send_message(_STOP, None, client_id=client_id)
        waited = time.time()
        while len(stopped) < len(ready) and time.time() - waited < spec["timeout_s"] + 10:
            gevent.sleep(0.2)

    def stop() -> bool:
        for client_id in [c.id for c in runner.clients.all if c.id not in ready]:
            runner.send_message(_LATE, None, client_id=client_id)  # no share is left for it: it leaves
            ready_late.add(client_id)
        if len(spent) >= len(ready):
            outcome["stopped"] = "the generation budget (--max-generations) was spent"
        return bool(errors) or len(spent) >= len(ready)

    ready_late: set[str] = set()
    _drive(runner, spec, outcome, stop=stop, halt=halt)
    outcome["billable_sent"] = sum(stopped.values())
    if len(stopped) < len(ready):
        outcome["error"] = f"only {len(stopped)} of {len(ready)} workers reported their answers after the stop"
    if ready_late:
        outcome["late_workers"] = len(ready_late)
    if errors:
        outcome["error"] = "; ".join(errors)
    outcome["locust"] = _stats(environment)
    runner.quit()
    return 2 if errors else 0


def _worker(spec: dict[str, Any], outcome: dict[str, Any]) -> int:
    environment = _environment({"timeout_s": 60.0})  # the master's timeout replaces it with the workload
    runner = environment.create_worker_runner(master_host=spec["master_host"], master_port=spec["master_port"])

    def take_workload(environment: Environment, msg: Any, **_: Any) -> None:
        given = msg.data
        own = given["spec"]
        key = given.get("api_key") or os.environ.get(spec.get("api_key_env") or own["api_key_env"]) or None
        try:
            if key is None:
                raise ValueError(f"worker {given['slot']}: no API key: set {own['api_key_env']} on the worker")
            driver = _Driver(own, slot=given["slot"], slots=given["slots"], api_key=key,
                             sink=lambda record: runner.send_message(_OBSERVATION, record))
        except Exception as exc:  # a profile or key the worker lacks: the master says so, and stops
            said = Redactor(key).text(f"worker {given['slot']}: {exc}")  # redacted whole, then cut
            runner.send_message(_WORKER_ERROR, said[:500])
            _STATE["ready"].set()  # no driver: a user that starts anyway stops at once
            return
        environment.stop_timeout = min(own["timeout_s"], 60.0)
        driver.on_spent = lambda: runner.send_message(_SPENT, runner.client_id)
        _STATE.update(driver=driver)
        _STATE["ready"].set()
        runner.send_message(_ARMED, runner.client_id)

    def stop_users(environment: Environment, msg: Any, **_: Any) -> None:
        environment.runner.stop()  # graceful: each user's request in flight is answered and observed first
        driver = _STATE["driver"]
        runner.send_message(_STOPPED, {"id": runner.client_id, "billable": driver.billable_sent if driver else 0})

    def leave(environment: Environment, msg: Any, **_: Any) -> None:
        _STATE["ready"].set()  # no driver: its users stop at once
        gevent.spawn(runner.quit)  # the master re-dispatches its users to the workers that have a share

    runner.register_message(_WORKLOAD, take_workload)
    runner.register_message(_STOP, stop_users)
    runner.register_message(_LATE, leave)
    runner.greenlet.join()  # until the master says quit
    if _STATE["driver"] is not None:
        _STATE["driver"].client.close()  # its event loop thread would keep the process alive
    return 0


def main(argv: list[str]) -> int:
    """Run the engine described by the JSON file ``argv[0]``; write ``engine.json`` beside its observations."""
    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    outcome: dict[str, Any] = {"timeline": [], "stopped": None, "error": None, "locust": []}
    code = {"local": _local, "master": _master, "worker": _worker}[spec["mode"]](spec, outcome)
    if spec["mode"] != "worker":
        (Path(spec["out"]) / "engine.json").write_text(json.dumps(outcome), encoding="utf-8")
    return code

