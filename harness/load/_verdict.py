"""The load requirements and their verdict: what the observations of a load run prove, and what they do not.

Each observation was already judged by ``conformance run``'s checks where it
arrived; this step sees them all together, so it can tell what no single
answer shows: a crossed answer (an answer showing the combination of
another request in flight, :mod:`._workload`), a 5xx that only load brings
(the request answered without one when re-sent alone), rate limiting in the
wrong shape or without ``Retry-After``, and the contract kept or broken at
each concurrency level reached. A requirement passes only when some answer
really judged it; otherwise it is skipped and says why.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from ..spec import Profile
from ._observe import Observation
from ._workload import Combination

__all__ = ["MAX_ALONE", "LoadRequirement", "judge", "level_of", "load_requirements", "percentiles"]

CROSSED = "load.no-crossed-answers"
CONTRACT = "load.contract-held"
SERVER_ERRORS = "load.no-load-only-5xx"
RATE_LIMIT_SHAPE = "load.rate-limit-shape"
RETRY_AFTER = "load.rate-limit-retry-after"
#: At most this many distinct requests that got a 5xx under load are re-sent alone, to tell load-only 5xx apart.
MAX_ALONE = 5
#: Example answers kept per failed requirement.
_EXAMPLES = 3


@dataclass(frozen=True)
class LoadRequirement:
    """A requirement only load can judge: stable ``id``, RFC 2119 ``level``, ``title`` and ``source`` (words cited)."""

    id: str
    level: str
    title: str
    source: str


def load_requirements(profile: Profile) -> tuple[LoadRequirement, ...]:
    """The load requirements of ``profile`` (the rate-limit shape takes the level of its documented errors)."""
    errors = profile.errors
    return (
        LoadRequirement(CROSSED, "MUST", "every answer under load is its own request's: never the images another "
                        "request in flight asked for",
                        "the profile's size, output_format and n rules, which bind each answer to its own request "
                        "(RFC 9110 §15: a status code and its content describe the result of the request they answer)"),
        LoadRequirement(CONTRACT, "MUST", "every answer under load passes the checks `conformance run` applies, "
                        "at every concurrency level reached",
                        "the profile's own requirements (each failure names one), held under load"),
        LoadRequirement(SERVER_ERRORS, "MUST", "no 5xx under load for a request the router answers without one "
                        "when it is sent alone",
                        "RFC 9110 §15.6: a 5xx says the server \"is aware that it has erred or is incapable of "
                        "performing the requested method\"; overload has answers of its own: 429 (RFC 6585 §4) and 503 "
                        "with Retry-After (RFC 9110 §15.6.4)"),
        LoadRequirement(RATE_LIMIT_SHAPE, errors.level, "a rate-limited answer (429, or 503 with Retry-After) "
                        "carries the documented error object",
                        f"{errors.source}; RFC 6585 §4: a 429's \"response representations SHOULD include details "
                        "explaining the condition\""),
        LoadRequirement(RETRY_AFTER, "SHOULD", "a 429 carries a usable Retry-After (delay seconds or an HTTP date)",
                        "RFC 6585 §4: a 429 \"MAY include a Retry-After header indicating how long to wait before "
                        "making a new request\"; RFC 9110 §10.2.3. SHOULD, not MUST: no seed documents rate "
                        "limiting, and OpenAI's SDKs wait as long as Retry-After says when it is there"),
    )


def level_of(in_flight: int) -> str:
    """The concurrency level (``"1"``, ``"2"``, ``"3-4"``, ``"5-8"``, ... powers of two) of ``in_flight`` requests."""
    if in_flight <= 2:
        return str(max(1, in_flight))
    upper = 2 ** math.ceil(math.log2(in_flight))
    return f"{upper // 2 + 1}-{upper}"


def percentiles(values: list[float]) -> dict[str, float]:
    """``count``, nearest-rank ``p50``/``p90``/``p95``/``p99`` and ``max`` of ``values`` (milliseconds)."""
    ordered = sorted(values)
    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p * len(ordered)) - 1)]
    return {"count": len(ordered), "p50": rank(0.5), "p90": rank(0.9), "p95": rank(0.95), "p99": rank(0.99),
            "max": ordered[-1]} if ordered else {"count": 0}


def _in_flight(observations: list[Observation]) -> None:
    """Set each observation's ``in_flight``: the most requests in flight at once while it was (itself included)."""
    events = sorted([(o["start"], 1) for o in observations] + [(o["end"], -1) for o in observations],
                    key=lambda e: (e[0], e[1]))  # at a tie an answer ends before the next request starts
    times = [t for t, _ in events]
    level, levels = 0, []
    for _, step in events:
        level += step
        levels.append(level)
    for o in observations:
        first = bisect.bisect_left(times, o["start"])
        last = bisect.bisect_left(times, o["end"])
        o["in_flight"] = max([1, *levels[first:last]])


