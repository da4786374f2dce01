"""A day of every listed channel, regrouped by channel: what a channel's page reads.

`channel_slots` holds each slot whole, which is what a slot-wide reader wants, but one
channel's month would mean reading every slot of the month. Once a UTC day is over, its
slots are regrouped into `BUCKETS` documents by a hash of the channel's user id
(`channel_days`), rows sorted by channel and slot, with each row's directory ranks
computed from its whole slot. A channel's 35 days are then 35 reads by `_id`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import numpy as np
from bson.binary import Binary

from store._channels import (
    PLANES,
    DayChannels,
    PackedValues,
    SlotRows,
    ValueTable,
    channel_bucket,
)
from store._packing import (
    compress,
    decompress,
    join_names,
    pack_names,
    pack_planes,
    split_names,
    unpack_names,
    unpack_planes,
    unzigzag,
    zigzag,
)
from store._partitions import BUCKETS
from store._records import channel_day_id

_I32 = np.dtype("<i4")
_I64 = np.dtype("<i8")
_INT_COLUMNS = ("slot", "viewers", "game", "language", "tag_set", "game_rank", "language_rank")


class ChannelDayDocument(PackedValues):
    """A `channel_days` document: one bucket of a day's listed channels, by channel."""

    _id: str  # channel_day_id(day, bucket)
    day: datetime
    bucket: int
    buckets: int
    slots: list[datetime]  # the day's stored slots; rows' `slot` indexes these
    count: int  # channels
    rows: int
    channels: bytes  # text: user id, login, display name of each, SEPARATOR-joined
    # True: a login is "" where it is its display name lowercased (as most are); without
    # it (older documents), every login is written out
    logins_from_names: bool
    channel: bytes  # the row's channel (index into `channels`), delta-coded
    slot: bytes
    viewers: bytes
    game: bytes  # index into game_ids
    language: bytes  # index into languages
    tag_set: bytes  # index into tag_sets
    # int64 going-live times: the first row of a channel `started_base` - its time, each
    # later row the change from the row before (mostly 0), zigzag; without
    # `started_base` (older documents), plain times delta-coded along the rows
    started: bytes
    started_base: int  # the day's start, epoch seconds
    game_rank: bytes
    language_rank: bytes


@dataclass(frozen=True)
class ChannelDay:
    """One bucket of a day, decoded: row r is channel `channel[r]` at `slots[slot[r]]`."""

    day: datetime
    slots: list[datetime]
    user_ids: list[str]
    logins: list[str]
    names: list[str]
    channel: np.ndarray
    slot: np.ndarray
    viewers: np.ndarray
    game_ids: list[str]
    game: np.ndarray
    languages: list[str]
    language: np.ndarray
    tag_sets: list[str]
    tag_set: np.ndarray
    started_at: np.ndarray
    game_rank: np.ndarray
    language_rank: np.ndarray

    @classmethod
    def from_document(cls, document: ChannelDayDocument) -> ChannelDay:
        count, rows = int(document["count"]), int(document["rows"])
        fields = split_names(decompress(document["channels"]).decode("utf-8"), 3 * count)
        packed = cast(Mapping[str, Any], document)
        logins, names = fields[1::3], fields[2::3]
        if packed.get("logins_from_names"):
            logins = [login or name.lower() for login, name in zip(logins, names, strict=True)]
        ints = {n: unpack_planes(packed[n], _I32, rows) for n in _INT_COLUMNS}
        channel = np.cumsum(unpack_planes(document["channel"], _I32, rows))
        return cls(
            day=document["day"],
            slots=list(document["slots"]),
            user_ids=fields[0::3],
            logins=logins,
            names=names,
            channel=channel,
            slot=ints["slot"],
            viewers=ints["viewers"],
            game_ids=split_names(document["game_ids"], document["game_count"]),
            game=ints["game"],
            languages=split_names(document["languages"], document["language_count"]),
            language=ints["language"],
            tag_sets=unpack_names(document["tag_sets"], document["tag_set_count"]),
            tag_set=ints["tag_set"],
            started_at=_started_at(document, channel),
            game_rank=ints["game_rank"],
            language_rank=ints["language_rank"],
        )

    def rows_of(self, user_id: str) -> np.ndarray:
        """The rows of a channel (of every name it had that day), in slot order."""
        mine = [i for i, u in enumerate(self.user_ids) if u == user_id]
        rows = np.flatnonzero(np.isin(self.channel, mine))
        return rows[np.argsort(self.slot[rows], kind="stable")]


def _channel_starts(channel: np.ndarray) -> np.ndarray:
    """Which rows (sorted by channel) are a channel's first."""
    starts = np.ones(len(channel), bool)
    starts[1:] = channel[1:] != channel[:-1]
    return starts


def encode_started(channel: np.ndarray, started: np.ndarray, base: int) -> np.ndarray:
    """Going-live times coded along rows sorted by channel: a channel's first row `base` -
    its time, each later row the change from the row before (0 within a session)."""
    coded = np.diff(started, prepend=0)
    starts = _channel_starts(channel)
    coded[starts] = base - started[starts]
    return zigzag(coded)


def decode_started(channel: np.ndarray, coded: np.ndarray, base: int) -> np.ndarray:
    starts = _channel_starts(channel)
    steps = unzigzag(coded)
    steps[starts] = base - steps[starts]
    total = np.cumsum(steps)
    first = np.maximum.accumulate(np.where(starts, np.arange(len(steps)), 0))
    started: np.ndarray = total - total[first] + steps[first]
    return started


