"""The engine: plan -> send -> check -> record, for one profile, with no pytest anywhere.

``certify()`` runs a whole profile and returns what ``results.json`` holds.
:class:`Run` is the same engine one case at a time, for adapters that drive
it item by item (the pytest plugin turns each :class:`CaseOutcome` into a
pass, fail, skip or warning). The engine owns the router's lifecycle (the
embedded reference router, the client), the generation budget, concurrent
sending, the checks, the evidence and the run's request digest.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ._errors import (
    EXIT_MUST_FAILED,
    EXIT_NOT_ASSESSED,
    EXIT_OK,
    ApiKeyRejected,
    EndpointNotFound,
    MissingApiKey,
    NotAssessed,
)
from .checks import CheckResult, Verdict, catalogue, check_case, failures
from .evidence import build_evidence
from .options import RunConfig, flag
from .plan import build_plan
from .results import CaseRecord, RequirementRow, ResultsDocument, RunRecord
from .spec import Case, Profile, Requirement, load_profile
from .transport.client import Exchange, Limits, RouterClient, httpx_path
from .transport.forms import form_parts

__all__ = ["CaseOutcome", "Run", "RunResult", "certify", "require_api_key"]

#: A path no router serves, POSTed to tell "this endpoint is not here" from a real 404 answer.
_NO_SUCH_ROUTE = "/__conformance-no-such-route__"


def _images_asked(case: Case) -> int:
    """How many images ``case`` asks for (its ``n``, else 1), at most 16."""
    n = case.body.get("n", 1) if isinstance(case.body, dict) else 1
    return min(16, n) if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 1


def require_api_key(config: RunConfig) -> str | None:
    """The API key from ``config.api_key_env``; ``None`` for the embedded router when it is unset (it makes one).

    Raises :class:`MissingApiKey` when a ``router_url`` is given and the variable is unset or empty.
    """
    key = os.environ.get(config.api_key_env) or None
    if config.router_url is not None and key is None:
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
        if self.verdict == "not-assessed":
            return EXIT_NOT_ASSESSED
        return EXIT_MUST_FAILED if self.failed("MUST") else EXIT_OK

    def write(self, path: str | Path) -> Path:
        """Write ``data`` as JSON to ``path`` (parents created); returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.data, indent=2), encoding="utf-8")
        return path


class Run:
    """One run of one profile against one router; use it as a context manager.

    ``style`` is how messages spell options (``cli``, ``pytest``, ``python``).
    Raises :class:`MissingApiKey` (a ``router_url`` and no key), ``ValueError``
    for a ``models`` id the profile lacks and ``KeyError`` for an unknown ``fault``.
    """

    def __init__(self, profile: Profile, config: RunConfig = RunConfig(), *, style: str = "python") -> None:
        require_api_key(config)
        self.profile = profile
        self.config = config
        self.style = style
        self.catalogue: dict[str, Requirement] = catalogue(profile)
        self.levels = {rid: req.level for rid, req in self.catalogue.items()}
        self.url = config.router_url
        self.embedded = config.router_url is None
        self.record = RunRecord(profile, self.catalogue, self.url or "(reference router)", config.seed)
        self.records: dict[str, CaseRecord] = {}
        self._fault = self._resolve_fault()
        self._stack = ExitStack()
        self._started = time.monotonic()
        self._client: RouterClient | None = None
        self._key: str | None = None
        self._prefetched: dict[str, Exchange] = {}
        self._prefetch_done = False
        self.plan: list[Case] = build_plan(profile, seed=config.seed, examples=config.examples, models=config.models,
                                           input_image_url=self._input_image_url())

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the embedded router and close the client (idempotent)."""
        self._stack.close()

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

    def _send(self, case: Case) -> Exchange:
        """One case's request (and its image downloads); safe to call from several threads."""
        client = self.connect()
        endpoint = self.profile.endpoints[case.endpoint]
        form = None
        if case.encoding == "multipart":
            form = form_parts(self.profile.model_endpoint(case.endpoint, case.model), case.body)  # type: ignore[arg-type]
        exchange = client.post(endpoint.path, case.body, auth=case.auth, headers=case.headers, form=form)
        target = self.profile.model_endpoint(case.endpoint, case.model)
        if case.kind == "valid" and target is not None and "url" in target.image_fields_for(case.body):
            # only a profile whose images are URLs makes the harness fetch anything, and no more than asked for
            client.fetch_image_urls(exchange, limit=_images_asked(case))
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
        record = CaseRecord(case.id, case.requirements, case.billable)
        self.records[case.id] = record
        self.record.cases.append(record)
        if case.skip:
            record.skipped = case.skip
            return CaseOutcome(case, record)
        if self._over_budget(self.record.billable_sent, case):
            cap = self.config.max_generations
            record.skipped = f"generation budget spent ({flag('max_generations', style=self.style)} {cap})"
            return CaseOutcome(case, record)
        exchange = self._prefetched.pop(case.id, None) or self._send(case)
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
        record.evidence = build_evidence(exchange, verdict.images, redact=client.redact)
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

    def result(self) -> RunResult:
        """The run so far as a ``results.json`` document."""
        self.record.duration_s = time.monotonic() - self._started
        return RunResult(self.record.to_json())

    def all_transport_errors(self) -> bool:
        """Whether every sent case failed in transport (the router stopped answering): not assessed."""
        sent = [c for c in self.record.cases if not c.skipped]
        return bool(sent) and all(c.transport_error for c in sent)


