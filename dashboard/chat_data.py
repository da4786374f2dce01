"""The chat of a window as the Chat page needs it, read from the chat day documents.

Chat is read only when the Chat page asks, for at most the newest `CHAT_DAYS` days: one
`store._chat_days` document per day and dimension, kept in an LRU cache bounded by bytes
and keyed on when the day was last written, so a rebuilt day is read again. A channel's
own emotes (`channel_emotes`) are read only for the channel a visitor picks. Every figure
counts the rows of the window's slots only. Definitions are in `docs/metrics.md` (chat):

- messages per 1,000 viewer-minutes = 1,000 × messages / Σ (viewers × minutes read);
- active chatters per 100 viewers = 100 × Σ per-minute unique chatters / viewer-minutes;
- paid share = paid emote uses / all emote uses.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from cachetools import LRUCache

from slots import day_key, day_of, days_between
from store import CHAT_ALL_KEY, CHAT_DAY_ARRAYS, CHAT_FIELDS, ChatDay, StoreReader

log = logging.getLogger(__name__)

CHAT_DAYS = 7
CACHE_BYTES = 48 << 20
NUMBERS = ("minutes", "messages", "chatter_minutes", "viewer_minutes", "free", "paid")
READ_DIMENSIONS = ("all", "channel", "game", "genre", "language")
READERS = 4  # day documents read at once: the database works while this process decodes
_COLUMN = dict(zip(CHAT_FIELDS, NUMBERS, strict=True))


def _nbytes(day: ChatDay) -> int:
    names = len(day.keys) + len(day.emote_ids) + len(day.labels)
    return int(day.numbers.nbytes + day.emotes.nbytes + day.topics.nbytes) + 80 * names


@dataclass(frozen=True)
class ChatWindow:
    """The chat days covering a window, and the window's slots that have chat."""

    start: datetime
    end: datetime
    slots: list[datetime]
    days: dict[str, list[ChatDay]]
    # Over the slots that recorded it: the minutes whose chat was read, of how many.
    minutes_read: int = 0
    minutes_in_slots: int = 0

    def inside(self, day: ChatDay, array: np.ndarray) -> np.ndarray:
        """Which rows of one of `day`'s arrays belong to the window's slots."""
        wanted = np.array([self.start <= s < self.end for s in day.slots] or [False])
        return wanted[array[:, 0]] if len(array) else np.zeros(0, dtype=bool)

    def emote_names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for days in self.days.values():
            for day in days:
                names.update(day.emote_names)
        return names

    def paid(self) -> frozenset[str]:
        return frozenset().union(*(d.paid for days in self.days.values() for d in days))


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
    """Chat days of the newest days, read through one StoreReader."""

    def __init__(self, reader: StoreReader, max_bytes: int = CACHE_BYTES) -> None:
        self.reader = reader
        self._days: LRUCache[tuple[str, str, str], ChatDay] = LRUCache(max_bytes, getsizeof=_nbytes)
        self._lock = threading.Lock()
        # One channel's emotes over a window, by (login, window, day versions).
        self._channel_emotes: LRUCache[tuple[object, ...], pd.Series] = LRUCache(256)

    @property
    def cached_bytes(self) -> int:
        return int(self._days.currsize)

    def preload(self) -> threading.Thread:
        """Read the newest days in the background, so the first visit finds them cached."""

        def load() -> None:
            try:
                end = datetime.now(UTC) + timedelta(days=1)
                self.window(end - timedelta(days=CHAT_DAYS + 1), end)
            except Exception:  # a visitor's request reads (and reports) it again
                log.warning("chat: preloading the newest days failed", exc_info=True)

        thread = threading.Thread(target=load, name="chat-preload", daemon=True)
        thread.start()
        return thread

    def _versions(self) -> dict[str, str]:
        return {day: str(at) for day, at in self.reader.chat_state().days.items()}

    def _read_day(self, key: tuple[str, str, str], day: datetime) -> ChatDay | None:
        # A channel's emotes are all that is read of `channel_emotes` (its topics are the
        # larger part, and unused).
        found = self.reader.chat_day(
            day, key[1], ("emotes",) if key[1] == "channel_emotes" else CHAT_DAY_ARRAYS
        )
        if found is not None and key[1] != "channel_emotes":
            with self._lock:
                self._days[key] = found
        return found

    def _days_of(
        self, wanted: Iterable[tuple[datetime, str]], versions: dict[str, str]
    ) -> list[ChatDay | None]:
        """These (day, dimension) documents, those not cached read `READERS` at a time."""
        keys = [(day, (day_key(day), dim, versions.get(day_key(day), ""))) for day, dim in wanted]
        found: dict[tuple[str, str, str], ChatDay | None] = {}
        with self._lock:
            found.update({key: self._days[key] for _, key in keys if key in self._days})
        missing = [(key, day) for day, key in keys if key not in found]
        if len(missing) > 1:
            with ThreadPoolExecutor(max_workers=READERS) as pool:
                read = list(pool.map(lambda m: self._read_day(*m), missing))
        else:
            read = [self._read_day(*m) for m in missing]
        found.update(zip([key for key, _ in missing], read, strict=True))
        return [found[key] for _, key in keys]

    def window(self, start: datetime, end: datetime) -> ChatWindow:
        """The chat of [start, end), of the newest CHAT_DAYS days at most."""
        versions = self._versions()
        if not versions:
            return ChatWindow(start, end, [], {})
        newest = max(datetime.fromisoformat(d) for d in versions).replace(tzinfo=start.tzinfo)
        start = max(start, newest + timedelta(days=1) - timedelta(days=CHAT_DAYS))
        days: dict[str, list[ChatDay]] = {d: [] for d in READ_DIMENSIONS}
        slots: set[datetime] = set()
        read = whole = 0
        wanted = [
            (day, dimension)
            for day in days_between(start, end)
            if day_key(day) in versions
            for dimension in READ_DIMENSIONS
        ]
        for (_, dimension), found in zip(wanted, self._days_of(wanted, versions), strict=True):
            if found is None:
                continue
            days[dimension].append(found)
            if dimension != "all":
                continue
            minutes = zip(found.slots, *found.coverage(), strict=True)
            for slot, slot_read, slot_whole in minutes:
                if start <= slot < end and slot_read != 0:
                    slots.add(slot)
                    if slot_read > 0:
                        read, whole = read + slot_read, whole + slot_whole
        return ChatWindow(start, end, sorted(slots), days, read, whole)

    def channel_emotes(self, window: ChatWindow, login: str) -> pd.Series:
        """Uses of each emote in one channel's chat over the window (read on demand)."""
        versions = self._versions()
        days = sorted({day_of(s) for s in window.slots})
        key = (login, window.start, window.end, tuple(versions.get(day_key(d)) for d in days))
        with self._lock:
            cached = self._channel_emotes.get(key)
        if cached is not None:
            return cached
        uses: dict[str, int] = {}
        wanted = [(day, "channel_emotes") for day in days]
        for found in self._days_of(wanted, versions):
            if found is None or login not in found.keys:
                continue
            rows = found.emotes[found.emotes[:, 1] == found.keys.index(login)]
            _add_emote_uses(uses, found, rows[window.inside(found, rows)])
        result = _descending(uses)
        with self._lock:
            self._channel_emotes[key] = result
        return result


