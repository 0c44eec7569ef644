"""The pytest plugin: a thin adapter from the engine's case outcomes to pytest items and reports.

Loaded through the ``pytest11`` entry point, it stays inert until a test asks
for the ``case`` fixture (as the suites in ``suites/`` do). It then opens a
:class:`~harness.runner.Run` for ``--router-profile``, parametrizes the suite
with the plan's cases, and turns each :class:`~harness.runner.CaseOutcome`
into a pass, a failure (a MUST requirement failed), a skip or a warning (a
SHOULD requirement failed). It attaches evidence to pytest-html, names junit
testcases by requirement and writes ``results.json``.
"""

from __future__ import annotations

import argparse
import html
import signal
import threading
import warnings
from pathlib import Path
from typing import Any

import pytest

from ._diagnosis import shared_answer_lines
from ._errors import EXIT_NOT_ASSESSED, HarnessError, NotAssessed
from ._resources import suites_dir
from .options import add_cli_options, config_from
from .report import environment_html, evidence_html, frame_html, summary_html
from .runner import CaseOutcome, Run
from .spec import Case, load_profile

__all__ = ["ConformanceWarning"]

_RUN_KEY = pytest.StashKey[Run]()
_HTML_REPORT_KEY = pytest.StashKey[Any]()
_SIGTERM_KEY = pytest.StashKey[Any]()
_DEFAULT_PROFILE = "worldrouter"


class ConformanceWarning(UserWarning):
    """A SHOULD requirement failed: reported, but it does not fail the run."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("image-router-conformance", "image router conformance")
    group.addoption("--router-profile", default=None,
                    help=f"built-in profile name or path to a profile YAML (default {_DEFAULT_PROFILE})")
    group.addoption("--router-results", default=None, help="write results.json (schema_version 1) to this path")
    group.addoption("--router-option-style", default="pytest", choices=("pytest", "cli"),
                    help=argparse.SUPPRESS)  # how messages spell options: conformance run passes "cli"
    add_cli_options(group, pytest_style=True)


def pytest_configure(config: pytest.Config) -> None:
    if _is_conformance_session(config) and config.pluginmanager.hasplugin("html"):
        config.pluginmanager.register(_RequirementsColumn(), "image-router-conformance-html-columns")
    if _is_conformance_session(config) and threading.current_thread() is threading.main_thread():
        # SIGTERM (a CI job's time limit) ends the run as Ctrl-C does: pytest then still writes the
        # reports, and results.json says the run is incomplete
        config.stash[_SIGTERM_KEY] = signal.signal(signal.SIGTERM, _terminate)
    config.addinivalue_line("markers", "cases(*kinds): parametrize `case` with the plan's cases of these kinds "
                                       "(valid, stream, invalid, auth)")
    if _is_conformance_session(config) and config.getoption("--router-option-style") == "cli":
        from ._progress import Progress

        config.pluginmanager.register(Progress(_run(config)), "image-router-conformance-progress")


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def pytest_unconfigure(config: pytest.Config) -> None:
    previous = config.stash.get(_SIGTERM_KEY, None)
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


def _run(config: pytest.Config) -> Run:
    run = config.stash.get(_RUN_KEY, None)
    if run is None:
        try:
            profile = load_profile(config.getoption("--router-profile") or _DEFAULT_PROFILE)
            run = Run(profile, config_from(config.getoption, pytest_style=True), style=config.getoption("--router-option-style"),
                      results_path=config.getoption("--router-results"),
                      report_path=getattr(config.option, "htmlpath", None))
        except (HarnessError, ValueError) as exc:
            raise pytest.UsageError(str(exc)) from None
        except KeyError as exc:  # unknown fault
            raise pytest.UsageError(str(exc.args[0])) from None
        config.stash[_RUN_KEY] = run
    return run


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("cases")
    kinds = set(marker.args) if marker else {"valid", "stream", "invalid", "auth"}
    cases = [c for c in _run(metafunc.config).plan if c.kind in kinds]
    metafunc.parametrize("case", cases, ids=[c.id for c in cases])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A suite test whose kind has no case in this profile (no streaming cases, say) is deselected, not skipped:
    it was never a case, so it must not count as one."""
    def parametrized_with_nothing(item: pytest.Item) -> bool:  # pytest's stand-in for an empty parameter set
        params = getattr(getattr(item, "callspec", None), "params", {})
        return "case" in params and not isinstance(params["case"], Case)

    empty = [item for item in items if parametrized_with_nothing(item)]
    if empty:
        config.hook.pytest_deselected(items=empty)
        items[:] = [item for item in items if item not in empty]


def _case_of(item: pytest.Item) -> Case | None:
    """The plan case an item was parametrized with (``None`` for any other test)."""
    case = getattr(getattr(item, "callspec", None), "params", {}).get("case")
    return case if isinstance(case, Case) else None


