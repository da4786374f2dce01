"""The MongoDB store: the only code that talks to the database.

Writes are idempotent (deterministic `_id`s, a unique index on slot + stream id, upserts),
so a snapshot can be written again after a failure — from the spool, or by re-running a
slot — without duplicating anything. Only operations that both MongoDB and FerretDB v1
serve are used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any, cast

import pymongo
from bson.codec_options import CodecOptions
from pymongo import errors as mongo_errors
from pymongo.database import Database

from slots import DAY, DEFAULT_CADENCE, Cadence, day_key, day_of, parse_day_key, slot_key
from store import schema
from store._batch import SnapshotBatch
from store._channel_directory import DirectoryEntry
from store._channel_migration import move_channel_documents
from store._channel_store import (
    ChannelWriter,
    find_channel,
    read_channel_listing,
    read_channels_state,
)
from store._directory_counts import write_directory_counts
from store._documents import GameDocument
from store._errors import StoreError, StoreUnavailable
from store._followers import FollowerReading, followers_read_on, write_followers
from store._history import HISTORY_DIMENSIONS, DayHistory, collection_of
from store._records import MarketState, RollupDocument, history_id, rollup_id
from store._rollups import derive_genre_rollups

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
    `begin`, `streams`, `rollup:<dimension>`, `publish`, `history`, `history:<dimension>`,
    `announce`). Fault drills and tests use it to stop a write midway; production never
    sets one."""
    global _phase_hook
    _phase_hook = hook


