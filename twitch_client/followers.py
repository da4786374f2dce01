"""Follower totals from `GET /helix/channels/followers`, one broadcaster a request.

With an app token Helix gives the total only (the list needs the broadcaster's consent),
so the request asks for one follower (`first=1`) and reads `total`. Whether Twitch accepts
an app token here at all is not documented: a 401 or 403 is `FollowersUnavailable`, which
callers take as "no follower figures this run", never as a failed snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twitch_client.errors import AuthError, BadRequest, FollowersUnavailable, SchemaError

FetchFollowers = Callable[[list[tuple[str, Any]]], Any]


def follower_total(fetch: FetchFollowers, broadcaster_id: str) -> int:
    """The channel's follower count."""
    try:
        body = fetch([("broadcaster_id", broadcaster_id), ("first", 1)])
    except AuthError as error:
        raise FollowersUnavailable(f"followers refused the token: {error}") from None
    except BadRequest as error:
        if error.status == 403:
            raise FollowersUnavailable(f"followers forbidden: {error}") from None
        raise
    total = body.get("total") if isinstance(body, dict) else None
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise SchemaError("channels/followers response has no whole `total` ≥ 0")
    return total