def channel_totals(
    window: ChatWindow, genre_of_game: Callable[[str], str], language: str = "", genre: str = ""
) -> pd.DataFrame:
    """Per channel, NUMBERS summed over the window's slots (filtered by language and
    genre), with its latest name, game, genre and language. Each day is summed per
    channel in numpy first, so pandas sees a row per channel and day, not per slot."""
    genres: dict[str, str] = {}

    def genre_of(game_id: str) -> str:
        if game_id not in genres:
            genres[game_id] = genre_of_game(game_id) if game_id else ""
        return genres[game_id]

    parts = []
    slot_base = 0  # days come in order: a row's slot index plus the slots of the days before
    for day in window.days.get("channel", []):
        rows = day.numbers[window.inside(day, day.numbers)]
        games = np.asarray([*day.game_ids, ""], dtype=object)  # -1 picks the trailing ""
        languages = np.asarray([*day.languages, ""], dtype=object)
        if language:
            rows = rows[languages[rows[:, 3]] == language]
        if genre:
            game_genres = np.asarray([genre_of(g) for g in games], dtype=object)
            rows = rows[game_genres[rows[:, 2]] == genre]
        if not len(rows):
            continue
        keys = rows[:, 1]
        # Each channel's latest row of the day: the last of its rows ordered by slot.
        order = np.lexsort((rows[:, 0], keys))
        ends = order[np.r_[keys[order][1:] != keys[order][:-1], True]]
        present = keys[ends]
        sums = np.column_stack(
            [
                np.bincount(keys, weights=rows[:, 4 + i], minlength=len(day.keys))[present]
                for i in range(len(NUMBERS))
            ]
        )
        frame = pd.DataFrame(np.rint(sums).astype(np.int64), columns=list(NUMBERS))
        frame["login"] = day.key_array[present]
        frame["name"] = day.label_array[present]
        frame["game_id"] = games[rows[ends, 2]]
        frame["language"] = languages[rows[ends, 3]]
        frame["slot"] = rows[ends, 0] + slot_base
        slot_base += len(day.slots)
        parts.append(frame)
    columns = ["name", "game_id", "language", "genre", *NUMBERS]
    if not parts:
        return pd.DataFrame(columns=columns)
    every = pd.concat(parts, ignore_index=True)
    latest = every.sort_values("slot", kind="stable").groupby("login").last()
    latest["genre"] = latest["game_id"].map(genre_of)
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


