"""Exceptions of the Twitch client, shaped by how callers react to them.

    TwitchError
    ├── TransientError          retry with backoff (the transport does)
    │   ├── RateLimited         429: wait until `retry_at`
    │   ├── ServerError         5xx, HTML error pages, unparsable bodies
    │   └── NetworkError        timeouts, refused or reset connections
    └── PermanentError          retrying the same request will not help
        ├── AuthError           bad credentials, or a 401 that re-minting did not cure
        ├── BadRequest          400 from Helix or IGDB
        │   └── InvalidCursor   Helix's intermittent "invalid cursor" (callers may re-page)
        ├── SchemaError         a response whose envelope is not what the contract says
        └── FollowersUnavailable  followers refused to this token (401/403)
    ThumbnailUnavailable        no usable frame in a stream's thumbnail
    ClipUnavailable             a live stream's clip could not be read (offline, no plugin …)

requests' exceptions never leave :mod:`twitch_client.transport`.
"""

from __future__ import annotations


class TwitchError(Exception):
    """Base class of every error the Twitch client raises."""


class TransientError(TwitchError):
    """The request may succeed if sent again later."""


class RateLimited(TransientError):
    """HTTP 429. `retry_at` is the epoch second from `Ratelimit-Reset`, if the server sent one."""

    def __init__(self, message: str, retry_at: float | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class ServerError(TransientError):
    """5xx (possibly an HTML page from the CDN) or a body that is not the expected JSON."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class NetworkError(TransientError):
    """Timeout, refused or reset connection."""


class PermanentError(TwitchError):
    """Sending the same request again will not help."""


class AuthError(PermanentError):
    """Credentials rejected (400/403 from the token endpoint, or a 401 after re-minting)."""


class BadRequest(PermanentError):
    """HTTP 400 with the API's message."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class InvalidCursor(BadRequest):
    """Helix rejected a pagination cursor (happens intermittently on valid chains)."""


class SchemaError(PermanentError):
    """The response envelope does not match the API contract."""


class FollowersUnavailable(PermanentError):
    """Get Channel Followers refused this token (401 after re-minting, or 403)."""


class ThumbnailUnavailable(TwitchError):
    """No usable frame; `reason` is a short machine-readable cause."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class ClipUnavailable(TwitchError):
    """No bytes from this stream's clip; `reason` says why."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
