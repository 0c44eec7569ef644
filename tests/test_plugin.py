"""The pytest plugin used directly (``pytest suites --router-profile ...``), tested with pytester."""

from __future__ import annotations


import pytest

from harness import build_plan, load_profile
from harness._resources import suites_dir

from .conftest import load_results

SUITE = (suites_dir() / "test_generations.py").read_text(encoding="utf-8")


def test_plugin_runs_suite_against_reference_router(pytester):
    pytester.makepyfile(test_generations=SUITE)
    result = pytester.runpytest("--router-profile", "worldrouter", "--router-results", "out/results.json", "-p", "no:randomly")
    result.assert_outcomes(passed=len(build_plan(load_profile("worldrouter"))))
    data = load_results(pytester.path / "out" / "results.json")
    assert data["verdict"] == "conformant"


def test_plugin_fails_items_of_the_broken_rule_only(pytester):
    pytester.makepyfile(test_generations=SUITE)
    result = pytester.runpytest("--router-profile", "worldrouter", "--router-fault", "fixed-1024")
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] >= 4
    result.stdout.fnmatch_lines(["*MUST gen.image.dimensions: data[[]0[]]: asked * got 1024x1024*"])


def test_failures_that_share_one_answer_are_said_once_at_the_end(pytester):
    pytester.makepyfile(test_generations=SUITE)
    result = pytester.runpytest("--router-profile", "openai", "--router-models", "gpt-image-2",
                                "--router-fault", "corrupts-uploads", "-p", "no:randomly")
    result.stdout.fnmatch_lines(["*one cause, many failures*",
                                 "* failed requirements share one answer (* cases, e.g. edit.*): HTTP 400: *"
                                 "the bytes are not an image"])


def test_max_generations_skips_billable_cases(pytester):
    pytester.makepyfile(test_generations=SUITE)
    result = pytester.runpytest("--router-profile", "worldrouter", "--router-max-generations", "3",
                                "--router-results", "r.json")
    data = load_results(pytester.path / "r.json")
    assert data["requests"]["billable"] == 3
    assert result.parseoutcomes()["skipped"] == data["requests"]["skipped"] > 0


def test_plugin_is_inert_for_ordinary_tests(pytester):
    pytester.makepyfile("def test_plain():\n    assert 1 + 1 == 2\n")
    pytester.runpytest().assert_outcomes(passed=1)


def test_same_seed_sends_the_same_request_sequence(pytester):
    pytester.makepyfile(test_generations=SUITE)
    digests = []
    for run, seed in enumerate(("5", "5", "6")):
        pytester.runpytest("--router-profile", "worldrouter", "--router-seed", seed, "--router-results", f"r{run}.json",
                           "-p", "no:randomly")
        digests.append(load_results(pytester.path / f"r{run}.json")["requests"]["sequence_sha256"])
    assert digests[0] == digests[1] != digests[2]


def test_workers_give_the_same_verdict_table_and_request_sequence(pytester):
    pytester.makepyfile(test_generations=SUITE)
    tables = []
    for workers in ("1", "4"):
        pytester.runpytest("--router-profile", "worldrouter", "--router-workers", workers,
                           "--router-results", f"w{workers}.json", "-p", "no:randomly")
        data = load_results(pytester.path / f"w{workers}.json")
        tables.append((data["verdict"], [(r["id"], r["status"], r["cases"]) for r in data["requirements"]],
                       data["requests"]["sequence_sha256"]))
    assert tables[0] == tables[1]


def test_workers_keep_the_generation_budget(pytester):
    pytester.makepyfile(test_generations=SUITE)
    pytester.runpytest("--router-profile", "worldrouter", "--router-workers", "4", "--router-max-generations", "3",
                       "--router-results", "b.json")
    assert load_results(pytester.path / "b.json")["requests"]["billable"] == 3


def test_models_filter_and_extra_headers(pytester):
    pytester.makepyfile(test_generations=SUITE)
    result = pytester.runpytest("--router-profile", "worldrouter", "--router-models", "grok-imagine-image",
                                "--router-header", "X-Route: blue", "--router-results", "m.json", "--collect-only", "-q")
    ids = [line for line in result.stdout.lines if "::" in line]
    assert any("test_auth" in i for i in ids) and any("gen.grok-imagine-image." in i for i in ids)
    # no case of the other models (a label may still name a sibling model whose value it borrows)
    case_ids = [i.split("[", 1)[1] for i in ids if "[" in i]
    assert len(case_ids) == len(ids) and any(c.startswith("gen.grok-imagine-image.") for c in case_ids)
    assert not any(c.startswith(("gen.gpt-image-2.", "gen.grok-imagine-image-quality.")) for c in case_ids)
    assert not any("[gpt-image-2 " in i or "[grok-imagine-image-quality " in i for i in ids)
    bad = pytester.runpytest("--router-profile", "worldrouter", "--router-models", "no-such-model")
    assert bad.ret in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.USAGE_ERROR)
    bad.stdout.fnmatch_lines(["*has no model 'no-such-model'; models: gpt-image-2, *"])


def test_an_unrelated_pytest_html_run_is_left_alone(pytester):
    """The plugin loads in every pytest session: a project's own --html run, even with a collection
    error, gets no crash and no Requirements column."""
    pytester.makepyfile(test_ok="def test_ok():\n    assert True\n", test_broken="import no_such_module_anywhere\n")
    result = pytester.runpytest("--html", "r.html", "--continue-on-collection-errors", "-p", "no:randomly")
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    result.assert_outcomes(passed=1, errors=1)
    page = (pytester.path / "r.html").read_text()
    assert "test_ok" in page and "Requirements" not in page and "irc-banner" not in page


def test_an_unreachable_router_is_one_reason_and_exit_3_not_a_pytest_exit_banner(pytester, monkeypatch):
    from .conftest import free_ports

    (port,) = free_ports(1)  # nothing listens there
    monkeypatch.setenv("ROUTER_API_KEY", "sk-unreachable-0123")
    pytester.makepyfile(test_generations=SUITE)
    result = pytester.runpytest("--router-profile", "worldrouter", "--router-url", f"http://127.0.0.1:{port}/v1",
                                "-p", "no:randomly")
    assert result.ret == 3
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0 and outcomes["skipped"] == len(build_plan(load_profile("worldrouter")))
    result.stdout.fnmatch_lines([f"not assessed: router not reachable at http://127.0.0.1:{port}/v1*(exit 3)"])
    assert "_pytest.outcomes.Exit" not in result.stdout.str()
