"""Chat storage: per-minute counts, the emote catalogue and the per-snapshot chat rollups.

`chat_minutes` holds one document per minute and reader shard (`<minute>/<i>of<n>`),
each listing every channel that shard read in that minute. A reader rewrites the whole
document with its running counts, so writes are idempotent and readers sharing the
channels never write the same document. Rollups read those documents by `_id` only
(FerretDB v1 filters nothing else without decoding a whole collection).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from pymongo import ReplaceOne
from pymongo.database import Database

from slots import day_of, slot_key
from store import schema
from store._chat_days import CHAT_DAY_ARRAYS, CHAT_DAY_DIMENSIONS, ChatDay
from store._chat_live import LIVE_KEEP, chat_live_document
from store._chat_records import (
    ChatMinuteDocument,
    ChatMinuteEntry,
    ChatRollupDocument,
    EmoteDocument,
)
from store._chat_rollups import CHAT_DIMENSIONS, compute_chat_rollups, merge_channel_minutes
from store._documents import GameDocument
from store._mongo import translate_errors
from store._records import (
    ChatState,
    MarketState,
    RollupDocument,
    RollupGroup,
    chat_minute_id,
    history_id,
    rollup_id,
)

log = logging.getLogger(__name__)

MINUTE = timedelta(minutes=1)

Document = dict[str, Any]


def shard_label(index: int, count: int) -> str:
    return f"{index}of{count}"


def minutes_between(start: datetime, end: datetime) -> list[datetime]:
    """The minutes from `start` up to, not including, `end`."""
    return [start + i * MINUTE for i in range(int((end - start) / MINUTE))]


class ChatStore:
    """Reads and writes the chat collections of one database."""

    def __init__(self, db: Database[Document]) -> None:
        self.db = db

    def write_live(
        self,
        minute: datetime,
        shard: str,
        channels: Sequence[ChatMinuteEntry],
        emote_names: Mapping[str, str],
    ) -> None:
        """Write only the live view's packed copy of a minute (`write_minute` writes it
        too): a reader writes its open minutes' copies before their larger documents."""
        live = chat_live_document(
            chat_minute_id(minute, shard),
            minute,
            shard,
            channels,
            _names_used(channels, emote_names),
            datetime.now(UTC),
            schema.SCHEMA_VERSION,
        )
        with translate_errors(f"writing live chat {live['_id']}"):
            self.db[schema.CHAT_LIVE].replace_one({"_id": live["_id"]}, live, upsert=True)

    def write_minute(
        self,
        minute: datetime,
        shard: str,
        run: str,
        channels: Sequence[ChatMinuteEntry],
        emote_names: Mapping[str, str],
        *,
        live: bool = True,
    ) -> None:
        """Write one shard's minute: its packed copy for the live view first (small, so
        the newest counts reach the page soonest) unless `live` is false, then the minute
        document."""
        written_at = datetime.now(UTC)
        names = _names_used(channels, emote_names)
        document: ChatMinuteDocument = {
            "_id": chat_minute_id(minute, shard),
            "minute": minute,
            "shard": shard,
            "run": run,
            "channels": list(channels),
            "emote_names": names,
            "written_at": written_at,
            "schema_version": schema.SCHEMA_VERSION,
        }
        if live:
            self.write_live(minute, shard, channels, names)
        with translate_errors(f"writing chat minute {document['_id']}"):
            self.db[schema.CHAT_MINUTES].replace_one(
                {"_id": document["_id"]}, document, upsert=True
            )

    def read_minute(self, minute: datetime, shard: str) -> ChatMinuteDocument | None:
        with translate_errors("reading a chat minute"):
            found = self.db[schema.CHAT_MINUTES].find_one({"_id": chat_minute_id(minute, shard)})
        return cast(ChatMinuteDocument | None, found)

    def save_emotes(self, emotes: Iterable[EmoteDocument]) -> int:
        """Upsert catalogue entries (`_id` = emote id)."""
        requests = [ReplaceOne({"_id": e["_id"]}, dict(e), upsert=True) for e in emotes]
        if not requests:
            return 0
        with translate_errors("writing emotes"):
            self.db[schema.EMOTES].bulk_write(requests, ordered=False)
        return len(requests)

    def emotes(self, ids: Iterable[str]) -> dict[str, EmoteDocument]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        with translate_errors("reading emotes"):
            found = self.db[schema.EMOTES].find({"_id": {"$in": wanted}})
            return {d["_id"]: cast(EmoteDocument, d) for d in found}

    def newest_snapshot_channels(self, limit: int) -> tuple[datetime | None, list[str]]:
        """The newest published slot and its `limit` top channels, most watched first."""
        with translate_errors("reading the newest snapshot's channels"):
            state = self.db[schema.META].find_one({"_id": MarketState.ID})
            slot = MarketState.from_document(state).newest_slot
            if slot is None:
                return None, []
            rollup = self._rollup(slot, "channel")
        groups = sorted(rollup["groups"] if rollup else [], key=lambda g: (-g["viewers"], g["key"]))
        return slot, [str(g["key"]) for g in groups[:limit]]

    def build_rollups(
        self, slot: datetime, end: datetime, shards: Sequence[str], *, complete: bool = True
    ) -> list[ChatRollupDocument]:
        """The chat rollups of `slot` (its minutes up to `end`, the next slot) from every
        shard's minutes, written and returned; `complete` false while the slot still runs."""
        entries: list[ChatMinuteEntry] = []
        names: dict[str, str] = {}
        paid: set[str] = set()
        minutes = minutes_between(slot, end)
        read = 0  # minutes whose chat every shard stored
        with translate_errors(f"reading chat minutes of {slot_key(slot)}"):
            for minute in minutes:
                shards_read = 0
                for shard in shards:
                    found = self.read_minute(minute, shard)
                    if found is None:
                        continue
                    shards_read += 1
                    entries.extend(found["channels"])
                    names.update(found.get("emote_names", {}))
                read += shards_read == len(shards)
            if not entries and not read:
                # Nothing was read: no rollup, so that no page shows zeros for it.
                log.info("no chat was read in slot %s; no chat rollup", slot_key(slot))
                return []
            for entry in entries:
                paid.update(entry.get("paid_emotes", {}))
            key = slot_key(slot)
            channels = self._rollup(slot, "channel")
            games = self._rollup(slot, "game")
        snapshot_channels = {g["key"]: g for g in channels["groups"]} if channels else {}
        game_names = {g["key"]: g.get("name", "") for g in games["groups"]} if games else {}
        catalogue = self.games_of(snapshot_channels)
        merged = merge_channel_minutes(entries)
        known = self.emotes({e for c in merged.values() for e in c.emotes})
        names.update({i: str(d.get("name", i)) for i, d in known.items()})
        documents = compute_chat_rollups(
            slot,
            merged,
            snapshot_channels,
            game_names,
            lambda game: schema.genre_of_stream(catalogue.get(game)),
            names,
            paid,
            datetime.now(UTC),
            # What the rollup covers: its sums are over the minutes read, no more.
            minutes_read=read,
            minutes_in_slot=len(minutes),
            complete=complete and read == len(minutes),
        )
        written_at = documents[0]["written_at"]
        with translate_errors(f"writing chat rollups of {key}"):
            for document in documents:
                self.db[schema.CHAT_ROLLUPS].replace_one(
                    {"_id": document["_id"]}, document, upsert=True
                )
            self._update_day(slot, {d["dimension"]: d for d in documents}, written_at)
            self.db[schema.META].update_one(
                {"_id": ChatState.ID},
                {
                    "$set": {
                        ChatState.slot_field(slot): written_at,
                        ChatState.day_field(day_of(slot)): written_at,
                        "newest_slot": slot,
                    }
                },
                upsert=True,
            )
        return documents

    def save_day(self, day: ChatDay, written_at: datetime) -> None:
        """Write one chat day document whole (bulk loads; rollups update days themselves)."""
        document = day.to_document(written_at)
        with translate_errors(f"writing chat day {document['_id']}"):
            self.db[chat_day_collection(day.day, day.dimension)].replace_one(
                {"_id": document["_id"]}, document, upsert=True
            )
            self.db[schema.META].update_one(
                {"_id": ChatState.ID},
                {"$set": {ChatState.day_field(day.day): written_at}},
                upsert=True,
            )

    def _rollup(self, slot: datetime, dimension: str) -> RollupDocument | None:
        found = self.db[schema.ROLLUPS].find_one({"_id": rollup_id(slot, dimension)})
        return cast(RollupDocument | None, found)

    def _update_day(
        self, slot: datetime, documents: Mapping[str, ChatRollupDocument], written_at: datetime
    ) -> None:
        """Put the slot's rollups into its day's documents (`store._chat_days`)."""
        day = day_of(slot)
        for dimension in CHAT_DAY_DIMENSIONS:
            found = _find_day(self.db, day, dimension)
            current = ChatDay.from_document(found) if found else ChatDay.empty(day, dimension)
            source = documents["channel" if dimension == "channel_emotes" else dimension]
            updated = current.with_slot(slot, source).to_document(written_at)
            self.db[chat_day_collection(day, dimension)].replace_one(
                {"_id": updated["_id"]}, updated, upsert=True
            )

    def games_of(self, channels: Mapping[str, RollupGroup]) -> dict[str, GameDocument]:
        ids = sorted({str(g.get("game_id", "")) for g in channels.values()} - {""})
        if not ids:
            return {}
        with translate_errors("reading games"):
            found = self.db[schema.GAMES].find({"_id": {"$in": ids}})
            return {d["_id"]: cast(GameDocument, d) for d in found}

    def prune_minutes(self, before: datetime, now: datetime | None = None) -> int:
        """Delete minute counts older than `before` (they are kept a set number of days)
        and the live view's copies older than `LIVE_KEEP` before `now`."""
        live_before = (now or datetime.now(UTC)) - LIVE_KEEP
        with translate_errors("pruning chat minutes"):
            self.db[schema.CHAT_LIVE].delete_many({"minute": {"$lt": live_before}})
            return (
                self.db[schema.CHAT_MINUTES].delete_many({"minute": {"$lt": before}}).deleted_count
            )


