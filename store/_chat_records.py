"""The chat records that cross the store's border: a reader shard's minute of counts,
an emote of the catalogue, and a slot's chat rollup (`docs/schema.md`, chat_*)."""

from __future__ import annotations

from datetime import datetime
from typing import NotRequired, TypedDict


class TopicCounts(TypedDict):
    """The messages that mention one topic keyword, and the emotes in them."""

    messages: int
    emotes: dict[str, int]  # emote id → uses


# SecondCounts' keys, in the column order of per-second arrays.
SECOND_FIELDS = ("messages", "hype", "shouted")


class SecondCounts(TypedDict):
    """Per second of the minute (60 each), for channels followed for highlights."""

    messages: list[int]
    hype: list[int]  # laughter/hype emote uses
    shouted: list[int]  # mostly-capital messages


class ChatMinuteEntry(TypedDict):
    """What one channel's chat said in one minute (silent channels have zeros)."""

    channel: str  # login
    room_id: str
    messages: int
    chatters: int  # unique in the minute
    subscriber_messages: int
    emote_only_messages: int
    free_emote_uses: int
    paid_emote_uses: int
    free_emotes: dict[str, int]
    paid_emotes: dict[str, int]
    topics: dict[str, TopicCounts]
    seconds: NotRequired[SecondCounts]


class ChatMinuteDocument(TypedDict):
    """A `chat_minutes` document: one reader shard's counts of one minute."""

    _id: str  # chat_minute_id(minute, shard)
    minute: datetime
    shard: str
    run: str
    channels: list[ChatMinuteEntry]
    emote_names: dict[str, str]
    written_at: datetime
    schema_version: int


class EmoteDocument(TypedDict):
    """An `emotes` document: one emote of Twitch's global or a channel's list."""

    _id: str  # the emote id
    name: str
    type: str  # global, subscriptions, bitstier, follower
    paid: bool
    tier: str
    owner_login: str  # "" for global emotes
    owner_id: str
    fetched_at: datetime


class ChatRollupGroup(TypedDict):
    """One key's chat in a slot: sums over the channel-minutes read."""

    key: str
    channels: int
    minutes: int
    messages: int
    chatter_minutes: int
    viewer_minutes: int
    subscriber_messages: int
    emote_only_messages: int
    free_emote_uses: int
    paid_emote_uses: int
    emotes: dict[str, int]  # the most used, trimmed
    emote_count: int  # distinct emotes before trimming
    topics: dict[str, TopicCounts]
    name: NotRequired[str]  # game and channel groups
    game_id: NotRequired[str]  # channel groups from here on
    language: NotRequired[str]
    viewers: NotRequired[int]  # at the slot's snapshot
    in_snapshot: NotRequired[bool]


class ChatRollupDocument(TypedDict):
    """A `chat_rollups` document: one slot, one dimension."""

    _id: str  # rollup_id(slot, dimension)
    slot: datetime
    dimension: str
    groups: list[ChatRollupGroup]
    emote_names: dict[str, str]
    paid_emotes: list[str]
    minutes_read: int
    minutes_in_slot: int
    complete: bool
    written_at: datetime
    schema_version: int
