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

__all__ = ["MAX_ALONE", "LoadRequirement", "judge", "level_of", "load_requirements", "percentiles", "suspects"]

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
    """Index of each suspected crossed answer -> whose combination it shows instead of its own.

    A suspect is a valid answer sent with another request in flight that
    does not show its own combination but shows that of a request sent
    before it was answered (the likeliest one is named: an exact size before
    a mere aspect ratio, then one in flight with it, then the nearest).
    Only re-sending it alone (:func:`judge`'s ``alone``) tells a crossing
    from a router that answers it wrongly anyway.
    """
    by_label: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for i, o in enumerate(observations):
        if o["case"] in combinations:
            by_label[combinations[o["case"]].label].append((o["start"], i))
    for entries in by_label.values():
        entries.sort()
    labels = {c.label: c for c in combinations.values()}
    suspects: dict[int, str] = {}
    for i, o in enumerate(observations):
        own = combinations.get(o["case"])
        if own is None or o["images"] is None or o["in_flight"] < 2 or own.shown_by(o["images"], o.get("count")):
            continue
        others = []
        for label, combination in labels.items():
            if label != own.label and combination.shown_by(o["images"], o.get("count")):
                entries = by_label[label]
                sent = bisect.bisect_right(entries, (o["end"], len(observations)))  # sent before this answer came
                others += [j for _, j in entries[max(0, sent - 8):sent]]  # the latest few suffice to name one
        if not others:
            continue  # wrong, but nobody else's: the contract check names it
        j = min(others, key=lambda k: (combinations[observations[k]["case"]].size is None,
                                       not _overlap(observations[k], o), abs(observations[k]["start"] - o["start"])))
        when = "in flight at the same time" if _overlap(observations[j], o) else "sent before it"
        suspects[i] = (f"the answer to {o['case']} (asked {own.label}) shows "
                       f"{combinations[observations[j]['case']].label}: what {observations[j]['case']} asked for, "
                       f"{when} ({o['in_flight']} requests in flight)")
    return suspects


def suspects(observations: list[Observation], combinations: dict[str, Combination]) -> list[str]:
    """The case ids to re-send alone after the load, in the order first seen: each suspected crossing and each 5xx
    answered with another request in flight (sets each observation's ``in_flight``)."""
    _in_flight(observations)
    crossed = _crossings(observations, combinations)
    found = [o["case"] for i, o in enumerate(observations) if i in crossed
             or (o["class"] == "server-error" and o["in_flight"] >= 2)]
    return list(dict.fromkeys(found))


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


def _alone_summary(observations: list[Observation], crossed: dict[int, str],
                   alone: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Which suspects re-sent alone were answered right: a crossing suspect showing its own combination, a 5xx
    suspect served without a 5xx (``crossed`` / ``5xx``: those case ids; ``*_sent``: how many were re-sent)."""
    crossing = {observations[i]["case"] for i in crossed}
    server = {o["case"] for o in observations if o["class"] == "server-error" and o["in_flight"] >= 2}
    sent = {cid: r for cid, r in alone.items() if r is not None}
    return {"crossed": [c for c in crossing if c in sent and sent[c]["shows_own"]],
            "crossed_sent": sum(1 for c in crossing if c in sent),
            "5xx": [c for c in server if c in sent and sent[c]["status"] is not None and sent[c]["status"] < 500],
            "5xx_sent": sum(1 for c in server if c in sent)}


def judge(profile: Profile, observations: list[Observation], combinations: dict[str, Combination], *,
          alone: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The verdict of ``observations`` (mutated: each gains ``in_flight``) as load.json's ``requirements``,
    ``levels`` and ``crossed`` parts.

    ``alone`` maps the case ids :func:`suspects` named (at most
    :data:`MAX_ALONE`, within the budget) to what re-sending each alone after
    the load gave: ``status`` and ``shows_own`` (the answer showed its own
    combination). A suspect served right alone was a load effect (a crossing,
    a load-only 5xx); one answered wrongly alone too is a contract failure.
    A suspect not re-sent is judged as the re-sent ones of its kind were:
    a load effect if any of them was served right alone.
    """
    _in_flight(observations)
    crossed = _crossings(observations, combinations)
    alone_ok = _alone_summary(observations, crossed, alone)
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
        if i in crossed:
            own, resent = alone.get(o["case"]), alone_ok["crossed"]
            confirmed = own["shows_own"] if own is not None else bool(resent)
            said = "served right alone" if own is not None and confirmed else "wrong alone too" if own is not None \
                else f"not re-sent; {len(resent)} of {alone_ok['crossed_sent']} suspects re-sent were served right alone"
            if confirmed:
                tallies[CROSSED].add(o, True, f"{crossed[i]}; {said}", reason="another request's images")
                level["crossed"] += 1
                continue
        elif o["kind"] == "valid" and o["images"] is not None and o["in_flight"] >= 2:
            tallies[CROSSED].add(o, False)
        if kind == "server-error" and o["in_flight"] >= 2:
            own, resent = alone.get(o["case"]), alone_ok["5xx"]
            status = own["status"] if own is not None else None
            only_load = (status is not None and status < 500) if own is not None else bool(resent)
            said = (f"HTTP {status} alone" if own is not None else
                    f"not re-sent; {len(resent)} of {alone_ok['5xx_sent']} re-sent alone were served")
            if only_load:
                tallies[SERVER_ERRORS].add(o, True, f"HTTP {o['status']} under load; {said}",
                                           reason=f"HTTP {o['status']} under load, served alone")
                level["server_errors"] += 1
                continue
        elif o["status"] is not None and o["in_flight"] >= 2:
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
    if rid in (CROSSED, SERVER_ERRORS):
        return "never two requests in flight at once: nothing under load to judge" if most < 2 else \
            "no answer with another request in flight could judge it"
    return "no answer could judge it (no valid answer with decoded images)" if rid == CROSSED else "nothing judged it"


def _statuses(profile: Profile, tallies: dict[str, _Tally], *, most: int, answered: bool) -> list[dict[str, Any]]:
    rows = []
    for requirement in load_requirements(profile):
        tally = tallies[requirement.id]
        row: dict[str, Any] = {"id": requirement.id, "level": requirement.level, "title": requirement.title,
                               "source": requirement.source, "judged": tally.judged, "failed": tally.failed}
        if tally.judged == 0:
            row.update(status="skipped", message=_skip_reason(requirement.id, most=most, answered=answered))
        elif tally.failed:
            top = "; ".join(f"{reason} ({count})" for reason, count in tally.reasons.most_common(3))
            row.update(status="failed", message=f"{tally.failed} of {tally.judged} answers: {top}",
                       examples=tally.examples)
        else:
            row.update(status="passed", message=f"{tally.judged} answers judged")
        rows.append(row)
    return rows
