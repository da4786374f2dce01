"""The chat rollups as the Chat page needs them: compact per-slot frames, read on demand.

Chat is read only when the Chat page asks, for at most the newest `CHAT_DAYS` days, and
each slot's documents are turned into small frames (numbers as int64 columns, names as
categories) kept in an LRU cache bounded by bytes; a channel's own emotes are read only
for the channel a visitor picks. Figures follow `docs/metrics.md` (chat section):

- messages per 1,000 viewer-minutes = 1,000 × messages / Σ (viewers × minutes read);
- active chatters per 100 viewers = 100 × Σ per-minute unique chatters / viewer-minutes;
- paid share = paid emote uses / all emote uses.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from cachetools import LRUCache

from store.chat_rollups import ALL_KEY
from store.reader import StoreReader

CHAT_DAYS = 7
CACHE_BYTES = 32 << 20
NUMBERS = ("minutes", "messages", "chatter_minutes", "viewer_minutes", "free", "paid")
EMOTE_DIMENSIONS = ("all", "game", "genre", "language")


@dataclass(frozen=True)
class ChatSlot:
    """One slot's chat rollups: a row per channel, and emote and topic counts in long form."""

    slot: pd.Timestamp
    channels: pd.DataFrame  # index: login; name, game_id, language, in_snapshot, NUMBERS
    emotes: pd.DataFrame  # dimension, key, emote, uses
    topics: pd.DataFrame  # dimension, key, topic, emote ("" = messages), uses
    names: dict[str, str]
    paid: frozenset[str]

    @property
    def nbytes(self) -> int:
        frames = (self.channels, self.emotes, self.topics)
        return int(sum(f.memory_usage(deep=True).sum() for f in frames)) + 64 * len(self.names)


def slot_of(documents: dict[str, dict[str, Any]], slot: pd.Timestamp) -> ChatSlot:
    """The frames of one slot from its rollup documents (by dimension)."""
    rows = []
    for g in documents["channel"]["groups"]:
        rows.append(
            (
                g["key"],
                g.get("name", ""),
                g.get("game_id", ""),
                g.get("language", ""),
                bool(g.get("in_snapshot", False)),
                g["minutes"],
                g["messages"],
                g["chatter_minutes"],
                g["viewer_minutes"],
                g["free_emote_uses"],
                g["paid_emote_uses"],
            )
        )
    columns = ["login", "name", "game_id", "language", "in_snapshot", *NUMBERS]
    channels = pd.DataFrame(rows, columns=columns).set_index("login")
    for name in ("name", "game_id", "language"):
        channels[name] = channels[name].astype("category")
    emote_rows: list[tuple[str, str, str, int]] = []
    topic_rows: list[tuple[str, str, str, str, int]] = []
    names: dict[str, str] = {}
    paid: set[str] = set()
    for dimension in EMOTE_DIMENSIONS:
        document = documents[dimension]
        names.update(document.get("emote_names", {}))
        paid.update(document.get("paid_emotes", []))
        for g in document["groups"]:
            key = str(g["key"])
            emote_rows.extend((dimension, key, e, int(n)) for e, n in g["emotes"].items())
            for topic, counts in g.get("topics", {}).items():
                topic_rows.append((dimension, key, topic, "", int(counts["messages"])))
                topic_rows.extend(
                    (dimension, key, topic, e, int(n)) for e, n in counts["emotes"].items()
                )
    emotes = pd.DataFrame(emote_rows, columns=["dimension", "key", "emote", "uses"])
    topics = pd.DataFrame(topic_rows, columns=["dimension", "key", "topic", "emote", "uses"])
    for frame in (emotes, topics):
        for name in frame.columns.drop("uses"):
            frame[name] = frame[name].astype("category")
    return ChatSlot(slot, channels, emotes, topics, names, frozenset(paid))


def engagement(frame: pd.DataFrame) -> pd.DataFrame:
    """The chat metrics of each row of summed NUMBERS (NaN where a denominator is 0)."""
    viewer_minutes = frame["viewer_minutes"].where(frame["viewer_minutes"] > 0)
    uses = (frame["free"] + frame["paid"]).where(lambda x: x > 0)
    return frame.assign(
        messages_per_1000_viewer_minutes=1000.0 * frame["messages"] / viewer_minutes,
        chatters_per_100_viewers=100.0 * frame["chatter_minutes"] / viewer_minutes,
        paid_share=frame["paid"] / uses,
    )


