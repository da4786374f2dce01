"""Per-snapshot chat rollups: a slot's per-minute chat counts joined with its snapshot.

A slot's chat covers the minutes from the slot to the next one. Each channel read in
those minutes is joined with the slot's snapshot (its game, language and viewers); the
sums give, per channel, game, genre and language and for everything read (`all`):

- messages, and viewer-minutes (viewers at the snapshot × minutes the channel's chat was
  read), so engagement is messages per 1,000 viewer-minutes;
- chatter-minutes (each minute's unique chatters, summed), so active chatters per 100
  viewers is 100 × chatter-minutes / viewer-minutes;
- free and paid emote uses, and the most used emotes (trimmed);
- per topic keyword, the messages containing it and the emotes in them.

Channels read but absent from the snapshot (gone offline, fallen out of the top) count
in the `channel` and `all` groups only, without viewers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from store._chat_records import (
    ChatMinuteEntry,
    ChatRollupDocument,
    ChatRollupGroup,
    TopicCounts,
)
from store._records import RollupGroup, rollup_id
from store.schema import SCHEMA_VERSION, UNKNOWN_GENRE

CHAT_DIMENSIONS = ("all", "channel", "game", "genre", "language")
EMOTES_KEPT = {"all": 300, "channel": 10, "game": 20, "genre": 20, "language": 20}
TOPIC_EMOTES_KEPT = 10
CHAT_ALL_KEY = "all"


@dataclass
class TopicSums:
    messages: int = 0
    emotes: Counter[str] = field(default_factory=Counter)


@dataclass
class ChatSums:
    """Chat summed over channel-minutes: one channel's (`channels` 0) or a group's."""

    key: str
    channels: int = 0
    minutes: int = 0  # channel-minutes read
    messages: int = 0
    chatter_minutes: int = 0
    viewer_minutes: int = 0
    subscriber_messages: int = 0
    emote_only_messages: int = 0
    free_emote_uses: int = 0
    paid_emote_uses: int = 0
    emotes: Counter[str] = field(default_factory=Counter)
    topics: dict[str, TopicSums] = field(default_factory=dict)

    def add_minute(self, entry: ChatMinuteEntry) -> None:
        """One minute of the channel's chat, as a reader shard stored it."""
        self.minutes += 1
        self.messages += int(entry.get("messages", 0))
        self.chatter_minutes += int(entry.get("chatters", 0))
        self.subscriber_messages += int(entry.get("subscriber_messages", 0))
        self.emote_only_messages += int(entry.get("emote_only_messages", 0))
        self.free_emote_uses += int(entry.get("free_emote_uses", 0))
        self.paid_emote_uses += int(entry.get("paid_emote_uses", 0))
        self.emotes.update(entry.get("free_emotes", {}))
        self.emotes.update(entry.get("paid_emotes", {}))
        for topic, counts in entry.get("topics", {}).items():
            self._topic(topic, int(counts["messages"]), counts.get("emotes", {}))

    def add_channel(self, channel: ChatSums, viewers: int) -> None:
        """A channel's sums into this group; `viewers` at the snapshot (0: not in it)."""
        self.channels += 1
        self.minutes += channel.minutes
        self.messages += channel.messages
        self.chatter_minutes += channel.chatter_minutes
        self.viewer_minutes += viewers * channel.minutes
        self.subscriber_messages += channel.subscriber_messages
        self.emote_only_messages += channel.emote_only_messages
        self.free_emote_uses += channel.free_emote_uses
        self.paid_emote_uses += channel.paid_emote_uses
        self.emotes.update(channel.emotes)
        for topic, counts in channel.topics.items():
            self._topic(topic, counts.messages, counts.emotes)

    def _topic(self, topic: str, messages: int, emotes: Mapping[str, int]) -> None:
        mine = self.topics.get(topic)
        if mine is None:
            mine = self.topics[topic] = TopicSums()
        mine.messages += messages
        mine.emotes.update(emotes)

    def group(self, kept: int) -> ChatRollupGroup:
        """The rollup group, its emotes trimmed to the `kept` most used."""
        return {
            "key": self.key,
            "channels": self.channels,
            "minutes": self.minutes,
            "messages": self.messages,
            "chatter_minutes": self.chatter_minutes,
            "viewer_minutes": self.viewer_minutes,
            "subscriber_messages": self.subscriber_messages,
            "emote_only_messages": self.emote_only_messages,
            "free_emote_uses": self.free_emote_uses,
            "paid_emote_uses": self.paid_emote_uses,
            "emotes": dict(self.emotes.most_common(kept)),
            "emote_count": len(self.emotes),
            "topics": {
                topic: TopicCounts(
                    messages=counts.messages,
                    emotes=dict(counts.emotes.most_common(TOPIC_EMOTES_KEPT)),
                )
                for topic, counts in sorted(self.topics.items())
            },
        }


