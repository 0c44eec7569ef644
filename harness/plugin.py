"""The pytest plugin: options, case parametrization, the router fixture, evidence and results.

Loaded through the ``pytest11`` entry point, it stays inert until a test asks
for the ``case`` fixture (as the suites in ``suites/`` do). It then builds the
plan from ``--router-profile``, sends each case to ``--router-url`` (or to an
embedded reference router on loopback when no URL is given), attaches the
evidence to the pytest-html report and writes ``results.json``.
"""

from __future__ import annotations

import html
import json
import os
import secrets
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from ._cases import Case, build_plan
from ._checks import Verdict, check_case, failures
from ._client import Exchange, Limits, RouterClient
from ._errors import HarnessError, RouterUnreachable
from ._evidence import build_evidence
from ._forms import form_parts
from ._requirements import catalogue
from ._results import CaseRecord, RunRecord
from ._resources import suites_dir
from ._spec import Profile, load_profile
from .report import evidence_html, summary_html

__all__ = ["ConformanceRun", "ConformanceWarning"]

_RUN_KEY = pytest.StashKey["ConformanceRun"]()
_HTML_REPORT_KEY = pytest.StashKey[Any]()


class ConformanceWarning(UserWarning):
    """A SHOULD requirement failed: reported, but it does not fail the run."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("image-router-conformance", "image router conformance")
    group.addoption("--router-url", default=None,
                    help="router base URL as the OpenAI SDK takes it (e.g. https://router.example/v1); "
                         "default: an embedded reference router on 127.0.0.1")
    group.addoption("--router-profile", default=None,
                    help="built-in profile name or path to a profile YAML (default worldrouter)")
    group.addoption("--router-api-key-env", default="ROUTER_API_KEY",
                    help="environment variable holding the router API key (default ROUTER_API_KEY)")
    group.addoption("--router-seed", type=int, default=0, help="seed for the Hypothesis draws (same seed, same requests)")
    group.addoption("--router-examples", type=int, default=2, help="Hypothesis draws per rule and per model (default 2)")
    group.addoption("--router-max-generations", type=int, default=None,
                    help="send at most N billable (image-generating) requests; later ones are skipped")
    group.addoption("--router-results", default=None, help="write results.json (schema_version 1) to this path")
    group.addoption("--router-fault", default=None, help="break the embedded reference router with this fault")
    group.addoption("--router-models", default=None, metavar="M,...",
                    help="only these models of the profile (comma-separated ids)")
    group.addoption("--router-header", action="append", default=[], metavar="'Name: value'",
                    help="send this extra header with every request (repeatable)")
    group.addoption("--router-timeout", type=float, default=180.0,
                    help="seconds to wait for data from the router before a case fails (default 180)")
    group.addoption("--router-latency", type=float, default=0.0,
                    help="slow the embedded reference router by this many seconds per request")
    group.addoption("--router-workers", type=int, default=1,
                    help="send up to N requests at once (checks, verdict and report are the same as with 1)")
    group.addoption("--router-input-image-url", default=None, metavar="URL",
                    help="a PNG the router can fetch, for image-URL input cases (default with the embedded "
                         "router: one it serves; with --router-url and none given, those cases are skipped)")


def pytest_configure(config: pytest.Config) -> None:
    if _is_conformance_session(config) and config.pluginmanager.hasplugin("html"):
        config.pluginmanager.register(_RequirementsColumn(), "image-router-conformance-html-columns")
    config.addinivalue_line("markers", "cases(*kinds): parametrize `case` with the plan's cases of these kinds "
                                       "(valid, invalid, auth)")


class ConformanceRun:
    """The state of one conformance run: profile, plan, client, and the record of every case."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        opt = config.getoption
        self.profile: Profile = load_profile(opt("--router-profile") or "worldrouter")
        self.catalogue = catalogue(self.profile)
        self.levels = {rid: req.level for rid, req in self.catalogue.items()}
        self.seed: int = opt("--router-seed")
        self.max_generations: int | None = opt("--router-max-generations")
        self.url: str | None = opt("--router-url")
        self.record = RunRecord(self.profile, self.catalogue, self.url or "(reference router)", self.seed)
        self.records: dict[str, CaseRecord] = {}
        self._client: RouterClient | None = None
        self._stack = ExitStack()
        self._started = time.monotonic()
        self._prefetched: dict[str, Exchange] | None = None
        self._embedded = self.url is None
        self._key: str | None = None
        models = tuple(m for m in (opt("--router-models") or "").split(",") if m)
        try:
            self.plan: list[Case] = build_plan(self.profile, seed=self.seed, examples=opt("--router-examples"),
                                               models=models, input_image_url=self._input_image_url())
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None

    def _input_image_url(self) -> str | None:
        """The user's ``--router-input-image-url``, else (embedded router) the input image it serves."""
        given = self.config.getoption("--router-input-image-url")
        if given or not self._embedded or not any("url" in p.inputs for op in self.profile.operations()
                                                   for p in op.params.values() if p.type == "image"):
            return given
        from .reference import INPUT_IMAGE_PATH

        self._start_reference_router()
        return f"{self.url}{INPUT_IMAGE_PATH}"

    def _start_reference_router(self) -> None:
        if self.url is not None:
            return
        from .reference import get_fault, running_router

        opt = self.config.getoption
        self._key = os.environ.get(opt("--router-api-key-env")) or f"sk-reference-{secrets.token_hex(8)}"
        self.url = self._stack.enter_context(
            running_router(self.profile, api_key=self._key, fault=get_fault(opt("--router-fault")),
                           latency_s=opt("--router-latency")))
        self.record.router_url = self.url

    def connect(self) -> RouterClient:
        """Start the reference router if needed and check the router is reachable (once)."""
        if self._client is not None:
            return self._client
        opt = self.config.getoption
        key = os.environ.get(opt("--router-api-key-env")) or None
        if self._embedded:
            self._start_reference_router()
            key = self._key
        assert self.url is not None
        timeout = opt("--router-timeout")
        extra = dict(h.split(":", 1) for h in opt("--router-header") if ":" in h)
        client = RouterClient(self.url, api_key=key, limits=Limits(read_s=timeout, total_s=max(timeout, 300.0)),
                              headers={k.strip(): v.strip() for k, v in extra.items()})
        self._stack.callback(client.close)
        try:
            client.probe()
        except RouterUnreachable as exc:
            self.record.unreachable = str(exc)
            pytest.exit(str(exc), returncode=3)
        self._client = client
        return client

    def _send(self, case: Case) -> Exchange:
        """One case's request (and its image downloads); safe to call from several threads."""
        client = self.connect()
        endpoint = self.profile.endpoints[case.endpoint]
        form = None
        if case.encoding == "multipart":
            form = form_parts(self.profile.operation(case.endpoint, case.model), case.body)  # type: ignore[arg-type]
        exchange = client.post(endpoint.path, case.body, auth=case.auth, headers=case.headers, form=form)
        if case.kind == "valid":
            client.fetch_image_urls(exchange)
        return exchange

    def _over_budget(self, billable_so_far: int, case: Case) -> bool:
        return case.billable and self.max_generations is not None and billable_so_far >= self.max_generations

    def prefetch(self, cases: list[Case]) -> None:
        """Send ``cases`` with ``--router-workers`` threads before the items run; items then only judge.

        The generation budget picks the same cases as a serial run (the first
        N billable ones in item order), so verdict and requirement table match.
        """
        workers = self.config.getoption("--router-workers")
        if workers <= 1 or self._prefetched is not None:
            return
        self.connect()
        chosen, billable = [], 0
        for case in cases:
            if not case.skip and not self._over_budget(billable, case):
                chosen.append(case)
                billable += case.billable
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="conformance") as pool:
            self._prefetched = dict(zip((c.id for c in chosen), pool.map(self._send, chosen)))

    def execute(self, case: Case) -> Verdict:
        """Send ``case`` (or take its prefetched answer), judge it, record evidence; fail the test on a MUST failure."""
        client = self.connect()
        record = CaseRecord(case.id, case.requirements, case.billable)
        self.records[case.id] = record
        self.record.cases.append(record)
        if case.skip:
            record.skipped = case.skip
            pytest.skip(record.skipped)
        if self._over_budget(self.record.billable_sent, case):
            record.skipped = f"generation budget spent (--max-generations {self.max_generations})"
            pytest.skip(record.skipped)
        exchange = (self._prefetched or {}).get(case.id) or self._send(case)
        endpoint = self.profile.endpoints[case.endpoint]
        self.record.sent += 1
        self.record.retried += exchange.retries
        self.record.note_request({"method": "POST", "path": endpoint.path, "auth": case.auth, "headers": case.headers,
                                  "encoding": case.encoding, "body": case.body},
                                 router_url=self.url if self._embedded else None)
        self.record.billable_sent += case.billable
        record.transport_error = exchange.status is None
        try:
            verdict = check_case(self.profile, case, exchange)
        except Exception as exc:  # an answer no check foresaw: a failed case with evidence, never a crash
            verdict = Verdict()
            verdict.add(case.requirements[0], False, f"the harness could not judge this answer: {exc!r}"[:500])
        record.results = verdict.results
        record.evidence = build_evidence(exchange, verdict.images, redact=client.redact)
        for result in failures(verdict, self.levels, "SHOULD"):
            warnings.warn(ConformanceWarning(f"SHOULD {result.requirement}: {result.message}"), stacklevel=2)
        must = list(failures(verdict, self.levels, "MUST"))
        if must:
            lines = "\n".join(f"MUST {r.requirement}: {r.message}" for r in must)
            pytest.fail(f"{lines}\nreproduce: {record.evidence['curl']}\n"
                        f"replay the case: --router-seed {self.seed} -k {case.id!r}", pytrace=False)
        return verdict

    def finish(self, exitstatus: int) -> int:
        """Write results.json (always) and return the exit status the run deserves."""
        self._stack.close()
        self.record.duration_s = time.monotonic() - self._started
        path = self.config.getoption("--router-results")
        data = self.record.to_json()
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(json.dumps(data, indent=2), encoding="utf-8")
        sent = [c for c in self.record.cases if not c.skipped]
        if sent and all(c.transport_error for c in sent):
            return 3
        return exitstatus


