"""The engine: plan -> send -> check -> record, for one profile, with no pytest anywhere.

:class:`Run` is the engine one case at a time, for adapters that drive it
item by item (the pytest plugin turns each :class:`CaseOutcome` into a
pass, fail, skip or warning). The engine owns the router's lifecycle (the
embedded reference router, the client), the generation budget, concurrent
sending, the checks, the evidence and the run's request digest.
"""

from __future__ import annotations

import os
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ._files import write_atomic
from ._errors import (
    ApiKeyRejected,
    EndpointNotFound,
    MissingApiKey,
    NotAssessed,
)
from .checks import CheckResult, Verdict, catalogue, check_case, failures
from .evidence import build_evidence, stream_timing
from .guard import RunGuard
from .options import RunConfig, flag
from .plan import build_plan
from ._har import RecordedAnswers, read_recording, recorder_for
from ._replay import only_cases, replay_command
from ._send import send_case
from .results import CaseRecord, RunRecord, RunResult, waivers_of
from .spec import Case, Profile, Requirement
from .transport.client import Exchange, Limits, RouterClient, httpx_path

__all__ = ["CaseOutcome", "Run", "RunResult", "require_api_key"]

#: A path no router serves, POSTed to tell "this endpoint is not here" from a real 404 answer.
_NO_SUCH_ROUTE = "/__conformance-no-such-route__"


def require_api_key(config: RunConfig) -> str | None:
    """The API key from ``config.api_key_env``; ``None`` for the embedded router when it is unset (it makes one).

    Raises :class:`MissingApiKey` when a ``router_url`` is given and the variable is unset or empty.
    """
    key = os.environ.get(config.api_key_env) or None
    if config.router_url is not None and key is None and config.replay is None:  # a replay sends nothing
        raise MissingApiKey(config.api_key_env)
    return key

@dataclass(frozen=True)
class CaseOutcome:
    """What one case came to: its record (results, evidence or why it was skipped) and its failures by level."""

    case: Case
    record: CaseRecord
    must: tuple[CheckResult, ...] = ()
    should: tuple[CheckResult, ...] = ()

    @property
    def skipped(self) -> str | None:
        return self.record.skipped


