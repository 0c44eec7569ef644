"""Checks of an invalid request's answer: rejected with a 4xx, in the documented error shape, with no image."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..spec import Profile, Source
from ..spec.requirements import ERROR_NO_IMAGE, ERROR_PARAM, ERROR_SHAPE, ERROR_STATUS, MODEL_KNOWN
from ._context import CheckContext
from ._registry import CheckResult, behaviour, check

__all__: list[str] = []


def _errors_source(profile: Profile, target: Any) -> Source | None:
    return profile.errors.source


behaviour(MODEL_KNOWN, level="SHOULD", title="an unknown model is rejected with a 4xx",
          cites=lambda profile, target: target.source or profile.endpoints[target.endpoint].source)


@check(kinds=("invalid",))
def rejected(ctx: CheckContext) -> Iterator[CheckResult]:
    """The case's own requirement (the rule it breaks): rejected with a 4xx that is not an auth or load answer."""
    rid = ctx.case.requirements[0]
    if not ctx.answered:
        yield ctx.no_answer(rid)
        return
    status = ctx.exchange.status
    if status == 200:
        message = "accepted (HTTP 200) a request that breaks this rule"
    elif status >= 500:  # type: ignore[operator]
        message = f"answered HTTP {status} (server error) instead of rejecting with a 4xx"
    elif status in (404, 405):
        message = f"answered HTTP {status} (no such route or resource), which is not a rejection of invalid input"
    else:
        message = f"answered HTTP {status}, which is not a rejection of invalid input"
    yield ctx.result(rid, ctx.rejected, message)


@check(ERROR_SHAPE, kinds=("invalid", "auth"), title="an error body has the documented error shape",
       cites=_errors_source, level_from=lambda profile, target: profile.errors.level)
def error_shape(ctx: CheckContext) -> Iterator[CheckResult]:
    if ctx.rejected:
        yield ctx.schema_result(ERROR_SHAPE, "error")


@check(ERROR_STATUS, kinds=("invalid",), level="SHOULD", cites=_errors_source,
       title="an invalid request is answered with the documented error status")
def error_status(ctx: CheckContext) -> Iterator[CheckResult]:
    if ctx.rejected and ERROR_STATUS.slug in ctx.case.requirements:
        status, documented = ctx.exchange.status, ctx.profile.errors.status
        said = f"; {ctx.describe()}" if ctx.intermediary else ""
        yield ctx.result(ERROR_STATUS, status == documented, f"HTTP {status}, documented {documented}{said}")


@check(ERROR_NO_IMAGE, kinds=("invalid", "auth"), title="an error answer carries no generated image",
       cites=_errors_source)
def error_no_image(ctx: CheckContext) -> Iterator[CheckResult]:
    if not ctx.rejected or ERROR_NO_IMAGE.slug not in ctx.case.requirements or ctx.parsed[1]:
        return
    data = ctx.body.get("data") if isinstance(ctx.body, dict) else None
    images = [i for i in data if isinstance(i, dict) and (i.get("b64_json") or i.get("url"))] \
        if isinstance(data, list) else []
    yield ctx.result(ERROR_NO_IMAGE, not images, f"the error body carries {len(images)} image(s) in data[]")


@check(ERROR_PARAM, kinds=("invalid", "auth"), level="SHOULD", cites=_errors_source,
       title="`error.param` names the offending request field")
def error_param(ctx: CheckContext) -> Iterator[CheckResult]:
    """Judged only when the error has the documented shape (a wrong shape is ``error.shape``'s failure)."""
    if not ctx.rejected or ERROR_PARAM.slug not in ctx.case.requirements or not ctx.case.params:
        return
    if ctx.parsed[1] or ctx.schema_error("error") is not None:
        return
    error = ctx.body.get("error") if isinstance(ctx.body, dict) else None
    named = error.get("param") if isinstance(error, dict) else None
    yield ctx.result(ERROR_PARAM, named in ctx.case.params,
                     f"error.param is {named!r}; the request got {' / '.join(ctx.case.params)} wrong")