def _crossings(observations: list[Observation], combinations: dict[str, Combination]) -> dict[int, str]:
    """Index of each crossed answer -> the evidence: whose combination it shows instead of its own."""
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, o in enumerate(observations):
        if o["case"] in combinations:
            by_label[combinations[o["case"]].label].append(i)
    labels = {c.label: c for c in combinations.values()}
    crossed: dict[int, str] = {}
    for i, o in enumerate(observations):
        own = combinations.get(o["case"])
        if own is None or o["images"] is None or own.shown_by(o["images"], o.get("count")):
            continue
        shown = [label for label, c in labels.items()
                 if label != own.label and c.shown_by(o["images"], o.get("count"))]
        others = [j for label in shown for j in by_label[label] if observations[j]["start"] <= o["end"]]
        if not others:
            continue  # wrong, but nobody else's: the contract check names it
        # the likeliest source: an exact size over a mere aspect ratio, then a request in flight, then the nearest
        j = min(others, key=lambda k: (combinations[observations[k]["case"]].size is None,
                                       not _overlap(observations[k], o), abs(observations[k]["start"] - o["start"])))
        when = "in flight at the same time" if _overlap(observations[j], o) else "sent before it"
        crossed[i] = (f"the answer to {o['case']} (asked {own.label}) shows {combinations[observations[j]['case']].label}"
                      f": what {observations[j]['case']} asked for, {when} ({o['in_flight']} requests in flight)")
    return crossed


def _overlap(a: Observation, b: Observation) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


class _Tally:
    """One requirement's judged answers and failures (with a few examples)."""

    def __init__(self) -> None:
        self.judged = 0
        self.failed = 0
        self.examples: list[dict[str, Any]] = []
        self.reasons: Counter[str] = Counter()

    def add(self, observation: Observation, failed: bool, message: str = "", *, reason: str = "") -> None:
        """Count one judged answer; a failed one under ``reason`` (the summary groups by it), ``message`` its own."""
        self.judged += 1
        if not failed:
            return
        self.failed += 1
        self.reasons[reason or message[:120]] += 1
        example = {k: observation.get(k) for k in ("case", "combination", "status", "latency_ms", "in_flight",
                                                 "worker", "evidence")}
        example["message"] = message
        bare = [i for i, e in enumerate(self.examples) if e["evidence"] is None]
        if len(self.examples) < _EXAMPLES:
            self.examples.append(example)
        elif example["evidence"] is not None and bare:  # an example with its exchange beats one without
            self.examples[bare[0]] = example