class Run:
    """One run of one profile against one router; use it as a context manager.

    ``style`` is how messages spell options (``cli``, ``pytest``, ``python``).
    ``results_path``: where ``results.json`` is kept up to date as the run
    goes (marked ``complete: false`` until :meth:`result` is written whole),
    so a run killed midway leaves a valid partial document; ``report_path``
    likewise gets a partial ``report.html`` (banner and requirement table),
    which the finished report replaces.
    Raises :class:`MissingApiKey` (a ``router_url`` and no key), ``ValueError``
    for a ``models`` id the profile lacks or a ``cases`` id the plan lacks, and ``KeyError`` for an unknown
    ``fault``.
    """

    def __init__(self, profile: Profile, config: RunConfig = RunConfig(), *, style: str = "python",
                 results_path: str | Path | None = None, report_path: str | Path | None = None) -> None:
        require_api_key(config)
        self.profile = profile
        self.config = config
        self.style = style
        self.catalogue: dict[str, Requirement] = catalogue(profile)
        self.levels = {rid: req.level for rid, req in self.catalogue.items()}
        self.url = config.router_url
        self.embedded = config.router_url is None
        self.record = RunRecord(profile, self.catalogue, self.url or "(reference router)", config.seed,
                                fault=config.fault if config.router_url is None else None,
                                embedded=config.router_url is None)
        self.record.waivers = waivers_of(config.ignore, self.catalogue)
        self.records: dict[str, CaseRecord] = {}
        self._fault = self._resolve_fault()
        self._stack = ExitStack()
        self._started = time.monotonic()
        self._client: RouterClient | None = None
        self._key: str | None = None
        self._prefetched: dict[str, Exchange | None] = {}  # None: not sent (the guard stopped the run)
        self.guard = RunGuard(deadline_s=config.deadline, deadline_flag=flag("deadline", style=style))
        self._results_path = Path(results_path) if results_path else None
        self._report_path = Path(report_path) if report_path else None
        self._checkpointed = 0.0
        self._interrupted = False
        self._prefetch_done = False
        self._recorded = self._read_recording()
        self._recorder = recorder_for(profile, config)
        self.plan: list[Case] = only_cases(build_plan(profile, seed=config.seed, examples=config.examples,
                                                 models=config.models, input_image_url=self._input_image_url(),
                                                 large_inputs=config.large_inputs), config.cases)

    @property
    def api_key(self) -> str | None:
        """The key this run sends: the embedded router's own, else the one in ``config.api_key_env``."""
        return self._key if self.embedded else os.environ.get(self.config.api_key_env) or None

    def replay_command(self, case: Case) -> str:
        """The ``conformance run`` line that re-sends exactly ``case`` (see :func:`harness._replay.replay_command`)."""
        from ._resources import builtin_profiles

        builtin = builtin_profiles().get(self.profile.name) == self.profile.path
        return replay_command(self.profile.name if builtin else str(self.profile.path), self.config, case,
                              embedded=self.embedded)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the embedded router and close the client (idempotent); write the recording, if one is kept."""
        self._stack.close()
        if self._recorder is not None:
            result = self.result()  # judged once: the verdict the recording keeps
            self._recorder.meta["router_url"] = self.record.router_url
            self._recorder.write({"verdict": result.verdict, "failed": sorted(result.failed()),
                                  "statuses": {r["id"]: r["status"] for r in result.requirements}})

    def _read_recording(self) -> dict[str, Exchange] | None:
        if self.config.replay is None:
            return None
        meta, exchanges = read_recording(Path(self.config.replay))
        self.record.router_url = meta.get("router_url") or self.record.router_url
        self.record.replayed_from = str(self.config.replay)
        self.record.embedded = bool(meta.get("embedded"))
        return exchanges

    # ------------------------------------------------------------------ the router

    def _resolve_fault(self) -> Any:
        if self.config.fault is None:
            return None
        from .reference import get_fault

        return get_fault(self.config.fault)

    def _input_image_url(self) -> str | None:
        """The configured input image URL, else (embedded router) the input image it serves."""
        given = self.config.input_image_url
        takes_urls = any("url" in p.inputs for target in self.profile.model_endpoints()
                         for p in target.params.values() if p.type == "image")
        if given or not self.embedded or not takes_urls:
            return given
        from .reference import INPUT_IMAGE_PATH

        self._start_reference_router()
        return f"{self.url}{INPUT_IMAGE_PATH}"

    def _start_reference_router(self) -> None:
        if self.url is not None:
            return
        from .reference import running_router

        self._key = os.environ.get(self.config.api_key_env) or f"sk-reference-{secrets.token_hex(8)}"
        self.url = self._stack.enter_context(running_router(self.profile, api_key=self._key, fault=self._fault,
                                                            latency_s=self.config.latency))
        self.record.router_url = self.url

    def connect(self, cases: list[Case] | None = None) -> RouterClient:
        """Start the reference router if needed, then check once that the router can be assessed.

        The check is a TCP probe, then a preflight: the first of ``cases``
        (default: the plan) that the run sends anyway, sent with the
        configured key and kept as that case's answer. Raises
        :class:`NotAssessed` (recorded: the run is then not assessed, and no
        requirement passes): :class:`RouterUnreachable`, :class:`ApiKeyRejected`
        (401/403 to it) or :class:`EndpointNotFound` (404/405 as for a route
        that does not exist).
        """
        if self._client is not None:
            return self._client
        if self._recorded is not None:  # a replay: the recording answers, no router is reached
            self._client = RecordedAnswers(self.record.router_url)  # type: ignore[assignment]
            return self._client  # type: ignore[return-value]
        self.guard.start()
        key = require_api_key(self.config)
        if self.embedded:
            self._start_reference_router()
            key = self._key
        assert self.url is not None
        timeout = self.config.timeout
        extra = dict(h.split(":", 1) for h in self.config.headers if ":" in h)
        client = RouterClient(self.url, api_key=key, limits=Limits.from_timeout(timeout),
                              headers={k.strip(): v.strip() for k, v in extra.items()},
                              allow_private_image_urls=self.config.allow_private_image_urls)
        self._stack.callback(client.close)
        try:
            client.probe()
            self._client = client
            self._preflight(client, self.plan if cases is None else cases)
        except NotAssessed as exc:
            self._client = None
            self.record.not_assessed = str(exc)
            self.checkpoint(force=True)
            raise
        return client

    def _preflight(self, client: RouterClient, cases: list[Case]) -> None:
        sendable = [c for c in cases if not c.skip and c.auth == "valid"]
        case = next((c for c in sendable if c.kind == "valid" and not self._over_budget(0, c)), None) or \
            next((c for c in sendable if c.kind == "invalid"), None)
        if case is None:
            return
        exchange = self._send(case)
        self._prefetched[case.id] = exchange  # the case is judged on this very answer: nothing is sent twice
        if exchange is None:
            return
        url = client.base_url + self.profile.endpoints[case.endpoint].path
        if exchange.status in (401, 403):
            self.record.sent += 1
            raise ApiKeyRejected(url, status=exchange.status, variable=self.config.api_key_env)
        if exchange.status in (404, 405) and self._route_missing(client, exchange):
            self.record.sent += 1
            raise EndpointNotFound(url, status=exchange.status, hint=self._base_url_hint())

    def _route_missing(self, client: RouterClient, answer: Exchange) -> bool:
        """Whether a 404/405 means "no such route" rather than a router's answer (e.g. an unknown model).

        A router's own errors are JSON error objects; and a route that is not
        there is answered exactly as a path no router serves is (paths aside).
        """
        try:
            body = answer.json()
        except ValueError:
            return True
        if not isinstance(body, dict) or "error" not in body:
            return True
        other = client.post(_NO_SUCH_ROUTE, {}, headers={})
        def shown(exchange: Exchange) -> bytes:
            path = httpx_path(exchange.url)
            return exchange.content.replace(exchange.url.encode(), b"<url>").replace(path.encode(), b"<path>")
        return other.status == answer.status and shown(other) == shown(answer)

    def _base_url_hint(self) -> str:
        base = (self.url or "").rstrip("/")
        if base.endswith(self.profile.base_path):
            return ""
        return f"; did you mean {base}{self.profile.base_path}?"

    # ------------------------------------------------------------------ sending

    def _send(self, case: Case) -> Exchange | None:
        """One case's request (and its image downloads); ``None`` when the guard stopped the run.

        Safe to call from several threads.
        """
        client = self.connect()
        if self._recorded is not None:
            return self._recorded.get(case.id)
        if self.guard.stopped():
            return None
        exchange = send_case(client, self.profile, case)
        self.guard.observe(exchange)
        if self._recorder is not None:
            self._recorder.add(case.id, exchange)
        return exchange

    def _over_budget(self, billable_so_far: int, case: Case) -> bool:
        cap = self.config.max_generations
        return case.billable and cap is not None and billable_so_far >= cap

    def prefetch(self, cases: list[Case]) -> None:
        """Send ``cases`` ``workers`` at a time before they are judged; :meth:`execute` then only judges.

        The generation budget picks the same cases as a serial run (the first
        N billable ones in order), so verdict and requirement table match.
        """
        if self.config.workers <= 1 or self._prefetch_done:
            return
        self.connect(cases)
        self._prefetch_done = True
        chosen, billable = [], 0
        for case in cases:
            if not case.skip and not self._over_budget(billable, case):
                chosen.append(case)
                billable += case.billable
        chosen = [c for c in chosen if c.id not in self._prefetched]  # the preflight case has its answer
        with ThreadPoolExecutor(max_workers=self.config.workers, thread_name_prefix="conformance") as pool:
            self._prefetched.update(zip((c.id for c in chosen), pool.map(self._send, chosen)))

    def execute(self, case: Case) -> CaseOutcome:
        """Send ``case`` (or take its prefetched answer), judge it and record its evidence."""
        client = self.connect()
        record = CaseRecord(case.id, case.requirements, case.billable, replay=self.replay_command(case))
        self.records[case.id] = record
        self.record.cases.append(record)
        if case.skip:
            record.skipped = case.skip
            return CaseOutcome(case, record)
        if self._over_budget(self.record.billable_sent, case):
            cap = self.config.max_generations
            record.skipped = f"generation budget spent ({flag('max_generations', style=self.style)} {cap})"
            return CaseOutcome(case, record)
        if self._recorded is not None and case.id not in self._recorded:
            record.skipped = "not in the recording (not sent when it was made)"
            return CaseOutcome(case, record)
        exchange = self._prefetched.pop(case.id) if case.id in self._prefetched else self._send(case)
        if exchange is None:
            reason = self.guard.stopped() or "the run was stopped"
            record.skipped = f"not sent: {reason}"
            self.record.not_assessed = self.record.not_assessed or reason
            self.checkpoint()
            return CaseOutcome(case, record)
        self._count(case, exchange)
        record.transport_error = exchange.status is None
        try:
            verdict = check_case(self.profile, case, exchange)
        except Exception as exc:  # an answer no check foresaw: a failed case with evidence, never a crash
            verdict = Verdict()
            verdict.add(case.requirements[0], False, f"the harness could not judge this answer: {exc!r}"[:500])
        # messages quote decoded values (a schema error repeats the instance): redacted before they go anywhere
        verdict.results = [replace(r, message=client.redact(r.message)) if r.message else r for r in verdict.results]
        record.results = verdict.results
        record.evidence = build_evidence(exchange, verdict.images, redact=client.redact, base_url=client.base_url)
        record.stream = stream_timing(self.profile, case, exchange)
        self.checkpoint()
        return CaseOutcome(case, record, must=tuple(failures(verdict, self.levels, "MUST")),
                           should=tuple(failures(verdict, self.levels, "SHOULD")))

    def _count(self, case: Case, exchange: Exchange) -> None:
        endpoint = self.profile.endpoints[case.endpoint]
        self.record.sent += 1
        self.record.retried += exchange.retries
        self.record.billable_sent += case.billable
        self.record.note_request({"method": "POST", "path": endpoint.path, "auth": case.auth, "headers": case.headers,
                                  "encoding": case.encoding, "body": case.body},
                                 router_url=self.url if self.embedded else None)

    # ------------------------------------------------------------------ the result

    def result(self, *, complete: bool | None = None) -> RunResult:
        """The run so far as a ``results.json`` document; ``complete`` defaults to "not interrupted"
        (``False``: cut short, so not assessed)."""
        self.record.duration_s = time.monotonic() - self._started
        return RunResult(self.record.to_json(complete=not self._interrupted if complete is None else complete))

    def interrupt(self, reason: str) -> None:
        """Mark the run cut short (Ctrl-C, SIGTERM): not assessed, ``complete: false``, ``reason`` said."""
        judged = sum(1 for c in self.record.cases if not c.skipped)
        self._interrupted = True
        self.record.not_assessed = self.record.not_assessed or f"{reason} after {judged} judged cases"

    def checkpoint(self, *, force: bool = False) -> None:
        """Rewrite ``results_path`` as ``complete: false``, and ``report_path`` as a partial page (at most
        every 2 s unless ``force``)."""
        if (self._results_path is None and self._report_path is None) or \
                (not force and time.monotonic() - self._checkpointed < 2.0):
            return
        self._checkpointed = time.monotonic()
        partial = self.result(complete=False)
        if self._results_path is not None:
            partial.write(self._results_path)
        if self._report_path is not None:
            from .report import partial_report_html

            write_atomic(self._report_path, partial_report_html(partial.data))

    def not_assessed(self) -> bool:
        """Whether the run cannot be judged: the router could not be assessed, stopped answering (the
        guard tripped, or every sent case failed in transport), or the deadline passed."""
        sent = [c for c in self.record.cases if not c.skipped]
        return self._interrupted or self.record.not_assessed is not None or (bool(sent) and all(c.transport_error for c in sent))
