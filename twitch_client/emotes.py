"""Emotes from `GET /helix/chat/emotes/global` and `GET /helix/chat/emotes?broadcaster_id=`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twitch_client.errors import SchemaError
from twitch_client.models import Emote, QuarantinedRecord, parse_records

FetchEmotes = Callable[[list[tuple[str, Any]]], Any]


def get_emotes(
    fetch: FetchEmotes, broadcaster_id: str | None = None
) -> tuple[list[Emote], list[QuarantinedRecord]]:
    """The global emotes (no broadcaster) or one channel's emotes; neither endpoint pages."""
    params = [("broadcaster_id", broadcaster_id)] if broadcaster_id else []
    body = fetch(params)
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise SchemaError("chat/emotes response has no `data` list")
    endpoint = "helix/chat/emotes" if broadcaster_id else "helix/chat/emotes/global"
    return parse_records(Emote, body["data"], endpoint)
