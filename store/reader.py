"""Read-only access for the dashboard and notebooks: queries, never writes.

The dashboard connects with MONGODB_URI_READONLY (a user with only the `read` role in
production) and imports this module alone from the store, so it has no write path.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pymongo
from bson.codec_options import CodecOptions
from pymongo.database import Database

from store import schema
from store.mongo import translate_errors


class StoreReader:
    """The queries the dashboard makes (all served by indexes)."""

    def __init__(self, uri: str, database: str, *, timeout_ms: int = 5000) -> None:
        self._client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
            uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms, retryWrites=False
        )
        options: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True, tzinfo=UTC)
        self._db: Database[dict[str, Any]] = self._client.get_database(
            database, codec_options=options
        )

    def close(self) -> None:
        self._client.close()

    def newest_snapshot(self) -> dict[str, Any] | None:
        with translate_errors("reading the newest snapshot"):
            return self._db[schema.SNAPSHOTS].find_one(
                {"status": "complete"}, {"slot": 1, "finished_at": 1}, sort=[("slot", -1)]
            )

    def newest_rollup_write(self) -> datetime | None:
        with translate_errors("reading rollups"):
            newest = self._db[schema.ROLLUPS].find_one(
                {}, {"written_at": 1}, sort=[("written_at", -1)]
            )
        return None if newest is None else newest.get("written_at")

    def snapshot_slots(self) -> list[datetime]:
        with translate_errors("reading snapshots"):
            return [
                d["slot"]
                for d in self._db[schema.SNAPSHOTS].find({"status": "complete"}, {"slot": 1})
            ]

    def rollups_written_since(
        self, dimensions: list[str], since: datetime | None
    ) -> Iterator[dict[str, Any]]:
        query: dict[str, Any] = {"dimension": {"$in": dimensions}}
        if since is not None:
            query["written_at"] = {"$gt": since}
        with translate_errors("reading rollups"):
            yield from self._db[schema.ROLLUPS].find(
                query, {"slot": 1, "dimension": 1, "groups": 1, "written_at": 1}
            )

    def games(self) -> list[dict[str, Any]]:
        with translate_errors("reading games"):
            return list(
                self._db[schema.GAMES].find({}, {"name": 1, "primary_genre": 1, "is_game": 1})
            )

    def game_streams(self, game_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """One game's stream observations in [start, end) (index `game_slot`)."""
        with translate_errors("reading a game's streams"):
            return list(
                self._db[schema.STREAMS].find(
                    {"game_id": game_id, "slot": {"$gte": start, "$lt": end}},
                    {"_id": 0, "slot": 1, "user_login": 1, "viewer_count": 1},
                )
            )

    def channel_streams(self, login: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """One channel's observations in [start, end) (index `login_slot`)."""
        with translate_errors("reading a channel's streams"):
            return list(
                self._db[schema.STREAMS].find(
                    {"user_login": login, "slot": {"$gte": start, "$lt": end}},
                    {
                        "_id": 0,
                        "slot": 1,
                        "user_name": 1,
                        "game_id": 1,
                        "game_name": 1,
                        "viewer_count": 1,
                        "rank": 1,
                        "title": 1,
                        "language": 1,
                    },
                )
            )
