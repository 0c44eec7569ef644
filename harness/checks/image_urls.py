"""Checks of the image URLs a router hands out: a client must be able to download them.

A ``data[].url`` is meant for the router's clients, not for the router: it
must answer without the API key, and from an address those clients can
reach. Behind a reverse proxy or gateway, an upstream that builds URLs from
the ``Host`` it was sent hands out its own internal address, so clients
download around the gateway (or cannot download at all); one that keeps the
gateway's host sends them to the gateway, whose key check may refuse them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from ..spec import Profile, Source
from ..spec.requirements import IMAGE_URL_REACHABLE
from ..transport._urls import internal_address, same_origin
from ._context import CheckContext
from ._registry import CheckResult, check

__all__: list[str] = []


def _documents_urls(profile: Profile, target: Any) -> Source | None:
    response = target.response
    return response.source if "url" in (*response.image_fields, *response.by_response_format.values()) else None


def _unreachable(url: str, router: httpx.URL) -> str | None:
    """Why a client may not reach ``url``: an internal address that is not the router's own origin."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, UnicodeError, TypeError):
        return None  # unusable: image.decodes says so
    if not parsed.host:
        return None
    internal = internal_address(parsed.host)
    if internal is None or same_origin(parsed, router):
        return None
    return (f"names {parsed.host[:80]}:{parsed.port or parsed.scheme}, an internal address ({internal}) that is "
            f"not the router's own ({router.host}:{router.port or router.scheme}): clients elsewhere cannot "
            "download it, and one beside it downloads around the router. Behind a gateway, the upstream must "
            "build image URLs from the gateway's public address (conformance serve --public-url)")


@check(IMAGE_URL_REACHABLE, kinds=("valid",), level="SHOULD", cites=_documents_urls,
       title="an image URL can be downloaded without credentials, from an address the router's clients reach")
def image_url_reachable(ctx: CheckContext) -> Iterator[CheckResult]:
    """Each of the first ``n`` ``data[].url`` of a 200 answer: not another internal host's address, and
    answered without the API key (not 401, 403 or 407). Other download failures are ``image.decodes``'."""
    if not ctx.accepted or "url" not in ctx.target.image_fields_for(ctx.case.body):
        return
    router = httpx.URL(ctx.exchange.url)
    for index, item in enumerate((ctx.data or [])[:ctx.images_asked]):
        url = item.get("url") if isinstance(item, dict) else None
        if not isinstance(url, str) or not url:
            continue
        problem = _unreachable(url, router)
        download = ctx.exchange.downloads.get(url)
        if problem is None and download is not None and download.status in (401, 403, 407):
            problem = (f"answered HTTP {download.status} to a GET without credentials: clients are handed a URL "
                       "they cannot download (behind a gateway: leave the image path open, or have the upstream "
                       "hand out URLs that do not pass the gateway's key check)")
        yield ctx.result(IMAGE_URL_REACHABLE, problem is None,
                         f"data[{index}].url {url[:120]!r} {problem}" if problem else "")
