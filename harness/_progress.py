"""A live progress line for ``conformance run``: cases done of planned, billable spent of the cap, failures.

Real routers take seconds to a minute per generation, so a run of a few hundred cases is long enough
that its operator wants to know where it is and when it will end. tqdm draws the line (with elapsed
time and ETA) on a terminal; a CI log (no TTY) gets one line when a profile starts instead of a
stream of redraws.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

__all__ = ["Progress"]


class Progress:
    """A pytest plugin object: one tqdm bar over the session's cases (registered by the conformance plugin in
    ``conformance run`` sessions only; pytest's own terminal output is off there)."""

    def __init__(self, run: Any) -> None:
        self.run = run
        self.bar: Any = None
        self.failed = 0

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        total = len(session.items)
        billable = sum(case.billable for case in self.run.plan)
        cap = self.run.config.max_generations
        terminal = sys.__stderr__  # the process's own stream: pytest may have swapped sys.stderr
        if terminal is None or not terminal.isatty():  # a CI log: one line, no redraws
            capped = f", at most {cap} sent" if cap is not None else ""
            print(f"{self.run.profile.name}: sending {total} cases ({billable} billable{capped})", flush=True)
            return
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc=self.run.profile.name, unit="case", file=terminal, leave=False,
                        dynamic_ncols=True)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        finished = report.when == "call" or (report.when == "setup" and not report.passed)
        if self.bar is None or not finished:
            return
        self.failed += report.failed
        cap = self.run.config.max_generations
        # a failure is drawn at once (refresh): the operator sees it even when the next redraw never comes
        self.bar.set_postfix_str(f"billable {self.run.record.billable_sent}/{cap if cap is not None else '-'}, "
                                 f"failing cases {self.failed}", refresh=report.failed)
        self.bar.update(1)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