def _started_at(document: ChannelDayDocument, channel: np.ndarray) -> np.ndarray:
    stored = unpack_planes(document["started"], _I64, len(channel))
    if "started_base" not in document:  # written before channel-wise coding
        return np.cumsum(stored)
    return decode_started(channel, stored, int(document["started_base"]))


@dataclass(frozen=True)
class DayRows:
    """A day's slots as one table: row r is day-index channel `columns["channel"][r]` at
    `slots[columns["slot"][r]]`; game, language and tag_set index `tables`, shared by
    every slot of the day."""

    slots: list[datetime]
    columns: dict[str, np.ndarray]  # channel, started_at and `_INT_COLUMNS`
    tables: dict[str, ValueTable]  # game, language, tag_set

    @classmethod
    def from_slots(cls, slots: Sequence[SlotRows]) -> DayRows:
        tables = {c: ValueTable() for c in ("game", "language", "tag_set")}
        columns: dict[str, list[np.ndarray]] = {
            n: [] for n in ("channel", "started_at", *_INT_COLUMNS)
        }
        for index, slot_rows in enumerate(slots):
            for name, values in (
                ("game", slot_rows.game_ids),
                ("language", slot_rows.languages),
                ("tag_set", slot_rows.tag_sets),
            ):
                remap = np.array([tables[name].code(v) for v in values] or [0], np.int64)
                columns[name].append(remap[getattr(slot_rows, name)])
            columns["slot"].append(np.full(len(slot_rows.channel), index, np.int64))
            for name in ("channel", "viewers", "started_at", "game_rank", "language_rank"):
                columns[name].append(getattr(slot_rows, name))
        every = {n: np.concatenate(v) if v else np.zeros(0, np.int64) for n, v in columns.items()}
        return cls([s.slot for s in slots], every, tables)


def _used(codes: np.ndarray, values: list[str]) -> tuple[np.ndarray, list[str]]:
    """`codes` (indexes into `values`) recoded against the values they use."""
    used, local = np.unique(codes, return_inverse=True)
    return local.astype(np.int64), [values[i] for i in used.tolist()]


def _login_field(names: DayChannels, index: int) -> str:
    """A channel's login as `channels` text holds it: "" when it is the display name
    lowercased, which a reader rebuilds (about a fifth of that text, compressed)."""
    login = names.logins[index]
    return "" if login == names.names[index].lower() else login


def dense(values: np.ndarray) -> Binary:
    """An int32 column of a document kept for days (`store._packing`)."""
    return pack_planes(values, _I32, dense=True)


def channel_day_documents(
    names: DayChannels, day_rows: DayRows, written_at: datetime, schema_version: int
) -> list[ChannelDayDocument]:
    """The day's `BUCKETS` documents (a bucket with no channel gets an empty one, so a
    reader can tell "not listed that day" from "not compacted")."""
    every, tables = day_rows.columns, day_rows.tables
    buckets = np.array([channel_bucket(u) for u in names.user_ids], np.int64)
    row_bucket = buckets[every["channel"]] if len(buckets) else every["channel"]
    documents = []
    for bucket in range(BUCKETS):
        picked = np.flatnonzero(row_bucket == bucket)
        day_index = np.unique(every["channel"][picked])  # this bucket's channels, ascending
        local = np.searchsorted(day_index, every["channel"][picked])
        order = np.lexsort((every["slot"][picked], local))
        rows = picked[order]
        text = join_names(
            [
                field
                for i in day_index.tolist()
                for field in (names.user_ids[i], _login_field(names, i), names.names[i])
            ]
        )
        # Each bucket names only the games, languages and tag sets its rows use.
        coded = {
            c: _used(every[c][rows], tables[c].values) for c in ("game", "language", "tag_set")
        }
        base = int(names.day.timestamp())
        documents.append(
            ChannelDayDocument(
                _id=channel_day_id(names.day, bucket),
                day=names.day,
                bucket=bucket,
                buckets=BUCKETS,
                slots=day_rows.slots,
                count=len(day_index),
                rows=len(rows),
                channels=compress(text.encode("utf-8"), dense=True),
                logins_from_names=True,
                channel=pack_planes(np.diff(local[order], prepend=0), _I32, dense=True),
                slot=dense(every["slot"][rows]),
                viewers=dense(every["viewers"][rows]),
                game=dense(coded["game"][0]),
                language=dense(coded["language"][0]),
                tag_set=dense(coded["tag_set"][0]),
                started=pack_planes(
                    encode_started(local[order], every["started_at"][rows], base),
                    _I64,
                    dense=True,
                ),
                started_base=base,
                game_rank=dense(every["game_rank"][rows]),
                language_rank=dense(every["language_rank"][rows]),
                game_count=len(coded["game"][1]),
                game_ids=join_names(coded["game"][1]),
                language_count=len(coded["language"][1]),
                languages=join_names(coded["language"][1]),
                tag_set_count=len(coded["tag_set"][1]),
                tag_sets=pack_names(coded["tag_set"][1], dense=True),
                encoding=PLANES,
                written_at=written_at,
                schema_version=schema_version,
            )
        )
    return documents
