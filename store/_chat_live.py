"""The live view's copy of a chat minute: `chat_live` documents.

A `chat_minutes` document of the top 1,000 channels is about a megabyte (chatters,
topics, per-second counts, emote maps as BSON objects), and FerretDB takes seconds to
write and read one while a reader rewrites it every few seconds. The live view needs
only each channel's messages and emote uses and its (emote, uses) pairs, so the reader
writes those beside each minute as packed columns (`store._packing`), about a tenth of
the size. They are kept `LIVE_KEEP`; the minute documents stay the record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict

import numpy as np
from bson.binary import Binary

from store._chat_records import ChatMinuteEntry
from store._packing import pack_names, pack_planes, unpack_names, unpack_planes

LIVE_KEEP = timedelta(hours=2)  # the live view shows the last hour

_I32 = np.dtype("<i4")
_I64 = np.dtype("<i8")
_U8 = np.dtype("u1")


class ChatLiveDocument(TypedDict):
    """A `chat_live` document: one reader shard's minute, as the live view reads it."""

    _id: str  # chat_minute_id(minute, shard), as the minute's `chat_minutes` document
    minute: datetime
    shard: str
    channel_count: int
    channels: Binary  # logins, `pack_names`
    messages: Binary  # per channel, int64 planes
    free_emote_uses: Binary
    paid_emote_uses: Binary
    emote_count: int
    emote_ids: Binary  # `pack_names`; the pairs index them
    emote_names: Binary  # the text of each of `emote_ids` ("" when unknown), `pack_names`
    pair_count: int
    pair_channel: Binary  # per (channel, emote) counted: index into `channels`, int32 planes
    pair_emote: Binary  # index into `emote_ids`, int32 planes
    pair_paid: Binary  # 1: a paid use, uint8 planes
    pair_uses: Binary  # int32 planes
    written_at: datetime
    schema_version: int


@dataclass(frozen=True)
class LiveCounts:
    """A `chat_live` document unpacked: per channel read, its messages and emote uses;
    per (channel, emote) pair, its uses."""

    minute: datetime
    shard: str
    channels: np.ndarray  # logins (object)
    messages: np.ndarray  # int64, per channel
    free: np.ndarray
    paid: np.ndarray
    pair_channel: np.ndarray  # index into `channels`
    pair_emote: np.ndarray  # emote ids (object)
    pair_paid: np.ndarray  # bool
    pair_uses: np.ndarray
    names: dict[str, str]  # emote id → text, where known


def chat_live_document(
    document_id: str,
    minute: datetime,
    shard: str,
    channels: Sequence[ChatMinuteEntry],
    emote_names: Mapping[str, str],
    written_at: datetime,
    schema_version: int,
) -> ChatLiveDocument:
    emote_index: dict[str, int] = {}
    pair_channel: list[int] = []
    pair_emote: list[int] = []
    pair_paid: list[int] = []
    pair_uses: list[int] = []
    for row, entry in enumerate(channels):
        for paid, emotes in ((0, entry.get("free_emotes", {})), (1, entry.get("paid_emotes", {}))):
            for emote, uses in emotes.items():
                pair_channel.append(row)
                pair_emote.append(emote_index.setdefault(emote, len(emote_index)))
                pair_paid.append(paid)
                pair_uses.append(uses)
    emote_ids = list(emote_index)
    return ChatLiveDocument(
        _id=document_id,
        minute=minute,
        shard=shard,
        channel_count=len(channels),
        channels=pack_names([str(e["channel"]) for e in channels]),
        messages=pack_planes(_column(channels, "messages"), _I64),
        free_emote_uses=pack_planes(_column(channels, "free_emote_uses"), _I64),
        paid_emote_uses=pack_planes(_column(channels, "paid_emote_uses"), _I64),
        emote_count=len(emote_ids),
        emote_ids=pack_names(emote_ids),
        emote_names=pack_names([emote_names.get(e, "") for e in emote_ids]),
        pair_count=len(pair_uses),
        pair_channel=pack_planes(np.array(pair_channel), _I32),
        pair_emote=pack_planes(np.array(pair_emote), _I32),
        pair_paid=pack_planes(np.array(pair_paid), _U8),
        pair_uses=pack_planes(np.array(pair_uses), _I32),
        written_at=written_at,
        schema_version=schema_version,
    )


def _column(channels: Sequence[ChatMinuteEntry], field: str) -> np.ndarray:
    return np.array([int(e.get(field, 0)) for e in channels], dtype=np.int64)  # type: ignore[call-overload]


def live_counts(document: ChatLiveDocument) -> LiveCounts:
    channels = int(document["channel_count"])
    pairs = int(document["pair_count"])
    emotes = int(document["emote_count"])
    emote_ids = np.array(unpack_names(document["emote_ids"], emotes), dtype=object)
    names = unpack_names(document["emote_names"], emotes)
    pair_emote = unpack_planes(document["pair_emote"], _I32, pairs)
    return LiveCounts(
        minute=document["minute"],
        shard=document["shard"],
        channels=np.array(unpack_names(document["channels"], channels), dtype=object),
        messages=unpack_planes(document["messages"], _I64, channels),
        free=unpack_planes(document["free_emote_uses"], _I64, channels),
        paid=unpack_planes(document["paid_emote_uses"], _I64, channels),
        pair_channel=unpack_planes(document["pair_channel"], _I32, pairs),
        pair_emote=emote_ids[pair_emote] if pairs else np.zeros(0, dtype=object),
        pair_paid=unpack_planes(document["pair_paid"], _U8, pairs).astype(bool),
        pair_uses=unpack_planes(document["pair_uses"], _I32, pairs),
        names={e: n for e, n in zip(emote_ids, names, strict=True) if n},
    )
