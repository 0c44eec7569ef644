"""Checks of a request sent without a valid API key: refused with 401 (403 tolerated), never echoing the key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..spec import Profile, Source
from ..spec.requirements import AUTH_NO_KEY_ECHO, AUTH_REQUIRED, AUTH_STATUS_401, AUTH_WRONG_KEY
from .._redact import KEY_PLACEHOLDER, Redactor
from ._context import CheckContext
from ._registry import CheckResult, behaviour, check

__all__: list[str] = []


def _auth_source(profile: Profile, target: Any) -> Source | None:
    return profile.auth_source


@check(kinds=("auth",))
def refused(ctx: CheckContext) -> Iterator[CheckResult]:
    """The case's own requirement (``auth.required`` or ``auth.wrong-key``): answered 401 or 403."""
    rid = ctx.case.requirements[0]
    if not ctx.answered:
        yield ctx.no_answer(rid)
        return
    yield ctx.result(rid, ctx.rejected, f"answered HTTP {ctx.exchange.status} to a request with a {ctx.case.auth} key")


@check(AUTH_STATUS_401, kinds=("auth",), level="SHOULD", cites=_auth_source,
       title="a missing or wrong API key is answered 401 (403 is tolerated)")
def auth_status_401(ctx: CheckContext) -> Iterator[CheckResult]:
    if ctx.rejected:
        yield ctx.result(AUTH_STATUS_401, ctx.exchange.status == 401, f"answered HTTP {ctx.exchange.status}")


@check(AUTH_NO_KEY_ECHO, kinds=("valid", "stream", "invalid", "auth"), level="SHOULD", cites=_auth_source,
       title="no answer repeats the API key it was sent, in any spelling, in its body or headers (security)")
def auth_no_key_echo(ctx: CheckContext) -> Iterator[CheckResult]:
    """The client redacted the real key (raw, JSON-escaped, base64, percent-encoded, hex) as it arrived, so a
    placeholder in the answer is an echo; a made-up wrong key is not redacted and is looked for the same way."""
    if not ctx.answered:
        return
    sent = (ctx.exchange.request_headers.get("Authorization") or "").removeprefix("Bearer ")
    wrong = Redactor(sent if sent and sent != KEY_PLACEHOLDER else None)
    headers = "\n".join(f"{k}: {v}" for k, v in ctx.exchange.headers.items())
    body = ctx.exchange.content + "\n".join(e.data for e in ctx.exchange.events or ()).encode()
    places = [name for name, echoed in (
        ("body", KEY_PLACEHOLDER.encode() in body or wrong.bytes(body) != body),
        ("headers", KEY_PLACEHOLDER in headers or wrong.text(headers) != headers)) if echoed]
    yield ctx.result(AUTH_NO_KEY_ECHO, not places, f"the answer's {' and '.join(places)} repeat the API key it was sent")


behaviour(AUTH_REQUIRED, level="MUST", title="a request without an API key is rejected with 401 or 403",
          cites=_auth_source)
behaviour(AUTH_WRONG_KEY, level="MUST", title="a request with a wrong API key is rejected with 401 or 403",
          cites=_auth_source)
