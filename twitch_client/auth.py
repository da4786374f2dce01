"""App access tokens by the OAuth client-credentials grant.

A token is reused until shortly before it expires; the transport calls :meth:`invalidate`
when Helix answers 401 (tokens can die early) and the next request mints a new one.
Tokens never appear in logs or exception messages.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import requests

from twitch_client.errors import AuthError, NetworkError, SchemaError, ServerError

log = logging.getLogger(__name__)

# Re-mint this long before the advertised expiry, so a token never dies mid-snapshot.
EXPIRY_MARGIN_SECONDS = 300.0


class AppTokenProvider:
    """Mints and caches one app access token for a client id."""

    def __init__(
        self,
        oauth_url: str,
        client_id: str,
        client_secret: str,
        session: requests.Session,
        *,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client_id = client_id
        self._token_url = oauth_url.rstrip("/") + "/token"
        self._secret = client_secret
        self._session = session
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self.mints = 0

    def token(self) -> str:
        """A valid token, minting one if there is none or it is about to expire."""
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at - EXPIRY_MARGIN_SECONDS:
                self._token, self._expires_at = self._mint()
                self.mints += 1
            return self._token

    def invalidate(self, token: str) -> None:
        """Forget `token` (if it is still the current one) after the API rejected it."""
        with self._lock:
            if self._token == token:
                self._token = None

    def _mint(self) -> tuple[str, float]:
        form = {
            "client_id": self.client_id,
            "client_secret": self._secret,
            "grant_type": "client_credentials",
        }
        try:
            response = self._session.post(self._token_url, data=form, timeout=self._timeout)
        except requests.RequestException as error:
            raise NetworkError(f"token endpoint unreachable: {type(error).__name__}") from None
        if response.status_code in (400, 401, 403):
            raise AuthError(f"token endpoint refused the credentials: {_message(response)}")
        if response.status_code != 200:
            raise ServerError(
                f"token endpoint answered {response.status_code}", response.status_code
            )
        try:
            body = response.json()
            token, expires_in = str(body["access_token"]), float(body["expires_in"])
        except (ValueError, KeyError, TypeError):
            raise SchemaError("token endpoint returned no access_token/expires_in") from None
        log.info("minted an app access token valid for %.0f s", expires_in)
        return token, self._clock() + expires_in


def _message(response: requests.Response) -> str:
    try:
        return str(response.json().get("message", ""))[:200]
    except ValueError:
        return f"HTTP {response.status_code}"
