"""Case outcomes -> ``results.json`` (schema_version 1) and the run's verdict.

The per-requirement view is what a QA lead reads: for every requirement of the
profile, did any case fail it, how many cases exercised it, and the evidence
of each failure. A requirement no case reached is ``skipped``, never passed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NotRequired, TypedDict

from ._files import write_atomic
from ._diagnosis import SharedAnswer, shared_answers
from ._errors import EXIT_MUST_FAILED, EXIT_NOT_ASSESSED, EXIT_OK
from ._version import __version__
from .checks import CheckResult
from ._resources import specs_dir
from .spec import Profile, Requirement

__all__ = ["MAX_FAILURES_SHOWN", "STATUS_ORDER", "CaseRecord", "Document", "FailureRow", "RequestsSummary", "RequirementRow", "ResultsDocument",
           "RunRecord", "RunResult", "SCHEMA_VERSION", "results_schema"]

SCHEMA_VERSION = 1

#: How requirement statuses sort wherever requirements are listed: what needs action first.
STATUS_ORDER = {"failed": 0, "passed": 1, "skipped": 2}


def results_schema() -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) every ``results.json`` of this ``SCHEMA_VERSION`` satisfies (shipped in ``specs/``)."""
    return json.loads((specs_dir() / "results.schema.json").read_text(encoding="utf-8"))


#: Failures listed per requirement; the rest are counted in ``failures_omitted``.
MAX_FAILURES_SHOWN = 10
#: Characters of one failure message kept (a schema message can quote a whole answer).
MAX_MESSAGE_CHARS = 1000


class FailureRow(TypedDict):
    """One failing case of a requirement: its id, why, the curl line to reproduce it, and ``exchange``: the key
    of its redacted request and response in the document's ``exchanges`` (stored once per case however many
    requirements it fails; ``request`` and ``response`` here are then ``null``)."""

    case: str
    message: str
    exchange: str
    request: Any
    response: Any
    curl: str | None
    replay: NotRequired[str]


class Document(TypedDict):
    """The document a requirement quotes: its ``title`` and, where the profile knows it, its ``url``."""

    title: str
    url: str | None


class RequirementRow(TypedDict):
    """One requirement of ``results.json``: ``status`` is ``passed``, ``failed`` or ``skipped`` (no case judged it)."""

    id: str
    level: str
    title: str
    source: str
    document: Document
    status: str
    cases: int
    failures: list[FailureRow]
    failures_omitted: int
    skipped: NotRequired[str]
    waived: NotRequired[str]


class RequestsSummary(TypedDict):
    """What was sent: requests, billable (image-generating) ones, skipped cases, retries, the sequence digest."""

    sent: int
    billable: int
    skipped: int
    retried: int
    sequence_sha256: str


class ResultsDocument(TypedDict):
    """``results.json``, schema_version 1 (``specs/results.schema.json``); ``duration_s`` in seconds."""

    schema_version: int
    harness_version: str
    profile: str
    profile_sha256: str
    router_url: str
    seed: int
    fault: NotRequired[str | None]
    embedded: NotRequired[bool]
    replayed_from: NotRequired[str | None]
    started_at: str
    duration_s: float
    verdict: str
    not_assessed_reason: str | None
    complete: bool
    shared_answers: list[SharedAnswer]
    exchanges: dict[str, Any]
    streams: dict[str, Any]
    requirements: list[RequirementRow]
    requests: RequestsSummary


def _cut(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE_CHARS else f"{message[:MAX_MESSAGE_CHARS]}…[{len(message):,} chars]"


@dataclass
class CaseRecord:
    """One case's outcome: its check results and evidence (or why it was skipped)."""

    case_id: str
    requirements: tuple[str, ...]
    billable: bool
    results: list[CheckResult] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)  # an Evidence, once the case was sent
    skipped: str | None = None
    transport_error: bool = False
    stream: dict[str, Any] | None = None  # a streamed answer's timing: events, first_event_s, completed_s
    replay: str | None = None  # the conformance run line that re-sends this case


