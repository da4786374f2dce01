"""Chat messages counted per channel and minute, in memory, until the store has them.

A minute is the minute of the message's `tmi-sent-ts` (Twitch's clock), so counts do not
depend on when the reader happened to receive a line, and a reconnect in the middle of a
minute adds to the same minute. Chatters are counted by user id inside the minute and
only the count leaves the process: no chatter id or message text is kept.

Channels followed for highlights (`MinuteCounts.by_second`) also get per-second counts of
messages, laughter/hype emote uses and shouted (mostly capital) messages: the chat
features of `highlights.features`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from chat.irc import ChatMessage
from store import SECOND_FIELDS, ChatMinuteEntry, TopicSums

MINUTE_MS = 60_000
# Emotes a chat spams when something happens on stream: laughter, awe, hype.
HYPE_EMOTE_NAMES = frozenset(
    {
        "PogChamp", "Pog", "PogU", "POGGERS", "PogBones", "LUL", "LULW", "KEKW", "OMEGALUL",
        "Kreygasm", "SwiftRage", "monkaS", "HYPERS", "KomodoHype", "EZ", "Clap", "WutFace",
    }
)  # fmt: skip
SHOUT_MIN_LETTERS = 4
SHOUT_UPPER_SHARE = 0.7


def shouted(text: str, emote_words: frozenset[str] | set[str]) -> bool:
    """Mostly capitals, emote names left out ("LETS GOOO" yes, "LUL gg" no)."""
    letters = [c for word in text.split() if word not in emote_words for c in word if c.isalpha()]
    if len(letters) < SHOUT_MIN_LETTERS:
        return False
    return sum(c.isupper() for c in letters) >= SHOUT_UPPER_SHARE * len(letters)


# `kind_of(emote_id, channel)` → "free" or "paid"
EmoteKind = Callable[[str, str], str]


@dataclass
class ChannelMinute:
    """What one channel's chat said in one minute."""

    room_id: str = ""
    messages: int = 0
    subscriber_messages: int = 0
    emote_only_messages: int = 0
    chatters: set[str] = field(default_factory=set)
    free_emotes: Counter[str] = field(default_factory=Counter)
    paid_emotes: Counter[str] = field(default_factory=Counter)
    topics: dict[str, TopicSums] = field(default_factory=dict)
    # For channels followed for highlights: [messages, hype emote uses, shouted] × 60 s
    seconds: list[list[int]] | None = None

    def as_entry(self, channel: str) -> ChatMinuteEntry:
        """The channel's entry of a `chat_minutes` document."""
        entry: ChatMinuteEntry = {
            "channel": channel,
            "room_id": self.room_id,
            "messages": self.messages,
            "chatters": len(self.chatters),
            "subscriber_messages": self.subscriber_messages,
            "emote_only_messages": self.emote_only_messages,
            "free_emote_uses": sum(self.free_emotes.values()),
            "paid_emote_uses": sum(self.paid_emotes.values()),
            "free_emotes": dict(self.free_emotes),
            "paid_emotes": dict(self.paid_emotes),
            "topics": {
                topic: {"messages": counts.messages, "emotes": dict(counts.emotes)}
                for topic, counts in self.topics.items()
            },
        }
        if self.seconds:
            messages, hype, shouts = self.seconds
            entry["seconds"] = {"messages": messages, "hype": hype, "shouted": shouts}
        return entry