def _milliseconds(moment: datetime) -> datetime:
    """`moment` truncated to what a BSON date holds."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Every store call in the block (in this thread) gives up after `seconds` in all,
    finding a server included: for a process that must stop by a deadline."""
    with pymongo.timeout(seconds):
        yield


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
        # (day, its `meta.history_days` version, its documents) as this store last wrote them
        self._day_cache: tuple[str, Any, dict[str, DayHistory]] = ("", None, {})
        self._unsaved = False  # the cached day's documents are not written yet (bulk mode)
        self._bulk = False
        self.channels = ChannelWriter(self.db)

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

    def migrate_channel_collections(self) -> int:
        """Move per-channel documents of the layout before collections were cut by group
        into their group's collections; a no-op once done. Returns how many were moved."""
        with translate_errors("moving channel documents"):
            moved = move_channel_documents(self.db)
        if moved:
            log.warning("moved %d channel document(s) into their group's collection", moved)
        return moved

    def is_collected(self, slot: datetime) -> bool:
        """Whether the slot has a complete snapshot. Slots an interrupted writer left
        without their history are finished first (`repair_history`)."""
        self.repair_history()
        with translate_errors("reading snapshots"):
            found = self.db[schema.SNAPSHOTS].find_one(
                {"_id": schema.snapshot_id(slot)}, {"status": 1, "degraded": 1}
            )
            return found is not None and found.get("status") == schema.COMPLETE

    def games(self, ids: Iterable[str]) -> dict[str, GameDocument]:
        with translate_errors("reading games"):
            found = self.db[schema.GAMES].find({"_id": {"$in": sorted(set(ids))}})
            return {g["_id"]: cast(GameDocument, g) for g in found}

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
        self.repair_history()
        with translate_errors(f"writing snapshot {slot_key(slot)}"):
            snapshots = self.db[schema.SNAPSHOTS]
            key = schema.snapshot_id(slot)
            document = {**batch.snapshot, "_id": key}
            earlier = snapshots.find_one({"_id": key}, {"status": 1, "degraded": 1})
            if earlier is not None and earlier.get("status") == schema.COMPLETE:
                log.info("snapshot %s is stored already; keeping it", slot_key(slot))
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
                # Channel rows are replaced chunk by chunk, and a reader takes only the
                # chunks the first one counts, so an older attempt's rows never mix in.
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
            if batch.channels is not None:
                self._phase("channels", slot)
                self.channels.write(batch.channels)
                self._phase("directory", slot)
                write_directory_counts(self.db, batch.channels)
            if batch.snapshot.get("status") == schema.COMPLETE:
                # Until `_announce` clears this mark, the slot's day history may lack it:
                # whoever runs next (`repair_history`) rebuilds the day from the rollups.
                self.db[schema.META].update_one(
                    {"_id": MarketState.ID},
                    {"$set": {MarketState.pending_field(slot): slot}},
                    upsert=True,
                )
            self._phase("publish", slot)
            snapshots.replace_one({"_id": key}, document, upsert=True)
            if batch.snapshot.get("status") == schema.COMPLETE:
                self._phase("history", slot)
                level = str(batch.snapshot.get("level") or schema.STREAM_LEVEL)
                state = self._market_state()
                written = self._record_history(slot, level, batch.rollups, state)
                self._phase("announce", slot)
                degraded = bool(batch.snapshot.get("degraded"))
                self._announce(slot, degraded=degraded, state=state, histories=written)
        return True

    def compact_channel_days(
        self, before: datetime, cadence: Cadence = DEFAULT_CADENCE
    ) -> list[datetime]:
        """Regroup by channel, summarise and add to the login directory the days before
        `before` whose slots changed since."""
        with translate_errors("regrouping channel rows by channel"):
            return self.channels.compact(before, cadence)

    def prune_channel_slots(self, before: datetime) -> int:
        """Drop the days of channel rows wholly before `before`'s day; returns how many."""
        with translate_errors("pruning channel rows"):
            return self.channels.prune(before)

    def write_followers(self, day: datetime, readings: Iterable[FollowerReading]) -> None:
        """Store the day's follower totals."""
        with translate_errors("writing follower counts"):
            write_followers(self.db, day, readings)

    def followers_read_on(self, day: datetime) -> set[str]:
        with translate_errors("reading follower counts"):
            return followers_read_on(self.db, day)

    def most_watched_channels(self, count: int) -> list[tuple[str, str]]:
        """The (user id, login) of the `count` most watched channels of the newest stored
        listing, most watched first."""
        with translate_errors("reading the newest listing"):
            state = read_channels_state(self.db)
            days = state.days()
            slots = state.slots_of(days[-1]) if days else []
            if not slots:
                return []
            listing = read_channel_listing(self.db, slots[-1])
            top = listing.head(count)
            return list(zip(top["user_id"].astype(str), top["login"].astype(str), strict=True))

    def find_channel(self, login: str) -> DirectoryEntry | None:
        """The channel listed under this exact login (the newest, should a login have
        passed from one channel to another), or None."""
        with translate_errors("searching channels"):
            return find_channel(self.db, login)

    @contextmanager
    def bulk_history(self) -> Iterator[None]:
        """Write each day's history documents once, when the next day begins and at the
        end, instead of after every slot: for bulk imports (replays, backfills) in slot
        order. Readers see a day when it is written; a crash before that leaves published
        slots without history, which `ensure_history` and the next `is_collected` of such
        a slot rebuild."""
        self._bulk = True
        try:
            yield
        finally:
            self._bulk = False
            with translate_errors("writing the history"):
                self._flush_history()

    def _flush_history(self) -> None:
        if not self._unsaved:
            return
        slots: set[datetime] = set()
        for history in self._day_cache[2].values():
            self._save_history(history)
            slots.update(history.slots)
        self._unsaved = False
        day = parse_day_key(self._day_cache[0])
        self._touch_days([day], done=slots)
        self._day_cache = ("", None, {})

    def _record_history(
        self,
        slot: datetime,
        level: str,
        rollups: Iterable[RollupDocument],
        state: MarketState,
    ) -> dict[str, DayHistory]:
        """Add a published slot's rollups to its day's history documents.

        The day's documents this store wrote last are reused while `meta` says nobody
        rewrote the day since (a rebuild by the labeller would have): one read of `meta`
        instead of one query per dimension, each a collection scan on FerretDB v1."""
        day = day_of(slot)
        version = state.day_version(day)
        cached: dict[str, DayHistory] = {}
        if self._unsaved and self._day_cache[0] != day_key(day):
            self._flush_history()  # a bulk import moved on to another day
        if self._unsaved or (
            version is not None and self._day_cache[:2] == (day_key(day), version)
        ):
            cached = self._day_cache[2]
        written = {}
        for rollup in rollups:
            dimension = rollup["dimension"]
            if dimension not in HISTORY_DIMENSIONS:
                continue
            known = cached.get(dimension)
            if known is None:
                stored = self.db[collection_of(dimension, day)].find_one(
                    {"_id": history_id(day, dimension)}
                )
                known = None if stored is None else DayHistory.from_document(stored)
            if known is None:
                history = DayHistory.from_rollups(day, dimension, [(level, rollup)])
            elif slot in known.slots:  # written before a crash: rebuild the day
                history = self._day_from_rollups(day, dimension)
            else:
                history = known.with_slot(level, rollup)
            if not self._bulk:
                self._phase(f"history:{dimension}", slot)
                self._save_history(history)
            written[dimension] = history
        self._unsaved = self._bulk
        return written

    def _published_in(self, day: datetime) -> list[tuple[datetime, str]]:
        found = self.db[schema.SNAPSHOTS].find(
            {"slot": {"$gte": day, "$lt": day + DAY}, "status": schema.COMPLETE},
            {"slot": 1, "level": 1},
        )
        return sorted((d["slot"], str(d.get("level") or schema.STREAM_LEVEL)) for d in found)

    def _day_from_rollups(
        self, day: datetime, dimension: str, published: list[tuple[datetime, str]] | None = None
    ) -> DayHistory:
        pairs = []
        for slot, level in self._published_in(day) if published is None else published:
            rollup = self._rollup(slot, dimension)
            if rollup is not None:
                pairs.append((level, rollup))
        return DayHistory.from_rollups(day, dimension, pairs)

    def _rollup(self, slot: datetime, dimension: str) -> RollupDocument | None:
        found = self.db[schema.ROLLUPS].find_one({"_id": rollup_id(slot, dimension)})
        return cast(RollupDocument | None, found)  # stored by `compute_rollups`

    def _save_history(self, history: DayHistory) -> None:
        # Replace, else insert: an upsert by `_id` reads the whole collection on FerretDB v1.
        document = history.to_document(datetime.now(UTC))
        collection = collection_of(history.dimension, history.day)
        found = self.db[collection].replace_one({"_id": document["_id"]}, document)
        if found.matched_count == 0:
            self._insert_or_replace(collection, document)

    def _touch_days(self, days: Iterable[datetime], done: Iterable[datetime] = ()) -> None:
        """Tell readers which days' history changed (they reload only those); `done`:
        slots whose history is now written (their pending marks are cleared)."""
        now = _milliseconds(datetime.now(UTC))
        changes = {MarketState.day_field(day): now for day in days}
        update: dict[str, Any] = {"$set": changes}
        cleared = {MarketState.pending_field(slot): "" for slot in done}
        if cleared:
            update["$unset"] = cleared
        if changes:
            self.db[schema.META].update_one({"_id": MarketState.ID}, update, upsert=True)

    def rebuild_history(self, *days: datetime) -> None:
        """Rewrite these days' history documents from their stored rollups."""
        with translate_errors("rebuilding the history"):
            for day in sorted(set(days)):
                published = self._published_in(day)
                for dimension in HISTORY_DIMENSIONS:
                    self._save_history(self._day_from_rollups(day, dimension, published))
            self._touch_days(days)

    def history_gaps(self) -> list[str]:
        """Where a day's history does not hold exactly the day's published slots, one line
        per day and dimension (empty when every dimension agrees with the snapshots)."""
        with translate_errors("checking the history"):
            days: dict[datetime, set[datetime]] = {}
            for d in self.db[schema.SNAPSHOTS].find({"status": schema.COMPLETE}, {"slot": 1}):
                days.setdefault(day_of(d["slot"]), set()).add(d["slot"])
            gaps = []
            for day, published in sorted(days.items()):
                for dimension in HISTORY_DIMENSIONS:
                    stored = self.db[collection_of(dimension, day)].find_one(
                        {"_id": history_id(day, dimension)}, {"slots": 1}
                    )
                    held = set(stored["slots"]) if stored is not None else set()
                    if held != published:
                        missing = ", ".join(map(slot_key, sorted(published - held)))
                        extra = ", ".join(map(slot_key, sorted(held - published)))
                        gaps.append(
                            f"{history_id(day, dimension)}: missing [{missing}] extra [{extra}]"
                        )
        return gaps

    def ensure_history(self) -> int:
        """Build the history documents of days that have published slots but none (a
        database written before they existed); returns how many days were built."""
        with translate_errors("checking the history"):
            known = set(self._market_state().history_days)
            days = {
                day_of(d["slot"])
                for d in self.db[schema.SNAPSHOTS].find({"status": schema.COMPLETE}, {"slot": 1})
            }
        missing = sorted(d for d in days if day_key(d) not in known)
        if missing:
            log.warning("building the compact history of %d day(s)", len(missing))
            self.rebuild_history(*missing)
        return len(missing) + self.repair_history()

    def repair_history(self) -> int:
        """Finish the history of slots published by a writer that stopped before their
        day history was whole (killed, or the database went away midway): rebuild those
        days from the stored rollups and announce the slots. Returns the days rebuilt.

        Every writer calls this before its own write, so a slot is shown in every
        dimension's history or, until the next run, in none that readers were told of."""
        with translate_errors("repairing the history"):
            pending = sorted(self._market_state().history_pending.values())
            if self._unsaved:  # a bulk import's own day is written when the day ends
                pending = [s for s in pending if day_key(day_of(s)) != self._day_cache[0]]
            if not pending:
                return 0
            published = {
                d["_id"]: bool(d.get("degraded"))
                for d in self.db[schema.SNAPSHOTS].find(
                    {"_id": {"$in": [schema.snapshot_id(s) for s in pending]}},
                    {"status": 1, "degraded": 1},
                )
                if d.get("status") == schema.COMPLETE
            }
            days = sorted({day_of(s) for s in pending})
            log.warning(
                "rebuilding the history of %s: slot(s) %s were published without it",
                ", ".join(map(day_key, days)),
                ", ".join(map(slot_key, pending)),
            )
            self.rebuild_history(*days)
            for slot in pending:
                degraded = published.get(schema.snapshot_id(slot))
                if degraded is None:  # never published: nothing to show, only the mark
                    self.db[schema.META].update_one(
                        {"_id": MarketState.ID}, {"$unset": {MarketState.pending_field(slot): ""}}
                    )
                else:
                    self._announce(slot, degraded=degraded)
        return len(days)

    def _market_state(self) -> MarketState:
        return MarketState.from_document(self.db[schema.META].find_one({"_id": MarketState.ID}))

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
            self.db[schema.META].update_one({"_id": MarketState.ID}, {"$set": changes}, upsert=True)

    def _announce(
        self,
        slot: datetime,
        *,
        degraded: bool,
        state: MarketState | None = None,
        histories: dict[str, DayHistory] | None = None,
    ) -> None:
        """Tell readers (the dashboard) what changed: a newer slot, or an older one arriving
        late (from the spool), which counts as a rebuild so that they reload; and that the
        slot's day of history changed."""
        now = _milliseconds(datetime.now(UTC))  # as BSON stores it, to compare read-backs
        if state is None:
            state = self._market_state()
        newest = state.newest_slot
        day = day_key(day_of(slot))
        changes: dict[str, Any] = {"written_at": now}
        update: dict[str, Any] = {"$set": changes}
        if not self._unsaved:  # a bulk import tells of its day once it is written
            changes[MarketState.day_field(slot)] = now
            update["$unset"] = {MarketState.pending_field(slot): ""}
        if newest is None or slot > newest:
            changes["newest_slot"] = slot
            changes["newest_degraded"] = degraded
        else:
            changes["rebuilt_at"] = now
        self.db[schema.META].update_one({"_id": MarketState.ID}, update, upsert=True)
        if not self._unsaved:
            self._day_cache = (day, now, histories or {})
        elif histories:
            self._day_cache = (day, None, histories)

    def _insert_or_replace(self, collection: str, document: Mapping[str, Any]) -> None:
        """Insert a document, or replace the one with its `_id` (left by an older writer)."""
        try:
            self.db[collection].insert_one(cast(dict[str, Any], document))  # has its `_id`
        except mongo_errors.DuplicateKeyError:
            self.db[collection].replace_one({"_id": document["_id"]}, document)

    def _insert_new(self, collection: str, documents: Sequence[Mapping[str, Any]]) -> None:
        """Insert documents, ignoring those already stored (same `_id` or unique key)."""
        if not documents:
            return
        try:
            self.db[collection].insert_many(cast(list[dict[str, Any]], documents), ordered=False)
        except mongo_errors.BulkWriteError as error:
            others = [
                e for e in error.details.get("writeErrors", []) if e.get("code") != DUPLICATE_KEY
            ]
            if others:
                raise StoreError(f"{collection}: {others[0].get('errmsg')}") from error

    def rebuild_rollups(self, *slots: datetime) -> list[RollupDocument]:
        """Recompute stored snapshots' genre rollups from their game rollups and today's
        genres of games (`schema.genre_of_stream`: the catalogue's, else the classifier's).
        Then rewrite the history of the days they belong to.

        Lookups by `_id` only: on FerretDB v1 anything else is a scan of the collection."""
        if not slots:
            return []
        keys = ", ".join(slot_key(s) for s in slots[:3]) + (" …" if len(slots) > 3 else "")
        with translate_errors(f"rebuilding rollups of {keys}"):
            wanted = sorted(set(slots))
            now = datetime.now(UTC)
            bases = {}
            for slot in wanted:
                game, game_language = (self._rollup(slot, d) for d in ("game", "game_language"))
                if game is not None and game_language is not None:
                    bases[slot] = (game, game_language)
            catalogue = self.games(g["key"] for game, _ in bases.values() for g in game["groups"])

            def genre_of_game(game_id: str) -> str:
                return schema.genre_of_stream(catalogue.get(game_id))

            rollups: list[RollupDocument] = []
            for game, game_language in bases.values():
                rollups += derive_genre_rollups(game, game_language, genre_of_game, now)
            for rollup in rollups:
                self.db[schema.ROLLUPS].replace_one({"_id": rollup["_id"]}, rollup)
            self.db[schema.META].update_one(
                {"_id": MarketState.ID}, {"$set": {"rebuilt_at": now}}, upsert=True
            )
        self.rebuild_history(*{day_of(slot) for slot in bases})
        return rollups
