"""Conformance suite: what a router must do with each kind of request.

Each test is parametrized by the plugin with the plan's cases of its kind;
the checks and the requirement ids they report live in ``harness._checks``.
"""

from __future__ import annotations

import pytest


@pytest.mark.cases("auth")
def test_auth(case, conformance_run):
    """Requests without a valid API key are refused (401/403) with an error body."""
    conformance_run.execute(case)


@pytest.mark.cases("invalid")
def test_invalid_request_rejected(case, conformance_run):
    """A request breaking exactly one documented rule is rejected with a 4xx and the error shape."""
    conformance_run.execute(case)


@pytest.mark.cases("valid")
def test_valid_request_served(case, conformance_run):
    """A valid request is served: 200, JSON, schema, n images of the asked size and format."""
    conformance_run.execute(case)


@pytest.mark.cases("stream")
def test_streamed(case, conformance_run):
    """A valid request asking to stream is served as server-sent events: partial images, then one completed event."""
    conformance_run.execute(case)