@dataclass
class RunRecord:
    """Everything one run of one profile learned, ready to be written as results.json."""

    profile: Profile
    catalogue: dict[str, Requirement]
    router_url: str
    seed: int
    fault: str | None = None  # the embedded reference router's fault, when it ran with one
    embedded: bool = False  # the run was against the embedded reference router
    replayed_from: str | None = None  # the recording judged (conformance rejudge): nothing was sent
    waivers: dict[str, str] = field(default_factory=dict)  # requirement id -> why its failure is waived
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    cases: list[CaseRecord] = field(default_factory=list)
    sent: int = 0
    retried: int = 0
    billable_sent: int = 0
    not_assessed: str | None = None  # why the router could not be judged (unreachable, key rejected, ...)
    duration_s: float = 0.0
    _sequence: Any = field(default_factory=hashlib.sha256, repr=False)

    def note_request(self, request: dict[str, Any], *, router_url: str | None = None) -> None:
        """Fold one sent request (method, path, headers without the key, encoding, body) into the run's digest.

        Two runs with the same seed send the same sequence, so they report the
        same ``requests.sequence_sha256``; compare it to prove a replay is exact.
        ``router_url`` (the embedded router's, whose port changes every run) is
        written as ``<router>`` wherever a request names it (image URL inputs).
        """
        text = json.dumps(request, sort_keys=True)
        if router_url:
            text = text.replace(router_url, "<router>")
        self._sequence.update(text.encode() + b"\n")

    def requirement_rows(self) -> list[RequirementRow]:
        """Every requirement of the catalogue with what the cases made of it, failures first, MUST before SHOULD."""
        rows: list[RequirementRow] = []
        for rid, req in self.catalogue.items():
            touched = [c for c in self.cases if any(r.requirement == rid for r in c.results)]
            failing = [(c, r) for c in touched for r in c.results if r.requirement == rid and not r.passed]
            failures = [
                FailureRow(case=c.case_id, message=_cut(r.message), exchange=c.case_id, request=None, response=None,
                           curl=c.evidence.get("curl"), **({"replay": c.replay} if c.replay else {}))
                for c, r in failing[:MAX_FAILURES_SHOWN]
            ]
            status = "failed" if failures else ("passed" if touched else "skipped")
            document = Document(title=req.source.title or req.source.file, url=req.source.url or None)
            row = RequirementRow(id=rid, level=req.level, title=req.title, source=str(req.source),
                                 document=document, status=status, cases=len(touched), failures=failures,
                                 failures_omitted=len(failing) - len(failures))
            if status == "skipped":
                row["skipped"] = self._why_skipped(rid)
            if rid in self.waivers:
                row["waived"] = self.waivers[rid]
            rows.append(row)
        rows.sort(key=lambda r: (STATUS_ORDER[r["status"]], r["level"] != "MUST"))
        return rows

    def _why_skipped(self, rid: str) -> str:
        """Why no case judged ``rid``: the skip reason of a case planned for it, else that none was planned."""
        reasons = dict.fromkeys(c.skipped for c in self.cases if c.skipped and rid in c.requirements)
        if reasons:
            return "; ".join(r for r in reasons if r)
        return "no case of this run exercises it (no value breaks this rule alone, or its model or endpoint was left out)"

    def verdict(self, rows: list[RequirementRow] | None = None) -> str:
        """``not-assessed`` (nothing judged: no answer, or no requirement passed or failed), ``non-conformant``
        (a MUST failed) or ``conformant``."""
        rows = rows if rows is not None else self.requirement_rows()
        if self.not_assessed or not self.cases or all(c.transport_error or c.skipped for c in self.cases) \
                or not any(r["status"] in ("passed", "failed") for r in rows):  # nothing was judged
            return "not-assessed"
        must_failed = any(r["status"] == "failed" and r["level"] == "MUST" for r in rows)
        return "non-conformant" if must_failed else "conformant"

    def _exchanges(self, rows: list[RequirementRow]) -> dict[str, Any]:
        """Case id -> its redacted exchange (request, response, elapsed_s), once for every case a failure names."""
        named = {f["exchange"] for row in rows for f in row["failures"]}
        return {c.case_id: {k: c.evidence.get(k) for k in ("request", "response", "elapsed_s")}
                for c in self.cases if c.case_id in named}

    def to_json(self, *, complete: bool = True) -> ResultsDocument:
        """The ``results.json`` document; ``complete=False`` for a run still going or cut short: its verdict
        is then ``not-assessed`` whatever was judged so far (a partial run certifies nothing)."""
        rows = self.requirement_rows()
        judged = sum(1 for c in self.cases if not c.skipped)
        verdict, reason = self.verdict(rows), self.not_assessed
        if verdict == "not-assessed" and reason is None:
            reason = "no case got an answer that could be judged (each failed in transport, or was skipped)"
        if not complete:
            verdict = "not-assessed"
            reason = reason or f"incomplete: the run ended or was stopped after {judged} judged cases"
        return {
            "schema_version": SCHEMA_VERSION,
            "harness_version": __version__,
            "profile": self.profile.name,
            "profile_sha256": self.profile.sha256,
            "router_url": self.router_url,
            "seed": self.seed,
            "fault": self.fault,
            "embedded": self.embedded,
            "replayed_from": self.replayed_from,
            "started_at": self.started_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "duration_s": round(self.duration_s, 3),
            "verdict": verdict,
            "not_assessed_reason": reason,
            "complete": complete,
            "requirements": rows,
            "shared_answers": shared_answers(
                (c.case_id, c.evidence.get("response"), [r.requirement for r in c.results if not r.passed])
                for c in self.cases),
            "exchanges": self._exchanges(rows),
            "streams": {c.case_id: c.stream for c in self.cases if c.stream is not None},
            "requests": {"sent": self.sent, "billable": self.billable_sent,
                         "skipped": sum(1 for c in self.cases if c.skipped), "retried": self.retried,
                         "sequence_sha256": self._sequence.hexdigest()},
        }