class ChatData:
    """Chat rollups of the newest days, read through one StoreReader."""

    def __init__(self, reader: StoreReader, max_bytes: int = CACHE_BYTES) -> None:
        self.reader = reader
        self._slots: LRUCache[tuple[str, str], ChatSlot] = LRUCache(
            max_bytes, getsizeof=lambda s: s.nbytes
        )
        self._lock = threading.Lock()

    def state(self) -> dict[str, datetime]:
        """Every slot with chat rollups → when they were written."""
        found = self.reader.chat_state() or {}
        return {key: value for key, value in found.get("slots", {}).items()}

    def slots(self, start: datetime, end: datetime) -> list[ChatSlot]:
        """The chat of the slots in [start, end), of the newest CHAT_DAYS days at most."""
        state = self.state()
        if not state:
            return []
        newest = max(pd.Timestamp(k) for k in state)
        start = max(pd.Timestamp(start), newest - pd.Timedelta(days=CHAT_DAYS) + _SLOT)
        wanted = sorted(
            k for k in state if pd.Timestamp(start) <= pd.Timestamp(k) < pd.Timestamp(end)
        )
        found = []
        for key in wanted:
            cache_key = (key, str(state[key]))
            with self._lock:
                cached = self._slots.get(cache_key)
            if cached is None:
                slot = pd.Timestamp(key)
                documents = {d: self.reader.chat_rollup(slot.to_pydatetime(), d) for d in _READ}
                if any(v is None for v in documents.values()):
                    continue  # being rebuilt: the next request sees it
                cached = slot_of(documents, slot)  # type: ignore[arg-type]
                with self._lock:
                    self._slots[cache_key] = cached
            found.append(cached)
        return found

    def channel_emotes(self, slots: Iterable[ChatSlot], login: str) -> pd.Series:
        """Uses of each emote in one channel's chat over these slots (read on demand)."""
        uses: dict[str, int] = {}
        for slot in slots:
            if login not in slot.channels.index:
                continue
            document = self.reader.chat_rollup(slot.slot.to_pydatetime(), "channel")
            for group in (document or {}).get("groups", []):
                if group["key"] == login:
                    for emote, n in group["emotes"].items():
                        uses[emote] = uses.get(emote, 0) + int(n)
        return pd.Series(uses, dtype="int64").sort_values(ascending=False)


_SLOT = pd.Timedelta(minutes=30)
_READ = ("channel", *EMOTE_DIMENSIONS)


def channel_totals(
    slots: list[ChatSlot], genre_of_game: Callable[[str], str], language: str = "", genre: str = ""
) -> pd.DataFrame:
    """Per channel, NUMBERS summed over the slots (filtered by language and genre), with
    its latest name, game, genre and language."""
    if not slots:
        return pd.DataFrame(columns=["name", "game_id", "language", "genre", *NUMBERS])
    frames = []
    for slot in slots:
        frame = slot.channels.reset_index()
        frames.append(frame.assign(slot=slot.slot))
    every = pd.concat(frames, ignore_index=True)
    for name in ("name", "game_id", "language"):
        every[name] = every[name].astype(str)
    every["genre"] = every["game_id"].map(lambda g: genre_of_game(g) if g else "")
    if language:
        every = every[every["language"] == language]
    if genre:
        every = every[every["genre"] == genre]
    if every.empty:
        return pd.DataFrame(columns=["name", "game_id", "language", "genre", *NUMBERS])
    latest = every.sort_values("slot").groupby("login").last()
    sums = every.groupby("login")[list(NUMBERS)].sum()
    return latest[["name", "game_id", "language", "genre"]].join(sums)


def group_totals(channels: pd.DataFrame, by: str) -> pd.DataFrame:
    """NUMBERS summed per game, genre or language (channels in a snapshot only), with how
    many distinct channels were read."""
    known = channels[channels["viewer_minutes"] > 0]
    if known.empty:
        return pd.DataFrame(columns=["channels", *NUMBERS])
    grouped = known.groupby(by)
    return grouped[list(NUMBERS)].sum().assign(channels=grouped.size())


def emote_uses(slots: list[ChatSlot], dimension: str, key: str) -> pd.Series:
    """Uses of each emote in one group over the slots (trimmed per slot as stored)."""
    parts = []
    for slot in slots:
        e = slot.emotes
        mine = e[(e["dimension"] == dimension) & (e["key"] == key)]
        parts.append(mine.groupby("emote", observed=True)["uses"].sum())
    if not parts:
        return pd.Series(dtype="int64")
    total = pd.concat(parts).groupby(level=0).sum()
    return total.sort_values(ascending=False).astype("int64")


def trending(slots: list[ChatSlot], minimum: int = 20) -> pd.DataFrame:
    """Emotes whose use grew most from the first half of the slots to the second (all
    channels read), among those used at least `minimum` times in the second half."""
    if len(slots) < 2:
        return pd.DataFrame(columns=["before", "after", "growth"])
    half = len(slots) // 2
    before = emote_uses(slots[:half], "all", ALL_KEY)
    after = emote_uses(slots[half:], "all", ALL_KEY)
    frame = pd.DataFrame({"before": before, "after": after}).fillna(0).astype("int64")
    # Per slot, so halves of unequal length compare fairly.
    rate_before = frame["before"] / half
    rate_after = frame["after"] / (len(slots) - half)
    frame["growth"] = (rate_after + 1.0) / (rate_before + 1.0) - 1.0
    frame = frame[frame["after"] >= minimum]
    return frame.sort_values(["growth", "after"], ascending=False)


def topic_counts(slots: list[ChatSlot], topic: str) -> tuple[pd.Series, pd.Series]:
    """For one topic keyword: messages containing it per slot, and uses of each emote in
    those messages (all channels read)."""
    per_slot: dict[pd.Timestamp, int] = {}
    emotes: dict[str, int] = {}
    for slot in slots:
        t = slot.topics
        mine = t[(t["dimension"] == "all") & (t["topic"] == topic)]
        per_slot[slot.slot] = int(mine.loc[mine["emote"] == "", "uses"].sum())
        for emote, n in mine.loc[mine["emote"] != "", ["emote", "uses"]].itertuples(index=False):
            emotes[str(emote)] = emotes.get(str(emote), 0) + int(n)
    series = pd.Series(per_slot, dtype="int64").sort_index()
    return series, pd.Series(emotes, dtype="int64").sort_values(ascending=False)


def topics_of(slots: list[ChatSlot]) -> list[str]:
    found: set[str] = set()
    for slot in slots:
        found.update(str(t) for t in slot.topics["topic"].unique())
    return sorted(found)
