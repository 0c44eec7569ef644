"""Checks of a request sent without a valid API key: refused with 401 (403 tolerated), never echoing the key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..spec import Profile, Source
from ..spec.requirements import AUTH_NO_KEY_ECHO, AUTH_REQUIRED, AUTH_STATUS_401, AUTH_WRONG_KEY
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


@check(AUTH_NO_KEY_ECHO, kinds=("auth",), level="SHOULD", cites=_auth_source,
       title="an auth error never repeats the key it was sent (security)")
def auth_no_key_echo(ctx: CheckContext) -> Iterator[CheckResult]:
    sent = (ctx.exchange.request_headers.get("Authorization") or "").removeprefix("Bearer ")
    if ctx.rejected and sent:
        yield ctx.result(AUTH_NO_KEY_ECHO, sent.encode() not in ctx.exchange.content,
                         "the error body repeats the API key it was sent")


behaviour(AUTH_REQUIRED, level="MUST", title="a request without an API key is rejected with 401 or 403",
          cites=_auth_source)
behaviour(AUTH_WRONG_KEY, level="MUST", title="a request with a wrong API key is rejected with 401 or 403",
          cites=_auth_source)