def _run(config: pytest.Config) -> ConformanceRun:
    run = config.stash.get(_RUN_KEY, None)
    if run is None:
        try:
            run = ConformanceRun(config)
        except HarnessError as exc:
            raise pytest.UsageError(str(exc)) from None
        config.stash[_RUN_KEY] = run
    return run


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("cases")
    kinds = set(marker.args) if marker else {"valid", "invalid", "auth"}
    cases = [c for c in _run(metafunc.config).plan if c.kind in kinds]
    metafunc.parametrize("case", cases, ids=[c.id for c in cases])


def _case_of(item: pytest.Item) -> Case | None:
    """The plan case an item was parametrized with (``None`` for any other test)."""
    case = getattr(getattr(item, "callspec", None), "params", {}).get("case")
    return case if isinstance(case, Case) else None


@pytest.fixture(scope="session")
def conformance_run(request: pytest.FixtureRequest) -> ConformanceRun:
    """The session's :class:`ConformanceRun`, connected to the router under test.

    With ``--router-workers N`` the collected cases are sent N at a time first.
    """
    run = _run(request.config)
    run.connect()
    items = request.session.items
    run.prefetch([case for case in map(_case_of, items) if case is not None])
    return run


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]):
    outcome = yield
    report = outcome.get_result()
    run = item.config.stash.get(_RUN_KEY, None)
    case = _case_of(item)
    if run is None or case is None or report.when != "call":
        return
    record = run.records.get(case.id)
    report.user_properties.append(("requirements", " ".join(case.requirements)))
    if record is None or not record.evidence:
        return
    from pytest_html import extras

    rows = [("pass" if r.passed else "FAIL", run.levels.get(r.requirement, "MUST"), r.requirement,
             "" if r.passed else r.message) for r in record.results]
    report.extras = [*getattr(report, "extras", []), extras.html(evidence_html(rows, record.evidence))]


