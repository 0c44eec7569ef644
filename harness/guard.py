"""Run-wide bounds: a deadline for the whole run and a circuit breaker on a router that stopped answering.

Each request is bounded by ``--timeout``; a run of hundreds of cases against
a router that hangs would still last hours. The guard stops sending once the
run's ``--deadline`` has passed, or after a few requests in a row that got
no answer in time (timeouts, rate limits whose ``Retry-After`` the retry
budget could no longer pay). The cases it does not
send are recorded as not sent and the run as *not assessed*: exit 3, never
a verdict on cases that were not judged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .transport.client import Exchange

__all__ = ["RunGuard"]


class RunGuard:
    """Decides whether the run may send another request.

    ``deadline_s``: seconds from :meth:`start` (the run's first connection)
    after which nothing more is sent (``None``: no deadline);
    ``deadline_flag`` is how messages name it. ``trip_after``: consecutive unanswered
    requests that stop the run. Thread-safe: workers share one guard.
    """

    def __init__(self, *, deadline_s: float | None, trip_after: int = 3, deadline_flag: str = "--deadline",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._ends: float | None = None
        self._deadline_s = deadline_s
        self._deadline_flag = deadline_flag
        self._trip_after = trip_after
        self._in_a_row = 0
        self._stopped: str | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the deadline's clock (idempotent)."""
        with self._lock:
            if self._ends is None and self._deadline_s is not None:
                self._ends = self._clock() + self._deadline_s

    def stopped(self) -> str | None:
        """Why no more requests are sent (``None``: the run goes on)."""
        with self._lock:
            if self._stopped is None and self._ends is not None and self._clock() >= self._ends:
                self._stopped = f"the run's {self._deadline_flag} of {self._deadline_s:g} s passed"
            return self._stopped

    def observe(self, exchange: Exchange) -> None:
        """Count ``exchange``: a request that timed out or whose retries the budget could not pay brings the
        breaker closer to tripping; anything else resets it (a refused or reset connection costs no time, and a
        router refusing every connection is not assessed anyway: no case got an answer)."""
        unanswered = exchange.timed_out or exchange.retry_exhausted
        with self._lock:
            self._in_a_row = self._in_a_row + 1 if unanswered else 0
            if self._stopped is None and self._in_a_row >= self._trip_after:
                last = exchange.error or f"HTTP {exchange.status} after the retry budget was spent"
                self._stopped = (f"the router stopped answering: {self._in_a_row} requests in a row got no answer in time "
                                 f"(last: {last[:200]})")
