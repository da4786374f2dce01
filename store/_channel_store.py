"""Writing and reading the per-channel listing (`store._channels`): `channel_names` parts
and `channel_slots` chunks, always by `_id` (FerretDB v1 scans for anything else)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import pandas as pd
from pymongo import errors as mongo_errors
from pymongo.database import Database

from slots import day_of
from store import schema
from store._channels import (
    CHUNK_ROWS,
    TAG_SEPARATOR,
    ChannelListing,
    ChannelNamesDocument,
    ChannelSlotDocument,
    DayChannels,
    SlotRows,
    slot_documents,
)
from store._records import channel_names_id, channel_slot_id

log = logging.getLogger(__name__)

Document = dict[str, Any]


def read_day_channels(db: Database[Document], day: datetime) -> DayChannels:
    """Every channel named on `day` so far, in day-index order."""
    names = DayChannels(day)
    while True:
        found = db[schema.CHANNEL_NAMES].find_one({"_id": channel_names_id(day, names.parts)})
        if found is None:
            return names
        names.add_part(cast(ChannelNamesDocument, found))


def read_slot_rows(
    db: Database[Document], slot: datetime, day: DayChannels | None = None
) -> SlotRows | None:
    """A slot's listed channels, or None when none were stored (or a chunk is missing);
    `day`: its day's channels when the caller has read them already."""
    first = db[schema.CHANNEL_SLOTS].find_one({"_id": channel_slot_id(slot, 0)})
    if first is None:
        return None
    documents = [cast(ChannelSlotDocument, first)]
    for chunk in range(1, int(first["chunks"])):
        found = db[schema.CHANNEL_SLOTS].find_one({"_id": channel_slot_id(slot, chunk)})
        if found is None:
            log.warning("channel_slots %s lacks chunk %d; slot skipped", slot.isoformat(), chunk)
            return None
        if found["written_at"] != first["written_at"]:
            # Another attempt's chunk: the slot is being rewritten, or that write died.
            log.warning("channel_slots %s: chunks of two writes; slot skipped", slot.isoformat())
            return None
        documents.append(cast(ChannelSlotDocument, found))
    return SlotRows.from_documents(documents, day or read_day_channels(db, day_of(slot)))


def read_channel_listing(db: Database[Document], slot: datetime) -> pd.DataFrame:
    """A slot's whole listing, one row per channel (for notebooks): user_id, login, name,
    viewers, game_id, language, started_at, tags, game_rank, language_rank; empty when the
    slot's channels were not stored."""
    names = read_day_channels(db, day_of(slot))
    rows = read_slot_rows(db, slot, names)
    columns = ["user_id", "login", "name", "viewers", "game_id", "language", "started_at"]
    columns += ["tags", "game_rank", "language_rank"]
    if rows is None:
        return pd.DataFrame(columns=columns)
    channel = rows.channel
    tags = [s.split(TAG_SEPARATOR) if s else [] for s in rows.tag_sets]
    return pd.DataFrame(
        {
            "user_id": [names.user_ids[i] for i in channel],
            "login": [names.logins[i] for i in channel],
            "name": [names.names[i] for i in channel],
            "viewers": rows.viewers,
            "game_id": [rows.game_ids[i] for i in rows.game],
            "language": [rows.languages[i] for i in rows.language],
            "started_at": pd.to_datetime(rows.started_at, unit="s", utc=True),
            "tags": [tags[i] for i in rows.tag_set],
            "game_rank": rows.game_rank,
            "language_rank": rows.language_rank,
        }
    ).sort_values(["viewers", "login"], ascending=[False, True], ignore_index=True)


@dataclass(frozen=True)
class ChannelWrite:
    """What one `ChannelWriter.write` stored: its chunks' and names part's `_id`s."""

    chunk_ids: list[str]
    names_id: str | None  # None when every channel was named on this day already


class ChannelWriter:
    """Writes each slot's listing: the day's new channel names first, then the rows that
    index them, so no stored row points at a name that is not stored."""

    def __init__(self, db: Database[Document], *, chunk_rows: int = CHUNK_ROWS) -> None:
        self.db = db
        self.chunk_rows = chunk_rows
        self._names: DayChannels | None = None  # the day this writer last wrote

    def write(self, listing: ChannelListing) -> ChannelWrite:
        """Store the listing (again: its chunks are replaced)."""
        day = day_of(listing.slot)
        try:
            names = self._day(day)
            indexes, before = names.indexes(listing)
            written_at = datetime.now(UTC)
            names_id = None
            if len(names.user_ids) > before:
                names_id = channel_names_id(day, names.parts)
                part = names.new_part(before, names_id, written_at)
                self._insert_or_replace(schema.CHANNEL_NAMES, cast(Document, part))
            documents = slot_documents(
                listing, indexes, names, written_at, schema.SCHEMA_VERSION, self.chunk_rows
            )
            for document in documents:
                self._insert_or_replace(schema.CHANNEL_SLOTS, cast(Document, document))
        except BaseException:
            self._names = None  # what is stored may differ from memory now: read it again
            raise
        return ChannelWrite([d["_id"] for d in documents], names_id)

    def prune(self, before: datetime) -> int:
        """Delete slot rows and day names older than `before` (kept a set number of days)."""
        gone = self.db[schema.CHANNEL_SLOTS].delete_many({"slot": {"$lt": before}}).deleted_count
        # A day's names serve its slots: they go with the day's last slot.
        self.db[schema.CHANNEL_NAMES].delete_many({"day": {"$lt": day_of(before)}})
        return gone

    def _day(self, day: datetime) -> DayChannels:
        if self._names is None or self._names.day != day:
            self._names = read_day_channels(self.db, day)
        return self._names

    def _insert_or_replace(self, collection: str, document: Document) -> None:
        # Insert first: on FerretDB v1 an upsert by `_id` reads the whole collection.
        try:
            self.db[collection].insert_one(document)
        except mongo_errors.DuplicateKeyError:
            self.db[collection].replace_one({"_id": document["_id"]}, document)
