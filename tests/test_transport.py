"""Retries, rate-limit waits, re-authorisation and error translation, with a scripted session."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from twitch_client.auth import AppTokenProvider
from twitch_client.errors import AuthError, BadRequest, InvalidCursor, ServerError
from twitch_client.ratelimit import HelixBucket
from twitch_client.transport import RetryPolicy, Transport


def response(
    status: int, body: Any = None, *, html: str | None = None, headers: dict[str, str] | None = None
) -> requests.Response:
    answer = requests.Response()
    answer.status_code = status
    if html is not None:
        answer._content = html.encode()
        answer.headers["Content-Type"] = "text/html"
    else:
        answer._content = json.dumps(body).encode()
        answer.headers["Content-Type"] = "application/json"
    answer.headers.update(headers or {})
    return answer


class ScriptedSession(requests.Session):
    """Token requests always succeed (counting mints); API requests follow the script."""

    def __init__(self, script: list[requests.Response | Exception]) -> None:
        super().__init__()
        self.script = script
        self.mints = 0
        self.seen_tokens: list[str] = []

    def post(
        self, url: str | bytes, data: Any = None, json: Any = None, **kwargs: Any
    ) -> requests.Response:  # type: ignore[override]
        self.mints += 1
        return response(
            200, {"access_token": f"token{self.mints}", "expires_in": 3600, "token_type": "bearer"}
        )

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:  # type: ignore[override]
        self.seen_tokens.append(kwargs["headers"]["Authorization"])
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


def transport(
    script: list[requests.Response | Exception],
    sleeps: list[float],
    now: float = 1000.0,
    max_attempts: int = 5,
) -> tuple[Transport, ScriptedSession]:
    session = ScriptedSession(script)
    tokens = AppTokenProvider("http://oauth.test", "client", "secret", session, clock=lambda: now)
    policy = RetryPolicy(
        max_attempts=max_attempts, initial_backoff=0.5, max_backoff=4.0, jitter=0.0
    )
    return Transport(
        session, tokens, policy=policy, timeout=1, sleep=sleeps.append, wall_clock=lambda: now
    ), session


class NoLimit:
    def acquire(self) -> float:
        return 0.0


def send(t: Transport) -> Any:
    return t.send("GET", "http://helix.test/streams", limiter=NoLimit())


def test_server_errors_back_off_exponentially_then_succeed() -> None:
    sleeps: list[float] = []
    t, _ = transport(
        [
            response(500, {"error": "Internal Server Error", "status": 500, "message": ""}),
            response(503, html="<html>Guru Meditation</html>"),
            requests.ConnectionError("reset"),
            response(200, {"data": []}),
        ],
        sleeps,
    )
    assert send(t) == {"data": []}
    assert sleeps == [0.5, 1.0, 2.0]
    assert (
        t.stats.requests == 4
        and t.stats.retries == 3
        and t.stats.server_errors == 2
        and t.stats.network_errors == 1
    )


def test_backoff_is_capped() -> None:
    sleeps: list[float] = []
    t, _ = transport([response(500, {})] * 6 + [response(200, {"ok": 1})], sleeps, max_attempts=7)
    send(t)
    assert sleeps == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_rate_limited_waits_until_the_reset_header() -> None:
    sleeps: list[float] = []
    t, _ = transport(
        [
            response(
                429,
                {"status": 429},
                headers={"Ratelimit-Remaining": "0", "Ratelimit-Reset": "1003"},
            ),
            response(200, {"ok": 1}),
        ],
        sleeps,
        now=1000.0,
    )
    assert send(t) == {"ok": 1}
    assert sleeps == [3.0] and t.stats.rate_limited == 1


def test_gives_up_after_max_attempts_with_the_last_error() -> None:
    sleeps: list[float] = []
    t, _ = transport([response(503, html="<html>down</html>")] * 3, sleeps, max_attempts=3)
    with pytest.raises(ServerError, match="non-JSON body"):
        send(t)
    assert len(sleeps) == 2


def test_a_401_re_mints_the_token_once_and_retries() -> None:
    t, session = transport(
        [response(401, {"message": "Invalid OAuth token"}), response(200, {"ok": 1})], []
    )
    assert send(t) == {"ok": 1}
    assert session.mints == 2 and session.seen_tokens == ["Bearer token1", "Bearer token2"]
    assert t.stats.reauthorisations == 1


def test_a_second_401_after_re_minting_is_an_auth_error() -> None:
    t, session = transport([response(401, {})] * 2, [])
    with pytest.raises(AuthError):
        send(t)
    assert session.mints == 2


def test_the_token_is_reused_across_requests() -> None:
    t, session = transport([response(200, {})] * 3, [])
    for _ in range(3):
        send(t)
    assert session.mints == 1


def test_bad_requests_are_permanent_and_invalid_cursor_is_recognised() -> None:
    sleeps: list[float] = []
    t, _ = transport(
        [
            response(400, {"error": "Bad Request", "status": 400, "message": "invalid cursor"}),
            response(400, {"error": "Bad Request", "status": 400, "message": "bad first"}),
        ],
        sleeps,
    )
    with pytest.raises(InvalidCursor):
        send(t)
    with pytest.raises(BadRequest, match="bad first"):
        send(t)
    assert sleeps == []


def test_tokens_never_appear_in_error_messages() -> None:
    t, _ = transport([response(400, {"message": "nope"})], [])
    with pytest.raises(BadRequest) as caught:
        send(t)
    assert "token1" not in str(caught.value)


def test_helix_bucket_waits_when_the_server_says_the_bucket_is_low() -> None:
    clock = [0.0]
    sleeps: list[float] = []
    bucket = HelixBucket(clock=lambda: clock[0], sleep=sleeps.append)
    assert bucket.acquire() == 0.0  # unknown budget: no wait
    bucket.update({"Ratelimit-Limit": "60", "Ratelimit-Remaining": "2", "Ratelimit-Reset": "0"})
    assert bucket.acquire() == 0.0
    assert bucket.acquire() == 0.0
    assert bucket.acquire() == pytest.approx(1.0)  # 60/min refills one point a second
    assert bucket.acquire() == pytest.approx(2.0)  # queued behind the previous caller
    clock[0] = 10.0
    assert bucket.acquire() == 0.0
    assert sleeps == [pytest.approx(1.0), pytest.approx(2.0)]


def test_fixed_rate_limiter_spaces_requests() -> None:
    from twitch_client.ratelimit import FixedRateLimiter

    clock = [0.0]
    limiter = FixedRateLimiter(4, clock=lambda: clock[0], sleep=lambda s: None)
    waits = [limiter.acquire() for _ in range(5)]
    assert waits == [0.0, 0.25, 0.5, 0.75, 1.0]
