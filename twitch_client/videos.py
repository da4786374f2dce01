"""A live stream's archive (VOD) from `GET /helix/videos?user_id=&type=archive`.

While a channel is live, its current archive is the one whose `stream_id` is the live
stream's `id`; it began when the stream did (`created_at`). Channels may switch archives
off: then there is none, which is not an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from twitch_client.errors import SchemaError

FetchVideos = Callable[[list[tuple[str, Any]]], Any]


@dataclass(frozen=True)
class Archive:
    video_id: str
    stream_id: str
    created_at: datetime

    def url_at(self, moment: datetime) -> str:
        """The VOD at the moment: `https://www.twitch.tv/videos/<id>?t=1h2m3s`."""
        offset = offset_text(moment - self.created_at)
        return f"https://www.twitch.tv/videos/{self.video_id}?t={offset}"


def offset_text(offset: Any) -> str:
    seconds = max(0, int(offset.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, rest = divmod(rest, 60)
    return f"{hours}h{minutes}m{rest}s"


def current_archive(fetch: FetchVideos, user_id: str, stream_id: str) -> Archive | None:
    """The archive of the live stream `stream_id` of channel `user_id`, if it is kept."""
    body = fetch([("user_id", user_id), ("type", "archive"), ("first", 20)])
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise SchemaError("videos response has no `data` list")
    for video in data:
        if not isinstance(video, dict) or str(video.get("stream_id")) != stream_id:
            continue
        try:
            created = datetime.fromisoformat(str(video["created_at"]))
            if created.tzinfo is None:
                raise ValueError(f"created_at {video['created_at']!r} has no zone")
            return Archive(str(video["id"]), stream_id, created.astimezone(UTC))
        except (KeyError, ValueError) as error:
            raise SchemaError(f"videos response has a malformed archive: {error}") from None
    return None