def judge(profile: Profile, observations: list[Observation], combinations: dict[str, Combination], *,
          alone: dict[str, int | None]) -> dict[str, Any]:
    """The verdict of ``observations`` (mutated: each gains ``in_flight``) as load.json's ``requirements``,
    ``levels`` and ``crossed`` parts.

    ``alone`` maps the case id of each 5xx under load to the status it got
    when re-sent alone afterwards (``None``: not re-sent: budget or no answer).
    """
    _in_flight(observations)
    crossed = _crossings(observations, combinations)
    tallies = {r.id: _Tally() for r in load_requirements(profile)}
    levels: dict[str, Counter[str]] = defaultdict(Counter)
    most = max((o["in_flight"] for o in observations), default=0)
    for i, o in enumerate(observations):
        level = levels[level_of(o["in_flight"])]
        level["requests"] += 1
        kind = o["class"]
        if kind == "rate-limited":
            level["rate_limited"] += 1
            tallies[RATE_LIMIT_SHAPE].add(o, o["shape"] is not None, o["shape"] or "",
                                          reason=f"HTTP {o['status']} not in the documented error shape")
            if o["status"] == 429:
                missing = o["retry_after"] is None
                tallies[RETRY_AFTER].add(o, not o["retry_after_usable"], "no Retry-After" if missing
                                         else f"Retry-After {o['retry_after']!r} is neither seconds nor an HTTP date",
                                         reason="429 without Retry-After" if missing else "unusable Retry-After")
            continue
        if o["kind"] == "valid" and o["images"] is not None:
            tallies[CROSSED].add(o, i in crossed, crossed.get(i, ""), reason="another request's images")
            if i in crossed:
                level["crossed"] += 1
                continue
        if kind == "server-error":
            serial = alone.get(o["case"])
            only_load = serial is None or serial < 500
            tallies[SERVER_ERRORS].add(o, only_load, f"HTTP {o['status']} under load; alone: "
                                       + ("not re-sent" if serial is None else f"HTTP {serial}"),
                                       reason=f"HTTP {o['status']} under load, " +
                                       (f"not re-sent alone (at most {MAX_ALONE} requests are)" if serial is None
                                        else f"HTTP {serial} alone"))
            if only_load:
                level["server_errors"] += 1
                continue
        else:
            tallies[SERVER_ERRORS].add(o, False)
        must = [f for f in o["failures"] if f[1] == "MUST"]
        tallies[CONTRACT].add(o, bool(must), f"{must[0][0]}: {must[0][2]}" if must else "",
                              reason=must[0][0] if must else "")
        level["contract_failures"] += bool(must)
    return {"requirements": _statuses(profile, tallies, most=most, answered=bool(observations)),
            "levels": [{"in_flight": name, **counts} for name, counts in
                       sorted(levels.items(), key=lambda item: int(item[0].split("-")[0]))],
            "crossed": len(crossed), "max_in_flight": most}


def _skip_reason(rid: str, *, most: int, answered: bool) -> str:
    if not answered:
        return "no answer arrived"
    if rid in (RATE_LIMIT_SHAPE, RETRY_AFTER):
        return "no answer was rate limited at this load (none judged)"
    if most < 2 and rid in (CROSSED, SERVER_ERRORS):
        return "never two requests in flight at once: nothing under load to judge"
    return "no answer could judge it (no valid answer with decoded images)" if rid == CROSSED else "nothing judged it"


def _statuses(profile: Profile, tallies: dict[str, _Tally], *, most: int, answered: bool) -> list[dict[str, Any]]:
    rows = []
    for requirement in load_requirements(profile):
        tally = tallies[requirement.id]
        row: dict[str, Any] = {"id": requirement.id, "level": requirement.level, "title": requirement.title,
                               "source": requirement.source, "judged": tally.judged, "failed": tally.failed}
        needs_load = requirement.id in (CROSSED, SERVER_ERRORS) and most < 2
        if tally.judged == 0 or (needs_load and not tally.failed):
            row.update(status="skipped", message=_skip_reason(requirement.id, most=most, answered=answered))
        elif tally.failed:
            top = "; ".join(f"{reason} ({count})" for reason, count in tally.reasons.most_common(3))
            row.update(status="failed", message=f"{tally.failed} of {tally.judged} answers: {top}",
                       examples=tally.examples)
        else:
            row.update(status="passed", message=f"{tally.judged} answers judged")
        rows.append(row)
    return rows
