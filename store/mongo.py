"""The MongoDB store: the only code that talks to the database.

Writes are idempotent (deterministic `_id`s, a unique index on slot + stream id, upserts),
so a snapshot can be written again after a failure — from the spool, or by re-running a
slot — without duplicating anything. Only operations that both MongoDB and FerretDB v1
serve are used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any

import pymongo
from bson.codec_options import CodecOptions
from pymongo import errors as mongo_errors
from pymongo.database import Database

from store import schema
from store.batch import SnapshotBatch
from store.errors import StoreError, StoreUnavailable
from store.rollups import compute_rollups

log = logging.getLogger(__name__)

_UNREACHABLE = (
    mongo_errors.ConnectionFailure,  # includes AutoReconnect, NetworkTimeout
    mongo_errors.ServerSelectionTimeoutError,
    mongo_errors.ExecutionTimeout,
    mongo_errors.WTimeoutError,
)
DUPLICATE_KEY = 11000

PhaseHook = Callable[[str, datetime], None]
_phase_hook: PhaseHook | None = None


def set_phase_hook(hook: PhaseHook | None) -> None:
    """Have `hook(step, slot)` called before each step of every snapshot write (steps:
    `begin`, `streams`, `rollup:<dimension>`, `publish`, `announce`). Fault drills and
    tests use it to stop a write midway; production never sets one."""
    global _phase_hook
    _phase_hook = hook


@contextmanager
def translate_errors(action: str) -> Iterator[None]:
    """Turn pymongo's exceptions into the store's."""
    try:
        yield
    except _UNREACHABLE as error:
        raise StoreUnavailable(f"{action}: MongoDB unreachable ({type(error).__name__})") from error
    except mongo_errors.PyMongoError as error:
        raise StoreError(f"{action}: {error}") from error


class Store:
    """Reads and writes Genre Radar's collections."""

    def __init__(self, uri: str, database: str, *, timeout_ms: int = 5000) -> None:
        self._client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
            uri,
            serverSelectionTimeoutMS=timeout_ms,
            connectTimeoutMS=timeout_ms,
            socketTimeoutMS=max(timeout_ms, 30_000),
            retryWrites=False,  # FerretDB v1 has no sessions/transactions to retry in
        )
        options: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True, tzinfo=UTC)
        self.db: Database[dict[str, Any]] = self._client.get_database(
            database, codec_options=options
        )

    def close(self) -> None:
        self._client.close()

    def ensure_indexes(self) -> None:
        """Create every index of the schema; a no-op when they already exist."""
        # Only the missing ones, one per command: FerretDB v1.24 drops the connection when a
        # multi-index createIndexes names an index that already exists.
        with translate_errors("creating indexes"):
            for collection, indexes in schema.INDEXES.items():
                existing = set(self.db[collection].index_information())
                for index in indexes:
                    if index.document["name"] not in existing:
                        self.db[collection].create_indexes([index])

    def migrate_snapshot_ids(self) -> int:
        """Give snapshot documents of schema 1 (keyed by the date) their string `_id`; a
        no-op once done. Returns how many were moved."""
        moved = 0
        with translate_errors("migrating snapshot ids"):
            snapshots = self.db[schema.SNAPSHOTS]
            for old in list(snapshots.find({"_id": {"$type": "date"}})):
                new = {**old, "_id": schema.snapshot_id(old["slot"])}
                # A duplicate: moved before a crash, only the old one is left to delete.
                with suppress(mongo_errors.DuplicateKeyError):
                    snapshots.insert_one(new)
                snapshots.delete_one({"_id": old["_id"]})
                moved += 1
        if moved:
            log.warning("gave %d snapshot document(s) their schema-2 string _id", moved)
        return moved

    def is_collected(self, slot: datetime) -> bool:
        """Whether the slot has a complete snapshot. If so, readers are told of it should
        they not know it yet (its writer died between publishing and announcing)."""
        with translate_errors("reading snapshots"):
            found = self.db[schema.SNAPSHOTS].find_one(
                {"_id": schema.snapshot_id(slot)}, {"status": 1, "degraded": 1}
            )
            if found is None or found.get("status") != schema.COMPLETE:
                return False
            self._announce_if_missed(slot, degraded=bool(found.get("degraded")))
            return True

    def games(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        with translate_errors("reading games"):
            return {
                g["_id"]: g for g in self.db[schema.GAMES].find({"_id": {"$in": sorted(set(ids))}})
            }

    def write_snapshot(self, batch: SnapshotBatch) -> bool:
        """Write one snapshot, all or nothing from a reader's view; False (nothing written)
        when the slot already has a complete snapshot: the first complete observation wins.

        The snapshot document is the slot's publication mark. It goes in first with status
        `writing`, so readers (who use only `complete` slots) ignore the slot meanwhile; then
        the streams, quarantine and rollups; then the document's final status. A slot that
        had a document before (an attempt that crashed, or a `partial` listing) loses that
        attempt's streams, quarantine and rollups first, so two observations never mix.
        """
        slot = batch.slot
        with translate_errors(f"writing snapshot {schema.slot_key(slot)}"):
            snapshots = self.db[schema.SNAPSHOTS]
            key = schema.snapshot_id(slot)
            document = {**batch.snapshot, "_id": key}
            earlier = snapshots.find_one({"_id": key}, {"status": 1, "degraded": 1})
            if earlier is not None and earlier.get("status") == schema.COMPLETE:
                log.info("snapshot %s is stored already; keeping it", schema.slot_key(slot))
                self._announce_if_missed(slot, degraded=bool(earlier.get("degraded")))
                return False
            self._phase("begin", slot)
            marker = {**document, "status": schema.WRITING}
            if earlier is None:
                snapshots.insert_one(marker)
            else:
                # Rare (after a crash or a partial listing): on FerretDB v1 these are scans.
                snapshots.replace_one({"_id": key}, marker)
                for collection in (schema.STREAMS, schema.QUARANTINE, schema.ROLLUPS):
                    self.db[collection].delete_many({"slot": slot})
            for game in batch.games:
                self.db[schema.GAMES].update_one(
                    {"_id": game["_id"]},
                    {"$set": {k: v for k, v in game.items() if k != "_id"}},
                    upsert=True,
                )
            self._phase("streams", slot)
            self._insert_new(schema.STREAMS, batch.streams)
            self._insert_new(schema.QUARANTINE, batch.quarantine)
            # Inserted, not upserted: the slot has none (see above), and on FerretDB v1 an
            # upsert by `_id` reads the whole collection, which grows with every snapshot.
            for rollup in batch.rollups:
                self._phase(f"rollup:{rollup['dimension']}", slot)
                self._insert_or_replace(schema.ROLLUPS, rollup)
            self._phase("publish", slot)
            snapshots.replace_one({"_id": key}, document, upsert=True)
            self._phase("announce", slot)
            if batch.snapshot.get("status") == schema.COMPLETE:
                self._announce(slot, degraded=bool(batch.snapshot.get("degraded")))
        return True

    @staticmethod
    def _phase(name: str, slot: datetime) -> None:
        if _phase_hook is not None:
            _phase_hook(name, slot)

    def mark_backfill(self, *, running: bool, until: datetime | None = None) -> None:
        """Tell readers that a backfill is writing past slots (so old data is not stale)."""
        with translate_errors("recording the backfill"):
            changes: dict[str, Any] = {
                "backfill": {"running": running, "until": until, "heartbeat": datetime.now(UTC)}
            }
            self.db[schema.META].update_one(
                {"_id": schema.ROLLUP_STATE_ID}, {"$set": changes}, upsert=True
            )

    def _announce_if_missed(self, slot: datetime, *, degraded: bool) -> None:
        """Announce a published slot that readers were never told of (the writer died
        between publishing and announcing)."""
        state = self.db[schema.META].find_one({"_id": schema.ROLLUP_STATE_ID}) or {}
        newest = state.get("newest_slot")
        if newest is None or newest < slot:
            self._announce(slot, degraded=degraded)

    def _announce(self, slot: datetime, *, degraded: bool) -> None:
        """Tell readers (the dashboard) what changed: a newer slot, or an older one arriving
        late (from the spool), which counts as a rebuild so that they reload."""
        now = datetime.now(UTC)
        state = self.db[schema.META].find_one({"_id": schema.ROLLUP_STATE_ID}) or {}
        newest = state.get("newest_slot")
        changes: dict[str, Any] = {"written_at": now}
        if newest is None or slot > newest:
            changes["newest_slot"] = slot
            changes["newest_degraded"] = degraded
        else:
            changes["rebuilt_at"] = now
        self.db[schema.META].update_one(
            {"_id": schema.ROLLUP_STATE_ID}, {"$set": changes}, upsert=True
        )

    def _insert_or_replace(self, collection: str, document: dict[str, Any]) -> None:
        """Insert a document, or replace the one with its `_id` (left by an older writer)."""
        try:
            self.db[collection].insert_one(document)
        except mongo_errors.DuplicateKeyError:
            self.db[collection].replace_one({"_id": document["_id"]}, document)

    def _insert_new(self, collection: str, documents: list[dict[str, Any]]) -> None:
        """Insert documents, ignoring those already stored (same `_id` or unique key)."""
        if not documents:
            return
        try:
            self.db[collection].insert_many(documents, ordered=False)
        except mongo_errors.BulkWriteError as error:
            others = [
                e for e in error.details.get("writeErrors", []) if e.get("code") != DUPLICATE_KEY
            ]
            if others:
                raise StoreError(f"{collection}: {others[0].get('errmsg')}") from error

    def rebuild_rollups(self, *slots: datetime) -> list[dict[str, Any]]:
        """Recompute stored snapshots' rollups from their streams and today's genres: the
        catalogue's, and the classifier's for streams of games the catalogue cannot place.

        One query per collection for all the slots: on FerretDB v1 each is a full scan."""
        if not slots:
            return []
        keys = ", ".join(schema.slot_key(s) for s in slots[:3]) + (" …" if len(slots) > 3 else "")
        with translate_errors(f"rebuilding rollups of {keys}"):
            wanted = {"slot": {"$in": sorted(set(slots))}}
            streams: dict[datetime, list[dict[str, Any]]] = {s: [] for s in slots}
            for stream in self.db[schema.STREAMS].find(wanted):
                streams[stream["slot"]].append(stream)
            predicted: dict[datetime, dict[str, str]] = {s: {} for s in slots}
            for guess in self.db[schema.STREAM_GENRES].find(
                wanted, {"slot": 1, "stream_id": 1, "genre": 1}
            ):
                predicted[guess["slot"]][guess["stream_id"]] = guess["genre"]
            catalogue = self.games(s["game_id"] for rows in streams.values() for s in rows)
            now = datetime.now(UTC)
            rollups = [
                rollup
                for slot in sorted(streams)
                for rollup in compute_rollups(
                    slot,
                    streams[slot],
                    lambda g: schema.genre_of(catalogue.get(g)),
                    written_at=now,
                    predicted=predicted[slot],
                )
            ]
            for rollup in rollups:
                self.db[schema.ROLLUPS].replace_one({"_id": rollup["_id"]}, rollup, upsert=True)
            self.db[schema.META].update_one(
                {"_id": schema.ROLLUP_STATE_ID}, {"$set": {"rebuilt_at": now}}, upsert=True
            )
            return rollups