@dataclass(frozen=True)
class RunResult:
    """A finished run: ``data`` is the ``results.json`` document (schema_version 1)."""

    data: ResultsDocument

    @property
    def verdict(self) -> str:
        """``conformant``, ``non-conformant`` or ``not-assessed``."""
        return self.data["verdict"]

    @property
    def requirements(self) -> list[RequirementRow]:
        return self.data["requirements"]

    def failed(self, level: str | None = None) -> set[str]:
        """Ids of the failed requirements (of RFC 2119 ``level`` when given)."""
        return {r["id"] for r in self.requirements if r["status"] == "failed" and level in (None, r["level"])}

    @property
    def exit_code(self) -> int:
        """0 every MUST passed, 1 a MUST failed, 3 not assessed (as ``conformance run``)."""
        return self.gated_exit_code()

    def gate_failures(self, *, strict: bool = False, fail_on: tuple[str, ...] = ()) -> list[str]:
        """The failed requirements that fail the run: every MUST, every SHOULD too when ``strict``, and the
        ids in ``fail_on``; never a waived one (its row has ``waived``)."""
        return [r["id"] for r in self.requirements if r["status"] == "failed" and "waived" not in r
                and (r["level"] == "MUST" or strict or r["id"] in fail_on)]

    def gated_exit_code(self, *, strict: bool = False, fail_on: tuple[str, ...] = ()) -> int:
        """3 not assessed, 1 when :meth:`gate_failures` holds any, else 0."""
        if self.verdict == "not-assessed":
            return EXIT_NOT_ASSESSED
        return EXIT_MUST_FAILED if self.gate_failures(strict=strict, fail_on=fail_on) else EXIT_OK

    def write(self, path: str | Path) -> Path:
        """Write ``data`` as strict JSON (no ``NaN``) to ``path`` atomically (parents created); returns the path.

        The file is written beside ``path`` and renamed over it, so a reader
        (or a run killed mid-write) only ever sees a whole document.
        """
        return write_atomic(path, json.dumps(self.data, indent=2, allow_nan=False))


def waivers_of(entries: tuple[str, ...], catalogue: dict[str, Requirement]) -> dict[str, str]:
    """``"ID: reason"`` entries as id -> reason; ``ValueError`` for an id the profile does not have."""
    waivers = dict(entry.split(":", 1) for entry in entries)
    unknown = [rid for rid in waivers if rid.strip() not in catalogue]
    if unknown:
        raise ValueError(f"cannot waive {', '.join(map(repr, unknown))}: not a requirement of this profile")
    return {rid.strip(): reason.strip() for rid, reason in waivers.items()}
