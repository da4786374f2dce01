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

    def rollup_state(self) -> dict[str, Any] | None:
        """`{newest_slot, written_at, rebuilt_at?}`: what changed since a reader last looked."""
        with translate_errors("reading the rollup state"):
            return self._db[schema.META].find_one({"_id": schema.ROLLUP_STATE_ID})

    def rollups(self, dimensions: list[str]) -> Iterator[dict[str, Any]]:
        """Every rollup of these dimensions (a full read: at start, or after a rebuild)."""
        with translate_errors("reading rollups"):
            yield from self._db[schema.ROLLUPS].find(
                {"dimension": {"$in": dimensions}}, {"written_at": 0}
            )

    def rollup(self, slot: datetime, dimension: str) -> dict[str, Any] | None:
        """One rollup by `_id` (the lookup every MongoDB-compatible server serves fastest)."""
        with translate_errors("reading a rollup"):
            return self._db[schema.ROLLUPS].find_one(
                {"_id": f"{schema.slot_key(slot)}/{dimension}"}
            )

    def games(self) -> list[dict[str, Any]]:
        with translate_errors("reading games"):
            return list(
                self._db[schema.GAMES].find({}, {"name": 1, "primary_genre": 1, "is_game": 1})
            )