class MinuteCounts:
    """Counts of every open minute, keyed by minute (ms since the epoch) and channel."""

    def __init__(self, kind_of: EmoteKind, topics: Iterable[str] = ()) -> None:
        self._kind_of = kind_of
        self.topics = tuple(t.lower() for t in topics if t)
        self.minutes: dict[int, dict[str, ChannelMinute]] = {}
        # The channels joined during each minute: a silent channel was still listened to.
        self.joined: dict[int, set[str]] = {}
        self.emote_names: dict[str, str] = {}
        self.messages = 0
        self.by_second: set[str] = set()  # channels counted per second as well
        # Minutes before this are stored and forgotten; a line for one of them is late.
        self.closed_before = 0
        self.late = 0
        # Bumped by every change to a minute: one written at a version needs no rewrite.
        self.versions: dict[int, int] = {}

    def add(self, message: ChatMessage) -> int:
        """Count one message; returns its minute."""
        minute = message.sent_ms - message.sent_ms % MINUTE_MS
        if minute < self.closed_before:
            self.late += 1
            return minute
        self.versions[minute] = self.versions.get(minute, 0) + 1
        channels = self.minutes.get(minute)
        if channels is None:
            channels = self.minutes[minute] = {}
        counts = channels.get(message.channel)
        if counts is None:
            counts = channels[message.channel] = ChannelMinute(room_id=message.room_id)
            if message.channel in self.by_second:
                counts.seconds = [[0] * 60 for _ in SECOND_FIELDS]
        counts.messages += 1
        if counts.seconds is not None:
            self._add_second(counts.seconds, message)
        counts.chatters.add(message.user_id)
        if message.subscriber:
            counts.subscriber_messages += 1
        if message.emote_only:
            counts.emote_only_messages += 1
        for emote_id, uses in message.emotes:
            if self._kind_of(emote_id, message.channel) == "free":
                counts.free_emotes[emote_id] += uses
            else:
                counts.paid_emotes[emote_id] += uses
        if message.emote_names:
            for emote_id, name in message.emote_names:
                if emote_id not in self.emote_names:
                    self.emote_names[emote_id] = name
        if self.topics:
            lowered = message.text.lower()
            for topic in self.topics:
                if topic in lowered:
                    topic_counts = counts.topics.get(topic)
                    if topic_counts is None:
                        topic_counts = counts.topics[topic] = TopicSums()
                    topic_counts.messages += 1
                    for emote_id, uses in message.emotes:
                        topic_counts.emotes[emote_id] += uses
        self.messages += 1
        return minute

    @staticmethod
    def _add_second(seconds: list[list[int]], message: ChatMessage) -> None:
        second = message.sent_ms % MINUTE_MS // 1000
        names = {name for _, name in message.emote_names}
        seconds[0][second] += 1
        uses = dict(message.emotes)
        seconds[1][second] += sum(
            uses.get(i, 1) for i, name in message.emote_names if name in HYPE_EMOTE_NAMES
        )
        seconds[2][second] += shouted(message.text, names)

    def listening(self, minute: int, channels: Iterable[str]) -> None:
        """Record that these channels were joined during `minute`."""
        if minute < self.closed_before:
            return
        joined = self.joined.setdefault(minute, set())
        before = len(joined)
        joined.update(channels)
        if len(joined) != before:
            self.versions[minute] = self.versions.get(minute, 0) + 1

    def entries(self, minute: int) -> list[ChatMinuteEntry]:
        """Every channel listened to in `minute`, silent ones with zero counts."""
        counted = self.minutes.get(minute, {})
        names = sorted(self.joined.get(minute, set()) | counted.keys())
        return [(counted.get(name) or self._silent(name)).as_entry(name) for name in names]

    def _silent(self, channel: str) -> ChannelMinute:
        if channel in self.by_second:
            return ChannelMinute(seconds=[[0] * 60 for _ in SECOND_FIELDS])
        return ChannelMinute()

    def open_minutes(self) -> list[int]:
        return sorted(self.minutes.keys() | self.joined.keys())

    def drop(self, minute: int) -> None:
        """Forget a stored, complete minute (and any before it)."""
        self.closed_before = max(self.closed_before, minute + MINUTE_MS)
        self.minutes.pop(minute, None)
        self.joined.pop(minute, None)
        self.versions.pop(minute, None)


def add_entries(base: ChatMinuteEntry, more: ChatMinuteEntry) -> ChatMinuteEntry:
    """Two entries of the same channel and minute summed (a reader restarted mid-minute
    adds to what its previous run stored; its chatters may then be counted twice)."""
    total: dict[str, Any] = dict(base)
    for name, value in cast(Mapping[str, Any], more).items():
        mine = total.get(name)
        if isinstance(value, int) and isinstance(mine, int):
            total[name] = mine + value
        elif name in ("free_emotes", "paid_emotes"):
            total[name] = dict(Counter(mine or {}) + Counter(value))
        elif name == "seconds":
            total[name] = (
                {
                    key: [a + b for a, b in zip(mine.get(key, [0] * 60), values, strict=True)]
                    for key, values in value.items()
                }
                if mine
                else value
            )
        elif name == "topics":
            topics = {k: dict(v) for k, v in (mine or {}).items()}
            for topic, counts in value.items():
                kept = topics.setdefault(topic, {"messages": 0, "emotes": {}})
                kept["messages"] += counts["messages"]
                kept["emotes"] = dict(Counter(kept["emotes"]) + Counter(counts["emotes"]))
            total[name] = topics
        elif name not in total:
            total[name] = value
    return cast(ChatMinuteEntry, total)