@pytest.fixture(autouse=True)
def _junit_names_cases_by_requirement(request: pytest.FixtureRequest) -> None:
    """In ``junit.xml`` a case is the testcase ``<requirement id>[<label>]`` of class ``conformance.<profile>``.

    CI systems then list results by requirement. ``record_xml_attribute`` is
    pytest's public way to set them (marked experimental; its warnings are
    muted: ``name`` and ``classname`` are standard attributes in every junit family).
    """
    case = _case_of(request.node)
    run = request.config.stash.get(_RUN_KEY, None)
    if case is None or run is None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pytest.PytestExperimentalApiWarning)
        warnings.filterwarnings("ignore", message="record_xml_attribute is incompatible with junit_family")
        record = request.getfixturevalue("record_xml_attribute")
        record("name", case.id)
        record("classname", f"conformance.{run.profile.name}")


@pytest.hookimpl(optionalhook=True)
def pytest_html_report_title(report: Any) -> None:
    """Keep pytest-html's report object: its title is set once the run knows its profile (at the summary)."""
    report.config.stash[_HTML_REPORT_KEY] = report


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_summary(prefix: list[str], summary: list[str], postfix: list[str],
                                session: pytest.Session) -> None:
    """The verdict banner and the requirement table, above pytest-html's results table."""
    run = session.config.stash.get(_RUN_KEY, None)
    if run is not None:
        run.record.duration_s = time.monotonic() - run._started
        data = run.record.to_json()
        prefix.append(summary_html(data))
        html_report = session.config.stash.get(_HTML_REPORT_KEY, None)
        if html_report is not None:
            html_report.title = f"{run.profile.name}: {data['verdict']} (image router conformance)"



class _RequirementsColumn:
    """pytest-html's results table gets a Requirements column, in conformance runs only."""

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells.insert(2, '<th class="sortable" data-column-type="requirements">Requirements</th>')

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: Any, cells: list[str]) -> None:
        if not cells:  # another plugin hid this row
            return
        properties = [p for p in getattr(report, "user_properties", ()) if isinstance(p, tuple) and len(p) == 2]
        cells.insert(2, f'<td class="col-requirements">{html.escape(str(dict(properties).get("requirements", "")))}</td>')


def _is_conformance_session(config: pytest.Config) -> bool:
    """A router option was given, or the suites are being run: the session certifies a router."""
    if config.getoption("--router-url") or config.getoption("--router-profile"):
        return True
    suites = str(suites_dir())
    return any(str(Path(arg.split("::")[0]).resolve()).startswith(suites) for arg in config.args)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    run = session.config.stash.get(_RUN_KEY, None)
    if run is not None:
        session.exitstatus = run.finish(int(exitstatus))
