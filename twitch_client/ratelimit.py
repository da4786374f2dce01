"""Client-side rate limiters that keep the collector inside Twitch's budgets.

Helix gives each client id a token bucket (800 points a minute, refilled continuously) and
reports it on every response in `Ratelimit-Limit` / `Ratelimit-Remaining`. We mirror that
bucket locally so that concurrent cursor chains slow down *before* the server says 429.
IGDB has no headers, only a documented 4 requests per second: :class:`FixedRateLimiter`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping


class HelixBucket:
    """A local mirror of the Helix token bucket, synchronised from response headers."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._per_minute: float | None = None  # unknown until the first response
        self._tokens = 0.0
        self._stamp = clock()

    def _refill(self, now: float) -> None:
        if self._per_minute is not None:
            rate = self._per_minute / 60.0
            self._tokens = min(self._per_minute, self._tokens + (now - self._stamp) * rate)
        self._stamp = now

    def acquire(self) -> float:
        """Take one point, sleeping first if the bucket is empty; return the seconds slept."""
        with self._lock:
            if self._per_minute is None:
                return 0.0
            now = self._clock()
            self._refill(now)
            self._tokens -= 1  # reserve now: concurrent callers queue behind this one
            wait = 0.0 if self._tokens >= 0 else -self._tokens / (self._per_minute / 60.0)
        if wait > 0:
            self._sleep(wait)
        return wait

    def update(self, headers: Mapping[str, str]) -> None:
        """Adopt the server's view of the bucket (never more optimistic than ours)."""
        try:
            limit = float(headers["Ratelimit-Limit"])
            remaining = float(headers["Ratelimit-Remaining"])
        except (KeyError, ValueError):
            return
        if limit <= 0:
            return
        with self._lock:
            now = self._clock()
            if self._per_minute is None:
                self._per_minute, self._tokens, self._stamp = limit, remaining, now
                return
            self._refill(now)
            self._per_minute = limit
            self._tokens = min(self._tokens, remaining)

    def exhaust(self) -> None:
        """The server said 429: assume the bucket is empty."""
        with self._lock:
            self._refill(self._clock())
            self._tokens = min(self._tokens, 0.0)


class FixedRateLimiter:
    """At most `per_second` acquisitions a second, spaced evenly (IGDB's 4 requests/s)."""

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = clock()

    def acquire(self) -> float:
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self._interval
        wait = start - now
        if wait > 0:
            self._sleep(wait)
        return wait