def certify(profile: str | Path | Profile, *,
            router_url: str | None = RunConfig.router_url,
            api_key_env: str = RunConfig.api_key_env,
            seed: int = RunConfig.seed,
            examples: int = RunConfig.examples,
            max_generations: int | None = RunConfig.max_generations,
            fault: str | None = RunConfig.fault,
            models: tuple[str, ...] = RunConfig.models,
            headers: tuple[str, ...] = RunConfig.headers,
            timeout: float = RunConfig.timeout,
            workers: int = RunConfig.workers,
            latency: float = RunConfig.latency,
            input_image_url: str | None = RunConfig.input_image_url,
            allow_private_image_urls: bool = RunConfig.allow_private_image_urls) -> RunResult:
    """Certify a router against ``profile`` (a built-in name, a YAML path or a loaded :class:`Profile`).

    Every option is a :class:`~harness.options.RunConfig` field, with the
    same default and unit: ``router_url`` (``None``: the embedded reference
    router on 127.0.0.1), ``api_key_env`` (the variable holding the key),
    ``seed``, ``examples`` (draws per rule), ``max_generations`` (billable
    requests; ``None``: no cap), ``fault`` (embedded router only), ``models``
    (ids; empty: all), ``headers`` (``"Name: value"``), ``timeout`` (seconds),
    ``workers`` (requests in flight), ``latency`` (seconds, embedded router)
    ``input_image_url`` and ``allow_private_image_urls``.

    Returns the :class:`RunResult` (``.verdict``, ``.failed()``, ``.data``:
    what ``results.json`` holds). A router that cannot be assessed
    (unreachable, key rejected, endpoint not at the base URL) gives a
    ``not-assessed`` result saying why, not an exception; a missing key
    raises :class:`MissingApiKey`. Raises :class:`SpecError` /
    :class:`ProfileNotFound` for a bad profile, ``ValueError`` for an unknown
    model id and ``KeyError`` for an unknown fault.
    """
    if not isinstance(profile, Profile):
        profile = load_profile(profile)
    config = RunConfig(router_url=router_url, api_key_env=api_key_env, seed=seed, examples=examples,
                       max_generations=max_generations, fault=fault, models=tuple(models), headers=tuple(headers),
                       timeout=timeout, workers=workers, latency=latency, input_image_url=input_image_url,
                       allow_private_image_urls=allow_private_image_urls)
    with Run(profile, config) as run:
        try:
            run.connect()
            run.prefetch(run.plan)
            for case in run.plan:
                run.execute(case)
        except NotAssessed:
            pass  # recorded by connect(): the result says not assessed, and why
        return run.result()