def chat_day_collection(day: datetime, dimension: str) -> str:
    """The collection holding one chat day document (`chat_days_channel_20261122`).

    One document each: FerretDB v1 finds a document by `_id` in time that grows with the
    bytes of its whole collection (a 12 kB day takes 2 ms alone and 28 ms among a week of
    megabyte days), and the Chat page reads 35 of them."""
    return f"{schema.CHAT_DAYS}_{dimension}_{day_of(day):%Y%m%d}"


def _find_day(
    db: Database[Document], day: datetime, dimension: str, arrays: Collection[str] = ()
) -> Document | None:
    """The day's document; without the row arrays not in `arrays`, when it names some."""
    document_id = history_id(day, dimension)
    skipped = {name: 0 for name in CHAT_DAY_ARRAYS if arrays and name not in arrays} or None
    found = db[chat_day_collection(day, dimension)].find_one({"_id": document_id}, skipped)
    if found is None:  # a day written when every day shared one collection
        found = db[schema.CHAT_DAYS].find_one({"_id": document_id}, skipped)
    return found


def read_chat_day(
    db: Database[Document],
    day: datetime,
    dimension: str,
    arrays: Collection[str] = CHAT_DAY_ARRAYS,
) -> ChatDay | None:
    """One day of chat of one dimension (`store._chat_days`), for the dashboard and
    notebooks; of its row arrays (`numbers`, `emotes`, `topics`) only `arrays`."""
    if dimension not in CHAT_DAY_DIMENSIONS:
        raise ValueError(f"no chat day dimension {dimension!r}; one of {CHAT_DAY_DIMENSIONS}")
    with translate_errors("reading a chat day"):
        found = _find_day(db, day, dimension, arrays)
    return ChatDay.from_document(found, arrays) if found else None


def read_chat_rollup(
    db: Database[Document], slot: datetime, dimension: str
) -> ChatRollupDocument | None:
    """One slot's chat rollup of one dimension (for notebooks and the dashboard)."""
    if dimension not in CHAT_DIMENSIONS:
        raise ValueError(f"no chat dimension {dimension!r}; one of {CHAT_DIMENSIONS}")
    with translate_errors("reading a chat rollup"):
        found = db[schema.CHAT_ROLLUPS].find_one({"_id": rollup_id(slot, dimension)})
    return cast(ChatRollupDocument | None, found)


def _names_used(
    channels: Sequence[ChatMinuteEntry], emote_names: Mapping[str, str]
) -> dict[str, str]:
    """The names of the emotes these entries count: a reader knows every name it has
    seen, and a minute document repeating them all would be mostly names."""
    used: set[str] = set()
    for entry in channels:
        used.update(entry.get("free_emotes", {}), entry.get("paid_emotes", {}))
        for topic in entry.get("topics", {}).values():
            used.update(topic["emotes"])
    return {emote: emote_names[emote] for emote in sorted(used) if emote in emote_names}
