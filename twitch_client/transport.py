"""HTTP for Helix and IGDB: authentication, rate limits, retries, error translation.

Every request goes through :meth:`Transport.send`, which
1. waits for the client-side rate limiter,
2. adds `Client-Id` and the app token,
3. re-mints the token once if the API answers 401,
4. turns the response into JSON or into one of :mod:`twitch_client.errors`, and
5. retries transient errors (429 until `Ratelimit-Reset`; 5xx, HTML pages and network
   errors with capped exponential backoff and jitter), as tenacity's policy says.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests
import tenacity

from twitch_client.auth import AppTokenProvider
from twitch_client.errors import (
    AuthError,
    BadRequest,
    InvalidCursor,
    NetworkError,
    RateLimited,
    ServerError,
    TransientError,
    TwitchError,
)

log = logging.getLogger(__name__)


class Limiter(Protocol):
    def acquire(self) -> float: ...


@dataclass(frozen=True)
class RetryPolicy:
    """Explicit retry parameters (tests set jitter to 0 and assert the exact delays)."""

    max_attempts: int = 8
    initial_backoff: float = 0.5
    max_backoff: float = 30.0
    jitter: float = 0.5
    # A 429 whose reset is further away than this is waited for in several steps.
    max_rate_limit_wait: float = 65.0


@dataclass
class RequestStats:
    """Counters for the summary line of a run (thread-safe)."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    server_errors: int = 0
    network_errors: int = 0
    reauthorisations: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)


class _Unauthorized(TwitchError):
    """Internal: the API rejected the token; re-mint and send again."""


class _WaitForServer(tenacity.wait.wait_base):
    """Wait until `Ratelimit-Reset` after a 429, else capped exponential backoff."""

    def __init__(self, policy: RetryPolicy, wall_clock: Callable[[], float]) -> None:
        self._policy = policy
        self._wall_clock = wall_clock
        self._backoff = tenacity.wait_exponential_jitter(
            multiplier=policy.initial_backoff, max=policy.max_backoff, jitter=policy.jitter
        )

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, RateLimited) and error.retry_at is not None:
            until_reset = max(0.0, error.retry_at - self._wall_clock())
            jitter = random.uniform(0, self._policy.jitter / 2) if self._policy.jitter else 0.0
            return min(until_reset + jitter, self._policy.max_rate_limit_wait)
        return float(self._backoff(retry_state))


def _error_message(response: requests.Response) -> str:
    """The API's `message` if the body is the JSON envelope, else a short description."""
    try:
        body = response.json()
    except ValueError:
        kind = response.headers.get("Content-Type", "unknown content").split(";")[0]
        return f"HTTP {response.status_code} with a non-JSON body ({kind})"
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)[:300]
    if isinstance(body, list) and body and isinstance(body[0], dict):  # IGDB's error arrays
        return str(body[0].get("cause") or body[0].get("title") or body)[:300]
    return str(body)[:300]


def _reset_time(headers: Mapping[str, str]) -> float | None:
    try:
        return float(headers["Ratelimit-Reset"])
    except (KeyError, ValueError):
        return None


class Transport:
    """Sends authenticated requests to Helix and IGDB and translates their failures."""

    def __init__(
        self,
        session: requests.Session,
        tokens: AppTokenProvider,
        *,
        policy: RetryPolicy,
        timeout: float,
        stats: RequestStats | None = None,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._session = session
        self._tokens = tokens
        self._timeout = timeout
        self.stats = stats or RequestStats()
        self._retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(policy.max_attempts),
            wait=_WaitForServer(policy, wall_clock),
            retry=tenacity.retry_if_exception_type(TransientError),
            sleep=sleep,
            before_sleep=self._count_retry,
            reraise=True,
        )

    def _count_retry(self, retry_state: tenacity.RetryCallState) -> None:
        self.stats.add("retries")
        error = retry_state.outcome.exception() if retry_state.outcome else None
        wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
        log.debug(
            "retrying after %s (attempt %d, waiting %.2f s)",
            error,
            retry_state.attempt_number,
            wait,
        )

    def send(
        self,
        method: str,
        url: str,
        *,
        limiter: Limiter,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        data: str | None = None,
        on_headers: Callable[[Mapping[str, str]], None] | None = None,
        on_rate_limited: Callable[[], None] | None = None,
        retry: bool = True,
    ) -> Any:
        """Send one request (with retries unless `retry` is False); return the decoded
        JSON body."""

        def attempt() -> Any:
            for authorisation in (1, 2):
                try:
                    return self._send_once(
                        method, url, limiter, params, data, on_headers, on_rate_limited
                    )
                except _Unauthorized:
                    if authorisation == 2:
                        raise AuthError(f"{url} rejected a freshly minted token") from None
                    self.stats.add("reauthorisations")
            raise AssertionError("unreachable")

        return self._retrying(attempt) if retry else attempt()

    def _send_once(
        self,
        method: str,
        url: str,
        limiter: Limiter,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None,
        data: str | None,
        on_headers: Callable[[Mapping[str, str]], None] | None,
        on_rate_limited: Callable[[], None] | None,
    ) -> Any:
        token = self._tokens.token()
        headers = {"Client-Id": self._tokens.client_id, "Authorization": f"Bearer {token}"}
        if data is not None:
            headers["Content-Type"] = "text/plain"
            headers["Accept"] = "application/json"
        limiter.acquire()
        self.stats.add("requests")
        try:
            response = self._session.request(
                method, url, params=params, data=data, headers=headers, timeout=self._timeout
            )
        except requests.RequestException as error:
            self.stats.add("network_errors")
            raise NetworkError(f"{method} {url}: {type(error).__name__}") from None
        if on_headers is not None:
            on_headers(response.headers)
        status = response.status_code
        if status == 200:
            try:
                return response.json()
            except ValueError:
                self.stats.add("server_errors")
                raise ServerError(f"{url}: 200 with a body that is not JSON", status) from None
        if status == 401:
            self._tokens.invalidate(token)
            raise _Unauthorized
        if status == 429:
            self.stats.add("rate_limited")
            if on_rate_limited is not None:
                on_rate_limited()
            raise RateLimited(f"{url}: rate limited", retry_at=_reset_time(response.headers))
        message = _error_message(response)
        if status >= 500:
            self.stats.add("server_errors")
            raise ServerError(f"{url}: {message}", status)
        if status == 400 and "invalid cursor" in message.lower():
            raise InvalidCursor(message)
        raise BadRequest(f"{url}: {message}", status)