def _emote_rows(window: ChatWindow, dimension: str, key: str) -> list[tuple[ChatDay, np.ndarray]]:
    found = []
    for day in window.days.get(dimension, []):
        if key not in day.keys:
            continue
        rows = day.emotes[day.emotes[:, 1] == day.keys.index(key)]
        found.append((day, rows[window.inside(day, rows)]))
    return found


def _add_emote_uses(uses: dict[str, int], day: ChatDay, rows: np.ndarray) -> None:
    """Add the uses in these emote rows of `day` (slot, key, emote, uses) to `uses`."""
    if not len(rows):
        return
    weights = np.bincount(rows[:, 2], weights=rows[:, 3], minlength=len(day.emote_ids))
    counts = np.rint(weights).astype(np.int64)
    for emote, n in zip(np.flatnonzero(counts).tolist(), counts[counts != 0].tolist(), strict=True):
        name = day.emote_ids[emote]
        uses[name] = uses.get(name, 0) + n


def _descending(uses: dict[str, int]) -> pd.Series:
    return pd.Series(uses, dtype="int64").sort_values(ascending=False)


def emote_uses(window: ChatWindow, dimension: str, key: str) -> pd.Series:
    """Uses of each emote in one group over the window (trimmed per slot as stored)."""
    uses: dict[str, int] = {}
    for day, rows in _emote_rows(window, dimension, key):
        _add_emote_uses(uses, day, rows)
    return _descending(uses)


def trending(window: ChatWindow, minimum: int = 20) -> pd.DataFrame:
    """Emotes whose use per slot grew most from the first half of the window's slots to
    the second (every channel read), among those used `minimum` times in the second half."""
    slots = window.slots
    if len(slots) < 2:
        return pd.DataFrame(columns=["before", "after", "growth"])
    half = len(slots) // 2
    boundary = slots[half]
    before: dict[str, int] = {}
    after: dict[str, int] = {}
    for day, rows in _emote_rows(window, "all", CHAT_ALL_KEY):
        late = np.array([s >= boundary for s in day.slots] or [False])[rows[:, 0]]
        _add_emote_uses(before, day, rows[~late])
        _add_emote_uses(after, day, rows[late])
    frame = pd.DataFrame({"before": before, "after": after}).fillna(0).astype("int64")
    if frame.empty:
        return pd.DataFrame(columns=["before", "after", "growth"])
    frame["growth"] = (frame["after"] / (len(slots) - half) + 1.0) / (
        frame["before"] / half + 1.0
    ) - 1.0
    frame = frame[frame["after"] >= minimum]
    return frame.sort_values(["growth", "after"], ascending=False)


def topic_counts(window: ChatWindow, topic: str) -> tuple[pd.Series, pd.Series]:
    """For one topic keyword: messages containing it per slot, and uses of each emote in
    those messages (every channel read)."""
    per_slot = dict.fromkeys(window.slots, 0)
    emotes: dict[str, int] = {}
    for day in window.days.get("all", []):
        if topic not in day.topic_names:
            continue
        rows = day.topics[window.inside(day, day.topics)]
        rows = rows[rows[:, 2] == day.topic_names.index(topic)]
        for s, emote, n in zip(
            rows[:, 0].tolist(), rows[:, 3].tolist(), rows[:, 4].tolist(), strict=True
        ):
            if emote < 0:
                per_slot[day.slots[s]] = per_slot.get(day.slots[s], 0) + n
            else:
                emotes[day.emote_ids[emote]] = emotes.get(day.emote_ids[emote], 0) + n
    series = pd.Series(per_slot, dtype="int64").sort_index()
    series.index = pd.DatetimeIndex(series.index)
    return series, pd.Series(emotes, dtype="int64").sort_values(ascending=False)


def topics_of(window: ChatWindow) -> list[str]:
    found: set[str] = set()
    for day in window.days.get("all", []):
        rows = day.topics[window.inside(day, day.topics)]
        found.update(day.topic_names[t] for t in set(rows[:, 2].tolist()))
    return sorted(found)
