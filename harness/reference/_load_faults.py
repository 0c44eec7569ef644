"""The reference router's load faults: defects that only requests in flight together show.

``conformance run`` sends one request at a time and must find nothing wrong
with them; ``conformance load`` must fail the requirement each names. They
act on :attr:`RouterState.in_flight` (requests being handled now) and the
``answer`` hook (the finished 200, as it leaves). Registered with the rest of
the catalogue when :mod:`harness.reference` is imported.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.responses import JSONResponse, Response

from ._faults import Fault, RouterState, register_fault

__all__ = ["LOAD_FAULTS", "OVERLOAD_THRESHOLD"]

#: Requests in flight above which the overload faults misbehave.
OVERLOAD_THRESHOLD = 4


def _overloaded(status: int) -> Callable[[RouterState], Response | None]:
    """Above :data:`OVERLOAD_THRESHOLD` requests in flight, answer ``status`` with an error-shaped body and no
    ``Retry-After``."""
    def intercept(state: RouterState) -> Response | None:
        if state.in_flight <= OVERLOAD_THRESHOLD:
            return None
        return JSONResponse({"error": {"message": f"Overloaded: {state.in_flight} requests in flight.",
                                       "type": "rate_limit_error" if status == 429 else "server_error",
                                       "param": None, "code": "overloaded"}}, status_code=status)
    return intercept


async def _crossed(state: RouterState, answer: Response) -> Response:
    """A shared buffer, as a broken cache or connection pool has: a request in flight meanwhile overwrites it."""
    state.shared = answer
    await asyncio.sleep(0.05)
    return state.shared


LOAD_FAULTS = (
    Fault("crossed-answers", "under concurrency, answers a request with the images of another one in flight (a "
          "shared response buffer); one request at a time is answered faithfully", "load.no-crossed-answers",
          answer=_crossed, under_load=True),
    Fault("429-no-retry-after", f"above {OVERLOAD_THRESHOLD} requests in flight, answers 429 without Retry-After",
          "load.rate-limit-retry-after", intercept=_overloaded(429), under_load=True),
    Fault("500-under-load", f"above {OVERLOAD_THRESHOLD} requests in flight, answers 500 (alone, every request "
          "is served)", "load.no-load-only-5xx", intercept=_overloaded(500), under_load=True),
)

for _fault in LOAD_FAULTS:
    register_fault(_fault)
