"""``load.json``: the whole load run as one JSON document (schema_version 1, documented in docs/load-json.md).

Built from the observations and the verdict, with the figures the report
plots: latency percentiles per status, and per second the answers by kind,
the requests in flight and the Locust users running.
"""

from __future__ import annotations

import bisect
import math
import time
from collections import Counter, defaultdict
from typing import Any

from .._version import __version__
from ..spec import Profile
from ._observe import Observation
from ._verdict import load_requirements, percentiles
from ._workload import Workload

__all__ = ["SCHEMA_VERSION", "load_document"]

SCHEMA_VERSION = 1


def _status_key(o: Observation) -> str:
    return "transport error" if o["status"] is None else str(o["status"])


def _latency(observations: list[Observation]) -> dict[str, dict[str, float]]:
    by_status: dict[str, list[float]] = defaultdict(list)
    for o in observations:
        by_status[_status_key(o)].append(o["latency_ms"])
    return {status: percentiles(values) for status, values in sorted(by_status.items())}


def _timeline(observations: list[Observation], users: list[list[float]]) -> list[dict[str, Any]]:
    """Per second from the first request: answers by class (by when they arrived), requests in flight at the
    second's middle, and the users running (Locust's count, sampled each second)."""
    if not observations:
        return []
    t0 = min(o["start"] for o in observations)
    seconds = math.ceil(max(o["end"] for o in observations) - t0) or 1
    answers: dict[int, Counter[str]] = defaultdict(Counter)
    for o in observations:
        answers[min(seconds - 1, int(o["end"] - t0))][o["class"]] += 1
    starts = sorted(o["start"] for o in observations)
    ends = sorted(o["end"] for o in observations)
    rows = []
    for second in range(seconds):
        middle = t0 + second + 0.5
        in_flight = bisect.bisect_right(starts, middle) - bisect.bisect_right(ends, middle)
        within = [count for at, count in users if t0 + second <= at < t0 + second + 1]
        before = [count for at, count in users if at < t0 + second]
        rows.append({"t": second, "answers": dict(answers[second]), "in_flight": in_flight,
                     "users": max(within) if within else before[-1] if before else 0})
    return rows


def _verdict(requirements: list[dict[str, Any]], not_assessed: str | None) -> str:
    if not_assessed is not None:
        return "not-assessed"
    return "failed" if any(r["status"] == "failed" and r["level"] == "MUST" for r in requirements) else "passed"


def load_document(profile: Profile, *, router_url: str, embedded: bool, fault: str | None, workload: Workload,
                  observations: list[Observation], verdict: dict[str, Any], engine: dict[str, Any],
                  alone: dict[str, Any], config: dict[str, Any], not_assessed: str | None,
                  started: float) -> dict[str, Any]:
    """The ``load.json`` document (see docs/load-json.md for every key, with units)."""
    requirements = verdict.get("requirements") or [
        {"id": r.id, "level": r.level, "title": r.title, "source": r.source, "judged": 0, "failed": 0,
         "status": "skipped", "message": "not assessed"} for r in load_requirements(profile)]
    duration = (max(o["end"] for o in observations) - min(o["start"] for o in observations)) if observations else 0.0
    classes = Counter(o["class"] for o in observations)
    return {
        "schema_version": SCHEMA_VERSION, "kind": "load", "harness_version": __version__,
        "profile": profile.name, "title": profile.title, "router_url": router_url, "embedded": embedded,
        "fault": fault, "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "wall_s": round(time.time() - started, 2),
        "verdict": _verdict(requirements, not_assessed), "not_assessed": not_assessed, "config": config,
        "pool": {"combinations": len(workload.pool), "invalid_cases": len(workload.invalid),
                 "caps_concurrency": len(workload.pool) < config["users"]},
        "totals": {"requests": len(observations), "duration_s": round(duration, 2),
                   "throughput_rps": round(len(observations) / duration, 2) if duration else 0.0,
                   "billable": sum(1 for o in observations if o["billable"]),
                   "by_class": dict(classes), "by_status": dict(Counter(_status_key(o) for o in observations)),
                   "max_in_flight": verdict.get("max_in_flight", 0), "workers": engine.get("workers", 0),
                   "by_worker": {str(k): v for k, v in sorted(Counter(o.get("worker", 0) for o in observations).items())},
                   "stopped": engine.get("stopped")},
        "requirements": requirements,
        "levels": verdict.get("levels", []),
        "latency_ms": _latency(observations),
        "timeline": _timeline(observations, engine.get("timeline", [])),
        "alone": alone,
        "locust": engine.get("locust", []),
    }