def merge_channel_minutes(entries: Iterable[ChatMinuteEntry]) -> dict[str, ChatSums]:
    """Per channel, the sums of its minute entries (of any number of minutes and shards),
    `minutes` being how many minutes its chat was read."""
    channels: dict[str, ChatSums] = {}
    for entry in entries:
        login = str(entry["channel"])
        total = channels.get(login)
        if total is None:
            total = channels[login] = ChatSums(login)
        total.add_minute(entry)
    return channels


def compute_chat_rollups(
    slot: datetime,
    channel_minutes: Mapping[str, ChatSums],
    snapshot_channels: Mapping[str, RollupGroup],
    game_names: Mapping[str, str],
    genre_of_game: Callable[[str], str],
    emote_names: Mapping[str, str],
    paid_emotes: set[str],
    written_at: datetime,
    *,
    minutes_read: int,
    minutes_in_slot: int,
    complete: bool,
) -> list[ChatRollupDocument]:
    """One document per dimension. `channel_minutes`: `merge_channel_minutes` of the slot;
    `snapshot_channels`: login → the slot's channel rollup group (game_id, language,
    viewers, name); `minutes_read` of `minutes_in_slot` were read by every shard, and the
    rollup is `complete` when the slot has ended and all were."""
    groups: dict[str, dict[str, ChatSums]] = {d: {} for d in CHAT_DIMENSIONS}

    def add(dimension: str, key: str, counted: ChatSums, viewers: int) -> None:
        group = groups[dimension].get(key)
        if group is None:
            group = groups[dimension][key] = ChatSums(key)
        group.add_channel(counted, viewers)

    for login, counted in sorted(channel_minutes.items()):
        seen = snapshot_channels.get(login)
        viewers = int(seen["viewers"]) if seen else 0
        add("all", CHAT_ALL_KEY, counted, viewers)
        add("channel", login, counted, viewers)
        if seen is None:
            continue
        game = str(seen.get("game_id", ""))
        add("game", game, counted, viewers)
        add("genre", genre_of_game(game) or UNKNOWN_GENRE, counted, viewers)
        add("language", str(seen.get("language", "")), counted, viewers)
    documents: list[ChatRollupDocument] = []
    for dimension in CHAT_DIMENSIONS:
        finished = [g.group(EMOTES_KEPT[dimension]) for g in groups[dimension].values()]
        for group in finished:
            if dimension == "channel":
                _add_snapshot_fields(group, snapshot_channels.get(group["key"]))
            elif dimension == "game":
                group["name"] = game_names.get(group["key"], group["key"])
        finished.sort(key=lambda g: (-g["messages"], g["key"]))
        mentioned = sorted(
            {e for g in finished for e in g["emotes"]}
            | {e for g in finished for t in g["topics"].values() for e in t["emotes"]}
        )
        documents.append(
            {
                "_id": rollup_id(slot, dimension),
                "slot": slot,
                "dimension": dimension,
                "groups": finished,
                "emote_names": {e: emote_names.get(e, e) for e in mentioned},
                "paid_emotes": [e for e in mentioned if e in paid_emotes],
                "minutes_read": minutes_read,
                "minutes_in_slot": minutes_in_slot,
                "complete": complete,
                "written_at": written_at,
                "schema_version": SCHEMA_VERSION,
            }
        )
    return documents


def _add_snapshot_fields(group: ChatRollupGroup, seen: RollupGroup | None) -> None:
    """A channel group's name, game, language and viewers at the slot's snapshot."""
    group["name"] = str(seen.get("name", "")) if seen else ""
    group["game_id"] = str(seen.get("game_id", "")) if seen else ""
    group["language"] = str(seen.get("language", "")) if seen else ""
    group["viewers"] = int(seen["viewers"]) if seen else 0
    group["in_snapshot"] = seen is not None
