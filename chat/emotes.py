"""Which emotes are free and which are paid, from Helix's emote lists (refreshed daily).

Free: Twitch's global emotes, and a channel's follower emotes in that channel. Paid:
subscriber and bits emotes. An emote in no list the reader fetched is counted as paid:
outside the global set, emotes are subscriber or bits emotes of some channel (a
subscriber can use them anywhere) or Prime/Turbo emotes, all paid for.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Protocol

from store import EmoteDocument
from twitch_client import Emote, QuarantinedRecord

log = logging.getLogger(__name__)

FREE = "free"
PAID = "paid"


class EmoteSource(Protocol):
    def global_emotes(self) -> tuple[list[Emote], list[QuarantinedRecord]]: ...

    def channel_emotes(
        self, broadcaster_id: str
    ) -> tuple[list[Emote], list[QuarantinedRecord]]: ...


class EmoteCatalogue:
    def __init__(self, max_age_seconds: float = 86_400.0) -> None:
        self.max_age_seconds = max_age_seconds
        self.global_ids: set[str] = set()
        self.follower_ids: dict[str, set[str]] = {}
        self.fetched: dict[str, float] = {}  # "" for the global list, else the channel login
        self.quarantined = 0

    def kind_of(self, emote_id: str, channel: str) -> str:
        if emote_id in self.global_ids:
            return FREE
        follower = self.follower_ids.get(channel)
        if follower and emote_id in follower:
            return FREE
        return PAID

    def stale(self, logins: list[str], now: float | None = None) -> list[str]:
        """Of "" (the global list) and `logins`, those fetched over a day ago or never."""
        now = time.time() if now is None else now
        return [
            login
            for login in ["", *logins]
            if now - self.fetched.get(login, -1e18) > self.max_age_seconds
        ]

    def refresh(self, source: EmoteSource, login: str, room_id: str = "") -> list[EmoteDocument]:
        """Fetch one list ("" = global); returns its catalogue documents."""
        if login:
            emotes, bad = source.channel_emotes(room_id)
        else:
            emotes, bad = source.global_emotes()
        self.quarantined += len(bad)
        self.fetched[login] = time.time()
        if login:
            self.follower_ids[login] = {e.id for e in emotes if e.emote_type == "follower"}
        else:
            self.global_ids = {e.id for e in emotes}
        at = datetime.now(UTC)
        return [
            {
                "_id": e.id,
                "name": e.name,
                "type": e.emote_type or "global",
                "paid": bool(login) and e.emote_type != "follower",
                "tier": e.tier,
                "owner_login": login,
                "owner_id": room_id,
                "fetched_at": at,
            }
            for e in emotes
        ]
