"""Headless Chromium opens the reports from ``file://``, as a person would, with no network.

Debian's ``chromium`` (``.ci/run`` installs it when missing) is driven by
Playwright with ``executable_path`` set: no browser is ever downloaded. The
browser runs with background networking off, so a report that needed a
remote asset would show it as a failed request.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from harness.report import requirement_anchor

from .conftest import run_cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip("chromium is not installed (.ci/run installs Debian's chromium package)", allow_module_level=True)


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> Path:
    """Two profiles, one of them with a fault, so index.html has a failing cell to click."""
    out = tmp_path_factory.mktemp("reports")
    run_cli("run", "--profile", "worldrouter", "--fault", "always-png", "--report-dir", str(out), cwd=out)
    run_cli("run", "--profile", "myrouter", "--report-dir", str(out), cwd=out)
    return out


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM is not None, "chromium is required in CI"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def _open(browser, url: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.goto(url)
    page.wait_for_load_state("load")
    return page, problems


def test_report_shows_verdict_requirements_and_filters(browser, reports, tmp_path):
    page, problems = _open(browser, (reports / "worldrouter" / "report.html").as_uri())
    assert page.locator("#irc-verdict h2").inner_text() == "Non-conformant"
    rows = page.locator("table.irc-requirements tbody tr")
    assert rows.count() > 20
    assert rows.first.get_attribute("data-status") == "failed"
    assert "gen.image.format" in rows.first.inner_text()
    passed = page.locator("table.irc-requirements tr[data-status=passed]")
    assert passed.first.is_visible()
    page.uncheck("#irc-f-passed")
    assert not passed.first.is_visible() and rows.first.is_visible()
    page.uncheck("#irc-f-MUST")
    assert not rows.first.is_visible()  # the failure is a MUST
    assert page.locator("#results-table").count() == 1  # pytest-html's own per-case table is there too
    page.screenshot(path=str(tmp_path / "report.png"), full_page=False)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert problems == []


def test_index_shows_profiles_side_by_side_and_one_click_reaches_the_curl(browser, reports, tmp_path):
    page, problems = _open(browser, (reports / "index.html").as_uri())
    assert page.locator("#profiles tr").count() == 3  # header + two profiles
    # two invocations into one folder: the earlier one's profile is marked stale, in its column and its row
    assert page.locator("#matrix thead th").all_inner_texts() == ["requirement", "myrouter", "worldrouter (stale)"]
    assert "(stale: an earlier run)" in page.locator("#profiles tr.stale").inner_text()
    page.screenshot(path=str(tmp_path / "index.png"))
    page.click("#matrix td.failed a")  # the one failing requirement, first row
    # pytest-html's own script may add ?sort=... to the address once the page loads: compare path and anchor
    landed = urlsplit(page.url)
    assert landed.path.endswith("worldrouter/report.html") and landed.fragment == requirement_anchor("gen.image.format")
    row = page.locator(f"[id='{requirement_anchor('gen.image.format')}']")
    curl = row.locator("pre.irc-curl").first
    assert curl.is_visible() and curl.inner_text().startswith('curl -sS -X POST "$ROUTER_URL"/images/')
    # a certificate, not a pytest page: the verdict comes first, pytest's Environment is folded at the bottom,
    # and pytest-only outcomes (expected failures, reruns) are not offered as filters
    assert not page.locator("#environment").is_visible() and page.locator("details.irc-environment").count() == 1
    assert not page.locator(".filters input[data-test-result=rerun] + span").is_visible()
    assert not page.locator(".filters input[data-test-result=xfailed] + span").is_visible()
    assert page.locator(".filters input[data-test-result=failed] + span").is_visible()
    assert problems == []


def _in_first_screen(page, selector: str) -> bool:
    """Whether ``selector``'s element is drawn inside the first screen (the viewport, no scrolling)."""
    box = page.locator(selector).first.bounding_box()
    return box is not None and box["height"] > 0 and box["y"] + min(box["height"], 40) <= page.viewport_size["height"]


def test_the_verdict_is_in_the_first_screen_of_the_report_and_of_the_index(browser, reports, tmp_path):
    """What a reader sees before scrolling is the verdict: in report.html the banner, in index.html each
    profile's verdict (pytest-html's title and pytest's environment do not push it down)."""
    for page_name, selector, words in (("worldrouter/report.html", "#irc-verdict h2", "Non-conformant"),
                                       ("index.html", "#profiles tr.non-conformant td.verdict", "non-conformant")):
        page, problems = _open(browser, (reports / page_name).as_uri())
        assert _in_first_screen(page, selector), page_name
        assert words in page.locator(selector).first.inner_text()
        shot = tmp_path / (page_name.replace("/", "-") + ".png")
        page.screenshot(path=str(shot))  # the first screen, as a person opening the file sees it
        assert shot.stat().st_size > 10_000 and problems == []