class _Adapter:
    """What the suites call: ``conformance_run.execute(case)`` judges one case as a pytest outcome."""

    def __init__(self, run: Run) -> None:
        self.run = run

    def execute(self, case: Case) -> CaseOutcome:
        outcome = self.run.execute(case)
        if outcome.skipped:
            pytest.skip(outcome.skipped)
        for result in outcome.should:
            warnings.warn(ConformanceWarning(f"SHOULD {result.requirement}: {result.message}"), stacklevel=2)
        if outcome.must:
            lines = "\n".join(f"MUST {r.requirement}: {r.message}" for r in outcome.must)
            pytest.fail(f"{lines}\nreproduce: {outcome.record.evidence['curl']}\n"
                        f"replay the case: {self.run.replay_command(case)}", pytrace=False)
        return outcome


@pytest.fixture(scope="session")
def conformance_run(request: pytest.FixtureRequest) -> _Adapter:
    """The session's run, connected to the router under test.

    A router that cannot be assessed (unreachable, key rejected, endpoint not
    at the base URL) skips every case with the reason (none is a failure of the
    router), and the session ends with exit 3 and that reason said once.
    With ``--router-workers N`` the collected cases are sent N at a time first.
    """
    run = _run(request.config)
    cases = [case for case in map(_case_of, request.session.items) if case is not None]
    try:
        run.connect(cases)
    except NotAssessed as exc:
        pytest.skip(f"not assessed: {exc}")  # cached with the fixture: every case skips with this one reason
    run.prefetch(cases)
    return _Adapter(run)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]):
    outcome = yield
    report = outcome.get_result()
    run = item.config.stash.get(_RUN_KEY, None)
    case = _case_of(item)
    if run is None or case is None or report.when != "call":
        return
    record = run.records.get(case.id)
    failed = list(dict.fromkeys(r.requirement for r in (record.results if record else ()) if not r.passed))
    report.user_properties.append(("requirements", " ".join(case.requirements)))
    report.user_properties.append(("failed_requirements", " ".join(failed)))
    if record is None or not record.evidence:
        return
    from pytest_html import extras

    rows = [("pass" if r.passed else "FAIL", run.levels.get(r.requirement, "MUST"), r.requirement,
             "" if r.passed else r.message) for r in record.results]
    try:
        shown = evidence_html(rows, record.evidence)
    except Exception as exc:  # evidence built from a router's answer must never stop the session
        shown = f"<p>this case's evidence could not be shown: {html.escape(repr(exc)[:300])}</p>"
    report.extras = [*getattr(report, "extras", []), extras.html(shown)]


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
        data = run.result().data
        prefix.append(summary_html(data))
        prefix.append(frame_html(cases=len(run.plan), sent=data["requests"]["sent"]))
        try:
            from pytest_metadata.plugin import metadata_key
        except ImportError:  # pytest-html without pytest-metadata: nothing to fold
            pass
        else:
            postfix.append(environment_html(session.config.stash.get(metadata_key, {})))
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
        properties = dict(p for p in getattr(report, "user_properties", ()) if isinstance(p, tuple) and len(p) == 2)
        failed = str(properties.get("failed_requirements", "")).split()
        judged = [r for r in str(properties.get("requirements", "")).split() if r not in failed]
        shown = (f"<b>failed: {html.escape(' '.join(failed))}</b>{'; ' if judged else ''}" if failed else "") + \
            html.escape(" ".join(judged))
        cells.insert(2, f'<td class="col-requirements">{shown}</td>')


def _is_conformance_session(config: pytest.Config) -> bool:
    """A router option was given, or the suites are being run: the session certifies a router."""
    if config.getoption("--router-url") or config.getoption("--router-profile"):
        return True
    suites = str(suites_dir())
    return any(str(Path(arg.split("::")[0]).resolve()).startswith(suites) for arg in config.args)


@pytest.hookimpl(hookwrapper=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> Any:
    """Around every report writer: an interrupted session (Ctrl-C, SIGTERM) is first marked an incomplete
    run; afterwards results.json is written (always), the router stopped, and the exit status is 3 when the
    run cannot be judged."""
    run = session.config.stash.get(_RUN_KEY, None)
    if run is not None and exitstatus == pytest.ExitCode.INTERRUPTED:
        run.interrupt("the run was interrupted (Ctrl-C or SIGTERM)")
    yield
    if run is None:
        return
    run.close()
    path = session.config.getoption("--router-results")
    if path:
        run.result().write(path)
    if run.not_assessed():
        session.exitstatus = EXIT_NOT_ASSESSED
    elif session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        # the gate decides, not pytest's item count: --strict, --fail-on and waivers (--ignore) apply
        session.exitstatus = run.result().gated_exit_code(strict=run.config.strict, fail_on=run.config.fail_on)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Failed requirements that share one answer, said once at the end of the console output (``conformance
    run`` says it in its own summary instead)."""
    run = config.stash.get(_RUN_KEY, None)
    if run is None or config.getoption("--router-option-style") == "cli":
        return
    if run.not_assessed():
        terminalreporter.write_sep("-", "not assessed")
        terminalreporter.write_line(f"not assessed: {run.result().data['not_assessed_reason']} (exit 3)")
    lines = shared_answer_lines(run.result().data.get("shared_answers") or ())
    if lines:
        terminalreporter.write_sep("-", "one cause, many failures")
        for line in lines:
            terminalreporter.write_line(line)
