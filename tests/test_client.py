"""The client's own rules: Retry-After parsing (RFC 9110 delay-seconds or HTTP-date)."""

from __future__ import annotations

import email.utils
import time

from harness.transport.client import retry_after_s


def test_retry_after_delay_seconds_and_http_date():
    assert retry_after_s("2") == 2.0 and retry_after_s("0") == 0.0
    soon = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= retry_after_s(soon) <= 31
    past = email.utils.formatdate(time.time() - 30, usegmt=True)
    assert retry_after_s(past) == 0.0


def test_unusable_retry_after_means_no_retry():
    for value in (None, "", "soon", "Mon, 99 Foo 2026"):
        assert retry_after_s(value) is None
